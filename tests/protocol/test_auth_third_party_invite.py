"""Invites by third-party invite and the m.room.third_party_invite event rule.

spec: rooms/v1 rules 5.3.1 and 7 (v6-v11: 4.x.1 and 6; v8+: 4.4.1; v12: 5.4.1 and 7);
client-server "m.room.member" third_party_invite.signed; appendices "Signing JSON".
"""

from __future__ import annotations

from typing import Any

import nacl.signing
import pytest

from homeserver.protocol.canonical import encode_canonical_json, unpadded_base64
from homeserver.protocol.room_versions import RoomVersion

from .auth_expect import allowed, member, rejected, top, version_params
from .room_builder import ALICE, BOB, CAROL, MOD, USER, RoomBuilder, standard_room

ALL = version_params()
SEED = bytes(range(32))
KEY = nacl.signing.SigningKey(SEED)
PUBLIC = unpadded_base64(bytes(KEY.verify_key))
OTHER_KEY = nacl.signing.SigningKey(bytes(range(1, 33)))


def _signed(mxid: str = BOB, token: str = "tok", key: Any = KEY, **extra: Any) -> dict[str, Any]:
    signed: dict[str, Any] = {"mxid": mxid, "token": token, "sender": USER, **extra}
    signature = key.sign(encode_canonical_json(signed)).signature
    signed["signatures"] = {"id.example": {"ed25519:0": unpadded_base64(signature)}}
    return signed


def _room(version: RoomVersion, **tpi_content: Any) -> RoomBuilder:
    room = standard_room(version)
    content = tpi_content or {"display_name": "b...", "public_key": PUBLIC}
    room.send("m.room.third_party_invite", USER, content, "tok")
    return room


def _invite(room: RoomBuilder, signed: Any, sender: str = USER, target: str = BOB) -> Any:
    content = {
        "membership": "invite",
        "third_party_invite": {"display_name": "b", "signed": signed},
    }
    return room.make("m.room.member", sender, content, target)


def _rule(version: RoomVersion, sub: int) -> str:
    return f"{member(version, 'invite')}.1.{sub}"


@pytest.mark.parametrize("version", ALL)
def test_valid_third_party_invite(version: RoomVersion) -> None:
    room = _room(version)
    allowed(_invite(room, _signed()), room.state)


@pytest.mark.parametrize("version", ALL)
def test_public_keys_list_is_searched(version: RoomVersion) -> None:
    other = unpadded_base64(bytes(OTHER_KEY.verify_key))
    room = _room(
        version,
        public_key=other,
        public_keys=[{"public_key": "bad"}, 7, {"public_key": PUBLIC, "key_validity_url": "x"}],
    )
    allowed(_invite(room, _signed()), room.state)


@pytest.mark.parametrize("version", ALL)
def test_1_target_banned(version: RoomVersion) -> None:
    room = _room(version)
    room.member(MOD, "ban", BOB)
    rejected(_invite(room, _signed()), room.state, _rule(version, 1))


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("tpi", [{}, {"signed": "x"}, {"signed": None}, "notadict", None])
def test_2_no_signed_object(version: RoomVersion, tpi: Any) -> None:
    room = _room(version)
    content = {"membership": "invite", "third_party_invite": tpi}
    rejected(room.make("m.room.member", USER, content, BOB), room.state, _rule(version, 2))


@pytest.mark.parametrize("version", ALL)
def test_3_signed_needs_mxid_and_token(version: RoomVersion) -> None:
    room = _room(version)
    for drop in ("mxid", "token"):
        signed = _signed()
        del signed[drop]
        rejected(_invite(room, signed), room.state, _rule(version, 3))
    signed = _signed()
    signed["token"] = ["tok"]
    rejected(_invite(room, signed), room.state, _rule(version, 3))


@pytest.mark.parametrize("version", ALL)
def test_4_mxid_must_be_the_state_key(version: RoomVersion) -> None:
    room = _room(version)
    rejected(_invite(room, _signed(mxid=CAROL)), room.state, _rule(version, 4))


@pytest.mark.parametrize("version", ALL)
def test_5_third_party_invite_event_must_exist(version: RoomVersion) -> None:
    room = _room(version)
    rejected(_invite(room, _signed(token="other")), room.state, _rule(version, 5))


@pytest.mark.parametrize("version", ALL)
def test_6_sender_must_have_sent_the_third_party_invite(version: RoomVersion) -> None:
    room = _room(version)
    rejected(_invite(room, _signed(), sender=MOD), room.state, _rule(version, 6))


@pytest.mark.parametrize("version", ALL)
def test_7_8_signature_must_match_a_public_key(version: RoomVersion) -> None:
    room = _room(version)
    rejected(_invite(room, _signed(key=OTHER_KEY)), room.state, _rule(version, 8))
    tampered = _signed()
    tampered["mxid"] = CAROL
    rejected(_invite(room, tampered, target=CAROL), room.state, _rule(version, 8))
    for signatures in ({}, None, {"id.example": "x"}, {"id.example": {"ed25519:0": 5}}):
        bad = _signed()
        bad["signatures"] = signatures
        rejected(_invite(room, bad), room.state, _rule(version, 8))
    # a non-ed25519 key id is not considered
    good = _signed()
    good["signatures"] = {
        "id.example": {"curve25519:0": good["signatures"]["id.example"]["ed25519:0"]}
    }
    rejected(_invite(room, good), room.state, _rule(version, 8))


@pytest.mark.parametrize("version", ALL)
def test_7_8_bad_public_keys_reject(version: RoomVersion) -> None:
    room = _room(version, public_key="!!notbase64", public_keys="nope")
    rejected(_invite(room, _signed()), room.state, _rule(version, 8))
    room = _room(version, public_key=unpadded_base64(b"short"))
    rejected(_invite(room, _signed()), room.state, _rule(version, 8))


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_skips_the_plain_invite_rules(version: RoomVersion) -> None:
    # spec: the third-party branch allows on a valid signature without checking the
    # sender's invite level (rule x.1 ends in allow or reject).
    room = _room(version)
    room.send("m.room.power_levels", ALICE, room.power_levels_content(invite=100), "")
    allowed(_invite(room, _signed()), room.state)


# -- the m.room.third_party_invite event itself ------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_event_needs_invite_level(version: RoomVersion) -> None:
    room = standard_room(version)
    # state_default is 50 but the invite level (0) decides
    content = {"display_name": "x", "public_key": PUBLIC}
    allowed(room.make("m.room.third_party_invite", USER, content, "t"), room.state)
    room.send("m.room.power_levels", ALICE, room.power_levels_content(invite=50), "")
    event = room.make("m.room.third_party_invite", USER, content, "t")
    rejected(event, room.state, f"{top(version, 'tpi')}.1")
    allowed(room.make("m.room.third_party_invite", MOD, content, "t"), room.state)


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_event_needs_joined_sender(version: RoomVersion) -> None:
    room = standard_room(version)
    event = room.make("m.room.third_party_invite", BOB, {"public_key": PUBLIC}, "t")
    rejected(event, room.state, top(version, "joined"))
