"""POST /v1/search (Nomad's prefix search) against an in-memory state store."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.server.blocking import Watcher
from pynomad.state import StateStore
from pynomad.structs import Allocation, Deployment, Evaluation, Job, Node

EVAL = "abcd1111-0000-4000-8000-000000000001"
ALLOC = "abcd2222-0000-4000-8000-000000000002"
NODE = "abce3333-0000-4000-8000-000000000003"
DEP = "dddd4444-0000-4000-8000-000000000004"
PROD_EVAL = "abcd5555-0000-4000-8000-000000000005"


def make_state() -> StateStore:
    st = StateStore()
    for ns, job_id in [("default", "example"), ("default", "example-api"),
                       ("default", "web"), ("prod", "example")]:
        st.jobs[(ns, job_id)] = Job(ID=job_id, Name=job_id, Namespace=ns, NodePool="gpu")
    for i in range(25):
        st.jobs[("default", f"batch-{i:02d}")] = Job(ID=f"batch-{i:02d}", Namespace="default")
    st.put_eval(Evaluation(ID=EVAL, JobID="example", Namespace="default"))
    st.put_eval(Evaluation(ID=PROD_EVAL, JobID="example", Namespace="prod"))
    st.put_alloc(Allocation(ID=ALLOC, JobID="example", TaskGroup="g", NodeID=NODE))
    st.nodes[NODE] = Node(ID=NODE, Name="node-1")
    st.put_deployment(Deployment(ID=DEP, JobID="example"))
    st.notify(40, {"jobs", "evals", "allocs", "nodes", "deployment"})
    st.notify(42, {"evals"})
    return st


@pytest.fixture
def api():
    def runner(body):
        async def main():
            state = make_state()
            server = SimpleNamespace(state=state, watcher=Watcher(state))
            agent = SimpleNamespace(server=server, client=None, config=None)
            client = TestClient(TestServer(http_app(agent)))
            await client.start_server()
            try:
                await body(client)
            finally:
                await client.close()
        asyncio.run(main())
    return runner


async def search(client, prefix, context="all", status=200, method="POST", **params):
    resp = await client.request(method, "/v1/search", json={"Prefix": prefix, "Context": context},
                                params=params)
    text = await resp.text()
    assert resp.status == status, text
    return (await resp.json() if status == 200 else text), resp


def test_all_contexts_with_a_job_name(api):
    async def body(client):
        out, resp = await search(client, "example")
        m = out["Matches"]
        assert m["jobs"] == ["example", "example-api"]
        # "example" can't be a UUID prefix: the UUID-keyed contexts are left out, like Nomad
        assert not {"allocs", "evals", "nodes", "deployment"} & set(m)
        assert m["namespaces"] is None and m["plugins"] is None and m["volumes"] is None
        assert out["Truncations"]["jobs"] is False
        assert set(out["Truncations"]) == set(m)
        assert resp.headers["X-Nomad-Index"] == "42" and out["Index"] == 42
    api(body)


def test_uuid_prefixes_match_by_context_and_namespace(api):
    async def body(client):
        out, _ = await search(client, "abcd")
        m = out["Matches"]
        assert m["evals"] == [EVAL] and m["allocs"] == [ALLOC]
        assert m["nodes"] is None and m["deployment"] is None and m["jobs"] is None
        out, _ = await search(client, "abc")  # odd length: rounded down for the lookup
        assert out["Matches"]["nodes"] == [NODE] and out["Matches"]["evals"] == [EVAL]
        out, _ = await search(client, "abcd1111-00", "evals")
        assert out["Matches"] == {"evals": [EVAL]} and out["Truncations"] == {"evals": False}
        out, _ = await search(client, "abcd", "evals", namespace="prod")
        assert out["Matches"]["evals"] == [PROD_EVAL]
        out, _ = await search(client, "abcd", "evals", namespace="*")
        assert out["Matches"]["evals"] == [EVAL, PROD_EVAL]
        out, _ = await search(client, "dd", "deployment", method="PUT")
        assert out["Matches"]["deployment"] == [DEP]
        out, _ = await search(client, "zz", "evals")  # not hex: nothing, not an error
        assert out["Matches"] == {} and out["Truncations"] == {}
    api(body)


def test_at_most_twenty_matches_then_truncated(api):
    async def body(client):
        out, _ = await search(client, "batch-", "jobs")
        assert out["Matches"]["jobs"] == [f"batch-{i:02d}" for i in range(20)]
        assert out["Truncations"]["jobs"] is True
        out, _ = await search(client, "batch-2", "jobs")
        assert out["Matches"]["jobs"] == [f"batch-{i:02d}" for i in range(20, 25)]
        assert out["Truncations"]["jobs"] is False
    api(body)


def test_jobs_namespaces_and_node_pools(api):
    async def body(client):
        out, _ = await search(client, "ex", "jobs", namespace="prod")
        assert out["Matches"] == {"jobs": ["example"]}
        out, _ = await search(client, "ex", "jobs", namespace="*")
        assert out["Matches"]["jobs"] == ["example", "example-api", "example"]
        out, _ = await search(client, "pr", "namespaces")
        assert out["Matches"]["namespaces"] == ["prod"]
        out, _ = await search(client, "", "node_pools")
        assert out["Matches"]["node_pools"] == ["all", "default", "gpu"]
    api(body)


def test_bad_search_requests(api):
    async def body(client):
        text, _ = await search(client, "ex", "bogus", status=400)
        assert "context must be one of" in text and '"bogus"' in text
        text, _ = await search(client, "ex", "", status=400)
        resp = await client.post("/v1/search", data=b"")
        assert resp.status == 400
        resp = await client.post("/v1/search", data=b"{not json")
        assert resp.status == 400
        resp = await client.post("/v1/search", json={"Prefix": 5, "Context": "jobs"})
        assert resp.status == 400
        resp = await client.get("/v1/search")
        assert resp.status == 405
    api(body)
