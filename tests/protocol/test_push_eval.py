"""Evaluating push rules: each condition kind, the spec's examples, rule order and
actions.

spec: client-server "Conditions" (with its examples), "Push Rules" (first enabled match
decides), "Actions" / "Historical Actions", "Predefined Rules" (intentional mentions).
"""

from __future__ import annotations

from typing import Any

import pytest

from homeserver.protocol.push_eval import (
    EventEvaluator,
    RoomFacts,
    effective_actions,
    event_match,
    highlights,
    member_count_matches,
    notifies,
    tweaks,
)
from homeserver.protocol.push_rules import DefaultChange, PushRule, assemble, default_ruleset

ALICE = "@alice:example.org"
BOB = "@bob:example.org"
ROOM = "!room:example.org"
FACTS = RoomFacts(member_count=5, sender_power=0, notification_levels={"room": 50})


def message(body: str = "hello", **content: Any) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "sender": BOB,
        "room_id": ROOM,
        "content": {"msgtype": "m.text", "body": body, **content},
    }


def matches(condition: dict[str, Any], event: dict[str, Any], facts: RoomFacts = FACTS) -> bool:
    rule = PushRule("override", "test", ("notify",), conditions=(condition,))
    return EventEvaluator(event, facts).first_match([rule], ALICE, "Alice") is not None


def first_rule(event: dict[str, Any], facts: RoomFacts = FACTS, **kwargs: Any) -> str | None:
    ruleset = kwargs.get("ruleset") or default_ruleset(ALICE)
    rule = EventEvaluator(event, facts).first_match(ruleset.in_order(), ALICE, "Alice")
    return None if rule is None else rule.rule_id


# -- event_match ---------------------------------------------------------------------


def test_event_match_spec_example_topic() -> None:
    """spec: ``content.topic`` with ``lunc?*``."""

    def topic(value: Any) -> dict[str, Any]:
        return {"type": "m.room.topic", "state_key": "", "content": {"topic": value}}

    pattern = "lunc?*"
    assert event_match(topic("Lunch plans"), "content.topic", pattern)
    assert event_match(topic("LUNCH"), "content.topic", pattern)
    assert not event_match(topic(" lunch"), "content.topic", pattern)
    assert not event_match(topic("lunc"), "content.topic", pattern)
    assert not event_match(topic(None), "content.topic", pattern)


def test_event_match_body_spec_example_word_boundaries() -> None:
    """spec: ``content.body`` with ``ex*ple``: any substring at word boundaries."""
    for body in ("An example event.", "exple", "An exciting triple-whammy"):
        assert event_match(message(body), "content.body", "ex*ple"), body
    for body in ("An examples event", "complex example_x", "Anexample"):
        assert not event_match(message(body), "content.body", "ex*ple"), body


def test_event_match_absent_or_not_a_string_never_matches() -> None:
    assert not event_match(message(), "content.missing", "*")
    assert not event_match(message(count=3), "content.count", "*")
    assert not event_match(message(), "content", "*")
    assert event_match(message(), "content.msgtype", "*")


def test_event_match_with_escaped_dots() -> None:
    event = message(**{"m.relates_to": {"rel_type": "m.thread"}})
    assert event_match(event, "content.m\\.relates_to.rel_type", "m.thread")
    assert not event_match(event, "content.m.relates_to.rel_type", "m.thread")


# -- event_property_is / contains ----------------------------------------------------


def create_event(federate: Any) -> dict[str, Any]:
    return {"type": "m.room.create", "state_key": "", "content": {"m.federate": federate}}


def test_event_property_is_spec_example() -> None:
    condition = {"kind": "event_property_is", "key": "content.m\\.federate", "value": True}
    assert matches(condition, create_event(True))
    assert not matches(condition, create_event("true"))
    assert not matches(condition, create_event(1))


@pytest.mark.parametrize(
    ("value", "other", "expected"),
    [
        (None, None, True),
        (None, False, False),
        (0, False, False),
        (1, True, False),
        (1, 1.0, False),
        ("1", 1, False),
        (7, 7, True),
        ("x", "x", True),
    ],
)
def test_event_property_is_exact(value: Any, other: Any, expected: bool) -> None:
    condition = {"kind": "event_property_is", "key": "content.v", "value": value}
    assert matches(condition, message(v=other)) is expected


