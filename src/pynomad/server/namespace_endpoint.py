"""Namespace endpoints (Nomad's Namespace.UpsertNamespaces/DeleteNamespaces/List/Get).

The `default` namespace always exists and cannot be deleted; a namespace holding jobs that
are not dead cannot be deleted either."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from ..state import entries as e
from ..structs.acl import DEFAULT_NAMESPACE, Namespace
from .errors import BadRequest, NotFound

if TYPE_CHECKING:
    from .server import Server

VALID_NAMESPACE_NAME = re.compile(r"^[a-zA-Z0-9-]{1,128}$")
MAX_DESCRIPTION = 256


def validate_namespace(ns: Namespace) -> str:
    """Nomad's Namespace.Validate: an error message, or "" when valid."""
    if not VALID_NAMESPACE_NAME.match(ns.Name or ""):
        return f"invalid name {_q(ns.Name)}. Must match regex {VALID_NAMESPACE_NAME.pattern}"
    if len(ns.Description or "") > MAX_DESCRIPTION:
        return f"description longer than {MAX_DESCRIPTION}"
    return ""


class NamespaceEndpoint:
    def __init__(self, server: "Server") -> None:
        self.server = server

    def list(self, prefix: str = "") -> list[Namespace]:
        return self.server.state.namespaces_list(prefix)

    def get(self, name: str) -> Namespace:
        ns = self.server.state.namespace_by_name(name)
        if ns is None:
            raise NotFound("Namespace not found")
        return ns

    async def upsert(self, namespaces: list[Namespace]) -> int:
        if not namespaces:
            raise BadRequest("must specify at least one namespace")
        for ns in namespaces:
            err = validate_namespace(ns)
            if err:
                raise BadRequest(f"Invalid namespace {_q(ns.Name)}: {err}")
            if ns.Quota:
                raise BadRequest("Nomad Enterprise only feature: namespace quotas")
        return await self.server.commit(e.NamespaceUpsert(Namespaces=namespaces))

    async def delete(self, names: list[str]) -> int:
        state = self.server.state
        if not names:
            raise BadRequest("must specify at least one namespace to delete")
        for name in names:
            if name == DEFAULT_NAMESPACE:
                raise BadRequest("default namespace can not be deleted")
            if state.namespace_by_name(name) is None:
                raise BadRequest(f"namespace {_q(name)} does not exist")
            job = state.namespace_nonterminal_job(name)
            if job is not None:
                raise BadRequest(f"namespace {_q(name)} contains at least one non-terminal job "
                                 f"{_q(job.ID)}. All jobs must be terminal in namespace before "
                                 "it can be deleted")
        return await self.server.commit(e.NamespaceDelete(Names=names))


def _q(text: str) -> str:
    """Go's %q for plain strings."""
    return json.dumps(text)
