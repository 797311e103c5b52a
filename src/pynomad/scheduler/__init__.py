"""Pure placement logic: reconciler, feasibility, ranking and the schedulers.

No I/O and no asyncio: schedulers read a `State` view and yield Plans. Imports `structs`
only.
"""

from .generic import GenericScheduler, Outcome  # noqa: F401


def new_scheduler(eval_type: str, state, now: int, algorithm: str = "binpack"):
    """The scheduler for an evaluation's job type."""
    if eval_type in ("service", "batch"):
        return GenericScheduler(state, batch=eval_type == "batch", now=now, algorithm=algorithm)
    if eval_type in ("system", "sysbatch"):
        from .system import SystemScheduler

        return SystemScheduler(state, sysbatch=eval_type == "sysbatch", now=now,
                               algorithm=algorithm)
    raise ValueError(f"unsupported scheduler type {eval_type!r}")
