"""Signing keys, signed JSON, event hashes and signatures, server key responses.

spec: appendices "Signing JSON", "Checking for a Signature", "Cryptographic Test
Vectors"; server-server "Signing Events", "Retrieving server keys"; rooms/v5
"Signing key validity period".
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
import signedjson.key
import signedjson.sign
from hypothesis import given, settings
from hypothesis import strategies as st

from homeserver.protocol.canonical import JsonDict
from homeserver.protocol.errors import InvalidEvent, SignatureError
from homeserver.protocol.events import Event
from homeserver.protocol.redaction import redact
from homeserver.protocol.room_versions import (
    KNOWN_ROOM_VERSIONS,
    V1,
    V2,
    V3,
    V4,
    V7,
    V8,
    V10,
    V11,
    V12,
    RoomVersion,
)
from homeserver.protocol.signing import (
    InvalidSigningKey,
    SigningKey,
    VerifyKeyInfo,
    check_content_hash,
    hash_and_sign_event,
    required_signers,
    sign_json,
    verify_event_signatures,
    verify_json,
)

VECTORS = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "spec_vectors" / "signing.json").read_text()
)
SPEC_KEY = SigningKey.from_seed("domain", "1", VECTORS["signing_key"]["seed"])
ALL_VERSIONS = list(KNOWN_ROOM_VERSIONS.values())
# spec vectors are signed with the pre-v11 redaction rules (they keep `origin`)
PRE_V11 = [v for v in ALL_VERSIONS if not v.updated_redaction_rules]

HS1 = SigningKey.from_seed("hs1.example", "k1", b"\x01" * 32)
HS2 = SigningKey.from_seed("hs2.example", "k2", b"\x02" * 32)


def keyring(*keys: SigningKey, valid_until_ts: int | None = None) -> dict[Any, VerifyKeyInfo]:
    return {
        (k.server_name, k.key_id): VerifyKeyInfo.decode(k.verify_key_base64, valid_until_ts)
        for k in keys
    }


def make_pdu(version: RoomVersion, **overrides: Any) -> JsonDict:
    pdu: JsonDict = {
        "room_id": "!room:hs1.example",
        "sender": "@alice:hs1.example",
        "type": "m.room.message",
        "content": {"msgtype": "m.text", "body": "hello"},
        "origin_server_ts": 1_700_000_000_000,
        "depth": 5,
        "prev_events": [],
        "auth_events": [],
        "hashes": {},
        "signatures": {},
    }
    if version.event_id_in_event:
        pdu["event_id"] = "$abc:hs1.example"
    pdu.update(overrides)
    return pdu


def signed_event(version: RoomVersion, key: SigningKey = HS1, **overrides: Any) -> Event:
    return Event(hash_and_sign_event(make_pdu(version, **overrides), key, version), version)


# -- spec test vectors ---------------------------------------------------------------


def test_spec_signing_key_public_key_matches_signedjson() -> None:
    theirs = signedjson.key.decode_signing_key_base64(
        "ed25519", "1", VECTORS["signing_key"]["seed"]
    )
    assert SPEC_KEY.verify_key_base64 == signedjson.key.encode_verify_key_base64(
        signedjson.key.get_verify_key(theirs)
    )


@pytest.mark.parametrize("case", VECTORS["json_signing"], ids=["empty", "with-data"])
def test_spec_json_signing_vectors(case: dict[str, Any]) -> None:
    signed = sign_json(case["input"], SPEC_KEY)
    assert signed == case["signed"]
    verify_json(signed, "domain", "ed25519:1", SPEC_KEY.verify_key_base64)


@pytest.mark.parametrize("version", PRE_V11, ids=lambda v: f"v{v.identifier}")
@pytest.mark.parametrize("case", VECTORS["event_signing"], ids=["minimal", "redactable"])
def test_spec_event_signing_vectors(case: dict[str, Any], version: RoomVersion) -> None:
    signed = hash_and_sign_event(case["input"], SPEC_KEY, version)
    assert signed == case["signed"]
    # the content hash, byte for byte, and the signature both check out afterwards
    assert signed["hashes"] == case["signed"]["hashes"]
    verify_json(redact(signed, version), "domain", "ed25519:1", SPEC_KEY.verify_key)


def test_spec_event_vector_hash_is_independent_of_unsigned_and_signatures() -> None:
    case = VECTORS["event_signing"][0]
    noisy = copy.deepcopy(case["input"])
    noisy["unsigned"] = {"age": 99}
    noisy["signatures"] = {"other.example": {"ed25519:x": "c2ln"}}
    noisy["hashes"] = {"sha256": "bogus"}
    signed = hash_and_sign_event(noisy, SPEC_KEY, V1)
    assert signed["hashes"] == case["signed"]["hashes"]
    assert signed["signatures"]["domain"] == case["signed"]["signatures"]["domain"]
    assert signed["signatures"]["other.example"] == {"ed25519:x": "c2ln"}  # kept


def test_input_is_not_mutated() -> None:
    case = VECTORS["event_signing"][1]
    before = copy.deepcopy(case["input"])
    hash_and_sign_event(case["input"], SPEC_KEY, V1)
    sign_json(case["input"], SPEC_KEY, strict=False)
    assert case["input"] == before


# -- keys ----------------------------------------------------------------------------


def test_key_file_format_is_signedjson_compatible() -> None:
    line = HS1.encode()
    assert line.startswith("ed25519 k1 ")
    [theirs] = signedjson.key.read_signing_keys(io.StringIO(line))
    assert bytes(theirs) == bytes(HS1.nacl_key)
    written = io.StringIO()
    signedjson.key.write_signing_keys(written, [theirs])
    assert SigningKey.decode("hs1.example", written.getvalue()).encode() == line


def test_generated_keys_are_distinct_and_roundtrip() -> None:
    a, b = SigningKey.generate("x.example"), SigningKey.generate("x.example")
    assert a.verify_key_base64 != b.verify_key_base64
    assert a.key_id.startswith("ed25519:")
    again = SigningKey.decode("x.example", a.encode())
    assert again.verify_key_base64 == a.verify_key_base64 and again.key_id == a.key_id


@pytest.mark.parametrize(
    "text", ["", "ed25519 v1", "rsa v1 AAAA", "ed25519 v1 !!!!", "ed25519 v1 AAAA", "ed25519 v-1 "]
)
def test_bad_key_files_are_typed_errors(text: str) -> None:
    with pytest.raises(InvalidSigningKey):
        SigningKey.decode("x.example", text + ("A" * 43 if text.endswith(" ") else ""))


def test_key_version_grammar_is_enforced() -> None:
    with pytest.raises(InvalidSigningKey):
        SigningKey.from_seed("x.example", "bad:version", b"\x00" * 32)


# -- JSON signatures -----------------------------------------------------------------


def test_sign_verify_roundtrip_and_interop_with_signedjson() -> None:
    obj = {"a": 1, "nested": {"b": [1, 2]}, "unsigned": {"age": 3}}
    signed = sign_json(obj, HS1)
    verify_json(signed, "hs1.example", "ed25519:k1", HS1.verify_key_base64)
    theirs = signedjson.key.get_verify_key(
        signedjson.key.decode_signing_key_base64("ed25519", "k1", HS1.encode().split()[2])
    )
    signedjson.sign.verify_signed_json(signed, "hs1.example", theirs)
    # unsigned is not covered by the signature
    verify_json({**signed, "unsigned": {"age": 999}}, "hs1.example", "ed25519:k1", HS1.verify_key)


def test_second_signature_keeps_the_first() -> None:
    signed = sign_json(sign_json({"a": 1}, HS1), HS2)
    verify_json(signed, "hs1.example", "ed25519:k1", HS1.verify_key)
    verify_json(signed, "hs2.example", "ed25519:k2", HS2.verify_key)


@pytest.mark.parametrize(
    ("mutate", "server", "key_id"),
    [
        (lambda o: o.update(a=2), "hs1.example", "ed25519:k1"),  # tampered
        (lambda o: None, "hs2.example", "ed25519:k1"),  # not signed by that server
        (lambda o: None, "hs1.example", "ed25519:other"),  # no such key id
        (lambda o: o.pop("signatures"), "hs1.example", "ed25519:k1"),
        (
            lambda o: o["signatures"]["hs1.example"].update({"ed25519:k1": "!!"}),
            "hs1.example",
            "ed25519:k1",
        ),
        (
            lambda o: o["signatures"]["hs1.example"].update({"ed25519:k1": 5}),
            "hs1.example",
            "ed25519:k1",
        ),
        (lambda o: o.update(signatures=[]), "hs1.example", "ed25519:k1"),
    ],
)
def test_verify_json_failures_raise_signature_error(mutate: Any, server: str, key_id: str) -> None:
    signed = copy.deepcopy(sign_json({"a": 1}, HS1))
    mutate(signed)
    with pytest.raises(SignatureError):
        verify_json(signed, server, key_id, HS1.verify_key)


def test_verify_json_with_the_wrong_key_fails() -> None:
    signed = sign_json({"a": 1}, HS1)
    with pytest.raises(SignatureError):
        verify_json(signed, "hs1.example", "ed25519:k1", HS2.verify_key_base64)
    with pytest.raises(InvalidSigningKey):
        verify_json(signed, "hs1.example", "ed25519:k1", b"short")


# -- event hashes and signatures -----------------------------------------------------


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"v{v.identifier}")
def test_event_sign_verify_roundtrip(version: RoomVersion) -> None:
    event = signed_event(version)
    assert check_content_hash(event)
    verify_event_signatures(event, keyring(HS1))
    # spec: verification succeeds on the full event and on a redacted copy
    redacted = Event(redact(event.pdu, version), version)
    verify_event_signatures(redacted, keyring(HS1))
    assert redacted.event_id == event.event_id


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"v{v.identifier}")
def test_tampered_content_fails_hash_but_signature_still_verifies(version: RoomVersion) -> None:
    event = signed_event(version)
    tampered = copy.deepcopy(event.pdu)
    tampered["content"]["body"] = "goodbye"
    bad = Event(tampered, version, event_id=event.event_id)
    assert not check_content_hash(bad)
    # the signature covers the redacted event, which lacks `body`
    verify_event_signatures(bad, keyring(HS1))


@pytest.mark.parametrize("version", ALL_VERSIONS, ids=lambda v: f"v{v.identifier}")
def test_tampered_essential_field_fails_signature(version: RoomVersion) -> None:
    event = signed_event(version)
    tampered = {**event.pdu, "origin_server_ts": event.origin_server_ts + 1}
    with pytest.raises(SignatureError):
        verify_event_signatures(Event(tampered, version, event_id=event.event_id), keyring(HS1))


@pytest.mark.parametrize("claimed", ["", "!!notbase64", "AAAA"])
def test_bad_claimed_hash_is_a_mismatch(claimed: str) -> None:
    event = signed_event(V10)
    assert not check_content_hash(Event({**event.pdu, "hashes": {"sha256": claimed}}, V10))


def test_wrong_key_fails() -> None:
    event = signed_event(V10)
    wrong = {("hs1.example", "ed25519:k1"): VerifyKeyInfo.decode(HS2.verify_key)}
    with pytest.raises(SignatureError):
        verify_event_signatures(event, wrong)


def test_unknown_keys_are_skipped_but_one_known_key_is_required() -> None:
    event = signed_event(V10)
    with pytest.raises(SignatureError):
        verify_event_signatures(event, {})
    # a second signature with a key we do not know does not matter
    other = SigningKey.from_seed("hs1.example", "unknown", b"\x09" * 32)
    twice = Event(hash_and_sign_event(event.pdu, other, V10), V10)
    verify_event_signatures(twice, keyring(HS1))


def test_unsupported_algorithms_are_ignored() -> None:
    event = signed_event(V10)
    pdu = copy.deepcopy(event.pdu)
    pdu["signatures"]["hs1.example"]["curve9999:x"] = "garbage"
    verify_event_signatures(Event(pdu, V10), keyring(HS1))


@pytest.mark.parametrize("version", [V1, V2, V3, V4], ids=lambda v: f"v{v.identifier}")
def test_expired_key_accepted_before_v5(version: RoomVersion) -> None:
    event = signed_event(version)
    verify_event_signatures(event, keyring(HS1, valid_until_ts=event.origin_server_ts - 1))


@pytest.mark.parametrize(
    "version", [v for v in ALL_VERSIONS if v.enforce_key_validity], ids=lambda v: f"v{v.identifier}"
)
def test_expired_key_rejected_from_v5(version: RoomVersion) -> None:
    event = signed_event(version)
    with pytest.raises(SignatureError):
        verify_event_signatures(event, keyring(HS1, valid_until_ts=event.origin_server_ts - 1))
    # spec: rooms/v5 — valid_until_ts must be *at least* origin_server_ts
    verify_event_signatures(event, keyring(HS1, valid_until_ts=event.origin_server_ts))


# -- required signers ----------------------------------------------------------------


def test_required_signers_v3_plus_is_the_sender_server() -> None:
    for version in ALL_VERSIONS[2:]:
        assert required_signers(signed_event(version)) == {"hs1.example"}


@pytest.mark.parametrize("version", [V1, V2], ids=lambda v: f"v{v.identifier}")
def test_required_signers_v1_v2_include_the_event_id_server(version: RoomVersion) -> None:
    event = signed_event(version, event_id="$abc:hs2.example")
    assert required_signers(event) == {"hs1.example", "hs2.example"}
    with pytest.raises(SignatureError):
        verify_event_signatures(event, keyring(HS1, HS2))
    both = Event(hash_and_sign_event(event.pdu, HS2, version), version)
    verify_event_signatures(both, keyring(HS1, HS2))


def _restricted_join(version: RoomVersion) -> Event:
    return signed_event(
        version,
        type="m.room.member",
        state_key="@alice:hs1.example",
        content={"membership": "join", "join_authorised_via_users_server": "@bob:hs2.example"},
    )


def test_restricted_join_requires_the_authorising_server_from_v8() -> None:
    for version in (V8, V10, V11, V12):
        event = _restricted_join(version)
        assert required_signers(event) == {"hs1.example", "hs2.example"}
        with pytest.raises(SignatureError):
            verify_event_signatures(event, keyring(HS1, HS2))
        both = Event(hash_and_sign_event(event.pdu, HS2, version), version)
        verify_event_signatures(both, keyring(HS1, HS2))
    # before v8 there is no restricted join rule: the key means nothing
    assert required_signers(_restricted_join(V7)) == {"hs1.example"}


def test_restricted_join_with_malformed_authoriser_is_invalid() -> None:
    event = signed_event(
        V10,
        type="m.room.member",
        state_key="@alice:hs1.example",
        content={"membership": "join", "join_authorised_via_users_server": 7},
    )
    with pytest.raises(InvalidEvent):
        required_signers(event)


def test_third_party_invite_does_not_require_the_sender_server() -> None:
    # spec: "If the event is a 3rd party invite, ... the server which actually sends
    # the event may be a different server."
    event = signed_event(
        V10,
        type="m.room.member",
        state_key="@carol:hs2.example",
        content={"membership": "invite", "third_party_invite": {"signed": {}}},
    )
    assert required_signers(event) == set()
    v1_event = signed_event(
        V1,
        type="m.room.member",
        state_key="@carol:hs2.example",
        content={"membership": "invite", "third_party_invite": {"signed": {}}},
        event_id="$x:hs2.example",
    )
    assert required_signers(v1_event) == {"hs2.example"}


def test_every_known_signature_must_verify() -> None:
    # spec: "If all signatures from known unexpired keys ... are found to be valid"
    event = signed_event(V10)
    second = SigningKey.from_seed("hs1.example", "k9", b"\x09" * 32)
    pdu = copy.deepcopy(event.pdu)
    pdu["signatures"]["hs1.example"]["ed25519:k9"] = pdu["signatures"]["hs1.example"]["ed25519:k1"]
    forged = Event(pdu, V10)
    verify_event_signatures(forged, keyring(HS1))  # k9 unknown: skipped
    with pytest.raises(SignatureError):
        verify_event_signatures(forged, keyring(HS1, second))


json_leaf = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=10)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(ALL_VERSIONS),
    st.sampled_from(["m.room.message", "m.room.member", "m.room.power_levels", "m.custom"]),
    st.dictionaries(st.text(max_size=10), json_value, max_size=5),
)
def test_any_signed_event_verifies_and_any_content_change_breaks_the_hash(
    version: RoomVersion, event_type: str, content: JsonDict
) -> None:
    event = signed_event(version, type=event_type, content=content)
    assert check_content_hash(event)
    verify_event_signatures(event, keyring(HS1))
    changed = copy.deepcopy(event.pdu)
    changed["content"]["__changed__"] = True
    assert not check_content_hash(Event(changed, version, event_id=event.event_id))
