"""``nomad var put|get|list|purge|init`` (Nomad's command/var_*.go)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pynomad.cli.api import APIError
from pynomad.cli.format import format_kv, format_list, go_quote
from pynomad.cli.meta import GENERAL_OPTIONS, Meta

HELP = {
    "var put": """Usage:
nomad var put [options] <variable spec file reference> [<key>=<value>]...
nomad var put [options] <path to store variable> [<variable spec file reference>] [<key>=<value>]...

  The 'var put' command is used to create or update an existing variable.
  Variable metadata and items can be supplied using a variable specification,
  by using command arguments, or by a combination of the two techniques.

  An entire variable specification can be provided to the command via standard
  input (stdin) by setting the first argument to "-" or from a file by using an
  @-prefixed path to a variable specification file. When providing variable
  data via stdin, you must provide the "-in" flag with the format of the
  specification, either "hcl" or "json"

  Items to be stored in the variable can be supplied using the specification,
  as a series of key-value pairs, or both. The value for a key-value pair can
  be a string, an @-prefixed file reference, or a '-' to get the value from
  stdin. Item values provided from file references or stdin are consumed as-is
  with no additional processing and do not require the input format to be
  specified.

  Values supplied as command line arguments supersede values provided in
  any variable specification piped into the command or loaded from file.

  If ACLs are enabled, this command requires the 'variables:write' capability
  for the destination namespace and path.

""" + GENERAL_OPTIONS + """
Var put Options:

  -check-index
     If set, the variable is only acted upon if the server-side version's index
     matches the provided value. When a variable specification contains
     a modify index, that modify index is used as the check-index for the
     check-and-set operation and can be overridden using this flag.

  -force
     Perform this operation regardless of the state or index of the variable
     on the server-side.

  -in (hcl | json)
     Parser to use for data supplied via standard input or when the variable
     specification's type can not be known using the file's extension.
     Defaults to "json".

  -out (go-template | hcl | json | none | table)
     Format to render created or updated variable. Defaults to "none" when
     stdout is a terminal and "json" when the output is redirected.

  -verbose
     Provides additional information via standard error to preserve standard
     output (stdout) for redirected output.
""",
    "var get": """Usage: nomad var get [options] <path>

  The 'var get' command is used to get the contents of an existing variable.

  If ACLs are enabled, this command requires a token with the 'variables:read'
  capability for the target variable's namespace and path.

""" + GENERAL_OPTIONS + """
Read Options:

  -item <item key>
     Print only the value of the given item. Specifying this option will
     take precedence over other formatting directives. The result will not
     have a trailing newline making it ideal for piping to other processes.

  -out (go-template | hcl | json | none | table)
     Format to render the variable in. Defaults to "table" when stdout is a
     terminal and to "json" when stdout is redirected.
""",
    "var list": """Usage: nomad var list [options] <prefix>

  List is used to list available variables. Supplying an optional prefix,
  filters the list to variables having a path starting with the prefix.

  If ACLs are enabled, this command requires the 'variables:list' capability
  for the namespaces and paths containing the variables to list.

""" + GENERAL_OPTIONS + """
List Options:

  -per-page
    How many results to show per page.

  -page-token
    Where to start pagination.

  -out (go-template | json | table | terse)
    Format to render the variables in. Defaults to "table" when stdout is a
    terminal and to "json" when stdout is redirected.

  -json
    Same as -out=json.
""",
    "var purge": """Usage: nomad var purge [options] <path>

  Purge is used to permanently delete an existing variable.

  If ACLs are enabled, this command requires a token with the 'variables:destroy'
  capability for the target variable's namespace and path.

""" + GENERAL_OPTIONS + """
Purge Options:

  -check-index
     If set, the variable is only purged if the server-side version's index
     matches the provided value.
""",
    "var init": """Usage: nomad var init <filename>

  Creates an example variable specification file that can be used as a
  starting point to customize further. When no filename is supplied, a
  default filename of "spec.nv.hcl" or "spec.nv.json" will be used depending
  on the output format.

Init Options:

  -out (hcl | json)
    Format of generated variable specification. Defaults to "hcl".

  -quiet
    Do not print success message.
