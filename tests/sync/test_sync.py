"""``GET /sync`` as a client sees it: initial and incremental syncs, long-polling,
membership transitions, limited timelines and full state."""

from __future__ import annotations

import asyncio
from typing import Any

from homeserver.appkeys import NOTIFIER_KEY

from ..support.matrix_client import Server, User, q


def joined(body: dict[str, Any], room_id: str) -> dict[str, Any]:
    room: dict[str, Any] = body["rooms"]["join"][room_id]
    return room


def timeline_types(room: dict[str, Any]) -> list[str]:
    return [e["type"] for e in room["timeline"]["events"]]


def bodies(room: dict[str, Any]) -> list[str]:
    return [e["content"]["body"] for e in room["timeline"]["events"] if "body" in e["content"]]


async def test_initial_sync_shape(alice: User) -> None:
    room = await alice.create_room(name="Lobby")  # 7 events
    for i in range(4):
        await alice.send(room, f"m{i}")
    await alice.send(room, "hello")
    body = await alice.sync()
    assert body["next_batch"].startswith("s")
    assert body["to_device"] == {"events": []}
    # Syncing marks the user online; they see their own presence.
    (own,) = body["presence"]["events"]
    assert own["sender"] == alice.user_id and own["content"]["presence"] == "online"
    # spec: "Push Rules: Events" — the user's push rules are global account data.
    assert [e["type"] for e in body["account_data"]["events"]] == ["m.push_rules"]
    assert body["device_lists"] == {"changed": [], "left": []}
    # The usual algorithm's count even at zero (clients only upload keys on a count).
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 0}
    assert body["device_unused_fallback_key_types"] == []
    assert set(body["rooms"]) == {"join", "invite", "leave", "knock"}
    r = joined(body, room)
    assert set(r) >= {"timeline", "state", "account_data", "ephemeral", "summary"}
    assert r["unread_notifications"] == {"highlight_count": 0, "notification_count": 0}
    assert r["summary"]["m.joined_member_count"] == 1
    assert r["summary"]["m.invited_member_count"] == 0
    # Default limit 10: the room's last 10 events; the state section holds the state
    # at the start of the timeline (create, join, power levels...).
    events = r["timeline"]["events"]
    assert len(events) == 10 and r["timeline"]["limited"] is True
    assert events[-1]["content"]["body"] == "hello"
    assert events[-1]["unsigned"]["transaction_id"] == "t5"
    assert "room_id" not in events[-1]
    state_types = {e["type"] for e in r["state"]["events"]}
    assert {"m.room.create", "m.room.member"} <= state_types
    assert not {e["event_id"] for e in r["state"]["events"]} & {e["event_id"] for e in events}


