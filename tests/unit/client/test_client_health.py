"""Deployment health: the pure tracker (client/health.py), its wiring in the alloc runner,
and the node simulator's light runner."""

import asyncio

import msgspec
from client_helpers import FakeClock, make_alloc

from pynomad.client.allocrunner import AllocRunner
from pynomad.client.health import (HealthParams, Tracker, health_params, tracked_tasks)
from pynomad.drivers.mock import MockDriver
from pynomad.structs import (SECOND, AllocDeploymentStatus, Lifecycle, Node, RestartPolicy,
                             Task, TaskState, UpdateStrategy)
from pynomad.tools.simnode import SimNode

PARAMS = HealthParams(min_healthy_time=10 * SECOND, healthy_deadline=60 * SECOND)


class Now:
    """A monotonic clock in seconds that tests move by hand."""

    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def running(started="2024-01-01T00:00:00Z", restarts=0):
    return TaskState(State="running", StartedAt=started, Restarts=restarts)


def pending(restarts=0):
    return TaskState(State="pending", Restarts=restarts)


def deploy_alloc(tasks=None, deployment="d1", update=None, **kw):
    alloc = make_alloc(tasks or [Task(Name="web", Driver="mock_driver",
                                      Config={"run_for": "1h"})], **kw)
    alloc.DeploymentID = deployment
    tg = alloc.Job.TaskGroups[0]
    for name, value in (update or {}).items():
        setattr(tg.Update, name, value)
    return alloc


# -- the pure tracker ---------------------------------------------------------------------
def test_healthy_after_min_healthy_time():
    now = Now()
    tr = Tracker(PARAMS, ["web"], now)
    assert tr.observe({"web": pending()}) is None
    now.t += 5
    assert tr.observe({"web": running()}) is None
    assert tr.next_check() == now.t + 10
    now.t += 9.5
    assert tr.check() is None
    now.t += 0.5
    assert tr.check() is True and tr.healthy is True
    assert tr.next_check() is None and tr.task_events() == {}


def test_every_task_must_run_for_min_healthy_time():
    now = Now()
    tr = Tracker(PARAMS, ["a", "b"], now)
    tr.observe({"a": running(), "b": pending()})
    now.t += 8
    tr.observe({"a": running(), "b": running()})
    now.t += 9
    assert tr.check() is None
    now.t += 1
    assert tr.check() is True


def test_restart_resets_the_wait():
    now = Now()
    tr = Tracker(PARAMS, ["web"], now)
    tr.observe({"web": running()})
    now.t += 8
    assert tr.observe({"web": pending(restarts=1)}) is None
    assert tr.next_check() == tr.deadline
    now.t += 1
    tr.observe({"web": running("2024-01-01T00:00:09Z", restarts=1)})
    now.t += 9
    assert tr.check() is None
    now.t += 1
    assert tr.check() is True


def test_restart_seen_only_as_a_new_start_resets_the_wait():
    now = Now()
    tr = Tracker(PARAMS, ["web"], now)
    tr.observe({"web": running()})
    now.t += 8
    tr.observe({"web": running(restarts=1)})
    now.t += 2
    assert tr.check() is None
    now.t += 8
    assert tr.check() is True


def test_failed_task_is_unhealthy():
    now = Now()
    tr = Tracker(PARAMS, ["web", "db"], now)
    tr.observe({"web": running(), "db": running()})
    now.t += 3
    st = TaskState(State="pending", Failed=True)
    assert tr.observe({"web": st, "db": running()}) is False
    assert tr.task_events() == {"web": "Unhealthy because of failed task"}
    now.t += 100
    assert tr.observe({"web": running(), "db": running()}) is False  # decided for good


def test_dead_task_is_unhealthy():
    tr = Tracker(PARAMS, ["web"], Now())
    dead = TaskState(State="dead", Failed=True, FinishedAt="2024-01-01T00:00:01Z")
    assert tr.observe({"web": dead}) is False


def test_failed_alloc_is_unhealthy_without_task_events():
    tr = Tracker(PARAMS, ["web"], Now())
    assert tr.observe({"web": running()}, client_status="failed") is False
    assert tr.task_events() == {}


def test_deadline_before_running_is_unhealthy():
    now = Now()
    tr = Tracker(PARAMS, ["web"], now)
    tr.observe({"web": pending()})
    now.t += 59
    assert tr.check() is None
    now.t += 1
    assert tr.check() is False
    assert tr.task_events() == {"web": "Task not running by deadline"}


def test_deadline_before_min_healthy_time_is_unhealthy():
    now = Now()
    tr = Tracker(PARAMS, ["web"], now)
    now.t += 55
    tr.observe({"web": running()})
    assert tr.next_check() == tr.deadline
    now.t += 5
    assert tr.check() is False
    assert tr.task_events() == {
        "web": "Task not running for min_healthy_time of 10s by deadline"}


