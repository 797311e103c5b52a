"""/v1/client/fs/{logs,cat,ls,stat,readat,stream}/:alloc: files of an allocation directory.

Paths are opened through `allocfs` (never a link out of the allocation directory, only
regular files read); reads run in a thread, in frames of at most FRAME_SIZE bytes, so a
large file neither blocks the event loop nor sits whole in memory.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os

from aiohttp import web

from ...server.errors import BadRequest, NotFound
from .. import allocfs
from ..bounds import parse_int
from ..common import AGENT, reply

FOLLOW_POLL_S = 0.2
FRAME_SIZE = 64 * 1024  # Nomad's streamFrameSize


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
        offset = parse_int(q.get("offset", "0") or "0", "offset", 0)
        follow = q.get("follow", "false") == "true"
        plain = q.get("plain", "false") == "true"
        stream = LogStream(alloc_dir, task, kind)
        return await stream.serve(request, alloc.ID, origin, offset, follow, plain)

    @r.get("/v1/client/fs/cat/{alloc}")
    async def cat(request):
        opened = await _open_file(request)
        return await _send_range(request, opened, 0, -1)

    @r.get("/v1/client/fs/readat/{alloc}")
    async def readat(request):
        q = request.query
        offset = parse_int(q.get("offset", "0") or "0", "offset", 0)
        limit = parse_int(q.get("limit", "-1") or "-1", "limit", -1)
        opened = await _open_file(request)
        return await _send_range(request, opened, offset, limit)

    @r.get("/v1/client/fs/ls/{alloc}")
    async def ls(request):
        root, _ = _alloc_dir(request)
        return reply(request, await asyncio.to_thread(allocfs.list_dir, root, _path(request)))

    @r.get("/v1/client/fs/stat/{alloc}")
    async def stat(request):
        root, _ = _alloc_dir(request)
        return reply(request, await asyncio.to_thread(allocfs.stat_path, root, _path(request)))

    @r.get("/v1/client/fs/stream/{alloc}")
    async def stream(request):
        q = request.query
        origin = q.get("origin", "start") or "start"
        if origin not in ("start", "end"):
            raise BadRequest('origin must be "start" or "end"')
        offset = parse_int(q.get("offset", "0") or "0", "offset", 0)
        follow = q.get("follow", "true").lower() not in ("false", "0")
        plain = q.get("plain", "false") == "true"
        opened = await _open_file(request)
        try:
            return await _stream_file(request, opened, origin, offset, follow, plain)
        finally:
            opened.close()


def _lookup_alloc(agent, alloc_id: str):
    """The allocation from the server's state, or (a client-only agent) from its runner."""
    alloc = agent.server.state.alloc_by_id(alloc_id) if agent.server else None
    find = getattr(agent.client, "alloc_runner", None)
    if alloc is None and find is not None:
        runner = find(alloc_id)
        alloc = runner.client_alloc() if runner is not None else None
    return alloc


def _alloc_dir(request) -> tuple[str, object]:
    agent = request.app[AGENT]
    alloc_id = request.match_info["alloc"]
    alloc = _lookup_alloc(agent, alloc_id)
    if alloc is None:
        raise NotFound("Unknown allocation")
    path = agent.client.alloc_dir(alloc.ID) if agent.client else None
    if not path or not os.path.isdir(path):
        raise NotFound(f"Unknown allocation \"{alloc.ID}\"")
    return path, alloc


def _path(request) -> str:
    return allocfs.check_path(request.query.get("path", "/"))


async def _open_file(request) -> allocfs.Opened:
    root, _ = _alloc_dir(request)
    opened = await asyncio.to_thread(allocfs.open_path, root, _path(request))
    try:
        allocfs.require_file(opened)
    except BadRequest:
        opened.close()
        raise
    return opened


async def _send_range(request, opened: allocfs.Opened, offset: int, limit: int):
    """The file's bytes [offset, offset+limit) (limit < 0: to the end), in frames."""
    try:
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await resp.prepare(request)
        end = opened.st.st_size if limit < 0 else min(opened.st.st_size, offset + limit)
        pos = offset
        while pos < end:
            chunk = await asyncio.to_thread(allocfs.read_at, opened.fd, pos,
                                            min(FRAME_SIZE, end - pos))
            if not chunk:
                break
            await resp.write(chunk)
            pos += len(chunk)
        await resp.write_eof()
        return resp
    finally:
        opened.close()


