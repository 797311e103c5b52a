"""The deployment routes of the /v1 HTTP API, against an in-memory state store and a fake
deployment endpoint (the real endpoint is tested on its own)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.server.blocking import Watcher
from pynomad.server.errors import BadRequest, NotFound
from pynomad.state import StateStore
from pynomad.structs import (AllocDeploymentStatus, Allocation, Deployment, DeploymentState,
                             Job)

D1 = "aaaa1111-0000-4000-8000-000000000001"
D2 = "bbbb2222-0000-4000-8000-000000000002"
D3 = "aabb3333-0000-4000-8000-000000000003"
OTHER = "cccc4444-0000-4000-8000-000000000004"


class FakeDeployments:
    """Stands in for server.deployments: records calls, answers like the real endpoint."""

    def __init__(self, known: set[str]):
        self.known = known
        self.calls: list[tuple] = []

    def _reply(self, dep_id: str, **extra) -> dict:
        if dep_id not in self.known:
            raise NotFound("deployment not found")
        return {"EvalID": "eval-1", "EvalCreateIndex": 50, "DeploymentModifyIndex": 50,
                "Index": 50, **extra}

    async def pause(self, deployment_id: str, pause: bool) -> dict:
        self.calls.append(("pause", deployment_id, pause))
        return self._reply(deployment_id)

    async def promote(self, deployment_id: str, all_groups: bool, groups: list[str]) -> dict:
        self.calls.append(("promote", deployment_id, all_groups, groups))
        if groups and "nope" in groups:
            raise BadRequest('Deployment does not include task group "nope"')
        return self._reply(deployment_id)

    async def fail(self, deployment_id: str) -> dict:
        self.calls.append(("fail", deployment_id))
        return self._reply(deployment_id, RevertedJobVersion=1)

    async def set_alloc_health(self, deployment_id: str, healthy: list[str],
                               unhealthy: list[str]) -> dict:
        self.calls.append(("health", deployment_id, healthy, unhealthy))
        return self._reply(deployment_id)


def make_state() -> StateStore:
    st = StateStore()
    st.jobs[("default", "web")] = Job(ID="web", Name="web", CreateIndex=5)
    st.put_deployment(Deployment(
        ID=D1, JobID="web", JobVersion=0, JobCreateIndex=1, CreateIndex=10, ModifyIndex=10,
        Status="successful", TaskGroups={"g": DeploymentState(DesiredTotal=1)}))
    st.put_deployment(Deployment(
        ID=D2, JobID="web", JobVersion=1, JobCreateIndex=5, CreateIndex=20, ModifyIndex=21,
        TaskGroups={"g": DeploymentState(DesiredCanaries=1, DesiredTotal=3,
                                         PlacedCanaries=["a1"], PlacedAllocs=1)}))
    st.put_deployment(Deployment(ID=D3, JobID="web", JobVersion=2, JobCreateIndex=5,
                                 CreateIndex=15, ModifyIndex=15, Status="cancelled"))
    st.put_deployment(Deployment(ID=OTHER, Namespace="prod", JobID="api", CreateIndex=30,
                                 ModifyIndex=30))
    st.put_alloc(Allocation(ID="a1", Name="web.g[0]", JobID="web", TaskGroup="g", EvalID="e1",
                            NodeID="n1", DeploymentID=D2, CreateIndex=22, ModifyIndex=23,
                            DeploymentStatus=AllocDeploymentStatus(Healthy=True, Canary=True,
                                                                   ModifyIndex=23)))
    st.put_alloc(Allocation(ID="a2", Name="web.g[1]", JobID="web", TaskGroup="g", EvalID="e1",
                            NodeID="n1", DeploymentID=D1, CreateIndex=11, ModifyIndex=11))
    st.notify(30, {"deployment", "allocs", "jobs"})
    return st


@pytest.fixture
def api():
    """`api(body)`: serve the HTTP app over a fake agent, await `body(client, server)`."""
    def runner(body):
        async def main():
            state = make_state()
            server = SimpleNamespace(state=state, watcher=Watcher(state),
                                     deployments=FakeDeployments(set(state.deployments)))
            agent = SimpleNamespace(server=server, client=None, config=None)
            client = TestClient(TestServer(http_app(agent)))
            await client.start_server()
            try:
                await body(client, server)
            finally:
                await client.close()
        asyncio.run(main())
    return runner


async def get_json(client, path, status=200, **params):
    resp = await client.get(path, params=params)
    assert resp.status == status, await resp.text()
    return await resp.json(), resp


def ids(items):
    return [d["ID"] for d in items]


def test_list_deployments_chronological_namespaced_and_prefix(api):
    async def body(client, server):
        deps, resp = await get_json(client, "/v1/deployments")
        assert ids(deps) == [D1, D3, D2]          # default namespace, oldest first
        assert resp.headers["X-Nomad-Index"] == "30"
        assert deps[2]["TaskGroups"]["g"]["DesiredCanaries"] == 1
        assert set(deps[0]) >= {"ID", "Namespace", "JobID", "JobVersion", "JobModifyIndex",
                                "JobSpecModifyIndex", "JobCreateIndex", "TaskGroups", "Status",
                                "StatusDescription", "CreateIndex", "ModifyIndex"}
        deps, _ = await get_json(client, "/v1/deployments", namespace="*")
        assert ids(deps) == [D1, D3, D2, OTHER]
        deps, _ = await get_json(client, "/v1/deployments", namespace="prod")
        assert ids(deps) == [OTHER]
        deps, _ = await get_json(client, "/v1/deployments", reverse="true")
        assert ids(deps) == [D2, D3, D1]
        # with a prefix: ordered by ID; hyphens are ignored as Nomad's UUID index does
        deps, _ = await get_json(client, "/v1/deployments", prefix="aa")
        assert ids(deps) == [D1, D3]
        deps, _ = await get_json(client, "/v1/deployments", prefix="aaaa11110000")
        assert ids(deps) == [D1]
        deps, _ = await get_json(client, "/v1/deployments", prefix="aaaa1111-00")
        assert ids(deps) == [D1]
        deps, _ = await get_json(client, "/v1/deployments", prefix="cccc")
        assert deps == []
        deps, _ = await get_json(client, "/v1/deployments", prefix="cccc", namespace="*")
        assert ids(deps) == [OTHER]
    api(body)


def test_list_deployments_bad_prefix_and_paging(api):
    async def body(client, server):
        for bad in ("aaa", "zz", "a" * 40):
            resp = await client.get("/v1/deployments", params={"prefix": bad})
            assert resp.status == 400
            assert "\n" not in (await resp.text()).strip()
        deps, resp = await get_json(client, "/v1/deployments", per_page="2")
        assert ids(deps) == [D1, D3]
        token = resp.headers["X-Nomad-NextToken"]
        assert token == f"20.{D2}"
        deps, resp = await get_json(client, "/v1/deployments", per_page="2", next_token=token)
        assert ids(deps) == [D2] and "X-Nomad-NextToken" not in resp.headers
        resp = await client.get("/v1/deployments", params={"per_page": "x"})
        assert resp.status == 400
    api(body)


def test_list_deployments_blocking_query_wakes_on_change(api):
    async def body(client, server):
        waiting = asyncio.ensure_future(
            get_json(client, "/v1/deployments", index="30", wait="60s"))
        await asyncio.sleep(0)
        new_id = "dddd5555-0000-4000-8000-000000000005"
        server.state.put_deployment(Deployment(ID=new_id, JobID="web", CreateIndex=31,
                                               ModifyIndex=31))
        server.state.notify(31, {"deployment"})
        deps, resp = await waiting
        assert resp.headers["X-Nomad-Index"] == "31"
        assert ids(deps)[-1] == new_id
    api(body)


def test_get_deployment_and_404(api):
    async def body(client, server):
        dep, resp = await get_json(client, f"/v1/deployment/{D2}")
        assert dep["ID"] == D2 and dep["JobVersion"] == 1 and dep["Status"] == "running"
        assert dep["TaskGroups"]["g"]["PlacedCanaries"] == ["a1"]
        assert resp.headers["X-Nomad-Index"] == "30"
        resp = await client.get("/v1/deployment/aaaa1111")
        assert resp.status == 404 and (await resp.text()) == "deployment not found"
    api(body)


def test_deployment_allocations_are_stubs_with_deployment_status(api):
    async def body(client, server):
        allocs, _ = await get_json(client, f"/v1/deployment/allocations/{D2}")
        assert ids(allocs) == ["a1"]
        assert allocs[0]["DeploymentStatus"] == {"Healthy": True, "Canary": True,
                                                 "ModifyIndex": 23,
                                                 "Timestamp": "0001-01-01T00:00:00Z"}
        assert allocs[0]["TaskGroup"] == "g" and "Job" not in allocs[0]
        allocs, _ = await get_json(client, f"/v1/deployment/allocations/{D1}")
        assert ids(allocs) == ["a2"] and allocs[0]["DeploymentStatus"] is None
        allocs, _ = await get_json(client, "/v1/deployment/allocations/unknown")
        assert allocs == []
    api(body)


def test_job_deployments_newest_first_and_all(api):
    async def body(client, server):
        deps, _ = await get_json(client, "/v1/job/web/deployments")
        assert ids(deps) == [D2, D3]              # D1 belongs to an earlier "web" job
        deps, _ = await get_json(client, "/v1/job/web/deployments", all="true")
        assert ids(deps) == [D2, D3, D1]
        deps, _ = await get_json(client, "/v1/job/api/deployments", namespace="prod")
        assert ids(deps) == [OTHER]
        deps, _ = await get_json(client, "/v1/job/missing/deployments")
        assert deps == []
    api(body)


def test_job_latest_deployment_or_null(api):
    async def body(client, server):
        dep, resp = await get_json(client, "/v1/job/web/deployment")
        assert dep["ID"] == D2 and resp.headers["X-Nomad-Index"] == "30"
        dep, _ = await get_json(client, "/v1/job/missing/deployment")
        assert dep is None
        dep, _ = await get_json(client, "/v1/job/api/deployment")
        assert dep is None                        # "api" lives in another namespace
        dep, _ = await get_json(client, "/v1/job/api/deployment", namespace="prod")
        assert dep["ID"] == OTHER
    api(body)


def test_pause_promote_fail_health_call_the_endpoint(api):
    async def body(client, server):
        calls = server.deployments.calls
        resp = await client.post(f"/v1/deployment/pause/{D2}",
                                 json={"DeploymentID": D2, "Pause": True})
        assert resp.status == 200 and resp.headers["X-Nomad-Index"] == "50"
        assert (await resp.json())["EvalID"] == "eval-1"
        resp = await client.put(f"/v1/deployment/pause/{D2}",
                                json={"DeploymentID": D2, "Pause": False, "Region": "global"})
        assert resp.status == 200
        resp = await client.post(f"/v1/deployment/promote/{D2}",
                                 json={"DeploymentID": D2, "All": True})
        assert resp.status == 200
        resp = await client.post(f"/v1/deployment/promote/{D2}",
                                 json={"DeploymentID": D2, "Groups": ["g"]})
        assert resp.status == 200
        resp = await client.post(f"/v1/deployment/fail/{D2}")
        assert resp.status == 200 and (await resp.json())["RevertedJobVersion"] == 1
        resp = await client.post(f"/v1/deployment/fail/{D2}", json={"DeploymentID": D2})
        assert resp.status == 200
        resp = await client.post(f"/v1/deployment/allocation-health/{D2}",
                                 json={"DeploymentID": D2, "HealthyAllocationIDs": ["a1"]})
        assert resp.status == 200
        resp = await client.post(f"/v1/deployment/allocation-health/{D2}",
                                 json={"DeploymentID": D2, "UnhealthyAllocationIDs": ["a1"]})
        assert resp.status == 200
        assert calls == [("pause", D2, True), ("pause", D2, False),
                         ("promote", D2, True, []), ("promote", D2, False, ["g"]),
                         ("fail", D2), ("fail", D2),
                         ("health", D2, ["a1"], []), ("health", D2, [], ["a1"])]
    api(body)


@pytest.mark.parametrize("path,body,reason", [
    ("pause", None, "Request body is empty"),
    ("pause", "{not json", "Failed to parse request body"),
    ("pause", [1, 2], "Failed to decode request body"),
    ("pause", {"DeploymentID": D2, "Pause": "yes"}, "Failed to decode request body"),
    ("pause", {"Pause": True}, "DeploymentID must be specified"),
    ("pause", {"DeploymentID": D1, "Pause": True}, "Deployment ID does not match"),
    ("promote", {"DeploymentID": D2, "Groups": "g"}, "Failed to decode request body"),
    ("promote", {"DeploymentID": D2, "All": 1}, "Failed to decode request body"),
    ("promote", {"DeploymentID": D1, "All": True}, "Deployment ID does not match"),
    ("promote", {"DeploymentID": D2, "Groups": ["nope"]}, "does not include task group"),
    ("fail", {"DeploymentID": D1}, "Deployment ID does not match"),
    ("fail", "{oops", "Failed to parse request body"),
    ("allocation-health", {"DeploymentID": D2, "HealthyAllocationIDs": [1]},
     "Failed to decode request body"),
    ("allocation-health", {"DeploymentID": D1, "HealthyAllocationIDs": ["a1"]},
     "Deployment ID does not match"),
])
def test_write_routes_reject_bad_input_with_400(api, path, body, reason):
    async def run(client, server):
        kwargs = {"data": body} if isinstance(body, str) or body is None else {"json": body}
        resp = await client.post(f"/v1/deployment/{path}/{D2}", **kwargs)
        text = await resp.text()
        assert resp.status == 400, text
        assert reason in text and "\n" not in text.strip()
        if "does not include" not in reason:
            assert server.deployments.calls == []
    api(run)


def test_write_routes_unknown_deployment_404_and_wrong_method(api):
    async def body(client, server):
        resp = await client.post(f"/v1/deployment/fail/{OTHER[:-1]}9")
        assert resp.status == 404 and "deployment not found" in await resp.text()
        missing = "eeee0000-0000-4000-8000-000000000000"
        resp = await client.post(f"/v1/deployment/pause/{missing}",
                                 json={"DeploymentID": missing, "Pause": True})
        assert resp.status == 404
        resp = await client.get(f"/v1/deployment/pause/{D2}")
        assert resp.status == 405
        resp = await client.delete(f"/v1/deployment/{D2}")
        assert resp.status == 405
    api(body)
