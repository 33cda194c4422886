"""Push rules as data: the server-default rules, a user's ruleset, and checks of what a
client may store.

spec: client-server "Push Rules" (kinds and their order), "Predefined Rules" (the
server-default rules of v1.19, listed below in the spec's order), "Actions" (the
historical ``dont_notify`` and ``coalesce`` are ignored), "Conditions", and
``PUT /pushrules/global/{kind}/{ruleId}``. Pure: evaluation is ``push_eval``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# spec: "Push Rules" — the kinds, in the order they are checked.
KINDS = ("override", "content", "room", "sender", "underride")

MASTER_RULE_ID = ".m.rule.master"

# spec: "Actions" and "Historical Actions".
NOTIFY = "notify"
LEGACY_ACTIONS = frozenset({"dont_notify", "coalesce"})

# spec: "event_property_is" — integers of canonical JSON.
MAX_SAFE_INT = 2**53 - 1

KNOWN_CONDITIONS = frozenset(
    {
        "event_match",
        "event_property_is",
        "event_property_contains",
        "contains_display_name",
        "room_member_count",
        "sender_notification_permission",
    }
)


class InvalidRule(ValueError):
    """What a client sent is not a valid rule (actions, conditions, pattern)."""


@dataclass(frozen=True, slots=True)
class PushRule:
    kind: str
    rule_id: str
    actions: tuple[Any, ...]
    conditions: tuple[Mapping[str, Any], ...] = ()
    pattern: str | None = None
    default: bool = False
    enabled: bool = True
    # What the rule's match depends on besides the event, so one event's evaluation can
    # share a result between users whose rules match alike (most rules of most users);
    # None when it also depends on the user's display name.
    match_key: tuple[str, str, str | None, str] | None = field(
        default=None, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if any(
            isinstance(c, Mapping) and c.get("kind") == "contains_display_name"
            for c in self.conditions
        ):
            return
        target = self.rule_id if self.kind in ("room", "sender") else ""
        conditions = json.dumps([dict(c) for c in self.conditions], sort_keys=True, default=str)
        object.__setattr__(self, "match_key", (self.kind, target, self.pattern, conditions))

    @property
    def uses_display_name(self) -> bool:
        return self.enabled and self.match_key is None

    def to_json(self) -> dict[str, Any]:
        """The rule as ``GET /pushrules`` and ``m.push_rules`` show it (spec: PushRule)."""
        out: dict[str, Any] = {
            "rule_id": self.rule_id,
            "default": self.default,
            "enabled": self.enabled,
            "actions": list(self.actions),
        }
        if self.kind in ("override", "underride"):
            out["conditions"] = [dict(c) for c in self.conditions]
        elif self.kind == "content":
            out["pattern"] = self.pattern or ""
        return out


@dataclass(frozen=True, slots=True)
class DefaultChange:
    """A user's change to a server-default rule (None: the default's own value)."""

    enabled: bool | None = None
    actions: tuple[Any, ...] | None = None


@dataclass(frozen=True, slots=True)
class Ruleset:
    """One user's rules, each kind most important first, in evaluation order."""

    rules: Mapping[str, tuple[PushRule, ...]] = field(default_factory=dict)
    # Whether an enabled rule looks at the user's display name (known once per ruleset,
    # not looked up again for every event and recipient).
    uses_display_name: bool = field(default=False, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        uses = any(rule.uses_display_name for rule in self.in_order())
        object.__setattr__(self, "uses_display_name", uses)

    def in_order(self) -> Iterator[PushRule]:
        for kind in KINDS:
            yield from self.rules.get(kind, ())

    def find(self, kind: str, rule_id: str) -> PushRule | None:
        for rule in self.rules.get(kind, ()):
            if rule.rule_id == rule_id:
                return rule
        return None

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        return {kind: [rule.to_json() for rule in self.rules.get(kind, ())] for kind in KINDS}


# ---------------------------------------------------------------- server-default rules

_USER = "[the user's Matrix ID]"  # where the spec's definitions name the user


def _event_match(key: str, pattern: str) -> dict[str, Any]:
    return {"kind": "event_match", "key": key, "pattern": pattern}


_SOUND_DEFAULT = {"set_tweak": "sound", "value": "default"}
_HIGHLIGHT = {"set_tweak": "highlight"}

# spec: "Default Override Rules" (``.m.rule.master`` first, always) and "Default
# Underride Rules"; v1.17 removed the legacy rules that looked for mentions in the body
# (``.m.rule.contains_display_name``, ``.m.rule.contains_user_name``,
# ``.m.rule.roomnotif``), so there are no default content rules.
_DEFAULT_OVERRIDE: tuple[tuple[str, bool, list[dict[str, Any]], list[Any]], ...] = (
    (MASTER_RULE_ID, False, [], []),
    (".m.rule.suppress_notices", True, [_event_match("content.msgtype", "m.notice")], []),
    (
        ".m.rule.invite_for_me",
        True,
        [
            {"key": "type", "kind": "event_match", "pattern": "m.room.member"},
            {"key": "content.membership", "kind": "event_match", "pattern": "invite"},
            {"key": "state_key", "kind": "event_match", "pattern": _USER},
        ],
        [NOTIFY, _SOUND_DEFAULT],
    ),
    (
        ".m.rule.member_event",
        True,
        [{"key": "type", "kind": "event_match", "pattern": "m.room.member"}],
        [],
    ),
    (
        ".m.rule.is_user_mention",
        True,
        [
            {
                "kind": "event_property_contains",
                "key": "content.m\\.mentions.user_ids",
                "value": _USER,
            }
        ],
        [NOTIFY, _SOUND_DEFAULT, _HIGHLIGHT],
    ),
    (
        ".m.rule.is_room_mention",
        True,
        [
            {"kind": "event_property_is", "key": "content.m\\.mentions.room", "value": True},
            {"kind": "sender_notification_permission", "key": "room"},
        ],
        [NOTIFY, _HIGHLIGHT],
    ),
    (
        ".m.rule.tombstone",
        True,
        [_event_match("type", "m.room.tombstone"), _event_match("state_key", "")],
        [NOTIFY, _HIGHLIGHT],
    ),
    (".m.rule.reaction", True, [_event_match("type", "m.reaction")], []),
    (
        ".m.rule.room.server_acl",
        True,
        [_event_match("type", "m.room.server_acl"), _event_match("state_key", "")],
        [],
    ),
    (
        ".m.rule.suppress_edits",
        True,
        [
            {
                "kind": "event_property_is",
                "key": "content.m\\.relates_to.rel_type",
                "value": "m.replace",
            }
        ],
        [],
    ),
)

_DEFAULT_UNDERRIDE: tuple[tuple[str, bool, list[dict[str, Any]], list[Any]], ...] = (
    (
        ".m.rule.call",
        True,
        [{"key": "type", "kind": "event_match", "pattern": "m.call.invite"}],
        [NOTIFY, {"set_tweak": "sound", "value": "ring"}],
    ),
    (
        ".m.rule.encrypted_room_one_to_one",
        True,
        [{"kind": "room_member_count", "is": "2"}, _event_match("type", "m.room.encrypted")],
        [NOTIFY, _SOUND_DEFAULT],
    ),
    (
        ".m.rule.room_one_to_one",
        True,
        [{"kind": "room_member_count", "is": "2"}, _event_match("type", "m.room.message")],
        [NOTIFY, _SOUND_DEFAULT],
    ),
    (".m.rule.message", True, [_event_match("type", "m.room.message")], [NOTIFY]),
    (".m.rule.encrypted", True, [_event_match("type", "m.room.encrypted")], [NOTIFY]),
)


def _names_user(value: Any) -> bool:
    if value == _USER:
        return True
    if isinstance(value, dict):
        return any(_names_user(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_names_user(v) for v in value)
    return False


def _for_user(value: Any, user_id: str) -> Any:
    if value == _USER:
        return user_id
    if isinstance(value, dict):
        return {k: _for_user(v, user_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_for_user(v, user_id) for v in value]
    return value


def _default_rule(
    kind: str, entry: tuple[str, bool, list[dict[str, Any]], list[Any]], user_id: str
) -> PushRule:
    rule_id, enabled, conditions, actions = entry
    return PushRule(
        kind=kind,
        rule_id=rule_id,
        actions=tuple(_for_user(actions, user_id)),
        conditions=tuple(_for_user(conditions, user_id)),
        default=True,
        enabled=enabled,
    )


# The defaults that do not name the user, built once and shared by every ruleset (a
# server holds many users' rulesets in memory for the evaluator).
_SHARED: dict[str, PushRule] = {
    entry[0]: _default_rule(kind, entry, "")
    for kind, table in (("override", _DEFAULT_OVERRIDE), ("underride", _DEFAULT_UNDERRIDE))
    for entry in table
    if not _names_user(entry)
}


def _defaults(
    kind: str,
    table: Sequence[tuple[str, bool, list[dict[str, Any]], list[Any]]],
    user_id: str,
) -> tuple[PushRule, ...]:
    return tuple(_SHARED.get(entry[0]) or _default_rule(kind, entry, user_id) for entry in table)


def default_ruleset(user_id: str) -> Ruleset:
    """The server-default rules for ``user_id``, as the spec lists them."""
    return assemble(user_id, (), {})


def is_server_default(rule_id: str) -> bool:
    """spec: "Predefined Rules" — server-default rule ids start with a dot."""
    return rule_id.startswith(".")


def assemble(
    user_id: str, user_rules: Sequence[PushRule], changes: Mapping[str, DefaultChange]
) -> Ruleset:
    """A user's ruleset: their rules (each kind given most important first) above the
    server defaults, except ``.m.rule.master`` which is above everything (spec:
    "Predefined Rules"); ``changes`` are the user's edits of default rules."""
    by_kind: dict[str, list[PushRule]] = {kind: [] for kind in KINDS}
    for rule in user_rules:
        by_kind[rule.kind].append(rule)

    def changed(rule: PushRule) -> PushRule:
        change = changes.get(rule.rule_id)
        if change is None:
            return rule
        return PushRule(
            kind=rule.kind,
            rule_id=rule.rule_id,
            actions=rule.actions if change.actions is None else change.actions,
            conditions=rule.conditions,
            pattern=rule.pattern,
            default=True,
            enabled=rule.enabled if change.enabled is None else change.enabled,
        )

    override = [changed(r) for r in _defaults("override", _DEFAULT_OVERRIDE, user_id)]
    underride = [changed(r) for r in _defaults("underride", _DEFAULT_UNDERRIDE, user_id)]
    master, other_overrides = override[0], override[1:]
    return Ruleset(
        {
            "override": (master, *by_kind["override"], *other_overrides),
            "content": tuple(by_kind["content"]),
            "room": tuple(by_kind["room"]),
            "sender": tuple(by_kind["sender"]),
            "underride": (*by_kind["underride"], *underride),
        }
    )


# ---------------------------------------------------------------- what clients may store


def _is_canonical_scalar(value: Any) -> bool:
    """spec: "event_property_is" — strings, integers of canonical JSON, booleans, null."""
    if value is None or isinstance(value, bool | str):
        return True
    return isinstance(value, int) and -MAX_SAFE_INT <= value <= MAX_SAFE_INT


def check_actions(value: Any) -> tuple[Any, ...]:
    """A client's ``actions``: ``notify``, ``set_tweak`` objects, and the historical
    ``dont_notify`` / ``coalesce`` (kept as sent, ignored when evaluating)."""
    if not isinstance(value, list):
        raise InvalidRule("`actions` must be an array")
    for action in value:
        if isinstance(action, str):
            if action != NOTIFY and action not in LEGACY_ACTIONS:
                raise InvalidRule(f"Unknown action {action!r}")
        elif isinstance(action, dict):
            if not isinstance(action.get("set_tweak"), str):
                raise InvalidRule("An action object must have a string `set_tweak`")
        else:
            raise InvalidRule("An action is a string or an object")
    return tuple(value)


def _require_str(condition: Mapping[str, Any], name: str) -> None:
    if not isinstance(condition.get(name), str):
        raise InvalidRule(f"A `{condition['kind']}` condition needs a string `{name}`")


def check_conditions(value: Any) -> tuple[dict[str, Any], ...]:
    """A client's ``conditions``. Kinds we do not know are kept (they never match:
    spec "Conditions"); the parameters of the ones we know are checked."""
    if not isinstance(value, list):
        raise InvalidRule("`conditions` must be an array")
    for condition in value:
        if not isinstance(condition, dict) or not isinstance(condition.get("kind"), str):
            raise InvalidRule("A condition is an object with a string `kind`")
        kind = condition["kind"]
        if kind == "event_match":
            _require_str(condition, "key")
            _require_str(condition, "pattern")
        elif kind in ("event_property_is", "event_property_contains"):
            _require_str(condition, "key")
            if "value" not in condition or not _is_canonical_scalar(condition["value"]):
                raise InvalidRule(
                    f"A `{kind}` condition needs a `value`: a string, an integer, a boolean or null"
                )
        elif kind == "room_member_count":
            _require_str(condition, "is")
        elif kind == "sender_notification_permission":
            _require_str(condition, "key")
    return tuple(value)
