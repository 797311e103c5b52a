"""Dispatching parameterized jobs (Nomad's Job.Dispatch).

`POST /v1/job/:id/dispatch` derives a child job from a parameterized job: ID
`<parent>/dispatch-<unix seconds>-<8 hex>` (or `<parent>/dispatch-<prefix>-<unix>-<8 hex>`
with an `IdPrefixTemplate`), `ParentID` set, `Dispatched = true`, the parent's meta with the
dispatch meta merged over it, and the payload kept on the job for the client to write into
the tasks' `dispatch_payload` files. The child is registered like any job; unless the parent
is also periodic (then the child is a periodic job of its own), that evaluates it.

Payloads are stored as base64 text (the JSON form of Nomad's `Job.Payload` bytes), without
Nomad's snappy compression. The child's `ParameterizedJob` is cleared (Nomad keeps it and
tells children apart by `Dispatched`), so the rest of the server treats it as a plain batch
job.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from ..structs import Job, generate_uuid
from .errors import BadRequest, NotFound
from .periodic import copy_job

if TYPE_CHECKING:
    from .server import Server

DISPATCH_LAUNCH_SUFFIX = "/dispatch-"
DISPATCH_PAYLOAD_SIZE_LIMIT = 16 * 1024
PAYLOAD_REQUIRED = "required"
PAYLOAD_FORBIDDEN = "forbidden"
NS = 1_000_000_000


def is_parameterized(job: Job) -> bool:
    """Nomad's Job.IsParameterized: a template to dispatch, not a dispatched child."""
    return job.ParameterizedJob is not None and not job.Dispatched


def dispatched_id(parent_id: str, id_prefix_template: str, now_ns: int,
                  suffix: str | None = None) -> str:
    """Nomad's structs.DispatchedID."""
    rand = suffix if suffix is not None else generate_uuid()[:8]
    prefix = f"{id_prefix_template}-" if id_prefix_template else ""
    return f"{parent_id}{DISPATCH_LAUNCH_SUFFIX}{prefix}{now_ns // NS}-{rand}"


def decode_payload(text: str | None) -> bytes:
    """The request's base64 payload as bytes (400 if it isn't base64)."""
    if not text:
        return b""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as err:
        raise BadRequest(f"Failed to decode request body: illegal base64 data: {err}") from None


def validate_dispatch(job: Job, payload: bytes, meta: dict[str, str]) -> None:
    """Nomad's validateDispatchRequest, with its error texts (as 400s)."""
    pj = job.ParameterizedJob
    assert pj is not None
    if pj.Payload == PAYLOAD_REQUIRED and not payload:
        raise BadRequest("Payload is not provided but required by parameterized job")
    if pj.Payload == PAYLOAD_FORBIDDEN and payload:
        raise BadRequest("Payload provided but forbidden by parameterized job")
    if len(payload) > DISPATCH_PAYLOAD_SIZE_LIMIT:
        raise BadRequest(f"Payload exceeds maximum size; {len(payload)} > "
                         f"{DISPATCH_PAYLOAD_SIZE_LIMIT}")
    allowed = set(pj.MetaRequired or ()) | set(pj.MetaOptional or ())
    unpermitted = sorted(k for k in meta if k not in allowed)
    if unpermitted:
        raise BadRequest("Dispatch request included unpermitted metadata keys: "
                         f"[{' '.join(unpermitted)}]")
    missing = sorted(k for k in dict.fromkeys(pj.MetaRequired or ()) if k not in meta)
    if missing:
        raise BadRequest(f"Dispatch did not provide required meta keys: [{' '.join(missing)}]")


def derive_dispatch_job(parent: Job, child_id: str, meta: dict[str, str], payload: bytes,
                        idempotency_token: str, now_ns: int) -> Job:
    child = copy_job(parent)
    child.ID = child_id
    child.Name = child_id
    child.ParentID = parent.ID
    child.Dispatched = True
    child.ParameterizedJob = None
    child.DispatchIdempotencyToken = idempotency_token
    child.Meta = {**(parent.Meta or {}), **meta} or None
    child.Payload = base64.b64encode(payload).decode() if payload else None
    child.Status = None
    child.StatusDescription = None
    child.Stable = False
    child.Version = None
    child.SubmitTime = now_ns
    child.CreateIndex = child.ModifyIndex = child.JobModifyIndex = None
    return child


class DispatchEndpoint:
    def __init__(self, server: "Server") -> None:
        self.server = server

    async def dispatch(self, namespace: str, job_id: str, payload: bytes,
                       meta: dict[str, str] | None = None, id_prefix_template: str = "",
                       idempotency_token: str = "") -> dict:
        srv = self.server
        if not job_id:
            raise BadRequest("missing parameterized job ID")
        parent = srv.state.job_by_id(namespace, job_id)
        if parent is None:
            raise NotFound("parameterized job not found")
        if not is_parameterized(parent):
            raise BadRequest("specified job is not a parameterized job")
        if parent.Stop:
            raise BadRequest("specified job is stopped")
        meta = dict(meta or {})
        validate_dispatch(parent, payload, meta)
        if idempotency_token:
            for existing in srv.state.jobs_by_namespace(namespace):
                if (existing.ParentID == parent.ID
                        and existing.ID.startswith(parent.ID + DISPATCH_LAUNCH_SUFFIX)
                        and existing.DispatchIdempotencyToken == idempotency_token):
                    return {"Index": existing.ModifyIndex, "JobCreateIndex": existing.CreateIndex,
                            "EvalID": "", "EvalCreateIndex": 0,
                            "DispatchedJobID": existing.ID}
        now = srv.clock.now_ns()
        child = derive_dispatch_job(parent, dispatched_id(parent.ID, id_prefix_template, now),
                                    meta, payload, idempotency_token, now)
        out = await srv.jobs.register(child)
        return {"Index": out["Index"], "JobCreateIndex": out["JobModifyIndex"],
                "EvalID": out["EvalID"], "EvalCreateIndex": out["EvalCreateIndex"],
                "DispatchedJobID": child.ID}
