"""Server gossip on the serf port: SWIM membership, tags, encryption and the keyring.

`membership` is the pure state machine (no sockets, injected clock); `transport` runs it
over UDP and TCP; `keyring` seals every packet with AES-GCM.
"""

from .keyring import Keyring, KeyringError, generate_key  # noqa: F401
from .membership import GossipConfig, Member, Membership, member_json  # noqa: F401
from .transport import Gossip, JoinError, split_host_port  # noqa: F401
