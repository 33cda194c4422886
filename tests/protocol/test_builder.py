"""Building local events.

spec: server-server "PDUs", "Adding hashes and signatures to outgoing events";
rooms/v1 "Event IDs", rooms/v3+ event ids, rooms/v11 (`redacts` in content),
rooms/v12 (create event without `room_id`); PDU schemas (depth, prev/auth limits).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from homeserver.protocol.builder import build_event, event_reference
from homeserver.protocol.canonical import MAX_SAFE_INTEGER, unpadded_base64
from homeserver.protocol.errors import InvalidEvent
from homeserver.protocol.events import Event, reference_hash
from homeserver.protocol.room_versions import (
    KNOWN_ROOM_VERSIONS,
    V1,
    V2,
    V5,
    V6,
    V10,
    V11,
    V12,
    RoomVersion,
)
from homeserver.protocol.signing import (
    SigningKey,
    VerifyKeyInfo,
    check_content_hash,
    verify_event_signatures,
)

KEY = SigningKey.from_seed("hs1.example", "k1", b"\x05" * 32)
KEYS = {("hs1.example", "ed25519:k1"): VerifyKeyInfo.decode(KEY.verify_key)}
ALL_VERSIONS = list(KNOWN_ROOM_VERSIONS.values())


def build(version: RoomVersion, **overrides: Any) -> Event:
    args: dict[str, Any] = {
        "version": version,
        "room_id": "!room:hs1.example",
        "sender": "@alice:hs1.example",
        "event_type": "m.room.message",
        "content": {"msgtype": "m.text", "body": "hello"},
        "prev_events": [("$prev:hs1.example", "cHJldg")] if version.event_id_in_event else ["$p"],
        "auth_events": [],
        "depth": 7,
        "origin_server_ts": 1_234,
        "key": KEY,
        "event_id_localpart": "rand0m" if version.event_id_in_event else None,
    }
    args.update(overrides)
    return build_event(**args)


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"v{v.identifier}")
def test_built_event_is_hashed_signed_and_survives_the_wire(version: RoomVersion) -> None:
    event = build(version)
    assert event.type == "m.room.message" and event.depth == 7 and event.origin_server_ts == 1234
    assert event.sender == "@alice:hs1.example" and event.room_id == "!room:hs1.example"
    assert check_content_hash(event)
    verify_event_signatures(event, KEYS)
    # a peer parsing the JSON we send derives the same event id and verifies it
    received = Event(json.loads(json.dumps(event.pdu)), version)
    assert received.event_id == event.event_id
    verify_event_signatures(received, KEYS)
    assert "state_key" not in event.pdu


@pytest.mark.parametrize("version", [V1, V2], ids=lambda v: f"v{v.identifier}")
def test_v1_v2_event_id_and_reference_pairs(version: RoomVersion) -> None:
    event = build(version, auth_events=[("$create:hs1.example", "Y3JlYXRl")])
    assert event.event_id == "$rand0m:hs1.example"
    assert event.pdu["prev_events"] == [["$prev:hs1.example", {"sha256": "cHJldg"}]]
    assert event.pdu["auth_events"] == [["$create:hs1.example", {"sha256": "Y3JlYXRl"}]]
    with pytest.raises(InvalidEvent):
        build(version, event_id_localpart=None)
    with pytest.raises(InvalidEvent):
        build(version, prev_events=["$no-hash:hs1.example"])


def test_v3_plus_refs_are_event_ids_even_when_given_pairs() -> None:
    event = build(V10, prev_events=[("$a", "aGFzaA"), "$b"], auth_events=["$c"])
    assert event.pdu["prev_events"] == ["$a", "$b"]
    assert event.pdu["auth_events"] == ["$c"]
    assert "event_id" not in event.pdu


def test_event_reference_is_the_reference_hash() -> None:
    event = build(V1)
    event_id, ref_hash = event_reference(event)
    assert event_id == event.event_id
    assert ref_hash == unpadded_base64(reference_hash(event.pdu, V1))
    child = build(V1, prev_events=[event_reference(event)], event_id_localpart="child")
    assert child.pdu["prev_events"] == [[event.event_id, {"sha256": ref_hash}]]


def test_state_key_is_kept_even_when_empty() -> None:
    event = build(V10, event_type="m.room.name", state_key="", content={"name": "R"})
    assert event.pdu["state_key"] == "" and event.is_state


# -- v12 create --------------------------------------------------------------------


def test_v12_create_has_no_room_id_and_derives_it() -> None:
    create = build(
        V12,
        room_id=None,
        event_type="m.room.create",
        state_key="",
        content={"room_version": "12"},
        prev_events=[],
    )
    assert "room_id" not in create.pdu
    assert create.room_id == "!" + create.event_id[1:]
    verify_event_signatures(create, KEYS)


def test_room_id_rules() -> None:
    create_args: dict[str, Any] = {
        "event_type": "m.room.create", "state_key": "", "content": {}, "prev_events": [],
    }  # fmt: skip
    with pytest.raises(InvalidEvent):
        build(V12, room_id="!room:hs1.example", **create_args)  # spec: rooms/v12
    with pytest.raises(InvalidEvent):
        build(V11, room_id=None, **create_args)
    with pytest.raises(InvalidEvent):
        build(V12, room_id=None)  # only the create event may omit it


# -- redactions --------------------------------------------------------------------


def test_redacts_is_top_level_before_v11() -> None:
    event = build(V10, event_type="m.room.redaction", content={"reason": "spam"}, redacts="$x")
    assert event.pdu["redacts"] == "$x" and "redacts" not in event.content
    assert event.redacts == "$x"


@pytest.mark.parametrize("version", [V11, V12], ids=lambda v: f"v{v.identifier}")
def test_redacts_is_in_content_from_v11(version: RoomVersion) -> None:
    event = build(version, event_type="m.room.redaction", content={}, redacts="$x")
    assert event.content == {"redacts": "$x"} and "redacts" not in event.pdu
    assert event.redacts == "$x"
    given = build(version, event_type="m.room.redaction", content={"redacts": "$y"})
    assert given.redacts == "$y"


def test_redacts_misuse() -> None:
    with pytest.raises(InvalidEvent):
        build(V10, redacts="$x")  # not a redaction
    with pytest.raises(InvalidEvent):
        build(V10, event_type="m.room.redaction", content={})
    with pytest.raises(InvalidEvent):
        build(V11, event_type="m.room.redaction", content={"reason": "no target"})


# -- limits and purity ------------------------------------------------------------


def test_depth_is_capped_at_the_room_version_limit() -> None:
    # spec: PDU schema "depth" — at the limit, the depth is set to the limit
    assert build(V6, depth=MAX_SAFE_INTEGER + 10).depth == MAX_SAFE_INTEGER
    assert build(V5, depth=2**63 + 10).depth == 2**63 - 1
    with pytest.raises(InvalidEvent):
        build(V10, depth=-1)


def test_prev_and_auth_limits() -> None:
    build(V10, prev_events=[f"$p{i}" for i in range(20)], auth_events=[f"$a{i}" for i in range(10)])
    with pytest.raises(InvalidEvent):
        build(V10, prev_events=[f"$p{i}" for i in range(21)])
    with pytest.raises(InvalidEvent):
        build(V10, auth_events=[f"$a{i}" for i in range(11)])


def test_strict_canonical_json_from_v6() -> None:
    assert build(V5, content={"f": 1.5}).content == {"f": 1.5}
    with pytest.raises(InvalidEvent):
        build(V6, content={"f": 1.5})
    with pytest.raises(InvalidEvent):
        build(V10, content={"n": 2**53})


def test_builder_is_pure() -> None:
    content = {"body": "x", "nested": {"a": 1}}
    first, second = build(V10, content=content), build(V10, content=content)
    assert first.pdu == second.pdu and first.event_id == second.event_id
    assert content == {"body": "x", "nested": {"a": 1}}
    assert build(V10, origin_server_ts=1235).event_id != first.event_id
