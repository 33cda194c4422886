"""The redaction algorithm per room version.

spec: rooms/v1 "Redactions" (fragments/v1-redactions), v6 (no more m.room.aliases),
rooms/v8 (join_rules keep `allow`), v9 (member keeps `join_authorised_via_users_server`),
v11 (fewer top-level keys, create keeps all, power levels keep `invite`, redaction
keeps `redacts`, member keeps `third_party_invite.signed`).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeserver.protocol.canonical import JsonDict
from homeserver.protocol.events import compute_event_id, reference_hash
from homeserver.protocol.redaction import redact
from homeserver.protocol.room_versions import (
    KNOWN_ROOM_VERSIONS,
    V1,
    V3,
    V5,
    V6,
    V7,
    V8,
    V9,
    V10,
    V11,
    V12,
    RoomVersion,
)

ALL_VERSIONS = list(KNOWN_ROOM_VERSIONS.values())

# Every content key any version keeps for the type, plus a key none keeps.
FULL_CONTENT: dict[str, JsonDict] = {
    "m.room.member": {
        "membership": "join",
        "join_authorised_via_users_server": "@u:hs",
        "third_party_invite": {"signed": {"mxid": "@u:hs", "token": "t"}, "display_name": "x"},
        "displayname": "Alice",
        "avatar_url": "mxc://hs/a",
    },
    "m.room.create": {"creator": "@u:hs", "room_version": "1", "m.federate": True, "extra": 1},
    "m.room.join_rules": {
        "join_rule": "restricted",
        "allow": [{"type": "m.room_membership"}],
        "extra": 1,
    },
    "m.room.power_levels": {
        "ban": 50,
        "events": {},
        "events_default": 0,
        "kick": 50,
        "redact": 50,
        "state_default": 50,
        "users": {},
        "users_default": 0,
        "invite": 0,
        "notifications": {"room": 50},
        "extra": 1,
    },
    "m.room.aliases": {"aliases": ["#a:hs"], "extra": 1},
    "m.room.history_visibility": {"history_visibility": "shared", "extra": 1},
    "m.room.redaction": {"redacts": "$x", "reason": "spam"},
    "m.room.message": {"body": "hi", "msgtype": "m.text"},
    "m.room.name": {"name": "Room"},
}

_PL = {
    "ban",
    "events",
    "events_default",
    "kick",
    "redact",
    "state_default",
    "users",
    "users_default",
}
# The kept content keys, per event type, in the pages named by their version.
V1_KEPT: dict[str, set[str]] = {
    "m.room.member": {"membership"},
    "m.room.create": {"creator"},
    "m.room.join_rules": {"join_rule"},
    "m.room.power_levels": _PL,
    "m.room.aliases": {"aliases"},
    "m.room.history_visibility": {"history_visibility"},
    "m.room.redaction": set(),
    "m.room.message": set(),
    "m.room.name": set(),
}
V6_KEPT = {**V1_KEPT, "m.room.aliases": set()}
V8_KEPT = {**V6_KEPT, "m.room.join_rules": {"join_rule", "allow"}}
V9_KEPT = {**V8_KEPT, "m.room.member": {"membership", "join_authorised_via_users_server"}}
V11_KEPT = {
    **V9_KEPT,
    "m.room.member": {"membership", "join_authorised_via_users_server", "third_party_invite"},
    "m.room.create": set(FULL_CONTENT["m.room.create"]),
    "m.room.power_levels": _PL | {"invite"},
    "m.room.redaction": {"redacts"},
}
TABLE: list[tuple[RoomVersion, dict[str, set[str]]]] = [
    (V1, V1_KEPT),
    (V3, V1_KEPT),
    (V5, V1_KEPT),
    (V6, V6_KEPT),
    (V7, V6_KEPT),
    (V8, V8_KEPT),
    (V9, V9_KEPT),
    (V10, V9_KEPT),
    (V11, V11_KEPT),
    (V12, V11_KEPT),
]

TOP_LEVEL_V1 = {
    "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
    "depth", "prev_events", "prev_state", "auth_events", "origin", "origin_server_ts",
    "membership",
}  # fmt: skip
TOP_LEVEL_V11 = TOP_LEVEL_V1 - {"origin", "membership", "prev_state"}


def full_event(event_type: str) -> JsonDict:
    event: JsonDict = {key: f"value-{key}" for key in TOP_LEVEL_V1}
    event.update(
        type=event_type,
        content=copy.deepcopy(FULL_CONTENT[event_type]),
        depth=3,
        origin_server_ts=10,
        prev_events=[],
        auth_events=[],
        hashes={"sha256": "abc"},
        signatures={"hs": {"ed25519:1": "sig"}},
        unsigned={"age": 5},
        redacts="$top",
        extra_top="dropped",
    )
    return event


CASES = [
    (version, event_type, kept) for version, table in TABLE for event_type, kept in table.items()
]


@pytest.mark.parametrize(
    ("version", "event_type", "kept"),
    CASES,
    ids=[f"v{v.identifier}-{t}" for v, t, _ in CASES],
)
def test_kept_content_keys(version: RoomVersion, event_type: str, kept: set[str]) -> None:
    redacted = redact(full_event(event_type), version)
    assert set(redacted["content"]) == kept
    for key in kept - {"third_party_invite"}:
        assert redacted["content"][key] == FULL_CONTENT[event_type][key]


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"v{v.identifier}")
def test_kept_top_level_keys(version: RoomVersion) -> None:
    redacted = redact(full_event("m.room.message"), version)
    expected = TOP_LEVEL_V11 if version.updated_redaction_rules else TOP_LEVEL_V1
    # `unsigned`, `redacts` (top-level) and unknown keys never survive
    assert set(redacted) == expected


def test_v11_member_keeps_only_the_signed_part_of_third_party_invite() -> None:
    redacted = redact(full_event("m.room.member"), V11)
    assert redacted["content"]["third_party_invite"] == {"signed": {"mxid": "@u:hs", "token": "t"}}
    event = full_event("m.room.member")
    event["content"]["third_party_invite"] = {"display_name": "no signed part"}
    assert "third_party_invite" not in redact(event, V11)["content"]


def test_input_is_not_modified() -> None:
    event = full_event("m.room.power_levels")
    before = copy.deepcopy(event)
    redact(event, V11)
    assert event == before


@pytest.mark.parametrize("content", [None, "text", [1], 5])
def test_missing_or_malformed_content_becomes_empty(content: object) -> None:
    event = full_event("m.room.member")
    event["content"] = content
    assert redact(event, V10)["content"] == {}


# -- properties ----------------------------------------------------------------------

json_leaf = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
interesting_keys = st.sampled_from(
    sorted({k for content in FULL_CONTENT.values() for k in content} | {"signed"})
)
contents = st.dictionaries(interesting_keys | st.text(max_size=6), json_value, max_size=6)


@st.composite
def events(draw: Any) -> JsonDict:
    event: JsonDict = {
        "type": draw(st.sampled_from(sorted(FULL_CONTENT))),
        "room_id": "!r:hs",
        "sender": "@u:hs",
        "content": draw(contents),
        "depth": draw(st.integers(0, 2**53 - 1)),
        "origin_server_ts": draw(st.integers(0, 2**53 - 1)),
        "prev_events": [],
        "auth_events": [],
        "hashes": {"sha256": "x"},
        "signatures": {},
    }
    extra = draw(
        st.dictionaries(
            st.sampled_from(sorted(TOP_LEVEL_V1)) | st.text(max_size=6), json_value, max_size=4
        )
    )
    for key, value in extra.items():
        if key not in ("type", "content"):
            event[key] = value
    if draw(st.booleans()):
        event["state_key"] = draw(st.text(max_size=6))
    if draw(st.booleans()) and event["type"] == "m.room.member":
        event["content"]["third_party_invite"] = {"signed": draw(json_value), "x": 1}
    return event


versions = st.sampled_from(ALL_VERSIONS)


@settings(max_examples=80, deadline=None)
@given(events(), versions)
def test_redaction_is_idempotent(event: JsonDict, version: RoomVersion) -> None:
    once = redact(event, version)
    assert redact(once, version) == once


@settings(max_examples=80, deadline=None)
@given(events(), versions)
def test_redaction_keeps_reference_hash_and_event_id(event: JsonDict, version: RoomVersion) -> None:
    # spec: server-server "Calculating the reference hash" — it is over the redacted
    # event, so redacting never changes the reference hash or a v3+ event id
    redacted = redact(event, version)
    assert reference_hash(redacted, version) == reference_hash(event, version)
    if not version.event_id_in_event:
        assert compute_event_id(redacted, version) == compute_event_id(event, version)


@settings(max_examples=60, deadline=None)
@given(events(), versions)
def test_redacted_keys_are_a_subset(event: JsonDict, version: RoomVersion) -> None:
    redacted = redact(event, version)
    assert set(redacted) <= set(event) | {"content"}
    content = event["content"]
    for key, value in redacted["content"].items():
        if key == "third_party_invite":
            assert value == {"signed": content[key]["signed"]}
        else:
            assert content[key] == value
