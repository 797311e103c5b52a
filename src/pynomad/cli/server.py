"""``nomad server members`` and ``nomad agent-info``."""

from __future__ import annotations

from typing import Any

from pynomad.cli.api import APIError
from pynomad.cli.format import columnize, go_bool, to_json
from pynomad.cli.meta import Meta

HELP = {
    "server members": """Usage: nomad server members [options]

  Display a list of the known servers and their status. Only Nomad servers are
  able to service this command.

Server Members Options:

  -verbose  Show detailed information about each member, including its tags.
  -json     Output the server members in JSON format.
""",
    "agent-info": """Usage: nomad agent-info [options]

  Display status information about the local agent.

Agent Info Options:

  -json     Output the agent info in its JSON format.
""",
}


def members(meta: Meta, args: list[str]) -> int:
    """``nomad server members [-verbose] [-json]``."""
    opts, args = meta.parse(args, {"detailed": "bool", "verbose": "bool", "json": "bool",
                                   "t": "str"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    verbose = opts["verbose"] or opts["detailed"]
    client = meta.client()
    try:
        data, _ = client.get("/v1/agent/members")
    except APIError as exc:
        raise meta.fail(f"Error querying servers: {exc}") from None
    if data is None:
        meta.ui.error("Agent doesn't know about server members")
        return 0
    mems = sorted(data.get("Members") or [], key=lambda m: m.get("Name", ""))
    leaders, leader_err = _region_leaders(meta, mems)
    if opts["json"]:
        for m in mems:
            m.setdefault("Tags", {})["Leader"] = go_bool(_is_leader(m, leaders))
        meta.ui.output(to_json(mems))
        return 0
    rows = _verbose_rows(mems, leaders) if verbose else _standard_rows(mems, leaders)
    meta.ui.output(columnize(rows))
    if leader_err:
        meta.ui.output("")
        meta.ui.warn(f"Error determining leaders: {leader_err}")
        return 1
    return 0


def _tags(m: dict[str, Any]) -> dict[str, str]:
    return m.get("Tags") or {}


def _standard_rows(mems: list[dict[str, Any]], leaders: dict[str, str]) -> list[str]:
    rows = ["Name|Address|Port|Status|Leader|Raft Version|Build|Datacenter|Region"]
    for m in mems:
        t = _tags(m)
        rows.append("|".join([m.get("Name", ""), m.get("Addr", ""), str(m.get("Port", 0)),
                              m.get("Status", ""), go_bool(_is_leader(m, leaders)),
                              t.get("raft_vsn", ""), t.get("build", ""), t.get("dc", ""),
                              t.get("region", "")]))
    return rows


def _verbose_rows(mems: list[dict[str, Any]], leaders: dict[str, str]) -> list[str]:
    rows = ["Name|Address|Port|Status|Leader|Protocol|Raft Version|Build|Datacenter|Region|Tags"]
    for m in mems:
        t = _tags(m)
        tags = ",".join(f"{k}={v}" for k, v in t.items())
        rows.append("|".join([m.get("Name", ""), m.get("Addr", ""), str(m.get("Port", 0)),
                              m.get("Status", ""), go_bool(_is_leader(m, leaders)),
                              str(m.get("ProtocolCur", 0)), t.get("raft_vsn", ""),
                              t.get("build", ""), t.get("dc", ""), t.get("region", ""), tags]))
    return rows


def _region_leaders(meta: Meta, mems: list[dict[str, Any]]) -> tuple[dict[str, str], str]:
    regions = sorted({_tags(m).get("region", "") for m in mems if m.get("Status") != "left"})
    leaders: dict[str, str] = {}
    errors = []
    for region in regions:
        try:
            leader, _ = meta.client().get("/v1/status/leader", {"region": region})
            leaders[region] = leader or ""
        except APIError as exc:
            errors.append(f'Region "{region}": {exc}')
    if not errors:
        return leaders, ""
    if len(errors) == 1:
        return leaders, "1 error occurred:\n\t* " + errors[0] + "\n\n"
    return leaders, f"{len(errors)} errors occurred:\n\t* " + "\n\t* ".join(errors) + "\n\n"


def _join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _is_leader(m: dict[str, Any], leaders: dict[str, str]) -> bool:
    t = _tags(m)
    region = t.get("region", "")
    return region in leaders and leaders[region] == _join_host_port(m.get("Addr", ""),
                                                                       t.get("port", ""))


def agent_info(meta: Meta, args: list[str]) -> int:
    """``nomad agent-info [-json]``."""
    opts, args = meta.parse(args, {"json": "bool", "t": "str"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    try:
        info, _ = meta.client().get("/v1/agent/self")
    except APIError as exc:
        raise meta.fail(f"Error querying agent info: {exc}") from None
    info = info or {}
    if opts["json"]:
        meta.ui.output(to_json(info))
        return 0
    stats = info.get("stats") or info.get("Stats") or {}
    for key in sorted(stats):
        meta.ui.output(key)
        section = stats[key] or {}
        for sub in sorted(section):
            meta.ui.output(f"  {sub} = {section[sub]}")
    return 0
