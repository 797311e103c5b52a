"""``nomad operator gossip keyring install|use|list|remove|generate``, the older
``nomad operator keyring -install|-use|-list|-remove`` and ``nomad operator keygen``
(Nomad's command/operator_gossip_keyring_*.go, operator_keyring.go, operator_keygen.go)."""

from __future__ import annotations

import base64
import os

from pynomad.cli.api import APIError
from pynomad.cli.format import format_list
from pynomad.cli.meta import GENERAL_OPTIONS, Meta

_ACL_NOTE = """  This command can only be run against server nodes. It returns 0 if all nodes
  reply and there are no errors. If any node fails to reply or reports failure,
  the exit code will be 1.

  If ACLs are enabled, this command requires a token with the 'agent:write'
  capability.

"""

HELP = {
    "operator gossip keyring install": """Usage: nomad operator gossip keyring install [options] <key>

  Install a new encryption key used for gossip. This will broadcast the new key
  to all members in the cluster.

""" + _ACL_NOTE + GENERAL_OPTIONS,
    "operator gossip keyring use": """Usage: nomad operator gossip keyring use [options] <key>

  Change the encryption key used for gossip. The key must already be installed
  before this operation can succeed.

""" + _ACL_NOTE + GENERAL_OPTIONS,
    "operator gossip keyring list": """Usage: nomad operator gossip keyring list [options]

  List all gossip keys currently in use within the cluster.

""" + _ACL_NOTE + GENERAL_OPTIONS,
    "operator gossip keyring remove": """Usage: nomad operator gossip keyring remove [options] <key>

  Remove the given key from the cluster. This operation may only be performed
  on keys which are not currently the primary key.

""" + _ACL_NOTE + GENERAL_OPTIONS,
    "operator gossip keyring generate": """Usage: nomad operator gossip keyring generate

  Generates a new 32-byte encryption key that can be used to configure the
  agent to encrypt traffic. The output of this command is already
  in the proper format that the agent expects.
""",
    "operator keygen": """Usage: nomad operator keygen

  Generates a new 32-byte encryption key that can be used to configure the
  agent to encrypt traffic. The output of this command is already
  in the proper format that the agent expects.
""",
    "operator keyring": """Usage: nomad operator keyring [options]

  Manages encryption keys used for gossip messages between Nomad servers. Gossip
  encryption is optional. When enabled, this command may be used to examine
  active encryption keys in the cluster, add new keys, and remove old ones. When
  combined, this functionality provides the ability to perform key rotation
  cluster-wide, without disrupting the cluster.

  All operations performed by this command can only be run against server nodes.

  All variations of the keyring command return 0 if all nodes reply and there
  are no errors. If any node fails to reply or reports failure, the exit code
  will be 1.

  If ACLs are enabled, this command requires a token with the 'agent:write'
  capability.

""" + GENERAL_OPTIONS + """
Keyring Options:

  -install=<key>            Install a new encryption key. This will broadcast
                            the new key to all members in the cluster.
  -list                     List all keys currently in use within the cluster.
  -remove=<key>             Remove the given key from the cluster. This
                            operation may only be performed on keys which are
                            not currently the primary key.
  -use=<key>                Change the primary encryption key, which is used to
                            encrypt messages. The key must already be installed
                            before this operation can succeed.
""",
}

_ANNOUNCE = {"install": "Installing new gossip encryption key...",
             "use": "Changing primary gossip encryption key...",
             "remove": "Removing gossip encryption key...",
             "list": "Gathering installed encryption keys..."}


def _run_op(meta: Meta, op: str, key: str = "") -> int:
    client = meta.client()
    meta.ui.output(_ANNOUNCE[op])
    try:
        if op == "list":
            resp, _ = client.get("/v1/agent/keyring/list")
        else:
            resp, _ = client.put(f"/v1/agent/keyring/{op}", {"Key": key})
    except APIError as exc:
        raise meta.fail(f"error: {exc}") from None
    resp = resp or {}
    failures = resp.get("Messages") or {}
    if op == "list":
        meta.ui.output(format_list(["Key"] + list(resp.get("Keys") or {})))
    if failures:
        for node, msg in sorted(failures.items()):
            meta.ui.error(f"error: {node}: {msg}")
        return 1
    return 0


def _one_key(meta: Meta, args: list[str]) -> str:
    _, rest = meta.parse(args, {})
    if len(rest) != 1:
        raise meta.usage_error("This command requires one argument: <key>")
    return rest[0]


def install(meta: Meta, args: list[str]) -> int:
    return _run_op(meta, "install", _one_key(meta, args))


def use(meta: Meta, args: list[str]) -> int:
    return _run_op(meta, "use", _one_key(meta, args))


def remove(meta: Meta, args: list[str]) -> int:
    return _run_op(meta, "remove", _one_key(meta, args))


def list_keys(meta: Meta, args: list[str]) -> int:
    _, rest = meta.parse(args, {})
    if rest:
        raise meta.usage_error("This command requires no arguments")
    return _run_op(meta, "list")


def generate(meta: Meta, args: list[str]) -> int:
    meta.ui.output(base64.b64encode(os.urandom(32)).decode())
    return 0


def keyring(meta: Meta, args: list[str]) -> int:
    """The older single command: exactly one of -install, -use, -remove, -list."""
    opts, _ = meta.parse(args, {"install": "str", "use": "str", "remove": "str",
                                "list": "bool"})
    chosen = [op for op in ("install", "use", "remove") if opts[op]]
    if opts["list"]:
        chosen.append("list")
    if len(chosen) > 1:
        raise meta.usage_error("Only a single action is allowed")
    if not chosen:
        raise meta.usage_error("No actionable argument was passed",
                               "Either the '-install', '-use', '-remove' or '-list' flag "
                               "must be set")
    op = chosen[0]
    return _run_op(meta, op, "" if op == "list" else opts[op])
