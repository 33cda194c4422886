"""Random and mutated events never crash the protocol package with an untyped error.

spec: server-server "Checks performed on receipt of a PDU" — whatever a remote server
sends, the receiver must be able to drop, redact or reject it; so every failure here
must be a ``ProtocolError`` (the package's contract, errors.py), never a
KeyError/TypeError/ValueError/AttributeError.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homeserver.protocol.canonical import JsonDict
from homeserver.protocol.errors import ProtocolError
from homeserver.protocol.events import Event, compute_event_id, content_hash, reference_hash
from homeserver.protocol.redaction import redact
from homeserver.protocol.room_versions import KNOWN_ROOM_VERSIONS, RoomVersion
from homeserver.protocol.signing import (
    SigningKey,
    VerifyKeyInfo,
    check_content_hash,
    hash_and_sign_event,
    make_server_keys_response,
    parse_server_keys_response,
    required_signers,
    sign_json,
    verify_event_signatures,
    verify_json,
)

ALL_VERSIONS = list(KNOWN_ROOM_VERSIONS.values())
# CONCORD_FUZZ_SCALE=50 for a long hunt; the default keeps the file fast
SCALE = int(os.environ.get("CONCORD_FUZZ_SCALE", "1"))
KEY = SigningKey.from_seed("hs1.example", "k1", b"\x07" * 32)
KEYS = {("hs1.example", "ed25519:k1"): VerifyKeyInfo.decode(KEY.verify_key_base64, 10**15)}

FIELDS = [
    "event_id", "room_id", "sender", "type", "state_key", "content", "prev_events",
    "auth_events", "depth", "origin_server_ts", "hashes", "signatures", "unsigned", "redacts",
    "origin", "membership",
]  # fmt: skip

# Any JSON value, including the floats and huge integers old room versions allow.
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["@u:hs1.example", "$e:hs1.example", "!r:hs1.example", "join", "ed25519:k1"])
)
json_values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _valid_pdu(version: RoomVersion, event_type: str, content: JsonDict) -> JsonDict:
    pdu: JsonDict = {
        "room_id": "!r:hs1.example",
        "sender": "@u:hs1.example",
        "type": event_type,
        "content": content,
        "origin_server_ts": 1000,
        "depth": 2,
        "prev_events": [["$p:hs1.example", {"sha256": "aGFzaA"}]]
        if version.event_id_in_event
        else ["$p"],
        "auth_events": [],
        "hashes": {},
        "signatures": {},
    }
    if event_type.startswith("m.room.") and event_type != "m.room.message":
        pdu["state_key"] = "@u:hs1.example" if event_type == "m.room.member" else ""
    if version.event_id_in_event:
        pdu["event_id"] = "$e:hs1.example"
    return hash_and_sign_event(pdu, KEY, version)


@st.composite
def mutated_events(draw: Any) -> tuple[Any, RoomVersion]:
    """A valid signed event with a few fields replaced, removed or nested values changed."""
    version = draw(st.sampled_from(ALL_VERSIONS))
    event_type = draw(
        st.sampled_from(
            ["m.room.message", "m.room.member", "m.room.create", "m.room.redaction",
             "m.room.power_levels", "m.room.join_rules"]
        )
    )  # fmt: skip
    content = draw(st.dictionaries(st.text(max_size=8), json_values, max_size=4))
    if event_type == "m.room.member" and draw(st.booleans()):
        content["membership"] = draw(st.sampled_from(["join", "invite", "leave"]))
        if draw(st.booleans()):
            content["join_authorised_via_users_server"] = draw(json_values)
        if draw(st.booleans()):
            content["third_party_invite"] = draw(json_values)
    try:
        pdu: Any = _valid_pdu(version, event_type, content)
    except ProtocolError:
        pdu = {"content": content}  # floats in a strict version: still worth mutating
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["set", "delete", "nest"]))
        field = draw(st.sampled_from(FIELDS))
        if action == "set":
            pdu[field] = draw(json_values)
        elif action == "delete":
            pdu.pop(field, None)
        elif isinstance(pdu.get(field), dict):
            pdu[field][draw(st.text(max_size=6) | st.sampled_from(FIELDS))] = draw(json_values)
    if draw(st.integers(0, 20)) == 0:
        pdu = draw(json_values)  # not even an object
    return pdu, version


def _only_protocol_errors(call: Callable[[], object]) -> None:
    with contextlib.suppress(ProtocolError):
        call()


def _exercise(pdu: Any, version: RoomVersion, *, check_unchanged: bool = True) -> None:
    original = copy.deepcopy(pdu) if check_unchanged else None
    _only_protocol_errors(lambda: redact(pdu, version))
    _only_protocol_errors(lambda: reference_hash(pdu, version))
    _only_protocol_errors(lambda: content_hash(pdu, version))
    _only_protocol_errors(lambda: compute_event_id(pdu, version))
    _only_protocol_errors(lambda: hash_and_sign_event(pdu, KEY, version))
    try:
        event = Event(pdu, version)
    except ProtocolError:
        event = None
    if event is not None:
        _only_protocol_errors(event.check_size_limits)
        _only_protocol_errors(lambda: check_content_hash(event))
        _only_protocol_errors(lambda: required_signers(event))
        _only_protocol_errors(lambda: verify_event_signatures(event, KEYS))
        _only_protocol_errors(lambda: Event(redact(event.pdu, version), version))
        _ = (event.is_state, event.state_tuple, event.membership, event.origin, repr(event))
    if check_unchanged:
        assert pdu == original  # nothing above mutates its input


@settings(max_examples=120 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_events())
def test_mutated_events_raise_only_protocol_errors(case: tuple[Any, RoomVersion]) -> None:
    pdu, version = case
    _exercise(pdu, version)


@settings(max_examples=100 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.sampled_from(ALL_VERSIONS))
def test_random_json_raises_only_protocol_errors(pdu: Any, version: RoomVersion) -> None:
    _exercise(pdu, version)


@settings(max_examples=100 * SCALE, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={field: json_values for field in FIELDS},
    ),
    st.sampled_from(ALL_VERSIONS),
)
def test_random_event_shaped_objects_raise_only_protocol_errors(
    pdu: JsonDict, version: RoomVersion
) -> None:
    _exercise(pdu, version)


def test_deeply_nested_content_is_a_typed_error() -> None:
    content: Any = "leaf"
    for _ in range(5000):
        content = {"a": content}
    for version in ALL_VERSIONS:
        pdu = _valid_pdu(version, "m.room.message", {}) | {"content": content}
        _exercise(pdu, version, check_unchanged=False)


@settings(max_examples=100 * SCALE, deadline=None)
@given(json_values, st.sampled_from(["hs1.example", "x"]), json_values)
def test_random_signed_json_and_key_responses_raise_only_protocol_errors(
    obj: Any, server: str, extra: Any
) -> None:
    # a peer's key response and any signed object are untrusted JSON as well
    signed = sign_json({"server_name": "hs1.example", "x": extra}, KEY, strict=False)
    candidates = [obj, signed, {**signed, "signatures": obj}, {**signed, "verify_keys": obj}]
    if isinstance(obj, dict):
        candidates.append({**signed, **obj})
    for candidate in candidates:
        _only_protocol_errors(
            lambda c=candidate: verify_json(c, server, "ed25519:k1", KEY.verify_key)
        )
        _only_protocol_errors(lambda c=candidate: parse_server_keys_response(c, server))
    body = make_server_keys_response(KEY, valid_until_ts=5)
    for field in ("verify_keys", "old_verify_keys", "valid_until_ts", "server_name"):
        _only_protocol_errors(
            lambda f=field: parse_server_keys_response({**body, f: obj}, "hs1.example")
        )
