"""The event broker: bounded buffer, index replay, topic/key/namespace filters, activity
gating and slow subscribers (no sockets, no sleeps: an injected clock)."""

from __future__ import annotations

import asyncio
import json

import pytest

from pynomad.server.event_broker import (EventBroker, Frame, SubscriptionClosed, BufferedEvent,
                                         parse_topics)
from pynomad.state import FSM, StateStore
from pynomad.state import entries as e
from pynomad.state.events import Event
from pynomad.structs import Job, Node, Task, TaskGroup


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def ev(topic="Job", key="web", ns="default", filter_keys=None, index=1) -> Event:
    payload = {"Node": {"ID": key}} if topic == "Node" else {topic: {"ID": key}}
    return Event(Topic=topic, Type="T", Key=key, Namespace=ns, FilterKeys=filter_keys,
                 Index=index, Payload=payload)


def frame(index, *events) -> Frame:
    return Frame(index, [BufferedEvent(x) for x in events])


def drain(sub) -> list[dict]:
    out = []
    while (f := sub.next_nowait()) is not None:
        out.append(json.loads(f.encode()))
    return out


def keys(frames) -> list[tuple[int, str]]:
    return [(f["Index"], x["Key"]) for f in frames for x in f["Events"]]


def test_parse_topics():
    assert parse_topics([]) == {"*": {"*"}}
    assert parse_topics(["Job:web", "Job:api", "Node", "Allocation:*"]) == {
        "Job": {"web", "api"}, "Node": {"*"}, "Allocation": {"*"}}
    with pytest.raises(ValueError):
        parse_topics([":x"])


def test_frames_are_ndjson_with_nomads_event_shape():
    f = frame(7, ev("Node", "n1", ns=""))
    line = f.encode()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"Index": 7, "Events": [{
        "Topic": "Node", "Type": "T", "Key": "n1", "Namespace": "", "FilterKeys": None,
        "Index": 1, "Payload": {"Node": {"ID": "n1"}}}]}


def test_topic_key_and_filter_key_matching():
    broker = EventBroker(StateStore())
    web = broker.subscribe(parse_topics(["Job:web", "Allocation:web"]))
    everything = broker.subscribe(parse_topics(["*"]))
    allocs = broker.subscribe(parse_topics(["Allocation:*"]))
    broker.publish(frame(1, ev("Job", "web"), ev("Job", "api"),
                         ev("Allocation", "a1", filter_keys=["web", ""]),
                         ev("Allocation", "a2", filter_keys=["api", ""])))
    assert keys(drain(web)) == [(1, "web"), (1, "a1")]
    assert keys(drain(everything)) == [(1, "web"), (1, "api"), (1, "a1"), (1, "a2")]
    assert keys(drain(allocs)) == [(1, "a1"), (1, "a2")]


def test_namespace_filter_passes_events_without_namespace():
    broker = EventBroker(StateStore())
    default = broker.subscribe(parse_topics([]))
    prod = broker.subscribe(parse_topics([]), namespace="prod")
    every = broker.subscribe(parse_topics([]), namespace="*")
    broker.publish(frame(1, ev("Job", "a"), ev("Job", "b", ns="prod"), ev("Node", "n", ns="")))
    assert keys(drain(default)) == [(1, "a"), (1, "n")]
    assert keys(drain(prod)) == [(1, "b"), (1, "n")]
    assert keys(drain(every)) == [(1, "a"), (1, "b"), (1, "n")]


def test_frames_without_matching_events_are_not_queued():
    broker = EventBroker(StateStore())
    sub = broker.subscribe(parse_topics(["Node"]))
    broker.publish(frame(1, ev("Job", "web")))
    assert sub.next_nowait() is None


