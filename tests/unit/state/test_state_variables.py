"""Nomad Variables in the state store: upsert/delete with check-and-set, snapshots.

State stores variables sealed (`VariableEncrypted`); it never looks inside `Data`, so these
tests store the items' JSON there and read it back with `items()`."""

from __future__ import annotations

import json

from pynomad.state import FSM, StateStore
from pynomad.state import entries as e
from pynomad.state.snapshot import dump_state, load_state
from pynomad.structs.keyring import VariableEncrypted


def items(var):
    return json.loads(var.Data)


def apply(fsm: FSM, entry: e.Entry, index: int) -> None:
    fsm.apply(e.decode(e.encode(entry)), index)   # through the log codec, like the backend


def put(fsm, path, items, index, ns="default", cas=None, time=0):
    sealed = VariableEncrypted(Namespace=ns, Path=path, KeyID="k1",
                               Data=json.dumps(items).encode())
    apply(fsm, e.VariableUpsert(Variable=sealed,
                                CAS=cas is not None, CASIndex=cas or 0, Time=time), index)


def test_upsert_keeps_create_index_and_time():
    st = StateStore()
    fsm = FSM(st)
    put(fsm, "a/b", {"k": "1"}, 10, time=100)
    put(fsm, "a/b", {"k": "2"}, 11, time=200)
    v = st.variable_by_path("default", "a/b")
    assert (v.CreateIndex, v.ModifyIndex, v.CreateTime, v.ModifyTime) == (10, 11, 100, 200)
    assert items(v) == {"k": "2"} and v.KeyID == "k1"
    assert st.table_index("variables") == 11
    assert set(v.metadata()) == {"Namespace", "Path", "CreateIndex", "CreateTime",
                                 "ModifyIndex", "ModifyTime"}


def test_cas_upsert():
    st = StateStore()
    fsm = FSM(st)
    put(fsm, "x", {"k": "1"}, 5, cas=0)            # absent + cas 0: created
    assert st.variable_by_path("default", "x").ModifyIndex == 5
    put(fsm, "x", {"k": "2"}, 6, cas=0)            # present + cas 0: refused
    put(fsm, "x", {"k": "3"}, 7, cas=4)            # wrong index: refused
    assert items(st.variable_by_path("default", "x")) == {"k": "1"}
    put(fsm, "x", {"k": "4"}, 8, cas=5)
    assert items(st.variable_by_path("default", "x")) == {"k": "4"}
    put(fsm, "y", {"k": "1"}, 9, cas=3)            # absent + cas N: refused
    assert st.variable_by_path("default", "y") is None


def test_delete_with_and_without_cas():
    st = StateStore()
    fsm = FSM(st)
    put(fsm, "x", {"k": "1"}, 5)
    apply(fsm, e.VariableDelete(Namespace="default", Path="x", CAS=True, CASIndex=4), 6)
    assert st.variable_by_path("default", "x") is not None
    apply(fsm, e.VariableDelete(Namespace="default", Path="x", CAS=True, CASIndex=5), 7)
    assert st.variable_by_path("default", "x") is None
    put(fsm, "y", {"k": "1"}, 8)
    apply(fsm, e.VariableDelete(Namespace="other", Path="y"), 9)
    assert st.variable_by_path("default", "y") is not None
    apply(fsm, e.VariableDelete(Namespace="default", Path="y"), 10)
    assert st.variable_by_path("default", "y") is None


def test_list_by_namespace_and_prefix():
    st = StateStore()
    fsm = FSM(st)
    put(fsm, "b/two", {"k": "v"}, 5)
    put(fsm, "a/one", {"k": "v"}, 6)
    put(fsm, "a/one", {"k": "v"}, 7, ns="prod")
    assert [v.Path for v in st.variables_list("default")] == ["a/one", "b/two"]
    assert [v.Path for v in st.variables_list("default", "b")] == ["b/two"]
    assert [(v.Namespace, v.Path) for v in st.variables_list("*", "a")] == [
        ("default", "a/one"), ("prod", "a/one")]
    assert st.variables_list("nope") == []


def test_snapshot_round_trip():
    st = StateStore()
    fsm = FSM(st)
    put(fsm, "a/one", {"user": "me", "pw": "s"}, 5, time=42)
    put(fsm, "a/one", {"k": "v"}, 6, ns="prod")
    restored = StateStore()
    assert load_state(restored, dump_state(st, 6)) == 6
    v = restored.variable_by_path("default", "a/one")
    assert items(v) == {"user": "me", "pw": "s"} and v.CreateTime == 42
    assert v.CreateIndex == 5
    assert items(restored.variable_by_path("prod", "a/one")) == {"k": "v"}


def test_reencrypt_only_an_unchanged_variable():
    st = StateStore()
    fsm = FSM(st)
    put(fsm, "x", {"k": "1"}, 5, time=7)
    apply(fsm, e.VariableReencrypt(Namespace="default", Path="x", ModifyIndex=4, KeyID="k2",
                                   Data=b"stale"), 6)
    assert st.variable_by_path("default", "x").KeyID == "k1"
    apply(fsm, e.VariableReencrypt(Namespace="default", Path="x", ModifyIndex=5, KeyID="k2",
                                   Data=b"new"), 7)
    v = st.variable_by_path("default", "x")
    assert (v.KeyID, v.Data, v.ModifyIndex, v.ModifyTime) == ("k2", b"new", 5, 7)
