"""ACL roles, auth methods, binding rules and one-time tokens (Nomad's structs/acl.go), with
Nomad's JSON field names.

Durations (`MaxTokenTTL`, the leeways) are kept in nanoseconds and shown as Go durations
("1h0m0s") by `to_api`; times are RFC 3339 strings, as Go's time.Time marshals.
"""

from __future__ import annotations

import re

from .acl import _hash as hash_parts
from .base import Base, to_builtins
from ..helper.goformat import format_duration as go_duration

VALID_ROLE_NAME = re.compile(r"^[a-zA-Z0-9-]{1,128}$")
VALID_AUTH_METHOD_NAME = re.compile(r"^[a-zA-Z0-9-]{1,128}$")
MAX_DESCRIPTION = 256
AUTH_METHOD_OIDC = "OIDC"
AUTH_METHOD_JWT = "JWT"
AUTH_METHOD_TYPES = (AUTH_METHOD_OIDC, AUTH_METHOD_JWT)
TOKEN_LOCALITY_LOCAL = "local"
TOKEN_LOCALITY_GLOBAL = "global"
BIND_TYPES = ("role", "policy", "management")


class ACLRolePolicyLink(Base, forbid_unknown_fields=False):
    Name: str = ""


class ACLRole(Base, forbid_unknown_fields=False):
    ID: str = ""
    Name: str = ""
    Description: str = ""
    Policies: list[ACLRolePolicyLink] | None = None
    Hash: str = ""
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def set_hash(self) -> None:
        self.Hash = hash_parts([self.Name, self.Description]
                               + [p.Name for p in self.Policies or []])

    def policy_names(self) -> list[str]:
        return [p.Name for p in self.Policies or []]

    def validate(self) -> list[str]:
        errs = []
        if not VALID_ROLE_NAME.match(self.Name or ""):
            errs.append(f"invalid name '{self.Name}'")
        if len(self.Description or "") > MAX_DESCRIPTION:
            errs.append(f"description longer than {MAX_DESCRIPTION}")
        if not self.Policies:
            errs.append("at least one policy should be specified")
        return errs


class ACLAuthMethodConfig(Base, forbid_unknown_fields=False):
    JWTValidationPubKeys: list[str] | None = None
    JWKSURL: str = ""
    OIDCDiscoveryURL: str = ""
    OIDCClientID: str = ""
    OIDCClientSecret: str = ""
    OIDCScopes: list[str] | None = None
    BoundAudiences: list[str] | None = None
    BoundIssuer: list[str] | None = None
    AllowedRedirectURIs: list[str] | None = None
    DiscoveryCaPem: list[str] | None = None
    JWKSCACert: str = ""
    SigningAlgs: list[str] | None = None
    ExpirationLeeway: int = 0
    NotBeforeLeeway: int = 0
    ClockSkewLeeway: int = 0
    ClaimMappings: dict[str, str] | None = None
    ListClaimMappings: dict[str, str] | None = None


