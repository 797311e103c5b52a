"""The embedded backend: acknowledged writes survive a crash; torn tails are dropped."""

import asyncio
import os

from pynomad.backend import create_backend
from pynomad.state import FSM, StateStore
from pynomad.state import entries as e
from pynomad.structs import Evaluation, Job, Resources, Task, TaskGroup, canonicalize


def job(i: int) -> Job:
    j = Job(ID=f"job-{i}", TaskGroups=[TaskGroup(Name="g", Tasks=[
        Task(Name="t", Driver="raw_exec", Config={"command": "true"}, Resources=Resources())])])
    return canonicalize(j)


class EmbeddedBackend:
    """The embedded backend over `state`'s FSM: `restore()` opens and starts it."""

    def __new__(cls, state, data_dir, **options):
        backend = create_backend("embedded", data_dir=data_dir, options=options)

        class Duties:
            async def acquired(self):
                pass

            async def lost(self):
                pass

        async def open_and_start():
            index = await backend.open(FSM(state))
            await backend.start(Duties())
            return index
        backend.restore = lambda: asyncio.run(open_and_start())
        return backend


def commit_all(backend, entries):
    async def run():
        return [await backend.commit(x) for x in entries]
    return asyncio.run(run())


def test_restart_replays_wal(tmp_path):
    b = EmbeddedBackend(StateStore(), str(tmp_path))
    b.restore()
    idx = commit_all(b, [e.JobRegister(Job=job(i), Eval=Evaluation(ID=f"ev-{i}", JobID=f"job-{i}"))
                         for i in range(5)])
    assert idx == [1, 2, 3, 4, 5]
    # no close(): as after kill -9
    state = StateStore()
    b2 = EmbeddedBackend(state, str(tmp_path))
    assert b2.restore() == 5
    assert sorted(k[1] for k in state.jobs) == [f"job-{i}" for i in range(5)]
    assert state.eval_by_id("ev-3").JobID == "job-3"
    assert commit_all(b2, [e.JobRegister(Job=job(0))]) == [6]
    assert state.job_by_id("default", "job-0").Version == 1


def test_snapshot_then_wal(tmp_path):
    b = EmbeddedBackend(StateStore(), str(tmp_path), snapshot_every=3)
    b.restore()
    commit_all(b, [e.JobRegister(Job=job(i)) for i in range(7)])
    state = StateStore()
    assert EmbeddedBackend(state, str(tmp_path)).restore() == 7
    assert len(state.jobs) == 7
    assert state.job_versions_of("default", "job-6")[0].Version == 0


def test_torn_tail_is_dropped(tmp_path):
    b = EmbeddedBackend(StateStore(), str(tmp_path))
    b.restore()
    commit_all(b, [e.JobRegister(Job=job(i)) for i in range(3)])
    wal = os.path.join(tmp_path, "server", "wal.log")
    with open(wal, "ab") as f:
        f.write(b"\x00\x00\x01\x00partial")
    state = StateStore()
    assert EmbeddedBackend(state, str(tmp_path)).restore() == 3
    assert len(state.jobs) == 3
