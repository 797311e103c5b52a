"""The dispatch payload hook (Nomad's taskrunner dispatch_hook): before a dispatched job's
task starts, write the job's payload to the task's `dispatch_payload { file = ... }` path
under its `local/` directory."""

from __future__ import annotations

import base64
import binascii
import os

from pynomad.structs import Job, Task


class DispatchPayloadError(Exception):
    pass


def write_dispatch_payload(task: Task, job: Job | None, local_dir: str) -> str | None:
    """Write the payload; return the path written, or None when there is nothing to write
    (no `dispatch_payload` block, no file name or an empty payload, as Nomad)."""
    if job is None or not job.Payload or task.DispatchPayload is None \
            or not task.DispatchPayload.File:
        return None
    try:
        data = base64.b64decode(job.Payload, validate=True)
    except (binascii.Error, ValueError) as err:
        raise DispatchPayloadError(f"failed to decode dispatch payload: {err}") from None
    if not data:
        return None
    root = os.path.realpath(local_dir)
    path = os.path.realpath(os.path.join(root, task.DispatchPayload.File))
    if not path.startswith(root + os.sep):
        raise DispatchPayloadError("dispatch payload destination escapes the task's local dir")
    os.makedirs(os.path.dirname(path), mode=0o777, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o777)
    return path
