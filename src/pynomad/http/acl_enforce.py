"""ACL enforcement for the whole /v1 API, in one place.

When the agent runs with `acl { enabled = true }`, `acl_middleware` resolves the request's
token (`X-Nomad-Token` or `Authorization: Bearer` header, or `?token=`) into a compiled `ACL`, checks the capability
the matched route needs (the "ACL Required" column of Nomad's API docs, table `RULES`)
and, for list endpoints, drops the objects of namespaces the token may not read. With ACLs
disabled every request acts as a management token.

A route missing from `RULES` needs a management token: new routes are closed until mapped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import msgspec

from aiohttp import web

from ..acl import ACL, DENY_ALL, MANAGEMENT, PolicyError, parse_policy
from ..server.errors import Forbidden
from ..structs.acl import ANONYMOUS_POLICY, ACLToken
from .common import AGENT

PERMISSION_DENIED = "Permission denied"
TOKEN_NOT_FOUND = "ACL token not found"
TOKEN_EXPIRED = "ACL token expired"
ACL_KEY = web.RequestKey("acl", ACL)
TOKEN_KEY = web.RequestKey("acl_token", object)


@dataclass(frozen=True)
class Rule:
    kind: str                  # none | management | block | ns | list | self
    ops: tuple[str, ...] = ()  # namespace capabilities (any of), or (block, level)
    ns_from: str = "query"     # query | job_body | alloc | eval | deployment | client_alloc


NONE = Rule("none")
MGMT = Rule("management")
SELF = Rule("self")            # the handler checks (policy/token of the caller's own)


def ns(*ops: str, ns_from: str = "query") -> Rule:
    return Rule("ns", ops, ns_from)


def block(name: str, level: str) -> Rule:
    return Rule("block", (name, level))


def listing(*ops: str) -> Rule:
    return Rule("list", ops)


READ_JOB = ns("read-job")
SUBMIT_JOB = ns("submit-job")

# (verb, route pattern) -> rule; verb is GET, WRITE (POST/PUT) or DELETE
RULES: dict[tuple[str, str], Rule] = {
    # jobs
    ("GET", "/v1/jobs"): listing("list-jobs"),
    ("WRITE", "/v1/jobs"): ns("submit-job", ns_from="job_body"),
    ("WRITE", "/v1/jobs/parse"): ns("parse-job", "submit-job"),
    ("WRITE", "/v1/validate/job"): ns("read-job", "submit-job", ns_from="job_body"),
    ("GET", "/v1/job/{id}"): READ_JOB,
    ("WRITE", "/v1/job/{id}"): ns("submit-job", ns_from="job_body"),
    ("DELETE", "/v1/job/{id}"): SUBMIT_JOB,
    ("GET", "/v1/job/{id}/allocations"): READ_JOB,
    ("GET", "/v1/job/{id}/evaluations"): READ_JOB,
    ("GET", "/v1/job/{id}/summary"): READ_JOB,
    ("GET", "/v1/job/{id}/versions"): READ_JOB,
    ("GET", "/v1/job/{id}/submission"): READ_JOB,
    ("GET", "/v1/job/{id}/deployments"): READ_JOB,
    ("GET", "/v1/job/{id}/deployment"): READ_JOB,
    ("GET", "/v1/job/{id}/scale"): ns("read-job-scaling", "read-job"),
    ("WRITE", "/v1/job/{id}/scale"): ns("scale-job", "submit-job"),
    ("WRITE", "/v1/job/{id}/evaluate"): SUBMIT_JOB,
    ("WRITE", "/v1/job/{id}/revert"): SUBMIT_JOB,
    ("WRITE", "/v1/job/{id}/stable"): SUBMIT_JOB,
    ("WRITE", "/v1/job/{id}/plan"): ns("submit-job", ns_from="job_body"),
    ("WRITE", "/v1/job/{id}/periodic/force"): SUBMIT_JOB,
    ("WRITE", "/v1/job/{id}/dispatch"): ns("dispatch-job", "submit-job"),
    # allocations and evaluations
    ("GET", "/v1/allocations"): listing("read-job"),
    ("GET", "/v1/allocation/{id}"): ns("read-job", ns_from="alloc"),
    ("WRITE", "/v1/allocation/{id}/stop"): ns("alloc-lifecycle", ns_from="alloc"),
    ("GET", "/v1/evaluations"): listing("read-job"),
    ("GET", "/v1/evaluation/{id}"): ns("read-job", ns_from="eval"),
    ("GET", "/v1/evaluation/{id}/allocations"): ns("read-job", ns_from="eval"),
    # deployments
    ("GET", "/v1/deployments"): listing("read-job"),
    ("GET", "/v1/deployment/{id}"): ns("read-job", ns_from="deployment"),
    ("GET", "/v1/deployment/allocations/{id}"): ns("read-job", ns_from="deployment"),
    ("WRITE", "/v1/deployment/pause/{id}"): ns("submit-job", ns_from="deployment"),
    ("WRITE", "/v1/deployment/promote/{id}"): ns("submit-job", ns_from="deployment"),
    ("WRITE", "/v1/deployment/fail/{id}"): ns("submit-job", ns_from="deployment"),
    ("WRITE", "/v1/deployment/allocation-health/{id}"): ns("submit-job", ns_from="deployment"),
    # client (alloc-scoped)
    ("GET", "/v1/client/fs/logs/{alloc}"): ns("read-logs", ns_from="client_alloc"),
    ("GET", "/v1/client/fs/cat/{alloc}"): ns("read-fs", ns_from="client_alloc"),
    ("GET", "/v1/client/fs/readat/{alloc}"): ns("read-fs", ns_from="client_alloc"),
    ("GET", "/v1/client/fs/ls/{alloc}"): ns("read-fs", ns_from="client_alloc"),
    ("GET", "/v1/client/fs/stat/{alloc}"): ns("read-fs", ns_from="client_alloc"),
    ("GET", "/v1/client/fs/stream/{alloc}"): ns("read-fs", ns_from="client_alloc"),
    ("GET", "/v1/client/allocation/{alloc}/stats"): ns("read-job", ns_from="client_alloc"),
    ("WRITE", "/v1/client/allocation/{alloc}/restart"): ns("alloc-lifecycle",
                                                            ns_from="client_alloc"),
    ("WRITE", "/v1/client/allocation/{alloc}/signal"): ns("alloc-lifecycle",
                                                           ns_from="client_alloc"),
    ("GET", "/v1/client/stats"): block("node", "read"),
    ("GET", "/v1/client/allocation/{alloc}/exec"): ns("alloc-exec", ns_from="client_alloc"),
    # nodes
    ("GET", "/v1/nodes"): block("node", "read"),
    ("GET", "/v1/node/{id}"): block("node", "read"),
    ("GET", "/v1/node/{id}/allocations"): block("node", "read"),
    ("WRITE", "/v1/node/{id}/eligibility"): block("node", "write"),
    ("WRITE", "/v1/node/{id}/drain"): block("node", "write"),
    ("WRITE", "/v1/node/{id}/evaluate"): block("node", "write"),
    # agent, status, operator, system
    ("GET", "/v1/agent/self"): block("agent", "read"),
    ("GET", "/v1/agent/members"): block("node", "read"),
    ("GET", "/v1/agent/servers"): block("agent", "read"),
    ("WRITE", "/v1/agent/join"): NONE,
    ("WRITE", "/v1/agent/force-leave"): block("agent", "write"),
    ("GET", "/v1/agent/keyring/list"): block("agent", "write"),
    ("WRITE", "/v1/agent/keyring/install"): block("agent", "write"),
    ("WRITE", "/v1/agent/keyring/use"): block("agent", "write"),
    ("WRITE", "/v1/agent/keyring/remove"): block("agent", "write"),
    ("GET", "/v1/agent/monitor"): block("agent", "read"),
    ("GET", "/v1/agent/health"): NONE,
    ("GET", "/v1/agent/version"): NONE,
    ("GET", "/v1/status/leader"): NONE,
    ("GET", "/v1/status/peers"): NONE,
    ("GET", "/v1/regions"): NONE,
    ("GET", "/v1/metrics"): NONE,
    ("WRITE", "/v1/system/gc"): MGMT,
    ("WRITE", "/v1/system/reconcile/summaries"): MGMT,
    ("GET", "/v1/operator/scheduler/configuration"): block("operator", "read"),
    ("WRITE", "/v1/operator/scheduler/configuration"): block("operator", "write"),
    ("GET", "/v1/operator/snapshot"): MGMT,
    ("WRITE", "/v1/operator/snapshot"): MGMT,
    ("GET", "/v1/operator/raft/configuration"): MGMT,
    ("DELETE", "/v1/operator/raft/peer"): MGMT,
    ("WRITE", "/v1/search"): SELF,           # per context (routes/search.py)
    # namespaces
    ("GET", "/v1/namespaces"): Rule("list", ("*namespace",)),
    ("GET", "/v1/namespace/{name}"): Rule("namespace"),
    ("WRITE", "/v1/namespace"): MGMT,
    ("WRITE", "/v1/namespace/{name}"): MGMT,
    ("DELETE", "/v1/namespace/{name}"): MGMT,
    # ACL objects
    ("WRITE", "/v1/acl/bootstrap"): NONE,
    ("GET", "/.well-known/jwks.json"): NONE,
    ("GET", "/v1/acl/policies"): SELF,
    ("GET", "/v1/acl/policy/{name}"): SELF,
    ("WRITE", "/v1/acl/policy/{name}"): MGMT,
    ("DELETE", "/v1/acl/policy/{name}"): MGMT,
    ("GET", "/v1/acl/tokens"): MGMT,
    ("WRITE", "/v1/acl/token"): MGMT,
    ("GET", "/v1/acl/token/self"): SELF,
    ("GET", "/v1/acl/token/{accessor}"): SELF,
    ("WRITE", "/v1/acl/token/{accessor}"): MGMT,
    ("DELETE", "/v1/acl/token/{accessor}"): MGMT,
    # variables: the handlers check `variables` capabilities per path (routes/variables.py)
    ("GET", "/v1/vars"): SELF,
    ("GET", "/v1/var/{path}"): SELF,
    ("WRITE", "/v1/var/{path}"): SELF,
    ("DELETE", "/v1/var/{path}"): SELF,
    # native service discovery
    ("GET", "/v1/services"): listing("read-job"),
    ("GET", "/v1/service/{name}"): READ_JOB,
    ("DELETE", "/v1/service/{name}/{id}"): SUBMIT_JOB,
    # event stream: the handler checks each topic (routes/events.py)
    ("GET", "/v1/event/stream"): SELF,
    # the web UI's pages and assets (their data comes from the API above)
    ("GET", "/"): NONE,
    ("GET", "/ui"): NONE,
    ("GET", "/ui/{tail}"): NONE,
    ("GET", "/ui/assets/{tail}"): NONE,
}


def request_acl(request: web.Request) -> ACL:
    """The request's compiled ACL (management when ACLs are disabled)."""
    return request.get(ACL_KEY, MANAGEMENT)


