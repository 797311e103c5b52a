"""Log entries: every write to the cluster state is one of these, applied in order.

They are what the backend stores (msgpack-encoded, tagged by type), so a restarted or
follower server rebuilds the same state by applying the same entries.
"""

from __future__ import annotations

import msgspec

from ..structs import (Allocation, Deployment, DeploymentStatusUpdate, DesiredTransition,
                       DrainStrategy, Evaluation, Job, JobSubmission, Node, NodeEvent, enc_hook)
from ..structs.acl import ACLPolicy, ACLToken, Namespace
from ..structs.operator import SchedulerConfiguration
from ..structs.services import ServiceRegistration
from ..structs.acl_auth import ACLAuthMethod, ACLBindingRule, ACLRole, OneTimeToken
from ..structs.keyring import RootKey, RootKeyMeta, VariableEncrypted


class Entry(msgspec.Struct, tag_field="Type", kw_only=True):
    """Base of log entries. `Time` is the writer's wall clock in ns (applied deterministically)."""
    Time: int = 0


class JobRegister(Entry, tag="JobRegister"):
    Job: Job
    Eval: Evaluation | None = None
    Submission: JobSubmission | None = None


class JobDeregister(Entry, tag="JobDeregister"):
    Namespace: str
    JobID: str
    Purge: bool = False
    Eval: Evaluation | None = None


class EvalUpdate(Entry, tag="EvalUpdate"):
    Evals: list[Evaluation]


class NodeRegister(Entry, tag="NodeRegister"):
    Node: Node
    Evals: list[Evaluation] = []


class NodeUpdateStatus(Entry, tag="NodeUpdateStatus"):
    NodeID: str
    Status: str
    Evals: list[Evaluation] = []


class NodeDeregister(Entry, tag="NodeDeregister"):
    NodeIDs: list[str]


class AllocClientUpdate(Entry, tag="AllocClientUpdate"):
    Allocs: list[Allocation]
    Evals: list[Evaluation] = []


class AllocStop(Entry, tag="AllocStop"):
    """A stop diff: DesiredStatus/Description (and optional ClientStatus) for an alloc ID."""
    ID: str
    DesiredDescription: str
    ClientStatus: str = ""
    DesiredStatus: str = "stop"
    PreemptedByAllocation: str = ""


class ApplyPlanResults(Entry, tag="ApplyPlanResults"):
    Job: Job | None = None
    AllocsUpdated: list[Allocation] = []
    AllocsStopped: list[AllocStop] = []
    EvalID: str = ""
    Evals: list[Evaluation] = []
    Deployment: Deployment | None = None
    DeploymentUpdates: list[DeploymentStatusUpdate] = []


class DeploymentStatusChange(Entry, tag="DeploymentStatusUpdate"):
    """A deployment's new status; with a job to revert to and an eval to create."""
    Update: DeploymentStatusUpdate
    Job: Job | None = None
    Eval: Evaluation | None = None


class DeploymentPromotion(Entry, tag="DeploymentPromotion"):
    """Promote the canaries of all (or the named) task groups."""
    DeploymentID: str
    All: bool = False
    Groups: list[str] = []
    Eval: Evaluation | None = None


class DeploymentAllocHealth(Entry, tag="DeploymentAllocHealth"):
    """Health set by hand (or by the watcher), possibly failing the deployment."""
    DeploymentID: str
    HealthyAllocationIDs: list[str] = []
    UnhealthyAllocationIDs: list[str] = []
    Update: DeploymentStatusUpdate | None = None
    Job: Job | None = None
    Eval: Evaluation | None = None


class JobStability(Entry, tag="JobStability"):
    """Mark one job version stable (a rollback target) or not."""
    Namespace: str
    JobID: str
    Version: int
    Stable: bool


class JobSummariesReconcile(Entry, tag="JobSummariesReconcile"):
    """Recompute every job summary from the allocations, at this entry's index."""


class GCDelete(Entry, tag="GCDelete"):
    Evals: list[str] = []
    Allocs: list[str] = []
    Deployments: list[str] = []
    Jobs: list[tuple[str, str]] = []
    Nodes: list[str] = []


class SchedulerConfigUpdate(Entry, tag="SchedulerConfigUpdate"):
    """Set the scheduler configuration; with CAS only if its ModifyIndex is CASIndex."""
    Config: SchedulerConfiguration
    CAS: bool = False
    CASIndex: int = 0
    OnlyIfMissing: bool = False


class NodeUpdateEligibility(Entry, tag="NodeUpdateEligibility"):
    NodeID: str
    Eligibility: str
    Event: NodeEvent | None = None
    Evals: list[Evaluation] = []


class NodeUpdateDrain(Entry, tag="NodeUpdateDrain"):
    """Set (DrainStrategy) or cancel (None) a node's drain."""
    NodeID: str
    DrainStrategy: DrainStrategy | None = None
    MarkEligible: bool = False
    Meta: dict[str, str] | None = None
    Event: NodeEvent | None = None
    Evals: list[Evaluation] = []


class NodesDrainComplete(Entry, tag="NodesDrainComplete"):
    """The drainer finished these nodes: drain strategy cleared, nodes stay ineligible."""
    NodeIDs: list[str]
    Event: NodeEvent | None = None