class ACLAuthMethod(Base, forbid_unknown_fields=False):
    Name: str = ""
    Type: str = ""
    TokenLocality: str = ""
    MaxTokenTTL: int = 0
    Default: bool = False
    Config: ACLAuthMethodConfig | None = None
    Hash: str = ""
    CreateTime: str = ""
    ModifyTime: str = ""
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def set_hash(self) -> None:
        c = self.Config or ACLAuthMethodConfig()
        parts = [self.Name, self.Type, self.TokenLocality, go_duration(self.MaxTokenTTL),
                 str(self.Default).lower(), c.OIDCDiscoveryURL, c.OIDCClientID,
                 c.OIDCClientSecret, c.JWKSURL]
        for values in (c.BoundAudiences, c.AllowedRedirectURIs, c.DiscoveryCaPem,
                       c.SigningAlgs, c.JWTValidationPubKeys, c.BoundIssuer):
            parts += list(values or [])
        for mapping in (c.ClaimMappings, c.ListClaimMappings):
            for k, v in sorted((mapping or {}).items()):
                parts += [k, v]
        self.Hash = hash_parts(parts)

    def validate(self, min_ttl: int, max_ttl: int) -> list[str]:
        """Nomad's ACLAuthMethod.Validate (TTL bounds from the agent's acl block)."""
        errs = []
        if not VALID_AUTH_METHOD_NAME.match(self.Name or ""):
            errs.append(f"invalid name '{self.Name}'")
        if self.TokenLocality not in (TOKEN_LOCALITY_LOCAL, TOKEN_LOCALITY_GLOBAL):
            errs.append(f"invalid token locality '{self.TokenLocality}'")
        if self.Type not in AUTH_METHOD_TYPES:
            errs.append(f"invalid token type '{self.Type}'")
        if not min_ttl <= self.MaxTokenTTL <= max_ttl:
            errs.append(f"invalid MaxTokenTTL value '{go_duration(self.MaxTokenTTL)}' "
                        f"(should be between {go_duration(min_ttl)} and "
                        f"{go_duration(max_ttl)})")
        return errs

    def is_global(self) -> bool:
        return self.TokenLocality == TOKEN_LOCALITY_GLOBAL

    def to_api(self) -> dict:
        out = to_builtins(self)
        out["MaxTokenTTL"] = go_duration(self.MaxTokenTTL) if self.MaxTokenTTL else ""
        cfg = out.get("Config")
        if cfg:
            for key in ("ExpirationLeeway", "NotBeforeLeeway", "ClockSkewLeeway"):
                cfg[key] = go_duration(cfg[key]) if cfg.get(key) else ""
        return out

    def stub(self) -> dict:
        return {"Name": self.Name, "Type": self.Type, "Default": self.Default,
                "Hash": self.Hash, "CreateIndex": self.CreateIndex,
                "ModifyIndex": self.ModifyIndex}


class ACLBindingRule(Base, forbid_unknown_fields=False):
    ID: str = ""
    Description: str = ""
    AuthMethod: str = ""
    Selector: str = ""
    BindType: str = ""
    BindName: str = ""
    Hash: str = ""
    CreateTime: str = ""
    ModifyTime: str = ""
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def set_hash(self) -> None:
        self.Hash = hash_parts([self.ID, self.Description, self.AuthMethod, self.Selector,
                                self.BindType, self.BindName])

    def validate(self) -> list[str]:
        """Nomad's ACLBindingRule.Validate, without the selector (checked by the caller)."""
        errs = []
        if not self.AuthMethod:
            errs.append("auth method is missing")
        if len(self.Description or "") > MAX_DESCRIPTION:
            errs.append(f"description longer than {MAX_DESCRIPTION}")
        if not self.BindType:
            errs.append("bind type is missing")
        elif self.BindType in ("role", "policy"):
            if not self.BindName:
                errs.append("bind name is missing")
        elif self.BindType == "management":
            if self.BindName:
                errs.append("bind name should be empty")
        else:
            errs.append(f'unsupported bind type: "{self.BindType}"')
        return errs

    def stub(self) -> dict:
        return {"ID": self.ID, "Description": self.Description, "AuthMethod": self.AuthMethod,
                "Hash": self.Hash, "CreateIndex": self.CreateIndex,
                "ModifyIndex": self.ModifyIndex}


class OneTimeToken(Base, forbid_unknown_fields=False):
    """A short-lived secret that can be exchanged, once, for the ACL token that made it."""
    OneTimeSecretID: str = ""
    AccessorID: str = ""
    ExpiresAt: str = ""
    ExpiresAtNs: int = 0
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def to_api(self) -> dict:
        return {"OneTimeSecretID": self.OneTimeSecretID, "AccessorID": self.AccessorID,
                "ExpiresAt": self.ExpiresAt, "CreateIndex": self.CreateIndex,
                "ModifyIndex": self.ModifyIndex}