def test_bounded_buffer_and_index_replay():
    broker = EventBroker(StateStore(), buffer_size=3)
    for i in range(1, 6):
        broker.publish(frame(i, ev(key=f"j{i}")))
    assert [f.index for f in broker.buffer] == [3, 4, 5]
    # index 0 and an index older than the buffer: the whole backlog
    assert keys(drain(broker.subscribe(parse_topics([])))) == [(3, "j3"), (4, "j4"), (5, "j5")]
    assert [k for k, _ in keys(drain(broker.subscribe(parse_topics([]), index=1)))] == [3, 4, 5]
    assert keys(drain(broker.subscribe(parse_topics([]), index=4))) == [(4, "j4"), (5, "j5")]
    late = broker.subscribe(parse_topics([]), index=99)
    assert drain(late) == []
    broker.publish(frame(6, ev(key="j6")))
    assert keys(drain(late)) == [(6, "j6")]


def test_slow_subscriber_is_dropped_not_waited_for():
    broker = EventBroker(StateStore(), buffer_size=2, queue_size=4)
    slow = broker.subscribe(parse_topics([]))
    fast = broker.subscribe(parse_topics([]))
    for i in range(1, 7):
        broker.publish(frame(i, ev(key=f"j{i}")))
        drain(fast)
    assert slow not in broker.subscriptions and fast in broker.subscriptions
    assert broker.dropped == 1
    # what was queued before the drop is still delivered, then the subscription ends
    assert [k for k, _ in keys(drain_until_closed(slow))] == [1, 2, 3, 4]


def drain_until_closed(sub):
    out = []
    with pytest.raises(SubscriptionClosed):
        while True:
            f = sub.next_nowait()
            assert f is not None
            out.append(json.loads(f.encode()))
    return out


def job() -> Job:
    return Job(ID="web", Name="web", Namespace="default", Type="service", Datacenters=["dc1"],
               TaskGroups=[TaskGroup(Name="g", Tasks=[Task(Name="t", Driver="mock_driver")])])


def test_entries_produce_events_only_while_active():
    clock = Clock()
    state = StateStore()
    fsm = FSM(state)
    broker = EventBroker(state, resume_window_s=60, clock=clock)
    fsm.on_applied = broker.on_applied
    fsm.apply(e.NodeRegister(Node=Node(ID="n1", Name="n1"), Time=1), 1)
    assert not broker.active and list(broker.buffer) == []  # nobody listens: nothing made
    sub = broker.subscribe(parse_topics(["Job:web"]))
    fsm.apply(e.NodeRegister(Node=Node(ID="n2", Name="n2"), Time=1), 2)
    fsm.apply(e.JobRegister(Job=job(), Time=1), 3)
    assert [f.index for f in broker.buffer] == [2, 3]
    frames = drain(sub)
    assert [(f["Index"], [x["Type"] for x in f["Events"]]) for f in frames] == [
        (3, ["JobRegistered"])]
    assert frames[0]["Events"][0]["Payload"]["Job"]["ID"] == "web"
    broker.unsubscribe(sub)
    # within the resume window the buffer keeps filling, so a reconnect resumes
    fsm.apply(e.JobDeregister(Namespace="default", JobID="web", Time=1), 4)
    resumed = broker.subscribe(parse_topics(["Job"]), index=4)
    assert [(f["Index"], f["Events"][0]["Type"]) for f in drain(resumed)] == [
        (4, "JobDeregistered")]
    broker.unsubscribe(resumed)
    clock.now += 61
    fsm.apply(e.JobRegister(Job=job(), Time=1), 5)
    assert not broker.active and broker.buffer[-1].index == 4


def test_next_waits_for_a_frame_or_times_out_and_close_ends_it():
    async def main():
        broker = EventBroker(StateStore())
        sub = broker.subscribe(parse_topics([]))
        assert await sub.next(0) is None  # heartbeat time
        waiter = asyncio.ensure_future(sub.next(30))
        await asyncio.sleep(0)
        broker.publish(frame(1, ev()))
        got = await waiter
        assert got is not None and got.index == 1
        broker.close()
        with pytest.raises(SubscriptionClosed):
            await sub.next(30)
    asyncio.run(main())
