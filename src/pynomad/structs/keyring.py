"""The root keyring (Nomad's structs/keyring.go): keys that encrypt Variables at rest and
sign workload identities.

A `RootKey` is stored in state with its key material wrapped (AES-256-GCM) by a key
encryption key, as Nomad 1.9 stores its keys in Raft with the default `aead` KMS provider:
the state (log entries, snapshots) never holds a key or a variable in the clear. States:
`active` (encrypts and signs), `inactive` (decrypts and verifies what it made),
`rekeying` (being replaced by `operator root keyring rotate -full`), `deprecated`.
"""

from __future__ import annotations

from .base import Base

ALGORITHM_AES256_GCM = "aes256-gcm"
KEY_STATE_ACTIVE = "active"
KEY_STATE_INACTIVE = "inactive"
KEY_STATE_REKEYING = "rekeying"
KEY_STATE_DEPRECATED = "deprecated"
KEY_STATES = (KEY_STATE_ACTIVE, KEY_STATE_INACTIVE, KEY_STATE_REKEYING, KEY_STATE_DEPRECATED)
PROVIDER_AEAD = "aead"


class RootKeyMeta(Base, forbid_unknown_fields=False):
    KeyID: str = ""
    Algorithm: str = ALGORITHM_AES256_GCM
    CreateTime: int = 0
    CreateIndex: int = 0
    ModifyIndex: int = 0
    State: str = KEY_STATE_INACTIVE

    def active(self) -> bool:
        return self.State == KEY_STATE_ACTIVE


class WrappedKey(Base, forbid_unknown_fields=False):
    """The key material sealed by a key encryption key (KEK): nonce + ciphertext."""
    Provider: str = PROVIDER_AEAD
    WrappedDataEncryptionKey: bytes = b""
    KeyEncryptionKey: bytes = b""


class RootKey(Base, forbid_unknown_fields=False):
    Meta: RootKeyMeta
    WrappedKeys: list[WrappedKey] = []


class VariableEncrypted(Base, forbid_unknown_fields=False):
    """A variable as stored: its metadata and its items sealed by root key `KeyID`."""
    Namespace: str = ""
    Path: str = ""
    CreateIndex: int = 0
    CreateTime: int = 0
    ModifyIndex: int = 0
    ModifyTime: int = 0
    KeyID: str = ""
    Data: bytes = b""

    def metadata(self) -> dict:
        return {"Namespace": self.Namespace, "Path": self.Path,
                "CreateIndex": self.CreateIndex, "CreateTime": self.CreateTime,
                "ModifyIndex": self.ModifyIndex, "ModifyTime": self.ModifyTime}
