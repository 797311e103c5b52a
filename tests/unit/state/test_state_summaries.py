"""Recomputing job summaries from allocations (Nomad's ReconcileJobSummaries)."""

from __future__ import annotations

from pynomad.state.summaries import reconcile_job_summaries
from pynomad.state import StateStore
from pynomad.structs import (Allocation, Job, JobSummary, PeriodicConfig, TaskGroup,
                             TaskGroupSummary)


def _state() -> StateStore:
    st = StateStore()
    job = Job(ID="web", Namespace="default", CreateIndex=10,
              TaskGroups=[TaskGroup(Name="g"), TaskGroup(Name="h")])
    old_job = Job(ID="web", Namespace="default", CreateIndex=3)
    st.jobs[("default", "web")] = job
    st.jobs[("default", "cron")] = Job(ID="cron", Namespace="default", CreateIndex=4,
                                       Periodic=PeriodicConfig(Spec="* * * * *"),
                                       TaskGroups=[TaskGroup(Name="g")])
    statuses = ["running", "running", "pending", "failed", "complete", "lost", "unknown"]
    for i, status in enumerate(statuses):
        st.put_alloc(Allocation(ID=f"a{i}", JobID="web", Job=job, TaskGroup="g",
                                ClientStatus=status))
    # an allocation of an earlier job with the same ID is not counted
    st.put_alloc(Allocation(ID="old", JobID="web", Job=old_job, TaskGroup="g",
                            ClientStatus="running"))
    # a corrupted stored summary, which reconciling replaces
    st.job_summaries[("default", "web")] = JobSummary(
        JobID="web", Summary={"g": TaskGroupSummary(Running=9, Queued=2)}, CreateIndex=10)
    return st


def test_summaries_are_recounted_from_allocations():
    summaries = reconcile_job_summaries(_state(), index=50)
    assert [s.JobID for s in summaries] == ["web"]  # periodic jobs are left alone
    s = summaries[0]
    assert (s.Namespace, s.CreateIndex, s.ModifyIndex) == ("default", 10, 50)
    assert s.Summary["g"] == TaskGroupSummary(Running=2, Starting=1, Failed=1, Complete=1,
                                              Lost=1, Unknown=1, Queued=0)
    assert s.Summary["h"] == TaskGroupSummary()


def test_reconciling_does_not_touch_the_state():
    st = _state()
    reconcile_job_summaries(st)
    assert st.job_summaries[("default", "web")].Summary["g"].Running == 9


def test_reconcile_entry_stores_the_recounted_summaries():
    from pynomad.state import FSM
    from pynomad.state import entries as e

    st = _state()
    FSM(st).apply(e.decode(e.encode(e.JobSummariesReconcile())), 60)
    stored = st.job_summaries[("default", "web")]
    assert stored.Summary["g"].Running == 2 and stored.ModifyIndex == 60
    assert st.table_index("job_summary") == 60
