"""Verifying a JWT for an auth method (Nomad's lib/auth/jwt.Validate, over HashiCorp's cap).

The signing keys come from the method's config: static PEM public keys
(`JWTValidationPubKeys`), a JWKS document (`JWKSURL`) or an OIDC provider's discovery
document (`OIDCDiscoveryURL` → its `jwks_uri`). The signature is checked with PyJWT over
`cryptography`; the time claims, audiences and issuer are checked here, each with the
method's own leeway (`ExpirationLeeway`, `NotBeforeLeeway`, `ClockSkewLeeway`; 0 means
cap's default of 150 s, a negative value none).

`fetch_json` is injected: `await fetch_json(url, ca_pem)` returns the decoded document.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key

DEFAULT_LEEWAY_S = 150.0
DEFAULT_ALGS = ("RS256",)
SUPPORTED_ALGS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
                            "PS256", "PS384", "PS512", "EdDSA"})

FetchJSON = Callable[[str, str], Awaitable[Any]]


class JWTError(ValueError):
    """A login token that does not verify; one line for the user."""


def parse_public_key(pem: str):
    """A PEM public key or certificate → a `cryptography` public key."""
    data = pem.strip().encode()
    try:
        if b"CERTIFICATE" in data:
            return x509.load_pem_x509_certificate(data).public_key()
        return load_pem_public_key(data)
    except (ValueError, TypeError) as err:
        raise JWTError(f"unable to parse public key for JWT auth: {err}") from None


def keys_from_jwks(doc: Any) -> list[tuple[str, Any]]:
    """A JWKS document → [(kid, key)] of the keys PyJWT can use."""
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise JWTError("JWKS document has no keys")
    out = []
    for jwk in doc["keys"]:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        try:
            out.append((str(jwk.get("kid", "")), jwt.PyJWK(jwk).key))
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
            continue
    return out


async def method_keys(config, fetch_json: FetchJSON) -> list[tuple[str, Any]]:
    """The (kid, key) pairs an auth method's config names."""
    if config.JWTValidationPubKeys:
        return [("", parse_public_key(p)) for p in config.JWTValidationPubKeys]
    if config.JWKSURL:
        try:
            doc = await fetch_json(config.JWKSURL, config.JWKSCACert or "")
        except Exception as err:  # noqa: BLE001 - any fetch failure is the user's answer
            raise JWTError(f"unable to get validation keys from JWKS: {err}") from None
        return keys_from_jwks(doc)
    if config.OIDCDiscoveryURL:
        ca = (config.DiscoveryCaPem or [""])[0]
        try:
            disc = await fetch_json(discovery_url(config.OIDCDiscoveryURL), ca)
            doc = await fetch_json(str(disc["jwks_uri"]), ca)
        except Exception as err:  # noqa: BLE001
            raise JWTError(f"unable to get validation keys from OIDC provider: {err}") from None
        return keys_from_jwks(doc)
    raise JWTError("auth method has no JWT validation keys, JWKS URL or discovery URL")


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def verify_signature(token: str, keys: list[tuple[str, Any]],
                     algorithms: list[str]) -> dict[str, Any]:
    """The token's claims if one of `keys` (matching its `kid`, when it has one) signed it
    with one of `algorithms`."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as err:
        raise JWTError(f"malformed token: {err}") from None
    alg = header.get("alg")
    if alg not in algorithms:
        raise JWTError(f"token is signed with {alg!r}, not one of {sorted(algorithms)}")
    kid = header.get("kid")
    candidates = [k for k_id, k in keys if kid and k_id == kid] or [k for _, k in keys]
    no_checks = {"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                 "verify_aud": False, "verify_iss": False, "verify_sub": False,
                 "verify_jti": False}
    for key in candidates:
        try:
            claims = jwt.decode(token, key, algorithms=[alg], options=no_checks)
        except jwt.DecodeError as err:
            if isinstance(err, jwt.InvalidSignatureError):
                continue
            raise JWTError(f"malformed token: {err}") from None
        except (jwt.PyJWTError, ValueError, TypeError, AttributeError):
            continue  # a key of another type than the algorithm needs
        if not isinstance(claims, dict):
            raise JWTError("token claims are not an object")
        return claims
    raise JWTError("failed to verify id token signature")


def _leeway(ns: int) -> float:
    if ns == 0:
        return DEFAULT_LEEWAY_S
    return max(0.0, ns / 1e9)


def check_claims(claims: dict[str, Any], config, now_s: float,
                 audiences: list[str] | None = None) -> None:
    """Time claims, audience and issuer (cap's Expected and Nomad's BoundIssuer)."""
    times = {}
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise JWTError(f"invalid {name} claim")
        times[name] = float(value)
    if not times:
        raise JWTError("no issued at (iat), not before (nbf), or expiration time (exp) "
                       "claims in token")
    skew = _leeway(config.ClockSkewLeeway)
    if "exp" in times and now_s > times["exp"] + _leeway(config.ExpirationLeeway) + skew:
        raise JWTError("token is expired (exp)")
    if "nbf" in times and now_s < times["nbf"] - _leeway(config.NotBeforeLeeway) - skew:
        raise JWTError("token not valid yet (nbf)")
    if "iat" in times and now_s < times["iat"] - skew:
        raise JWTError("token issued in the future (iat)")
    bound = audiences if audiences is not None else list(config.BoundAudiences or [])
    if bound:
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not any(a in bound for a in auds):
            raise JWTError("invalid audience (aud) claim: audience claim does not match "
                           "any expected audience")
    if config.BoundIssuer:
        if "iss" not in claims:
            raise JWTError("auth method specifies BoundIssuers but the provided token does "
                           "not contain issuer information")
        if not isinstance(claims["iss"], str):
            raise JWTError("unable to read iss property of provided token")
        if claims["iss"] not in config.BoundIssuer:
            raise JWTError(f"invalid JWT issuer: {claims['iss']}")


def signing_algs(config) -> list[str]:
    algs = list(config.SigningAlgs or DEFAULT_ALGS)
    bad = [a for a in algs if a not in SUPPORTED_ALGS]
    if bad:
        raise JWTError(f"unsupported signing algorithm {bad[0]!r}")
    return algs


async def validate(token: str, config, fetch_json: FetchJSON, now_s: float) -> dict[str, Any]:
    """Nomad's jwt.Validate: the verified claims of `token`, or JWTError."""
    keys = await method_keys(config, fetch_json)
    if not keys:
        raise JWTError("no usable validation keys")
    claims = verify_signature(token, keys, signing_algs(config))
    check_claims(claims, config, now_s)
    return claims


async def http_fetch_json(url: str, ca_pem: str = "", timeout_s: float = 10.0) -> Any:
    """GET a JSON document (JWKS, discovery) with an optional CA bundle in PEM."""
    import ssl

    import aiohttp

    ssl_ctx: ssl.SSLContext | bool = True
    if ca_pem:
        ssl_ctx = ssl.create_default_context(cadata=ca_pem)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.get(url, ssl=ssl_ctx) as resp:
            if resp.status != 200:
                raise JWTError(f"GET {url}: HTTP {resp.status}")
            text = await resp.text()
    try:
        return json.loads(text)
    except ValueError:
        raise JWTError(f"GET {url}: not JSON") from None
