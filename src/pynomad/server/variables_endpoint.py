"""Variables endpoints (Nomad's Variables.Apply/Read/List, nomad/variables_endpoint.go).

Validation follows Nomad's VariableDecrypted.Validate. A check-and-set mismatch is not an
error: the caller gets the conflicting variable (Nomad's VariablesApplyResponse.Conflict),
which the HTTP layer answers with 409.

Items are sealed by the root keyring before they are committed (JSON of the items map,
AES-256-GCM, as Nomad's Variables.Apply): state, log entries and snapshots hold only
`VariableEncrypted`; `read`, `upsert` and conflicts return the decrypted `Variable`.

Implicit task access (workload identity): a task may read and list variables at
`nomad/jobs`, `nomad/jobs/<job>`, `nomad/jobs/<job>/<group>` and
`nomad/jobs/<job>/<group>/<task>` of its own namespace (`task_may_read`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

from ..state import entries as e
from ..state.fsm_variables import cas_ok
from ..structs.keyring import VariableEncrypted
from ..structs.variables import Variable
from .errors import BadRequest, EndpointError, NotFound
from .keyring import KeyringError, keyring

if TYPE_CHECKING:
    from .server import Server

VALID_VARIABLE_PATH = re.compile(r"^[a-zA-Z0-9\-_~/]{1,128}$")
MAX_VARIABLE_SIZE = 64 * 1024
ALL_NAMESPACES = "*"


@dataclass
class ApplyResult:
    index: int
    variable: Variable | None = None   # the stored variable (set) or None (delete)
    conflict: Variable | None = None   # the current variable when CAS failed


def validate_path(path: str) -> str:
    """Nomad's validatePath: an error message, or "" when valid."""
    if not path:
        return "variable requires path"
    if not VALID_VARIABLE_PATH.match(path) or path.startswith("/") or path.endswith("/") \
            or "//" in path:
        return f"invalid path {json.dumps(path)}"
    parts = path.split("/")
    if parts[0] != "nomad":
        return ""
    if len(parts) == 1:
        return ('"nomad" is a reserved top-level directory path, but you may write variables '
                'to "nomad/jobs" or below')
    if parts[1] == "jobs" or (parts[1] == "job-templates" and len(parts) == 3):
        return ""
    if parts[1] == "job-templates":
        return ('"nomad/job-templates" is a reserved directory path, but you may write '
                'variables at the level below it, for example, '
                '"nomad/job-templates/template-name"')
    return ('only paths at "nomad/jobs" or "nomad/job-templates" and below are valid paths '
            'under the top-level "nomad" directory')


def validate_variable(var: Variable) -> str:
    """Nomad's VariableDecrypted.Validate."""
    if var.Namespace == ALL_NAMESPACES:
        return 'can not target wildcard ("*")namespace'
    if not var.Items:
        return "empty variables are invalid"
    size = sum(len(k.encode()) + len(v.encode()) for k, v in var.Items.items())
    if size > MAX_VARIABLE_SIZE:
        return "variables are limited to 64KiB in total size"
    return validate_path(var.Path)


def task_paths(job_id: str, group: str, task: str) -> tuple[str, ...]:
    """The paths a task may read without an ACL policy (its implicit policy)."""
    base = "nomad/jobs"
    return (base, f"{base}/{job_id}", f"{base}/{job_id}/{group}",
            f"{base}/{job_id}/{group}/{task}")


def task_may_read(path: str, job_id: str, group: str, task: str) -> bool:
    return path in task_paths(job_id, group, task)