async def test_incremental_sync_after_message(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    first = await bob.sync()
    await alice.send(room, "news")
    second = await bob.sync(first["next_batch"])
    r = joined(second, room)
    assert bodies(r) == ["news"]
    assert r["timeline"]["limited"] is False
    assert r["state"]["events"] == []
    assert "transaction_id" not in r["timeline"]["events"][0]["unsigned"]  # not bob's
    # Nothing new: an empty answer with the same position.
    third = await bob.sync(second["next_batch"])
    assert third["rooms"]["join"] == {}
    assert third["next_batch"] == second["next_batch"]


async def test_long_poll_wakes_on_send(server: Server, alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    since = (await bob.sync())["next_batch"]
    loop = asyncio.get_running_loop()
    poll = asyncio.create_task(bob.sync(since, timeout=10_000))
    notifier = server.app[NOTIFIER_KEY]
    while notifier.waiting == 0:
        await asyncio.sleep(0.005)
    await alice.send(room, "wake up")
    sent = loop.time()
    body = await poll
    # Woken by the send, not by the 10 s timeout (a bound with room for a loaded machine).
    assert loop.time() - sent < 2
    assert bodies(joined(body, room)) == ["wake up"]
    assert notifier.waiting == 0
    metrics = await (await server.http.get("/metrics")).text()
    assert "concord_sync_wakeups_total 1.0" in metrics
    assert "concord_sync_waiting 0.0" in metrics


async def test_shutdown_answers_parked_long_polls_at_once(
    server: Server, alice: User, bob: User
) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    since = (await bob.sync())["next_batch"]
    poll = asyncio.create_task(bob.sync(since, timeout=30_000))
    notifier = server.app[NOTIFIER_KEY]
    while notifier.waiting == 0:
        await asyncio.sleep(0.005)
    loop = asyncio.get_running_loop()
    stopping = loop.time()
    assert server.http.server is not None
    await asyncio.wait_for(server.http.server.stop(), 5)
    body = await asyncio.wait_for(poll, 5)
    # Answered (empty, at a token it may resume from), well before the drain's limit.
    assert loop.time() - stopping < 0.5
    assert body["next_batch"]
    assert notifier.waiting == 0


async def test_long_poll_times_out_empty(server: Server, alice: User) -> None:
    room = await alice.create_room()
    since = (await alice.sync())["next_batch"]
    other = await server.register("other")
    other_room = await other.create_room()
    loop = asyncio.get_running_loop()
    start = loop.time()
    poll = asyncio.create_task(alice.sync(since, timeout=300))
    await asyncio.sleep(0.05)
    await other.send(other_room, "not for alice")  # wakes nobody of alice's
    body = await poll
    assert 0.29 <= loop.time() - start < 3
    assert body["rooms"] == {"join": {}, "invite": {}, "leave": {}, "knock": {}}
    assert body["account_data"] == {"events": []}
    # The token may move on, but nothing of alice's room is skipped.
    await alice.send(room, "later")
    assert bodies(joined(await alice.sync(body["next_batch"]), room)) == ["later"]


async def test_invite_then_join(alice: User, bob: User) -> None:
    room = await alice.create_room(name="Secret", preset="private_chat")
    since = (await bob.sync())["next_batch"]
    (await alice.invite(room, bob.user_id)).ok()
    body = await bob.sync(since)
    invite = body["rooms"]["invite"][room]
    stripped = {(e["type"], e["state_key"]): e for e in invite["invite_state"]["events"]}
    assert set(stripped) >= {
        ("m.room.create", ""),
        ("m.room.join_rules", ""),
        ("m.room.name", ""),
        ("m.room.member", alice.user_id),
        ("m.room.member", bob.user_id),
    }
    assert stripped[("m.room.member", bob.user_id)]["content"]["membership"] == "invite"
    for event in stripped.values():  # spec "Stripped state": four keys only
        assert set(event) == {"type", "state_key", "content", "sender"}
    assert body["rooms"]["join"] == {}
    # An initial sync shows the invite too.
    assert room in (await bob.sync())["rooms"]["invite"]

    await alice.send(room, "before bob")
    (await bob.join(room)).ok()
    after = await bob.sync(body["next_batch"])
    assert room not in after["rooms"]["invite"]
    r = joined(after, room)
    # A new join gets the full state and the recent history (visibility "shared").
    state = {(e["type"], e["state_key"]) for e in r["state"]["events"]}
    timeline = {(e["type"], e.get("state_key")) for e in r["timeline"]["events"]}
    assert ("m.room.create", "") in state | timeline
    assert ("m.room.name", "") in state | timeline
    assert ("m.room.member", bob.user_id) in timeline
    assert "before bob" in bodies(r)
    assert r["summary"]["m.joined_member_count"] == 2


async def test_leave_section(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    since = (await bob.sync())["next_batch"]
    await alice.send(room, "bye soon")
    (await bob.leave(room)).ok()
    await alice.send(room, "after bob left")
    body = await bob.sync(since)
    assert room not in body["rooms"]["join"]
    left = body["rooms"]["leave"][room]
    events = left["timeline"]["events"]
    assert [e["type"] for e in events] == ["m.room.message", "m.room.member"]
    assert events[0]["content"]["body"] == "bye soon"
    assert events[-1]["type"] == "m.room.member"
    assert events[-1]["content"]["membership"] == "leave"
    assert "after bob left" not in bodies(left)
    # Later syncs say nothing more about the room.
    later = await bob.sync(body["next_batch"])
    assert room not in later["rooms"]["leave"]
    # An initial sync lists left rooms only when the filter asks for them.
    assert room not in (await bob.sync())["rooms"]["leave"]
    with_leave = await bob.sync(filter={"room": {"include_leave": True}})
    assert "after bob left" not in bodies(with_leave["rooms"]["leave"][room])
    # Once forgotten, the room is gone from sync even with include_leave.
    (await bob.call("POST", f"/rooms/{room}/forget", {})).ok()
    forgotten = await bob.sync(filter={"room": {"include_leave": True}})
    assert room not in forgotten["rooms"]["leave"]


async def test_rejected_invite_shows_only_the_leave(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="private_chat")
    (await alice.invite(room, bob.user_id)).ok()
    since = (await bob.sync())["next_batch"]
    await alice.send(room, "bob must not see this")
    (await bob.leave(room)).ok()  # rejects the invite
    left = (await bob.sync(since))["rooms"]["leave"][room]
    assert [e["type"] for e in left["timeline"]["events"]] == ["m.room.member"]
    assert left["state"]["events"] == []


async def test_limited_timeline_and_prev_batch(alice: User) -> None:
    room = await alice.create_room()
    since = (await alice.sync())["next_batch"]
    sent = [await alice.send(room, f"m{i}") for i in range(10)]
    body = await alice.sync(since, filter={"room": {"timeline": {"limit": 3}}})
    r = joined(body, room)
    assert r["timeline"]["limited"] is True
    assert bodies(r) == ["m7", "m8", "m9"]
    assert r["state"]["events"] == []  # no state changed in the gap
    # prev_batch is the gap before m7: GET /messages pages backwards from it.
    page = (
        await alice.call(
            "GET",
            f"/rooms/{q(room)}/messages",
            params={"from": r["timeline"]["prev_batch"], "dir": "b", "limit": "7"},
        )
    ).ok()
    assert [e["event_id"] for e in page["chunk"]] == list(reversed(sent[:7]))
    # Without the gap: not limited.
    r = joined(await alice.sync(since, filter={"room": {"timeline": {"limit": 10}}}), room)
    assert r["timeline"]["limited"] is False and len(bodies(r)) == 10


async def test_limited_gap_state_delta(alice: User) -> None:
    room = await alice.create_room()
    since = (await alice.sync())["next_batch"]
    (await alice.put_state(room, "m.room.topic", {"topic": "in the gap"})).ok()
    for i in range(3):
        await alice.send(room, f"m{i}")
    r = joined(await alice.sync(since, filter={"room": {"timeline": {"limit": 2}}}), room)
    assert r["timeline"]["limited"] is True
    assert bodies(r) == ["m1", "m2"]
    assert [e["content"] for e in r["state"]["events"] if e["type"] == "m.room.topic"] == [
        {"topic": "in the gap"}
    ]


async def test_full_state(alice: User) -> None:
    room = await alice.create_room(name="Full")
    since = (await alice.sync())["next_batch"]
    await alice.send(room, "one")
    body = await alice.sync(since, full_state=True, timeout=5000)
    r = joined(body, room)
    assert bodies(r) == ["one"]
    state = {e["type"] for e in r["state"]["events"]}
    assert {"m.room.create", "m.room.member", "m.room.power_levels", "m.room.name"} <= state
    # Nothing new at all: full_state still answers at once, with the room's state.
    again = await alice.sync(body["next_batch"], full_state=True, timeout=10_000)
    assert joined(again, room)["timeline"]["events"] == []
    assert len(joined(again, room)["state"]["events"]) >= 5


async def test_bad_parameters(alice: User) -> None:
    for params in (
        {"since": "nonsense"},
        {"timeout": "soon"},
        {"full_state": "maybe"},
        {"set_presence": "busy"},
        {"filter": "{not json"},
        {"filter": "12345"},
        {"filter": '{"room": {"timeline": {"limit": -1}}}'},
    ):
        reply = await alice.call("GET", "/sync", params=params)
        assert reply.status == 400, (params, reply)
    for presence in ("online", "offline", "unavailable"):
        assert (await alice.call("GET", "/sync", params={"set_presence": presence})).status == 200
    anonymous = await alice.http.get("/_matrix/client/v3/sync")
    assert anonymous.status == 401


async def test_limited_gap_across_a_state_snapshot(alice: User) -> None:
    """More state changes in the gap than a delta chain holds (a snapshot group is
    written): the delta is still exactly what changed."""
    room = await alice.create_room()
    since = (await alice.sync())["next_batch"]
    for i in range(36):
        (await alice.put_state(room, "org.example.counter", {"n": i}, state_key=str(i % 3))).ok()
    await alice.send(room, "m0")
    await alice.send(room, "m1")
    r = joined(await alice.sync(since, filter={"room": {"timeline": {"limit": 2}}}), room)
    assert bodies(r) == ["m0", "m1"]
    counters = {e["state_key"]: e["content"]["n"] for e in r["state"]["events"]}
    assert counters == {"0": 33, "1": 34, "2": 35}
    assert {e["type"] for e in r["state"]["events"]} == {"org.example.counter"}
