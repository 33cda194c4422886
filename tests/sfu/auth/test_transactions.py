"""What the homeserver pushes to the SFU (spec: application-service API "Pushing events"):
the bot joins rooms it is invited to; a participant who leaves, is kicked or banned is
dropped from the call at once; the ``hs_token`` guards the route; a retried transaction
is handled once."""

from __future__ import annotations

from typing import Any

from sfu.access import Grant
from tests.support.matrix_client import User
from tests.support.waiting import until

from .conftest import BOT, VoiceSetup
from .harness import HS_TOKEN, voice_room

TXN = "/_matrix/app/v1/transactions/"


async def removed_after(voice: VoiceSetup, count: int) -> list[tuple[str, str, str]]:
    async def enough() -> bool:
        return len(voice.sfu.voice.removed) >= count

    await until(enough, f"{count} remove_user calls")
    await voice.sfu.services.transactions.idle()
    return voice.sfu.voice.removed


async def test_leave_kick_and_ban_drop_the_participant(voice: VoiceSetup) -> None:
    alice = await voice.server.register("alice")
    users = [await voice.server.register(name) for name in ("bob", "carol", "dave")]
    room = await voice_room(alice, BOT)
    for user in users:
        (await user.join(room)).ok()
    bob, carol, dave = users
    (await bob.leave(room)).ok()
    (await alice.act("kick", room, carol.user_id)).ok()
    (await alice.act("ban", room, dave.user_id)).ok()
    assert await removed_after(voice, 3) == [
        (room, bob.user_id, "left"),
        (room, carol.user_id, "kicked"),
        (room, dave.user_id, "banned"),
    ]


async def test_the_bot_removed_from_a_room_drops_its_call(voice: VoiceSetup) -> None:
    alice = await voice.server.register("alice")
    bob = await voice.server.register("bob")
    room = await voice_room(alice, BOT)
    (await bob.join(room)).ok()
    roster = voice.sfu.services.roster
    for user in (alice, bob):
        await roster.joined(Grant(user.user_id, "D", room, 2**50), "s", ["audio"])
    (await alice.act("kick", room, BOT)).ok()
    removed = await removed_after(voice, 2)
    assert sorted(removed) == sorted(
        (room, u.user_id, "the voice server was removed from the room") for u in (alice, bob)
    )


async def put_txn(voice: VoiceSetup, txn: str, body: Any, headers: dict[str, str]) -> Any:
    async with voice.sfu.session.put(TXN + txn, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


def member_event(user: User, room: str, membership: str) -> dict[str, Any]:
    return {
        "type": "m.room.member",
        "room_id": room,
        "sender": user.user_id,
        "state_key": user.user_id,
        "event_id": f"$ev{membership}",
        "content": {"membership": membership},
    }


async def test_transactions_need_the_hs_token_and_are_handled_once(voice: VoiceSetup) -> None:
    alice = await voice.server.register("alice")
    room = "!room:elsewhere"
    body = {"events": [member_event(alice, room, "leave")]}
    status, reply = await put_txn(voice, "t1", body, {})
    assert (status, reply["errcode"]) == (401, "M_UNAUTHORIZED")
    status, reply = await put_txn(voice, "t1", body, {"Authorization": "Bearer wrong"})
    assert (status, reply["errcode"]) == (403, "M_FORBIDDEN")
    auth = {"Authorization": f"Bearer {HS_TOKEN}"}
    status, reply = await put_txn(voice, "t1", {"events": "no"}, auth)
    assert (status, reply["errcode"]) == (400, "M_BAD_JSON")
    assert voice.sfu.voice.removed == []
    for _ in range(2):  # the pusher retrying: same id, same content
        status, reply = await put_txn(voice, "t2", body, auth)
        assert (status, reply) == (200, {})
    await voice.sfu.services.transactions.idle()
    assert voice.sfu.voice.removed == [(room, alice.user_id, "left")]


async def test_other_application_service_routes(voice: VoiceSetup) -> None:
    auth = {"Authorization": f"Bearer {HS_TOKEN}"}
    session = voice.sfu.session
    async with session.post("/_matrix/app/v1/ping", json={}, headers=auth) as resp:
        assert (resp.status, await resp.json()) == (200, {})
    async with session.get("/_matrix/app/v1/users/@x:y", headers=auth) as resp:
        assert (resp.status, (await resp.json())["errcode"]) == (404, "M_NOT_FOUND")
    async with session.get("/_matrix/app/v1/users/@x:y") as resp:
        assert resp.status == 401


async def test_a_large_transaction_is_read_whole(voice: VoiceSetup) -> None:
    """A transaction of many events arrives in many TCP reads (here about 2 MB)."""
    alice = await voice.server.register("alice")
    padding = "x" * 20_000
    events = [
        {**member_event(alice, f"!room{n}:elsewhere", "leave"), "unsigned": {"pad": padding}}
        for n in range(100)
    ]
    auth = {"Authorization": f"Bearer {HS_TOKEN}"}
    status, reply = await put_txn(voice, "big", {"events": events}, auth)
    assert (status, reply) == (200, {})
    await voice.sfu.services.transactions.idle()
    assert len(voice.sfu.voice.removed) == 100
