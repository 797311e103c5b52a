"""Packed allocation fields: what the state store keeps must read and encode as stored."""

from __future__ import annotations

import msgspec

from pynomad.state.snapshot import dump_state, load_state
from pynomad.state.store import StateStore
from pynomad.structs import (AllocMetric, Allocation, NodeScoreMeta, PackedMetric,
                             PackedTaskStates, TaskEvent, TaskState, to_builtins)
from pynomad.structs.alloc import NodeScores


def _states() -> dict[str, TaskState]:
    return {"web": TaskState(State="running", StartedAt="2026-11-29T11:09:21.5Z", Events=[
        TaskEvent(Type="Received", Time=1764414561000000001,
                  DisplayMessage="Task received by client"),
        TaskEvent(Type="Driver", Time=1764414561000000002, Details={"image": "redis"},
                  ExitCode=3, FailsTask=True)]),
        "sidecar": TaskState(State="dead", Failed=True, Restarts=2)}


def _metric() -> AllocMetric:
    return AllocMetric(NodesEvaluated=13, NodesInPool=5000, NodesAvailable={"dc1": 5000},
                       DimensionExhausted={"memory": 2},
                       ScoreMetaData=[NodeScoreMeta(
                           NodeID="2f1e0e7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                           Scores=NodeScores(binpack=0.43, job_anti_affinity=-0.5),
                           NormScore=-0.035)], AllocationTime=123456)


def test_task_states_read_like_the_dict_they_replace():
    states = _states()
    packed = PackedTaskStates.pack(states)
    assert packed.unpack() == states
    assert packed == states and states == packed
    assert sorted(packed) == ["sidecar", "web"] and len(packed) == 2
    assert packed["web"].Events[1].Details == {"image": "redis"}
    assert packed.get("sidecar").Restarts == 2 and packed.get("nope") is None
    assert [ts.State for ts in packed.values()] == ["running", "dead"]
    assert len(packed.blob) < len(msgspec.msgpack.encode(states)) / 3


def test_metric_reads_like_the_struct_it_replaces():
    metric = _metric()
    packed = PackedMetric.pack(metric)
    assert packed.unpack() == metric
    assert packed.NodesEvaluated == 13
    assert packed.ScoreMetaData[0].Scores["job-anti-affinity"] == -0.5


def test_stored_alloc_is_packed_and_encodes_as_before():
    alloc = Allocation(ID="a1", JobID="web", NodeID="n1", Metrics=_metric(),
                       TaskStates=_states())
    expected = to_builtins(alloc)
    state = StateStore()
    state.put_alloc(alloc)
    stored = state.alloc_by_id("a1")
    assert isinstance(stored.TaskStates, PackedTaskStates)
    assert isinstance(stored.Metrics, PackedMetric)
    assert to_builtins(stored) == expected
    assert msgspec.json.decode(msgspec.json.encode(stored, enc_hook=lambda o: o.unpack())) \
        == expected


def test_snapshot_restores_packed_fields():
    state = StateStore()
    state.put_alloc(Allocation(ID="a1", JobID="web", NodeID="n1", Metrics=_metric(),
                               TaskStates=_states()))
    restored = StateStore()
    load_state(restored, dump_state(state, 7))
    alloc = restored.alloc_by_id("a1")
    assert alloc.TaskStates == _states() and alloc.Metrics == _metric()
    assert isinstance(alloc.TaskStates, PackedTaskStates)
