"""Blocked evaluations (Nomad's blocked_evals.go): one per job, unblocked on capacity change."""

from __future__ import annotations

from collections.abc import Callable

from ..structs import Evaluation


class BlockedEvals:
    """Holds blocked evals until a node or allocation change may let them place."""

    def __init__(self, enqueue: Callable[[Evaluation], None]) -> None:
        self.enqueue = enqueue
        self.enabled = False
        self._by_job: dict[tuple[str, str], Evaluation] = {}

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            self._by_job.clear()

    def block(self, ev: Evaluation) -> Evaluation | None:
        """Track `ev`; returns an older blocked eval of the same job, now superseded."""
        if not self.enabled:
            return None
        key = (ev.Namespace, ev.JobID)
        old = self._by_job.get(key)
        self._by_job[key] = ev
        return old if old is not None and old.ID != ev.ID else None

    def untrack(self, namespace: str, job_id: str) -> Evaluation | None:
        return self._by_job.pop((namespace, job_id), None)

    def unblock_all(self) -> list[Evaluation]:
        """Capacity changed: every blocked eval goes back to the broker."""
        evals = list(self._by_job.values())
        self._by_job.clear()
        for ev in evals:
            self.enqueue(ev)
        return evals

    def __len__(self) -> int:
        return len(self._by_job)
