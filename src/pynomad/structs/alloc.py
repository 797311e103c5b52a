"""Allocations: a task group of a job placed on a node, and its client-side state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

import msgspec
from msgspec import field

from .base import Base
from .deployment import AllocDeploymentStatus
from .job import Job
from .resources import AllocatedResources, Resources

ALLOC_DESIRED_RUN = "run"
ALLOC_DESIRED_STOP = "stop"
ALLOC_DESIRED_EVICT = "evict"

ALLOC_CLIENT_PENDING = "pending"
ALLOC_CLIENT_RUNNING = "running"
ALLOC_CLIENT_COMPLETE = "complete"
ALLOC_CLIENT_FAILED = "failed"
ALLOC_CLIENT_LOST = "lost"
ALLOC_CLIENT_UNKNOWN = "unknown"

TASK_STATE_PENDING = "pending"
TASK_STATE_RUNNING = "running"
TASK_STATE_DEAD = "dead"

CLIENT_TERMINAL = {ALLOC_CLIENT_COMPLETE, ALLOC_CLIENT_FAILED, ALLOC_CLIENT_LOST}
ZERO_TIME = "0001-01-01T00:00:00Z"


class TaskEvent(Base):
    Type: str = ""
    Time: int = 0
    Message: str = ""
    DisplayMessage: str = ""
    Details: dict[str, str] = {}
    FailsTask: bool = False
    RestartReason: str = ""
    SetupError: str = ""
    DriverError: str = ""
    DriverMessage: str = ""
    ExitCode: int = 0
    Signal: int = 0
    KillReason: str = ""
    KillTimeout: int = 0
    KillError: str = ""
    StartDelay: int = 0
    DownloadError: str = ""
    ValidationError: str = ""
    DiskLimit: int = 0
    DiskSize: int = 0
    FailedSibling: str = ""
    VaultError: str = ""
    TaskSignalReason: str = ""
    TaskSignal: str = ""
    GenericSource: str = ""


class TaskState(Base):
    State: str = TASK_STATE_PENDING
    Failed: bool = False
    Restarts: int = 0
    LastRestart: str = ZERO_TIME
    StartedAt: str = ZERO_TIME
    FinishedAt: str = ZERO_TIME
    Events: list[TaskEvent] = []
    TaskHandle: Any = None


class NodeScores(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """One node's score terms, encoded as Nomad's `Scores` map ({"binpack": 0.4, ...}).

    A struct rather than a dict: every allocation keeps five of these, and a struct of
    optional floats takes a third of a dict's memory. Reads like a read-only mapping."""

    binpack: float | None = msgspec.field(default=None, name="binpack")
    job_anti_affinity: float | None = msgspec.field(default=None, name="job-anti-affinity")
    node_reschedule_penalty: float | None = msgspec.field(default=None,
                                                          name="node-reschedule-penalty")
    node_affinity: float | None = msgspec.field(default=None, name="node-affinity")
    allocation_spread: float | None = msgspec.field(default=None, name="allocation-spread")
    preemption: float | None = msgspec.field(default=None, name="preemption")
    devices: float | None = msgspec.field(default=None, name="devices")

    @classmethod
    def from_dict(cls, scores: dict[str, float]) -> "NodeScores":
        return cls(**{_SCORE_ATTRS[k]: shared_float(v) for k, v in scores.items()
                      if k in _SCORE_ATTRS})

    def items(self):
        for attr, name in _SCORE_NAMES.items():
            value = getattr(self, attr)
            if value is not None:
                yield name, value

    def __iter__(self):
        return (name for name, _ in self.items())

    def __contains__(self, name: object) -> bool:
        return name in _SCORE_ATTRS and getattr(self, _SCORE_ATTRS[name]) is not None

    def __getitem__(self, name: str) -> float:
        value = getattr(self, _SCORE_ATTRS[name]) if name in _SCORE_ATTRS else None
        if value is None:
            raise KeyError(name)
        return value


_FLOATS: dict[float, float] = {}


def shared_float(value: float) -> float:
    """One float object per distinct score value: scores repeat across thousands of
    allocations, and each float object costs 24 bytes."""
    shared = _FLOATS.get(value)
    if shared is None:
        if len(_FLOATS) >= 1 << 16:
            _FLOATS.clear()
        shared = _FLOATS[value] = value
    return shared