def test_healthy_if_min_healthy_time_passed_before_a_late_check():
    now = Now()
    tr = Tracker(PARAMS, ["web"], now)
    tr.observe({"web": running()})
    now.t += 500   # both times passed; min_healthy_time came first
    assert tr.check() is True


def test_zero_min_healthy_time_is_healthy_once_running():
    tr = Tracker(HealthParams(min_healthy_time=0), ["web"], Now())
    assert tr.observe({"web": running()}) is True


def test_lifecycle_tasks_that_run_to_completion_are_ignored():
    tasks = [Task(Name="init", Lifecycle=Lifecycle(Hook="prestart")),
             Task(Name="side", Lifecycle=Lifecycle(Hook="prestart", Sidecar=True)),
             Task(Name="main"), Task(Name="post", Lifecycle=Lifecycle(Hook="poststop"))]
    assert tracked_tasks(tasks) == ["side", "main"]
    now = Now()
    tr = Tracker(PARAMS, tracked_tasks(tasks), now)
    done = TaskState(State="dead", FinishedAt="2024-01-01T00:00:01Z")
    tr.observe({"init": done, "side": running(), "main": running(), "post": pending()})
    now.t += 10
    assert tr.check() is True


def test_health_params_from_the_update_block():
    alloc = deploy_alloc(update={"MinHealthyTime": 3 * SECOND, "HealthyDeadline": 9 * SECOND,
                                 "HealthCheck": "task_states"})
    assert health_params(alloc) == HealthParams(3 * SECOND, 9 * SECOND)
    alloc.Job.TaskGroups[0].Update = UpdateStrategy(MaxParallel=1)
    assert health_params(alloc) == HealthParams(10 * SECOND, 300 * SECOND)


def test_health_params_from_the_migrate_block_without_a_deployment():
    alloc = deploy_alloc(deployment="")
    assert health_params(alloc) == HealthParams(10 * SECOND, 300 * SECOND, deployment=False)
    migrate = alloc.Job.TaskGroups[0].Migrate
    migrate.MinHealthyTime, migrate.HealthyDeadline = 2 * SECOND, 7 * SECOND
    alloc.Job.TaskGroups[0].Update.MinHealthyTime = 30 * SECOND   # not the update block's
    assert health_params(alloc) == HealthParams(2 * SECOND, 7 * SECOND, deployment=False)
    alloc.Job.TaskGroups[0].Migrate = None
    assert health_params(alloc) == HealthParams(10 * SECOND, 300 * SECOND, deployment=False)


def test_untracked_allocs():
    assert health_params(deploy_alloc(update={"HealthCheck": "checks"})) is not None
    # a service alloc outside a deployment is tracked by its migrate block ...
    assert health_params(deploy_alloc(deployment="")) is not None
    manual = deploy_alloc(deployment="")
    manual.Job.TaskGroups[0].Migrate.HealthCheck = "manual"
    assert health_params(manual) is None
    # ... a batch alloc outside a deployment is not
    assert health_params(deploy_alloc(deployment="", job_type="batch")) is None
    assert health_params(deploy_alloc(update={"HealthCheck": "manual"})) is None
    assert health_params(deploy_alloc(update={"MaxParallel": 0})) is None
    batch = deploy_alloc(job_type="batch")
    assert batch.Job.TaskGroups[0].Update is None and health_params(batch) is None
    decided = deploy_alloc()
    decided.DeploymentStatus = AllocDeploymentStatus(Healthy=True)
    assert health_params(decided) is None
    undecided = deploy_alloc()
    undecided.DeploymentStatus = AllocDeploymentStatus(Canary=True)
    assert health_params(undecided) is not None


# -- the alloc runner ---------------------------------------------------------------------
class ManualClock(FakeClock):
    """Virtual time that moves only when the test calls `advance`; sleepers wake then."""

    def __init__(self):
        super().__init__()
        self._sleepers: list[tuple[float, asyncio.Future]] = []

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        for due, fut in self._sleepers:
            if due <= self.mono and not fut.done():
                fut.set_result(None)
        self._sleepers = [(d, f) for d, f in self._sleepers if not f.done()]

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.mono + seconds, fut))
        await fut


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def until(pred):
    while not pred():
        await asyncio.sleep(0.005)


async def settle():
    for _ in range(20):
        await asyncio.sleep(0)


