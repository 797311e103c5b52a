"""Task runner and alloc runner with real raw_exec processes and the mock driver."""

import asyncio
import os

import msgspec
from client_helpers import FakeClock, make_alloc

from pynomad.client.allocrunner import AllocRunner
from pynomad.client.allocdir import AllocDir
from pynomad.client.state import StateDB
from pynomad.client.taskrunner import TaskRunner
from pynomad.drivers.mock import MockDriver
from pynomad.drivers.raw_exec import RawExecDriver
from pynomad.structs import MINUTE, SECOND, LogConfig, RestartPolicy, Task


def _read(path):
    with open(path) as f:
        return f.read()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def types(state):
    return [e.Type for e in state.Events]


def drivers(clock):
    # the mock driver keeps real time so that concurrent tasks end in run_for order
    return {"raw_exec": RawExecDriver(), "mock_driver": MockDriver()}


def event_time(state, type_):
    return [e.Time for e in state.Events if e.Type == type_][0]


def test_raw_exec_task_fails_after_restart_attempts(client_config):
    clock = FakeClock()
    task = Task(Name="web", Driver="raw_exec",
                Config={"command": "/bin/sh",
                        "args": ["-c", "echo run ${NOMAD_TASK_NAME} $NOMAD_ALLOC_INDEX; exit 3"]},
                LogConfig=LogConfig(MaxFiles=2, MaxFileSizeMB=1))
    alloc = make_alloc([task], restart=RestartPolicy(Attempts=1, Interval=30 * MINUTE,
                                                     Delay=10 * 10**6, Mode="fail"))
    db = StateDB(client_config.client_dir, fsync=False)

    async def main():
        ar = AllocRunner(alloc=alloc, node=None, drivers=drivers(clock), config=client_config,
                         clock=clock, db=db)
        ar.start()
        await ar.wait()
        return ar
    ar = run(main())
    st = ar.tasks["web"].state
    assert types(st) == ["Received", "Task Setup", "Started", "Terminated", "Restarting",
                         "Started", "Terminated", "Not Restarting"]
    assert st.Events[3].DisplayMessage == "Exit Code: 3"
    assert st.Events[4].DisplayMessage.startswith("Task restarting in 1")
    assert st.Events[-1].DisplayMessage == \
        'Exceeded allowed attempts 1 in interval 30m0s and mode is "fail"'
    assert st.State == "dead" and st.Failed and st.Restarts == 1
    assert st.StartedAt != "0001-01-01T00:00:00Z" and st.FinishedAt != "0001-01-01T00:00:00Z"
    assert ar.client_status == "failed"
    # a service alloc outside a deployment is health-tracked for migrations (the migrate
    # block) and ends unhealthy, but, as in Nomad, only a deployment's unhealthy alloc gets
    # an "Alloc Unhealthy" task event (none in the list above)
    assert ar.client_alloc().DeploymentStatus.Healthy is False
    logs = AllocDir(client_config.alloc_root, alloc.ID).log_base("web", "stdout") + ".0"
    assert _read(logs) == "run web 0\nrun web 0\n"
    stored = db.get_all()[alloc.ID].Tasks["web"]
    assert stored.State.Failed and stored.Handle is None and stored.RunComplete


def test_batch_success_completes(client_config):
    clock = FakeClock()
    alloc = make_alloc([Task(Name="job", Driver="mock_driver", Config={"run_for": "20ms"})],
                       job_type="batch")

    async def main():
        ar = AllocRunner(alloc=alloc, node=None, drivers=drivers(clock), config=client_config,
                         clock=clock)
        ar.start()
        await ar.wait()
        return ar
    ar = run(main())
    st = ar.tasks["job"].state
    assert types(st) == ["Received", "Task Setup", "Started", "Terminated"]
    assert st.State == "dead" and not st.Failed
    assert ar.client_status == "complete"
    assert ar.client_description == "All tasks have completed"


