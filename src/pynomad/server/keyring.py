"""The server's root keyring (Nomad's nomad/encrypter.go and keyring endpoint).

Root keys are 32 random bytes. Each one
- encrypts Variables with AES-256-GCM (a random 12-byte nonce stored before the ciphertext,
  the key ID as additional data, as Nomad's Encrypter.Encrypt);
- signs workload identities as an Ed25519 key made from it as seed (alg EdDSA, `kid` header:
  Nomad 1.6's signing key), whose public half `/.well-known/jwks.json` publishes.

Keys are stored in state wrapped by a fresh key encryption key each (see structs/keyring.py);
this module unwraps them on first use and keeps the ciphers in memory. The leader creates
the first key when it starts with none (Nomad's initializeKeyring); `rotate` makes a new
active key, and with `full` re-encrypts every variable under the new key in the background.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from msgspec.structs import replace

from ..state import entries as e
from ..structs import generate_uuid
from ..structs.keyring import (KEY_STATE_ACTIVE, KEY_STATE_INACTIVE, KEY_STATE_REKEYING,
                               RootKey, RootKeyMeta, VariableEncrypted, WrappedKey)
from .errors import BadRequest, NotFound

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.keyring")
NONCE_SIZE = 12
KEY_SIZE = 32
JWT_ALG = "EdDSA"


class KeyringError(Exception):
    """The keyring cannot do what was asked (no key yet, unknown key, bad ciphertext)."""


# -- pure crypto ----------------------------------------------------------------------
def seal(key: bytes, key_id: str, plaintext: bytes) -> bytes:
    """AES-256-GCM with a random nonce (stored first) and the key ID as additional data."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, key_id.encode())


def unseal(key: bytes, key_id: str, data: bytes) -> bytes:
    if len(data) < NONCE_SIZE + 16:
        raise KeyringError("ciphertext too short")
    try:
        return AESGCM(key).decrypt(data[:NONCE_SIZE], data[NONCE_SIZE:], key_id.encode())
    except InvalidTag:
        raise KeyringError(f"failed to decrypt with key {key_id}") from None


def new_root_key(now_ns: int, state: str = KEY_STATE_ACTIVE) -> tuple[RootKey, bytes]:
    """A new root key, wrapped for storage, and its raw material."""
    raw, kek = os.urandom(KEY_SIZE), os.urandom(KEY_SIZE)
    meta = RootKeyMeta(KeyID=generate_uuid(), CreateTime=now_ns, State=state)
    wrapped = WrappedKey(WrappedDataEncryptionKey=seal(kek, meta.KeyID, raw),
                         KeyEncryptionKey=kek)
    return RootKey(Meta=meta, WrappedKeys=[wrapped]), raw


def unwrap(root: RootKey) -> bytes:
    for wrapped in root.WrappedKeys:
        if wrapped.KeyEncryptionKey:
            return unseal(wrapped.KeyEncryptionKey, root.Meta.KeyID,
                          wrapped.WrappedDataEncryptionKey)
    raise KeyringError(f"root key {root.Meta.KeyID} has no key wrapping this server can open")


@dataclass(frozen=True)
class KeySet:
    key_id: str
    raw: bytes
    signer: Ed25519PrivateKey

    @classmethod
    def from_raw(cls, key_id: str, raw: bytes) -> "KeySet":
        return cls(key_id, raw, Ed25519PrivateKey.from_private_bytes(raw))

    def public_jwk(self) -> dict:
        pub = self.signer.public_key().public_bytes(serialization.Encoding.Raw,
                                                    serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": JWT_ALG,
                "kid": self.key_id, "x": base64.urlsafe_b64encode(pub).rstrip(b"=").decode()}


