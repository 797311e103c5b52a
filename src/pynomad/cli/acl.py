"""``nomad acl bootstrap``, ``nomad acl policy apply|list|info|delete`` and
``nomad acl token create|list|info|self|update|delete`` (Nomad's command/acl_*.go)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from pynomad.cli.api import APIError, path_id
from pynomad.helper.goformat import format_go_time, parse_duration, parse_rfc3339
from pynomad.cli.format import format_kv, format_list, go_bool, to_json
from pynomad.cli.meta import GENERAL_OPTIONS, Meta

_ACL_MGMT = "\n  If ACLs are enabled, this command requires a management ACL token.\n\n"


def _help(usage: str, text: str, options: str = "") -> str:
    return f"Usage: nomad {usage}\n\n  {text}\n{_ACL_MGMT}" + GENERAL_OPTIONS + options


_TOKEN_OPTS = """
Token Options:

  -name=""
    Sets the human readable name for the ACL token.

  -type="client"
    Sets the type of token. Must be one of "client" or "management".

  -global=false
    Toggles the global mode of the token.

  -policy=""
    Specifies a policy to associate with the token. Can be specified multiple
    times, but only with client type tokens.

  -ttl
    Specifies the time-to-live of the created ACL token (create only).

  -json
    Output the ACL token in JSON format.
"""

HELP = {
    "acl bootstrap": _help("acl bootstrap [options] [<path>]",
                           "Bootstrap is used to bootstrap the ACL system and get an initial "
                           "token.", "\nBootstrap Options:\n\n  -json\n    Output the "
                           "bootstrap response in JSON format.\n"),
    "acl policy apply": _help("acl policy apply [options] <name> <path>",
                              "Apply is used to create or update an ACL policy. The policy "
                              "is\n  sourced from <path> or from stdin if path is \"-\".",
                              "\nApply Options:\n\n  -description\n    Specifies a human "
                              "readable description for the policy.\n"),
    "acl policy list": _help("acl policy list", "List is used to list available ACL "
                             "policies.", "\nList Options:\n\n  -json\n    Output the ACL "
                             "policies in a JSON format.\n"),
    "acl policy info": _help("acl policy info <name>", "Info is used to fetch information "
                             "on an existing ACL policy."),
    "acl policy delete": _help("acl policy delete <policy_name>", "Delete is used to delete "
                               "an existing ACL policy."),
    "acl token create": _help("acl token create [options]", "Create is used to issue new ACL "
                              "tokens.", _TOKEN_OPTS),
    "acl token update": _help("acl token update [options] <token_accessor_id>", "Update is "
                              "used to update an existing ACL token.", _TOKEN_OPTS),
    "acl token list": _help("acl token list", "List is used to list existing ACL tokens.",
                            "\nList Options:\n\n  -json\n    Output the ACL tokens in a JSON "
                            "format.\n"),
    "acl token info": _help("acl token info <token_accessor_id>", "Info is used to fetch "
                            "information on an existing ACL token."),
    "acl token self": _help("acl token self", "Self is used to fetch information about the "
                            "currently set ACL token."),
    "acl token delete": _help("acl token delete <token_accessor_id>", "Delete is used to "
                              "delete an existing ACL token."),
}


# -- formatting -------------------------------------------------------------------------
def go_time(value: str | None) -> str:
    """An RFC 3339 time as Go's time.Time.String() in UTC ("2017-09-11 17:38:10.99 +0000 UTC")."""
    try:
        return format_go_time(parse_rfc3339(value or ""))
    except ValueError:
        return value or ""


