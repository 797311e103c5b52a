"""Binding-rule selectors (go-bexpr) over mapped claims."""

import pytest

from pynomad.acl.selector import SelectorError, parse_selector, selector_matches

DATA = {"value": {"owner": "alice", "team": "", "admin": "true", "dotted.key": "x"},
        "list": {"roles": ["engineering", "product-developer"], "empty": []}}


@pytest.mark.parametrize("selector,expected", [
    ("", True),
    ("engineering in list.roles", True),
    ('"product-developer" in list.roles', True),
    ("sales in list.roles", False),
    ("sales not in list.roles", True),
    ("list.roles contains engineering", True),
    ("list.roles not contains engineering", False),
    ("value.owner == alice", True),
    ('value.owner == "alice"', True),
    ("value.owner != alice", False),
    ("value.owner == bob or value.admin == true", True),
    ("value.owner == bob and value.admin == true", False),
    ("not value.owner == bob", True),
    ("not (value.owner == alice)", False),
    ("value.team is empty", True),
    ("value.team is not empty", False),
    ("list.empty is empty and list.roles is not empty", True),
    ('value.owner matches "^al"', True),
    ('value.owner not matches "^al"', False),
    ('value["dotted.key"] == x', True),
    ('"/value/owner" == alice', True),
    ("list.roles.0 == engineering", True),
    ("owner in value", True),
    ("ali in value.owner", True),
    ('value.owner in ["alice", "bob"]', False),   # an inline list is a value, not data
    ('"alice" in ["alice", "bob"]', True),
    # a path that does not resolve fails the whole selector, even under not
    ("value.missing == x", False),
    ("not value.missing == x", False),
    ("value.missing == x or value.owner == alice", False),  # as go-bexpr: errors propagate
    ("value.owner == alice or value.missing == x", True),
    # an invalid selector matches nothing
    ("value.owner ==", False),
    ("(value.owner == alice", False),
])
def test_selector_matches(selector, expected):
    assert selector_matches(selector, DATA) is expected


@pytest.mark.parametrize("bad", ["value.owner ==", "(a == b", "a === b", "== b", '"unterminated',
                                 "a in", "a is full", ""])
def test_parse_errors_are_selector_errors(bad):
    with pytest.raises(SelectorError):
        parse_selector(bad)


def test_precedence_and_before_or():
    # false and false or true == (false and false) or true
    assert selector_matches("value.owner == x and value.owner == y or value.owner == alice",
                            DATA)
    # true or false and false == true or (false and false)
    assert selector_matches("value.owner == alice or value.owner == x and value.owner == y",
                            DATA)
