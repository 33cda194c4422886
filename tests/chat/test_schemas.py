"""Concord state and message schemas: good and bad examples for every type."""

from __future__ import annotations

from typing import Any

import pytest

from homeserver.chat import event_types as et
from homeserver.chat.schemas import ChatSchemaError, validate_message, validate_state

ROOM = "!abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"

GOOD: list[tuple[str, str, dict[str, Any]]] = [
    (et.ROLE, "admin", {"name": "Admin", "position": 1000, "permissions": ["administrator"]}),
    (
        et.ROLE,
        "mods",
        {
            "name": "Mods",
            "position": 0,
            "permissions": ["kick", "ban", "delete_messages"],
            "color": "#1aBc9C",
            "mentionable": True,
        },
    ),
    (et.ROLE, "members", {"name": "Members", "position": 1}),
    (et.MEMBER_ROLES, "alice:example.org", {"roles": ["mods", "members"]}),
    (et.MEMBER_ROLES, "alice:example.org", {"roles": []}),
    (et.CATEGORY, "text", {"name": "Text", "order": 0}),
    (et.BANNER, "", {"url": "mxc://example.org/abc_DEF-1"}),
    (et.CHANNEL_PERMISSIONS, "", {"read": ["mods"], "write": [], "edit_description": ["a"]}),
    (et.SPACE_CHILD, ROOM, {"via": ["example.org"], "order": "a~ !", "im.concord.category": "t"}),
    (et.SPACE_CHILD, "!old:example.org", {"via": ["example.org:8448"], "suggested": True}),
    (et.SPACE_CHILD, ROOM, {"via": ["example.org"], "order": "x" * 50, "other.field": 1}),
    # Deletion is always valid, whatever the state key.
    (et.ROLE, "not an id!", {}),
    (et.MEMBER_ROLES, "nobody", {}),
    # Not ours: no opinion.
    ("m.room.topic", "", {"topic": 5}),
]