def format_token(token: dict) -> str:
    rows = [f"Accessor ID|{token.get('AccessorID', '')}",
            f"Secret ID|{token.get('SecretID', '')}",
            f"Name|{token.get('Name', '')}",
            f"Type|{token.get('Type', '')}",
            f"Global|{go_bool(token.get('Global'))}",
            f"Create Time|{go_time(token.get('CreateTime'))}",
            f"Expiry Time|{go_time(token['ExpirationTime']) if token.get('ExpirationTime') else '<none>'}",
            f"Create Index|{token.get('CreateIndex', 0)}",
            f"Modify Index|{token.get('ModifyIndex', 0)}"]
    if token.get("Type") == "management":
        return format_kv(rows + ["Policies|n/a", "Roles|n/a"])
    out = format_kv(rows + [f"Policies|[{' '.join(token.get('Policies') or [])}]"])
    roles = token.get("Roles") or []
    role_rows = (["ID|Name"] + [f"{r.get('ID', '')}|{r.get('Name', '')}" for r in roles]
                 if roles else ["<none>"])
    return out + "\n\nRoles\n" + format_list(role_rows)


def _token_out(meta: Meta, token: dict, as_json: bool) -> int:
    meta.ui.output(to_json(token) if as_json else format_token(token))
    return 0


def _read_input(meta: Meta, path: str, what: str) -> str:
    try:
        return sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except OSError as exc:
        raise meta.fail(f"Error reading {what}: {exc}") from None


# -- bootstrap --------------------------------------------------------------------------
def bootstrap(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"json": "bool", "t": "str"})
    if len(args) > 1:
        raise meta.usage_error("This command takes up to one argument")
    body = None
    if args:
        secret = _read_input(meta, args[0], "file").strip()
        body = {"BootstrapSecret": secret}
    try:
        token, _ = meta.client().post("/v1/acl/bootstrap", body)
    except APIError as exc:
        raise meta.fail(f"Error bootstrapping: {exc}") from None
    return _token_out(meta, token or {}, opts["json"])


# -- policies ---------------------------------------------------------------------------
def policy_apply(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"description": "str", "job": "str", "group": "str",
                                   "task": "str"})
    if len(args) != 2:
        raise meta.usage_error("This command takes two arguments: <name> and <path>")
    name, path = args
    rules = _read_input(meta, path, "policy file")
    body = {"Name": name, "Description": opts["description"], "Rules": rules}
    if opts["job"]:
        ns = meta.client().config.namespace or "default"
        body["JobACL"] = {"Namespace": ns, "JobID": opts["job"], "Group": opts["group"],
                          "Task": opts["task"]}
    try:
        meta.client().post(f"/v1/acl/policy/{path_id(name)}", body)
    except APIError as exc:
        raise meta.fail(f"Error writing ACL policy: {exc}") from None
    meta.ui.output(f"Successfully wrote '{name}' ACL policy!")
    return 0


def policy_list(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"json": "bool", "t": "str"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    try:
        policies, _ = meta.client().get("/v1/acl/policies")
    except APIError as exc:
        raise meta.fail(f"Error listing ACL policies: {exc}") from None
    policies = policies or []
    if opts["json"]:
        meta.ui.output(to_json(policies))
    elif not policies:
        meta.ui.output("No policies found")
    else:
        meta.ui.output(format_list(["Name|Description"] + [
            f"{p.get('Name', '')}|{p.get('Description', '')}" for p in policies]))
    return 0


def policy_info(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"json": "bool", "t": "str"})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <name>")
    try:
        policy, _ = meta.client().get(f"/v1/acl/policy/{path_id(args[0])}")
    except APIError as exc:
        raise meta.fail(f"Error fetching ACL policy: {exc}") from None
    policy = policy or {}
    if opts["json"]:
        meta.ui.output(to_json(policy))
        return 0
    out = format_kv([f"Name|{policy.get('Name', '')}",
                     f"Description|{policy.get('Description', '')}",
                     f"CreateIndex|{policy.get('CreateIndex', 0)}",
                     f"ModifyIndex|{policy.get('ModifyIndex', 0)}"])
    job = policy.get("JobACL")
    if job:
        out += "\n\nAssociated Workload\n" + format_kv([
            f"Namespace|{job.get('Namespace', '')}", f"JobID|{job.get('JobID', '')}",
            f"Group|{job.get('Group', '')}", f"Task|{job.get('Task', '')}"])
    meta.ui.output(out + "\n\nRules\n\n" + (policy.get("Rules") or ""))
    return 0