class LogStream:
    """A task's stdout or stderr across its rotated files, as Nomad's logs endpoint: an
    offset from the start (or the end) may span files; following moves on to the next
    file when one appears and ends when the task is dead."""

    def __init__(self, root: str, task: str, kind: str) -> None:
        self.root, self.task, self.kind = root, task, kind

    async def files(self) -> list[allocfs.LogFile]:
        return await asyncio.to_thread(allocfs.log_files, self.root, self.task, self.kind)

    async def serve(self, request, alloc_id: str, origin: str, offset: int, follow: bool,
                    plain: bool) -> web.StreamResponse:
        files = await self.files()
        idx, pos = _find_closest(files, origin, offset)
        resp = web.StreamResponse(
            headers={"Content-Type": "text/plain" if plain else "application/json"})
        await resp.prepare(request)
        agent = request.app[AGENT]
        while True:
            idx, pos, sent = await self._drain(resp, files, idx, pos, plain)
            if not follow:
                break
            if not sent:
                if self._task_done(agent, alloc_id):
                    files = await self.files()
                    await self._drain(resp, files, idx, pos, plain)
                    break
                await asyncio.sleep(FOLLOW_POLL_S)
            files = await self.files()
        await resp.write_eof()
        return resp

    async def _drain(self, resp, files, idx: int, pos: int, plain: bool):
        """Send what is there from file `files[idx]` at `pos` on; → (idx, pos, sent?)."""
        sent = False
        while idx < len(files):
            name = files[idx].name
            chunk = await asyncio.to_thread(allocfs.read_log, self.root, name, pos, FRAME_SIZE)
            if chunk:
                await _send_frame(resp, chunk, pos, f"alloc/logs/{name}", plain)
                pos += len(chunk)
                sent = True
                continue
            if idx + 1 >= len(files):
                break
            idx, pos = idx + 1, 0
        return idx, pos, sent

    def _task_done(self, agent, alloc_id: str) -> bool:
        alloc = _lookup_alloc(agent, alloc_id)
        ts = (alloc.TaskStates or {}).get(self.task) if alloc else None
        return alloc is None or alloc.client_terminal() or (ts is not None and ts.State == "dead")


def _find_closest(files: list[allocfs.LogFile], origin: str, offset: int) -> tuple[int, int]:
    """Nomad's findClosest: the file and position `offset` bytes from the start (or end)."""
    if not files:
        return 0, 0
    if origin == "start":
        idx = 0
        while offset > files[idx].size and idx < len(files) - 1:
            offset -= files[idx].size
            idx += 1
        return idx, min(offset, files[idx].size)
    idx, back = len(files) - 1, offset
    while back > files[idx].size and idx > 0:
        back -= files[idx].size
        idx -= 1
    return idx, max(0, files[idx].size - back)


async def _stream_file(request, opened: allocfs.Opened, origin, offset, follow, plain):
    """Stream one file as StreamFrames ({"File","Offset","Data"}), following it while asked;
    a deleted or truncated file ends in a frame with "FileEvent"."""
    size = opened.st.st_size
    pos = max(0, size - offset) if origin == "end" else min(offset, size)
    resp = web.StreamResponse(
        headers={"Content-Type": "text/plain" if plain else "application/json"})
    await resp.prepare(request)
    while True:
        st = os.fstat(opened.fd)
        if st.st_nlink == 0:
            await _event(resp, opened.rel, "file deleted", plain)
            break
        if st.st_size < pos:
            await _event(resp, opened.rel, "file truncated", plain)
            pos = 0
        chunk = await asyncio.to_thread(allocfs.read_at, opened.fd, pos, FRAME_SIZE)
        if chunk:
            await _send_frame(resp, chunk, pos, opened.rel, plain)
            pos += len(chunk)
            continue
        if not follow:
            break
        await asyncio.sleep(FOLLOW_POLL_S)
    await resp.write_eof()
    return resp


async def _send_frame(resp, chunk: bytes, offset: int, file: str, plain: bool) -> None:
    if plain:
        await resp.write(chunk)
        return
    frame = {"File": file, "Offset": offset + len(chunk), "Data": base64.b64encode(chunk).decode()}
    await resp.write(json.dumps(frame).encode())


async def _event(resp, rel: str, event: str, plain: bool) -> None:
    if not plain:
        await resp.write(json.dumps({"File": rel, "FileEvent": event}).encode())
