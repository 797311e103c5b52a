"""Shared HTTP plumbing: JSON replies, query options, blocking-query headers, errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from ..helper.goformat import SECOND, parse_duration
from ..server.errors import BadRequest, EndpointError
from ..structs import enc_hook
from .bounds import UINT64, TooLarge, body_limit, check_json, parse_int

AGENT = web.AppKey("agent", object)
"""The application key under which the HTTP app keeps its agent."""

_json = msgspec.json.Encoder(enc_hook=enc_hook)


@dataclass
class QueryOptions:
    namespace: str
    region: str
    index: int
    wait: float
    prefix: str
    pretty: bool
    stale: bool


def parse_duration_s(text: str) -> float:
    """A Go-style duration (`5m`, `300s`, `1h`) or plain seconds → seconds."""
    t = text.strip()
    try:
        seconds = float(t) if t.replace(".", "", 1).isdigit() else parse_duration(t) / SECOND
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise BadRequest(f"Invalid wait time: {text}")
    return seconds


def query_options(request: web.Request) -> QueryOptions:
    q = request.query
    index = parse_int(q.get("index", "0") or "0", "index", *UINT64)
    wait = parse_duration_s(q["wait"]) if q.get("wait") else 0.0
    return QueryOptions(namespace=q.get("namespace") or request.headers.get("X-Nomad-Namespace") or "default",
                        region=q.get("region", ""), index=index, wait=wait,
                        prefix=q.get("prefix", ""), pretty="pretty" in q and q.get("pretty") != "false",
                        stale="stale" in q)


def reply(request: web.Request, body: Any, index: int | None = None,
          status: int = 200) -> web.Response:
    data = _json.encode(body)
    if "pretty" in request.query and request.query.get("pretty") != "false":
        data = json.dumps(json.loads(data), indent=4).encode() + b"\n"
    headers = {}
    if index is not None:
        headers = {"X-Nomad-Index": str(max(index, 1)), "X-Nomad-KnownLeader": "true",
                   "X-Nomad-LastContact": "0"}
    return web.Response(body=data, status=status, headers=headers,
                        content_type="application/json")


def error_text(status: int, message: str) -> web.Response:
    return web.Response(text=message, status=status, content_type="text/plain")


def decode_json(raw: bytes, typ: Any = dict) -> Any:
    """JSON bytes → `typ`, within the bounds of `bounds.check_json`; unknown fields ignored."""
    try:
        doc = msgspec.json.decode(raw)
    except RecursionError:
        raise BadRequest("Failed to parse request body: nested too deeply") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise BadRequest(f"Failed to parse request body: {err}") from None
    check_json(doc)
    try:
        return msgspec.convert(doc, typ)
    except msgspec.ValidationError as err:
        raise BadRequest(f"Failed to decode request body: {err}") from None


async def decode_body(request: web.Request, typ: Any = dict) -> Any:
    raw = await request.read()
    if not raw.strip():
        raise BadRequest("Request body is empty")
    return decode_json(raw, typ)


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except EndpointError as err:
        return error_text(err.code, err.message)
    except (TooLarge, web.HTTPRequestEntityTooLarge):
        return error_text(413, f"Request body too large: the limit for this endpoint is "
                               f"{request._client_max_size} bytes")
    except web.HTTPException:
        raise
    except (ConnectionResetError, ConnectionError):
        raise
    except Exception as err:  # never a 500 with a traceback for bad input
        import logging

        logging.getLogger("pynomad.http").exception("request %s %s failed", request.method,
                                                    request.path)
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        return error_text(500, f"internal error: {first}")


@web.middleware
async def body_limit_middleware(request: web.Request, handler):
    """Cap the body by endpoint (`bounds.BODY_LIMITS`): a declared length over the limit is
    refused before reading, a chunked body stops being read there."""
    resource = request.match_info.route.resource
    limit = body_limit(resource.canonical if resource is not None else None)
    request._client_max_size = limit  # what aiohttp's request.read() enforces
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(limit)
    return await handler(request)


def prefix_match(items, prefix: str, key=lambda x: x.ID):
    return [i for i in items if key(i).startswith(prefix)] if prefix else list(items)
