"""System maintenance: reconcile job summaries (Nomad's System.ReconcileJobSummaries);
the recomputation itself is `state.summaries.reconcile_job_summaries`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..state import entries as e

if TYPE_CHECKING:
    from .server import Server


async def reconcile_summaries(server: "Server") -> dict:
    """`PUT /v1/system/reconcile/summaries`: the FSM recomputes every summary at the
    entry's index, so replaying the log gives the same result."""
    index = await server.commit(e.JobSummariesReconcile())
    return {"Index": index}
