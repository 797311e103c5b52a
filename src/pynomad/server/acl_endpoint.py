"""ACL endpoints: bootstrap, policies and tokens (Nomad's ACL.Bootstrap, UpsertPolicies,
DeletePolicies, UpsertTokens, DeleteTokens). Policy rules are checked by the caller with
`acl.parse_policy` (the policy language lives in `acl/`, above this package)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from msgspec.structs import replace

from ..state import entries as e
from ..structs.acl import (TOKEN_TYPE_CLIENT, TOKEN_TYPE_MANAGEMENT, ACLPolicy,
                                 ACLToken)
from ..structs import generate_uuid
from ..helper.goformat import format_rfc3339, parse_rfc3339
from .errors import BadRequest, NotFound

if TYPE_CHECKING:
    from .server import Server

VALID_POLICY_NAME = re.compile(r"^[a-zA-Z0-9-]{1,128}$")
MAX_DESCRIPTION = 256
MAX_TOKEN_NAME = 256
ACL_DISABLED = "ACL support disabled"


class ACLEndpoint:
    def __init__(self, server: "Server") -> None:
        self.server = server
        # compiled ACLs by ((policy name, ModifyIndex), ...), filled by the HTTP layer
        self.compiled_cache: dict = {}

    @property
    def enabled(self) -> bool:
        return bool(getattr(self.server.config, "acl_enabled", False))

    def require_enabled(self) -> None:
        if not self.enabled:
            raise BadRequest(ACL_DISABLED)

    # -- bootstrap ----------------------------------------------------------------------
    async def bootstrap(self, secret: str = "") -> ACLToken:
        self.require_enabled()
        state = self.server.state
        if state.acl_bootstrap_index:
            raise BadRequest(f"ACL bootstrap already done (reset index: "
                             f"{state.acl_bootstrap_index})")
        if secret and not _is_uuid(secret):
            raise BadRequest("invalid acl token")
        token = ACLToken(AccessorID=generate_uuid(), SecretID=secret or generate_uuid(),
                         Name="Bootstrap Token", Type=TOKEN_TYPE_MANAGEMENT, Global=True,
                         CreateTime=format_rfc3339(self.server.clock.now_ns()))
        await self.server.commit(e.ACLTokenBootstrap(Token=token))
        stored = state.acl_token_by_accessor(token.AccessorID)
        if stored is None:  # another bootstrap won the race
            raise BadRequest(f"ACL bootstrap already done (reset index: "
                             f"{state.acl_bootstrap_index})")
        return stored

    # -- policies -------------------------------------------------------------------------
    def list_policies(self, prefix: str = "") -> list[ACLPolicy]:
        self.require_enabled()
        pols = self.server.state.acl_policies.values()
        return sorted((p for p in pols if p.Name.startswith(prefix)), key=lambda p: p.Name)

    def get_policy(self, name: str) -> ACLPolicy:
        self.require_enabled()
        pol = self.server.state.acl_policy_by_name(name)
        if pol is None:
            raise NotFound("ACL policy not found")
        return pol

    async def upsert_policies(self, policies: list[ACLPolicy]) -> int:
        """Store policies whose rules the caller has already parsed and validated."""
        self.require_enabled()
        if not policies:
            raise BadRequest("must specify as least one policy")
        for pol in policies:
            if not VALID_POLICY_NAME.match(pol.Name or ""):
                raise BadRequest(f"policy {json.dumps(pol.Name)} invalid: invalid name '{pol.Name}'")
            if len(pol.Description or "") > MAX_DESCRIPTION:
                raise BadRequest(f"policy {json.dumps(pol.Name)} invalid: description longer than "
                                 f"{MAX_DESCRIPTION}")
        return await self.server.commit(e.ACLPolicyUpsert(Policies=policies))

    async def delete_policies(self, names: list[str]) -> int:
        self.require_enabled()
        if not names:
            raise BadRequest("must specify as least one policy")
        return await self.server.commit(e.ACLPolicyDelete(Names=names))

    # -- tokens ---------------------------------------------------------------------------
    def list_tokens(self, prefix: str = "") -> list[ACLToken]:
        self.require_enabled()
        toks = self.server.state.acl_tokens.values()
        return sorted((t for t in toks if t.AccessorID.startswith(prefix)),
                      key=lambda t: t.CreateIndex)

    def get_token(self, accessor_id: str) -> ACLToken:
        self.require_enabled()
        token = self.server.state.acl_token_by_accessor(accessor_id)
        if token is None:
            raise NotFound("ACL token not found")
        return token

    async def upsert_token(self, token: ACLToken) -> ACLToken:
        """Create (no AccessorID) or update a token; returns the stored token."""
        self.require_enabled()
        state = self.server.state
        token = replace(token)
        now = self.server.clock.now_ns()
        if token.AccessorID:
            existing = state.acl_token_by_accessor(token.AccessorID)
            if existing is None:
                raise BadRequest(f"cannot find token {token.AccessorID}")
            if existing.Global != token.Global:
                raise BadRequest("cannot toggle global mode")
            token.SecretID = existing.SecretID
            token.ExpirationTime = existing.ExpirationTime
            token.ExpirationTTL = existing.ExpirationTTL
        else:
            token.AccessorID = generate_uuid()
            token.SecretID = generate_uuid()
            token.CreateTime = format_rfc3339(now)
            if token.ExpirationTTL:
                if token.ExpirationTTL < 0:
                    raise BadRequest("expiration time cannot be in the past")
                token.ExpirationTime = format_rfc3339(now + token.ExpirationTTL)
        err = _validate_token(token)
        if err:
            raise BadRequest(f"token {token.AccessorID} invalid: {err}")
        for name in token.Policies or []:
            if state.acl_policy_by_name(name) is None:
                raise BadRequest(f"policy {json.dumps(name)} does not exist")
        await self.server.commit(e.ACLTokenUpsert(Tokens=[token]))
        return state.acl_token_by_accessor(token.AccessorID) or token

    async def delete_tokens(self, accessor_ids: list[str]) -> int:
        self.require_enabled()
        if not accessor_ids:
            raise BadRequest("must specify as least one token")
        for accessor in accessor_ids:
            if self.server.state.acl_token_by_accessor(accessor) is None:
                raise NotFound(f"Cannot delete nonexistent tokens: {accessor}")
        return await self.server.commit(e.ACLTokenDelete(AccessorIDs=accessor_ids))

    def token_expired(self, token: ACLToken) -> bool:
        if not token.ExpirationTime:
            return False
        try:
            return parse_rfc3339(token.ExpirationTime) <= self.server.clock.now_ns()
        except ValueError:
            return False


def _validate_token(token: ACLToken) -> str:
    """Nomad's ACLToken.Validate."""
    if len(token.Name or "") > MAX_TOKEN_NAME:
        return "token name too long"
    if token.Type == TOKEN_TYPE_CLIENT:
        if not token.Policies and not token.Roles:
            return "client token missing policies or roles"
    elif token.Type == TOKEN_TYPE_MANAGEMENT:
        if token.Policies or token.Roles:
            return "management token cannot be associated with policies or roles"
    else:
        return "token type must be client or management"
    return ""


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}$")


def _is_uuid(text: str) -> bool:
    return bool(_UUID.match(text))
