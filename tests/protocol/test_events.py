"""The PDU format per room version, event ids, reference and content hashes.

spec: server-server "PDUs", "Size limits", "Calculating the reference hash for an
event", "Calculating the content hash for an event"; rooms/v1 and v3/v4 "Event IDs";
rooms/v6 "Canonical JSON"; rooms/v11 and v12 "Event format"; PDU schemas
(data/api/server-server/definitions/pdu_v*.yaml).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import canonicaljson
import pytest

from homeserver.protocol.canonical import JsonDict, unpadded_base64
from homeserver.protocol.errors import InvalidEvent
from homeserver.protocol.events import (
    Event,
    compute_event_id,
    content_hash,
    reference_hash,
    room_id_for_create_event,
)
from homeserver.protocol.room_versions import (
    KNOWN_ROOM_VERSIONS,
    V1,
    V2,
    V3,
    V4,
    V5,
    V6,
    V10,
    V11,
    V12,
    RoomVersion,
)

ALL_VERSIONS = list(KNOWN_ROOM_VERSIONS.values())
VECTORS = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "spec_vectors" / "signing.json").read_text()
)


def pdu_for(version: RoomVersion, **overrides: Any) -> JsonDict:
    pdu: JsonDict = {
        "room_id": "!room:hs1.example",
        "sender": "@alice:hs1.example",
        "type": "m.room.message",
        "content": {"body": "hi"},
        "origin_server_ts": 1_000,
        "depth": 4,
        "prev_events": (
            [["$prev:hs1.example", {"sha256": "aGFzaA"}]] if version.event_id_in_event else ["$p"]
        ),
        "auth_events": [],
        "hashes": {"sha256": "aGFzaA"},
        "signatures": {"hs1.example": {"ed25519:1": "c2ln"}},
    }
    if version.event_id_in_event:
        pdu["event_id"] = "$abc:hs1.example"
    pdu.update(overrides)
    return pdu


def independent_reference_hash(pdu: JsonDict, keep: set[str]) -> bytes:
    """The reference hash computed by hand, for a message event (content dropped)."""
    redacted = {k: v for k, v in pdu.items() if k in keep}
    redacted["content"] = {}
    return hashlib.sha256(canonicaljson.encode_canonical_json(redacted)).digest()


PRE_V11_KEEP = {
    "event_id", "type", "room_id", "sender", "state_key", "hashes", "depth", "prev_events",
    "prev_state", "auth_events", "origin", "origin_server_ts", "membership",
}  # fmt: skip
V11_KEEP = PRE_V11_KEEP - {"origin", "membership", "prev_state"}


# -- event ids and hashes -----------------------------------------------------------


def test_v1_event_id_is_read_from_the_event() -> None:
    signed = VECTORS["event_signing"][1]["signed"]
    pdu = {**signed, "depth": 1, "prev_events": [], "auth_events": []}
    event = Event(pdu, V1)
    assert event.event_id == "$0:domain"
    with pytest.raises(InvalidEvent):
        compute_event_id(pdu, V1)


def test_reference_hash_of_the_spec_vector_matches_an_independent_computation() -> None:
    signed = VECTORS["event_signing"][0]["signed"]
    expected = independent_reference_hash(signed, PRE_V11_KEEP)
    assert reference_hash(signed, V3) == expected
    assert compute_event_id(signed, V3) == "$" + base64.b64encode(expected).decode().rstrip("=")
    assert compute_event_id(signed, V4) == "$" + base64.urlsafe_b64encode(expected).decode().rstrip(
        "="
    )
    # v11 no longer keeps `origin`, so the same JSON has another reference hash
    assert reference_hash(signed, V11) == independent_reference_hash(signed, V11_KEEP)
    assert reference_hash(signed, V11) != expected


def test_content_hash_of_the_spec_vector() -> None:
    case = VECTORS["event_signing"][1]
    claimed = case["signed"]["hashes"]["sha256"]
    assert unpadded_base64(content_hash(case["input"], V1)) == claimed
    assert unpadded_base64(content_hash(case["signed"], V1)) == claimed


def test_v3_uses_standard_and_v4_urlsafe_base64() -> None:
    # search a little for a hash whose base64 needs the alphabet-specific characters
    for depth in range(200):
        digest = reference_hash(pdu_for(V3, depth=depth), V3)
        standard = unpadded_base64(digest)
        if "+" in standard or "/" in standard:
            break
    event_v3 = Event(pdu_for(V3, depth=depth), V3)
    event_v4 = Event(pdu_for(V4, depth=depth), V4)
    assert event_v3.event_id == "$" + standard
    assert event_v4.event_id == "$" + standard.replace("+", "-").replace("/", "_")


@pytest.mark.parametrize("version", ALL_VERSIONS[2:], ids=lambda v: f"v{v.identifier}")
def test_event_id_ignores_non_essential_fields(version: RoomVersion) -> None:
    base = Event(pdu_for(version), version)
    changed = pdu_for(version, content={"body": "different"}, unsigned={"age": 1}, signatures={})
    assert Event(changed, version).event_id == base.event_id
    assert Event(pdu_for(version, depth=5), version).event_id != base.event_id


def test_explicit_event_id_is_trusted() -> None:
    assert Event(pdu_for(V10), V10, event_id="$known").event_id == "$known"


def test_v12_create_event_room_id_is_derived_from_its_event_id() -> None:
    create = pdu_for(V12, type="m.room.create", state_key="", content={}, prev_events=[])
    del create["room_id"]
    event = Event(create, V12)
    assert event.room_id == room_id_for_create_event(event.event_id)
    assert event.room_id == "!" + event.event_id[1:]
    # any other v12 event, and a create in an earlier version, needs a room_id
    no_room = pdu_for(V12)
    del no_room["room_id"]
    with pytest.raises(InvalidEvent):
        Event(no_room, V12)
    older = dict(create)
    with pytest.raises(InvalidEvent):
        Event(older, V11)


# -- format checks ------------------------------------------------------------------

REQUIRED = [
    "sender", "type", "content", "origin_server_ts", "depth", "hashes", "signatures",
    "prev_events", "auth_events", "room_id",
]  # fmt: skip


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"v{v.identifier}")
@pytest.mark.parametrize("field", REQUIRED)
def test_required_fields(version: RoomVersion, field: str) -> None:
    pdu = pdu_for(version)
    del pdu[field]
    with pytest.raises(InvalidEvent):
        Event(pdu, version)


@pytest.mark.parametrize("version", [V1, V2], ids=lambda v: f"v{v.identifier}")
def test_v1_v2_need_event_id_and_hash_pairs(version: RoomVersion) -> None:
    pdu = pdu_for(version)
    del pdu["event_id"]
    with pytest.raises(InvalidEvent):
        Event(pdu, version)
    for refs in (["$a:hs"], [["$a:hs"]], [["$a:hs", {}]], [["$a:hs", {"sha256": 1}]], [[1, {}]]):
        with pytest.raises(InvalidEvent):
            Event(pdu_for(version, prev_events=refs), version)
    event = Event(pdu_for(version, auth_events=[["$c:hs", {"sha256": "aGFzaA"}]]), version)
    assert event.prev_event_ids == ("$prev:hs1.example",)
    assert event.auth_event_ids == ("$c:hs",)


@pytest.mark.parametrize("version", ALL_VERSIONS[2:], ids=lambda v: f"v{v.identifier}")
def test_v3_plus_need_event_id_strings(version: RoomVersion) -> None:
    with pytest.raises(InvalidEvent):
        Event(pdu_for(version, prev_events=[["$a:hs", {"sha256": "aGFzaA"}]]), version)
    with pytest.raises(InvalidEvent):
        Event(pdu_for(version, auth_events=[1]), version)
    assert Event(pdu_for(version, auth_events=["$a", "$b"]), version).auth_event_ids == (
        "$a",
        "$b",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("depth", True),
        ("depth", "4"),
        ("depth", 4.0),
        ("depth", 2**63),
        ("origin_server_ts", None),
        ("origin_server_ts", -(2**63) - 1),
        ("state_key", 5),
        ("content", []),
        ("sender", 7),
        ("type", None),
        ("hashes", {"sha256": 5}),
        ("hashes", []),
        ("signatures", []),
        ("signatures", {"hs": "sig"}),
        ("signatures", {"hs": {"ed25519:1": 5}}),
        ("prev_events", {}),
        ("room_id", 5),
    ],
)
@pytest.mark.parametrize("version", [V1, V5, V10, V12], ids=lambda v: f"v{v.identifier}")
def test_wrong_types_are_invalid(version: RoomVersion, field: str, value: object) -> None:
    with pytest.raises(InvalidEvent):
        Event(pdu_for(version, **{field: value}), version)


@pytest.mark.parametrize("version", [V3, V4, V5], ids=lambda v: f"v{v.identifier}")
def test_loose_json_is_accepted_before_v6(version: RoomVersion) -> None:
    # spec: appendices "Canonical JSON" warning — older versions may carry such values
    event = Event(pdu_for(version, content={"f": 1.5, "big": 2**60}), version)
    assert event.content["f"] == 1.5


@pytest.mark.parametrize("version", ALL_VERSIONS[5:], ids=lambda v: f"v{v.identifier}")
@pytest.mark.parametrize("content", [{"f": 1.5}, {"big": 2**53}, {"n": [-(2**53)]}])
def test_strict_canonical_json_from_v6(version: RoomVersion, content: JsonDict) -> None:
    # spec: rooms/v6 "Canonical JSON" — such events are discarded
    with pytest.raises(InvalidEvent):
        Event(pdu_for(version, content=content), version)


def test_redacts_is_top_level_before_v11_and_in_content_from_v11() -> None:
    top = pdu_for(V10, type="m.room.redaction", redacts="$target", content={})
    assert Event(top, V10).redacts == "$target"
    assert Event(pdu_for(V11, **{**top, "content": {}}) | {"room_id": "!r:hs"}, V11).redacts is None
    inside = pdu_for(V11, type="m.room.redaction", content={"redacts": "$target"})
    assert Event(inside, V11).redacts == "$target"
    assert (
        Event(pdu_for(V10, type="m.room.redaction", content={"redacts": "$x"}), V10).redacts is None
    )
    with pytest.raises(InvalidEvent):
        Event(pdu_for(V10, type="m.room.redaction", redacts=5), V10)
    with pytest.raises(InvalidEvent):
        Event(pdu_for(V11, type="m.room.redaction", content={"redacts": ["$x"]}), V11)


def test_non_object_event_is_invalid() -> None:
    for value in (None, [], "event", 5):
        with pytest.raises(InvalidEvent):
            Event(value, V10)  # type: ignore[arg-type]


# -- size limits --------------------------------------------------------------------


def test_size_limits() -> None:
    # spec: server-server "Size limits"
    Event(pdu_for(V10), V10).check_size_limits()
    big = Event(pdu_for(V10, content={"body": "x" * 65536}), V10)
    with pytest.raises(InvalidEvent):
        big.check_size_limits()
    long_sender = Event(pdu_for(V10, sender="@" + "a" * 250 + ":hs1.example"), V10)
    with pytest.raises(InvalidEvent):
        long_sender.check_size_limits()
    long_key = Event(pdu_for(V10, state_key="k" * 256), V10)
    with pytest.raises(InvalidEvent):
        long_key.check_size_limits()


def test_prev_and_auth_event_count_limits() -> None:
    # spec: PDU schemas — at most 20 prev_events and 10 auth_events
    Event(pdu_for(V10, prev_events=[f"$p{i}" for i in range(20)]), V10).check_size_limits()
    with pytest.raises(InvalidEvent):
        Event(pdu_for(V10, prev_events=[f"$p{i}" for i in range(21)]), V10).check_size_limits()
    Event(pdu_for(V10, auth_events=[f"$a{i}" for i in range(10)]), V10).check_size_limits()
    with pytest.raises(InvalidEvent):
        Event(pdu_for(V10, auth_events=[f"$a{i}" for i in range(11)]), V10).check_size_limits()


# -- convenience --------------------------------------------------------------------


def test_accessors() -> None:
    member = Event(
        pdu_for(V6, type="m.room.member", state_key="@bob:hs2.example",
                content={"membership": "invite"}),
        V6,
    )  # fmt: skip
    assert member.is_state and member.state_tuple == ("m.room.member", "@bob:hs2.example")
    assert member.membership == "invite"
    assert member.origin == "hs1.example"
    message = Event(pdu_for(V6), V6)
    assert not message.is_state and message.membership is None
    assert message.event_id in repr(message)