def policy_delete(meta: Meta, args: list[str]) -> int:
    _, args = meta.parse(args, {})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <name>")
    try:
        meta.client().delete(f"/v1/acl/policy/{path_id(args[0])}")
    except APIError as exc:
        raise meta.fail(f"Error deleting ACL policy: {exc}") from None
    meta.ui.output(f"Successfully deleted '{args[0]}' ACL policy!")
    return 0


# -- tokens -----------------------------------------------------------------------------
_TOKEN_FLAGS = {"name": "str", "type": "str", "global": "bool", "policy": "list",
                "role-id": "list", "role-name": "list", "json": "bool", "t": "str"}


def token_create(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {**_TOKEN_FLAGS, "ttl": "str"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    body = {"Name": opts["name"], "Type": opts["type"] or "client",
            "Policies": opts["policy"] or [], "Global": opts["global"]}
    if opts["ttl"]:
        try:
            body["ExpirationTTL"] = parse_duration(opts["ttl"])
        except ValueError as exc:
            raise meta.fail(f"Failed to parse TTL as time duration: {exc}") from None
    try:
        token, _ = meta.client().post("/v1/acl/token", body)
    except APIError as exc:
        raise meta.fail(f"Error creating token: {exc}") from None
    return _token_out(meta, token or {}, opts["json"])


def token_update(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, _TOKEN_FLAGS, initial={"global": None})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <token_accessor_id>")
    client = meta.client()
    try:
        token, _ = client.get(f"/v1/acl/token/{path_id(args[0])}")
    except APIError as exc:
        raise meta.fail(f"Error fetching token: {exc}") from None
    token = dict(token or {})
    if opts["name"]:
        token["Name"] = opts["name"]
    if opts["type"]:
        token["Type"] = opts["type"]
    if opts["global"] is not None:
        token["Global"] = opts["global"]
    if opts["policy"]:
        token["Policies"] = opts["policy"]
    try:
        updated, _ = client.post(f"/v1/acl/token/{path_id(args[0])}", token)
    except APIError as exc:
        raise meta.fail(f"Error updating token: {exc}") from None
    return _token_out(meta, updated or {}, opts["json"])


def token_list(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"json": "bool", "t": "str"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    try:
        tokens, _ = meta.client().get("/v1/acl/tokens")
    except APIError as exc:
        raise meta.fail(f"Error listing tokens: {exc}") from None
    tokens = tokens or []
    if opts["json"]:
        meta.ui.output(to_json(tokens))
    elif not tokens:
        meta.ui.output("No tokens found")
    else:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        rows = ["Name|Type|Global|Accessor ID|Expired"]
        for t in tokens:
            expired = bool(t.get("ExpirationTime")) and t["ExpirationTime"][:19] <= now
            rows.append(f"{t.get('Name', '')}|{t.get('Type', '')}|{go_bool(t.get('Global'))}|"
                        f"{t.get('AccessorID', '')}|{go_bool(expired)}")
        meta.ui.output(format_list(rows))
    return 0


def token_info(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"json": "bool", "t": "str"})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <token_accessor_id>")
    try:
        token, _ = meta.client().get(f"/v1/acl/token/{path_id(args[0])}")
    except APIError as exc:
        raise meta.fail(f"Error fetching token: {exc}") from None
    return _token_out(meta, token or {}, opts["json"])


def token_self(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"json": "bool", "t": "str"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    try:
        token, _ = meta.client().get("/v1/acl/token/self")
    except APIError as exc:
        raise meta.fail(f"Error fetching self token: {exc}") from None
    return _token_out(meta, token or {}, opts["json"])


def token_delete(meta: Meta, args: list[str]) -> int:
    _, args = meta.parse(args, {})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <token_accessor_id>")
    try:
        meta.client().delete(f"/v1/acl/token/{path_id(args[0])}")
    except APIError as exc:
        raise meta.fail(f"Error deleting token: {exc}") from None
    meta.ui.output(f"Token {args[0]} successfully deleted")
    return 0
