"""Host volume feasibility: a group lands only where its host volumes exist, read-only
volumes only take read-only requests, and per-alloc volumes follow the alloc index."""

from msgspec.structs import replace
from sched_harness import FakeState, make_job, make_node, run_eval

from pynomad.scheduler.feasible import HOST_VOLUMES_FILTER, host_volume_requests
from pynomad.structs import ClientHostVolumeConfig


def _with_volumes(node, **volumes):
    return replace(node, HostVolumes={
        name: ClientHostVolumeConfig(Name=name, Path=f"/srv/{name}", ReadOnly=ro)
        for name, ro in volumes.items()})


def _volume(source, read_only=False, per_alloc=False):
    return {"Name": "data", "Type": "host", "Source": source, "ReadOnly": read_only,
            "PerAlloc": per_alloc}


def test_group_lands_only_on_nodes_with_the_volume():
    state = FakeState()
    plain = [state.add_node(make_node(i)) for i in range(3)]
    store = state.add_node(_with_volumes(make_node(3), data=False))
    run_eval(state, make_job(count=2, Volumes={"data": _volume("data")}))
    assert set(state.per_node("web")) == {store.ID}
    assert all(n.ID not in state.per_node("web") for n in plain)


def test_read_only_node_volume_refuses_read_write_requests():
    state = FakeState()
    state.add_node(_with_volumes(make_node(0), data=True))
    out = run_eval(state, make_job(Volumes={"data": _volume("data")}))
    assert state.live("web") == []
    metric = out.eval.FailedTGAllocs["g"]
    assert metric.ConstraintFiltered == {HOST_VOLUMES_FILTER: 1}
    assert metric.NodesFiltered == 1

    run_eval(state, make_job("ro", Volumes={"data": _volume("data", read_only=True)}))
    assert len(state.live("ro")) == 1


def test_per_alloc_volume_follows_the_alloc_index():
    state = FakeState()
    nodes = [state.add_node(_with_volumes(make_node(i), **{f"data[{i}]": False}))
             for i in range(3)]
    run_eval(state, make_job(count=3, Volumes={"data": _volume("data", per_alloc=True)}))
    placed = {a.Name: a.NodeID for a in state.live("web")}
    assert placed == {f"web.g[{i}]": nodes[i].ID for i in range(3)}


def test_system_job_skips_nodes_without_the_volume():
    state = FakeState()
    with_vol = state.add_node(_with_volumes(make_node(0), data=False))
    state.add_node(make_node(1))
    run_eval(state, make_job("sys", typ="system", Volumes={"data": _volume("data")}))
    assert set(state.per_node("sys")) == {with_vol.ID}


def test_csi_volumes_are_not_host_volume_requests():
    tg = make_job(Volumes={"a": _volume("x"), "b": {"Type": "csi", "Source": "y"},
                           "c": _volume("x", read_only=True)}).TaskGroups[0]
    assert host_volume_requests(tg) == {"x": [False, True]}
