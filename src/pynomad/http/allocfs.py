"""Files of an allocation directory, opened so that nothing a task does reaches outside it.

A task owns its directory and may put anything there: symlinks to host files, FIFOs,
devices, links swapped in while a request runs. Every path is therefore walked one
component at a time from a handle on the allocation directory, each component opened with
O_NOFOLLOW relative to its parent's handle. A symlink met on the way is resolved by hand —
relative to where it sits, an absolute target taken as a host path — and followed only while
it stays inside the allocation directory (as Nomad's alloc dir does); anything else is
refused. Only regular files are read, so a FIFO or a device cannot hang or flood a request.

Functions here are blocking system calls; the routes run them in a thread.
"""

from __future__ import annotations

import errno
import mimetypes
import os
import re
import stat as statmod
import time
from dataclasses import dataclass

from ..server.errors import BadRequest, NotFound

MAX_LINKS = 40  # as the kernel's ELOOP limit
MAX_PATH = 4096
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

ESCAPES = "path escapes the allocation directory"


@dataclass
class Opened:
    """An open handle on a file or directory inside the allocation directory."""
    fd: int
    rel: str          # its path relative to the allocation directory, links resolved
    st: os.stat_result

    @property
    def is_dir(self) -> bool:
        return statmod.S_ISDIR(self.st.st_mode)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> "Opened":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_path(rel: str) -> str:
    """A request's `path` parameter, refused if it cannot name a file."""
    if "\x00" in rel:
        raise BadRequest("path must not contain a NUL character")
    if len(rel) > MAX_PATH:
        raise BadRequest(f"path is longer than {MAX_PATH} characters")
    return rel


def open_path(root: str, rel: str) -> Opened:
    """Open `rel` (a path inside the allocation directory `root`) without ever leaving it."""
    check_path(rel)
    real_root = os.path.realpath(root)
    todo = _components(rel)
    stack: list[tuple[str, int]] = [("", os.open(real_root, _DIR_FLAGS))]
    links = 0
    try:
        while todo:
            name = todo.pop(0)
            if name == "..":
                if len(stack) == 1:
                    raise BadRequest(ESCAPES)
                os.close(stack.pop()[1])
                continue
            parent = stack[-1][1]
            try:
                st = os.stat(name, dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                raise NotFound(f"stat {rel}: no such file or directory") from None
            except NotADirectoryError:
                raise BadRequest(f"stat {rel}: not a directory") from None
            except PermissionError:
                raise BadRequest(f"stat {rel}: permission denied") from None
            if statmod.S_ISLNK(st.st_mode):
                links += 1
                if links > MAX_LINKS:
                    raise BadRequest(f"stat {rel}: too many levels of symbolic links")
                target = os.readlink(name, dir_fd=parent)
                if target.startswith("/"):
                    inside = _inside(real_root, os.path.normpath(target))
                    if inside is None:
                        raise BadRequest(ESCAPES)
                    for _, fd in stack[1:]:
                        os.close(fd)
                    del stack[1:]
                    todo = _components(inside) + todo
                else:
                    todo = _components(target) + todo
                continue
            stack.append((name, _open_at(name, parent, st, rel)))
        rel_out = "/".join(n for n, _ in stack[1:])
        fd = stack.pop()[1] if len(stack) > 1 else os.dup(stack[0][1])
        return Opened(fd, rel_out, os.fstat(fd))
    finally:
        for _, fd in stack:
            os.close(fd)


def _open_at(name: str, parent: int, st: os.stat_result, rel: str) -> int:
    flags = _DIR_FLAGS if statmod.S_ISDIR(st.st_mode) else _FILE_FLAGS
    if not (statmod.S_ISDIR(st.st_mode) or statmod.S_ISREG(st.st_mode)):
        flags = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC  # stat-able, never read
    try:
        return os.open(name, flags, dir_fd=parent)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENOENT):  # swapped meanwhile
            raise BadRequest(f"stat {rel}: changed while being opened") from None
        if err.errno in (errno.EACCES, errno.EPERM):
            raise BadRequest(f"open {rel}: permission denied") from None
        raise


def _components(path: str) -> list[str]:
    return [c for c in path.split("/") if c not in ("", ".")]


def _inside(real_root: str, target: str) -> str | None:
    """`target` (an absolute host path) relative to the root, or None outside it."""
    if target == real_root:
        return ""
    if target.startswith(real_root + os.sep):
        return target[len(real_root) + 1:]
    return None


def require_file(opened: Opened) -> None:
    if opened.is_dir:
        raise BadRequest("file is a directory")
    if not statmod.S_ISREG(opened.st.st_mode):
        raise BadRequest(f"{opened.rel} is not a regular file")


def file_info(name: str, st: os.stat_result) -> dict:
    """Nomad's AllocFileInfo."""
    is_dir = statmod.S_ISDIR(st.st_mode)
    return {"Name": name, "IsDir": is_dir, "Size": st.st_size,
            "FileMode": statmod.filemode(st.st_mode),
            "ModTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(st.st_mtime)),
            "ContentType": "" if is_dir else (mimetypes.guess_type(name)[0] or "text/plain")}


def stat_path(root: str, rel: str) -> dict:
    with open_path(root, rel) as opened:
        return file_info(os.path.basename(opened.rel) or os.path.basename(root), opened.st)


def list_dir(root: str, rel: str) -> list[dict]:
    """Entries as the directory holds them: a symlink is listed, not followed (lstat)."""
    with open_path(root, rel) as opened:
        if not opened.is_dir:
            raise BadRequest("path is not a directory")
        out = []
        with os.scandir(opened.fd) as entries:
            for entry in entries:
                try:
                    out.append(file_info(entry.name, entry.stat(follow_symlinks=False)))
                except FileNotFoundError:
                    continue
        return sorted(out, key=lambda i: i["Name"])


def read_at(fd: int, offset: int, limit: int) -> bytes:
    """Up to `limit` bytes at `offset` (pread: no shared file position)."""
    return os.pread(fd, limit, offset) if limit > 0 else b""


# -- task logs (alloc/logs/<task>.<stdout|stderr>.<n>) ------------------------------------

@dataclass
class LogFile:
    index: int
    name: str
    size: int


def log_files(root: str, task: str, kind: str) -> list[LogFile]:
    """The task's log files in index order; only regular files count (a link is skipped)."""
    pattern = re.compile(rf"^{re.escape(task)}\.{kind}\.(\d{{1,9}})$")
    try:
        logs = open_path(root, "alloc/logs")
    except NotFound:
        return []
    with logs:
        found = []
        with os.scandir(logs.fd) as entries:
            for entry in entries:
                m = pattern.match(entry.name)
                if not m:
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if statmod.S_ISREG(st.st_mode):
                    found.append(LogFile(int(m.group(1)), entry.name, st.st_size))
    return sorted(found, key=lambda f: f.index)


def read_log(root: str, name: str, offset: int, limit: int) -> bytes:
    """Up to `limit` bytes of log file `name` from `offset`, never through a link."""
    with open_path(root, "alloc/logs") as logs:
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=logs.fd)
        except FileNotFoundError:
            return b""
        except OSError as err:
            if err.errno == errno.ELOOP:
                return b""  # replaced by a link: not served
            raise
    try:
        if not statmod.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.pread(fd, limit, offset)
    finally:
        os.close(fd)