""",
}

EXAMPLE_HCL = '''# A variable path can be specified in the specification file
# and will be used when writing the variable without specifying a
# path in the command or when writing JSON directly to the `/var/`
# HTTP API endpoint
# path = "path/to/variable"

# The Namespace to write the variable can be included in the specification. This
# value can be overridden by specifying the "-namespace" flag on the "put"
# command.
namespace = "default"

# The items map is the only strictly required part of a variable
# specification, since path and namespace can be set via other means. It
# contains the sensitive material to encrypt and store as a Nomad variable.
# The entire items map is encrypted and decrypted as a single unit.

# REMINDER: While keys in the items map can contain dots, using them in
# templates is easier when they do not. As a best practice, avoid dotted
# keys when possible.
items {
  key1 = "value 1"
  key2 = "value 2"
}
'''

EXAMPLE_JSON = '''{
  "Namespace": "default",
  "Items": {
    "key1": "value 1",
    "key2": "value 2"
  }
}
'''

_OUT_FORMATS = ("go-template", "hcl", "json", "none", "table")


# -- put -----------------------------------------------------------------------------
def put(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"check-index": "str", "force": "bool", "in": "str",
                                   "out": "str", "template": "str", "verbose": "bool"},
                            initial={"in": "json", "out": ""})
    out = opts["out"] or ("none" if meta.ui.is_tty() else "json")
    if out not in _OUT_FORMATS:
        raise meta.usage_error(f"Invalid value for -out: {out}")
    if opts["in"] not in ("hcl", "json"):
        raise meta.usage_error(f"Invalid value for -in: {opts['in']}")
    if opts["force"] and opts["check-index"]:
        raise meta.usage_error("The -force and -check-index flags are mutually exclusive")
    if not args:
        raise meta.usage_error("Not enough arguments (expected >1, got 0)")
    spec: dict[str, Any] = {}
    first, rest = args[0], args[1:]
    if first == "-" or first.startswith("@"):
        spec = _read_spec(meta, first, opts["in"])
    else:
        spec["Path"] = first
        if rest and (rest[0] == "-" or (rest[0].startswith("@") and "=" not in rest[0])):
            spec = {**_read_spec(meta, rest[0], opts["in"]), "Path": first}
            rest = rest[1:]
    items = dict(spec.get("Items") or {})
    for kv in rest:
        key, sep, value = kv.partition("=")
        if not sep:
            raise meta.usage_error(f"Error parsing item {go_quote(kv)}: must be key=value")
        items[key] = _item_value(meta, value)
    path = spec.get("Path") or ""
    if not path:
        raise meta.fail("Variable path is required")
    if not items:
        raise meta.fail("Error creating variable: variable missing required Items object")
    client = meta.client()
    namespace = client.config.namespace or spec.get("Namespace") or None
    cas = None
    if not opts["force"]:
        cas = int(spec.get("ModifyIndex") or 0)
        if opts["check-index"]:
            try:
                cas = int(opts["check-index"])
            except ValueError:
                raise meta.usage_error(
                    f"Invalid -check-index value {go_quote(opts['check-index'])}") from None
    body = {"Namespace": namespace or "default", "Path": path, "Items": items}
    try:
        var, _ = client.put(_var_url(path), body, params={"cas": cas}, namespace=namespace)
    except APIError as exc:
        if _cas_error(meta, exc, cas):
            return 1
        raise meta.fail(f"Error creating variable: {exc}") from None
    message = f"Created variable {go_quote(var['Path'])} with modify index {var['ModifyIndex']}"
    if opts["verbose"]:
        meta.ui.warn(message)
    if out == "none":
        meta.ui.output(message)
    else:
        _render(meta, var, out)
    return 0


def _read_spec(meta: Meta, ref: str, fmt: str) -> dict[str, Any]:
    try:
        if ref == "-":
            text = sys.stdin.read()
        else:
            name = ref[1:]
            with open(name, encoding="utf-8") as f:
                text = f.read()
            if name.endswith(".hcl"):
                fmt = "hcl"
            elif name.endswith(".json"):
                fmt = "json"
    except OSError as exc:
        raise meta.fail(f"Error reading variable specification: {exc}") from None
    try:
        return _parse_hcl_spec(text) if fmt == "hcl" else _parse_json_spec(text)
    except (ValueError, TypeError, KeyError) as exc:
        raise meta.fail(f"Error parsing variable specification: {exc}") from None


def _parse_json_spec(text: str) -> dict[str, Any]:
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("specification must be a JSON object")
    out = {k[:1].upper() + k[1:]: v for k, v in doc.items()}
    if "ModifyIndex" not in out and "Modify_index" in out:
        out["ModifyIndex"] = out["Modify_index"]
    return _check_items(out)


def _parse_hcl_spec(text: str) -> dict[str, Any]:
    import hcl2

    doc = hcl2.loads(text)
    items = doc.get("items") or {}
    if isinstance(items, list):  # `items { ... }` blocks
        merged: dict[str, Any] = {}
        for block in items:
            merged.update(block)
        items = merged
    out = {"Path": _unquote(doc.get("path", "")), "Namespace": _unquote(doc.get("namespace", "")),
           "Items": {_unquote(k): _unquote(v) for k, v in items.items()
                     if not k.startswith("__")},
           "ModifyIndex": doc.get("modify_index", 0)}
    return _check_items(out)


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _check_items(spec: dict[str, Any]) -> dict[str, Any]:
    for k, v in (spec.get("Items") or {}).items():
        if not isinstance(v, str):
            raise ValueError(f"item {k!r} must be a string")
    return spec


def _item_value(meta: Meta, value: str) -> str:
    if value == "-":
        return sys.stdin.read()
    if value.startswith("@"):
        try:
            with open(value[1:], encoding="utf-8") as f:
                return f.read()
        except OSError as exc:
            raise meta.fail(f"Error reading item value file: {exc}") from None
    return value


def _cas_error(meta: Meta, exc: APIError, check_index: int | None) -> bool:
    """Nomad's handleCASError: explain a check-and-set conflict."""
    if exc.status != 409:
        return False
    try:
        conflict = json.loads(exc.body)
    except ValueError:
        conflict = {}
    server_index = conflict.get("ModifyIndex", 0)
    meta.ui.error("\nCheck-and-Set conflict\n")
    text = (f"Your provided check-index ({check_index or 0}) does not match the server-side "
            f"index ({server_index}).\n\nIf you are sure you want to perform this operation, "
            f"add the -force or -check-index={server_index} flag before the positional "
            "arguments.")
    wrapped = "\n".join(textwrap.fill(p, 70, initial_indent="    ",
                                      subsequent_indent="    ") if p else ""
                        for p in text.split("\n"))
    meta.ui.warn(wrapped)
    return True


