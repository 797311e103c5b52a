"""``nomad server members`` and ``nomad agent-info``."""

from __future__ import annotations

from typing import Any

from pynomad.cli.api import APIError
from pynomad.cli.format import columnize, go_bool, to_json
from pynomad.cli.meta import GENERAL_OPTIONS, Meta

HELP = {
    "server members": """Usage: nomad server members [options]

  Display a list of the known servers and their status. Only Nomad servers are
  able to service this command.

Server Members Options:

  -verbose  Show detailed information about each member, including its tags.
  -json     Output the server members in JSON format.
""",
    "server join": """Usage: nomad server join [options] <addr> [<addr>...]

  Joins the local server to one or more Nomad servers. Joining is
  only required for server nodes, and only needs to succeed
  against one or more of the provided addresses. Once joined, the
  gossip layer will handle discovery of the other server nodes in
  the cluster.

  If ACLs are enabled, this command requires a token with the 'agent:write'
  capability.

""" + GENERAL_OPTIONS,
    "server force-leave": """Usage: nomad server force-leave [options] <node>

  Forces an server to enter the "left" state. This can be used to
  eject nodes which have failed and will not rejoin the cluster.
  Note that if the member is actually still alive, it will
  eventually rejoin the cluster again. The failed or left server will
  be garbage collected after 24h.

  If ACLs are enabled, this option requires a token with the 'agent:write'
  capability.

""" + GENERAL_OPTIONS + """
Server Force-Leave Options:

  -prune
    Removes failed or left server from the Serf member list immediately.
    If member is actually still alive, it will eventually rejoin the cluster again.
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


def join(meta: Meta, args: list[str]) -> int:
    """``nomad server join <addr>...``."""
    _, addrs = meta.parse(args, {})
    if not addrs:
        raise meta.usage_error("One or more node addresses must be given as arguments")
    try:
        resp, _ = meta.client().put("/v1/agent/join", None, {"address": addrs})
    except APIError as exc:
        raise meta.fail(f"Error joining: {exc}") from None
    resp = resp or {}
    if resp.get("error"):
        raise meta.fail(f"Error joining: failed joining: {resp['error']}")
    meta.ui.output(f"Joined {resp.get('num_joined', 0)} servers successfully")
    return 0


def force_leave(meta: Meta, args: list[str]) -> int:
    """``nomad server force-leave [-prune] <node>``."""
    opts, rest = meta.parse(args, {"prune": "bool"})
    if len(rest) != 1:
        raise meta.usage_error("This command takes one argument: <node>")
    params = {"node": rest[0]}
    if opts["prune"]:
        params["prune"] = "1"
    try:
        meta.client().put("/v1/agent/force-leave", None, params)
    except APIError as exc:
        raise meta.fail(f"Error force-leaving server {rest[0]}: {exc}") from None
    return 0


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