BAD: list[tuple[str, str, dict[str, Any], str | None]] = [
    (et.ROLE, "mods", {"position": 1}, "name"),
    (et.ROLE, "mods", {"name": "Mods"}, "position"),
    (et.ROLE, "mods", {"name": "", "position": 1}, "name"),
    (et.ROLE, "mods", {"name": "   ", "position": 1}, "blank"),
    (et.ROLE, "mods", {"name": "x" * 101, "position": 1}, "name"),
    (et.ROLE, "mods", {"name": "M", "position": -1}, "position"),
    (et.ROLE, "mods", {"name": "M", "position": 1001}, "position"),
    (et.ROLE, "mods", {"name": "M", "position": True}, "position"),
    (et.ROLE, "mods", {"name": "M", "position": 1.5}, "position"),
    (et.ROLE, "mods", {"name": "M", "position": 1, "permissions": ["fly"]}, "fly"),
    (et.ROLE, "mods", {"name": "M", "position": 1, "permissions": {"kick": True}}, "list"),
    (et.ROLE, "mods", {"name": "M", "position": 1, "permissions": ["kick", "kick"]}, "dup"),
    (et.ROLE, "mods", {"name": "M", "position": 1, "color": "red"}, "color"),
    (et.ROLE, "mods", {"name": "M", "position": 1, "color": "#12345"}, "color"),
    (et.ROLE, "mods", {"name": "M", "position": 1, "mentionable": "yes"}, "mentionable"),
    (et.ROLE, "mods", {"name": "M", "position": 1, "administrator": True}, "administrator"),
    (et.ROLE, "bad id", {"name": "M", "position": 1}, "state_key"),
    (et.ROLE, "x" * 65, {"name": "M", "position": 1}, "state_key"),
    (et.MEMBER_ROLES, "alice", {"roles": []}, "state_key"),
    (et.MEMBER_ROLES, "@@alice:example.org", {"roles": []}, "state_key"),
    # The bare user id: Matrix auth lets only that user send it, so nobody could assign.
    (et.MEMBER_ROLES, "@alice:example.org", {"roles": []}, "state_key"),
    (et.MEMBER_ROLES, "alice:example.org", {}, None),  # deletion: valid (checked below)
    (et.MEMBER_ROLES, "alice:example.org", {"roles": "mods"}, "roles"),
    (et.MEMBER_ROLES, "alice:example.org", {"roles": ["a", "a"]}, "duplicate"),
    (et.MEMBER_ROLES, "alice:example.org", {"roles": ["no spaces"]}, "roles"),
    (et.MEMBER_ROLES, "alice:example.org", {"roles": [1]}, "roles"),
    (et.MEMBER_ROLES, "alice:example.org", {"role": ["a"]}, "role"),
    (et.CATEGORY, "text", {"name": "Text"}, "order"),
    (et.CATEGORY, "text", {"name": "Text", "order": "1"}, "order"),
    (et.CATEGORY, "text", {"name": "Text", "order": 2**31}, "order"),
    (et.CATEGORY, "text", {"name": 3, "order": 1}, "name"),
    (et.BANNER, "", {"url": "https://example.org/x.png"}, "mxc"),
    (et.BANNER, "", {"url": "mxc://exa mple.org/x"}, "mxc"),
    (et.BANNER, "x", {"url": "mxc://example.org/x"}, "state_key"),
    (et.CHANNEL_PERMISSIONS, "", {"speak": ["a"]}, "speak"),
    (et.CHANNEL_PERMISSIONS, "", {"read": "mods"}, "read"),
    (et.CHANNEL_PERMISSIONS, "x", {"read": []}, "state_key"),
    (et.SPACE_CHILD, ROOM, {"via": []}, "via"),
    (et.SPACE_CHILD, ROOM, {"via": "example.org"}, "via"),
    (et.SPACE_CHILD, ROOM, {"via": ["example.org"], "order": "x" * 51}, "order"),
    (et.SPACE_CHILD, ROOM, {"via": ["example.org"], "order": "caf\u00e9"}, "order"),
    (et.SPACE_CHILD, ROOM, {"via": ["example.org"], "order": "a\n"}, "order"),
    (et.SPACE_CHILD, ROOM, {"via": ["example.org"], "order": 3}, "order"),
    (et.SPACE_CHILD, ROOM, {"via": ["example.org"], "suggested": 1}, "suggested"),
    (et.SPACE_CHILD, ROOM, {"via": ["example.org"], "im.concord.category": 1}, "category"),
    (et.SPACE_CHILD, "not-a-room", {"via": ["example.org"]}, "room id"),
]


@pytest.mark.parametrize(("event_type", "state_key", "content"), GOOD)
def test_good_content_is_accepted(event_type: str, state_key: str, content: dict[str, Any]) -> None:
    validate_state(event_type, state_key, content)


@pytest.mark.parametrize(
    ("event_type", "state_key", "content", "needle"), [b for b in BAD if b[3] is not None]
)
def test_bad_content_is_refused_naming_the_field(
    event_type: str, state_key: str, content: dict[str, Any], needle: str
) -> None:
    with pytest.raises(ChatSchemaError) as caught:
        validate_state(event_type, state_key, content)
    assert needle in str(caught.value)


def test_empty_content_deletes_and_is_valid() -> None:
    for event_type in (*et.CONCORD_STATE_TYPES, et.SPACE_CHILD):
        validate_state(event_type, "", {})


def test_role_mentions_shape() -> None:
    validate_message({"body": "hi"})
    validate_message({"body": "@Mods", et.ROLE_MENTIONS: ["mods", "admin"]})
    for bad in ("mods", ["mods", "mods"], [1], ["bad id"], ["x"] * 251):
        with pytest.raises(ChatSchemaError, match=et.ROLE_MENTIONS):
            validate_message({"body": "x", et.ROLE_MENTIONS: bad})
