"""The scheduler's view of Nomad's SchedulerConfiguration (operator/scheduler/configuration).

`SchedulerConfig.from_any` accepts the API shape (`SchedulerAlgorithm`, `PreemptionConfig`
{`SystemSchedulerEnabled`, ...}, `NodeLimitForFeasibilityChecks`), the agent's
`default_scheduler_config` shape (snake_case), any object with those attributes, or None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALGORITHM_BINPACK = "binpack"
ALGORITHM_SPREAD = "spread"
DEFAULT_NODE_LIMIT_FOR_FEASIBILITY_CHECKS = 100


@dataclass
class PreemptionConfig:
    SystemSchedulerEnabled: bool = True
    SysBatchSchedulerEnabled: bool = False
    BatchSchedulerEnabled: bool = False
    ServiceSchedulerEnabled: bool = False


@dataclass
class SchedulerConfig:
    SchedulerAlgorithm: str = ALGORITHM_BINPACK
    PreemptionConfig: PreemptionConfig = field(default_factory=PreemptionConfig)
    MemoryOversubscriptionEnabled: bool = False
    NodeLimitForFeasibilityChecks: int = DEFAULT_NODE_LIMIT_FOR_FEASIBILITY_CHECKS

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
    def from_any(cls, obj: Any = None, algorithm: str | None = None) -> "SchedulerConfig":
        """Build from a dict (API or agent-config keys), an object, or None.

        `algorithm`, when given and the config names none, sets SchedulerAlgorithm.
        """
        if isinstance(obj, SchedulerConfig):
            cfg = obj
        else:
            cfg = cls()
            if obj is not None:
                _fill(cfg, obj)
        if algorithm and not _get(obj, "SchedulerAlgorithm", "scheduler_algorithm"):
            cfg.SchedulerAlgorithm = algorithm
        if cfg.SchedulerAlgorithm not in (ALGORITHM_BINPACK, ALGORITHM_SPREAD):
            cfg.SchedulerAlgorithm = ALGORITHM_BINPACK
        return cfg


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


def _fill(cfg: SchedulerConfig, obj: Any) -> None:
    algo = _get(obj, "SchedulerAlgorithm", "scheduler_algorithm")
    if algo:
        cfg.SchedulerAlgorithm = str(algo)
    for attr, snake in (("MemoryOversubscriptionEnabled", "memory_oversubscription_enabled"),):
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
    for attr, snake in (("SystemSchedulerEnabled", "system_scheduler_enabled"),
                        ("SysBatchSchedulerEnabled", "sysbatch_scheduler_enabled"),
                        ("BatchSchedulerEnabled", "batch_scheduler_enabled"),
                        ("ServiceSchedulerEnabled", "service_scheduler_enabled")):
        val = _get(pre, attr, snake)
        if val is not None:
            setattr(cfg.PreemptionConfig, attr, bool(val))
