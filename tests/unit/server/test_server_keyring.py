"""The root keyring: sealing, key wrapping, identity signing and rotation in the FSM."""

from __future__ import annotations

import jwt
import pytest

from pynomad.server.keyring import KeyringError, KeySet, new_root_key, seal, unseal, unwrap
from pynomad.state import FSM, StateStore
from pynomad.state import entries as e


def test_seal_binds_the_key_id_and_detects_tampering():
    key = b"k" * 32
    data = seal(key, "id-1", b"secret")
    assert b"secret" not in data and unseal(key, "id-1", data) == b"secret"
    assert seal(key, "id-1", b"secret") != data           # a fresh nonce each time
    with pytest.raises(KeyringError):
        unseal(key, "id-2", data)                         # another key ID: refused
    with pytest.raises(KeyringError):
        unseal(key, "id-1", data[:-1] + bytes([data[-1] ^ 1]))


def test_root_key_is_stored_wrapped():
    root, raw = new_root_key(123)
    assert root.Meta.State == "active" and root.Meta.CreateTime == 123
    stored = e.encode(e.RootKeyUpsert(Key=root))
    assert raw not in stored
    assert unwrap(e.decode(stored).Key) == raw


def test_identity_signature_verifies_only_with_its_key():
    ks = KeySet.from_raw("kid-1", b"s" * 32)
    token = jwt.encode({"nomad_task": "web"}, ks.signer, algorithm="EdDSA",
                       headers={"kid": "kid-1"})
    assert jwt.decode(token, ks.signer.public_key(), algorithms=["EdDSA"])["nomad_task"] == "web"
    other = KeySet.from_raw("kid-2", b"t" * 32)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other.signer.public_key(), algorithms=["EdDSA"])
    assert ks.public_jwk()["kid"] == "kid-1" and ks.public_jwk()["crv"] == "Ed25519"


def _states(st):
    return {k: r.Meta.State for k, r in st.root_keys.items()}


def test_rotation_demotes_and_full_rotation_marks_rekeying():
    st = StateStore()
    fsm = FSM(st)
    a, _ = new_root_key(1)
    fsm.apply(e.RootKeyUpsert(Key=a), 5)
    b, _ = new_root_key(2)
    fsm.apply(e.RootKeyUpsert(Key=b), 6)
    assert _states(st) == {a.Meta.KeyID: "inactive", b.Meta.KeyID: "active"}
    assert st.root_keys[a.Meta.KeyID].Meta.ModifyIndex == 6
    assert st.root_keys[a.Meta.KeyID].Meta.CreateIndex == 5
    c, _ = new_root_key(3)
    fsm.apply(e.RootKeyUpsert(Key=c, Rekey=True), 7)
    assert _states(st) == {a.Meta.KeyID: "rekeying", b.Meta.KeyID: "rekeying",
                           c.Meta.KeyID: "active"}
    fsm.apply(e.RootKeyDelete(KeyID=a.Meta.KeyID), 8)
    assert a.Meta.KeyID not in st.root_keys and st.table_index("root_keys") == 8
