"""The original source a job was registered from (`/v1/job/:id/submission`)."""

from __future__ import annotations

import msgspec

MAX_SOURCE_BYTES = 1024 * 1024  # Nomad keeps sources up to 1 MiB


class JobSubmission(msgspec.Struct, kw_only=True, gc=False):
    Source: str = ""
    Format: str = ""
    VariableFlags: dict[str, str] | None = None
    Variables: str = ""
    Namespace: str = ""
    JobID: str = ""
    Version: int = 0
    JobIndex: int = 0
