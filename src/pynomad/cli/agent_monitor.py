"""``nomad monitor``: stream the agent's logs (``GET /v1/agent/monitor``) until interrupted."""

from __future__ import annotations

import sys

from pynomad.cli.alloc_fs import frame_data
from pynomad.cli.api import APIError
from pynomad.cli.meta import Meta

HELP = {
    "monitor": """Usage: nomad monitor [options]

  Stream log messages of a nomad agent. The monitor command lets you
  listen for log levels that may be filtered out of the Nomad agent. For
  example your agent may only be logging at INFO level, but with the monitor
  command you can set -log-level DEBUG

  When ACLs are enabled, this command requires a token with the 'agent:read'
  capability.

Monitor Specific Options:

  -log-level <level>
    Sets the log level to monitor (default: INFO)

  -log-include-location
    Include file and line information in each log line. The default is false.

  -node-id <node-id>
    Sets the specific node to monitor

  -server-id <server-id>
    Sets the specific server to monitor

  -json
    Sets log output to JSON format
""",
}


def monitor(meta: Meta, args: list[str]) -> int:
    """``nomad monitor [-log-level L] [-json] [-log-include-location]``."""
    opts, args = meta.parse(args, {"log-level": "str", "log-include-location": "bool",
                                   "node-id": "str", "server-id": "str", "json": "bool"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    params = {"log_level": opts["log-level"] or "info", "log_json": opts["json"],
              "log_include_location": opts["log-include-location"],
              "node_id": opts["node-id"], "server_id": opts["server-id"]}
    try:
        resp = meta.client().open("GET", "/v1/agent/monitor", params=params, stream=True)
    except APIError as exc:
        meta.ui.error(f"Error starting monitor: {exc}")
        raise meta.usage_error() from None
    out = sys.stdout.buffer

    def chunks():
        while data := resp.read1(65536):
            yield data

    try:
        for data in frame_data(chunks()):
            out.write(data)
            out.flush()
    except KeyboardInterrupt:
        return 0
    return 0
