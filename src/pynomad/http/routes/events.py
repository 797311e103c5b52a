"""/v1/event/stream: Nomad's event stream as newline-delimited JSON.

Query: `topic` (repeatable, `Topic[:FilterKey]`, default `*:*`), `index` (start from the
first buffered frame at or after it; 0: the whole backlog) and `namespace` (default
`default`; `*` all). Frames are `{"Index": N, "Events": [...]}`, one per line, with `{}`
heartbeats every HEARTBEAT_S seconds; the stream lasts until the client disconnects (or the
server drops a subscriber that cannot keep up).

ACLs (checked here, per topic, as Nomad's event endpoint does): `*` and unknown topics need
a management token; Job, Allocation, Deployment, Evaluation and Service need `read-job` in
the namespace (`*`: a policy that applies to all namespaces); Node needs `node:read`.
"""

from __future__ import annotations

from aiohttp import web

from ...server.errors import BadRequest, Forbidden
from ...server.event_broker import SubscriptionClosed, parse_topics
from ..acl_enforce import PERMISSION_DENIED, request_acl
from ..common import AGENT

HEARTBEAT_S = 10.0
NAMESPACED_TOPICS = ("Job", "Allocation", "Deployment", "Evaluation", "Service")


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/event/stream")
    async def event_stream(request):
        server = request.app[AGENT].server
        q = request.query
        try:
            topics = parse_topics(q.getall("topic", []))
            index = int(q.get("index") or 0)
        except ValueError as err:
            raise BadRequest(str(err)) from None
        namespace = q.get("namespace") or request.headers.get("X-Nomad-Namespace") or "default"
        _check_acl(request, topics, namespace)
        sub = server.events.subscribe(topics, namespace, index)
        try:
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            await resp.prepare(request)
            await _pump(request, resp, sub)
        finally:
            server.events.unsubscribe(sub)
        return resp


def _check_acl(request: web.Request, topics: dict[str, set[str]], namespace: str) -> None:
    acl = request_acl(request)
    if acl.management:
        return
    for topic in topics:
        if topic in NAMESPACED_TOPICS and namespace == "*":
            # a policy that applies to all namespaces, not just to some
            caps = acl.namespaces.get("*", set())
            allowed = "read-job" in caps and "deny" not in caps
        elif topic in NAMESPACED_TOPICS:
            allowed = acl.allow_ns_op(namespace, "read-job")
        elif topic == "Node":
            allowed = acl.allow("node", "read")
        else:
            allowed = False
        if not allowed:
            raise Forbidden(PERMISSION_DENIED)


async def _pump(request: web.Request, resp: web.StreamResponse, sub) -> None:
    try:
        while True:
            frame = await sub.next(HEARTBEAT_S)
            if frame is None:
                if request.transport is None or request.transport.is_closing():
                    return
                await resp.write(b"{}\n")
                continue
            chunks, closed = [frame.encode()], False
            try:
                while (frame := sub.next_nowait()) is not None:
                    chunks.append(frame.encode())
            except SubscriptionClosed:
                closed = True
            await resp.write(b"".join(chunks))
            if closed:
                return
    except SubscriptionClosed:
        return
    except (ConnectionError, RuntimeError):
        return