def _var_url(path: str) -> str:
    return "/v1/var/" + quote(path, safe="/~")


# -- get -----------------------------------------------------------------------------
def get(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"item": "str", "out": "str", "template": "str"},
                            initial={"out": ""})
    out = opts["out"] or ("table" if meta.ui.is_tty() else "json")
    if out not in _OUT_FORMATS:
        raise meta.usage_error(f"Invalid value for -out: {out}")
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <path>")
    client = meta.client()
    try:
        var, _ = client.get(_var_url(args[0]))
    except APIError as exc:
        if exc.status == 404:
            raise meta.fail("Variable not found") from None
        raise meta.fail(f"Error retrieving variable: {exc}") from None
    if opts["item"]:
        items = var.get("Items") or {}
        if opts["item"] not in items:
            raise meta.fail(f"Variable does not contain {go_quote(opts['item'])} item")
        meta.ui.stdout.write(items[opts["item"]])
        meta.ui.stdout.flush()
        return 0
    if out != "none":
        _render(meta, var, out)
    return 0


def _render(meta: Meta, var: dict[str, Any], out: str) -> None:
    if out == "json":
        meta.ui.output(as_pretty_json(var))
    elif out == "hcl":
        meta.ui.output(as_hcl(var))
    elif out == "table":
        meta.ui.output(as_table(var))
    elif out == "go-template":
        raise meta.fail("The go-template output format is not supported")


def as_pretty_json(var: dict[str, Any]) -> str:
    keys = ("Namespace", "Path", "CreateIndex", "ModifyIndex", "CreateTime", "ModifyTime",
            "Items")
    return json.dumps({k: var.get(k) for k in keys if k in var}, indent=2)


def as_hcl(var: dict[str, Any]) -> str:
    items = var.get("Items") or {}
    pad = max((len(k) for k in items), default=0)
    lines = [f'{k.rjust(pad)} = {json.dumps(v)}' for k, v in sorted(items.items())]
    return (f'namespace    = "{var.get("Namespace", "")}"\n'
            f'path         = "{var.get("Path", "")}"\n'
            f'create_index = {var.get("CreateIndex", 0)}  # Set by server\n'
            f'modify_index = {var.get("ModifyIndex", 0)}  # Set by server; consulted for '
            'check-and-set\n'
            f'create_time  = {var.get("CreateTime", 0)}   # Set by server\n'
            f'modify_time  = {var.get("ModifyTime", 0)}   # Set by server\n\n'
            'items = {\n' + "".join(line + "\n" for line in lines) + "}")


