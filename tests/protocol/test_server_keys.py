"""The server keys response: publishing our keys and reading a peer's.

spec: server-server "Retrieving server keys", "Publishing Keys"; rooms/v5 "Signing
key validity period" (old keys, and the 7-day cap on valid_until_ts).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from homeserver.protocol.errors import SignatureError
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import V5
from homeserver.protocol.signing import (
    MAX_KEY_VALIDITY_MS,
    OldVerifyKey,
    SigningKey,
    cap_valid_until_ts,
    hash_and_sign_event,
    make_server_keys_response,
    parse_server_keys_response,
    sign_json,
    verify_event_signatures,
    verify_json,
)

HS1 = SigningKey.from_seed("hs1.example", "k1", b"\x01" * 32)
HS2 = SigningKey.from_seed("hs2.example", "k2", b"\x02" * 32)


def test_v5_old_key_is_valid_for_events_before_it_expired() -> None:
    pdu = {
        "room_id": "!r:hs1.example", "sender": "@a:hs1.example", "type": "m.room.message",
        "content": {}, "origin_server_ts": 5_000, "depth": 1, "prev_events": [],
        "auth_events": [], "hashes": {}, "signatures": {},
    }  # fmt: skip
    event = Event(hash_and_sign_event(pdu, HS1, V5), V5)
    new_key = SigningKey("hs1.example", "ed25519:new", HS2.nacl_key)
    for expired_ts, ok in ((5_000, True), (4_999, False)):
        old = OldVerifyKey("ed25519:k1", HS1.verify_key_base64, expired_ts)
        keys = parse_server_keys_response(
            make_server_keys_response(new_key, [old], valid_until_ts=0), "hs1.example"
        )
        if ok:
            verify_event_signatures(event, keys)
        else:
            with pytest.raises(SignatureError):
                verify_event_signatures(event, keys)


# -- server keys ---------------------------------------------------------------------


def test_server_keys_response_is_self_signed() -> None:
    old = OldVerifyKey("ed25519:old", HS2.verify_key_base64, 1234)
    body = make_server_keys_response(HS1, [old], valid_until_ts=99_000)
    assert body["server_name"] == "hs1.example"
    assert body["verify_keys"] == {"ed25519:k1": {"key": HS1.verify_key_base64}}
    assert body["old_verify_keys"] == {
        "ed25519:old": {"key": HS2.verify_key_base64, "expired_ts": 1234}
    }
    assert body["valid_until_ts"] == 99_000
    verify_json(body, "hs1.example", "ed25519:k1", HS1.verify_key)
    keys = parse_server_keys_response(body, "hs1.example")
    assert keys[("hs1.example", "ed25519:k1")].valid_until_ts == 99_000
    assert keys[("hs1.example", "ed25519:old")].valid_until_ts == 1234


def test_server_keys_response_with_a_broken_signature_is_rejected() -> None:
    body = make_server_keys_response(HS1, valid_until_ts=5)
    with pytest.raises(SignatureError):
        parse_server_keys_response({**body, "valid_until_ts": 6}, "hs1.example")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.update(server_name="evil.example"),
        lambda b: b.pop("valid_until_ts"),
        lambda b: b.update(valid_until_ts="5"),
        lambda b: b.update(verify_keys={}),
        lambda b: b["verify_keys"]["ed25519:k1"].pop("key"),
        lambda b: b["verify_keys"]["ed25519:k1"].update(key="AAAA"),
        lambda b: b.update(old_verify_keys={"ed25519:o": {"key": "AAAA"}}),
        lambda b: b.update(old_verify_keys={"ed25519:o": {"expired_ts": 1}}),
        lambda b: b.update(old_verify_keys=[]),
    ],
)
def test_malformed_server_keys_responses_are_rejected(mutate: Any) -> None:
    # mutate, then sign, so that only the malformation can be the reason
    body = copy.deepcopy(make_server_keys_response(HS1, valid_until_ts=5))
    del body["signatures"]
    mutate(body)
    with pytest.raises(SignatureError):
        parse_server_keys_response(sign_json(body, HS1), "hs1.example")
    with pytest.raises(SignatureError):
        parse_server_keys_response([], "hs1.example")  # type: ignore[arg-type]


def test_valid_until_is_capped_at_seven_days_after_fetching() -> None:
    # spec: rooms/v5 — the lesser of valid_until_ts and 7 days into the future
    now = 1_000_000
    far = make_server_keys_response(HS1, valid_until_ts=now + 10 * MAX_KEY_VALIDITY_MS)
    keys = parse_server_keys_response(far, "hs1.example", now_ms=now)
    assert keys[("hs1.example", "ed25519:k1")].valid_until_ts == now + MAX_KEY_VALIDITY_MS
    near = make_server_keys_response(HS1, valid_until_ts=now + 5)
    keys = parse_server_keys_response(near, "hs1.example", now_ms=now)
    assert keys[("hs1.example", "ed25519:k1")].valid_until_ts == now + 5
    assert cap_valid_until_ts(now + 5, now) == now + 5
    assert MAX_KEY_VALIDITY_MS == 7 * 24 * 3600 * 1000
