"""``nomad alloc logs``: print or follow a task's stdout/stderr.

Uses ``GET /v1/client/fs/logs/:alloc_id?plain=true`` so the body is the raw log
bytes. ``-tail -n N`` fetches the last ``N * 120`` bytes and keeps the last
``N`` lines, as Nomad does; ``-f`` streams until interrupted. With ``-f`` alone
both streams are followed from their current end (stdout to stdout, stderr to
stderr), like Nomad 1.6.
"""

from __future__ import annotations

import queue
import random
import sys
import threading
from typing import Any

from pynomad.cli.alloc import lookup_alloc
from pynomad.cli.api import APIError, path_id
from pynomad.cli.format import SHORT_ID, go_quote, limit
from pynomad.cli.meta import Meta

DEFAULT_TAIL_LINES = 10
BYTES_PER_LINE = 120

HELP = {
    "alloc logs": """Usage: nomad alloc logs [options] <allocation> <task>
Alias: nomad logs

  Streams the stdout/stderr of the given allocation and task.

Logs Specific Options:

  -stdout   Display stdout logs. This is used as the default value in all
            commands except when using the "-f" flag where both stdout and
            stderr are used as default.
  -stderr   Display stderr logs.
  -verbose  Show full information.
  -task <task-name>
            Sets the task to view the logs.
  -job <job-id>
            Use a random allocation from the specified job ID or prefix.
  -f        Causes the output to not stop when the end of the logs are
            reached, but rather to wait for additional output.
  -tail     Show the logs contents with offsets relative to the end of the
            logs. If no offset is given, -n is defaulted to 10.
  -n        Sets the tail location in best-efforted number of lines relative
            to the end of the logs.
  -c        Sets the tail location in number of bytes relative to the end of
            the logs.
""",
}


def last_lines(data: bytes, count: int) -> bytes:
    """Keep the last ``count`` lines of ``data`` (Nomad's LineLimitReader)."""
    found, i = 0, len(data) - 1
    last_index = len(data) - 1
    while found < count and i >= 0:
        if data[i:i + 1] == b"\n":
            last_index = i
            if i != len(data) - 1:
                found += 1
        i -= 1
    return data[last_index + 1:] if found == count else data


def logs(meta: Meta, args: list[str]) -> int:
    """``nomad alloc logs [options] <alloc> [task]``."""
    opts, args = meta.parse(args, {"verbose": "bool", "job": "bool", "tail": "bool", "f": "bool",
                                   "stderr": "bool", "stdout": "bool", "n": "int", "c": "int",
                                   "task": "str"}, initial={"n": -1, "c": -1})
    if not args:
        raise meta.usage_error("A job ID is required" if opts["job"] else
                               "An allocation ID is required")
    if len(args) > 2:
        raise meta.usage_error("This command takes one or two arguments")
    alloc_id = args[0]
    if opts["job"]:
        alloc_id = _random_job_alloc(meta, args[0])
    alloc = lookup_alloc(meta, alloc_id, opts["verbose"],
                         "Alloc ID must contain at least two characters.")
    assert alloc is not None
    task = _pick_task(meta, alloc, opts["task"], args)
    try:
        if opts["f"] and not (opts["stderr"] or opts["stdout"] or opts["tail"]
                              or opts["n"] > 0 or opts["c"] > 0):
            return _follow_both(meta, alloc, task)
        if opts["stderr"] and opts["stdout"]:
            raise meta.fail("Unable to support both stdout and stderr")
        log_type = "stderr" if opts["stderr"] else "stdout"
        return _single(meta, alloc, task, log_type, opts)
    except KeyboardInterrupt:
        return 0


