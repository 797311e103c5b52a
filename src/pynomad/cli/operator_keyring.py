"""``nomad operator root keyring list|rotate|remove`` (Nomad's
command/operator_root_keyring_*.go): the root keys that encrypt variables and sign
workload identities."""

from __future__ import annotations

from pynomad.cli.api import APIError, path_id
from pynomad.cli.format import format_list, format_time_ns
from pynomad.cli.meta import GENERAL_OPTIONS, Meta

_MGMT = "\n  If ACLs are enabled, this command requires a management token.\n\n"
_VERBOSE = "\n  -verbose\n    Show full information.\n"

HELP = {
    "operator root keyring list": "Usage: nomad operator root keyring list [options]\n\n"
    "  List the currently installed keys. This list returns key metadata only and\n"
    "  not the keys themselves." + _MGMT + GENERAL_OPTIONS + "\nKeyring Options:\n"
    + _VERBOSE,
    "operator root keyring rotate": "Usage: nomad operator root keyring rotate [options]\n\n"
    "  Generate a new encryption key for all future variables." + _MGMT + GENERAL_OPTIONS
    + "\nKeyring Options:\n\n  -full\n    Decrypt all existing variables and re-encrypt "
    "with the new key. This command\n    will immediately return and the re-encryption "
    "process will run\n    asynchronously on the leader.\n" + _VERBOSE,
    "operator root keyring remove": "Usage: nomad operator root keyring remove [options] "
    "<key ID>\n\n  Remove an encryption key from the cluster. This operation may only be\n"
    "  performed on keys that are not the active key." + _MGMT + GENERAL_OPTIONS,
}


def render_keys(keys: list[dict], verbose: bool) -> str:
    rows = ["Key|State|Create Time"]
    for k in keys:
        key_id = k.get("KeyID", "")
        rows.append(f"{key_id if verbose else key_id[:8]}|{k.get('State', '')}|"
                    f"{format_time_ns(int(k.get('CreateTime') or 0))}")
    return format_list(rows)


def keyring_list(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"verbose": "bool"})
    if args:
        raise meta.usage_error("This command requires no arguments.")
    try:
        keys, _ = meta.client().get("/v1/operator/keyring/keys")
    except APIError as exc:
        raise meta.fail(f"error: {exc}") from None
    meta.ui.output(render_keys(keys or [], opts["verbose"]))
    return 0


def keyring_rotate(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"verbose": "bool", "full": "bool"})
    if args:
        raise meta.usage_error("This command requires no arguments.")
    params = {"full": "true"} if opts["full"] else None
    try:
        out, _ = meta.client().put("/v1/operator/keyring/rotate", None, params=params)
    except APIError as exc:
        raise meta.fail(f"error: {exc}") from None
    meta.ui.output(render_keys([(out or {}).get("Key") or {}], opts["verbose"]))
    return 0


def keyring_remove(meta: Meta, args: list[str]) -> int:
    _, args = meta.parse(args, {"verbose": "bool"})
    if len(args) != 1:
        raise meta.usage_error("This command requires one argument: <key ID>")
    try:
        meta.client().delete(f"/v1/operator/keyring/key/{path_id(args[0])}")
    except APIError as exc:
        raise meta.fail(f"error: {exc}") from None
    meta.ui.output(f"Removed encryption key {args[0]}")
    return 0
