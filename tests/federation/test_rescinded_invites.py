"""An invite withdrawn by the inviting server, or a knock refused, reaches the server of
the user it is about, which is not in the room; a third server cannot forge one.

spec: server-server "Inviting to a room" and client-server "Leaving rooms" (a kick of an
invited user rescinds the invite): the invitee's server holds the invite as an outlier
with stripped state only; the inviting server still sends it the rescinding ``leave``
(it is about that server's user), and the invitee's server accepts it for its invited
(or knocking) user on the grounds ``federation.out_of_room`` lists.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from homeserver.appkeys import STORE_KEY
from homeserver.protocol.signing import hash_and_sign_event

from ..support.federation import FederatedServer, StartFederation
from ..support.matrix_client import User, q
from ..support.waiting import until
from .sender_fixtures import FAST
from .test_sender_rooms import Partition

pytestmark = pytest.mark.parametrize("version", ["10", "11", "12"])

INCLUDE_LEAVE = {"room": {"include_leave": True}}


async def _rooms(user: User, section: str, since: str | None = None) -> dict[str, Any]:
    sync = await user.sync(since, timeout=0, filter=INCLUDE_LEAVE)
    rooms: dict[str, Any] = sync.get("rooms", {}).get(section, {})
    return rooms


async def _left(user: User, room_id: str, since: str) -> dict[str, Any]:
    """The room's ``leave`` entry in an incremental sync, once there (else a timeout)."""

    async def check() -> dict[str, Any] | None:
        return (await _rooms(user, "leave", since)).get(room_id)

    found: dict[str, Any] = await until(check, f"{room_id} under leave for {user.user_id}")
    return found


def _memberships(entry: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (e["sender"], e["content"]["membership"])
        for e in entry["timeline"]["events"]
        if e["type"] == "m.room.member"
    ]


async def test_rescinded_invite_leaves_the_invitees_sync(
    federation: StartFederation, version: str
) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="private_chat", room_version=version)
    (await alice.invite(room_id, bob.user_id)).ok()
    first = await bob.sync(timeout=0)
    assert room_id in first["rooms"]["invite"]
    (await alice.act("kick", room_id, bob.user_id, reason="changed my mind")).ok()

    gone = await _left(bob, room_id, first["next_batch"])
    assert _memberships(gone) == [(alice.user_id, "leave")]
    assert room_id not in await _rooms(bob, "invite")
    assert room_id in await _rooms(bob, "leave")
    # Invited again: the new invite shows, and Bob can take it.
    (await alice.invite(room_id, bob.user_id)).ok()
    assert room_id in await _rooms(bob, "invite")
    (await bob.join(room_id)).ok()


async def test_refused_knock_leaves_the_knockers_sync(
    federation: StartFederation, version: str
) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(
        room_version=version,
        initial_state=[{"type": "m.room.join_rules", "content": {"join_rule": "knock"}}],
    )
    knocked = await bob.call("POST", f"/knock/{q(room_id)}", {}, params={"via": a.name})
    knocked.ok()
    first = await bob.sync(timeout=0)
    assert room_id in first["rooms"]["knock"]
    (await alice.act("kick", room_id, bob.user_id, reason="not now")).ok()

    gone = await _left(bob, room_id, first["next_batch"])
    assert _memberships(gone) == [(alice.user_id, "leave")]
    assert room_id not in await _rooms(bob, "knock")


async def test_the_rooms_creator_may_rescind_an_invite_sent_by_another_server(
    federation: StartFederation, version: str
) -> None:
    a, b, c = await federation(3)
    alice = await a.register("alice")
    bob = await b.register("bob")
    carol = await c.register("carol")
    room_id = await alice.create_room(
        preset="public_chat", room_version=version, power_level_content_override={"invite": 0}
    )
    (await carol.call("POST", f"/join/{q(room_id)}", {}, params={"via": a.name})).ok()
    (await carol.invite(room_id, bob.user_id)).ok()  # from C, not the creator's server
    first = await bob.sync(timeout=0)
    assert room_id in first["rooms"]["invite"]

    async def invite_reached_a() -> bool:
        reply = await alice.call("GET", f"/rooms/{q(room_id)}/state/m.room.member/{q(bob.user_id)}")
        return reply.status == 200 and reply.body.get("membership") == "invite"

    await until(invite_reached_a, "carol's invite at A")
    (await alice.act("kick", room_id, bob.user_id)).ok()

    gone = await _left(bob, room_id, first["next_batch"])
    assert _memberships(gone) == [(alice.user_id, "leave")]
    assert room_id not in await _rooms(bob, "invite")


