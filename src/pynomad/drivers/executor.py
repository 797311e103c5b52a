"""Task executor: a tiny, stdlib-only process that owns one task.

Run as `python -m pynomad.drivers.executor SPEC.json` (the raw_exec driver runs this
file by path with `-I -S` for a fast start). It is started in its own session, so it
and the task survive the agent being killed. It:

1. launches the command in a new process group (as `user` when root), cwd = task dir;
2. prints one JSON line on stdout, `{"pid": N, "executor_pid": M}` or
   `{"error": "..."}`, then detaches from the agent (stdout/stderr go to
   `executor.out`); it forks first so that it is not the agent's child;
3. copies the task's stdout/stderr into Nomad's rotating log files
   `<logs>/<task>.stdout.<n>` / `.stderr.<n>` (`max_file_size` bytes, `max_files` kept);
4. when the task exits, writes `{"exit_code", "signal", "err", "finished_at"}`
   atomically to the status file and exits.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time

READ_SIZE = 64 * 1024
DRAIN_IDLE_S = 0.2
POLL_S = 0.25


class FileRotator:
    """Nomad's log rotator: `<base>.<idx>`, a new index when a file reaches `max_size`.

    Lines are kept whole when they fit in the remaining space; the lowest indexes are
    purged beyond `max_files`. Writes are unbuffered so followers see output at once.
    """

    def __init__(self, base: str, max_files: int, max_size: int):
        self.base = base
        self.dir = os.path.dirname(base) or "."
        self.prefix = os.path.basename(base) + "."
        self.max_files = max(1, max_files)
        self.max_size = max(1, max_size)
        self.idx = max(self._indexes(), default=0)
        self.fd = -1
        self.size = 0
        self._open()

    def _indexes(self) -> list[int]:
        out = []
        for name in os.listdir(self.dir):
            if name.startswith(self.prefix) and name[len(self.prefix):].isdigit():
                out.append(int(name[len(self.prefix):]))
        return out

    def _path(self, idx: int) -> str:
        return f"{self.base}.{idx}"

    def _open(self) -> None:
        self.fd = os.open(self._path(self.idx), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.size = os.fstat(self.fd).st_size

    def _rotate(self) -> None:
        os.close(self.fd)
        while True:
            self.idx += 1
            try:
                if os.stat(self._path(self.idx)).st_size < self.max_size:
                    break
            except FileNotFoundError:
                break
        self._open()
        self.purge()

    def purge(self) -> None:
        """Delete the oldest files beyond `max_files`."""
        indexes = sorted(self._indexes())
        for idx in indexes[:max(0, len(indexes) - self.max_files)]:
            try:
                os.unlink(self._path(idx))
            except OSError:
                pass

    def _chunk(self, data: bytes) -> int:
        """How many bytes of `data` go into the current file (0 = rotate first)."""
        room = self.max_size - self.size
        if len(data) <= room:
            return len(data)
        cut = data.rfind(b"\n", 0, room)
        if cut >= 0:
            return cut + 1
        line_end = data.find(b"\n")
        line_len = len(data) if line_end < 0 else line_end + 1
        if self.size > 0 and line_len <= self.max_size:
            return 0
        return room

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self.size >= self.max_size:
                self._rotate()
            n = self._chunk(bytes(view[: self.max_size + 1]))
            if n == 0:
                self._rotate()
                continue
            written = os.write(self.fd, view[:n])
            self.size += written
            view = view[written:]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _write_json_atomic(path: str, doc: dict) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _credentials(user: str) -> dict:
    """Popen keyword arguments to run as `user` (root only)."""
    if not user:
        return {}
    import pwd
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise OSError(f"user {user!r} not found") from None
    if os.geteuid() != 0:
        if pw.pw_uid == os.geteuid():
            return {}
        raise OSError(f"cannot run task as user {user!r}: the agent is not running as root")
    groups = os.getgrouplist(pw.pw_name, pw.pw_gid)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": groups}


def _launch(spec: dict, out_w: int, err_w: int) -> subprocess.Popen:
    env = dict(spec.get("env") or {})
    if spec.get("user"):
        import pwd
        try:
            pw = pwd.getpwnam(spec["user"])
            env.setdefault("USER", pw.pw_name)
            env.setdefault("HOME", pw.pw_dir)
        except KeyError:
            pass
    return subprocess.Popen(
        [spec["command"], *spec.get("args", [])], env=env, cwd=spec.get("cwd") or None,
        stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w, close_fds=True,
        process_group=0, **_credentials(spec.get("user", "")))


def _detach(log_path: str) -> None:
    """Point our stdout/stderr at `executor.out`; the agent may be gone from now on."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def _make_sinks(spec: dict) -> tuple:
    if spec.get("logs_disabled") or not spec.get("stdout"):
        return None, None
    max_files = int(spec.get("max_files", 10))
    max_size = int(spec.get("max_file_size", 10 * 1024 * 1024))
    return (FileRotator(spec["stdout"], max_files, max_size),
            FileRotator(spec["stderr"], max_files, max_size))


def _pump(proc: subprocess.Popen, fds: dict[int, FileRotator | None]) -> int:
    """Copy output until the task exits and its pipes drain; return the raw returncode."""
    sel = selectors.DefaultSelector()
    for fd in fds:
        sel.register(fd, selectors.EVENT_READ)
    exited_at = None
    while fds:
        events = sel.select(DRAIN_IDLE_S if exited_at else POLL_S)
        for key, _ in events:
            data = os.read(key.fd, READ_SIZE)
            sink = fds.get(key.fd)
            if not data:
                sel.unregister(key.fd)
                os.close(key.fd)
                fds.pop(key.fd)
            elif sink is not None:
                sink.write(data)
        if exited_at is None and proc.poll() is not None:
            exited_at = time.monotonic()
        elif exited_at is not None and not events:
            break   # task gone and no more output: a leftover child may hold the pipe
    for fd in fds:
        os.close(fd)
    return proc.wait()


def _daemonize() -> None:
    """Fork once so the agent's child exits at once and we are re-parented (no zombie,
    nothing for the agent to reap, and nothing tying us to the agent's lifetime)."""
    if os.fork() > 0:
        os._exit(0)


def run(spec: dict, launch=_launch) -> int:
    """Own one task. `launch(spec, out_w, err_w)` starts it and returns a Popen-like
    object; if that has a `finish()`, its dict (e.g. an OOM kill) joins the status."""
    if spec.get("daemonize", True):
        _daemonize()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        proc = launch(spec, out_w, err_w)
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        print(json.dumps({"error": f"failed to launch command {spec['command']!r}: {e}"}),
              flush=True)
        return 1
    finally:
        os.close(out_w)
        os.close(err_w)
    print(json.dumps({"pid": proc.pid, "executor_pid": os.getpid()}), flush=True)
    _detach(spec.get("executor_log") or os.devnull)
    out_sink, err_sink = _make_sinks(spec)
    rc = _pump(proc, {out_r: out_sink, err_r: err_sink})
    for sink in (out_sink, err_sink):
        if sink is not None:
            sink.close()
    signal = -rc if rc < 0 else 0
    exit_code = 128 + signal if signal else rc
    status = {"exit_code": exit_code, "signal": signal, "err": ""}
    finish = getattr(proc, "finish", None)
    if finish is not None:
        status.update(finish())
    status["finished_at"] = time.time_ns()
    _write_json_atomic(spec["status_path"], status)
    return 0


def main(argv: list[str] | None = None, launch=_launch) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m pynomad.drivers.executor SPEC.json", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        spec = json.load(f)
    return run(spec, launch)


if __name__ == "__main__":
    sys.exit(main())
