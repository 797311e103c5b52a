"""FSM handlers for namespaces, ACL policies and ACL tokens (Nomad's fsm.go
applyNamespaceUpsert/Delete, applyACLPolicyUpsert/Delete, applyACLTokenUpsert/Delete,
applyACLTokenBootstrap). Mixed into `FSM`, whose `_index` and `_tables` these use.

Endpoints validate requests before committing; these handlers re-check only what must hold
whatever the order of entries (the default namespace stays, a namespace with live jobs
stays, bootstrap happens once).
"""

from __future__ import annotations

from msgspec.structs import replace

from . import entries as e
from ..structs.acl import DEFAULT_NAMESPACE


class ACLFSMMixin:
    def _apply_NamespaceUpsert(self, entry: e.NamespaceUpsert) -> None:
        self._upsert_named(self.state.namespaces, entry.Namespaces)
        self._tables.add("namespaces")

    def _upsert_named(self, table: dict, objects) -> None:
        """Store copies keyed by Name, keeping CreateIndex across updates."""
        for obj in objects:
            obj = replace(obj)
            existing = table.get(obj.Name)
            obj.CreateIndex = existing.CreateIndex if existing is not None else self._index
            obj.ModifyIndex = self._index
            obj.set_hash()
            table[obj.Name] = obj

    def _apply_NamespaceDelete(self, entry: e.NamespaceDelete) -> None:
        st = self.state
        for name in entry.Names:
            if name == DEFAULT_NAMESPACE or st.namespace_nonterminal_job(name) is not None:
                continue
            st.namespaces.pop(name, None)
        self._tables.add("namespaces")

    def _apply_ACLPolicyUpsert(self, entry: e.ACLPolicyUpsert) -> None:
        self._upsert_named(self.state.acl_policies, entry.Policies)
        self._tables.add("acl_policy")

    def _apply_ACLPolicyDelete(self, entry: e.ACLPolicyDelete) -> None:
        for name in entry.Names:
            self.state.acl_policies.pop(name, None)
        self._tables.add("acl_policy")

    def _apply_ACLTokenUpsert(self, entry: e.ACLTokenUpsert) -> None:
        for token in entry.Tokens:
            self._put_token(token)
        self._tables.add("acl_token")

    def _put_token(self, token) -> None:
        st = self.state
        token = replace(token)
        existing = st.acl_tokens.get(token.AccessorID)
        if existing is not None:
            token.CreateIndex = existing.CreateIndex
            token.CreateTime = existing.CreateTime
            token.SecretID = existing.SecretID
        else:
            token.CreateIndex = self._index
        token.ModifyIndex = self._index
        token.set_hash()
        st.put_token(token)

    def _apply_ACLTokenDelete(self, entry: e.ACLTokenDelete) -> None:
        for accessor in entry.AccessorIDs:
            self.state.delete_token(accessor)
        self._tables.add("acl_token")

    def _apply_ACLTokenBootstrap(self, entry: e.ACLTokenBootstrap) -> None:
        st = self.state
        if st.acl_bootstrap_index:
            return
        self._put_token(entry.Token)
        st.acl_bootstrap_index = self._index
        self._tables.add("acl_token")

    # -- roles, auth methods, binding rules, one-time tokens (Nomad 1.5+) ---------------
    def _apply_ACLRoleUpsert(self, entry: e.ACLRoleUpsert) -> None:
        self._upsert_keyed(self.state.acl_roles, entry.Roles, "ID")
        self._tables.add("acl_roles")

    def _apply_ACLRoleDelete(self, entry: e.ACLRoleDelete) -> None:
        for role_id in entry.IDs:
            self.state.acl_roles.pop(role_id, None)
        self._tables.add("acl_roles")

    def _apply_ACLAuthMethodUpsert(self, entry: e.ACLAuthMethodUpsert) -> None:
        table = self.state.acl_auth_methods
        for method in entry.Methods:
            if method.Default:  # one default method: a new default replaces the old
                for name, other in list(table.items()):
                    if other.Default and name != method.Name:
                        table[name] = replace(other, Default=False, ModifyIndex=self._index)
        self._upsert_keyed(table, entry.Methods, "Name", keep=("CreateTime",))
        self._tables.add("acl_auth_methods")

    def _apply_ACLAuthMethodDelete(self, entry: e.ACLAuthMethodDelete) -> None:
        for name in entry.Names:
            self.state.acl_auth_methods.pop(name, None)
        self._tables.add("acl_auth_methods")

    def _apply_ACLBindingRuleUpsert(self, entry: e.ACLBindingRuleUpsert) -> None:
        self._upsert_keyed(self.state.acl_binding_rules, entry.Rules, "ID",
                           keep=("CreateTime",))
        self._tables.add("acl_binding_rules")

    def _apply_ACLBindingRuleDelete(self, entry: e.ACLBindingRuleDelete) -> None:
        for rule_id in entry.IDs:
            self.state.acl_binding_rules.pop(rule_id, None)
        self._tables.add("acl_binding_rules")

    def _upsert_keyed(self, table: dict, objects, key: str, keep: tuple[str, ...] = ()) -> None:
        """Store copies keyed by `key`, keeping CreateIndex (and `keep`) across updates."""
        for obj in objects:
            obj = replace(obj)
            existing = table.get(getattr(obj, key))
            obj.CreateIndex = existing.CreateIndex if existing is not None else self._index
            for name in keep:
                if existing is not None:
                    setattr(obj, name, getattr(existing, name))
            obj.ModifyIndex = self._index
            obj.set_hash()
            table[getattr(obj, key)] = obj

    def _apply_OneTimeTokenUpsert(self, entry: e.OneTimeTokenUpsert) -> None:
        token = replace(entry.Token, CreateIndex=self._index, ModifyIndex=self._index)
        self.state.one_time_tokens[token.OneTimeSecretID] = token
        self._tables.add("one_time_token")

    def _apply_OneTimeTokenDelete(self, entry: e.OneTimeTokenDelete) -> None:
        table = self.state.one_time_tokens
        for secret in entry.OneTimeSecretIDs:
            table.pop(secret, None)
        if entry.ExpireBefore:
            for secret in [s for s, t in table.items() if t.ExpiresAtNs < entry.ExpireBefore]:
                del table[secret]
        self._tables.add("one_time_token")