def _random_job_alloc(meta: Meta, prefix: str) -> str:
    job_id, namespace = meta.job_id_by_prefix(prefix)
    try:
        allocs, _ = meta.client().get(f"/v1/job/{path_id(job_id)}/allocations",
                                      namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error fetching allocations: {exc}") from None
    allocs = allocs or []
    if not allocs:
        raise meta.fail(f"Error fetching allocations: job {go_quote(job_id)} doesn't exist "
                        "or it has no allocations")
    running = [a for a in allocs if a.get("ClientStatus") == "running"] or allocs
    return random.choice(running)["ID"]


def _pick_task(meta: Meta, alloc: dict[str, Any], flag_task: str, args: list[str]) -> str:
    job = alloc.get("Job") or {}
    group = next((g for g in job.get("TaskGroups") or []
                  if g.get("Name") == alloc.get("TaskGroup")), None)
    names = [t.get("Name", "") for t in (group or {}).get("Tasks") or []]
    if flag_task:
        if flag_task not in names:
            raise meta.fail(f"Failed to validate task: Could not find task named: {flag_task}, "
                            "found:\n" + "\n".join(f"* {n}" for n in names))
        return flag_task
    if len(args) >= 2:
        if not args[1]:
            raise meta.fail("Task name required")
        return args[1]
    if group is None:
        raise meta.fail("Failed to validate task: Could not find allocation task group: "
                        f"{alloc.get('TaskGroup')}")
    if len(names) == 1:
        return names[0]
    lines = [f"Allocation {go_quote(limit(alloc['ID'], SHORT_ID))} is running the following tasks:"]
    lines += [f"  * {n}" for n in names]
    raise meta.fail("Failed to validate task: " + "\n".join(lines) + "\n\nPlease specify the task.")


def _open(meta: Meta, alloc: dict[str, Any], task: str, log_type: str, follow: bool,
          origin: str, offset: int):  # type: ignore[no-untyped-def]
    params = {"task": task, "type": log_type, "follow": follow, "origin": origin,
              "offset": offset, "plain": True}
    return meta.client().open("GET", f"/v1/client/fs/logs/{alloc['ID']}", params=params,
                              namespace=alloc.get("Namespace") or None, stream=True)


def _single(meta: Meta, alloc: dict[str, Any], task: str, log_type: str,
            opts: dict[str, Any]) -> int:
    lines = opts["n"]
    if not opts["tail"]:
        origin, offset, verb = "start", 0, "reading"
    else:
        if lines != -1 and opts["c"] != -1:
            raise meta.fail(f"Failed to read {log_type} file: both -n and -c set")
        origin, verb = "end", "tailing"
        if lines != -1:
            offset = lines * BYTES_PER_LINE
        elif opts["c"] != -1:
            offset = opts["c"]
        else:
            lines = DEFAULT_TAIL_LINES
            offset = lines * BYTES_PER_LINE
    try:
        resp = _open(meta, alloc, task, log_type, opts["f"], origin, offset)
    except APIError as exc:
        raise meta.fail(f"Failed to read {log_type} file: error {verb} file: {exc}") from None
    chunks = _reader(resp)
    out = sys.stdout.buffer
    if opts["tail"] and lines != -1:
        out.write(last_lines(_buffer_head(chunks, lines * BYTES_PER_LINE), lines))
        out.flush()
    for chunk in _drain(chunks):
        out.write(chunk)
        out.flush()
    return 0


def _reader(resp: Any) -> "queue.Queue[bytes | None]":
    """Pump the response body into a queue from a daemon thread (None marks EOF)."""
    chunks: "queue.Queue[bytes | None]" = queue.Queue()

    def pump() -> None:
        try:
            while True:
                data = resp.read1(65536)
                if not data:
                    break
                chunks.put(data)
        except Exception:  # noqa: BLE001 - a broken stream just ends the output
            pass
        chunks.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return chunks


def _buffer_head(chunks: "queue.Queue[bytes | None]", limit_bytes: int) -> bytes:
    """Collect data until ``limit_bytes``, EOF, or one second without new data."""
    buf = b""
    while len(buf) < limit_bytes:
        try:
            chunk = chunks.get(timeout=1.0)
        except queue.Empty:
            break
        if chunk is None:
            chunks.put(None)
            break
        buf += chunk
    return buf


def _drain(chunks: "queue.Queue[bytes | None]"):  # type: ignore[no-untyped-def]
    while True:
        try:
            chunk = chunks.get(timeout=0.5)
        except queue.Empty:
            continue
        if chunk is None:
            return
        yield chunk


def _follow_both(meta: Meta, alloc: dict[str, Any], task: str) -> int:
    streams = []
    for log_type in ("stdout", "stderr"):
        try:
            resp = _open(meta, alloc, task, log_type, True, "end", 0)
        except APIError as exc:
            raise meta.fail("Failed to tail stdout and stderr files: failed to setup "
                            f"{log_type} log tailing: {exc}") from None
        streams.append(resp)
    merged: "queue.Queue[tuple[str, bytes | None]]" = queue.Queue()
    for name, resp in zip(("stdout", "stderr"), streams):
        threading.Thread(target=_pump_tagged, args=(name, resp, merged), daemon=True).start()
    while True:
        try:
            name, chunk = merged.get(timeout=0.5)
        except queue.Empty:
            continue
        if chunk is None:
            raise meta.fail("Failed to tail stdout and stderr files: received an error from "
                            f"{name} log stream: EOF")
        target = sys.stdout.buffer if name == "stdout" else sys.stderr.buffer
        target.write(chunk)
        target.flush()


def _pump_tagged(name: str, resp: Any, out: "queue.Queue[tuple[str, bytes | None]]") -> None:
    try:
        while True:
            data = resp.read1(65536)
            if not data:
                break
            out.put((name, data))
    except Exception:  # noqa: BLE001
        pass
    out.put((name, None))