def test_unknown_driver_and_start_error_fail_the_task(client_config):
    clock = FakeClock()
    alloc = make_alloc([Task(Name="a", Driver="nope"),
                        Task(Name="b", Driver="mock_driver", Config={"start_error": "boom"})])

    async def main():
        ar = AllocRunner(alloc=alloc, node=None, drivers=drivers(clock), config=client_config,
                         clock=clock)
        ar.start()
        await ar.wait()
        return ar
    ar = run(main())
    for name in ("a", "b"):
        st = ar.tasks[name].state
        assert "Driver Failure" in types(st) and st.Failed, types(st)
    reasons = [e.DisplayMessage for name in ("a", "b") for e in ar.tasks[name].state.Events
               if e.Type == "Not Restarting"]
    assert "Error was unrecoverable" in reasons
    assert ar.client_status == "failed"


def test_stop_kills_running_task(client_config):
    clock = FakeClock()
    alloc = make_alloc([Task(Name="web", Driver="raw_exec",
                             Config={"command": "sleep", "args": ["100"]}, KillTimeout=2 * SECOND)])

    async def main():
        ar = AllocRunner(alloc=alloc, node=None, drivers=drivers(clock), config=client_config,
                         clock=clock)
        ar.start()
        while ar.client_status != "running":
            await asyncio.sleep(0.01)
        pid = ar.tasks["web"].handle.state["task_pid"]
        stopped = msgspec.structs.replace(alloc, DesiredStatus="stop")
        ar.update(stopped)
        await ar.wait()
        return ar, pid
    ar, pid = run(main())
    st = ar.tasks["web"].state
    assert types(st)[-3:] == ["Killing", "Terminated", "Killed"]
    assert st.Events[-3].DisplayMessage == "Sent interrupt. Waiting 2s before force killing"
    assert st.Events[-2].DisplayMessage == "Exit Code: 130, Signal: 2"
    assert st.State == "dead" and not st.Failed
    assert ar.client_status == "complete"
    assert not os.path.exists(f"/proc/{pid}") or \
        _read(f"/proc/{pid}/stat").split()[2] == "Z"


def test_leader_death_kills_followers(client_config):
    clock = FakeClock()
    alloc = make_alloc([Task(Name="leader", Driver="mock_driver", Leader=True,
                             Config={"run_for": "20ms"}),
                        Task(Name="follower", Driver="mock_driver", Config={"run_for": "1h"})],
                       job_type="batch")

    async def main():
        ar = AllocRunner(alloc=alloc, node=None, drivers=drivers(clock), config=client_config,
                         clock=clock)
        ar.start()
        await ar.wait()
        return ar
    ar = run(main())
    f = ar.tasks["follower"].state
    assert "Leader Task Dead" in types(f) and "Killing" in types(f)
    assert f.State == "dead" and not f.Failed
    assert ar.client_status == "complete"


def test_failed_sibling_kills_group(client_config):
    clock = FakeClock()
    alloc = make_alloc([Task(Name="bad", Driver="mock_driver",
                             Config={"run_for": "20ms", "exit_code": 1}),
                        Task(Name="good", Driver="mock_driver", Config={"run_for": "1h"})],
                       restart=RestartPolicy(Attempts=0, Interval=MINUTE, Delay=SECOND,
                                             Mode="fail"))

    async def main():
        ar = AllocRunner(alloc=alloc, node=None, drivers=drivers(clock), config=client_config,
                         clock=clock)
        ar.start()
        await ar.wait()
        return ar
    ar = run(main())
    good = ar.tasks["good"].state
    assert "Sibling Task Failed" in types(good)
    assert [e for e in good.Events if e.Type == "Sibling Task Failed"][0].DisplayMessage == \
        'Task\'s sibling "bad" failed'
    assert ar.tasks["bad"].state.Failed and not good.Failed
    assert ar.client_status == "failed"


