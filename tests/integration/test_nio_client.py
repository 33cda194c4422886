"""matrix-nio, a real Python client, against the real server (a subprocess) on both databases.

Two users go through what a chat client does: register, log in, create a room, invite,
sync, join, talk, paginate history, redact, leave. nio validates every response against
its own JSON schemas, so a response that does not match the spec fails here too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest

nio = pytest.importorskip("nio")

from nio import (  # noqa: E402
    AsyncClient,
    AsyncClientConfig,
    JoinedMembersResponse,
    JoinedRoomsResponse,
    JoinResponse,
    LoginResponse,
    LogoutResponse,
    MessageDirection,
    RedactedEvent,
    RedactionEvent,
    RegisterResponse,
    RoomCreateResponse,
    RoomGetEventResponse,
    RoomGetStateEventResponse,
    RoomGetStateResponse,
    RoomInviteResponse,
    RoomLeaveResponse,
    RoomMemberEvent,
    RoomMessagesResponse,
    RoomMessageText,
    RoomPutStateError,
    RoomPutStateResponse,
    RoomRedactResponse,
    RoomSendResponse,
    SyncResponse,
    WhoamiError,
    WhoamiResponse,
)

from .server_process import ConcordServer  # noqa: E402

PASSWORD = "correct horse battery staple"
T = TypeVar("T")


def ok(resp: object, kind: type[T]) -> T:
    """``resp`` is a ``kind``; otherwise fail with what the server said."""
    if not isinstance(resp, kind):
        fields = ("status_code", "message", "transport_response")
        detail = {k: getattr(resp, k, None) for k in fields}
        raise AssertionError(f"expected {kind.__name__}, got {type(resp).__name__}: {detail}")
    return resp


def _config() -> AsyncClientConfig:
    return AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)


@pytest.fixture
async def clients(server: ConcordServer) -> AsyncIterator[Callable[..., AsyncClient]]:
    """A factory of nio clients on the server, all closed at teardown."""
    made: list[AsyncClient] = []

    def make(user: str = "") -> AsyncClient:
        client = AsyncClient(server.url, user, config=_config())
        made.append(client)
        return client

    yield make
    await asyncio.gather(*(c.close() for c in made), return_exceptions=True)


async def sync_until(
    client: AsyncClient, predicate: Any, *, what: str, rounds: int = 20
) -> SyncResponse:
    """Incremental /sync (long-poll 1 s) until ``predicate(response)``; bounded."""
    for _ in range(rounds):
        resp = ok(await client.sync(timeout=1000), SyncResponse)
        if predicate(resp):
            return resp
    raise AssertionError(f"{client.user_id} never saw {what} in /sync")


def timeline(resp: SyncResponse, room_id: str) -> list[Any]:
    room = resp.rooms.join.get(room_id)
    return list(room.timeline.events) if room else []


async def test_register_login_whoami_logout(server: ConcordServer, clients: Any) -> None:
    first = clients()
    reg = ok(await first.register("carol", PASSWORD, device_name="phone"), RegisterResponse)
    assert reg.user_id == "@carol:localhost"
    assert reg.access_token and reg.device_id

    second = clients("@carol:localhost")
    login = ok(await second.login(PASSWORD, device_name="laptop"), LoginResponse)
    assert login.user_id == "@carol:localhost"
    assert login.device_id != reg.device_id
    me = ok(await second.whoami(), WhoamiResponse)
    assert (me.user_id, me.device_id) == ("@carol:localhost", login.device_id)

    # Logging out the first device revokes its token only.
    ok(await first.logout(), LogoutResponse)
    stale = clients()
    stale.restore_login("@carol:localhost", reg.device_id, reg.access_token)
    err = ok(await stale.whoami(), WhoamiError)
    assert err.status_code == "M_UNKNOWN_TOKEN"
    ok(await second.whoami(), WhoamiResponse)

    # A wrong password is refused.
    third = clients("@carol:localhost")
    assert not isinstance(await third.login("wrong password"), LoginResponse)


async def test_two_clients_chat(server: ConcordServer, clients: Any) -> None:
    alice, bob = clients(), clients()
    ok(await alice.register("alice", PASSWORD), RegisterResponse)
    bob_reg = ok(await bob.register("bob", PASSWORD), RegisterResponse)
    bob_id = bob_reg.user_id
    await alice.close()
    alice = clients("@alice:localhost")
    ok(await alice.login(PASSWORD), LoginResponse)

    # Both have synced once before anything happens (incremental syncs from here).
    ok(await alice.sync(timeout=0), SyncResponse)
    ok(await bob.sync(timeout=0), SyncResponse)

    room_id = ok(await alice.room_create(name="Plans", topic="weekend"), RoomCreateResponse).room_id
    ok(await alice.room_invite(room_id, bob_id), RoomInviteResponse)

    # bob sees the invite, with stripped state naming the room.
    resp = await sync_until(bob, lambda r: room_id in r.rooms.invite, what="the invite")
    invite_state = resp.rooms.invite[room_id].invite_state
    assert any(getattr(e, "name", None) == "Plans" for e in invite_state), invite_state
    assert room_id in bob.invited_rooms

    ok(await bob.join(room_id), JoinResponse)
    joined = ok(await bob.joined_rooms(), JoinedRoomsResponse)
    assert room_id in joined.rooms
    await sync_until(bob, lambda r: room_id in r.rooms.join, what="the joined room")
    assert bob.rooms[room_id].name == "Plans"
    assert bob.rooms[room_id].topic == "weekend"
    assert {"@alice:localhost", bob_id} <= set(bob.rooms[room_id].users)

    # Room state through /state, /state/{type}/{key} and /joined_members; a state change.
    state = ok(await bob.room_get_state(room_id), RoomGetStateResponse)
    keys = {(e["type"], e["state_key"]) for e in state.events}
    assert {("m.room.create", ""), ("m.room.member", bob_id), ("m.room.name", "")} <= keys
    name = ok(await bob.room_get_state_event(room_id, "m.room.name"), RoomGetStateEventResponse)
    assert name.content == {"name": "Plans"}
    members = ok(await alice.joined_members(room_id), JoinedMembersResponse)
    assert {m.user_id for m in members.members} == {"@alice:localhost", bob_id}
    ok(
        await alice.room_put_state(room_id, "m.room.topic", {"topic": "sunday"}),
        RoomPutStateResponse,
    )
    await sync_until(bob, lambda r: bob.rooms[room_id].topic == "sunday", what="the new topic")
    # bob (power level 0) may not change the power levels.
    denied = await bob.room_put_state(room_id, "m.room.power_levels", {"users": {bob_id: 100}})
    assert ok(denied, RoomPutStateError).status_code == "M_FORBIDDEN"

    # alice sees bob's join.
    await sync_until(
        alice,
        lambda r: any(
            isinstance(e, RoomMemberEvent) and e.state_key == bob_id and e.membership == "join"
            for e in timeline(r, room_id)
        ),
        what="bob's join",
    )

    # A long-polling sync is woken by a new message (not by its timeout).
    bob_poll = asyncio.ensure_future(bob.sync(timeout=10_000))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    first = ok(
        await alice.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "hi bob"}),
        RoomSendResponse,
    )
    woke = ok(await asyncio.wait_for(bob_poll, 15), SyncResponse)
    assert time.monotonic() - started < 5, "the long-poll was not woken by the send"
    seen = [e for e in timeline(woke, room_id) if isinstance(e, RoomMessageText)]
    if not seen:  # the wake-up may have carried something else first
        woke = await sync_until(
            bob,
            lambda r: any(isinstance(e, RoomMessageText) for e in timeline(r, room_id)),
            what="alice's first message",
        )
        seen = [e for e in timeline(woke, room_id) if isinstance(e, RoomMessageText)]
    assert seen[0].event_id == first.event_id and seen[0].body == "hi bob"

    # A conversation; sends with the same txn id are idempotent.
    sent: dict[str, str] = {first.event_id: "hi bob"}
    for i in range(6):
        sender = alice if i % 2 else bob
        body = f"message {i}"
        r = ok(
            await sender.room_send(
                room_id, "m.room.message", {"msgtype": "m.text", "body": body}, tx_id=f"t{i}"
            ),
            RoomSendResponse,
        )
        again = ok(
            await sender.room_send(
                room_id, "m.room.message", {"msgtype": "m.text", "body": body}, tx_id=f"t{i}"
            ),
            RoomSendResponse,
        )
        assert again.event_id == r.event_id, "same txnId must give the same event"
        sent[r.event_id] = body
    order = list(sent)

    collected: list[str] = [first.event_id]

    def saw_all(r: SyncResponse) -> bool:
        collected.extend(e.event_id for e in timeline(r, room_id) if isinstance(e, RoomMessageText))
        return set(order) <= set(collected)

    await sync_until(bob, saw_all, what="every message")

    # bob paginates back from his sync position, two events a page, to the room's start.
    history: list[Any] = []
    token: str | None = bob.next_batch
    for _ in range(50):
        page = ok(
            await bob.room_messages(room_id, start=token, direction=MessageDirection.back, limit=2),
            RoomMessagesResponse,
        )
        assert len(page.chunk) <= 2
        history.extend(page.chunk)
        if not page.chunk or not page.end:
            break
        token = page.end
    else:
        raise AssertionError("pagination did not reach the start of the room")
    ids = [e.event_id for e in history]
    assert len(ids) == len(set(ids)), "an event came twice while paginating"
    messages = [e.event_id for e in history if isinstance(e, RoomMessageText)]
    assert messages == order[::-1], "newest first, every message once"
    assert getattr(history[-1], "source", {}).get("type") == "m.room.create"

    # alice redacts her first message; bob sees the redaction event and the stripped event.
    victim = first.event_id
    ok(await alice.room_redact(room_id, victim, reason="typo"), RoomRedactResponse)
    resp = await sync_until(
        bob,
        lambda r: any(
            isinstance(e, RedactionEvent) and e.redacts == victim for e in timeline(r, room_id)
        ),
        what="the redaction",
    )
    got = ok(await bob.room_get_event(room_id, victim), RoomGetEventResponse)
    assert isinstance(got.event, RedactedEvent), got.event
    assert got.event.source.get("content") == {}
    page = ok(
        await bob.room_messages(room_id, start=bob.next_batch, limit=20), RoomMessagesResponse
    )
    redacted = [e for e in page.chunk if e.event_id == victim]
    assert len(redacted) == 1 and isinstance(redacted[0], RedactedEvent), redacted
    assert redacted[0].reason == "typo"

    # bob leaves: gone from his joined rooms, alice sees the leave.
    ok(await bob.room_leave(room_id), RoomLeaveResponse)
    joined = ok(await bob.joined_rooms(), JoinedRoomsResponse)
    assert room_id not in joined.rooms
    await sync_until(bob, lambda r: room_id in r.rooms.leave, what="his own leave")
    await sync_until(
        alice,
        lambda r: any(
            isinstance(e, RoomMemberEvent) and e.state_key == bob_id and e.membership == "leave"
            for e in timeline(r, room_id)
        ),
        what="bob's leave",
    )
    # And bob can no longer send there.
    assert not isinstance(
        await bob.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "x"}),
        RoomSendResponse,
    )
