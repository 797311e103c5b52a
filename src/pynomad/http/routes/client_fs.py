"""/v1/client/fs/{logs,cat,ls,stat,readat,stream}/:alloc: files of an allocation directory."""

from __future__ import annotations

import asyncio
import base64
import json
import mimetypes
import os
import re
import stat as statmod
import time

from aiohttp import web

from ...server.errors import BadRequest, NotFound
from ..common import AGENT, reply

FOLLOW_POLL_S = 0.2


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/client/fs/logs/{alloc}")
    async def logs(request):
        alloc_dir, alloc = _alloc_dir(request)
        q = request.query
        task = q.get("task", "")
        if not task:
            raise BadRequest("must provide task name")
        kind = q.get("type", "stdout")
        if kind not in ("stdout", "stderr"):
            raise BadRequest('must provide log type: "stdout" or "stderr"')
        tg = alloc.Job.lookup_task_group(alloc.TaskGroup) if alloc.Job else None
        if tg is not None and not any(t.Name == task for t in tg.Tasks or ()):
            raise BadRequest(f'unknown task name "{task}"')
        origin = q.get("origin", "start")
        if origin not in ("start", "end"):
            raise BadRequest('origin must be "start" or "end"')
        try:
            offset = int(q.get("offset", "0") or 0)
        except ValueError:
            raise BadRequest("offset must be an integer") from None
        follow = q.get("follow", "false") == "true"
        plain = q.get("plain", "false") == "true"
        return await _stream_logs(request, alloc_dir, alloc.ID, task, kind, origin, offset,
                                  follow, plain)

    @r.get("/v1/client/fs/cat/{alloc}")
    async def cat(request):
        path = _resolve(request)
        if os.path.isdir(path):
            raise BadRequest("file is a directory")
        with open(path, "rb") as f:
            return web.Response(body=f.read(), content_type="text/plain")

    @r.get("/v1/client/fs/readat/{alloc}")
    async def readat(request):
        path = _resolve(request)
        try:
            offset = int(request.query.get("offset", 0) or 0)
            limit = int(request.query.get("limit", -1) or -1)
        except ValueError:
            raise BadRequest("offset and limit must be integers") from None
        if offset < 0:
            raise BadRequest("offset must be non-negative")
        with open(path, "rb") as f:
            f.seek(offset)
            return web.Response(body=f.read(limit if limit >= 0 else -1), content_type="text/plain")

    @r.get("/v1/client/fs/ls/{alloc}")
    async def ls(request):
        path = _resolve(request)
        if not os.path.isdir(path):
            raise BadRequest("path is not a directory")
        return reply(request, [_file_info(os.path.join(path, n)) for n in sorted(os.listdir(path))])

    @r.get("/v1/client/fs/stat/{alloc}")
    async def stat(request):
        return reply(request, _file_info(_resolve(request)))

    @r.get("/v1/client/fs/stream/{alloc}")
    async def stream(request):
        path = _resolve(request)
        if os.path.isdir(path):
            raise BadRequest("file is a directory")
        q = request.query
        origin = q.get("origin", "start") or "start"
        if origin not in ("start", "end"):
            raise BadRequest('origin must be "start" or "end"')
        try:
            offset = int(q.get("offset", "0") or 0)
        except ValueError:
            raise BadRequest("offset must be an integer") from None
        follow = q.get("follow", "true").lower() not in ("false", "0")
        plain = q.get("plain", "false") == "true"
        rel = os.path.relpath(path, os.path.realpath(_alloc_dir(request)[0]))
        return await _stream_file(request, path, rel, origin, offset, follow, plain)


def _alloc_dir(request):
    agent = request.app[AGENT]
    alloc_id = request.match_info["alloc"]
    alloc = agent.server.state.alloc_by_id(alloc_id) if agent.server else None
    if alloc is None:
        raise NotFound("Unknown allocation")
    path = agent.client.alloc_dir(alloc.ID) if agent.client else None
    if not path or not os.path.isdir(path):
        raise NotFound(f"Unknown allocation \"{alloc.ID}\"")
    return path, alloc


def _resolve(request) -> str:
    root, _ = _alloc_dir(request)
    rel = request.query.get("path", "/")
    full = os.path.realpath(os.path.join(root, rel.lstrip("/")))
    if full != os.path.realpath(root) and not full.startswith(os.path.realpath(root) + os.sep):
        raise BadRequest("path escapes the allocation directory")
    if not os.path.exists(full):
        raise NotFound(f"stat {rel}: no such file or directory")
    return full