class VariablesEndpoint:
    def __init__(self, server: "Server") -> None:
        self.server = server

    def list(self, namespace: str, prefix: str = "") -> list[Variable]:
        return self.server.state.variables_list(namespace, prefix)

    def read(self, namespace: str, path: str) -> Variable:
        var = self.server.state.variable_by_path(namespace, path)
        if var is None:
            raise NotFound("variable not found")
        return decrypt_variable(self.server, var)

    async def upsert(self, var: Variable, cas: int | None = None) -> ApplyResult:
        var.Namespace = var.Namespace or "default"
        err = validate_variable(var)
        if err:
            raise BadRequest(err)
        state = self.server.state
        current = state.variable_by_path(var.Namespace, var.Path)
        if not cas_ok(current, cas):
            return ApplyResult(state.table_index("variables"),
                               conflict=self._conflict(var, current))
        index = await self.server.commit(e.VariableUpsert(
            Variable=encrypt_variable(self.server, var), CAS=cas is not None,
            CASIndex=cas or 0))
        stored = state.variable_by_path(var.Namespace, var.Path)
        if stored is None or stored.ModifyIndex != index:   # lost a race with another write
            return ApplyResult(index, conflict=self._conflict(var, stored))
        plain = Variable(**stored.metadata(), Items=dict(var.Items or {}))
        return ApplyResult(index, variable=plain)

    async def delete(self, namespace: str, path: str, cas: int | None = None) -> ApplyResult:
        if not path:
            raise BadRequest("delete requires a Path")
        if namespace == ALL_NAMESPACES:
            raise BadRequest('can not target wildcard ("*")namespace')
        state = self.server.state
        current = state.variable_by_path(namespace, path)
        if cas is not None and not (current is None and cas == 0) and not cas_ok(current, cas):
            return ApplyResult(state.table_index("variables"),
                               conflict=self._conflict(Variable(Namespace=namespace, Path=path),
                                                       current))
        index = await self.server.commit(e.VariableDelete(
            Namespace=namespace, Path=path, CAS=cas is not None, CASIndex=cas or 0))
        now = state.variable_by_path(namespace, path)
        if now is not None and cas is not None:   # another write won the race
            return ApplyResult(index, conflict=decrypt_variable(self.server, now))
        return ApplyResult(index)

    def _conflict(self, var: Variable, current: VariableEncrypted | None) -> Variable:
        """The conflicting variable; a zero one (namespace and path only) when absent."""
        if current is None:
            return Variable(Namespace=var.Namespace, Path=var.Path)
        return decrypt_variable(self.server, current)


def encrypt_variable(server: "Server", var: Variable) -> VariableEncrypted:
    """Seal a variable's items with the active root key."""
    try:
        data, key_id = keyring(server).encrypt(msgspec.json.encode(dict(var.Items or {})))
    except KeyringError as err:
        raise EndpointError(f"failed to encrypt variable: {err}") from None
    return VariableEncrypted(Namespace=var.Namespace, Path=var.Path, KeyID=key_id, Data=data)


def decrypt_variable(server: "Server", var: VariableEncrypted) -> Variable:
    try:
        items = msgspec.json.decode(keyring(server).decrypt(var.Data, var.KeyID),
                                    type=dict[str, str])
    except (KeyringError, msgspec.DecodeError, msgspec.ValidationError) as err:
        raise EndpointError(f"failed to decrypt variable {var.Path}: {err}") from None
    return Variable(**var.metadata(), Items=items)


def variables_endpoint(server: "Server") -> VariablesEndpoint:
    """The server's endpoint (stateless: made on first use and kept on the server)."""
    ep = getattr(server, "_variables_endpoint", None)
    if ep is None:
        ep = VariablesEndpoint(server)
        server._variables_endpoint = ep
    return ep


def task_variable_scope(server: "Server", alloc_id: str, task: str,
                        node_secret: str = "") -> tuple[str, tuple[str, ...]]:
    """(namespace, readable paths) of a task of a live alloc, for the client's template
    hook; NotFound for unknown allocs or tasks, BadRequest for a wrong node secret."""
    alloc = server.state.alloc_by_id(alloc_id)
    if alloc is None or alloc.Job is None:
        raise NotFound("allocation not found")
    node = server.state.node_by_id(alloc.NodeID)
    if node_secret and (node is None or node.SecretID != node_secret):
        raise BadRequest("node secret does not match the allocation's node")
    group = next((tg for tg in alloc.Job.TaskGroups or [] if tg.Name == alloc.TaskGroup), None)
    if group is None or not any(t.Name == task for t in group.Tasks or []):
        raise NotFound("task not found")
    return alloc.Namespace, task_paths(alloc.JobID, alloc.TaskGroup, task)


def task_read(server: "Server", alloc_id: str, task: str, path: str,
              node_secret: str = "") -> dict | None:
    """The variable at `path` if the task may read it (its implicit policy), else None."""
    namespace, paths = task_variable_scope(server, alloc_id, task, node_secret)
    var = server.state.variable_by_path(namespace, path) if path in paths else None
    return decrypt_variable(server, var).to_dict() if var is not None else None


def task_list(server: "Server", alloc_id: str, task: str, prefix: str,
              node_secret: str = "") -> list[dict]:
    """Metadata of the variables under `prefix` that the task may list."""
    namespace, paths = task_variable_scope(server, alloc_id, task, node_secret)
    return [v.metadata() for v in server.state.variables_list(namespace, prefix)
            if v.Path in paths]
