"""`nomad monitor` against a fake API."""

from __future__ import annotations

import base64
import json


def test_monitor_prints_frames(fake_nomad, capsysbinary):
    from pynomad.cli.main import main

    lines = [b"2024-01-01T00:00:00.000Z [INFO]  agent: one\n", b"x [DEBUG] agent: two\n"]
    body = "{}" + "".join(json.dumps({"Data": base64.b64encode(l).decode()}) for l in lines)
    fake_nomad.route("GET", "/v1/agent/monitor", body)
    assert main(["monitor", "-log-level", "debug", "-json"]) == 0
    assert capsysbinary.readouterr().out == b"".join(lines)
    query = [q for m, p, q, b, h in fake_nomad.requests if p == "/v1/agent/monitor"][0]
    assert query["log_level"] == ["debug"] and query["log_json"] == ["true"]


def test_monitor_error(fake_nomad, run_cli):
    fake_nomad.route("GET", "/v1/agent/monitor", "Unknown log level: loud", status=400)
    code, out, err = run_cli("monitor", "-log-level", "loud")
    assert code == 1
    assert err.startswith("Error starting monitor: Unexpected response code: 400 "
                          "(Unknown log level: loud)")
    code, out, err = run_cli("monitor", "extra")
    assert code == 1 and "This command takes no arguments" in err
