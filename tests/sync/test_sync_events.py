"""How events look in /sync, and who sees which: prev_content, redactions, history
visibility, bans, knocks, event_format."""

from __future__ import annotations

from typing import Any

from ..support.matrix_client import Server, User, q


def timeline(body: dict[str, Any], room_id: str, section: str = "join") -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = body["rooms"][section][room_id]["timeline"]["events"]
    return events


async def test_prev_content_of_replaced_state(alice: User) -> None:
    room = await alice.create_room()
    (await alice.put_state(room, "m.room.topic", {"topic": "first"})).ok()
    since = (await alice.sync())["next_batch"]
    (await alice.put_state(room, "m.room.topic", {"topic": "second"})).ok()
    (topic,) = timeline(await alice.sync(since), room)
    assert topic["content"] == {"topic": "second"}
    assert topic["unsigned"]["prev_content"] == {"topic": "first"}
    assert topic["unsigned"]["replaces_state"]
    assert topic["unsigned"]["prev_sender"] == alice.user_id


async def test_redacted_events_carry_the_redaction(alice: User) -> None:
    room = await alice.create_room()
    event_id = await alice.send(room, "oops")
    since = (await alice.sync())["next_batch"]
    reply = await alice.call("PUT", f"/rooms/{q(room)}/redact/{q(event_id)}/r1", {"reason": "x"})
    reply.ok()
    (redaction,) = timeline(await alice.sync(since), room)
    assert redaction["type"] == "m.room.redaction"
    events = timeline(await alice.sync(), room)
    redacted = next(e for e in events if e["event_id"] == event_id)
    assert redacted["content"] == {}
    assert redacted["unsigned"]["redacted_because"]["event_id"] == redaction["event_id"]


async def test_joined_history_visibility_hides_earlier_events(alice: User, bob: User) -> None:
    room = await alice.create_room(
        preset="public_chat",
        initial_state=[
            {"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}}
        ],
    )
    await alice.send(room, "before bob")
    since = (await bob.sync())["next_batch"]
    (await bob.join(room)).ok()
    await alice.send(room, "after bob")
    events = timeline(await bob.sync(since), room)
    texts = [e["content"].get("body") for e in events]
    assert "before bob" not in texts and "after bob" in texts
    assert "before bob" not in [e["content"].get("body") for e in timeline(await bob.sync(), room)]


async def test_ban_lands_in_leave(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    since = (await bob.sync())["next_batch"]
    reply = await alice.call("POST", f"/rooms/{q(room)}/ban", {"user_id": bob.user_id})
    reply.ok()
    body = await bob.sync(since)
    assert room not in body["rooms"]["join"]
    assert timeline(body, room, "leave")[-1]["content"]["membership"] == "ban"


async def test_knock_section(server: Server, alice: User, bob: User) -> None:
    room = await alice.create_room(
        preset="private_chat",
        name="Knock here",
        initial_state=[{"type": "m.room.join_rules", "content": {"join_rule": "knock"}}],
    )
    since = (await bob.sync())["next_batch"]
    (await bob.call("POST", f"/knock/{q(room)}", {"reason": "let me in"})).ok()
    body = await bob.sync(since)
    knock = body["rooms"]["knock"][room]["knock_state"]["events"]
    kinds = {(e["type"], e["state_key"]) for e in knock}
    assert {("m.room.create", ""), ("m.room.join_rules", ""), ("m.room.name", "")} <= kinds
    assert ("m.room.member", bob.user_id) in kinds
    # The room admin sees the knock in the timeline; accepting it (an invite) moves
    # the room to bob's invite section.
    (await alice.invite(room, bob.user_id)).ok()
    later = await bob.sync(body["next_batch"])
    assert room in later["rooms"]["invite"] and room not in later["rooms"]["knock"]


async def test_federation_event_format(alice: User) -> None:
    room = await alice.create_room()
    since = (await alice.sync())["next_batch"]
    await alice.send(room, "raw")
    (event,) = timeline(await alice.sync(since, filter={"event_format": "federation"}), room)
    assert {"auth_events", "prev_events", "depth", "hashes", "signatures"} <= set(event)
    assert event["room_id"] == room


async def test_timeline_types_filter_keeps_state_complete(alice: User) -> None:
    """Events a timeline filter leaves out still move the state forward."""
    room = await alice.create_room()
    since = (await alice.sync())["next_batch"]
    (await alice.put_state(room, "m.room.topic", {"topic": "changed quietly"})).ok()
    await alice.send(room, "visible")
    flt = {"room": {"timeline": {"types": ["m.room.message"]}}}
    r = (await alice.sync(since, filter=flt))["rooms"]["join"][room]
    assert [e["content"]["body"] for e in r["timeline"]["events"]] == ["visible"]
    assert [e["content"] for e in r["state"]["events"]] == [{"topic": "changed quietly"}]


async def test_events_while_away_stay_hidden(alice: User, bob: User) -> None:
    """Left and rejoined within one sync window, in a "joined" visibility room: what
    was said in between is not shown."""
    room = await alice.create_room(
        preset="public_chat",
        initial_state=[
            {"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}}
        ],
    )
    (await bob.join(room)).ok()
    since = (await bob.sync())["next_batch"]
    await alice.send(room, "while bob is here")
    (await bob.leave(room)).ok()
    await alice.send(room, "while bob is away")
    (await bob.join(room)).ok()
    await alice.send(room, "bob is back")
    texts = [e["content"].get("body") for e in timeline(await bob.sync(since), room)]
    assert "while bob is here" in texts and "bob is back" in texts
    assert "while bob is away" not in texts
