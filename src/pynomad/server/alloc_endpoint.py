"""Allocation writes (Nomad's Alloc RPC endpoint): `nomad alloc stop`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..state import entries as e
from ..structs import (EVAL_STATUS_PENDING, TRIGGER_ALLOC_STOP, DesiredTransition, Evaluation,
                       generate_uuid)
from .errors import NotFound

if TYPE_CHECKING:
    from .server import Server


async def stop_alloc(server: "Server", alloc_id: str, no_shutdown_delay: bool = False) -> dict:
    """Mark the allocation for migration and evaluate its job: the scheduler stops it and
    places a replacement (Nomad's Alloc.Stop)."""
    alloc = server.state.alloc_by_id(alloc_id)
    if alloc is None:
        raise NotFound(f"alloc not found: {alloc_id}")
    job = server.state.job_by_id(alloc.Namespace, alloc.JobID) or alloc.Job
    ev = Evaluation(ID=generate_uuid(), Namespace=alloc.Namespace,
                    Priority=job.Priority if job else 50,
                    Type=(job.Type if job else None) or "service",
                    TriggeredBy=TRIGGER_ALLOC_STOP, JobID=alloc.JobID,
                    JobModifyIndex=(job.ModifyIndex or 0) if job else 0,
                    Status=EVAL_STATUS_PENDING)
    transition = DesiredTransition(Migrate=True, NoShutdownDelay=no_shutdown_delay)
    index = await server.commit(e.AllocUpdateDesiredTransition(
        Transitions={alloc.ID: transition}, Evals=[ev]))
    return {"EvalID": ev.ID, "Index": index}
