"""Operator-managed cluster settings kept in state: the scheduler configuration.

Mirrors Nomad's `structs.SchedulerConfiguration` (nomad/structs/operator.go). It lives in
`state` because only servers read it; schedulers get what they need (the algorithm) from
the worker.
"""

from __future__ import annotations

from msgspec import field

from ..structs import Base

SCHEDULER_ALGORITHMS = ("binpack", "spread")


class PreemptionConfig(Base, forbid_unknown_fields=False):
    SystemSchedulerEnabled: bool = True
    SysBatchSchedulerEnabled: bool = False
    BatchSchedulerEnabled: bool = False
    ServiceSchedulerEnabled: bool = False


class SchedulerConfiguration(Base, forbid_unknown_fields=False):
    SchedulerAlgorithm: str = "binpack"
    PreemptionConfig: PreemptionConfig = field(default_factory=PreemptionConfig)
    MemoryOversubscriptionEnabled: bool = False
    RejectJobRegistration: bool = False
    PauseEvalBroker: bool = False
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def validate(self) -> str:
        """An error message, or "" when valid (Nomad's SchedulerConfiguration.Validate)."""
        if self.SchedulerAlgorithm not in SCHEDULER_ALGORITHMS:
            return f"invalid scheduler algorithm: {self.SchedulerAlgorithm}"
        return ""


_PREEMPTION_KEYS = {
    "system_scheduler_enabled": "SystemSchedulerEnabled",
    "sysbatch_scheduler_enabled": "SysBatchSchedulerEnabled",
    "batch_scheduler_enabled": "BatchSchedulerEnabled",
    "service_scheduler_enabled": "ServiceSchedulerEnabled",
}
_TOP_KEYS = {
    "scheduler_algorithm": "SchedulerAlgorithm",
    "memory_oversubscription_enabled": "MemoryOversubscriptionEnabled",
    "reject_job_registration": "RejectJobRegistration",
    "pause_eval_broker": "PauseEvalBroker",
}


def config_from_agent(block: dict | None) -> SchedulerConfiguration:
    """The agent's `server.default_scheduler_config` block (snake_case HCL) → a config.

    Unknown keys and wrongly typed values raise ValueError with a one-line reason.
    """
    cfg = SchedulerConfiguration()
    for key, value in _block(block, "default_scheduler_config").items():
        if key == "preemption_config":
            for pkey, pvalue in _block(value, "preemption_config").items():
                if pkey not in _PREEMPTION_KEYS:
                    raise ValueError(f"default_scheduler_config: unknown preemption_config key {pkey!r}")
                setattr(cfg.PreemptionConfig, _PREEMPTION_KEYS[pkey], _bool(pkey, pvalue))
        elif key in _TOP_KEYS:
            attr = _TOP_KEYS[key]
            setattr(cfg, attr, str(value) if attr == "SchedulerAlgorithm" else _bool(key, value))
        else:
            raise ValueError(f"default_scheduler_config: unknown key {key!r}")
    err = cfg.validate()
    if err:
        raise ValueError(f"default_scheduler_config: {err}")
    return cfg


def _block(value, name: str) -> dict:
    """A block as a dict; HCL decoders may give a list of one dict per block."""
    if isinstance(value, list):
        merged: dict = {}
        for item in value:
            merged.update(_block(item, name))
        return merged
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"default_scheduler_config: {name} must be a block")
    return value


def _bool(key: str, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"default_scheduler_config: {key} must be a boolean")
