"""Deployments: the rollout of one job version (Nomad's structs.Deployment)."""

from __future__ import annotations

from .base import Base

DEPLOYMENT_STATUS_RUNNING = "running"
DEPLOYMENT_STATUS_PAUSED = "paused"
DEPLOYMENT_STATUS_FAILED = "failed"
DEPLOYMENT_STATUS_SUCCESSFUL = "successful"
DEPLOYMENT_STATUS_CANCELLED = "cancelled"

DESC_RUNNING = "Deployment is running"
DESC_RUNNING_NEEDS_PROMOTION = "Deployment is running but requires manual promotion"
DESC_RUNNING_AUTO_PROMOTION = "Deployment is running pending automatic promotion"
DESC_PAUSED = "Deployment is paused"
DESC_SUCCESSFUL = "Deployment completed successfully"
DESC_STOPPED_JOB = "Cancelled because job is stopped"
DESC_NEWER_JOB = "Cancelled due to newer version of job"
DESC_FAILED_ALLOCATIONS = "Failed due to unhealthy allocations"
DESC_PROGRESS_DEADLINE = "Failed due to progress deadline"
DESC_FAILED_BY_USER = "Deployment marked as failed"

ZERO_TIME = "0001-01-01T00:00:00Z"


def desc_rollback(description: str, version: int) -> str:
    return f"{description} - rolling back to job version {version}"


def desc_no_rollback_same_spec(description: str, version: int) -> str:
    return (f"{description} - not rolling back to stable job version {version} as current "
            "job has same specification")


def desc_no_rollback_target(description: str) -> str:
    return f"{description} - no stable job version to auto revert to"


class DeploymentState(Base):
    """One task group's progress in a deployment."""
    AutoRevert: bool = False
    AutoPromote: bool = False
    ProgressDeadline: int = 0
    RequireProgressBy: str = ZERO_TIME
    Promoted: bool = False
    PlacedCanaries: list[str] | None = None
    DesiredCanaries: int = 0
    DesiredTotal: int = 0
    PlacedAllocs: int = 0
    HealthyAllocs: int = 0
    UnhealthyAllocs: int = 0


class Deployment(Base):
    ID: str = ""
    Namespace: str = "default"
    JobID: str = ""
    JobVersion: int = 0
    JobModifyIndex: int = 0
    JobSpecModifyIndex: int = 0
    JobCreateIndex: int = 0
    IsMultiregion: bool = False
    TaskGroups: dict[str, DeploymentState] = {}
    Status: str = DEPLOYMENT_STATUS_RUNNING
    StatusDescription: str = ""
    EvalPriority: int = 0
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def active(self) -> bool:
        return self.Status in (DEPLOYMENT_STATUS_RUNNING, DEPLOYMENT_STATUS_PAUSED)

    def requires_promotion(self) -> bool:
        """Some group has canaries and is not yet promoted."""
        return any(s.DesiredCanaries > 0 and not s.Promoted for s in self.TaskGroups.values())

    def has_auto_promote(self) -> bool:
        groups = [s for s in self.TaskGroups.values() if s.DesiredCanaries > 0]
        return bool(groups) and all(s.AutoPromote for s in groups)


class DeploymentStatusUpdate(Base):
    DeploymentID: str = ""
    Status: str = ""
    StatusDescription: str = ""


class AllocDeploymentStatus(Base):
    """An allocation's health within its deployment, as its client (or a user) set it."""
    Healthy: bool | None = None
    Timestamp: str = ZERO_TIME
    Canary: bool = False
    ModifyIndex: int = 0

    def has_health(self) -> bool:
        return self.Healthy is not None

    def is_healthy(self) -> bool:
        return self.Healthy is True

    def is_unhealthy(self) -> bool:
        return self.Healthy is False
