"""The job specification: Job, TaskGroup, Task and their blocks (Nomad's api.Job shape).

Optional (None) fields are those the submitter may omit; `canonicalize` in
`defaults.py` fills them on register, as Nomad does.
"""

from __future__ import annotations

from typing import Any

from .base import Base
from .resources import NetworkResource, Resources


class Constraint(Base):
    LTarget: str = ""
    RTarget: str = ""
    Operand: str = "="


class Affinity(Base):
    LTarget: str = ""
    RTarget: str = ""
    Operand: str = "="
    Weight: int | None = None


class SpreadTarget(Base):
    Value: str = ""
    Percent: int = 0


class Spread(Base):
    Attribute: str = ""
    Weight: int | None = None
    SpreadTarget: list[SpreadTarget] | None = None


class RestartPolicy(Base):
    Interval: int | None = None
    Attempts: int | None = None
    Delay: int | None = None
    Mode: str | None = None
    RenderTemplates: bool | None = None


class ReschedulePolicy(Base):
    Attempts: int | None = None
    Interval: int | None = None
    Delay: int | None = None
    DelayFunction: str | None = None
    MaxDelay: int | None = None
    Unlimited: bool | None = None


class UpdateStrategy(Base):
    Stagger: int | None = None
    MaxParallel: int | None = None
    HealthCheck: str | None = None
    MinHealthyTime: int | None = None
    HealthyDeadline: int | None = None
    ProgressDeadline: int | None = None
    Canary: int | None = None
    AutoRevert: bool | None = None
    AutoPromote: bool | None = None


class MigrateStrategy(Base):
    MaxParallel: int | None = None
    HealthCheck: str | None = None
    MinHealthyTime: int | None = None
    HealthyDeadline: int | None = None


class EphemeralDisk(Base):
    Sticky: bool | None = None
    Migrate: bool | None = None
    SizeMB: int | None = None


class LogConfig(Base):
    MaxFiles: int | None = None
    MaxFileSizeMB: int | None = None
    Enabled: bool | None = None
    Disabled: bool | None = None


class Lifecycle(Base):
    Hook: str = ""
    Sidecar: bool = False


class DispatchPayload(Base):
    File: str = ""


class WorkloadIdentity(Base):
    Name: str | None = None
    Audience: list[str] | None = None
    Env: bool = False
    File: bool = False
    ServiceName: str | None = None
    TTL: int | None = None


class PeriodicConfig(Base):
    Enabled: bool | None = None
    Spec: str | None = None
    Specs: list[str] | None = None
    SpecType: str | None = None
    ProhibitOverlap: bool | None = None
    TimeZone: str | None = None


class ParameterizedJobConfig(Base):
    Payload: str = ""
    MetaRequired: list[str] | None = None
    MetaOptional: list[str] | None = None


class Task(Base):
    Name: str = ""
    Driver: str = ""
    User: str = ""
    Lifecycle: Lifecycle | None = None
    Config: dict[str, Any] | None = None
    Constraints: list[Constraint] | None = None
    Affinities: list[Affinity] | None = None
    Env: dict[str, str] | None = None
    Services: list[dict[str, Any]] | None = None
    Resources: Resources | None = None
    RestartPolicy: RestartPolicy | None = None
    Meta: dict[str, str] | None = None
    KillTimeout: int | None = None
    LogConfig: LogConfig | None = None
    Artifacts: list[dict[str, Any]] | None = None
    Vault: dict[str, Any] | None = None
    Templates: list[dict[str, Any]] | None = None
    DispatchPayload: DispatchPayload | None = None
    VolumeMounts: list[dict[str, Any]] | None = None
    CSIPluginConfig: dict[str, Any] | None = None
    Leader: bool = False
    ShutdownDelay: int = 0
    KillSignal: str = ""
    Kind: str = ""
    ScalingPolicies: list[dict[str, Any]] | None = None
    Identity: WorkloadIdentity | None = None
    Identities: list[WorkloadIdentity] | None = None


class TaskGroup(Base):
    Name: str = ""
    Count: int | None = None
    Constraints: list[Constraint] | None = None
    Affinities: list[Affinity] | None = None
    Tasks: list[Task] | None = None
    Spreads: list[Spread] | None = None
    Volumes: dict[str, dict[str, Any]] | None = None
    RestartPolicy: RestartPolicy | None = None
    ReschedulePolicy: ReschedulePolicy | None = None
    EphemeralDisk: EphemeralDisk | None = None
    Update: UpdateStrategy | None = None
    Migrate: MigrateStrategy | None = None
    Networks: list[NetworkResource] | None = None
    Meta: dict[str, str] | None = None
    Services: list[dict[str, Any]] | None = None
    ShutdownDelay: int | None = None
    StopAfterClientDisconnect: int | None = None
    MaxClientDisconnect: int | None = None
    Scaling: dict[str, Any] | None = None
    Consul: dict[str, Any] | None = None
    PreventRescheduleOnLost: bool | None = None


class Job(Base):
    Region: str | None = None
    Namespace: str | None = None
    ID: str | None = None
    Name: str | None = None
    Type: str | None = None
    Priority: int | None = None
    AllAtOnce: bool | None = None
    Datacenters: list[str] | None = None
    NodePool: str | None = None
    Constraints: list[Constraint] | None = None
    Affinities: list[Affinity] | None = None
    TaskGroups: list[TaskGroup] | None = None
    Update: UpdateStrategy | None = None
    Multiregion: dict[str, Any] | None = None
    Spreads: list[Spread] | None = None
    Periodic: PeriodicConfig | None = None
    ParameterizedJob: ParameterizedJobConfig | None = None
    Reschedule: ReschedulePolicy | None = None
    Migrate: MigrateStrategy | None = None
    Meta: dict[str, str] | None = None
    ConsulToken: str | None = None
    VaultToken: str | None = None
    Stop: bool | None = None
    ParentID: str | None = None
    Dispatched: bool = False
    DispatchIdempotencyToken: str | None = None
    Payload: str | None = None
    ConsulNamespace: str | None = None
    VaultNamespace: str | None = None
    NomadTokenID: str | None = None
    Status: str | None = None
    StatusDescription: str | None = None
    Stable: bool | None = None
    Version: int | None = None
    SubmitTime: int | None = None
    CreateIndex: int | None = None
    ModifyIndex: int | None = None
    JobModifyIndex: int | None = None

    def lookup_task_group(self, name: str) -> TaskGroup | None:
        for tg in self.TaskGroups or ():
            if tg.Name == name:
                return tg
        return None
