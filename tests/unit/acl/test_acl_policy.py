"""ACL policy parsing, validation and capability checks (pure logic)."""

from __future__ import annotations

import pytest

from pynomad.acl import ACL, PolicyError, parse_policy

RULES = '''
namespace "default" {
  policy       = "read"
  capabilities = ["submit-job"]
}
namespace "prod-*" {
  policy = "write"
  variables {
    path "app/*" { capabilities = ["read", "list"] }
  }
}
node { policy = "read" }
agent { policy = "write" }
plugin { policy = "list" }
host_volume "data-*" { policy = "read" }
'''


def test_parse_hcl_policy():
    pol = parse_policy(RULES)
    names = [r.name for r in pol.namespaces]
    assert names == ["default", "prod-*"]
    assert pol.namespaces[0].policy == "read"
    assert pol.namespaces[0].capabilities == ["submit-job"]
    assert pol.namespaces[1].variables == {"app/*": ["read", "list"]}
    assert pol.simple == {"node": "read", "agent": "write", "plugin": "list"}
    assert pol.host_volumes[0].name == "data-*"


def test_parse_json_policy():
    pol = parse_policy('{"namespace": {"default": {"policy": "write"}}, '
                       '"operator": {"policy": "read"}}')
    assert pol.namespaces[0].name == "default" and pol.namespaces[0].policy == "write"
    assert pol.simple["operator"] == "read"


@pytest.mark.parametrize("rules, message", [
    ('namespace "x" { policy = "bogus" }', 'Invalid namespace policy: "bogus"'),
    ('namespace "x" { capabilities = ["fly"] }', "Invalid namespace capability 'fly'"),
    ('namespace "bad name" { policy = "read" }', "Invalid namespace name 'bad name'"),
    ('node { policy = "list" }', 'Invalid node policy: "list"'),
    ('plugin { policy = "write" }', 'Invalid plugin policy: "write"'),
    ('nodes { policy = "read" }', "unexpected block or attribute 'nodes'"),
    ('namespace "x" { polcy = "read" }', "unexpected key 'polcy'"),
    ('namespace "x" {', "Failed to parse ACL Policy"),
    ('  \n', "Invalid policy"),
    ('# only a comment\n', "Invalid policy"),
    ('{"namespace": ', "Failed to parse ACL Policy"),
])
def test_bad_policies_are_rejected(rules, message):
    with pytest.raises(PolicyError) as err:
        parse_policy(rules)
    assert message in str(err.value)


def test_empty_rules_are_an_empty_policy_as_in_nomad():
    pol = parse_policy("")
    assert pol.namespaces == [] and pol.simple == {}
    assert not ACL.compile([pol]).allow_ns_op("default", "read-job")


def test_comments_anywhere_in_a_policy():
    rules = """
# the notes' policy file, with comments everywhere
namespace "default" {
  # read the default namespace
  policy = "read" // and more
  /* plus submitting */
  capabilities = ["submit-job"] # trailing
  variables {
    # a comment in a nested block
    path "nomad/jobs/*" {
      capabilities = ["read"] # and here
    }
  }
}
node {
  policy = "read" # node
}
"""
    pol = parse_policy(rules)
    assert pol.namespaces[0].policy == "read"
    assert pol.namespaces[0].capabilities == ["submit-job"]
    assert pol.namespaces[0].variables == {"nomad/jobs/*": ["read"]}
    assert pol.simple == {"node": "read"}


def test_capabilities_expand_and_merge():
    acl = ACL.compile([parse_policy(RULES)])
    assert acl.allow_ns_op("default", "read-job")
    assert acl.allow_ns_op("default", "list-jobs")
    assert acl.allow_ns_op("default", "submit-job")
    assert not acl.allow_ns_op("default", "alloc-exec")
    assert acl.allow_ns_op("prod-api", "alloc-exec")       # glob match, write policy
    assert not acl.allow_ns_op("staging", "read-job")      # no rule: denied
    assert acl.allow_node_read() and not acl.allow_node_write()
    assert acl.allow_agent_write()
    assert not acl.allow_operator_read()
    assert acl.allow_plugin_list() and not acl.allow_plugin_read()
    assert acl.allow_host_volume_op("data-1", "mount-readonly")
    assert not acl.allow_host_volume_op("data-1", "mount-readwrite")
    assert acl.allow_ns_op("*", "submit-job")              # allowed in some namespace
    assert acl.allow_namespace("default") and not acl.allow_namespace("staging")


def test_deny_wins_over_grants():
    grant = parse_policy('namespace "default" { policy = "write" }\nnode { policy = "write" }')
    deny = parse_policy('namespace "default" { policy = "deny" }\nnode { policy = "deny" }')
    acl = ACL.compile([grant, deny])
    assert not acl.allow_ns_op("default", "read-job")
    assert not acl.allow_namespace("default")
    assert not acl.allow_node_read()


def test_exact_namespace_rule_beats_glob_and_closest_glob_wins():
    acl = ACL.compile([parse_policy(
        'namespace "*" { policy = "read" }\n'
        'namespace "prod-*" { policy = "deny" }\n'
        'namespace "prod-web" { policy = "write" }')])
    assert acl.allow_ns_op("dev", "read-job")
    assert not acl.allow_ns_op("prod-api", "read-job")     # "prod-*" is closer than "*"
    assert acl.allow_ns_op("prod-web", "submit-job")       # exact rule


def test_management_and_empty_acl():
    assert ACL(management=True).allow_ns_op("any", "submit-job")
    assert ACL(management=True).allow("management", "")
    empty = ACL.compile([])
    assert not empty.allow_ns_op("default", "read-job")
    assert not empty.allow("management", "")
