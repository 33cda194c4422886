"""Ephemeral EDUs both ways (spec: server-server "Typing Notifications", "Receipts",
"Presence", "Send-to-device messaging"): what a remote server receives when local users
act, and what local users see in ``/sync`` when a remote server sends EDUs (handed to
``EduRegistry.handle`` as the inbound ``/send`` does)."""

from __future__ import annotations

import asyncio
from typing import Any

from federation.sender.sender import FederationSender
from homeserver.appkeys import STORE_KEY

from ..support.matrix_client import SERVER, User, q
from .sender_fixtures import REMOTE, FakePeers, FedServer
from .sender_fixtures import fed as fed
from .sender_fixtures import make_fed_server as make_fed_server
from .sender_fixtures import peers as peers

ROB = f"@rob:{REMOTE}"


async def room_with_rob(fed: FedServer, *locals_: User) -> str:
    room = await locals_[0].create_room(preset="public_chat")
    for user in locals_[1:]:
        (await user.join(room)).ok()
    await fed.remote_join(room, ROB)
    return room


def edus_to(peers: FakePeers, edu_type: str) -> list[dict[str, Any]]:
    return [c for s in peers.to(REMOTE) for c in s.edus(edu_type)]


def ephemeral(body: dict[str, Any], room: str, edu_type: str) -> list[dict[str, Any]]:
    events = body["rooms"]["join"].get(room, {}).get("ephemeral", {}).get("events", [])
    return [e["content"] for e in events if e["type"] == edu_type]


# -- registry --------------------------------------------------------------------------


async def test_unknown_and_malformed_edus_are_dropped_quietly(fed: FedServer) -> None:
    await fed.edus.handle(REMOTE, {"edu_type": "m.unheard_of", "content": {}})
    await fed.edus.handle(REMOTE, {"edu_type": "m.typing", "content": "not an object"})
    await fed.edus.handle(REMOTE, {"edu_type": "m.typing", "content": {"room_id": 5}})
    await fed.edus.handle(REMOTE, {"content": {}})
    await fed.edus.handle(REMOTE, {"edu_type": "m.receipt", "content": {"!r:x": []}})
    await fed.edus.handle(REMOTE, {"edu_type": "m.presence", "content": {"push": 3}})
    await fed.edus.handle(REMOTE, {"edu_type": "m.direct_to_device", "content": {}})


# -- typing ----------------------------------------------------------------------------


async def test_local_typing_goes_to_the_room_servers(fed: FedServer, peers: FakePeers) -> None:
    alice = await fed.server.register("alice")
    room = await room_with_rob(fed, alice)
    path = f"/rooms/{q(room)}/typing/{q(alice.user_id)}"
    (await alice.call("PUT", path, {"typing": True, "timeout": 20_000})).ok()
    await peers.wait_for(lambda: bool(edus_to(peers, "m.typing")), what="typing")
    (await alice.call("PUT", path, {"typing": False})).ok()
    await peers.wait_for(lambda: len(edus_to(peers, "m.typing")) == 2, what="stopped typing")
    assert edus_to(peers, "m.typing") == [
        {"room_id": room, "user_id": alice.user_id, "typing": True},
        {"room_id": room, "user_id": alice.user_id, "typing": False},
    ]


async def test_remote_typing_shows_to_local_members(fed: FedServer) -> None:
    bob = await fed.server.register("bob")
    room = await room_with_rob(fed, bob)
    since = (await bob.sync())["next_batch"]
    edu = {"edu_type": "m.typing", "content": {"room_id": room, "user_id": ROB, "typing": True}}
    await fed.edus.handle(REMOTE, edu)
    body = await bob.sync(since)
    assert ephemeral(body, room, "m.typing") == [{"user_ids": [ROB]}]
    edu["content"] = {**edu["content"], "typing": False}
    await fed.edus.handle(REMOTE, edu)
    assert ephemeral(await bob.sync(body["next_batch"]), room, "m.typing") == [{"user_ids": []}]


