"""Evaluating push rules against an event.

spec: client-server "Push Rules" (the first enabled rule that matches decides; disabled
rules never match), "Conditions" (``event_match``, ``event_property_is``,
``event_property_contains``, ``contains_display_name``, ``room_member_count``,
``sender_notification_permission``; unknown conditions never match) and "Actions"
(``notify``, ``set_tweak``; the historical ``dont_notify`` and ``coalesce`` are ignored;
``highlight`` without a value is true).

The event is its PDU as a JSON object (``type``, ``state_key``, ``sender``,
``room_id``, ``content``, ...). An ``EventEvaluator`` serves every recipient of one
event: the conditions that do not depend on who receives it are decided once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .push_glob import (
    ABSENT,
    compile_glob,
    compile_literal,
    glob_matches,
    glob_matches_words,
    lookup,
)
from .push_rules import LEGACY_ACTIONS, MAX_SAFE_INT, NOTIFY, PushRule

# spec: "room_member_count" — a decimal integer, optionally prefixed by ==, <, >, >=, <=.
_MEMBER_COUNT = re.compile(r"^(==|<=|>=|<|>)?([0-9]+)$")

# spec: "sender_notification_permission" refers to m.room.power_levels, whose
# ``notifications.room`` defaults to 50; other keys have the same default here.
DEFAULT_NOTIFICATION_LEVEL = 50


@dataclass(frozen=True, slots=True)
class RoomFacts:
    """What the conditions need to know of the room when the event arrives."""

    member_count: int  # joined members
    sender_power: int
    notification_levels: Mapping[str, int] = field(default_factory=dict)


def _scalar_equal(a: Any, b: Any) -> bool:
    """Exact equality of canonical JSON scalars: ``true`` is not ``1``, no floats."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, int) and isinstance(b, int):
        return a == b and -MAX_SAFE_INT <= a <= MAX_SAFE_INT
    return False


def member_count_matches(spec: Any, count: int) -> bool:
    if not isinstance(spec, str):
        return False
    found = _MEMBER_COUNT.match(spec)
    if found is None:
        return False
    op, number = found.group(1) or "==", int(found.group(2))
    if op == "==":
        return count == number
    if op == "<":
        return count < number
    if op == ">":
        return count > number
    if op == "<=":
        return count <= number
    return count >= number


def event_match(event: Mapping[str, Any], key: Any, pattern: Any) -> bool:
    if not isinstance(key, str) or not isinstance(pattern, str):
        return False
    value = lookup(event, key)
    if not isinstance(value, str):
        return False  # absent, or not a string: no match, even for ``*``
    glob = compile_glob(pattern)
    if key == "content.body":
        return glob_matches_words(glob, value)
    return glob_matches(glob, value)


def contains_display_name(event: Mapping[str, Any], display_name: str | None) -> bool:
    if not display_name:
        return False
    body = lookup(event, "content.body")
    if not isinstance(body, str):
        return False
    return glob_matches_words(compile_literal(display_name), body)


class EventEvaluator:
    def __init__(self, event: Mapping[str, Any], facts: RoomFacts) -> None:
        self.event = event
        self.facts = facts
        self._memo: dict[Hashable, bool] = {}
        self._rule_memo: dict[Hashable, bool] = {}

    def first_match(
        self, rules: Iterable[PushRule], user_id: str, display_name: str | None = None
    ) -> PushRule | None:
        """The first enabled rule of ``rules`` (in evaluation order) that matches."""
        memo = self._rule_memo
        for rule in rules:
            if not rule.enabled:
                continue
            key = rule.match_key
            if key is None:
                matched = self._rule_matches(rule, display_name)
            else:
                found = memo.get(key)
                matched = (
                    found
                    if found is not None
                    else memo.setdefault(key, self._rule_matches(rule, display_name))
                )
            if matched:
                return rule
        return None

    def _rule_matches(self, rule: PushRule, display_name: str | None) -> bool:
        kind = rule.kind
        if kind in ("override", "underride"):
            return all(self._condition(c, display_name) for c in rule.conditions)
        if kind == "content":
            pattern = rule.pattern
            if pattern is None:
                return False
            return self._memoized(
                ("match", "content.body", pattern),
                lambda: event_match(self.event, "content.body", pattern),
            )
        if kind == "room":
            return self.event.get("room_id") == rule.rule_id
        if kind == "sender":
            return self.event.get("sender") == rule.rule_id
        return False

    def _memoized(self, key: Hashable, decide: Callable[[], bool]) -> bool:
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = decide()
        return found

    def _condition(self, condition: Mapping[str, Any], display_name: str | None) -> bool:
        if not isinstance(condition, Mapping):
            return False
        kind = condition.get("kind")
        key = condition.get("key")
        if kind == "event_match":
            pattern = condition.get("pattern")
            if not isinstance(key, str) or not isinstance(pattern, str):
                return False
            return self._memoized(
                ("match", key, pattern), lambda: event_match(self.event, key, pattern)
            )
        if kind in ("event_property_is", "event_property_contains"):
            value = condition.get("value", ABSENT)
            if not isinstance(key, str) or value is ABSENT or isinstance(value, dict | list):
                return False
            memo_key = (kind, key, type(value).__name__, value)
            if kind == "event_property_is":
                return self._memoized(memo_key, lambda: self._property_is(key, value))
            return self._memoized(memo_key, lambda: self._property_contains(key, value))
        if kind == "contains_display_name":
            return self._memoized(
                ("display_name", display_name),
                lambda: contains_display_name(self.event, display_name),
            )
        if kind == "room_member_count":
            return member_count_matches(condition.get("is"), self.facts.member_count)
        if kind == "sender_notification_permission":
            if not isinstance(key, str):
                return False
            needed = self.facts.notification_levels.get(key, DEFAULT_NOTIFICATION_LEVEL)
            return self.facts.sender_power >= needed
        return False  # spec: unrecognised conditions MUST NOT match

    def _property_is(self, key: str, value: Any) -> bool:
        found = lookup(self.event, key)
        return found is not ABSENT and _scalar_equal(found, value)

    def _property_contains(self, key: str, value: Any) -> bool:
        found = lookup(self.event, key)
        if not isinstance(found, list):
            return False
        return any(_scalar_equal(item, value) for item in found)


# ---------------------------------------------------------------- actions


def effective_actions(actions: Iterable[Any]) -> list[Any]:
    """``actions`` without the historical ``dont_notify`` and ``coalesce``."""
    return [a for a in actions if not (isinstance(a, str) and a in LEGACY_ACTIONS)]


def notifies(actions: Iterable[Any]) -> bool:
    return any(a == NOTIFY for a in actions)


def tweaks(actions: Iterable[Any]) -> dict[str, Any]:
    """The ``set_tweak`` actions as a dictionary (``highlight`` with no value is true)."""
    found: dict[str, Any] = {}
    for action in actions:
        if isinstance(action, Mapping) and isinstance(action.get("set_tweak"), str):
            name = action["set_tweak"]
            if "value" in action:
                found[name] = action["value"]
            elif name == "highlight":
                found[name] = True
    return found


def highlights(actions: Iterable[Any]) -> bool:
    return tweaks(actions).get("highlight") is True