def request_token(request: web.Request) -> ACLToken | None:
    """The request's token, or None for anonymous requests (or ACLs disabled)."""
    return request.get(TOKEN_KEY)


def _acl_enabled(request: web.Request) -> bool:
    server = getattr(request.app[AGENT], "server", None)
    return bool(getattr(getattr(server, "config", None), "acl_enabled", False))


@web.middleware
async def acl_middleware(request: web.Request, handler):
    if not _acl_enabled(request):
        return await handler(request)
    server = request.app[AGENT].server
    token, acl = resolve(server, request_secret(request))
    request[ACL_KEY], request[TOKEN_KEY] = acl, token
    route = request.match_info.route.resource
    if route is None:  # unknown path: let the router answer 404
        return await handler(request)
    verb = {"GET": "GET", "HEAD": "GET", "DELETE": "DELETE"}.get(request.method, "WRITE")
    rule = RULES.get((verb, route.canonical), MGMT)
    await _check(rule, request, server, acl)
    response = await handler(request)
    if rule.kind == "list" and not acl.management:
        response = _filter(response, rule, acl)
    return response


def request_secret(request: web.Request) -> str:
    """The token a request carries: `X-Nomad-Token`, else `Authorization: Bearer <secret>`
    (as Nomad's parseToken), else `?token=`."""
    secret = request.headers.get("X-Nomad-Token", "")
    if not secret:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            secret = value.strip()
    return secret or request.query.get("token", "")


