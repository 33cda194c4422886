"""``PUT /sendToDevice`` and ``to_device`` in ``/sync`` (spec: client-server
"Send-to-Device messaging"): each message reaches its device once."""

from __future__ import annotations

import asyncio
from typing import Any

from homeserver.api.client.e2ee_common import E2EE_KEY
from homeserver.appkeys import NOTIFIER_KEY, SYNC_HANDLER_KEY
from homeserver.e2ee.to_device import ToDeviceStream
from homeserver.sync.handler import SyncRequest
from homeserver.sync.tokens import StreamToken

from ..support.matrix_client import Server, User, q


async def send(user: User, txn_id: str, messages: dict[str, Any], kind: str = "m.test") -> Any:
    return await user.call("PUT", f"/sendToDevice/{q(kind)}/{q(txn_id)}", {"messages": messages})


def events(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["to_device"]["events"])


async def test_delivered_once_and_acknowledged_by_the_next_sync(alice: User, bob: User) -> None:
    since = (await bob.sync())["next_batch"]
    (await send(alice, "t1", {bob.user_id: {bob.device_id: {"n": 1}}})).ok()
    (await send(alice, "t2", {bob.user_id: {bob.device_id: {"n": 2}}})).ok()
    first = await bob.sync(since)
    assert events(first) == [
        {"sender": alice.user_id, "type": "m.test", "content": {"n": 1}},
        {"sender": alice.user_id, "type": "m.test", "content": {"n": 2}},
    ]
    # Until the client uses the token that carried them, they are delivered again.
    assert [e["content"] for e in events(await bob.sync(since))] == [{"n": 1}, {"n": 2}]
    assert [e["content"] for e in events(await bob.sync())] == [{"n": 1}, {"n": 2}]
    # Syncing with the next_batch acknowledges them: never again, not even from scratch.
    second = await bob.sync(first["next_batch"])
    assert events(second) == []
    assert events(await bob.sync(since)) == []
    assert events(await bob.sync()) == []
    # The sender gets nothing.
    assert events(await alice.sync()) == []


async def test_txn_id_is_idempotent_per_device(server: Server, alice: User, bob: User) -> None:
    for _ in range(2):
        (await send(alice, "same", {bob.user_id: {bob.device_id: {"n": 1}}})).ok()
    # Another device of the sender may use the same transaction id.
    login = (await server.login("alice")).ok()
    other = User(alice.http, alice.user_id, login["access_token"], login["device_id"])
    (await send(other, "same", {bob.user_id: {bob.device_id: {"n": 2}}})).ok()
    assert [e["content"] for e in events(await bob.sync())] == [{"n": 1}, {"n": 2}]
    # A day later the transaction id is forgotten (retries come within minutes).
    server.clock.advance(25 * 60 * 60 * 1000)
    (await send(alice, "other", {bob.user_id: {bob.device_id: {"n": 3}}})).ok()
    (await send(alice, "same", {bob.user_id: {bob.device_id: {"n": 4}}})).ok()
    assert [e["content"]["n"] for e in events(await bob.sync())] == [1, 2, 3, 4]


async def test_star_reaches_every_device_and_unknown_devices_nothing(
    server: Server, alice: User, bob: User
) -> None:
    login = (await server.login("bob")).ok()
    laptop = User(bob.http, bob.user_id, login["access_token"], login["device_id"])
    (
        await send(
            alice,
            "t1",
            {bob.user_id: {"*": {"to": "all"}, laptop.device_id: {"to": "laptop"}}},
        )
    ).ok()
    (await send(alice, "t2", {bob.user_id: {"NOPE": {"to": "nobody"}}})).ok()
    assert [e["content"] for e in events(await bob.sync())] == [{"to": "all"}]
    assert [e["content"] for e in events(await laptop.sync())] == [{"to": "laptop"}]
    # A remote user's messages are dropped for now (no federation): still a 200.
    (await send(alice, "t3", {"@x:elsewhere.example": {"D": {}}})).ok()


async def test_a_message_wakes_the_long_poll(server: Server, alice: User, bob: User) -> None:
    since = (await bob.sync())["next_batch"]
    poll = asyncio.create_task(bob.sync(since, timeout=10_000))
    notifier = server.app[NOTIFIER_KEY]
    while notifier.waiting == 0:
        await asyncio.sleep(0.005)
    (await send(alice, "t1", {bob.user_id: {bob.device_id: {"hi": True}}})).ok()
    body = await asyncio.wait_for(poll, 5)
    assert [e["content"] for e in events(body)] == [{"hi": True}]


async def test_at_most_100_per_sync(alice: User, bob: User) -> None:
    since = (await bob.sync())["next_batch"]
    for i in range(130):
        (await send(alice, f"t{i}", {bob.user_id: {bob.device_id: {"n": i}}})).ok()
    first = await bob.sync(since)
    assert [e["content"]["n"] for e in events(first)] == list(range(100))
    second = await bob.sync(first["next_batch"], timeout=0)
    assert [e["content"]["n"] for e in events(second)] == list(range(100, 130))
    assert events(await bob.sync(second["next_batch"])) == []


async def test_bad_requests_change_nothing(alice: User, bob: User) -> None:
    for body, errcode in [
        ({}, "M_BAD_JSON"),
        ({"messages": []}, "M_BAD_JSON"),
        ({"messages": {"bob": {}}}, "M_INVALID_PARAM"),
        ({"messages": {bob.user_id: []}}, "M_BAD_JSON"),
        ({"messages": {bob.user_id: {bob.device_id: "hi"}}}, "M_BAD_JSON"),
    ]:
        reply = await alice.call("PUT", "/sendToDevice/m.test/bad", body)
        assert (reply.status, reply.errcode) == (400, errcode), body
    # The transaction id of a refused request is still free.
    (await send(alice, "bad", {bob.user_id: {bob.device_id: {"ok": 1}}}, "m.test")).ok()
    assert [e["content"] for e in events(await bob.sync())] == [{"ok": 1}]


async def test_waiting_messages_survive_a_restart(server: Server, alice: User, bob: User) -> None:
    """A fresh stream (as after a restart) learns from the database which devices have
    messages waiting, and from where its positions go on."""
    since = StreamToken.parse((await bob.sync())["next_batch"])
    (await send(alice, "t1", {bob.user_id: {bob.device_id: {"n": 1}}})).ok()
    old = server.app[E2EE_KEY].to_device
    fresh = ToDeviceStream(old.store, old.notifier, server.clock, old.server_name)
    await fresh.start()
    assert fresh.position() == old.position() > since.to_device
    assert fresh.has_news(bob.user_id, bob.device_id, frozenset(), since)
    assert not fresh.has_news(alice.user_id, alice.device_id, frozenset(), since)
    handler = server.app[SYNC_HANDLER_KEY]
    result = await handler.current_sync(SyncRequest(bob.user_id, bob.device_id, since=since))
    assert [e["content"] for e in result.to_device] == [{"n": 1}]
