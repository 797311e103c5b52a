"""FSM handlers for Nomad Variables (Nomad's fsm.go applyVariableOperation: set, CAS,
delete, delete-CAS). Variables arrive and are stored sealed by the keyring
(`VariableEncrypted`): the log and snapshots never hold their items in the clear. Mixed into `FSM`, whose `_index` and `_tables` these use.

The endpoint checks CAS before committing; the handlers re-check it, because another write
may have been applied in between: a mismatch leaves the table untouched, and the endpoint
learns so by comparing the stored ModifyIndex with the entry's index.
"""

from __future__ import annotations

from msgspec.structs import replace

from . import entries as e

VARIABLES_TABLE = "variables"


def cas_ok(existing, cas: int | None) -> bool:
    """Nomad's check-and-set rule: 0 means "only if absent", N "only if ModifyIndex is N"."""
    if cas is None:
        return True
    if existing is None:
        return cas == 0
    return existing.ModifyIndex == cas


class VariablesFSMMixin:
    def _apply_VariableUpsert(self, entry: e.VariableUpsert) -> None:
        table = self.state.variables
        var = entry.Variable
        key = (var.Namespace, var.Path)
        existing = table.get(key)
        if not cas_ok(existing, entry.CASIndex if entry.CAS else None):
            return
        stored = replace(var, ModifyIndex=self._index, ModifyTime=entry.Time)
        if existing is not None:
            stored.CreateIndex, stored.CreateTime = existing.CreateIndex, existing.CreateTime
        else:
            stored.CreateIndex, stored.CreateTime = self._index, entry.Time
        table[key] = stored
        self._tables.add(VARIABLES_TABLE)

    def _apply_VariableReencrypt(self, entry: e.VariableReencrypt) -> None:
        """New ciphertext for unchanged items: the variable keeps its indexes and times."""
        table = self.state.variables
        key = (entry.Namespace, entry.Path)
        existing = table.get(key)
        if existing is None or existing.ModifyIndex != entry.ModifyIndex:
            return
        table[key] = replace(existing, KeyID=entry.KeyID, Data=entry.Data)

    def _apply_VariableDelete(self, entry: e.VariableDelete) -> None:
        table = self.state.variables
        key = (entry.Namespace, entry.Path)
        existing = table.get(key)
        if entry.CAS and existing is None and entry.CASIndex != 0:
            return
        if entry.CAS and existing is not None and existing.ModifyIndex != entry.CASIndex:
            return
        if table.pop(key, None) is not None:
            self._tables.add(VARIABLES_TABLE)
