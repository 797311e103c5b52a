"""Native service discovery endpoints (Nomad's ServiceRegistration.Upsert/DeleteByID/
DeleteByAllocID/List/GetService, nomad/service_registration_endpoint.go).

Writes from clients are authenticated by the node's SecretID: a node may only register
and deregister the services of allocations placed on it. Tasks look services up (template
`nomadService`/`nomadServices`) in their allocation's namespace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..state import entries as e
from ..structs.services import ServiceRegistration, services_list
from .errors import BadRequest, Forbidden, NotFound

if TYPE_CHECKING:
    from .server import Server

TABLE = "service_registrations"


class ServicesEndpoint:
    def __init__(self, server: "Server") -> None:
        self.server = server

    # -- client writes (RPC) -------------------------------------------------------------
    def _check_node(self, node_id: str, secret: str) -> None:
        node = self.server.state.node_by_id(node_id)
        if node is None or not secret or node.SecretID != secret:
            raise Forbidden("Permission denied")

    async def upsert(self, services: list[ServiceRegistration], node_secret: str) -> int:
        if not services:
            raise BadRequest("must specify at least one service registration")
        state = self.server.state
        for reg in services:
            if not reg.ID or not reg.ServiceName or not reg.AllocID or not reg.NodeID:
                raise BadRequest("service registration needs an ID, ServiceName, AllocID "
                                 "and NodeID")
            self._check_node(reg.NodeID, node_secret)
            alloc = state.alloc_by_id(reg.AllocID)
            if alloc is None or alloc.NodeID != reg.NodeID:
                raise BadRequest(f"allocation {reg.AllocID} is not on node {reg.NodeID}")
            reg.Namespace = alloc.Namespace
            reg.CreateIndex = reg.ModifyIndex = 0
        return await self.server.commit(e.ServiceRegistrationUpsert(Services=services))

    async def delete_by_alloc(self, alloc_id: str, node_secret: str) -> int:
        state = self.server.state
        alloc = state.alloc_by_id(alloc_id)
        if alloc is not None:
            self._check_node(alloc.NodeID, node_secret)
        elif not any(n.SecretID == node_secret for n in state.nodes_list()) or not node_secret:
            raise Forbidden("Permission denied")
        if not any(r.AllocID == alloc_id for r in state.service_registrations.values()):
            return state.table_index(TABLE)
        return await self.server.commit(e.ServiceRegistrationDeleteByAllocID(AllocID=alloc_id))

    # -- HTTP (operators) ----------------------------------------------------------------
    def list(self, namespace: str) -> list[dict]:
        return services_list(self.server.state.service_registrations.values(), namespace)

    def get(self, namespace: str, name: str, tag: str = "") -> list[ServiceRegistration]:
        regs = self.server.state.service_registrations_by_name(namespace, name)
        if tag:
            regs = [r for r in regs if tag in (r.Tags or ())]
        return regs

    async def delete_by_id(self, namespace: str, name: str, service_id: str) -> int:
        reg = self.server.state.service_registrations.get(service_id)
        if reg is None or reg.Namespace != namespace or reg.ServiceName != name:
            raise NotFound(f"service registration not found: {service_id}")
        return await self.server.commit(e.ServiceRegistrationDeleteByID(
            Namespace=namespace, ID=service_id))

    # -- task lookups (RPC, templates) -----------------------------------------------------
    def task_list(self, alloc_id: str, name: str, node_secret: str = "") -> list[dict]:
        """`nomadService name`: the registrations of `name` in the alloc's namespace;
        `nomadServices` (empty `name`): the namespace's service names and tags."""
        state = self.server.state
        alloc = state.alloc_by_id(alloc_id)
        if alloc is None:
            raise NotFound("allocation not found")
        self._check_node(alloc.NodeID, node_secret)
        if not name:
            listed = services_list(state.service_registrations.values(), alloc.Namespace)
            return listed[0]["Services"] if listed else []
        return [r.to_dict() for r in state.service_registrations_by_name(alloc.Namespace, name)]


def services_endpoint(server: "Server") -> ServicesEndpoint:
    """The server's endpoint (stateless: made on first use and kept on the server)."""
    ep = getattr(server, "_services_endpoint", None)
    if ep is None:
        ep = ServicesEndpoint(server)
        server._services_endpoint = ep
    return ep