class Harness:
    def __init__(self, alloc, config):
        self.clock = ManualClock()
        self.updates = 0
        self.ar = AllocRunner(alloc=alloc, node=None, drivers={"mock_driver": MockDriver()},
                              config=config, clock=self.clock, on_update=self._on_update)

    def _on_update(self, ar):
        self.updates += 1

    def health(self):
        return self.ar.client_alloc().DeploymentStatus

    async def start_running(self):
        self.ar.start()
        await until(lambda: self.ar.client_status == "running")

    async def stop(self):
        await self.ar.stop()


def test_runner_reports_healthy_after_min_healthy_time(client_config):
    async def main():
        h = Harness(deploy_alloc(), client_config)
        await h.start_running()
        h.clock.advance(9)
        await settle()
        assert h.health() is None
        seen = h.updates
        h.clock.advance(1)
        await until(lambda: h.health() is not None)
        status = h.health()
        assert status.Healthy is True and status.Timestamp.endswith("Z")
        assert status.Timestamp.startswith("2023-11-14T22:")   # the clock's wall time
        assert h.updates > seen
        await h.stop()
        assert h.health().Healthy is True     # set once: stopping does not change it
    run(main())


def test_runner_restart_resets_the_wait(client_config):
    async def main():
        h = Harness(deploy_alloc(), client_config)
        await h.start_running()
        h.clock.advance(6)
        await settle()
        await h.ar.restart("web")
        tr = h.ar.tasks["web"]
        await until(lambda: tr.state.Restarts == 1 and tr.state.State == "running")
        h.clock.advance(6)
        await settle()
        assert h.health() is None
        h.clock.advance(4)
        await until(lambda: h.health() is not None)
        assert h.health().Healthy is True
        await h.stop()
    run(main())


def test_runner_failed_task_is_unhealthy(client_config):
    alloc = deploy_alloc([Task(Name="web", Driver="mock_driver",
                               Config={"run_for": "10ms", "exit_code": 1})],
                         restart=RestartPolicy(Attempts=0, Interval=60 * SECOND, Delay=SECOND,
                                               Mode="fail"))

    async def main():
        h = Harness(alloc, client_config)
        h.ar.start()
        await h.ar.wait()
        return h
    h = run(main())
    assert h.health().Healthy is False
    events = [e for e in h.ar.tasks["web"].state.Events if e.Type == "Alloc Unhealthy"]
    assert [e.DisplayMessage for e in events] == ["Unhealthy because of failed task"]


def test_runner_deadline_is_unhealthy(client_config):
    alloc = deploy_alloc(update={"MinHealthyTime": 30 * SECOND,
                                 "HealthyDeadline": 20 * SECOND})

    async def main():
        h = Harness(alloc, client_config)
        await h.start_running()
        h.clock.advance(20)
        await until(lambda: h.health() is not None)
        assert h.health().Healthy is False
        assert h.ar.tasks["web"].state.Events[-1].DisplayMessage == \
            "Task not running for min_healthy_time of 30s by deadline"
        await h.stop()
    run(main())


def test_runner_reports_migrate_health_without_deployment(client_config):
    alloc = deploy_alloc(deployment="")
    alloc.Job.TaskGroups[0].Migrate.MinHealthyTime = 3 * SECOND

    async def main():
        h = Harness(alloc, client_config)
        await h.start_running()
        assert h.ar.health is not None
        h.clock.advance(2)
        await settle()
        assert h.health() is None
        h.clock.advance(1)
        await until(lambda: h.health() is not None)
        assert h.health().Healthy is True
        await h.stop()
    run(main())


def test_runner_unhealthy_without_deployment_has_no_task_event(client_config):
    """Nomad's SetHealth explains only a deployment's unhealthy allocs in task events."""
    alloc = deploy_alloc([Task(Name="web", Driver="mock_driver",
                               Config={"run_for": "10ms", "exit_code": 1})], deployment="",
                         restart=RestartPolicy(Attempts=0, Interval=60 * SECOND, Delay=SECOND,
                                               Mode="fail"))

    async def main():
        h = Harness(alloc, client_config)
        h.ar.start()
        await h.ar.wait()
        return h
    h = run(main())
    assert h.health().Healthy is False
    assert not [e for e in h.ar.tasks["web"].state.Events if e.Type == "Alloc Unhealthy"]


def test_runner_never_sets_health_for_manual_or_batch_without_deployment(client_config):
    async def main(alloc):
        h = Harness(alloc, client_config)
        await h.start_running()
        assert h.ar.health is None
        for _ in range(4):
            h.clock.advance(400)
            await settle()
        assert h.health() is None
        await h.stop()
        assert h.health() is None
    run(main(deploy_alloc(update={"HealthCheck": "manual"})))
    run(main(deploy_alloc(deployment="", job_type="batch")))


