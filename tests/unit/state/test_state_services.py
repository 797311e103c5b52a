"""Native service registrations in the state store: FSM upsert/delete, clean-up when an
alloc becomes client-terminal or its node goes down, snapshots."""

from __future__ import annotations

from pynomad.state import FSM, StateStore
from pynomad.state import entries as e
from pynomad.structs.services import ServiceRegistration, service_id, services_list
from pynomad.state.snapshot import dump_state, load_state
from pynomad.structs import Allocation, Node


def apply(fsm: FSM, entry: e.Entry, index: int) -> None:
    fsm.apply(e.decode(e.encode(entry)), index)   # through the log codec, like the backend


def reg(alloc="a1", name="web", node="n1", tags=None, port=8080, ns="default"):
    return ServiceRegistration(ID=service_id(alloc, "group", name, "http"), ServiceName=name,
                               Namespace=ns, NodeID=node, Datacenter="dc1", JobID="j",
                               AllocID=alloc, Tags=tags, Address="10.0.0.1", Port=port)


def test_service_id_layout():
    assert service_id("abc", "group", "web", "http") == "_nomad-task-abc-group-web-http"


def test_upsert_keeps_create_index_and_skips_unchanged():
    st = StateStore()
    fsm = FSM(st)
    apply(fsm, e.ServiceRegistrationUpsert(Services=[reg(tags=["a"])]), 5)
    r = st.service_registrations_by_name("default", "web")[0]
    assert (r.CreateIndex, r.ModifyIndex) == (5, 5)
    assert st.table_index("service_registrations") == 5
    apply(fsm, e.ServiceRegistrationUpsert(Services=[reg(tags=["a"])]), 6)
    assert st.service_registrations_by_name("default", "web")[0].ModifyIndex == 5
    apply(fsm, e.ServiceRegistrationUpsert(Services=[reg(tags=["b"], port=9090)]), 7)
    r = st.service_registrations_by_name("default", "web")[0]
    assert (r.CreateIndex, r.ModifyIndex, r.Port, r.Tags) == (5, 7, 9090, ["b"])
    assert r.to_dict()["ID"] == "_nomad-task-a1-group-web-http"


def test_delete_by_id_and_by_alloc():
    st = StateStore()
    fsm = FSM(st)
    apply(fsm, e.ServiceRegistrationUpsert(Services=[reg("a1"), reg("a2"),
                                                     reg("a1", name="api")]), 5)
    apply(fsm, e.ServiceRegistrationDeleteByID(Namespace="other", ID=reg("a2").ID), 6)
    assert len(st.service_registrations) == 3          # wrong namespace: untouched
    apply(fsm, e.ServiceRegistrationDeleteByID(Namespace="default", ID=reg("a2").ID), 7)
    assert reg("a2").ID not in st.service_registrations
    apply(fsm, e.ServiceRegistrationDeleteByAllocID(AllocID="a1"), 8)
    assert st.service_registrations == {}
    assert st.table_index("service_registrations") == 8


def test_services_list_groups_by_namespace_with_tag_union():
    regs = [reg("a1", tags=["x"]), reg("a2", tags=["y", "x"]), reg("a3", name="api"),
            reg("a4", ns="prod")]
    assert services_list(regs, "default") == [{"Namespace": "default", "Services": [
        {"ServiceName": "api", "Tags": []}, {"ServiceName": "web", "Tags": ["x", "y"]}]}]
    assert [e["Namespace"] for e in services_list(regs, "*")] == ["default", "prod"]
    assert services_list(regs, "none") == []


def _with_alloc_and_node():
    st = StateStore()
    fsm = FSM(st)
    apply(fsm, e.NodeRegister(Node=Node(ID="n1", SecretID="s", Status="ready")), 1)
    st.put_alloc(Allocation(ID="a1", NodeID="n1", JobID="j", TaskGroup="g",
                            ClientStatus="running", DesiredStatus="run"))
    st.put_alloc(Allocation(ID="a2", NodeID="n2", JobID="j", TaskGroup="g",
                            ClientStatus="running", DesiredStatus="run"))
    apply(fsm, e.ServiceRegistrationUpsert(Services=[reg("a1"), reg("a2", node="n2")]), 2)
    return st, fsm


def test_client_terminal_alloc_drops_its_registrations():
    st, fsm = _with_alloc_and_node()
    apply(fsm, e.AllocClientUpdate(Allocs=[Allocation(ID="a1", ClientStatus="running")]), 3)
    assert len(st.service_registrations) == 2
    apply(fsm, e.AllocClientUpdate(Allocs=[Allocation(ID="a1", ClientStatus="complete")]), 4)
    assert [r.AllocID for r in st.service_registrations.values()] == ["a2"]


def test_node_down_drops_its_registrations():
    st, fsm = _with_alloc_and_node()
    apply(fsm, e.NodeUpdateStatus(NodeID="n1", Status="down"), 3)
    assert [r.NodeID for r in st.service_registrations.values()] == ["n2"]


def test_snapshot_round_trip():
    st, _ = _with_alloc_and_node()
    restored = StateStore()
    load_state(restored, dump_state(st, 2))
    assert restored.service_registrations == st.service_registrations