class AllocUpdateDesiredTransition(Entry, tag="AllocUpdateDesiredTransition"):
    """Merge desired transitions (e.g. Migrate) into allocs, with evals for their jobs."""
    Transitions: dict[str, DesiredTransition]
    Evals: list[Evaluation] = []


class NamespaceUpsert(Entry, tag="NamespaceUpsert"):
    Namespaces: list[Namespace]


class NamespaceDelete(Entry, tag="NamespaceDelete"):
    Names: list[str]


class ACLPolicyUpsert(Entry, tag="ACLPolicyUpsert"):
    Policies: list[ACLPolicy]


class ACLPolicyDelete(Entry, tag="ACLPolicyDelete"):
    Names: list[str]


class ACLTokenUpsert(Entry, tag="ACLTokenUpsert"):
    Tokens: list[ACLToken]


class ACLTokenDelete(Entry, tag="ACLTokenDelete"):
    AccessorIDs: list[str]


class ACLTokenBootstrap(Entry, tag="ACLTokenBootstrap"):
    """The first management token; ignored if the ACL system is already bootstrapped."""
    Token: ACLToken


class ACLRoleUpsert(Entry, tag="ACLRoleUpsert"):
    Roles: list[ACLRole]


class ACLRoleDelete(Entry, tag="ACLRoleDelete"):
    IDs: list[str]


class ACLAuthMethodUpsert(Entry, tag="ACLAuthMethodUpsert"):
    Methods: list[ACLAuthMethod]


class ACLAuthMethodDelete(Entry, tag="ACLAuthMethodDelete"):
    """Delete auth methods (their binding rules stay, as in Nomad)."""
    Names: list[str]


class ACLBindingRuleUpsert(Entry, tag="ACLBindingRuleUpsert"):
    Rules: list[ACLBindingRule]


class ACLBindingRuleDelete(Entry, tag="ACLBindingRuleDelete"):
    IDs: list[str]


class OneTimeTokenUpsert(Entry, tag="OneTimeTokenUpsert"):
    Token: OneTimeToken


class OneTimeTokenDelete(Entry, tag="OneTimeTokenDelete"):
    """Consume one-time tokens (by secret); with ExpireBefore also drop every token that
    expired before that time (ns)."""
    OneTimeSecretIDs: list[str] = []
    ExpireBefore: int = 0


class RootKeyUpsert(Entry, tag="RootKeyUpsert"):
    """Store a root key; a new active key makes the previous active key inactive (or
    rekeying, with Rekey: a full rotation re-encrypts what it sealed)."""
    Key: RootKey
    Rekey: bool = False


class RootKeyMetaUpdate(Entry, tag="RootKeyMetaUpdate"):
    Meta: RootKeyMeta


class RootKeyDelete(Entry, tag="RootKeyDelete"):
    KeyID: str


class VariableUpsert(Entry, tag="VariableUpsert"):
    """Set a variable (items sealed by the keyring); with CAS only if absent (CASIndex 0)
    or at ModifyIndex CASIndex."""
    Variable: VariableEncrypted
    CAS: bool = False
    CASIndex: int = 0


class VariableDelete(Entry, tag="VariableDelete"):
    Namespace: str
    Path: str
    CAS: bool = False
    CASIndex: int = 0


class VariableReencrypt(Entry, tag="VariableReencrypt"):
    """The same items sealed by another key, if the variable is still at ModifyIndex."""
    Namespace: str
    Path: str
    ModifyIndex: int
    KeyID: str
    Data: bytes


class ServiceRegistrationUpsert(Entry, tag="ServiceRegistrationUpsert"):
    Services: list[ServiceRegistration]


class ServiceRegistrationDeleteByID(Entry, tag="ServiceRegistrationDeleteByID"):
    Namespace: str
    ID: str


class ServiceRegistrationDeleteByAllocID(Entry, tag="ServiceRegistrationDeleteByAllocID"):
    AllocID: str


AnyEntry = (JobRegister | JobDeregister | EvalUpdate | NodeRegister | NodeUpdateStatus
            | NodeDeregister | AllocClientUpdate | ApplyPlanResults | GCDelete
            | SchedulerConfigUpdate | NodeUpdateEligibility | NodeUpdateDrain
            | NodesDrainComplete | AllocUpdateDesiredTransition | DeploymentStatusChange
            | DeploymentPromotion | DeploymentAllocHealth | JobStability
            | JobSummariesReconcile | NamespaceUpsert | NamespaceDelete | ACLPolicyUpsert
            | ACLPolicyDelete | ACLTokenUpsert | ACLTokenDelete | ACLTokenBootstrap
            | VariableUpsert | VariableDelete | ServiceRegistrationUpsert
            | ServiceRegistrationDeleteByID | ServiceRegistrationDeleteByAllocID
            | ACLRoleUpsert | ACLRoleDelete | ACLAuthMethodUpsert | ACLAuthMethodDelete
            | ACLBindingRuleUpsert | ACLBindingRuleDelete | OneTimeTokenUpsert
            | OneTimeTokenDelete | RootKeyUpsert | RootKeyMetaUpdate | RootKeyDelete
            | VariableReencrypt)

_encoder = msgspec.msgpack.Encoder(enc_hook=enc_hook)
_decoder = msgspec.msgpack.Decoder(AnyEntry)


def encode(entry: Entry) -> bytes:
    return _encoder.encode(entry)


def decode(data: bytes) -> Entry:
    return _decoder.decode(data)