def test_event_property_is_absent_or_compound_never_matches() -> None:
    condition = {"kind": "event_property_is", "key": "content.v", "value": None}
    assert not matches(condition, message())
    assert not matches(condition, message(v={"a": None}))


def test_event_property_contains_spec_example() -> None:
    event = {
        "type": "m.room.canonical_alias",
        "state_key": "",
        "content": {"alt_aliases": ["#somewhere:example.org", "#myroom:example.com"]},
    }
    condition = {
        "kind": "event_property_contains",
        "key": "content.alt_aliases",
        "value": "#myroom:example.com",
    }
    assert matches(condition, event)
    assert not matches({**condition, "value": ":example.com"}, event)
    assert not matches({**condition, "key": "content.alias"}, event)
    ints = message(v=[True, 2, [3], {"x": 4}])
    assert matches({"kind": "event_property_contains", "key": "content.v", "value": 2}, ints)
    assert not matches({"kind": "event_property_contains", "key": "content.v", "value": 1}, ints)
    assert not matches({"kind": "event_property_contains", "key": "content.v", "value": 3}, ints)


# -- contains_display_name, room_member_count, sender_notification_permission -------------


def test_contains_display_name() -> None:
    rule = PushRule("override", "n", ("notify",), conditions=({"kind": "contains_display_name"},))

    def check(body: str, name: str | None) -> bool:
        return EventEvaluator(message(body), FACTS).first_match([rule], ALICE, name) is not None

    assert check("hi Alice!", "Alice")
    assert check("ALICE: look", "Alice")
    assert check("hey Alice Smith", "Alice Smith")
    assert not check("Alicente", "Alice")
    assert not check("anything", None)
    assert not check("anything", "")
    assert check("x a*e y", "a*e")  # the name is literal, not a glob
    assert not check("abcde", "a*e")


@pytest.mark.parametrize(
    ("spec", "count", "expected"),
    [
        ("2", 2, True),
        ("2", 3, False),
        ("==2", 2, True),
        ("<3", 2, True),
        ("<2", 2, False),
        (">2", 3, True),
        (">2", 2, False),
        ("<=2", 2, True),
        ("<=2", 3, False),
        (">=2", 2, True),
        (">=2", 1, False),
        ("", 0, False),
        ("=<2", 1, False),
        ("-1", 0, False),
        ("two", 2, False),
        (2, 2, False),
    ],
)
def test_room_member_count(spec: Any, count: int, expected: bool) -> None:
    assert member_count_matches(spec, count) is expected


def test_sender_notification_permission() -> None:
    condition = {"kind": "sender_notification_permission", "key": "room"}
    assert not matches(condition, message(), RoomFacts(2, 49, {"room": 50}))
    assert matches(condition, message(), RoomFacts(2, 50, {"room": 50}))
    assert matches(condition, message(), RoomFacts(2, 10, {"room": 10}))
    # A key the power levels do not list needs 50.
    other = {"kind": "sender_notification_permission", "key": "other"}
    assert not matches(other, message(), RoomFacts(2, 49, {}))
    assert matches(other, message(), RoomFacts(2, 50, {}))


def test_unknown_conditions_never_match() -> None:
    assert not matches({"kind": "org.example.future"}, message())
    assert not matches({"kind": "event_match", "key": "type"}, message())


# -- the default rules on events -----------------------------------------------------


def test_mentions_and_messages_with_the_defaults() -> None:
    assert first_rule(message()) == ".m.rule.message"
    assert first_rule(message(), RoomFacts(2, 0)) == ".m.rule.room_one_to_one"
    mention = message("hey", **{"m.mentions": {"user_ids": [ALICE]}})
    assert first_rule(mention) == ".m.rule.is_user_mention"
    other = message("hey", **{"m.mentions": {"user_ids": ["@carol:example.org"]}})
    assert first_rule(other) == ".m.rule.message"
    # The body naming the user is no mention any more (spec v1.17).
    assert first_rule(message("alice: hi, Alice")) == ".m.rule.message"
    room = message("all", **{"m.mentions": {"room": True}})
    assert first_rule(room, RoomFacts(5, 0, {"room": 50})) == ".m.rule.message"
    assert first_rule(room, RoomFacts(5, 50, {"room": 50})) == ".m.rule.is_room_mention"


