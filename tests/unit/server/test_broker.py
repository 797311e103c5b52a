"""Eval broker: priority order, one in-flight eval per job, ack/nack, delivery limit."""

import asyncio

import pytest

from pynomad.server.broker import FAILED_QUEUE, BrokerError, EvalBroker
from pynomad.structs import Evaluation


def ev(i: str, job: str = "j", prio: int = 50, idx: int = 1, typ: str = "service") -> Evaluation:
    return Evaluation(ID=i, JobID=job, Priority=prio, CreateIndex=idx, ModifyIndex=idx, Type=typ)


def run(coro):
    return asyncio.run(coro)


def test_priority_then_fifo():
    async def body():
        b = EvalBroker()
        b.set_enabled(True)
        b.enqueue(ev("low", job="a", prio=10, idx=1))
        b.enqueue(ev("high", job="b", prio=90, idx=3))
        b.enqueue(ev("mid1", job="c", prio=50, idx=2))
        b.enqueue(ev("mid2", job="d", prio=50, idx=4))
        got = [(await b.dequeue(["service"], 0.1))[0].ID for _ in range(4)]
        assert got == ["high", "mid1", "mid2", "low"]
    run(body())


def test_one_inflight_eval_per_job_and_cancel_on_ack():
    async def body():
        b = EvalBroker()
        b.set_enabled(True)
        b.enqueue(ev("e1", idx=1))
        b.enqueue(ev("e2", idx=2))
        b.enqueue(ev("e3", idx=3))
        first, token = await b.dequeue(["service"], 0.1)
        assert first.ID == "e1"
        assert await b.dequeue(["service"], 0.05) is None  # same job is in flight
        canceled = b.ack("e1", token)
        assert [c.ID for c in canceled] == ["e2"]  # the newest pending one runs next
        nxt, _ = await b.dequeue(["service"], 0.1)
        assert nxt.ID == "e3"
    run(body())


def test_nack_redelivers_until_delivery_limit_then_failed_queue():
    async def body():
        b = EvalBroker(delivery_limit=2)
        b.set_enabled(True)
        b.enqueue(ev("e1"))
        e, token = await b.dequeue(["service"], 0.1)
        b.nack(e.ID, token)
        e, token = await b.dequeue(["service"], 0.1)
        with pytest.raises(BrokerError):
            b.ack(e.ID, "wrong-token")
        b.nack(e.ID, token)
        assert await b.dequeue(["service"], 0.05) is None
        failed, _ = await b.dequeue([FAILED_QUEUE], 0.1)
        assert failed.ID == "e1"
    run(body())


def test_dequeue_waits_for_enqueue():
    async def body():
        b = EvalBroker()
        b.set_enabled(True)
        waiter = asyncio.ensure_future(b.dequeue(["batch"], 5))
        await asyncio.sleep(0)
        b.enqueue(ev("b1", typ="batch"))
        got, _ = await waiter
        assert got.ID == "b1"
    run(body())