async def _forged_rescind(
    forger: FederatedServer, home: FederatedServer, room_id: str, sender: str, target: str
) -> dict[str, Any]:
    """A ``leave`` of ``target`` made and signed by ``forger`` from ``home``'s invite
    (it names the invite among its auth events, as a real one would)."""
    store = home.app[STORE_KEY]
    state = await store.state.get_current_state_ids(room_id)
    stored = await store.events.get_event(state[("m.room.member", target)])
    assert stored is not None
    invite = stored.event
    pdu = {k: v for k, v in invite.pdu.items() if k not in ("hashes", "signatures", "unsigned")}
    pdu.update(
        sender=sender,
        content={"membership": "leave"},
        prev_events=[invite.event_id],
        auth_events=[*invite.auth_event_ids, invite.event_id],
        depth=invite.depth + 1,
        origin_server_ts=invite.origin_server_ts + 1,
    )
    return hash_and_sign_event(pdu, forger.signing_key, invite.room_version)


async def test_a_third_server_cannot_rescind_an_invite(
    federation: StartFederation, version: str
) -> None:
    a, b, c = await federation(3)
    alice = await a.register("alice")
    bob = await b.register("bob")
    await c.register("mallory")
    mallory = f"@mallory:{c.name}"
    room_id = await alice.create_room(preset="private_chat", room_version=version)
    (await alice.invite(room_id, bob.user_id)).ok()
    assert room_id in await _rooms(bob, "invite")

    forged = await _forged_rescind(c, a, room_id, mallory, bob.user_id)
    # Alice's name on it but C's signature: C cannot speak for A's users.
    as_alice = await _forged_rescind(c, a, room_id, alice.user_id, bob.user_id)
    errors: list[str] = []
    for n, pdu in enumerate([forged, as_alice]):
        answer = await c.fed_client.put_json(
            b.name,
            f"/_matrix/federation/v1/send/forged{n}",
            {"origin": c.name, "origin_server_ts": 1, "pdus": [pdu], "edus": []},
        )
        [result] = answer["pdus"].values()
        assert "error" in result, answer
        errors.append(result["error"])
    assert "did not send the invite" in errors[0]
    assert room_id in await _rooms(bob, "invite")
    assert room_id not in await _rooms(bob, "leave")
    (await bob.join(room_id)).ok()  # the invite still works


async def test_a_rescind_missed_in_an_outage_is_caught_up(
    federation: StartFederation, version: str
) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="private_chat", room_version=version)
    (await alice.invite(room_id, bob.user_id)).ok()
    first = await bob.sync(timeout=0)
    assert room_id in first["rooms"]["invite"]
    link = Partition(a, b.name)
    link.sender.backoff = FAST.__class__(min_ms=3_600_000, max_ms=7_200_000, jitter=0.0)
    link.cut = True
    (await alice.act("kick", room_id, bob.user_id)).ok()
    await alice.send(room_id, "B is not in the room: this stays here")
    await asyncio.sleep(0.2)
    assert room_id in await _rooms(bob, "invite")  # cut off; A backs off for an hour
    link.cut = False
    link.sender.on_destination_seen(b.name)  # B is back: catch-up sends the withdrawal

    gone = await _left(bob, room_id, first["next_batch"])
    assert _memberships(gone) == [(alice.user_id, "leave")]
    sent = [p for body in link.sent for p in body["pdus"]]
    assert all(p["type"] == "m.room.member" for p in sent), sent