class Keyring:
    def __init__(self, server: "Server") -> None:
        self.server = server
        self._keysets: dict[str, KeySet] = {}
        self._rekey_task: asyncio.Task | None = None

    # -- keys ---------------------------------------------------------------------------
    def keyset(self, key_id: str) -> KeySet:
        ks = self._keysets.get(key_id)
        if ks is None:
            root = self.server.state.root_keys.get(key_id)
            if root is None:
                raise KeyringError(f'no such key "{key_id}" in keyring')
            ks = self._keysets[key_id] = KeySet.from_raw(key_id, unwrap(root))
        return ks

    def active(self) -> KeySet:
        meta = active_meta(self.server.state)
        if meta is None:
            raise KeyringError("keyring has not been initialized yet")
        return self.keyset(meta.KeyID)

    def list_keys(self) -> list[RootKeyMeta]:
        return sorted((k.Meta for k in self.server.state.root_keys.values()),
                      key=lambda m: (m.CreateTime, m.KeyID))

    # -- variables ----------------------------------------------------------------------
    def encrypt(self, plaintext: bytes) -> tuple[bytes, str]:
        ks = self.active()
        return seal(ks.raw, ks.key_id, plaintext), ks.key_id

    def decrypt(self, data: bytes, key_id: str) -> bytes:
        return unseal(self.keyset(key_id).raw, key_id, data)

    # -- workload identities ------------------------------------------------------------
    def sign_claims(self, claims: dict[str, Any]) -> tuple[str, str]:
        ks = self.active()
        token = jwt.encode(claims, ks.signer, algorithm=JWT_ALG, headers={"kid": ks.key_id})
        return token, ks.key_id

    def verify_claims(self, token: str) -> dict[str, Any]:
        """The claims of a token this keyring signed; KeyringError otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as err:
            raise KeyringError(f"failed to verify token: {err}") from None
        if header.get("alg") != JWT_ALG:
            raise KeyringError(f"unexpected signing method: {header.get('alg')}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise KeyringError("missing key ID header")
        ks = self.keyset(kid)
        try:
            claims = jwt.decode(token, ks.signer.public_key(), algorithms=[JWT_ALG],
                                options={"verify_aud": False})
        except jwt.PyJWTError as err:
            raise KeyringError(f"failed to verify token: {err}") from None
        return claims

    def jwks(self) -> dict:
        keys = []
        for meta in self.list_keys():
            try:
                keys.append(self.keyset(meta.KeyID).public_jwk())
            except KeyringError:
                continue
        return {"keys": keys}

    # -- leader duties and operator endpoints -------------------------------------------
    async def initialize(self) -> None:
        """The first leader makes the first key (nothing to do when one is active)."""
        if active_meta(self.server.state) is None:
            root, _ = new_root_key(self.server.clock.now_ns())
            await self.server.commit(e.RootKeyUpsert(Key=root), leader_only=True)
            log.info("initialized keyring with root key %s", root.Meta.KeyID)

    async def rotate(self, full: bool = False, algorithm: str = "") -> RootKeyMeta:
        if algorithm and algorithm != "aes256-gcm":
            raise BadRequest(f"invalid algorithm {algorithm}")
        root, _ = new_root_key(self.server.clock.now_ns())
        await self.server.commit(e.RootKeyUpsert(Key=root, Rekey=full))
        if full:
            self._start_rekey()
        return self.server.state.root_keys[root.Meta.KeyID].Meta

    async def delete(self, key_id: str) -> int:
        root = self.server.state.root_keys.get(key_id)
        if root is None:
            raise NotFound(f"root key {key_id} not found")
        if root.Meta.active():
            raise BadRequest("active root key cannot be deleted - call rotate first")
        users = sum(1 for v in self.server.state.variables.values() if v.KeyID == key_id)
        if users:
            raise BadRequest(f"root key {key_id} still encrypts {users} variables - "
                             "rotate with -full first")
        index = await self.server.commit(e.RootKeyDelete(KeyID=key_id))
        self._keysets.pop(key_id, None)
        return index

    def resume(self) -> None:
        """On leadership: finish a full rotation a previous leader left half done."""
        if any(k.Meta.State == KEY_STATE_REKEYING for k in self.server.state.root_keys.values()):
            self._start_rekey()

    def stop(self) -> None:
        if self._rekey_task is not None:
            self._rekey_task.cancel()

    def _start_rekey(self) -> None:
        if self._rekey_task is None or self._rekey_task.done():
            self._rekey_task = asyncio.get_running_loop().create_task(self._rekey())

    async def _rekey(self) -> None:
        """Re-encrypt every variable sealed by a rekeying key, then retire those keys."""
        state = self.server.state
        try:
            while True:
                rekeying = {k for k, r in state.root_keys.items()
                            if r.Meta.State == KEY_STATE_REKEYING}
                if not rekeying:
                    return
                stale = [v for v in state.variables.values() if v.KeyID in rekeying]
                for var in stale:
                    await self._reencrypt(var)
                    await asyncio.sleep(0)
                if not any(v.KeyID in rekeying for v in state.variables.values()):
                    for key_id in rekeying:
                        meta = replace(state.root_keys[key_id].Meta, State=KEY_STATE_INACTIVE)
                        await self.server.commit(e.RootKeyMetaUpdate(Meta=meta))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("re-encrypting variables for a full key rotation")

    async def _reencrypt(self, var: VariableEncrypted) -> None:
        plain = self.decrypt(var.Data, var.KeyID)
        data, key_id = self.encrypt(plain)
        # CAS on the current ModifyIndex: a concurrent write of the variable wins.
        await self.server.commit(e.VariableReencrypt(
            Namespace=var.Namespace, Path=var.Path, ModifyIndex=var.ModifyIndex,
            KeyID=key_id, Data=data))


def active_meta(state) -> RootKeyMeta | None:
    for root in state.root_keys.values():
        if root.Meta.State == KEY_STATE_ACTIVE:
            return root.Meta
    return None


def keyring(server: "Server") -> Keyring:
    """The server's keyring (made on first use and kept on the server)."""
    ring = getattr(server, "_keyring", None)
    if ring is None:
        ring = server._keyring = Keyring(server)
    return ring


__all__ = ["Keyring", "KeyringError", "KeySet", "keyring", "new_root_key", "seal", "unseal",
           "unwrap", "active_meta", "KEY_STATE_INACTIVE"]
