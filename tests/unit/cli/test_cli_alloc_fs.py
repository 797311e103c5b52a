"""`nomad alloc fs` / `nomad fs` against a fake API."""

from __future__ import annotations

import base64
import json

ALLOC_ID = "a8198d79-cfdb-6593-a999-1e9adabcba2e"
MTIME = "2016-01-28T05:39:00Z"


def _alloc() -> dict:
    return {"ID": ALLOC_ID, "Namespace": "default", "TaskGroup": "g", "Job": {"TaskGroups": []}}


def _setup(fake, stat: dict) -> None:
    fake.route("GET", "/v1/allocations", [{"ID": ALLOC_ID, "Namespace": "default"}])
    fake.route("GET", f"/v1/allocation/{ALLOC_ID}", _alloc())
    fake.route("GET", f"/v1/client/fs/stat/{ALLOC_ID}", stat)


def _entry(name, size, is_dir=False):
    return {"Name": name, "IsDir": is_dir, "Size": size, "ModTime": MTIME,
            "FileMode": "drwxrwxr-x" if is_dir else "-rw-rw-r--"}


def test_lists_directory(run_cli, fake_nomad):
    _setup(fake_nomad, _entry("/", 4096, True))
    fake_nomad.route("GET", f"/v1/client/fs/ls/{ALLOC_ID}",
                     [_entry("alloc", 4096, True), _entry("redis", 4096, True),
                      _entry("redis_exit_status", 0)])
    code, out, err = run_cli("alloc", "fs", "a819")
    assert (code, err) == (0, "")
    assert out == ("Mode        Size     Modified Time         Name\n"
                   "drwxrwxr-x  4.0 KiB  2016-01-28T05:39:00Z  alloc/\n"
                   "drwxrwxr-x  4.0 KiB  2016-01-28T05:39:00Z  redis/\n"
                   "-rw-rw-r--  0 B      2016-01-28T05:39:00Z  redis_exit_status\n")
    path_queries = [q.get("path") for m, p, q, b, h in fake_nomad.requests if "/fs/" in p]
    assert path_queries == [["/"], ["/"]]


def test_stat_machine_friendly(run_cli, fake_nomad):
    _setup(fake_nomad, _entry("redis.stdout", 17))
    code, out, err = run_cli("fs", "-stat", "-H", ALLOC_ID, "redis/local/redis.stdout")
    assert code == 0
    assert out.splitlines()[1].split() == ["-rw-rw-r--", "17", "2016-01-28T05:39:00Z",
                                           "redis.stdout"]


def test_cat_writes_bytes(fake_nomad, capsysbinary):
    from pynomad.cli.main import main

    _setup(fake_nomad, _entry("out.txt", 11))
    fake_nomad.route("GET", f"/v1/client/fs/cat/{ALLOC_ID}", "foobar\nbaz\n")
    assert main(["alloc", "fs", ALLOC_ID, "web/out.txt"]) == 0
    assert capsysbinary.readouterr().out == b"foobar\nbaz\n"


def test_tail_lines_uses_readat(fake_nomad, capsysbinary):
    from pynomad.cli.main import main

    data = "".join(f"l{i}\n" for i in range(20))
    _setup(fake_nomad, _entry("out.txt", len(data)))
    fake_nomad.route("GET", f"/v1/client/fs/readat/{ALLOC_ID}",
                     handler=lambda q, b: (200, data[int(q["offset"][0]):], 1))
    assert main(["alloc", "fs", "-tail", "-n", "3", ALLOC_ID, "out.txt"]) == 0
    assert capsysbinary.readouterr().out == b"l17\nl18\nl19\n"
    assert main(["alloc", "fs", "-tail", "-c", "4", ALLOC_ID, "out.txt"]) == 0
    assert capsysbinary.readouterr().out == b"l19\n"


def test_follow_decodes_frames(fake_nomad, capsysbinary):
    from pynomad.cli.main import main

    _setup(fake_nomad, _entry("out.txt", 6))
    body = "".join(json.dumps({"File": "out.txt", "Offset": 3 * (i + 1),
                               "Data": base64.b64encode(t).decode()})
                   for i, t in enumerate([b"ab\n", b"cd\n"]))
    fake_nomad.route("GET", f"/v1/client/fs/stream/{ALLOC_ID}", body)
    assert main(["alloc", "fs", "-f", ALLOC_ID, "out.txt"]) == 0
    assert capsysbinary.readouterr().out == b"ab\ncd\n"
    stream_q = [q for m, p, q, b, h in fake_nomad.requests if "/fs/stream/" in p][0]
    assert stream_q["origin"] == ["start"] and stream_q["follow"] == ["true"]


def test_errors(run_cli, fake_nomad):
    code, out, err = run_cli("alloc", "fs")
    assert code == 1 and "An allocation ID is required" in err
    code, out, err = run_cli("alloc", "fs", "a", "b", "c")
    assert code == 1 and "one or two arguments" in err
    _setup(fake_nomad, _entry("x", 1))
    fake_nomad.route("GET", f"/v1/client/fs/stat/{ALLOC_ID}", "stat nope: no such file",
                     status=404)
    code, out, err = run_cli("alloc", "fs", ALLOC_ID, "nope")
    assert code == 1
    assert err.startswith("Error stating file: Unexpected response code: 404")
    _setup(fake_nomad, _entry("x", 1))
    code, out, err = run_cli("alloc", "fs", "-tail", "-n", "1", "-c", "1", ALLOC_ID, "x")
    assert (code, err.strip()) == (1, "Both -n and -c set")
