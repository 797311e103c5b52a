"""FSM handlers for the root keyring (Nomad's fsm.go applyRootKeyMetaUpsert/Delete and the
state store's UpsertRootKeyMeta). Mixed into `FSM`, whose `_index` and `_tables` these use.

A new active key demotes the previous active key to inactive; with `Rekey` (a full
rotation) every older key becomes `rekeying` instead, so that the leader re-encrypts what
they sealed.
"""

from __future__ import annotations

from msgspec.structs import replace

from ..structs.keyring import (KEY_STATE_ACTIVE, KEY_STATE_INACTIVE, KEY_STATE_REKEYING,
                               RootKeyMeta)
from . import entries as e

ROOT_KEYS_TABLE = "root_keys"


class KeyringFSMMixin:
    def _apply_RootKeyUpsert(self, entry: e.RootKeyUpsert) -> None:
        table = self.state.root_keys
        key = entry.Key
        meta = self._stamp_meta(key.Meta)
        if meta.State == KEY_STATE_ACTIVE:
            for key_id, other in list(table.items()):
                if key_id == meta.KeyID:
                    continue
                state = other.Meta.State
                if entry.Rekey and state in (KEY_STATE_ACTIVE, KEY_STATE_INACTIVE):
                    state = KEY_STATE_REKEYING
                elif state == KEY_STATE_ACTIVE:
                    state = KEY_STATE_INACTIVE
                if state != other.Meta.State:
                    table[key_id] = replace(other, Meta=replace(
                        other.Meta, State=state, ModifyIndex=self._index))
        table[meta.KeyID] = replace(key, Meta=meta)
        self._tables.add(ROOT_KEYS_TABLE)

    def _apply_RootKeyMetaUpdate(self, entry: e.RootKeyMetaUpdate) -> None:
        existing = self.state.root_keys.get(entry.Meta.KeyID)
        if existing is None:
            return
        self.state.root_keys[entry.Meta.KeyID] = replace(existing,
                                                         Meta=self._stamp_meta(entry.Meta))
        self._tables.add(ROOT_KEYS_TABLE)

    def _stamp_meta(self, meta: RootKeyMeta) -> RootKeyMeta:
        existing = self.state.root_keys.get(meta.KeyID)
        meta = replace(meta, ModifyIndex=self._index)
        if existing is not None:
            meta.CreateIndex, meta.CreateTime = existing.Meta.CreateIndex, existing.Meta.CreateTime
        else:
            meta.CreateIndex = self._index
        return meta

    def _apply_RootKeyDelete(self, entry: e.RootKeyDelete) -> None:
        if self.state.root_keys.pop(entry.KeyID, None) is not None:
            self._tables.add(ROOT_KEYS_TABLE)