def resolve(server, secret: str) -> tuple[ACLToken | None, ACL]:
    """A secret → (token, ACL). Empty secret: anonymous; unknown or expired: Forbidden."""
    state = server.state
    if not secret:
        anon = state.acl_policy_by_name(ANONYMOUS_POLICY)
        return None, _compile(server, [anon]) if anon is not None else DENY_ALL
    token = state.acl_token_by_secret(secret)
    if token is None:
        raise Forbidden(TOKEN_NOT_FOUND)
    if server.acl.token_expired(token):
        raise Forbidden(TOKEN_EXPIRED)
    if token.is_management():
        return token, MANAGEMENT
    policies = [p for p in (state.acl_policy_by_name(n) for n in token.Policies or [])
                if p is not None]
    return token, _compile(server, policies)


def _compile(server, policies) -> ACL:
    """Compile (and cache, by name and ModifyIndex) a set of stored policies."""
    key = tuple(sorted((p.Name, p.ModifyIndex) for p in policies))
    cache = server.acl.compiled_cache
    acl = cache.get(key)
    if acl is None:
        parsed = []
        for p in policies:
            try:
                parsed.append(parse_policy(p.Rules))
            except PolicyError:
                continue  # validated on write; a bad stored policy grants nothing
        acl = ACL.compile(parsed)
        if len(cache) > 1024:
            cache.clear()
        cache[key] = acl
    return acl


