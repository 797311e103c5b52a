"""Blocked evaluations (Nomad's blocked_evals.go): one per job, unblocked when capacity
changes on a node class they found eligible (or could not judge)."""

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

    def unblock(self, classes: set[str] | None = None) -> list[Evaluation]:
        """Capacity changed on nodes of `classes` (None: unknown, so any): blocked evals
        that may now place go back to the broker. An eval stays blocked only when it found
        every one of those classes ineligible and its constraints did not escape the
        computed-class cache."""
        woken = [ev for ev in self._by_job.values() if _may_place(ev, classes)]
        for ev in woken:
            del self._by_job[(ev.Namespace, ev.JobID)]
            self.enqueue(ev)
        return woken

    def __len__(self) -> int:
        return len(self._by_job)


def _may_place(ev: Evaluation, classes: set[str] | None) -> bool:
    if classes is None or ev.EscapedComputedClass or not ev.ClassEligibility:
        return True
    return any(ev.ClassEligibility.get(cls, True) for cls in classes)
