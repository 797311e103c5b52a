"""Job summaries: per task group counts of allocations by client status."""

from __future__ import annotations

from msgspec import field

from .base import Base


class TaskGroupSummary(Base):
    Queued: int = 0
    Complete: int = 0
    Failed: int = 0
    Running: int = 0
    Starting: int = 0
    Lost: int = 0
    Unknown: int = 0


class JobChildrenSummary(Base):
    Pending: int = 0
    Running: int = 0
    Dead: int = 0


class JobSummary(Base):
    JobID: str = ""
    Namespace: str = "default"
    Summary: dict[str, TaskGroupSummary] = {}
    Children: JobChildrenSummary = field(default_factory=JobChildrenSummary)
    CreateIndex: int = 0
    ModifyIndex: int = 0