def as_table(var: dict[str, Any]) -> str:
    meta_lines = [f"Namespace|{var.get('Namespace', '')}", f"Path|{var.get('Path', '')}",
                  f"Create Time|{format_unix_nano(var.get('CreateTime', 0))}"]
    if var.get("CreateTime") != var.get("ModifyTime"):
        meta_lines.append(f"Modify Time|{format_unix_nano(var.get('ModifyTime', 0))}")
    meta_lines.append(f"Check Index|{var.get('ModifyIndex', 0)}")
    items = [f"{k}|{v}" for k, v in sorted((var.get("Items") or {}).items())]
    return format_kv(meta_lines) + "\n\nItems\n" + format_kv(items)


def format_unix_nano(ns: int) -> str:
    """Go's time.Unix(0, ns).Format(time.RFC3339) in local time."""
    text = datetime.fromtimestamp((ns or 0) / 1e9).astimezone().isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


# -- list ----------------------------------------------------------------------------
def list_vars(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"per-page": "int", "page-token": "str", "filter": "str",
                                   "out": "str", "template": "str", "json": "bool"},
                            initial={"out": ""})
    out = "json" if opts["json"] else (opts["out"] or ("table" if meta.ui.is_tty()
                                                       else "json"))
    if out not in ("go-template", "json", "table", "terse"):
        raise meta.usage_error(f"Invalid value for -out: {out}")
    if len(args) > 1:
        raise meta.usage_error("This command takes flags and either no arguments or one: "
                               "<prefix>")
    client = meta.client()
    params = {"prefix": args[0] if args else "", "per_page": opts["per-page"] or None,
              "next_token": opts["page-token"], "filter": opts["filter"]}
    try:
        found, qm = client.get("/v1/vars", params)
    except APIError as exc:
        raise meta.fail(f"Error retrieving vars: {exc}") from None
    found = found or []
    if out == "json":
        if qm.next_token:
            meta.ui.output(json.dumps({"Data": found, "QueryMeta": {
                "KnownLeader": qm.known_leader, "LastContact": 0,
                "LastIndex": qm.last_index, "NextToken": qm.next_token}}, indent=4))
        else:
            meta.ui.output(json.dumps(found, indent=4))
        return 0
    if out == "go-template":
        raise meta.fail("The go-template output format is not supported")
    if out == "terse":
        for v in found:
            meta.ui.output(v.get("Path", ""))
    elif not found:
        meta.ui.output("No matching variables found")
    else:
        rows = ["Namespace|Path|Last Updated"] + [
            f"{v.get('Namespace', '')}|{v.get('Path', '')}|"
            f"{format_unix_nano(v.get('ModifyTime', 0))}" for v in found]
        meta.ui.output(format_list(rows))
    if qm.next_token:
        meta.ui.warn(f"Next page token: {qm.next_token}")
    return 0


# -- purge ---------------------------------------------------------------------------
def purge(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"check-index": "str", "y": "bool"})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <path>")
    path = args[0]
    cas = None
    if opts["check-index"]:
        try:
            cas = int(opts["check-index"])
        except ValueError:
            raise meta.usage_error(
                f"Invalid -check-index value {go_quote(opts['check-index'])}") from None
    try:
        meta.client().delete(_var_url(path), params={"cas": cas})
    except APIError as exc:
        if _cas_error(meta, exc, cas):
            return 1
        raise meta.fail(f"Error purging variable: {exc}") from None
    meta.ui.output(f"Successfully purged variable {go_quote(path)}!")
    return 0


# -- init ----------------------------------------------------------------------------
def init(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"out": "str", "quiet": "bool"}, client=False,
                            initial={"out": "hcl"})
    if opts["out"] not in ("hcl", "json"):
        raise meta.usage_error(f"Invalid value for -out: {opts['out']}")
    if len(args) > 1:
        raise meta.usage_error("This command takes no arguments or one: <filename>")
    name = args[0] if args else f"spec.nv.{opts['out']}"
    if os.path.exists(name):
        raise meta.fail(f"File {go_quote(name)} already exists")
    try:
        with open(name, "w", encoding="utf-8") as f:
            f.write(EXAMPLE_HCL if opts["out"] == "hcl" else EXAMPLE_JSON)
    except OSError as exc:
        raise meta.fail(f"Failed to write {go_quote(name)}: {exc}") from None
    if not opts["quiet"]:
        meta.ui.output(f"Example variable specification written to {name}")
    return 0

