"""/v1/acl/bootstrap, /v1/acl/policies, /v1/acl/policy/:name, /v1/acl/tokens,
/v1/acl/token[/:accessor_id|/self]."""

from __future__ import annotations

import json

from aiohttp import web

from ...acl import PolicyError, parse_policy
from ...server.errors import BadRequest, Forbidden, NotFound
from ...structs.acl import ACLPolicy, ACLToken
from ...structs import Base, to_builtins
from ..acl_enforce import PERMISSION_DENIED, request_acl, request_token
from ..common import AGENT, decode_body, query_options, reply
from .namespaces import reply_empty


class BootstrapRequest(Base, forbid_unknown_fields=False):
    BootstrapSecret: str = ""


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.route("PUT", "/v1/acl/bootstrap")
    @r.post("/v1/acl/bootstrap")
    async def bootstrap(request):
        secret = ""
        if (await request.read()).strip():
            secret = (await decode_body(request, BootstrapRequest)).BootstrapSecret
        token = await request.app[AGENT].server.acl.bootstrap(secret)
        return reply(request, to_builtins(token), token.ModifyIndex)

    @r.get("/v1/acl/policies")
    async def list_policies(request):
        server, q = request.app[AGENT].server, query_options(request)
        index = await server.watcher.wait(("acl_policy",), q.index, q.wait)
        policies = server.acl.list_policies(q.prefix)
        if not request_acl(request).management:
            own = set((request_token(request) or ACLToken()).Policies or [])
            policies = [p for p in policies if p.Name in own]
        return reply(request, [p.stub() for p in policies], index)

    @r.get("/v1/acl/policy/{name}")
    async def get_policy(request):
        server, q, name = request.app[AGENT].server, query_options(request), \
            request.match_info["name"]
        index = await server.watcher.wait(("acl_policy",), q.index, q.wait)
        if not request_acl(request).management:
            token = request_token(request)
            if token is None or name not in (token.Policies or []):
                raise Forbidden(PERMISSION_DENIED)
        return reply(request, to_builtins(server.acl.get_policy(name)), index)

    @r.route("PUT", "/v1/acl/policy/{name}")
    @r.post("/v1/acl/policy/{name}")
    async def upsert_policy(request):
        name = request.match_info["name"]
        policy = await decode_body(request, ACLPolicy)
        if policy.Name and policy.Name != name:
            raise BadRequest("ACL policy name does not match request path")
        policy.Name = name
        try:
            parse_policy(policy.Rules)
        except PolicyError as err:
            raise BadRequest(f"policy {json.dumps(name)} invalid: {err}") from None
        index = await request.app[AGENT].server.acl.upsert_policies([policy])
        return reply_empty(index)

    @r.delete("/v1/acl/policy/{name}")
    async def delete_policy(request):
        index = await request.app[AGENT].server.acl.delete_policies(
            [request.match_info["name"]])
        return reply_empty(index)

    @r.get("/v1/acl/tokens")
    async def list_tokens(request):
        server, q = request.app[AGENT].server, query_options(request)
        index = await server.watcher.wait(("acl_token",), q.index, q.wait)
        return reply(request, [t.stub() for t in server.acl.list_tokens(q.prefix)], index)

    @r.route("PUT", "/v1/acl/token")
    @r.post("/v1/acl/token")
    async def create_token(request):
        token = await _decode_token(request)
        if token.AccessorID:
            raise BadRequest("Accessor ID must be empty on token creation")
        stored = await request.app[AGENT].server.acl.upsert_token(token)
        return reply(request, to_builtins(stored), stored.ModifyIndex)

    @r.get("/v1/acl/token/self")
    async def token_self(request):
        server = request.app[AGENT].server
        server.acl.require_enabled()
        token = request_token(request)
        if token is None:
            raise Forbidden("ACL token not found")
        return reply(request, to_builtins(token), server.state.table_index("acl_token"))

    @r.get("/v1/acl/token/{accessor}")
    async def get_token(request):
        server, q = request.app[AGENT].server, query_options(request)
        accessor = request.match_info["accessor"]
        index = await server.watcher.wait(("acl_token",), q.index, q.wait)
        if not request_acl(request).management:
            token = request_token(request)
            if token is None or token.AccessorID != accessor:
                raise Forbidden(PERMISSION_DENIED)
        return reply(request, to_builtins(server.acl.get_token(accessor)), index)

    @r.route("PUT", "/v1/acl/token/{accessor}")
    @r.post("/v1/acl/token/{accessor}")
    async def update_token(request):
        accessor = request.match_info["accessor"]
        token = await _decode_token(request)
        if token.AccessorID and token.AccessorID != accessor:
            raise BadRequest("Token accessor ID does not match request path")
        token.AccessorID = accessor
        server = request.app[AGENT].server
        if server.state.acl_token_by_accessor(accessor) is None and server.acl.enabled:
            raise NotFound("ACL token not found")
        stored = await server.acl.upsert_token(token)
        return reply(request, to_builtins(stored), stored.ModifyIndex)

    @r.delete("/v1/acl/token/{accessor}")
    async def delete_token(request):
        index = await request.app[AGENT].server.acl.delete_tokens(
            [request.match_info["accessor"]])
        return reply_empty(index)


async def _decode_token(request) -> ACLToken:
    return await decode_body(request, ACLToken)
