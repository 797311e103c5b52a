"""Claim mappings and binding (Nomad's lib/auth SelectorData, Binder)."""

from types import SimpleNamespace as Rule

import pytest

from pynomad.acl.claims import ClaimError, bind, interpolate, selector_data

CLAIMS = {"sub": "u1", "email": "Alice@Example.com", "admin": True, "n": 3.7,
          "groups": ["eng", "", "ops"], "nested": {"team": "core"}, "obj": {"a": 1}}


def test_selector_data_maps_values_and_lists():
    data = selector_data({"email": "user", "admin": "admin", "n": "n", "/nested/team": "team",
                          "absent": "absent"},
                         {"groups": "groups", "email": "emails"}, CLAIMS)
    assert data == {"value": {"user": "Alice@Example.com", "admin": "true", "n": "3",
                              "team": "core"},
                    "list": {"groups": ["eng", "ops"], "emails": ["Alice@Example.com"]}}


def test_user_claims_merge_but_keep_iss_and_sub():
    data = selector_data({"sub": "sub", "iss": "iss", "name": "name"}, {},
                         {"sub": "id", "iss": "idp"},
                         {"sub": "other", "iss": "evil", "name": "N"})
    assert data["value"] == {"sub": "id", "iss": "idp", "name": "N"}


def test_unmappable_claims_are_errors():
    with pytest.raises(ClaimError):
        selector_data({"obj": "o"}, {}, CLAIMS)
    with pytest.raises(ClaimError):
        selector_data({}, {"obj": "o"}, {"obj": [{"x": 1}]})


def test_interpolate_lowercases_and_rejects_unknown():
    assert interpolate("team-${value.team}", {"value.team": "Core"}) == "team-core"
    assert interpolate("plain", {}) == "plain"
    with pytest.raises(ClaimError):
        interpolate("${value.nope}", {})


def _bind(rules, data, mappings=None):
    roles = {"eng": "role-eng-id", "team-core": "role-core-id"}
    policies = {"readonly"}
    return bind(rules, data, mappings, roles.get, policies.__contains__)


def test_bind_roles_policies_and_missing_targets():
    data = {"value": {"team": "Core"}, "list": {"groups": ["eng"]}}
    rules = [Rule(Selector="eng in list.groups", BindType="role", BindName="eng"),
             Rule(Selector="", BindType="role", BindName="team-${value.team}"),
             Rule(Selector="", BindType="policy", BindName="readonly"),
             Rule(Selector="", BindType="policy", BindName="does-not-exist"),
             Rule(Selector="ops in list.groups", BindType="policy", BindName="readonly2")]
    got = _bind(rules, data, {"team": "team"})
    assert not got.management
    assert got.roles == ["role-eng-id", "role-core-id"]
    assert got.policies == ["readonly"]


def test_bind_management_wins_and_no_match_is_none():
    data = {"value": {"admin": "true"}, "list": {}}
    rules = [Rule(Selector="", BindType="policy", BindName="readonly"),
             Rule(Selector="value.admin == true", BindType="management", BindName="")]
    got = _bind(rules, data)
    assert got.management and got.none()
    assert _bind([Rule(Selector="value.admin == false", BindType="policy",
                       BindName="readonly")], data).none()


def test_bind_rejects_invalid_computed_name():
    data = {"value": {"team": "has space"}, "list": {}}
    with pytest.raises(ClaimError):
        _bind([Rule(Selector="", BindType="role", BindName="${value.team}")], data,
              {"team": "team"})
