"""The /v1 HTTP API application (port 4646)."""

from __future__ import annotations

from aiohttp import web

from . import ui
from .acl_enforce import acl_middleware
from .bounds import MAX_BODY_LIMIT
from .common import AGENT, body_limit_middleware, error_middleware, error_text
from .forward import forward_middleware
from .routes import acl as acl_routes
from .routes import (agent, agent_cluster, agent_monitor, allocs, client_exec, client_fs,
                     client_stats, deployments, events, job_children, jobs, keyring, namespaces,
                     nodes, operator, operator_raft, operator_snapshot, search, services, system,
                     variables)

ROUTE_MODULES = (jobs, job_children, allocs, deployments, nodes, namespaces, agent,
                 agent_cluster, agent_monitor, client_fs, client_stats, client_exec, operator,
                 operator_raft, operator_snapshot, search, system, acl_routes, variables, events,
                 services, keyring, ui)


@web.middleware
async def not_found_middleware(request, handler):
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return error_text(404, "Invalid URL path")
    except web.HTTPMethodNotAllowed:
        return error_text(405, "Invalid method")


def http_app(agent) -> web.Application:
    """Build the API app; `agent` exposes `.server`, `.client` and `.config`."""
    app = web.Application(middlewares=[not_found_middleware, error_middleware,
                                       body_limit_middleware, acl_middleware,
                                       forward_middleware()],
                          client_max_size=MAX_BODY_LIMIT)
    app[AGENT] = agent
    routes = web.RouteTableDef()
    for module in ROUTE_MODULES:
        module.setup(app, routes)
    app.add_routes(routes)
    return app
