"""ACL policy documents (Nomad's acl/policy.go): parse HCL or JSON rules, validate them and
expand coarse policies ("read", "write"...) into namespace capabilities.

    namespace "default" { policy = "read"  capabilities = ["submit-job"] }
    namespace "*"       { variables { path "nomad/*" { capabilities = ["read"] } } }
    node     { policy = "write" }     agent { policy = "read" }   operator { policy = "read" }
    quota    { policy = "read" }      plugin { policy = "list" }
    host_volume "vol-*" { policy = "write" }
    node_pool "prod"    { policy = "read" }
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

POLICY_DENY = "deny"
POLICY_READ = "read"
POLICY_LIST = "list"
POLICY_WRITE = "write"
POLICY_SCALE = "scale"

NS_DENY = "deny"
NS_LIST_JOBS = "list-jobs"
NS_PARSE_JOB = "parse-job"
NS_READ_JOB = "read-job"
NS_SUBMIT_JOB = "submit-job"
NS_DISPATCH_JOB = "dispatch-job"
NS_READ_LOGS = "read-logs"
NS_READ_FS = "read-fs"
NS_ALLOC_EXEC = "alloc-exec"
NS_ALLOC_NODE_EXEC = "alloc-node-exec"
NS_ALLOC_LIFECYCLE = "alloc-lifecycle"
NS_READ_JOB_SCALING = "read-job-scaling"
NS_SCALE_JOB = "scale-job"
NS_LIST_SCALING_POLICIES = "list-scaling-policies"
NS_READ_SCALING_POLICY = "read-scaling-policy"

NAMESPACE_CAPABILITIES = frozenset({
    NS_DENY, NS_LIST_JOBS, NS_PARSE_JOB, NS_READ_JOB, NS_SUBMIT_JOB, NS_DISPATCH_JOB,
    NS_READ_LOGS, NS_READ_FS, NS_ALLOC_EXEC, NS_ALLOC_NODE_EXEC, NS_ALLOC_LIFECYCLE,
    "csi-register-plugin", "csi-write-volume", "csi-read-volume", "csi-list-volume",
    "csi-mount-volume", NS_LIST_SCALING_POLICIES, NS_READ_SCALING_POLICY, NS_READ_JOB_SCALING,
    NS_SCALE_JOB, "sentinel-override", "submit-recommendation",
})
_NS_READ = [NS_LIST_JOBS, NS_PARSE_JOB, NS_READ_JOB, "csi-list-volume", "csi-read-volume",
            NS_READ_JOB_SCALING, NS_LIST_SCALING_POLICIES, NS_READ_SCALING_POLICY]
_NS_WRITE = _NS_READ + [NS_SCALE_JOB, NS_SUBMIT_JOB, NS_DISPATCH_JOB, NS_READ_LOGS, NS_READ_FS,
                        NS_ALLOC_EXEC, NS_ALLOC_LIFECYCLE, "csi-mount-volume",
                        "csi-write-volume", "submit-recommendation"]
_NS_SCALE = [NS_LIST_SCALING_POLICIES, NS_READ_SCALING_POLICY, NS_READ_JOB_SCALING,
             NS_SCALE_JOB]
NAMESPACE_POLICIES = {POLICY_DENY: [NS_DENY], POLICY_READ: _NS_READ, POLICY_WRITE: _NS_WRITE,
                      POLICY_SCALE: _NS_SCALE}

VARIABLE_CAPABILITIES = frozenset({"deny", "read", "write", "list", "destroy"})
HOST_VOLUME_CAPABILITIES = frozenset({"deny", "mount-readonly", "mount-readwrite"})
HOST_VOLUME_POLICIES = {POLICY_DENY: ["deny"], POLICY_READ: ["mount-readonly"],
                        POLICY_WRITE: ["mount-readonly", "mount-readwrite"]}
NODE_POOL_CAPABILITIES = frozenset({"deny", "read", "write", "delete"})
NODE_POOL_POLICIES = {POLICY_DENY: ["deny"], POLICY_READ: ["read"],
                      POLICY_WRITE: ["read", "write", "delete"]}

# the unlabelled blocks and the policies each accepts
SIMPLE_BLOCKS = {
    "node": (POLICY_DENY, POLICY_READ, POLICY_WRITE),
    "agent": (POLICY_DENY, POLICY_READ, POLICY_WRITE),
    "operator": (POLICY_DENY, POLICY_READ, POLICY_WRITE),
    "quota": (POLICY_DENY, POLICY_READ, POLICY_WRITE),
    "plugin": (POLICY_DENY, POLICY_LIST, POLICY_READ),
}
_NAME = re.compile(r"^[a-zA-Z0-9*-]{1,128}$")
_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9*_.-]{1,128}$")


class PolicyError(ValueError):
    """A policy document that cannot be used; `str()` is the one-line reason."""


@dataclass
class NamespaceRule:
    name: str
    policy: str = ""
    capabilities: list[str] = field(default_factory=list)
    variables: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class LabeledRule:
    """A host_volume or node_pool rule."""
    name: str
    policy: str = ""
    capabilities: list[str] = field(default_factory=list)


@dataclass
class Policy:
    namespaces: list[NamespaceRule] = field(default_factory=list)
    host_volumes: list[LabeledRule] = field(default_factory=list)
    node_pools: list[LabeledRule] = field(default_factory=list)
    simple: dict[str, str] = field(default_factory=dict)   # node/agent/operator/quota/plugin
    raw: str = ""


def parse_policy(rules: str) -> Policy:
    """Parse and validate policy rules (HCL or JSON); PolicyError with a reason if bad.

    As Nomad's acl.Parse: empty rules are an empty policy (it grants nothing); rules that
    are not empty must grant or deny something."""
    if not rules:
        return Policy(raw="")
    doc = _decode(rules) if rules.strip() else {}
    if not doc:
        raise PolicyError(f"Invalid policy: {rules.strip()[:200]}")
    policy = Policy(raw=rules)
    for key, value in doc.items():
        if key == "namespace":
            for name, body in _labeled(value, key):
                policy.namespaces.append(_namespace_rule(name, body))
        elif key == "host_volume":
            for name, body in _labeled(value, key):
                policy.host_volumes.append(_labeled_rule(
                    key, name, body, HOST_VOLUME_POLICIES, HOST_VOLUME_CAPABILITIES, _VOLUME_NAME))
        elif key == "node_pool":
            for name, body in _labeled(value, key):
                policy.node_pools.append(_labeled_rule(
                    key, name, body, NODE_POOL_POLICIES, NODE_POOL_CAPABILITIES, _NAME))
        elif key in SIMPLE_BLOCKS:
            for body in _unlabeled(value, key):
                _only_keys(key, body, {"policy"})
                pol = _string(body.get("policy", ""), f"{key} policy")
                if pol not in SIMPLE_BLOCKS[key]:
                    raise PolicyError(f"Invalid {key} policy: {json.dumps(pol)}")
                policy.simple[key] = pol
        else:
            raise PolicyError(f"Failed to parse ACL Policy: unexpected block or attribute {key!r}")
    return policy


def _decode(rules: str) -> dict:
    text = rules.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as err:
            raise PolicyError(f"Failed to parse ACL Policy: {err}") from None
    else:
        import hcl2

        try:
            doc = unquote_hcl(hcl2.loads(rules))
        except Exception as err:  # noqa: BLE001 - the parser raises several kinds
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise PolicyError(f"Failed to parse ACL Policy: {first}") from None
    if not isinstance(doc, dict):
        raise PolicyError("Failed to parse ACL Policy: the document must be an object")
    return doc


def unquote_hcl(value):
    """python-hcl2 keeps string literals (and block labels) quoted; drop the quotes, and the
    keys it adds of its own (`__is_block__`, `__comments__`, ...)."""
    if isinstance(value, dict):
        return {unquote_hcl(k): unquote_hcl(v) for k, v in value.items()
                if not (isinstance(k, str) and k.startswith("__") and k.endswith("__"))}
    if isinstance(value, list):
        return [unquote_hcl(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except ValueError:
            return value[1:-1]
    return value


def _labeled(value, key: str) -> list[tuple[str, dict]]:
    """`{label: body}` or a list of them (HCL gives a list, JSON usually a dict)."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise PolicyError(f"Failed to parse ACL Policy: {key} must be a block with a name")
        for label, body in item.items():
            if isinstance(body, list) and len(body) == 1:
                body = body[0]
            if not isinstance(body, dict):
                raise PolicyError(f"Failed to parse ACL Policy: {key} {label!r} must be a block")
            out.append((str(label), body))
    return out