def _file_info(path: str) -> dict:
    st = os.stat(path)
    is_dir = statmod.S_ISDIR(st.st_mode)
    return {"Name": os.path.basename(path), "IsDir": is_dir, "Size": st.st_size,
            "FileMode": statmod.filemode(st.st_mode),
            "ModTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(st.st_mtime)),
            "ContentType": "" if is_dir else (mimetypes.guess_type(path)[0] or "text/plain")}


def _log_files(alloc_dir: str, task: str, kind: str) -> list[str]:
    logs = os.path.join(alloc_dir, "alloc", "logs")
    pat = re.compile(rf"^{re.escape(task)}\.{kind}\.(\d+)$")
    try:
        names = os.listdir(logs)
    except FileNotFoundError:
        return []
    found = sorted((int(m.group(1)), n) for n in names if (m := pat.match(n)))
    return [os.path.join(logs, n) for _, n in found]


def _read_all(files: list[str]) -> bytes:
    out = bytearray()
    for path in files:
        try:
            with open(path, "rb") as f:
                out += f.read()
        except FileNotFoundError:
            continue
    return bytes(out)


async def _stream_logs(request, alloc_dir, alloc_id, task, kind, origin, offset, follow, plain):
    agent = request.app[AGENT]
    data = _read_all(_log_files(alloc_dir, task, kind))
    if origin == "end":
        pos = max(0, len(data) - offset)
    else:
        pos = min(offset, len(data))
    resp = web.StreamResponse(headers={"Content-Type": "text/plain" if plain else "application/json"})
    await resp.prepare(request)
    await _send(resp, data[pos:], pos, task, kind, plain)
    pos = len(data)
    while follow:
        await asyncio.sleep(FOLLOW_POLL_S)
        data = _read_all(_log_files(alloc_dir, task, kind))
        if len(data) > pos:
            await _send(resp, data[pos:], pos, task, kind, plain)
            pos = len(data)
        alloc = agent.server.state.alloc_by_id(alloc_id) if agent.server else None
        ts = (alloc.TaskStates or {}).get(task) if alloc else None
        if alloc is None or alloc.client_terminal() or (ts is not None and ts.State == "dead"):
            data = _read_all(_log_files(alloc_dir, task, kind))
            await _send(resp, data[pos:], pos, task, kind, plain)
            break
    await resp.write_eof()
    return resp


async def _stream_file(request, path, rel, origin, offset, follow, plain):
    """Stream one file as StreamFrames ({"File","Offset","Data"}), following it while asked;
    a deleted or truncated file ends in a frame with "FileEvent"."""
    size = os.path.getsize(path)
    pos = max(0, size - offset) if origin == "end" else min(max(0, offset), size)
    resp = web.StreamResponse(headers={"Content-Type": "text/plain" if plain else "application/json"})
    await resp.prepare(request)
    while True:
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                end = f.tell()
                if end < pos:
                    await _event(resp, rel, "file truncated", plain)
                    pos = 0
                f.seek(pos)
                data = f.read()
        except FileNotFoundError:
            await _event(resp, rel, "file deleted", plain)
            break
        if data:
            await _send_file(resp, data, pos, rel, plain)
            pos += len(data)
        if not follow:
            break
        await asyncio.sleep(FOLLOW_POLL_S)
    await resp.write_eof()
    return resp


async def _send_file(resp, chunk: bytes, offset: int, rel: str, plain: bool) -> None:
    if plain:
        await resp.write(chunk)
        return
    frame = {"File": rel, "Offset": offset + len(chunk), "Data": base64.b64encode(chunk).decode()}
    await resp.write(json.dumps(frame).encode())


async def _event(resp, rel: str, event: str, plain: bool) -> None:
    if not plain:
        await resp.write(json.dumps({"File": rel, "FileEvent": event}).encode())


async def _send(resp, chunk: bytes, offset: int, task: str, kind: str, plain: bool) -> None:
    if not chunk:
        return
    if plain:
        await resp.write(chunk)
    else:
        frame = {"Offset": offset + len(chunk), "Data": base64.b64encode(chunk).decode(),
                 "File": f"alloc/logs/{task}.{kind}.0"}
        await resp.write(json.dumps(frame).encode())
