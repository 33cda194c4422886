"""The m.room.member authorization rule (rule 5 in v1-v5 and v12, rule 4 in v6-v11).

spec: rooms/fragments/v1-auth-rules rule 5, v8-auth-rules rule 4, rooms/v10, v11, v12
rule 5; client-server "m.room.member" (third_party_invite.signed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nacl.exceptions
import nacl.signing

from .auth_context import THIRD_PARTY_INVITE, RoomState, domain_of, reject
from .canonical import decode_unpadded_base64, encode_canonical_json
from .errors import CanonicalJsonError

_AUTHORISER = "join_authorised_via_users_server"


def check_membership(room: RoomState) -> None:
    """Allow (return) or reject (raise ``AuthError``) an m.room.member event."""
    event = room.event
    nums = room.nums
    r = nums.member
    membership = event.content.get("membership")
    if event.state_key is None or "membership" not in event.content:
        raise reject(f"{r}.1", "m.room.member needs a state_key and content.membership")

    if room.version.restricted_join_rule and _AUTHORISER in event.content:
        # spec: v8+ rule 4.2 (5.2 in v12). Here only the presence of a signature from that
        # server is checked; signing.py verifies every signature cryptographically.
        authoriser = event.content[_AUTHORISER]
        server = domain_of(authoriser) if isinstance(authoriser, str) else None
        signatures = event.pdu.get("signatures")
        signed_by = signatures.get(server) if isinstance(signatures, dict) and server else None
        if not isinstance(signed_by, dict) or not signed_by:
            raise reject(f"{r}.2.1", f"the event is not signed by the server of {_AUTHORISER}")

    if membership == "join":
        _check_join(room)
    elif membership == "invite":
        _check_invite(room)
    elif membership == "leave":
        _check_leave(room)
    elif membership == "ban":
        _check_ban(room)
    elif membership == "knock" and nums.m_knock:
        _check_knock(room)
    else:
        raise reject(f"{r}.{nums.m_unknown}", f"unknown membership {membership!r}")


def _check_join(room: RoomState) -> None:
    event = room.event
    version = room.version
    n = f"{room.nums.member}.{room.nums.m_join}"
    target = event.state_key

    # spec: rule x.1 — the creator's own join right after the create event.
    creator: object = (
        room.create.sender if version.implicit_room_creator else room.create.content.get("creator")
    )
    if (
        len(event.prev_event_ids) == 1
        and event.prev_event_ids[0] == room.create.event_id
        and creator == target
    ):
        return
    if event.sender != target:
        raise reject(f"{n}.2", "a user can only join for themselves")
    current = room.membership(event.sender)
    if current == "ban":
        raise reject(f"{n}.3", f"{event.sender} is banned")

    join_rule = room.join_rule
    if join_rule == "invite" or (version.knock_join_rule and join_rule == "knock"):
        if current in ("invite", "join"):
            return
        # spec: x.4 allows only these; the rejection is the final "otherwise, reject".
        raise reject(
            f"{n}.{room.nums.j_otherwise}",
            f"join rule {join_rule} and {event.sender} is not invited",
        )
    if (version.restricted_join_rule and join_rule == "restricted") or (
        version.knock_restricted_join_rule and join_rule == "knock_restricted"
    ):
        if current in ("invite", "join"):
            return
        authoriser = event.content.get(_AUTHORISER)
        if not isinstance(authoriser, str):
            raise reject(f"{n}.5.2", f"restricted join without a valid {_AUTHORISER}")
        if room.membership(authoriser) != "join":
            raise reject(f"{n}.5.2", f"{_AUTHORISER} {authoriser} is not joined to the room")
        if room.user_level(authoriser) < room.levels.invite:
            raise reject(f"{n}.5.2", f"{_AUTHORISER} {authoriser} may not invite users")
        return
    if join_rule == "public":
        return
    raise reject(f"{n}.{room.nums.j_otherwise}", f"join rule {join_rule!r} does not allow joins")


def _check_invite(room: RoomState) -> None:
    event = room.event
    n = f"{room.nums.member}.{room.nums.m_invite}"
    target = event.state_key or ""
    target_membership = room.membership(target)

    if "third_party_invite" in event.content:
        _check_third_party_invite(room, f"{n}.1", target, target_membership)
        return

    if room.membership(event.sender) != "join":
        raise reject(f"{n}.2", f"{event.sender} is not joined to the room")
    if target_membership in ("join", "ban"):
        raise reject(f"{n}.3", f"{target} is already {target_membership}")
    sender_level = room.user_level(event.sender)
    if sender_level >= room.levels.invite:
        return
    raise reject(
        f"{n}.5", f"sender level {sender_level} is below the invite level {room.levels.invite}"
    )


def _check_third_party_invite(
    room: RoomState, n: str, target: str, target_membership: str | None
) -> None:
    event = room.event
    if target_membership == "ban":
        raise reject(f"{n}.1", f"{target} is banned")
    tpi = event.content.get("third_party_invite")
    signed = tpi.get("signed") if isinstance(tpi, dict) else None
    if not isinstance(signed, dict):
        raise reject(f"{n}.2", "third_party_invite has no signed object")
    mxid = signed.get("mxid")
    token = signed.get("token")
    if not isinstance(mxid, str) or not isinstance(token, str):
        raise reject(f"{n}.3", "third_party_invite.signed needs mxid and token")
    if mxid != target:
        raise reject(f"{n}.4", f"signed mxid {mxid} is not the state_key {target}")
    invite_event = room.get(THIRD_PARTY_INVITE, token)
    if invite_event is None:
        raise reject(f"{n}.5", f"no m.room.third_party_invite with state_key {token!r}")
    if invite_event.sender != event.sender:
        raise reject(f"{n}.6", "the sender did not send the m.room.third_party_invite")
    if _signed_by_any(signed, _public_keys(invite_event.content)):
        return
    raise reject(f"{n}.8", "no signature in signed matches the third party invite's keys")


def _public_keys(content: Mapping[str, Any]) -> list[str]:
    """spec: x.4.1.7 — ``public_key`` and each ``public_keys[].public_key``."""
    keys: list[str] = []
    single = content.get("public_key")
    if isinstance(single, str):
        keys.append(single)
    listed = content.get("public_keys")
    if isinstance(listed, list):
        for item in listed:
            if isinstance(item, dict) and isinstance(item.get("public_key"), str):
                keys.append(item["public_key"])
    return keys


def _signed_by_any(signed: Mapping[str, Any], public_keys: list[str]) -> bool:
    """Whether any ed25519 signature in ``signed.signatures`` verifies under any key.

    spec: appendices "Checking for a Signature": the signed bytes are the canonical JSON
    of the object without ``signatures`` and ``unsigned``.
    """
    signatures = signed.get("signatures")
    if not isinstance(signatures, dict):
        return False
    verify_keys: list[nacl.signing.VerifyKey] = []
    for key in public_keys:
        try:
            verify_keys.append(nacl.signing.VerifyKey(decode_unpadded_base64(key)))
        except (CanonicalJsonError, nacl.exceptions.CryptoError, ValueError, TypeError):
            continue
    if not verify_keys:
        return False
    payload_obj = {k: v for k, v in signed.items() if k not in ("signatures", "unsigned")}
    try:
        payload = encode_canonical_json(payload_obj, strict=False)
    except CanonicalJsonError:
        return False
    for by_server in signatures.values():
        if not isinstance(by_server, dict):
            continue
        for key_id, signature in by_server.items():
            if not isinstance(key_id, str) or not key_id.startswith("ed25519:"):
                continue
            if not isinstance(signature, str):
                continue
            try:
                raw = decode_unpadded_base64(signature)
            except CanonicalJsonError:
                continue
            for verify_key in verify_keys:
                try:
                    verify_key.verify(payload, raw)
                except (nacl.exceptions.CryptoError, ValueError, TypeError):
                    continue
                return True
    return False


def _check_leave(room: RoomState) -> None:
    event = room.event
    n = f"{room.nums.member}.{room.nums.m_leave}"
    target = event.state_key or ""
    if event.sender == target:
        allowed = (
            ("invite", "join", "knock") if room.version.knock_join_rule else ("invite", "join")
        )
        if room.membership(target) in allowed:
            return
        raise reject(f"{n}.1", f"{target} cannot leave: not invited or joined")
    if room.membership(event.sender) != "join":
        raise reject(f"{n}.2", f"{event.sender} is not joined to the room")
    sender_level = room.user_level(event.sender)
    if room.membership(target) == "ban" and sender_level < room.levels.ban:
        raise reject(f"{n}.3", f"sender level {sender_level} is below the ban level to unban")
    if sender_level >= room.levels.kick and room.user_level(target) < sender_level:
        return
    raise reject(f"{n}.5", f"sender level {sender_level} cannot kick {target}")


def _check_ban(room: RoomState) -> None:
    event = room.event
    n = f"{room.nums.member}.{room.nums.m_ban}"
    target = event.state_key or ""
    if room.membership(event.sender) != "join":
        raise reject(f"{n}.1", f"{event.sender} is not joined to the room")
    sender_level = room.user_level(event.sender)
    if sender_level >= room.levels.ban and room.user_level(target) < sender_level:
        return
    raise reject(f"{n}.3", f"sender level {sender_level} cannot ban {target}")


def _check_knock(room: RoomState) -> None:
    """spec: v7+ knock (rule 4.6 in v7, 4.7 in v8-v11, 5.7 in v12)."""
    event = room.event
    n = f"{room.nums.member}.{room.nums.m_knock}"
    join_rule = room.join_rule
    if not (
        join_rule == "knock"
        or (room.version.knock_restricted_join_rule and join_rule == "knock_restricted")
    ):
        raise reject(f"{n}.1", f"join rule {join_rule!r} does not allow knocking")
    if event.sender != event.state_key:
        raise reject(f"{n}.2", "a user can only knock for themselves")
    current = room.membership(event.sender)
    if current not in ("ban", "invite", "join"):
        return
    raise reject(f"{n}.4", f"{event.sender} is already {current}")
