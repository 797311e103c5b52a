"""FSM handlers for native service registrations (Nomad's fsm.go
applyUpsertServiceRegistrations / applyDeleteServiceRegistrationByID / ...ByAllocID).
Mixed into `FSM`, whose `_index` and `_tables` these use. The FSM also calls
`_drop_alloc_services` when an allocation becomes client-terminal and
`_drop_node_services` when a node goes down.
"""

from __future__ import annotations

from msgspec.structs import replace

from . import entries as e

SERVICES_TABLE = "service_registrations"


class ServicesFSMMixin:
    def _apply_ServiceRegistrationUpsert(self, entry: e.ServiceRegistrationUpsert) -> None:
        table = self.state.service_registrations
        for reg in entry.Services:
            existing = table.get(reg.ID)
            if existing is not None and existing.same_content(reg):
                continue
            stored = replace(reg, Tags=list(reg.Tags or []), ModifyIndex=self._index,
                             CreateIndex=existing.CreateIndex if existing else self._index)
            table[reg.ID] = stored
            self._tables.add(SERVICES_TABLE)

    def _apply_ServiceRegistrationDeleteByID(self, entry: e.ServiceRegistrationDeleteByID) -> None:
        table = self.state.service_registrations
        reg = table.get(entry.ID)
        if reg is not None and reg.Namespace == entry.Namespace:
            del table[entry.ID]
            self._tables.add(SERVICES_TABLE)

    def _apply_ServiceRegistrationDeleteByAllocID(
            self, entry: e.ServiceRegistrationDeleteByAllocID) -> None:
        self._drop_alloc_services(entry.AllocID)

    def _drop_alloc_services(self, alloc_id: str) -> None:
        self._drop_services(lambda reg: reg.AllocID == alloc_id)

    def _drop_node_services(self, node_id: str) -> None:
        self._drop_services(lambda reg: reg.NodeID == node_id)

    def _drop_services(self, match) -> None:
        table = self.state.service_registrations
        gone = [sid for sid, reg in table.items() if match(reg)]
        for sid in gone:
            del table[sid]
        if gone:
            self._tables.add(SERVICES_TABLE)