def test_runner_tracks_again_for_a_new_deployment(client_config):
    async def main():
        alloc = deploy_alloc()
        h = Harness(alloc, client_config)
        await h.start_running()
        h.clock.advance(10)
        await until(lambda: h.health() is not None)
        # a newer version of the alloc in the same deployment keeps the decision
        h.ar.update(msgspec.structs.replace(alloc, AllocModifyIndex=5))
        assert h.health().Healthy is True
        # an in-place update into a new deployment clears it and tracks it again
        h.ar.update(msgspec.structs.replace(alloc, AllocModifyIndex=6, DeploymentID="d2",
                                            DeploymentStatus=None))
        assert h.health() is None
        h.clock.advance(9)
        await settle()
        assert h.health() is None
        h.clock.advance(1)
        await until(lambda: h.health() is not None)
        assert h.health().Healthy is True
        await h.stop()
    run(main())


def test_runner_stops_tracking_when_stopped_or_health_set_on_server(client_config):
    async def main():
        alloc = deploy_alloc()
        h = Harness(alloc, client_config)
        await h.start_running()
        h.ar.update(msgspec.structs.replace(
            alloc, AllocModifyIndex=5,
            DeploymentStatus=AllocDeploymentStatus(Healthy=False)))
        assert h.ar.health is None
        h.clock.advance(10)
        await settle()
        assert h.health() is None
        h.ar.update(msgspec.structs.replace(alloc, AllocModifyIndex=6, DeploymentID="d2"))
        assert h.ar.health is not None
        h.ar.update(msgspec.structs.replace(alloc, AllocModifyIndex=7, DeploymentID="d2",
                                            DesiredStatus="stop"))
        await h.ar.wait()
        assert h.health() is None
    run(main())


# -- the node simulator -------------------------------------------------------------------
class ListSyncer:
    def __init__(self):
        self.sent = []

    def update(self, alloc):
        self.sent.append(alloc)

    def health(self, alloc_id):
        return [a.DeploymentStatus for a in self.sent
                if a.ID == alloc_id and a.DeploymentStatus is not None]


def sim_alloc(config, deployment="d1", min_healthy=50 * 10**6, job_type="service"):
    alloc = deploy_alloc([Task(Name="web", Driver="mock_driver", Config=config)],
                         deployment=deployment, job_type=job_type)
    tg = alloc.Job.TaskGroups[0]
    if tg.Update is not None:
        tg.Update.MinHealthyTime = min_healthy
    alloc.AllocModifyIndex = 1
    return alloc


def test_simnode_reports_health():
    async def main():
        syncer = ListSyncer()
        node = SimNode(Node(ID="n1"), rpc=None, syncer=syncer)
        ok = sim_alloc({"run_for": 0})
        node._apply(ok)
        assert syncer.sent[-1].ClientStatus == "running" and not syncer.health(ok.ID)
        await until(lambda: syncer.health(ok.ID))
        last = syncer.sent[-1]
        assert last.ClientStatus == "running" and last.DeploymentStatus.Healthy is True
        assert last.TaskStates == syncer.sent[0].TaskStates

        # in-place update into a new deployment: healthy again
        moved = msgspec.structs.replace(ok, AllocModifyIndex=2, DeploymentID="d2",
                                        ClientStatus="running", TaskStates=last.TaskStates)
        node._apply(moved)
        await until(lambda: len(syncer.health(ok.ID)) == 2)
        assert syncer.sent[-1].DeploymentStatus.Healthy is True

        failing = sim_alloc({"run_for": "10ms", "exit_code": 1}, min_healthy=10 * SECOND)
        node._apply(failing)
        await until(lambda: syncer.health(failing.ID))
        assert syncer.sent[-1].ClientStatus == "failed"
        assert syncer.health(failing.ID) == [syncer.sent[-1].DeploymentStatus]
        assert syncer.sent[-1].DeploymentStatus.Healthy is False

        # a service alloc outside a deployment: health by its migrate block
        migrating = sim_alloc({"run_for": 0}, deployment="")
        migrating.Job.TaskGroups[0].Migrate.MinHealthyTime = 50 * 10**6
        node._apply(migrating)
        await until(lambda: syncer.health(migrating.ID))
        assert syncer.sent[-1].ClientStatus == "running"
        assert syncer.health(migrating.ID)[0].Healthy is True

        plain = sim_alloc({"run_for": "10ms"}, deployment="", job_type="batch")
        node._apply(plain)
        manual = sim_alloc({"run_for": "20ms"})
        manual.Job.TaskGroups[0].Update.HealthCheck = "manual"
        node._apply(manual)
        await until(lambda: all(any(a.ID == x.ID and a.ClientStatus == "complete"
                                    for a in syncer.sent) for x in (plain, manual)))
        assert not syncer.health(plain.ID) and not syncer.health(manual.ID)
        assert not node.health and not node.health_timers
    run(main())
