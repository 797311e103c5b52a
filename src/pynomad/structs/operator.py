"""The scheduler configuration (Nomad's structs.SchedulerConfiguration, nomad/structs/operator.go).

One struct for every use: stored in state (`/v1/operator/scheduler/configuration`, CAS by
`ModifyIndex`), bootstrapped from the agent's `server.default_scheduler_config` block
(`config_from_agent`), and read by the schedulers (`preemption_enabled`, `node_limit`).
"""

from __future__ import annotations

from typing import Any

from msgspec import field
from msgspec.structs import replace

from .base import Base

ALGORITHM_BINPACK = "binpack"
ALGORITHM_SPREAD = "spread"
SCHEDULER_ALGORITHMS = (ALGORITHM_BINPACK, ALGORITHM_SPREAD)
DEFAULT_NODE_LIMIT_FOR_FEASIBILITY_CHECKS = 100


class PreemptionConfig(Base, forbid_unknown_fields=False):
    SystemSchedulerEnabled: bool = True
    SysBatchSchedulerEnabled: bool = False
    BatchSchedulerEnabled: bool = False
    ServiceSchedulerEnabled: bool = False


class SchedulerConfiguration(Base, forbid_unknown_fields=False):
    SchedulerAlgorithm: str = ALGORITHM_BINPACK
    PreemptionConfig: PreemptionConfig = field(default_factory=PreemptionConfig)
    MemoryOversubscriptionEnabled: bool = False
    RejectJobRegistration: bool = False
    PauseEvalBroker: bool = False
    NodeLimitForFeasibilityChecks: int = DEFAULT_NODE_LIMIT_FOR_FEASIBILITY_CHECKS
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def validate(self) -> str:
        """An error message, or "" when valid (Nomad's SchedulerConfiguration.Validate)."""
        if self.SchedulerAlgorithm not in SCHEDULER_ALGORITHMS:
            return f"invalid scheduler algorithm: {self.SchedulerAlgorithm}"
        return ""

    def preemption_enabled(self, job_type: str) -> bool:
        """Whether the scheduler for `job_type` may evict lower-priority allocations."""
        pc = self.PreemptionConfig
        return {"system": pc.SystemSchedulerEnabled, "sysbatch": pc.SysBatchSchedulerEnabled,
                "batch": pc.BatchSchedulerEnabled,
                "service": pc.ServiceSchedulerEnabled}.get(job_type, False)

    @property
    def node_limit(self) -> int:
        n = self.NodeLimitForFeasibilityChecks
        return n if n and n > 0 else DEFAULT_NODE_LIMIT_FOR_FEASIBILITY_CHECKS

    @classmethod
    def from_any(cls, obj: Any = None, algorithm: str | None = None) -> "SchedulerConfiguration":
        """A configuration for a scheduler from a SchedulerConfiguration, a dict (API or
        agent-config keys), any object with those attributes, or None. `algorithm` sets
        SchedulerAlgorithm when the source names none; an unknown algorithm is binpack."""
        if isinstance(obj, SchedulerConfiguration):
            cfg = obj
        else:
            cfg = cls()
            if obj is not None:
                _fill(cfg, obj)
        algo = cfg.SchedulerAlgorithm
        if algorithm and not _get(obj, "SchedulerAlgorithm", "scheduler_algorithm"):
            algo = algorithm
        if algo not in SCHEDULER_ALGORITHMS:
            algo = ALGORITHM_BINPACK
        return cfg if algo == cfg.SchedulerAlgorithm else replace(cfg, SchedulerAlgorithm=algo)


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


def config_from_agent(block: dict | list | None) -> SchedulerConfiguration:
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


def _block(value: Any, name: str) -> dict:
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


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"default_scheduler_config: {key} must be a boolean")


def _get(obj: Any, *names: str) -> Any:
    if obj is None:
        return None
    for name in names:
        if isinstance(obj, dict):
            if obj.get(name) is not None:
                return obj[name]
        elif getattr(obj, name, None) is not None:
            return getattr(obj, name)
    return None


_FLAGS = (("MemoryOversubscriptionEnabled", "memory_oversubscription_enabled"),
          ("RejectJobRegistration", "reject_job_registration"),
          ("PauseEvalBroker", "pause_eval_broker"))


def _fill(cfg: SchedulerConfiguration, obj: Any) -> None:
    algo = _get(obj, "SchedulerAlgorithm", "scheduler_algorithm")
    if algo:
        cfg.SchedulerAlgorithm = str(algo)
    for attr, snake in _FLAGS:
        val = _get(obj, attr, snake)
        if val is not None:
            setattr(cfg, attr, bool(val))
    limit = _get(obj, "NodeLimitForFeasibilityChecks", "node_limit_for_feasibility_checks")
    if limit is not None:
        cfg.NodeLimitForFeasibilityChecks = int(limit)
    pre = _get(obj, "PreemptionConfig", "preemption_config")
    if isinstance(pre, list):  # HCL blocks decode as a list of one dict
        pre = pre[0] if pre else None
    if pre is None:
        return
    for snake, attr in _PREEMPTION_KEYS.items():
        val = _get(pre, attr, snake)
        if val is not None:
            setattr(cfg.PreemptionConfig, attr, bool(val))
