"""Two Concord servers sharing a room (joined over federation): what the sender delivers
as users of either side see it — messages, typing, receipts, presence — and catch-up
after the link between them was down (spec: server-server "Transactions", "Typing
Notifications", "Receipts", "Presence"; the receiver fills the gap with
``/get_missing_events``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from federation.appkeys import FEDERATION_SENDER_KEY
from federation.client import FederationRequestError

from ..support.federation import FederatedServer, StartFederation
from ..support.matrix_client import User, q
from ..support.waiting import until
from .sender_fixtures import FAST

pytestmark = pytest.mark.parametrize("version", ["10", "11", "12"])


async def bodies(user: User, room_id: str) -> list[str]:
    reply = await user.messages(room_id, dir="b", limit=100)
    chunk = reply.ok()["chunk"]
    return [e["content"]["body"] for e in reversed(chunk) if e["type"] == "m.room.message"]


async def joined_pair(
    federation: StartFederation, version: str
) -> tuple[FederatedServer, FederatedServer, User, User, str]:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="public_chat", room_version=version)
    (await bob.call("POST", f"/join/{q(room_id)}", {}, params={"via": a.name})).ok()
    return a, b, alice, bob, room_id


async def test_messages_go_both_ways(federation: StartFederation, version: str) -> None:
    _, _, alice, bob, room_id = await joined_pair(federation, version)
    await alice.send(room_id, "from alice")
    await until(lambda: _has(bob, room_id, "from alice"), "alice's message at B", timeout=15.0)
    await bob.send(room_id, "from bob")
    await until(lambda: _has(alice, room_id, "from bob"), "bob's message at A", timeout=15.0)


async def _has(user: User, room_id: str, body: str) -> bool:
    return body in await bodies(user, room_id)


async def _contains(found: Callable[[], Awaitable[list[str]]], item: str) -> list[str] | None:
    items = await found()
    return items if item in items else None


async def test_typing_receipts_and_presence_reach_the_other_server(
    federation: StartFederation, version: str
) -> None:
    _, _, alice, bob, room_id = await joined_pair(federation, version)
    since = (await bob.sync())["next_batch"]
    typing = f"/rooms/{q(room_id)}/typing/{q(alice.user_id)}"
    (await alice.call("PUT", typing, {"typing": True, "timeout": 30_000})).ok()

    async def bob_sees_typing() -> bool:
        body = await bob.sync(since, timeout=0)
        room = body["rooms"]["join"].get(room_id, {})
        events = room.get("ephemeral", {}).get("events", [])
        return any(
            e["type"] == "m.typing" and alice.user_id in e["content"]["user_ids"] for e in events
        )

    await until(bob_sees_typing, "alice typing, at B", timeout=15.0)

    event_id = await alice.send(room_id, "read this")
    await until(lambda: _has(bob, room_id, "read this"), "the message at B", timeout=15.0)
    (await bob.call("POST", f"/rooms/{q(room_id)}/receipt/m.read/{q(event_id)}", {})).ok()

    async def alice_sees_receipt() -> bool:
        body = await alice.sync()
        room = body["rooms"]["join"].get(room_id, {})
        for e in room.get("ephemeral", {}).get("events", []):
            if e["type"] == "m.receipt" and bob.user_id in e["content"].get(event_id, {}).get(
                "m.read", {}
            ):
                return True
        return False

    await until(alice_sees_receipt, "bob's receipt at A", timeout=15.0)

    status = f"/presence/{q(alice.user_id)}/status"
    (await alice.call("PUT", status, {"presence": "online", "status_msg": "around"})).ok()

    async def bob_sees_presence() -> bool:
        reply = await bob.call("GET", f"/presence/{q(alice.user_id)}/status")
        return reply.status == 200 and reply.body.get("status_msg") == "around"

    await until(bob_sees_presence, "alice's presence at B", timeout=15.0)


class Partition:
    """The network between our sender and one peer, cut or restored at will."""

    def __init__(self, server: FederatedServer, peer: str) -> None:
        self.sender = server.app[FEDERATION_SENDER_KEY]
        self.inner = self.sender.ctx.client
        self.peer = peer
        self.cut = False
        self.sent: list[dict[str, Any]] = []
        self.sender.ctx.client = self

    async def put_json(
        self, destination: str, path: str, body: Any, query: Any = None, *, timeout: float = 60.0
    ) -> Any:
        if self.cut and destination == self.peer:
            raise FederationRequestError(None, None, "network partition (test)")
        answer = await self.inner.put_json(destination, path, body, query, timeout=timeout)
        if destination == self.peer:
            self.sent.append(body)
        return answer


async def test_a_peer_back_after_an_outage_catches_up(
    federation: StartFederation, version: str
) -> None:
    a, b, alice, bob, room_id = await joined_pair(federation, version)
    link = Partition(a, b.name)
    link.sender.backoff = FAST.__class__(min_ms=3_600_000, max_ms=7_200_000, jitter=0.0)
    await alice.send(room_id, "before")
    await until(lambda: _has(bob, room_id, "before"), "the first message at B", timeout=15.0)
    link.cut = True
    for n in range(5):
        await alice.send(room_id, f"during {n}")
    await asyncio.sleep(0.2)
    assert not await _has(bob, room_id, "during 4")  # B is cut off, A backs off for an hour
    link.cut = False
    # B speaks to A (a transaction of its own): A stops backing off and catches B up,
    # sending only the newest event; B fetches the rest with /get_missing_events.
    await bob.send(room_id, "anyone there?")

    async def caught_up() -> list[str]:
        return [p["content"].get("body") for body in link.sent for p in body["pdus"]]

    sent = await until(
        lambda: _contains(caught_up, "during 4"), "the catch-up from A", timeout=15.0
    )
    assert "during 0" not in sent and "during 3" not in sent
    await until(lambda: _has(bob, room_id, "during 4"), "the catch-up at B", timeout=15.0)
    assert [f"during {n}" for n in range(5)] == [
        m for m in await bodies(bob, room_id) if m.startswith("during")
    ]