async def test_typing_is_refused_from_another_server_or_for_a_non_member(
    fed: FedServer, peers: FakePeers
) -> None:
    bob = await fed.server.register("bob")
    room = await room_with_rob(fed, bob)
    since = (await bob.sync())["next_batch"]
    # Not the user's server; a user of the right server who is not in the room.
    forged = {"room_id": room, "user_id": ROB, "typing": True}
    await fed.edus.handle("evil.test", {"edu_type": "m.typing", "content": forged})
    outsider = {"room_id": room, "user_id": f"@ray:{REMOTE}", "typing": True}
    await fed.edus.handle(REMOTE, {"edu_type": "m.typing", "content": outsider})
    body = await bob.sync(since, timeout=0)
    assert ephemeral(body, room, "m.typing") == []
    await asyncio.sleep(0.05)
    assert edus_to(peers, "m.typing") == []  # remote typing is never sent on


# -- receipts --------------------------------------------------------------------------


async def test_public_receipts_go_out_private_ones_do_not(fed: FedServer, peers: FakePeers) -> None:
    alice = await fed.server.register("alice")
    room = await room_with_rob(fed, alice)
    first = await alice.send(room, "one")
    second = await alice.send(room, "two")
    private = f"/rooms/{q(room)}/receipt/m.read.private/{q(first)}"
    (await alice.call("POST", private, {})).ok()
    public = f"/rooms/{q(room)}/receipt/m.read/{q(second)}"
    (await alice.call("POST", public, {"thread_id": "main"})).ok()
    await peers.wait_for(lambda: bool(edus_to(peers, "m.receipt")), what="a receipt")
    await asyncio.sleep(0.05)
    [content] = edus_to(peers, "m.receipt")
    entry = content[room]["m.read"][alice.user_id]
    assert entry["event_ids"] == [second]
    assert entry["data"]["thread_id"] == "main" and isinstance(entry["data"]["ts"], int)
    # The receipt came after the event it is about.
    sent = [s for s in peers.to(REMOTE)]
    at_receipt = next(i for i, s in enumerate(sent) if s.edus("m.receipt"))
    assert any(
        p["content"].get("body") == "two" for s in sent[: at_receipt + 1] for p in s.body["pdus"]
    )


async def test_remote_receipts_show_to_local_members(fed: FedServer) -> None:
    bob = await fed.server.register("bob")
    room = await room_with_rob(fed, bob)
    event_id = await bob.send(room, "read me")
    since = (await bob.sync())["next_batch"]
    content = {
        room: {
            "m.read": {
                ROB: {"event_ids": [event_id], "data": {"ts": 1234}},
                f"@mallory:{SERVER}": {"event_ids": [event_id], "data": {"ts": 1}},
            }
        }
    }
    await fed.edus.handle(REMOTE, {"edu_type": "m.receipt", "content": content})
    receipts = ephemeral(await bob.sync(since), room, "m.receipt")
    assert receipts == [{event_id: {"m.read": {ROB: {"ts": 1234}}}}]


# -- presence --------------------------------------------------------------------------


async def test_local_presence_goes_to_servers_sharing_a_room(
    fed: FedServer, peers: FakePeers
) -> None:
    alice = await fed.server.register("alice")
    await room_with_rob(fed, alice)
    path = f"/presence/{q(alice.user_id)}/status"
    (await alice.call("PUT", path, {"presence": "online", "status_msg": "here"})).ok()
    await peers.wait_for(lambda: bool(edus_to(peers, "m.presence")), what="presence")
    [item] = edus_to(peers, "m.presence")[-1]["push"]
    assert item["user_id"] == alice.user_id and item["presence"] == "online"
    assert item["status_msg"] == "here" and isinstance(item["last_active_ago"], int)
    (await alice.call("PUT", path, {"presence": "busy"})).ok()
    await peers.wait_for(lambda: len(edus_to(peers, "m.presence")) >= 2, what="busy")
    [busy] = edus_to(peers, "m.presence")[-1]["push"]
    assert busy["presence"] == "online"  # busy is not a federation state


async def test_remote_presence_shows_to_users_sharing_a_room(fed: FedServer) -> None:
    bob = await fed.server.register("bob")
    await room_with_rob(fed, bob)
    since = (await bob.sync())["next_batch"]
    push = [
        {"user_id": ROB, "presence": "unavailable", "last_active_ago": 5000, "status_msg": "afk"},
        {"user_id": f"@nobody:{REMOTE}", "presence": "online", "last_active_ago": 0},
        {"user_id": f"@carol:{SERVER}", "presence": "online", "last_active_ago": 0},
    ]
    await fed.edus.handle(REMOTE, {"edu_type": "m.presence", "content": {"push": push}})
    body = await bob.sync(since)
    seen = {e["sender"]: e["content"] for e in body["presence"]["events"]}
    assert set(seen) - {bob.user_id} == {ROB}
    assert seen[ROB]["presence"] == "unavailable" and seen[ROB]["status_msg"] == "afk"
    assert seen[ROB]["last_active_ago"] >= 5000
    reply = await bob.call("GET", f"/presence/{q(ROB)}/status")
    assert reply.ok()["presence"] == "unavailable"


