"""``nomad alloc fs`` (alias ``nomad fs``): list, stat, cat, tail and follow files of an
allocation directory through ``/v1/client/fs/{stat,ls,cat,readat,stream}/:alloc_id``.

Follows Nomad's ``command/alloc_fs.go``: the path is stat'ed first; ``-stat`` prints that
one entry, a directory is listed (``Mode  Size  Modified Time  Name``, sizes in IEC units
unless ``-H``), a file is printed. ``-tail`` reads from ``-n`` lines (times 120 bytes) or
``-c`` bytes before the end; ``-f`` streams the file's frames until interrupted.
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any, Iterator

from pynomad.cli.alloc import lookup_alloc
from pynomad.cli.alloc_logs import BYTES_PER_LINE, DEFAULT_TAIL_LINES, _random_job_alloc
from pynomad.cli.alloc_logs import last_lines
from pynomad.cli.api import APIError
from pynomad.cli.format import format_list, format_time, ibytes
from pynomad.cli.meta import Meta

HELP = {
    "alloc fs": """Usage: nomad alloc fs [options] <allocation> <path>
Alias: nomad fs

  fs displays either the contents of an allocation directory for the passed
  allocation, or displays the file at the given path. The path is relative to
  the root of the alloc dir and defaults to root if unspecified.

  When ACLs are enabled, this command requires a token with the 'read-fs',
  'read-job', and 'list-jobs' capabilities for the allocation's namespace.

FS Specific Options:

  -H
    Machine friendly output.

  -verbose
    Show full information.

  -job <job-id>
    Use a random allocation from the specified job ID or prefix.

  -stat
    Show file stat information instead of displaying the file, or listing the
    directory.

  -f
    Causes the output to not stop when the end of the file is reached, but
    rather to wait for additional output.

  -tail
    Show the files contents with offsets relative to the end of the file. If no
    offset is given, -n is defaulted to 10.

  -n
    Sets the tail location in best-efforted number of lines relative to the end
    of the file.

  -c
    Sets the tail location in number of bytes relative to the end of the file.
""",
}

HEADER = "Mode|Size|Modified Time|Name"


def fs(meta: Meta, args: list[str]) -> int:
    """``nomad alloc fs [options] <alloc> [path]``."""
    opts, args = meta.parse(args, {"H": "bool", "verbose": "bool", "job": "bool",
                                   "stat": "bool", "f": "bool", "tail": "bool", "n": "int",
                                   "c": "int"}, initial={"n": -1, "c": -1})
    if not args:
        raise meta.usage_error("A job ID is required" if opts["job"] else
                               "An allocation ID is required")
    if len(args) > 2:
        raise meta.usage_error("This command takes one or two arguments: <allocation> [<path>]")
    alloc_id = _random_job_alloc(meta, args[0]) if opts["job"] else args[0]
    alloc = lookup_alloc(meta, alloc_id, opts["verbose"],
                         "Alloc ID must contain at least two characters.")
    assert alloc is not None
    path = args[1] if len(args) == 2 else "/"
    client = meta.client()
    ns = alloc.get("Namespace") or None
    base = f"/v1/client/fs/%s/{alloc['ID']}"
    try:
        info, _ = client.get(base % "stat", {"path": path}, namespace=ns)
    except APIError as exc:
        raise meta.fail(f"Error stating file: {exc}:") from None
    info = info or {}
    if opts["stat"]:
        meta.ui.output(format_list([HEADER, _row(info, opts["H"])]))
        return 0
    if info.get("IsDir"):
        try:
            files, _ = client.get(base % "ls", {"path": path}, namespace=ns)
        except APIError as exc:
            raise meta.fail(f"Error listing alloc dir: {exc}") from None
        meta.ui.output(format_list([HEADER] + [_row(f, opts["H"]) for f in files or []]))
        return 0
    try:
        return _output_file(meta, alloc, path, int(info.get("Size") or 0), opts)
    except KeyboardInterrupt:
        return 0


def _row(info: dict[str, Any], machine: bool) -> str:
    name = info.get("Name", "")
    if info.get("IsDir"):
        name += "/"
    size = info.get("Size") or 0
    return "|".join([info.get("FileMode", ""), str(size) if machine else ibytes(size),
                     format_time(info.get("ModTime")), name])


def _output_file(meta: Meta, alloc: dict[str, Any], path: str, size: int,
                 opts: dict[str, Any]) -> int:
    client = meta.client()
    ns = alloc.get("Namespace") or None
    out = sys.stdout.buffer
    lines = -1
    try:
        if not opts["tail"]:
            verb = "reading"
            if opts["f"]:
                chunks = _follow(meta, alloc, path, "start", 0)
            else:
                chunks = _read(client.open("GET", f"/v1/client/fs/cat/{alloc['ID']}",
                                           params={"path": path}, namespace=ns, stream=True))
        else:
            verb = "tailing"
            lines, nbytes = opts["n"], opts["c"]
            if lines != -1 and nbytes != -1:
                raise meta.fail("Both -n and -c set")
            if lines != -1:
                offset = lines * BYTES_PER_LINE
            elif nbytes != -1:
                offset = nbytes
            else:
                lines = DEFAULT_TAIL_LINES
                offset = lines * BYTES_PER_LINE
            offset = min(offset, size)
            if opts["f"]:
                chunks = _follow(meta, alloc, path, "end", offset)
            else:
                resp = client.open("GET", f"/v1/client/fs/readat/{alloc['ID']}",
                                   params={"path": path, "offset": size - offset, "limit": -1},
                                   namespace=ns, stream=True)
                chunks = _read(resp)
    except APIError as exc:
        word = "Error reading file" if verb == "reading" else "Error tailing file"
        raise meta.fail(f"{word}: {exc}") from None
    if lines != -1:
        data = b"".join(chunks) if not opts["f"] else next(chunks, b"")
        out.write(last_lines(data, lines))
        out.flush()
    for chunk in chunks:
        out.write(chunk)
        out.flush()
    return 0


def _read(resp: Any) -> Iterator[bytes]:
    while True:
        data = resp.read1(65536)
        if not data:
            return
        yield data


def _follow(meta: Meta, alloc: dict[str, Any], path: str, origin: str,
            offset: int) -> Iterator[bytes]:
    resp = meta.client().open("GET", f"/v1/client/fs/stream/{alloc['ID']}",
                              params={"path": path, "origin": origin, "offset": offset,
                                      "follow": True},
                              namespace=alloc.get("Namespace") or None, stream=True)
    return frame_data(_read(resp))


def frame_data(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Decode a stream of concatenated JSON StreamFrames into their ``Data`` bytes."""
    decoder = json.JSONDecoder()
    buf = ""
    pending = b""
    for chunk in chunks:
        try:
            buf += (pending + chunk).decode()
            pending = b""
        except UnicodeDecodeError:
            pending += chunk
            continue
        while True:
            buf = buf.lstrip()
            if not buf:
                break
            try:
                frame, end = decoder.raw_decode(buf)
            except ValueError:
                break
            buf = buf[end:]
            data = frame.get("Data") if isinstance(frame, dict) else None
            if data:
                yield base64.b64decode(data)
