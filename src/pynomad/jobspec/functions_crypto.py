"""The jobspec2 ``bcrypt`` and ``rsadecrypt`` functions (go-cty-funcs crypto).

``bcrypt(str, cost)`` hashes with the ``$2a$`` prefix Go's x/crypto writes;
the cost defaults to 10 and, as in Go, a cost below 4 means 10.

``rsadecrypt(ciphertext, privatekey)`` takes base64 ciphertext (standard
alphabet, padded; newlines ignored as Go's decoder does) and an unencrypted
PEM-encoded PKCS #1 RSA private key, and decrypts PKCS #1 v1.5 with the
`cryptography` library. Where Nomad fails with ``crypto/rsa: decryption error``
for a wrong key, OpenSSL 3.2+ may instead return random bytes ("implicit
rejection", its defence against padding oracles); that is kept rather than
reimplementing the RSA operation here.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from .evaluate import FuncError
from .functions import register

_BCRYPT_MIN_COST, _BCRYPT_MAX_COST, _BCRYPT_DEFAULT_COST = 4, 31, 10
_INT64 = 2 ** 63


@register("bcrypt", "string", var="number")
def _bcrypt(text: str, *costs: Any) -> str:
    import bcrypt

    cost = _BCRYPT_DEFAULT_COST
    if costs:
        cost = costs[0]
        if isinstance(cost, float) and cost.is_integer():
            cost = int(cost)
        if not isinstance(cost, int):
            raise FuncError("value must be a whole number")
        if not -_INT64 <= cost < _INT64:
            raise FuncError(f"value must be a whole number, between {-_INT64} and {_INT64 - 1}")
    if len(costs) > 1:
        raise FuncError("bcrypt() takes no more than two arguments")
    if cost < _BCRYPT_MIN_COST:
        cost = _BCRYPT_DEFAULT_COST
    if cost > _BCRYPT_MAX_COST:
        raise FuncError("error occured generating password crypto/bcrypt: cost "
                        f"{cost} is outside allowed range ({_BCRYPT_MIN_COST},{_BCRYPT_MAX_COST})")
    password = text.encode("utf-8", "surrogatepass")
    if len(password) > 72:
        raise FuncError("error occured generating password bcrypt: password length exceeds 72 bytes")
    try:
        return bcrypt.hashpw(password, bcrypt.gensalt(rounds=cost, prefix=b"2a")).decode("ascii")
    except ValueError as err:  # e.g. a NUL byte the library refuses
        raise FuncError(f"error occured generating password {err}") from None


# ---------------------------------------------------------------- rsadecrypt

_PEM_BEGIN = re.compile(rb"(?:^|\n)-----BEGIN ([^\n]*)-----[ \t\r]*\n")


def _pem_decode(data: bytes) -> tuple[dict[str, str], bytes] | None:
    """The first PEM block in data, as Go's encoding/pem.Decode finds it."""
    pos = 0
    while True:
        m = _PEM_BEGIN.search(data, pos)
        if m is None:
            return None
        block_type = m.group(1)
        rest = data[m.end():]
        headers: dict[str, str] = {}
        lines = rest.split(b"\n")
        i = 0
        while i < len(lines):
            line = lines[i].rstrip(b" \t\r")
            key, sep, value = line.partition(b":")
            if not sep or not key:
                break
            headers[key.strip().decode("latin-1")] = value.strip().decode("latin-1")
            i += 1
        if headers and i < len(lines) and not lines[i].strip():
            i += 1
        body: list[bytes] = []
        end_line = b"-----END " + block_type + b"-----"
        for line in lines[i:]:
            if line.rstrip(b" \t\r") == end_line:
                try:
                    return headers, base64.b64decode(b"".join(body), validate=True)
                except (binascii.Error, ValueError):
                    break
            body.append(line.strip(b" \t\r"))
        pos = m.end() - 1


def _der_item(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at pos."""
    tag = der[pos]
    length = der[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if not 0 < n <= 4:
            raise ValueError("unsupported length")
        length = int.from_bytes(der[pos:pos + n], "big")
        pos += n
    if pos + length > len(der):
        raise ValueError("truncated")
    return tag, pos, pos + length


def _pkcs1_format_hint(der: bytes) -> str | None:
    """Go's advice when DER that is not PKCS #1 is given: PKCS #8 or SEC 1 EC."""
    try:
        tag, start, end = _der_item(der, 0)
        if tag != 0x30:
            return None
        first_tag, _, first_end = _der_item(der, start)
        if first_tag != 0x02 or first_end >= end:
            return None
        second_tag = der[first_end]
    except (IndexError, ValueError):
        return None
    if second_tag == 0x30:
        return "x509: failed to parse private key (use ParsePKCS8PrivateKey instead for this key format)"
    if second_tag == 0x04:
        return "x509: failed to parse private key (use ParseECPrivateKey instead for this key format)"
    return None


def _load_pkcs1(der: bytes) -> Any:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    hint = _pkcs1_format_hint(der)
    if hint:
        raise FuncError(hint)
    try:
        key = load_der_private_key(der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as err:
        raise FuncError(f"x509: failed to parse private key: {err}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise FuncError("x509: failed to parse private key")
    return key


@register("rsadecrypt", "string", "string")
def _rsadecrypt(ciphertext: str, privatekey: str) -> str:
    try:
        raw = base64.b64decode(re.sub("[\r\n]", "", ciphertext).encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        from ..helper.goformat import quote as go_quote

        raise FuncError(f"failed to decode input {go_quote(ciphertext)}: cipher text must be base64-encoded") from None

    block = _pem_decode(privatekey.encode("utf-8", "surrogatepass"))
    if block is None:
        raise FuncError("failed to parse key: no key found")
    headers, der = block
    if headers.get("Proc-Type") == "4,ENCRYPTED":
        raise FuncError("failed to parse key: password protected keys are not supported. "
                        "Please decrypt the key prior to use")
    key = _load_pkcs1(der)

    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        # The library's PKCS#1 v1.5 decryption; OpenSSL may answer a wrong key with
        # random bytes (implicit rejection) rather than an error, which is the safe choice.
        msg = key.decrypt(raw, padding.PKCS1v15())
    except ValueError:
        raise FuncError("crypto/rsa: decryption error") from None
    return msg.decode("utf-8", "replace")
