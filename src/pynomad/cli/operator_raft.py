"""``nomad operator raft remove-peer`` and ``nomad operator autopilot get-config|set-config``
(Nomad's command/operator_raft_remove.go and operator_autopilot_*.go)."""

from __future__ import annotations

from pynomad.cli.api import APIError
from pynomad.cli.meta import GENERAL_OPTIONS, Meta

HELP = {
    "operator raft remove-peer": """Usage: nomad operator raft remove-peer [options]

  Remove the Nomad server with given -peer-address from the Raft configuration.

  There are rare cases where a peer may be left behind in the Raft quorum even
  though the server is no longer present and known to the cluster. This command
  can be used to remove the failed server so that it is no longer affects the
  Raft quorum. If the server still shows in the output of the "nomad
  server-members" command, it is preferable to clean up by simply running "nomad
  server-force-leave" instead of this command.

  If ACLs are enabled, this command requires a management token.

""" + GENERAL_OPTIONS + """
Remove Peer Options:

  -peer-address="IP:port"
    Remove a Nomad server with given address from the Raft configuration.

  -peer-id="id"
    Remove a Nomad server with the given ID from the Raft configuration.
""",
}


def remove_peer(meta: Meta, args: list[str]) -> int:
    opts, _ = meta.parse(args, {"peer-address": "str", "peer-id": "str"})
    address, peer_id = opts["peer-address"], opts["peer-id"]
    if not address and not peer_id:
        raise meta.fail("Error removing peer: an address or id is required for the peer "
                        "to remove")
    if address and peer_id:
        raise meta.fail("Error removing peer: cannot give both an address and id")
    params = {"address": address} if address else {"id": peer_id}
    try:
        meta.client().delete("/v1/operator/raft/peer", params=params)
    except APIError as exc:
        raise meta.fail(f"Error removing peer: {exc}") from None
    if address:
        meta.ui.output(f'Removed peer with address "{address}"')
    else:
        meta.ui.output(f'Removed peer with id "{peer_id}"')
    return 0
