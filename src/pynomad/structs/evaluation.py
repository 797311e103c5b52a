"""Evaluations, plans and plan results."""

from __future__ import annotations

from typing import Any

from .alloc import AllocMetric, Allocation
from .base import Base
from .deployment import Deployment, DeploymentStatusUpdate
from .job import Job

EVAL_STATUS_BLOCKED = "blocked"
EVAL_STATUS_PENDING = "pending"
EVAL_STATUS_COMPLETE = "complete"
EVAL_STATUS_FAILED = "failed"
EVAL_STATUS_CANCELED = "canceled"

TRIGGER_JOB_REGISTER = "job-register"
TRIGGER_JOB_DEREGISTER = "job-deregister"
TRIGGER_NODE_UPDATE = "node-update"
TRIGGER_NODE_DRAIN = "node-drain"
TRIGGER_ALLOC_STOP = "alloc-stop"
TRIGGER_RETRY_FAILED_ALLOC = "alloc-failure"
TRIGGER_QUEUED_ALLOCS = "queued-allocs"
TRIGGER_MAX_PLANS = "max-plan-attempts"
TRIGGER_FAILED_FOLLOW_UP = "failed-follow-up"
TRIGGER_DEPLOYMENT_WATCHER = "deployment-watcher"
TRIGGER_ROLLING_UPDATE = "rolling-update"

CORE_JOB_PRIORITY = 200


class Evaluation(Base):
    ID: str = ""
    Namespace: str = "default"
    Priority: int = 50
    Type: str = ""
    TriggeredBy: str = ""
    JobID: str = ""
    JobModifyIndex: int = 0
    NodeID: str = ""
    NodeModifyIndex: int = 0
    DeploymentID: str = ""
    Status: str = EVAL_STATUS_PENDING
    StatusDescription: str = ""
    Wait: int = 0
    WaitUntil: str = "0001-01-01T00:00:00Z"
    NextEval: str = ""
    PreviousEval: str = ""
    BlockedEval: str = ""
    RelatedEvals: list[dict[str, Any]] | None = None
    FailedTGAllocs: dict[str, AllocMetric] | None = None
    ClassEligibility: dict[str, bool] | None = None
    EscapedComputedClass: bool = False
    QuotaLimitReached: str = ""
    AnnotatePlan: bool = False
    QueuedAllocations: dict[str, int] | None = None
    LeaderACL: str = ""
    SnapshotIndex: int = 0
    CreateIndex: int = 0
    ModifyIndex: int = 0
    CreateTime: int = 0
    ModifyTime: int = 0

    def terminal(self) -> bool:
        return self.Status in (EVAL_STATUS_COMPLETE, EVAL_STATUS_FAILED, EVAL_STATUS_CANCELED)


class Plan(Base):
    """What a scheduler wants: per node, allocs to stop (NodeUpdate) and to place."""
    EvalID: str = ""
    EvalToken: str = ""
    Priority: int = 50
    AllAtOnce: bool = False
    Job: Job | None = None
    NodeUpdate: dict[str, list[Allocation]] = {}
    NodeAllocation: dict[str, list[Allocation]] = {}
    NodePreemptions: dict[str, list[Allocation]] = {}
    Deployment: Deployment | None = None
    DeploymentUpdates: list[DeploymentStatusUpdate] = []
    SnapshotIndex: int = 0

    def is_no_op(self) -> bool:
        return not (self.NodeUpdate or self.NodeAllocation or self.NodePreemptions
                    or self.Deployment is not None or self.DeploymentUpdates)

    def append_stopped(self, alloc: Allocation, desc: str, client_status: str = "") -> None:
        stopped = _copy(alloc)
        stopped.DesiredStatus = "stop"
        stopped.DesiredDescription = desc
        if client_status:
            stopped.ClientStatus = client_status
        self.NodeUpdate.setdefault(alloc.NodeID, []).append(stopped)

    def append_alloc(self, alloc: Allocation) -> None:
        self.NodeAllocation.setdefault(alloc.NodeID, []).append(alloc)


class PlanResult(Base):
    NodeUpdate: dict[str, list[Allocation]] = {}
    NodeAllocation: dict[str, list[Allocation]] = {}
    NodePreemptions: dict[str, list[Allocation]] = {}
    RefreshIndex: int = 0
    AllocIndex: int = 0

    def full_commit(self, plan: Plan) -> tuple[bool, int, int]:
        expected = sum(len(v) for v in plan.NodeAllocation.values())
        actual = sum(len(v) for v in self.NodeAllocation.values())
        return expected == actual, expected, actual


def _copy(alloc: Allocation) -> Allocation:
    import msgspec

    return msgspec.structs.replace(alloc)
