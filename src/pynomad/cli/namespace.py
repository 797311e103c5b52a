"""``nomad namespace apply|list|status|inspect|delete`` (Nomad's command/namespace_*.go)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from pynomad.cli.api import APIError, path_id
from pynomad.cli.format import format_kv, format_list, go_quote, to_json
from pynomad.cli.meta import GENERAL_OPTIONS, Meta

HELP = {
    "namespace apply": """Usage: nomad namespace apply [options] <input>

  Apply is used to create or update a namespace. The specification file
  will be read from stdin by specifying "-", otherwise a path to the file is
  expected. If a file is not given, the name of the namespace is required.

  If ACLs are enabled, this command requires a management ACL token.

""" + GENERAL_OPTIONS + """
Apply Options:

  -quota
    The quota to attach to the namespace.

  -description
    An optional description for the namespace.

  -meta
    Metadata as key=value; may be given multiple times.

  -json
    Parse the input as a JSON namespace specification.
""",
    "namespace list": """Usage: nomad namespace list [options]

  List is used to list available namespaces.

""" + GENERAL_OPTIONS + """
List Options:

  -json
    Output the namespaces in their JSON format.
""",
    "namespace status": """Usage: nomad namespace status [options] <namespace>

  Status is used to view the status of a particular namespace.

""" + GENERAL_OPTIONS + """
Status Options:

  -json
    Output the latest namespace status information in a JSON format.
""",
    "namespace inspect": """Usage: nomad namespace inspect [options] <namespace>

  Inspect is used to view raw information about a particular namespace.

""" + GENERAL_OPTIONS,
    "namespace delete": """Usage: nomad namespace delete [options] <namespace>

  Delete is used to remove a namespace.

  If ACLs are enabled, this command requires a management ACL token.