# -- to-device -------------------------------------------------------------------------


async def test_to_device_messages_for_remote_users_go_out_once(
    fed: FedServer, peers: FakePeers
) -> None:
    alice = await fed.server.register("alice")
    body = {"messages": {ROB: {"RDEV": {"secret": 1}}, alice.user_id: {"*": {"secret": 2}}}}
    path = "/sendToDevice/m.test/txn1"
    (await alice.call("PUT", path, body)).ok()
    await peers.wait_for(lambda: bool(edus_to(peers, "m.direct_to_device")), what="to-device")
    (await alice.call("PUT", path, body)).ok()  # a client retry: the same message
    await asyncio.sleep(0.1)
    [content] = edus_to(peers, "m.direct_to_device")
    assert content["sender"] == alice.user_id and content["type"] == "m.test"
    assert content["messages"] == {ROB: {"RDEV": {"secret": 1}}}
    assert isinstance(content["message_id"], str) and 0 < len(content["message_id"]) <= 32
    # The local device got its copy.
    to_device = (await alice.sync()).get("to_device", {}).get("events", [])
    assert [e["content"] for e in to_device] == [{"secret": 2}]


async def test_to_device_messages_survive_an_outage_and_a_restart(
    fed: FedServer, peers: FakePeers
) -> None:
    alice = await fed.server.register("alice")
    fed.sender.backoff = fed.sender.backoff.__class__(min_ms=3_600_000, jitter=0.0)
    peers.down[REMOTE] = None
    for n in range(3):
        body = {"messages": {ROB: {"RDEV": {"n": n}}}}
        (await alice.call("PUT", f"/sendToDevice/m.test/t{n}", body)).ok()
    await peers.wait_for(lambda: len(peers.attempts) >= 1, what="an attempt")
    await asyncio.sleep(0.05)
    await fed.sender.stop()
    del peers.down[REMOTE]
    restarted = FederationSender(
        server_name=SERVER,
        store=fed.server.app[STORE_KEY],
        client=peers,
        clock=fed.server.clock,
    )
    await restarted.start()
    try:
        restarted.on_destination_seen(REMOTE)
        await peers.wait_for(
            lambda: len(edus_to(peers, "m.direct_to_device")) == 3, what="the messages"
        )
        got = [c["messages"][ROB]["RDEV"]["n"] for c in edus_to(peers, "m.direct_to_device")]
        assert got == [0, 1, 2]
        store = fed.server.app[STORE_KEY]

        async def emptied() -> bool:
            return await store.federation_sender.outbox(REMOTE, 10) == []

        for _ in range(100):
            if await emptied():
                break
            await asyncio.sleep(0.01)
        assert await emptied()
    finally:
        await restarted.stop()


async def test_remote_to_device_messages_reach_local_devices_once(fed: FedServer) -> None:
    bob = await fed.server.register("bob")
    since = (await bob.sync())["next_batch"]
    content = {
        "sender": ROB,
        "type": "m.room_key_request",
        "message_id": "abc123",
        "messages": {
            bob.user_id: {bob.device_id: {"action": "request"}},
            f"@elsewhere:{REMOTE}": {"X": {"ignored": True}},
        },
    }
    edu = {"edu_type": "m.direct_to_device", "content": content}
    await fed.edus.handle(REMOTE, edu)
    await fed.edus.handle(REMOTE, edu)  # a retried transaction: delivered once
    forged = {**content, "message_id": "other", "sender": f"@mallory:{SERVER}"}
    await fed.edus.handle(REMOTE, {"edu_type": "m.direct_to_device", "content": forged})
    body = await bob.sync(since)
    events = body.get("to_device", {}).get("events", [])
    assert events == [
        {"sender": ROB, "type": "m.room_key_request", "content": {"action": "request"}}
    ]