_SCORE_NAMES = {f.name: f.encode_name for f in msgspec.structs.fields(NodeScores)}
_SCORE_ATTRS = {v: k for k, v in _SCORE_NAMES.items()}


class NodeScoreMeta(Base):
    NodeID: str = ""
    Scores: NodeScores = msgspec.field(default_factory=NodeScores)
    NormScore: float = 0.0


class AllocMetric(Base):
    NodesEvaluated: int = 0
    NodesFiltered: int = 0
    NodesInPool: int = 0
    NodesAvailable: dict[str, int] = {}
    ClassFiltered: dict[str, int] | None = None
    ConstraintFiltered: dict[str, int] | None = None
    NodesExhausted: int = 0
    ClassExhausted: dict[str, int] | None = None
    DimensionExhausted: dict[str, int] | None = None
    QuotaExhausted: list[str] | None = None
    ResourcesExhausted: dict[str, Any] | None = None
    Scores: dict[str, float] | None = None
    ScoreMetaData: list[NodeScoreMeta] | None = None
    AllocationTime: int = 0
    CoalescedFailures: int = 0


class RescheduleEvent(Base):
    RescheduleTime: int = 0
    PrevAllocID: str = ""
    PrevNodeID: str = ""
    Delay: int = 0


class RescheduleTracker(Base):
    Events: list[RescheduleEvent] = []


class DesiredTransition(Base):
    Migrate: bool | None = None
    Reschedule: bool | None = None
    ForceReschedule: bool | None = None
    NoShutdownDelay: bool | None = None


NO_TRANSITION = DesiredTransition()
"""Shared by new allocations; transitions are set by replacing it, never in place."""


if TYPE_CHECKING:
    from .packed import PackedMetric

    MetricsField = AllocMetric | PackedMetric | None
else:  # the codec sees the wire shape
    MetricsField = Optional[AllocMetric]


class Allocation(Base):
    """Nomad's Allocation.

    `TaskStates` and `Metrics` are bulky and rarely read, so the state store keeps them
    packed (`structs.packed`): there `TaskStates` is a read-only `PackedTaskStates` mapping
    (names without decoding, a task's state decoded on each access) and `Metrics` a
    `PackedMetric` (decoded on each attribute read; `unpack()` for the whole struct).
    Encoders unpack both (`base.enc_hook`), so the API shows exactly what was stored.
    """

    ID: str = ""
    Namespace: str = "default"
    EvalID: str = ""
    Name: str = ""
    NodeID: str = ""
    NodeName: str = ""
    JobID: str = ""
    Job: Job | None = None
    TaskGroup: str = ""
    Resources: Resources | None = None
    TaskResources: dict[str, Resources] | None = None
    AllocatedResources: AllocatedResources | None = None
    Metrics: MetricsField = None
    DesiredStatus: str = ALLOC_DESIRED_RUN
    DesiredDescription: str = ""
    DesiredTransition: DesiredTransition = field(default_factory=DesiredTransition)
    ClientStatus: str = ALLOC_CLIENT_PENDING
    ClientDescription: str = ""
    TaskStates: Mapping[str, TaskState] | None = None
    AllocStates: list[dict[str, Any]] | None = None
    PreviousAllocation: str = ""
    NextAllocation: str = ""
    DeploymentID: str = ""
    DeploymentStatus: AllocDeploymentStatus | None = None
    RescheduleTracker: RescheduleTracker | None = None
    NetworkStatus: dict[str, Any] | None = None
    FollowupEvalID: str = ""
    PreemptedAllocations: list[str] | None = None
    PreemptedByAllocation: str = ""
    SignedIdentities: dict[str, str] | None = None
    CreateIndex: int = 0
    ModifyIndex: int = 0
    AllocModifyIndex: int = 0
    CreateTime: int = 0
    ModifyTime: int = 0

    def server_terminal(self) -> bool:
        return self.DesiredStatus in (ALLOC_DESIRED_STOP, ALLOC_DESIRED_EVICT)

    def client_terminal(self) -> bool:
        return self.ClientStatus in CLIENT_TERMINAL

    def terminal(self) -> bool:
        return self.server_terminal() or self.client_terminal()

    def index(self) -> int:
        """The alloc's index in its group, parsed from `job.group[i]`."""
        start = self.Name.rfind("[")
        return int(self.Name[start + 1:-1]) if start >= 0 else 0