""" + GENERAL_OPTIONS,
}

_SPEC_KEYS = {"name": "Name", "description": "Description", "quota": "Quota", "meta": "Meta"}
_CAP_KEYS = {"enabled_task_drivers": "EnabledTaskDrivers",
             "disabled_task_drivers": "DisabledTaskDrivers",
             "enabled_network_modes": "EnabledNetworkModes",
             "disabled_network_modes": "DisabledNetworkModes"}


def apply(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"description": "str", "quota": "str", "meta": "list",
                                   "json": "bool"}, initial={"description": None,
                                                              "quota": None})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <input>")
    target = args[0]
    client = meta.client()
    if target == "-" or os.path.isfile(target):
        spec = _read_spec(meta, target, opts["json"])
    else:
        spec = _existing(client, target) or {"Name": target}
        if opts["description"] is not None:
            spec["Description"] = opts["description"]
        if opts["quota"] is not None:
            spec["Quota"] = opts["quota"]
        for kv in opts["meta"] or []:
            key, sep, value = kv.partition("=")
            if not sep:
                raise meta.fail(f"Error parsing meta {kv!r}: must be key=value")
            spec.setdefault("Meta", None)
            spec["Meta"] = {**(spec["Meta"] or {}), key: value}
    try:
        client.put(f"/v1/namespace/{path_id(spec.get('Name', ''))}", spec)
    except APIError as exc:
        raise meta.fail(f"Error applying namespace specification: {exc}") from None
    meta.ui.output(f"Successfully applied namespace {go_quote(spec.get('Name', ''))}!")
    return 0


def _existing(client, name: str) -> dict | None:
    try:
        ns, _ = client.get(f"/v1/namespace/{path_id(name)}")
    except APIError as exc:
        if exc.status == 404:
            return None
        raise
    return {k: v for k, v in (ns or {}).items() if k not in ("CreateIndex", "ModifyIndex", "Hash")}


def _read_spec(meta: Meta, path: str, as_json: bool) -> dict:
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    except OSError as exc:
        raise meta.fail(f"Failed to read file: {exc}") from None
    if as_json or path.endswith(".json") or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise meta.fail(f"Error parsing namespace specification: {exc}") from None
        return data if "Name" in data else _from_hcl_doc(meta, data)
    import hcl2

    from pynomad.acl.policy import unquote_hcl

    try:
        doc = unquote_hcl(hcl2.loads(text))
    except Exception as exc:  # noqa: BLE001 - parser errors vary
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise meta.fail(f"Error parsing namespace specification: {first}") from None
    return _from_hcl_doc(meta, doc)


def _from_hcl_doc(meta: Meta, doc: dict) -> dict:
    spec: dict[str, Any] = {}
    for key, value in doc.items():
        if key in _SPEC_KEYS:
            if isinstance(value, list) and key == "meta":
                value = {k: v for item in value for k, v in item.items()}
            spec[_SPEC_KEYS[key]] = {str(k): str(v) for k, v in value.items()} \
                if key == "meta" else value
        elif key == "capabilities":
            blocks = value if isinstance(value, list) else [value]
            caps: dict[str, Any] = {}
            for b in blocks:
                for ck, cv in b.items():
                    if ck not in _CAP_KEYS:
                        raise meta.fail(f"Error parsing namespace specification: "
                                        f"unexpected key {ck!r} in capabilities")
                    caps[_CAP_KEYS[ck]] = cv
            spec["Capabilities"] = caps
        else:
            raise meta.fail(f"Error parsing namespace specification: unexpected key {key!r}")
    if not spec.get("Name"):
        raise meta.fail("Error parsing namespace specification: namespace name is required")
    return spec


def list_namespaces(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"json": "bool", "t": "str"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    try:
        namespaces, _ = meta.client().get("/v1/namespaces")
    except APIError as exc:
        raise meta.fail(f"Error retrieving namespaces: {exc}") from None
    namespaces = namespaces or []
    if opts["json"]:
        meta.ui.output(to_json(namespaces))
        return 0
    if not namespaces:
        meta.ui.output("No namespaces found")
        return 0
    rows = ["Name|Description"] + [f"{n.get('Name', '')}|{n.get('Description', '')}"
                                   for n in namespaces]
    meta.ui.output(format_list(rows))
    return 0


def _lookup(meta: Meta, name: str) -> dict:
    """The namespace named `name`, or the only one it prefixes (Nomad's getNamespace)."""
    client = meta.client()
    try:
        matches, _ = client.get("/v1/namespaces", {"prefix": name})
    except APIError as exc:
        raise meta.fail(f"Error retrieving namespaces: {exc}") from None
    matches = matches or []
    exact = [n for n in matches if n.get("Name") == name]
    if exact:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise meta.fail(f"Namespace {go_quote(name)} matched no namespaces")
    rows = ["Name|Description"] + [f"{n.get('Name', '')}|{n.get('Description', '')}"
                                   for n in matches]
    raise meta.fail(f"Prefix matched multiple namespaces\n\n{format_list(rows)}")


def status(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"json": "bool", "t": "str"})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <namespace>")
    ns = _lookup(meta, args[0])
    if opts["json"]:
        meta.ui.output(to_json(ns))
        return 0
    meta.ui.output(format_namespace_basics(ns))
    if ns.get("Meta"):
        meta.ui.output("")
        meta.ui.output("Metadata")
        meta.ui.output(format_kv([f"{k}|{v}" for k, v in sorted(ns["Meta"].items())]))
    return 0


def format_namespace_basics(ns: dict) -> str:
    caps = ns.get("Capabilities") or {}
    enabled = ",".join(caps.get("EnabledTaskDrivers") or []) or "*"
    disabled = ",".join(caps.get("DisabledTaskDrivers") or [])
    return format_kv([f"Name|{ns.get('Name', '')}", f"Description|{ns.get('Description', '')}",
                      f"Quota|{ns.get('Quota', '')}", f"EnabledDrivers|{enabled}",
                      f"DisabledDrivers|{disabled}"])


def inspect(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"t": "str", "json": "bool"})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <namespace>")
    meta.ui.output(to_json(_lookup(meta, args[0])))
    return 0


def delete(meta: Meta, args: list[str]) -> int:
    _, args = meta.parse(args, {})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <namespace>")
    try:
        meta.client().delete(f"/v1/namespace/{path_id(args[0])}")
    except APIError as exc:
        raise meta.fail(f"Error deleting namespace: {exc}") from None
    meta.ui.output(f"Successfully deleted namespace {go_quote(args[0])}!")
    return 0
