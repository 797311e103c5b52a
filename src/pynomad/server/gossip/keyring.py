"""The gossip keyring: AES-GCM keys, the primary first, as Serf's keyring.

Every gossip packet and stream frame is sealed with the primary key as memberlist does
(version byte 1, a 12-byte random nonce, then the AES-GCM ciphertext and tag); a packet is
opened with whichever installed key fits, so a rotation (install, use, remove) never
splits the cluster. The keyring file (`<data_dir>/server/serf/keyring`) is a JSON list of
base64 keys with the primary first, as Serf writes it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENCRYPT_VERSION = 1
NONCE_SIZE = 12
KEY_SIZES = (16, 24, 32)


class KeyringError(ValueError):
    """A key is malformed, or a keyring operation is not allowed."""


class DecryptError(ValueError):
    """No installed key opens the message."""


def decode_key(text: str) -> bytes:
    """A base64 key → its bytes (16, 24 or 32 of them)."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"Failed to decode key: illegal base64 data: {text!r}") from None
    if len(key) not in KEY_SIZES:
        raise KeyringError(f"key size must be 16, 24 or 32 bytes (got {len(key)})")
    return key


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode()


def generate_key() -> str:
    """A new random 32-byte key, base64 encoded (`nomad operator gossip keyring generate`)."""
    return encode_key(os.urandom(32))


class Keyring:
    """Installed keys, primary first. An empty keyring means gossip in the clear."""

    def __init__(self, keys: list[bytes] | None = None, path: str | None = None) -> None:
        self.keys: list[bytes] = list(dict.fromkeys(keys or []))
        self.path = path
        self._ciphers = [AESGCM(k) for k in self.keys]

    @classmethod
    def load(cls, path: str | None, encrypt: str = "") -> "Keyring":
        """The keyring file when there is one, else the agent's `encrypt` key (written to
        the file so a later restart keeps what the cluster rotated to)."""
        if path and os.path.exists(path):
            try:
                with open(path, encoding="utf-8") as f:
                    texts = json.load(f)
            except (OSError, ValueError) as err:
                raise KeyringError(f"failed to read keyring file {path}: {err}") from None
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise KeyringError(f"keyring file {path} must hold a JSON list of keys")
            return cls([decode_key(t) for t in texts], path)
        ring = cls([decode_key(encrypt)] if encrypt else [], path)
        if ring.keys:
            ring.save()
        return ring

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    @property
    def primary(self) -> bytes | None:
        return self.keys[0] if self.keys else None

    def list(self) -> list[str]:
        return [encode_key(k) for k in self.keys]

    # -- operations (each persisted) ---------------------------------------------------
    def install(self, text: str) -> None:
        key = decode_key(text)
        if key not in self.keys:
            self._set(self.keys + [key])

    def use(self, text: str) -> None:
        key = decode_key(text)
        if key not in self.keys:
            raise KeyringError("Requested key is not in the keyring")
        self._set([key] + [k for k in self.keys if k != key])

    def remove(self, text: str) -> None:
        key = decode_key(text)
        if key == self.primary:
            raise KeyringError("Removing the primary key is not allowed")
        if key not in self.keys:
            raise KeyringError("Requested key is not in the keyring")
        self._set([k for k in self.keys if k != key])

    def _set(self, keys: list[bytes]) -> None:
        self.keys = keys
        self._ciphers = [AESGCM(k) for k in keys]
        self.save()

    def save(self) -> None:
        if not self.path:
            return
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.list(), f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    # -- sealing -----------------------------------------------------------------------
    def seal(self, plain: bytes) -> bytes:
        if not self._ciphers:
            return plain
        nonce = os.urandom(NONCE_SIZE)
        return bytes([ENCRYPT_VERSION]) + nonce + self._ciphers[0].encrypt(nonce, plain, b"")

    def open(self, data: bytes) -> bytes:
        if not self._ciphers:
            return data
        if len(data) < 1 + NONCE_SIZE + 16 or data[0] != ENCRYPT_VERSION:
            raise DecryptError("No installed keys could decrypt the message")
        nonce, sealed = data[1:1 + NONCE_SIZE], data[1 + NONCE_SIZE:]
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(nonce, sealed, b"")
            except InvalidTag:
                continue
        raise DecryptError("No installed keys could decrypt the message")