def _unlabeled(value, key: str) -> list[dict]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(i, dict) for i in items):
        raise PolicyError(f"Failed to parse ACL Policy: {key} must be a block")
    return items


def _only_keys(block: str, body: dict, allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise PolicyError(f"Failed to parse ACL Policy: unexpected key {key!r} in {block} block")


def _string(value, what: str) -> str:
    if not isinstance(value, str):
        raise PolicyError(f"Invalid {what}: {json.dumps(value)}")
    return value


def _string_list(value, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"Failed to parse ACL Policy: {what} must be a list of strings")
    return list(value)


def _namespace_rule(name: str, body: dict) -> NamespaceRule:
    if not _NAME.match(name):
        raise PolicyError(f"Invalid namespace name '{name}'")
    _only_keys(f'namespace "{name}"', body, {"policy", "capabilities", "variables"})
    rule = NamespaceRule(name=name, policy=_string(body.get("policy", ""), "namespace policy"))
    if rule.policy and rule.policy not in NAMESPACE_POLICIES:
        raise PolicyError(f"Invalid namespace policy: {json.dumps(rule.policy)}")
    rule.capabilities = _string_list(body.get("capabilities", []), "capabilities")
    for cap in rule.capabilities:
        if cap not in NAMESPACE_CAPABILITIES:
            raise PolicyError(f"Invalid namespace capability '{cap}' in namespace '{name}'")
    for vars_body in _unlabeled(body.get("variables", []), "variables"):
        _only_keys("variables", vars_body, {"path"})
        for path, path_body in _labeled(vars_body.get("path", []), "path"):
            _only_keys(f'path "{path}"', path_body, {"capabilities"})
            caps = _string_list(path_body.get("capabilities", []), "capabilities")
            for cap in caps:
                if cap not in VARIABLE_CAPABILITIES:
                    raise PolicyError(f"Invalid variable capability '{cap}' for path '{path}'")
            rule.variables[path] = caps
    return rule


def _labeled_rule(block: str, name: str, body: dict, policies: dict, capabilities: frozenset,
                  name_re: re.Pattern) -> LabeledRule:
    if not name_re.match(name):
        raise PolicyError(f"Invalid {block} name '{name}'")
    _only_keys(f'{block} "{name}"', body, {"policy", "capabilities"})
    rule = LabeledRule(name=name, policy=_string(body.get("policy", ""), f"{block} policy"))
    if rule.policy and rule.policy not in policies:
        raise PolicyError(f"Invalid {block} policy: {json.dumps(rule.policy)}")
    rule.capabilities = _string_list(body.get("capabilities", []), "capabilities")
    for cap in rule.capabilities:
        if cap not in capabilities:
            raise PolicyError(f"Invalid {block} capability '{cap}' in {block} '{name}'")
    return rule


def expand_namespace(rule: NamespaceRule) -> set[str]:
    """The namespace rule's capabilities: its policy's expansion plus the listed ones."""
    caps = set(NAMESPACE_POLICIES.get(rule.policy, []))
    caps.update(rule.capabilities)
    return caps


def expand_labeled(rule: LabeledRule, policies: dict) -> set[str]:
    return set(policies.get(rule.policy, [])) | set(rule.capabilities)