def test_lifecycle_order(client_config):
    from pynomad.helper.clock import Clock
    clock = Clock()
    from pynomad.structs import Lifecycle
    alloc = make_alloc([
        Task(Name="init", Driver="mock_driver", Config={"run_for": "30ms"},
             Lifecycle=Lifecycle(Hook="prestart")),
        Task(Name="side", Driver="mock_driver", Config={"run_for": "1h"},
             Lifecycle=Lifecycle(Hook="prestart", Sidecar=True)),
        Task(Name="main", Driver="mock_driver", Config={"run_for": "50ms"}),
        Task(Name="post", Driver="mock_driver", Config={"run_for": "10ms"},
             Lifecycle=Lifecycle(Hook="poststop")),
    ], job_type="batch")

    async def main():
        ar = AllocRunner(alloc=alloc, node=None, drivers=drivers(clock), config=client_config,
                         clock=clock)
        ar.start()
        await ar.wait()
        return ar
    ar = run(main())
    s = {n: tr.state for n, tr in ar.tasks.items()}
    assert event_time(s["main"], "Started") >= event_time(s["init"], "Terminated")
    assert event_time(s["main"], "Started") >= event_time(s["side"], "Started")
    assert event_time(s["post"], "Started") >= event_time(s["main"], "Terminated")
    assert "Main Tasks Dead" in types(s["side"])
    assert all(st.State == "dead" and not st.Failed for st in s.values())
    assert ar.client_status == "complete"


def test_restart_reattaches_instead_of_starting_twice(client_config, tmp_path):
    clock = FakeClock()
    marker = tmp_path / "starts"
    task = Task(Name="web", Driver="raw_exec",
                Config={"command": "/bin/sh",
                        "args": ["-c", f"echo x >> {marker}; sleep 0.6; exit 0"]})
    alloc = make_alloc([task], job_type="batch")
    db = StateDB(client_config.client_dir, fsync=False)

    async def first():
        ar = AllocRunner(alloc=alloc, node=None, drivers=drivers(clock), config=client_config,
                         clock=clock, db=db)
        ar.start()
        while ar.client_status != "running":
            await asyncio.sleep(0.01)
        await ar.shutdown()       # agent goes away; the task keeps running

    async def second():
        rec = db.get_all()[alloc.ID]
        assert rec.Tasks["web"].Handle is not None
        ar = AllocRunner(alloc=rec.Alloc, node=None, drivers=drivers(clock),
                         config=client_config, clock=clock, db=db, restored=rec.Tasks)
        ar.start()
        await ar.wait()
        return ar
    run(first())
    ar = run(second())
    st = ar.tasks["web"].state
    assert types(st).count("Started") == 1
    assert st.State == "dead" and not st.Failed
    assert _read(marker) == "x\n"
    assert ar.client_status == "complete"


def test_taskrunner_kill_before_start(client_config):
    clock = FakeClock()
    alloc = make_alloc([Task(Name="t", Driver="mock_driver", Config={"run_for": "1h"})])

    async def main():
        tr = TaskRunner(alloc=alloc, task=alloc.Job.TaskGroups[0].Tasks[0],
                        alloc_dir=AllocDir(client_config.alloc_root, alloc.ID),
                        driver=MockDriver(clock=clock), node=None, config=client_config,
                        clock=clock)
        runner = asyncio.ensure_future(tr.run())
        await tr.kill()
        await runner
        return tr
    tr = run(main())
    assert tr.state.State == "dead" and "Started" not in types(tr.state)


def test_restart_and_signal_requests(client_config):
    from pynomad.helper.clock import Clock
    alloc = make_alloc([Task(Name="t", Driver="mock_driver", Config={"run_for": "1h"})])

    async def main():
        ar = AllocRunner(alloc=alloc, node=None, drivers=drivers(None), config=client_config,
                         clock=Clock())
        ar.start()
        tr = ar.tasks["t"]
        while tr.state.State != "running":
            await asyncio.sleep(0.01)
        await ar.signal("SIGHUP", "t")
        await ar.restart("t")
        while types(tr.state).count("Started") < 2:
            await asyncio.sleep(0.01)
        await ar.stop()
        return tr.state
    st = run(main())
    t = types(st)
    assert "Signaling" in t and "Restart Signaled" in t
    assert t.count("Started") == 2 and st.Restarts == 1 and not st.Failed
    assert t[-1] == "Killed"