async def _check(rule: Rule, request: web.Request, server, acl: ACL) -> None:
    if acl.management or rule.kind in ("none", "self"):
        return
    if rule.kind == "list":
        # as Nomad's List RPCs: denied unless the namespace asked for (or, for `*`, any
        # namespace) grants the capability; the items are then filtered (`_filter`)
        allowed = rule.ops == ("*namespace",) or acl.allow_ns_any(_query_namespace(request),
                                                                  rule.ops)
    elif rule.kind == "management":
        allowed = False
    elif rule.kind == "block":
        allowed = acl.allow(*rule.ops)
    elif rule.kind == "namespace":
        allowed = acl.allow_namespace(request.match_info.get("name", ""))
    else:
        namespace = await _namespace(rule.ns_from, request, server)
        allowed = namespace is not None and acl.allow_ns_any(namespace, rule.ops)
    if not allowed:
        raise Forbidden(PERMISSION_DENIED)


def _query_namespace(request: web.Request) -> str:
    return (request.query.get("namespace") or request.headers.get("X-Nomad-Namespace")
            or "default")


async def _namespace(source: str, request: web.Request, server) -> str | None:
    """The namespace a request acts in; None when the object it names does not exist
    (denied, as Nomad does for objects the token cannot see)."""
    if source == "query":
        return _query_namespace(request)
    if source == "job_body":
        try:
            body = msgspec.json.decode(await request.read() or b"{}")
        except (msgspec.DecodeError, RecursionError):  # the handler answers the 400
            return _query_namespace(request)
        job = body.get("Job") if isinstance(body, dict) else None
        ns = job.get("Namespace") if isinstance(job, dict) else None
        return ns or (body.get("Namespace") if isinstance(body, dict) else None) \
            or _query_namespace(request)
    state = server.state
    obj_id = request.match_info.get("id") or request.match_info.get("alloc") or ""
    if source in ("alloc", "client_alloc"):
        obj = state.alloc_by_id(obj_id) or _by_prefix(state.allocs, obj_id)
    elif source == "eval":
        obj = state.eval_by_id(obj_id) or _by_prefix(state.evals, obj_id)
    else:
        obj = state.deployment_by_id(obj_id) or _by_prefix(state.deployments, obj_id)
    return obj.Namespace if obj is not None else None


def _by_prefix(table: dict, prefix: str):
    if not prefix:
        return None
    found = [v for k, v in table.items() if k.startswith(prefix)]
    return found[0] if len(found) == 1 else None


def _filter(response: web.StreamResponse, rule: Rule, acl: ACL) -> web.StreamResponse:
    """Drop the list items of namespaces the token may not see."""
    if not isinstance(response, web.Response) or response.status != 200 or not response.body:
        return response
    try:
        items = json.loads(response.body)
    except (ValueError, TypeError):
        return response
    if not isinstance(items, list):
        return response
    if rule.ops == ("*namespace",):
        kept = [i for i in items if isinstance(i, dict) and acl.allow_namespace(i.get("Name", ""))]
    else:
        kept = [i for i in items if isinstance(i, dict)
                and acl.allow_ns_any(i.get("Namespace") or "default", rule.ops)]
    headers = {k: v for k, v in response.headers.items()
               if k.lower() not in ("content-length", "content-type")}
    return web.Response(body=json.dumps(kept).encode(), status=200, headers=headers,
                        content_type="application/json")
