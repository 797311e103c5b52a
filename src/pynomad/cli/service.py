"""``nomad service list|info|delete`` (Nomad's command/service_*.go): Nomad's native
service discovery registrations."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pynomad.cli.api import APIError
from pynomad.cli.format import format_kv, format_list, limit, to_json
from pynomad.cli.meta import GENERAL_OPTIONS, Meta

HELP = {
    "service list": """Usage: nomad service list [options]

  List is used to list the currently registered services.

  If ACLs are enabled, this command requires a token with the 'read-job'
  capabilities for the namespace of all services. Any namespaces that the token
  does not have access to will have its services filtered from the results.

""" + GENERAL_OPTIONS + """
Service List Options:

  -json
    Output the services in JSON format.

  -t
    Format and display the services using a Go template.
""",
    "service info": """Usage: nomad service info [options] <service_name>

  Info is used to read the services registered to a single service name.

  When ACLs are enabled, this command requires a token with the 'read-job'
  capability for the service namespace.

""" + GENERAL_OPTIONS + """
Service Info Options:

  -json
    Output the service in JSON format.

  -t
    Format and display the service using a Go template.

  -verbose
    Display full information.

  -tag
    Filter the registrations by this tag.
""",
    "service delete": """Usage: nomad service delete [options] <service_name> <service_id>

  Delete is used to deregister the specified service registration. It should be
  used with caution and can only remove a single registration, via the service
  name and service ID, at a time.

  When ACLs are enabled, this command requires a token with the 'submit-job'
  capability for the service registration namespace.

""" + GENERAL_OPTIONS,
}

NO_REGISTRATIONS = "No service registrations found"


def _no_templates(meta: Meta, opts: dict[str, Any]) -> None:
    if opts.get("t"):
        raise meta.fail("Error formatting the data: Go templates (-t) are not supported")


def list_services(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"json": "bool", "t": "str"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    _no_templates(meta, opts)
    try:
        found, _ = meta.client().get("/v1/services")
    except APIError as exc:
        raise meta.fail(f"Error listing service registrations: {exc}") from None
    found = found or []
    if opts["json"]:
        meta.ui.output(to_json(found))
        return 0
    if not found:
        meta.ui.output(NO_REGISTRATIONS)
        return 0
    meta.ui.output(format_service_list(found, meta.all_namespaces()))
    return 0


def format_service_list(found: list[dict[str, Any]], all_namespaces: bool) -> str:
    """Nomad's table: service name, the namespace with `-namespace=*`, and tags."""
    header = "Service Name|Namespace|Tags" if all_namespaces else "Service Name|Tags"
    rows = [header]
    for entry in sorted(found, key=lambda e: e.get("Namespace") or ""):
        ns = entry.get("Namespace") or ""
        lines = []
        for svc in entry.get("Services") or []:
            tags = "[" + ",".join(svc.get("Tags") or []) + "]"
            name = svc.get("ServiceName") or ""
            lines.append(f"{name}|{ns}|{tags}" if all_namespaces else f"{name}|{tags}")
        rows += sorted(lines)
    return format_list(rows)


def info(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"json": "bool", "t": "str", "verbose": "bool",
                                   "tag": "str", "per-page": "int", "page-token": "str",
                                   "filter": "str"})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <service_name>")
    _no_templates(meta, opts)
    params = {"tag": opts["tag"] or None, "per_page": opts["per-page"] or None,
              "next_token": opts["page-token"] or None, "filter": opts["filter"] or None}
    try:
        regs, _ = meta.client().get(f"/v1/service/{quote(args[0], safe='')}", params)
    except APIError as exc:
        raise meta.fail(f"Error listing service registrations: {exc}") from None
    regs = regs or []
    if opts["json"]:
        meta.ui.output(to_json(regs))
        return 0
    if not regs:
        meta.ui.output(NO_REGISTRATIONS)
        return 0
    if opts["verbose"]:
        meta.ui.output("\n\n".join(format_registration(r) for r in regs))
    else:
        meta.ui.output(format_registrations(regs))
    return 0


def _address(reg: dict[str, Any]) -> str:
    return f"{reg.get('Address', '')}:{reg.get('Port', 0)}"


def _tags(reg: dict[str, Any]) -> str:
    return "[" + ",".join(reg.get("Tags") or []) + "]"


def format_registrations(regs: list[dict[str, Any]]) -> str:
    rows = ["Job ID|Address|Tags|Node ID|Alloc ID"]
    rows += [f"{r.get('JobID', '')}|{_address(r)}|{_tags(r)}|{limit(r.get('NodeID'), 8)}|"
             f"{limit(r.get('AllocID'), 8)}" for r in regs]
    return format_list(rows)


def format_registration(reg: dict[str, Any]) -> str:
    return format_kv([f"ID|{reg.get('ID', '')}",
                      f"Service Name|{reg.get('ServiceName', '')}",
                      f"Namespace|{reg.get('Namespace', '')}",
                      f"Job ID|{reg.get('JobID', '')}",
                      f"Alloc ID|{reg.get('AllocID', '')}",
                      f"Node ID|{reg.get('NodeID', '')}",
                      f"Datacenter|{reg.get('Datacenter', '')}",
                      f"Address|{_address(reg)}",
                      f"Tags|{_tags(reg)}"])


def delete(meta: Meta, args: list[str]) -> int:
    _, args = meta.parse(args, {})
    if len(args) != 2:
        raise meta.usage_error("This command takes two arguments: <service_name> and "
                               "<service_id>")
    name, service_id = (quote(a, safe="") for a in args)
    try:
        meta.client().delete(f"/v1/service/{name}/{service_id}")
    except APIError as exc:
        raise meta.fail(f"Error deleting service registration: {exc}") from None
    meta.ui.output("Successfully deleted service registration")
    return 0
