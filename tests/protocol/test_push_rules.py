"""Push rules as data: the server defaults are the spec's listing, a user's rules sit
between ``.m.rule.master`` and the defaults, and what clients may store is checked.

spec: client-server "Predefined Rules" (v1.19), "Push Rules", "Actions", "Conditions".
tests/fixtures/push/default_rules_v1.19.json holds the JSON blocks of the spec's
"Default Override Rules" and "Default Underride Rules", in the spec's order, with its
``[the user's Matrix ID]`` placeholder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from homeserver.protocol.push_rules import (
    KINDS,
    DefaultChange,
    InvalidRule,
    PushRule,
    assemble,
    check_actions,
    check_conditions,
    default_ruleset,
)

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "push" / "default_rules_v1.19.json"
ALICE = "@alice:example.org"


def spec_defaults(user_id: str) -> dict[str, Any]:
    text = FIXTURE.read_text(encoding="utf-8")
    return dict(json.loads(text.replace("[the user's Matrix ID]", user_id)))


def test_the_default_rules_are_the_spec_listing_in_order() -> None:
    assert default_ruleset(ALICE).to_json() == spec_defaults(ALICE)


def test_the_defaults_name_the_user_where_the_spec_says() -> None:
    rules = default_ruleset(ALICE)
    invite = rules.find("override", ".m.rule.invite_for_me")
    mention = rules.find("override", ".m.rule.is_user_mention")
    assert invite is not None and mention is not None
    assert {"key": "state_key", "kind": "event_match", "pattern": ALICE} in invite.conditions
    assert mention.conditions[0]["value"] == ALICE


def test_legacy_body_mention_rules_are_gone() -> None:
    """spec v1.17: the default rules that looked for mentions in the body were removed."""
    ids = {rule.rule_id for rule in default_ruleset(ALICE).in_order()}
    assert not ids & {".m.rule.contains_display_name", ".m.rule.roomnotif"}
    assert ".m.rule.contains_user_name" not in ids
    assert default_ruleset(ALICE).rules["content"] == ()


def user_rule(kind: str, rule_id: str, **extra: Any) -> PushRule:
    return PushRule(kind=kind, rule_id=rule_id, actions=("notify",), **extra)


def test_user_rules_sit_below_master_and_above_the_defaults() -> None:
    mine = [
        user_rule("override", "first", conditions=()),
        user_rule("override", "second", conditions=()),
        user_rule("underride", "low", conditions=()),
        user_rule("room", "!r:example.org"),
        user_rule("content", "cake", pattern="cake"),
    ]
    ruleset = assemble(ALICE, mine, {})
    override = [r.rule_id for r in ruleset.rules["override"]]
    assert override[:3] == [".m.rule.master", "first", "second"]
    assert override[3] == ".m.rule.suppress_notices"
    assert ruleset.rules["underride"][0].rule_id == "low"
    order = [r.rule_id for r in ruleset.in_order()]
    assert order.index("cake") < order.index("!r:example.org")  # content before room
    as_json = ruleset.to_json()
    assert list(as_json) == list(KINDS)
    assert as_json["content"][0] == {
        "rule_id": "cake",
        "default": False,
        "enabled": True,
        "actions": ["notify"],
        "pattern": "cake",
    }
    # Room and sender rules show neither conditions nor pattern (spec: PushRule).
    assert set(as_json["room"][0]) == {"rule_id", "default", "enabled", "actions"}


def test_changes_to_default_rules_apply() -> None:
    ruleset = assemble(
        ALICE,
        [],
        {
            ".m.rule.master": DefaultChange(enabled=True),
            ".m.rule.message": DefaultChange(actions=("notify", {"set_tweak": "sound"})),
        },
    )
    master = ruleset.find("override", ".m.rule.master")
    message = ruleset.find("underride", ".m.rule.message")
    assert master is not None and master.enabled and master.default
    assert message is not None and message.actions == ("notify", {"set_tweak": "sound"})


@pytest.mark.parametrize(
    "actions",
    [
        [],
        ["notify"],
        ["dont_notify"],
        ["coalesce", "notify"],
        ["notify", {"set_tweak": "sound", "value": "ping"}, {"set_tweak": "highlight"}],
        [{"set_tweak": "custom.tweak", "value": {"any": "json"}}],
    ],
)
def test_valid_actions(actions: list[Any]) -> None:
    assert check_actions(actions) == tuple(actions)


@pytest.mark.parametrize(
    "actions",
    ["notify", None, ["notify_loudly"], [{"value": 1}], [{"set_tweak": 3}], [1], [["notify"]]],
)
def test_invalid_actions(actions: Any) -> None:
    with pytest.raises(InvalidRule):
        check_actions(actions)


@pytest.mark.parametrize(
    "conditions",
    [
        [],
        [{"kind": "event_match", "key": "type", "pattern": "m.room.*"}],
        [{"kind": "event_property_is", "key": "content.x", "value": None}],
        [{"kind": "event_property_contains", "key": "content.x", "value": 2**53 - 1}],
        [{"kind": "room_member_count", "is": "<=10"}],
        [{"kind": "sender_notification_permission", "key": "room"}],
        [{"kind": "contains_display_name"}],
        [{"kind": "org.example.future", "anything": [1, 2]}],  # kept, never matches
    ],
)
def test_valid_conditions(conditions: list[Any]) -> None:
    assert check_conditions(conditions) == tuple(conditions)


@pytest.mark.parametrize(
    "conditions",
    [
        {"kind": "event_match"},
        [{"key": "type"}],
        [{"kind": 5}],
        ["event_match"],
        [{"kind": "event_match", "key": "type"}],
        [{"kind": "event_match", "pattern": "x"}],
        [{"kind": "event_property_is", "key": "content.x"}],
        [{"kind": "event_property_is", "key": "content.x", "value": 1.5}],
        [{"kind": "event_property_is", "key": "content.x", "value": 2**53}],
        [{"kind": "event_property_contains", "key": "content.x", "value": [1]}],
        [{"kind": "room_member_count", "is": 2}],
        [{"kind": "sender_notification_permission"}],
    ],
)
def test_invalid_conditions(conditions: Any) -> None:
    with pytest.raises(InvalidRule):
        check_conditions(conditions)
