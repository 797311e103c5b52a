"""/v1/vars (GET) and /v1/var/:path (GET, PUT, DELETE): Nomad Variables.

ACLs are checked here (their `RULES` entries are `SELF`), because a variable capability
depends on the path as well as the namespace: list needs `list` on each path returned,
read `read`, write `write`, delete `destroy`. A CAS conflict answers 409 with the current
variable, without its items unless the token may also read it (as Nomad).
"""

from __future__ import annotations

from aiohttp import web

from ...acl.variables import allow_variable_op, allow_variable_search
from ...server.errors import BadRequest, Forbidden
from ...server.variables_endpoint import ApplyResult, variables_endpoint
from ...structs.variables import Variable
from ..acl_enforce import PERMISSION_DENIED, request_acl
from ..common import AGENT, decode_body, query_options, reply

TABLE = ("variables",)


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/vars")
    async def list_variables(request):
        server, q = request.app[AGENT].server, query_options(request)
        acl = request_acl(request)
        if not allow_variable_search(acl, q.namespace):
            raise Forbidden(PERMISSION_DENIED)
        index = await server.watcher.wait(TABLE, q.index, q.wait)
        found = [v for v in variables_endpoint(server).list(q.namespace, q.prefix)
                 if allow_variable_op(acl, v.Namespace, v.Path, "list")]
        page, next_token = _paginate(request, found)
        resp = reply(request, [v.metadata() for v in page], index)
        if next_token:
            resp.headers["X-Nomad-NextToken"] = next_token
        return resp

    @r.get("/v1/var/{path:.*}")
    async def read_variable(request):
        server, q = request.app[AGENT].server, query_options(request)
        path = _path(request)
        _require(request, q.namespace, path, "read")
        index = await server.watcher.wait(TABLE, q.index, q.wait)
        return reply(request, variables_endpoint(server).read(q.namespace, path).to_dict(),
                     index)

    @r.route("PUT", "/v1/var/{path:.*}")
    @r.post("/v1/var/{path:.*}")
    async def put_variable(request):
        server, path, cas = request.app[AGENT].server, _path(request), _cas(request)
        var = await decode_body(request, Variable)
        if not var.Items:
            raise BadRequest("variable missing required Items object")
        var.Path = path
        var.Namespace = (request.query.get("namespace") or var.Namespace
                         or request.headers.get("X-Nomad-Namespace") or "default")
        _require(request, var.Namespace, path, "write")
        var.CreateIndex = var.ModifyIndex = var.CreateTime = var.ModifyTime = 0
        result = await variables_endpoint(server).upsert(var, cas)
        if result.conflict is not None:
            return _conflict(request, result)
        return reply(request, result.variable.to_dict(), result.index)

    @r.delete("/v1/var/{path:.*}")
    async def delete_variable(request):
        server, q = request.app[AGENT].server, query_options(request)
        path, cas = _path(request), _cas(request)
        _require(request, q.namespace, path, "destroy")
        result = await variables_endpoint(server).delete(q.namespace, path, cas)
        if result.conflict is not None:
            return _conflict(request, result)
        return reply(request, None, result.index)


def _path(request: web.Request) -> str:
    path = request.match_info.get("path", "")
    if not path:
        raise BadRequest("missing variable path")
    return path


def _cas(request: web.Request) -> int | None:
    raw = request.query.get("cas")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise BadRequest(f'can not parse cas: strconv.ParseUint: parsing "{raw}": '
                         "invalid syntax")
    return value


def _require(request: web.Request, namespace: str, path: str, op: str) -> None:
    if not allow_variable_op(request_acl(request), namespace, path, op):
        raise Forbidden(PERMISSION_DENIED)


def _conflict(request: web.Request, result: ApplyResult) -> web.Response:
    var = result.conflict
    body = var.metadata()
    if var.Items and allow_variable_op(request_acl(request), var.Namespace, var.Path, "read"):
        body["Items"] = dict(var.Items)
    return reply(request, body, var.ModifyIndex or result.index, status=409)


def _paginate(request: web.Request, items: list[Variable]) -> tuple[list[Variable], str]:
    """Nomad's `per_page` / `next_token` paging; the token is the next page's first path."""
    start = request.query.get("next_token", "")
    if start:
        items = [v for v in items if v.Path >= start]
    per_page = request.query.get("per_page", "")
    if not per_page:
        return items, ""
    try:
        n = int(per_page)
    except ValueError:
        raise BadRequest(f"Invalid per_page: {per_page}") from None
    if n <= 0 or len(items) <= n:
        return items, ""
    return items[:n], items[n].Path