def test_suppressing_defaults() -> None:
    assert first_rule(message(msgtype="m.notice")) == ".m.rule.suppress_notices"
    edit = message("* fixed", **{"m.relates_to": {"rel_type": "m.replace", "event_id": "$e"}})
    assert first_rule(edit) == ".m.rule.suppress_edits"
    reaction = {"type": "m.reaction", "sender": BOB, "content": {}}
    assert first_rule(reaction) == ".m.rule.reaction"
    join = {"type": "m.room.member", "state_key": BOB, "sender": BOB, "content": {}}
    assert first_rule({**join, "content": {"membership": "join"}}) == ".m.rule.member_event"
    invite = {**join, "state_key": ALICE, "content": {"membership": "invite"}}
    assert first_rule(invite) == ".m.rule.invite_for_me"
    tombstone = {"type": "m.room.tombstone", "state_key": "", "sender": BOB, "content": {}}
    assert first_rule(tombstone) == ".m.rule.tombstone"
    not_state = {"type": "m.room.tombstone", "sender": BOB, "content": {}}
    assert first_rule(not_state) is None
    assert first_rule({"type": "m.call.invite", "sender": BOB, "content": {}}) == ".m.rule.call"
    encrypted = {"type": "m.room.encrypted", "sender": BOB, "content": {}}
    assert first_rule(encrypted) == ".m.rule.encrypted"
    assert first_rule(encrypted, RoomFacts(2, 0)) == ".m.rule.encrypted_room_one_to_one"
    assert first_rule({"type": "m.room.topic", "state_key": "", "content": {}}) is None


def test_master_rule_silences_everything() -> None:
    ruleset = assemble(ALICE, [], {".m.rule.master": DefaultChange(enabled=True)})
    mention = message("x", **{"m.mentions": {"user_ids": [ALICE]}})
    assert first_rule(mention, ruleset=ruleset) == ".m.rule.master"


def test_user_rules_come_before_defaults_and_disabled_rules_never_match() -> None:
    muted = PushRule("room", ROOM, ())
    ruleset = assemble(ALICE, [muted], {})
    assert first_rule(message(), ruleset=ruleset) == ROOM
    mention = message("x", **{"m.mentions": {"user_ids": [ALICE]}})
    assert first_rule(mention, ruleset=ruleset) == ".m.rule.is_user_mention"  # override first
    disabled = PushRule("room", ROOM, (), enabled=False)
    assert first_rule(message(), ruleset=assemble(ALICE, [disabled], {})) == ".m.rule.message"
    sender = PushRule("sender", BOB, ("dont_notify",))
    assert first_rule(message(), ruleset=assemble(ALICE, [sender], {})) == BOB
    content = PushRule("content", "cake", ("notify",), pattern="cake*")
    ruleset = assemble(ALICE, [content, muted], {})
    assert first_rule(message("Cakes!"), ruleset=ruleset) == "cake"
    assert first_rule(message("pancakes"), ruleset=ruleset) == ROOM


# -- actions ---------------------------------------------------------------------------


def test_actions() -> None:
    assert effective_actions(["dont_notify"]) == []
    assert effective_actions(["coalesce", "notify"]) == ["notify"]
    assert notifies(["notify"]) and not notifies([]) and not notifies(["dont_notify"])
    assert tweaks([{"set_tweak": "highlight"}, {"set_tweak": "sound", "value": "x"}]) == {
        "highlight": True,
        "sound": "x",
    }
    assert highlights([{"set_tweak": "highlight"}])
    assert not highlights([{"set_tweak": "highlight", "value": False}])
    assert not highlights(["notify", {"set_tweak": "sound", "value": "default"}])
