"""Namespaces, ACL policies and tokens in the state store: FSM entries and snapshots."""

from __future__ import annotations

from pynomad.state import FSM, StateStore
from pynomad.state import entries as e
from pynomad.structs.acl import ACLPolicy, ACLToken, Namespace
from pynomad.state.snapshot import dump_state, load_state
from pynomad.structs import Job


def apply(fsm: FSM, entry: e.Entry, index: int) -> None:
    fsm.apply(e.decode(e.encode(entry)), index)   # through the log codec, like the backend


def test_default_namespace_always_present():
    st = StateStore()
    ns = st.namespace_by_name("default")
    assert ns is not None and ns.Description == "Default shared namespace"
    fsm = FSM(st)
    apply(fsm, e.NamespaceDelete(Names=["default"]), 5)
    assert st.namespace_by_name("default") is not None


def test_namespace_upsert_keeps_create_index_and_delete():
    st = StateStore()
    fsm = FSM(st)
    apply(fsm, e.NamespaceUpsert(Namespaces=[Namespace(Name="dev", Description="a")]), 10)
    apply(fsm, e.NamespaceUpsert(Namespaces=[Namespace(Name="dev", Description="b",
                                                       Meta={"k": "v"})]), 11)
    ns = st.namespace_by_name("dev")
    assert (ns.CreateIndex, ns.ModifyIndex, ns.Description, ns.Meta) == (10, 11, "b", {"k": "v"})
    assert ns.Hash
    assert st.table_index("namespaces") == 11
    assert [n.Name for n in st.namespaces_list()] == ["default", "dev"]
    assert [n.Name for n in st.namespaces_list("de")] == ["default", "dev"]
    apply(fsm, e.NamespaceDelete(Names=["dev"]), 12)
    assert st.namespace_by_name("dev") is None


def test_namespace_with_live_job_is_not_deleted():
    st = StateStore()
    fsm = FSM(st)
    apply(fsm, e.NamespaceUpsert(Namespaces=[Namespace(Name="dev")]), 10)
    st.jobs[("dev", "web")] = Job(ID="web", Name="web", Namespace="dev", Status="running")
    assert st.namespace_nonterminal_job("dev").ID == "web"
    apply(fsm, e.NamespaceDelete(Names=["dev"]), 11)
    assert st.namespace_by_name("dev") is not None


def test_tokens_policies_bootstrap_once():
    st = StateStore()
    fsm = FSM(st)
    apply(fsm, e.ACLPolicyUpsert(Policies=[ACLPolicy(Name="ro", Rules="node {}")]), 3)
    boot = ACLToken(AccessorID="a1", SecretID="s1", Name="Bootstrap Token", Type="management",
                    Global=True)
    apply(fsm, e.ACLTokenBootstrap(Token=boot), 4)
    second = ACLToken(AccessorID="a2", SecretID="s2", Type="management")
    apply(fsm, e.ACLTokenBootstrap(Token=second), 5)
    assert st.acl_bootstrap_index == 4
    assert st.acl_token_by_accessor("a2") is None
    assert st.acl_token_by_secret("s1").AccessorID == "a1"
    apply(fsm, e.ACLTokenUpsert(Tokens=[ACLToken(AccessorID="c1", SecretID="cs",
                                                 Type="client", Policies=["ro"])]), 6)
    # an update keeps the secret and create index
    apply(fsm, e.ACLTokenUpsert(Tokens=[ACLToken(AccessorID="c1", SecretID="other",
                                                 Type="client", Name="x",
                                                 Policies=["ro"])]), 7)
    tok = st.acl_token_by_accessor("c1")
    assert (tok.SecretID, tok.CreateIndex, tok.ModifyIndex, tok.Name) == ("cs", 6, 7, "x")
    apply(fsm, e.ACLTokenDelete(AccessorIDs=["c1"]), 8)
    assert st.acl_token_by_secret("cs") is None
    apply(fsm, e.ACLPolicyDelete(Names=["ro"]), 9)
    assert st.acl_policy_by_name("ro") is None


def test_snapshot_round_trip():
    st = StateStore()
    fsm = FSM(st)
    apply(fsm, e.NamespaceUpsert(Namespaces=[Namespace(Name="dev")]), 2)
    apply(fsm, e.ACLPolicyUpsert(Policies=[ACLPolicy(Name="ro", Rules="node {}")]), 3)
    apply(fsm, e.ACLTokenBootstrap(Token=ACLToken(AccessorID="a", SecretID="s",
                                                  Type="management")), 4)
    restored = StateStore()
    assert load_state(restored, dump_state(st, 4)) == 4
    assert set(restored.namespaces) == {"default", "dev"}
    assert restored.acl_policy_by_name("ro").Rules == "node {}"
    assert restored.acl_token_by_secret("s").AccessorID == "a"
    assert restored.acl_bootstrap_index == 4
