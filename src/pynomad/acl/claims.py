"""From a verified login's claims to a token's roles and policies (Nomad's lib/auth:
SelectorData, NewIdentity and Binder.Bind).

An auth method's `ClaimMappings` copy single claims (`{"email": "user"}`) into
`value.<name>`, its `ListClaimMappings` copy list claims into `list.<name>`; a claim name
starting with `/` is a JSON pointer into nested claims. Binding rules of the method whose
selector matches those mapped claims then bind a role, a policy or a management token;
their `BindName` may use `${value.<name>}` (lower-cased values).

Pure logic over plain dicts: the caller passes the stored rules, roles and policies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .selector import selector_matches

BIND_TYPE_ROLE = "role"
BIND_TYPE_POLICY = "policy"
BIND_TYPE_MANAGEMENT = "management"
VALID_BIND_NAME = re.compile(r"^[a-zA-Z0-9-]{1,128}$")


class ClaimError(ValueError):
    """Claims that cannot be mapped as the auth method says; one line for the user."""


def selector_data(claim_mappings: dict[str, str] | None,
                  list_claim_mappings: dict[str, str] | None,
                  id_claims: dict[str, Any],
                  user_claims: dict[str, Any] | None = None) -> dict[str, dict]:
    """Nomad's SelectorData: the `{"value": {...}, "list": {...}}` a selector sees.
    User-info claims (OIDC) are merged over the ID token's, except `iss` and `sub`."""
    claims = dict(id_claims)
    if user_claims:
        claims.update(user_claims)
        for keep in ("iss", "sub"):
            if keep in id_claims:
                claims[keep] = id_claims[keep]
    values: dict[str, str] = {}
    for source, target in (claim_mappings or {}).items():
        raw = get_claim(claims, source)
        if raw is None:
            continue
        text = stringify_claim(raw)
        if text is None:
            raise ClaimError(f"error converting claim '{source}' to string from unknown "
                             f"type {type(raw).__name__}")
        values[target] = text
    lists: dict[str, list[str]] = {}
    for source, target in (list_claim_mappings or {}).items():
        raw = get_claim(claims, source)
        if raw is None:
            continue
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for item in items:
            text = stringify_claim(item)
            if text is None:
                raise ClaimError(f'"{source}" list claim could not be converted to '
                                 "string list")
            if text:
                out.append(text)
        lists[target] = out
    return {"value": values, "list": lists}


def get_claim(claims: dict[str, Any], name: str) -> Any:
    """A claim by name, or by JSON pointer when the name starts with `/`; None if absent."""
    if not name.startswith("/"):
        return claims.get(name)
    cur: Any = claims
    for part in name[1:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return None
    return cur


def stringify_claim(raw: Any) -> str | None:
    """Nomad's stringifyClaimValue: strings, booleans ("true") and numbers (truncated to
    integers, as Go's int64 conversion of a JSON float) become strings; others None."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw == raw and abs(raw) < 2 ** 63 else None
    return None


def interpolate(template: str, values: dict[str, str]) -> str:
    """`${value.user}` in a BindName → the claim's value, lower-cased (Nomad uses HIL)."""
    def sub(m: re.Match) -> str:
        name = m.group(1).strip()
        if name not in values:
            raise ClaimError(f"unknown variable accessed: {name}")
        return values[name].lower()
    return re.sub(r"\$\{([^}]*)\}", sub, template)


@dataclass
class Bindings:
    management: bool = False
    roles: list[str] = field(default_factory=list)      # role IDs
    policies: list[str] = field(default_factory=list)   # policy names

    def none(self) -> bool:
        return not self.roles and not self.policies


def bind(rules: Iterable, data: dict[str, dict], claim_mappings: dict[str, str] | None,
         role_id_by_name: Callable[[str], str | None],
         policy_exists: Callable[[str], bool]) -> Bindings:
    """Nomad's Binder.Bind: every rule (of the method) whose selector matches `data`
    adds its role or policy (when it exists); a matching management rule wins outright."""
    values = {f"value.{k}": "" for k in (claim_mappings or {}).values()}
    values.update({f"value.{k}": v for k, v in data.get("value", {}).items()})
    out = Bindings()
    for rule in rules:
        if not selector_matches(rule.Selector, data):
            continue
        if rule.BindType == BIND_TYPE_MANAGEMENT:
            return Bindings(management=True)
        name = interpolate(rule.BindName, values)
        if not VALID_BIND_NAME.match(name):
            raise ClaimError(f'computed "{rule.BindType}" bind name for bind target is '
                             f'invalid: "{name}"')
        if rule.BindType == BIND_TYPE_ROLE:
            role_id = role_id_by_name(name)
            if role_id and role_id not in out.roles:
                out.roles.append(role_id)
        elif rule.BindType == BIND_TYPE_POLICY:
            if policy_exists(name) and name not in out.policies:
                out.policies.append(name)
    return out
