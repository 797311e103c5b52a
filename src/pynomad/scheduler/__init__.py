"""Pure placement logic: reconciler, feasibility, ranking and the schedulers.

No I/O and no asyncio: schedulers read a `State` view and yield Plans. Imports `structs`
only.
"""

from typing import Any

from ..structs.operator import SchedulerConfiguration
from .generic import GenericScheduler, Outcome  # noqa: F401


def new_scheduler(eval_type: str, state, now: int, algorithm: str | None = "binpack",
                  config: Any = None):
    """The scheduler for an evaluation's job type.

    `config` is an optional SchedulerConfiguration (or an API-shaped or agent-config dict,
    or any object with those attributes); its SchedulerAlgorithm wins over `algorithm` when
    it names one.
    """
    cfg = SchedulerConfiguration.from_any(config, algorithm)
    if eval_type in ("service", "batch"):
        return GenericScheduler(state, batch=eval_type == "batch", now=now, config=cfg)
    if eval_type in ("system", "sysbatch"):
        from .system import SystemScheduler

        return SystemScheduler(state, sysbatch=eval_type == "sysbatch", now=now, config=cfg)
    raise ValueError(f"unsupported scheduler type {eval_type!r}")
