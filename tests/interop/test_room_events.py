"""Room events across federation: create on side A, join from side B, then messages,
reactions, edits, redactions, power-level and topic changes, each seen on the other side;
``joined_members`` agree at the end."""

from __future__ import annotations

import functools

from .client import MxUser, q, room_section, wait_until
from .conftest import Pair


def shared_room(pair: Pair, room_version: str) -> tuple[MxUser, MxUser, str]:
    """alice on A creates a public room of ``room_version``; bob on B joins it over federation."""
    alice = MxUser.register(pair.a, "alice")
    bob = MxUser.register(pair.b, "bob")
    room = alice.create_room(preset="public_chat", room_version=room_version, name="interop")
    assert bob.join(room, via=alice.server_name) == room
    wait_until(lambda: bob.user_id in alice.joined_members(room), "bob's join at A")
    # and B is done joining: Synapse shows a room joined with partial state (a "faster
    # join") in /sync only once it has the full state, and drops typing EDUs until then
    bob.sync_until(lambda batch: room_section(batch, room) or None, f"{room} in bob's sync")
    return alice, bob, room


def assert_members_agree(room: str, *users: MxUser) -> None:
    expected = {u.user_id for u in users}

    def agree(user: MxUser) -> bool:
        return user.joined_members(room) == expected

    for user in users:
        wait_until(functools.partial(agree, user), f"members at {user}")


def test_create_join_and_messages(pair: Pair, room_version: str) -> None:
    alice, bob, room = shared_room(pair, room_version)
    create = bob.get_state(room, "m.room.create")
    assert create is not None and create.get("room_version", "1") == room_version
    assert bob.get_state(room, "m.room.name") == {"name": "interop"}

    from_a = alice.send_text(room, "hello from A")
    assert bob.wait_for_event(room, from_a)["content"]["body"] == "hello from A"
    from_b = bob.send_text(room, "hello from B")
    seen = alice.wait_for_event(room, from_b)
    assert (seen["sender"], seen["content"]["body"]) == (bob.user_id, "hello from B")
    # both sides list both messages in the same order
    for user in (alice, bob):
        assert user.texts(room, "hello from") == ["hello from A", "hello from B"]
    assert_members_agree(room, alice, bob)


def test_reactions_edits_redactions(pair: Pair, room_version: str) -> None:
    alice, bob, room = shared_room(pair, room_version)
    original = alice.send_text(room, "original text")
    bob.wait_for_event(room, original)

    reaction = bob.send(
        room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": original, "key": "👍"}},
    )
    got = alice.wait_for_event(room, reaction)
    assert got["content"]["m.relates_to"] == {
        "rel_type": "m.annotation",
        "event_id": original,
        "key": "👍",
    }

    edit = alice.send(
        room,
        "m.room.message",
        {
            "msgtype": "m.text",
            "body": "* edited text",
            "m.new_content": {"msgtype": "m.text", "body": "edited text"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": original},
        },
    )
    assert bob.wait_for_event(room, edit)["content"]["m.new_content"]["body"] == "edited text"
    # the edit is known as a relation of the original on B
    path = f"/_matrix/client/v1/rooms/{q(room)}/relations/{q(original)}/m.replace"
    relations = bob.ok("GET", path)
    assert [ev["event_id"] for ev in relations["chunk"]] == [edit]

    # B redacts its own reaction, A redacts its own message: each side sees both redacted
    redact_reaction = bob.ok(
        "PUT", f"/rooms/{q(room)}/redact/{q(reaction)}/r1", {"reason": "oops"}
    )["event_id"]
    redact_original = alice.ok("PUT", f"/rooms/{q(room)}/redact/{q(original)}/r2", {})["event_id"]
    for user, redaction in ((alice, redact_reaction), (bob, redact_original)):
        user.wait_for_event(room, redaction)

    def redacted(user: MxUser, event_id: str) -> bool:
        return (user.event(room, event_id) or {}).get("content") == {}

    for user in (alice, bob):
        for target in (reaction, original):
            wait_until(functools.partial(redacted, user, target), f"{target} redacted at {user}")
    assert_members_agree(room, alice, bob)


def test_power_levels_and_topic(pair: Pair, room_version: str) -> None:
    alice, bob, room = shared_room(pair, room_version)
    # bob may not set the topic in a public_chat room (state_default 50) ...
    status, body = bob.call("PUT", f"/rooms/{q(room)}/state/m.room.topic/", {"topic": "by bob"})
    assert status == 403, body
    # ... until alice, on the other server, gives him power
    levels = alice.get_state(room, "m.room.power_levels")
    levels["users"][bob.user_id] = 50
    pl_event = alice.put_state(room, "m.room.power_levels", levels)
    bob.wait_for_event(room, pl_event)
    assert bob.get_state(room, "m.room.power_levels")["users"][bob.user_id] == 50

    topic = bob.put_state(room, "m.room.topic", {"topic": "set by bob"})
    alice.wait_for_event(room, topic)
    assert alice.get_state(room, "m.room.topic") == {"topic": "set by bob"}
    topic2 = alice.put_state(room, "m.room.topic", {"topic": "set by alice"})
    bob.wait_for_event(room, topic2)
    assert bob.get_state(room, "m.room.topic") == {"topic": "set by alice"}

    # and alice takes it back: bob's next topic change is refused
    levels["users"].pop(bob.user_id)
    demote = alice.put_state(room, "m.room.power_levels", levels)
    bob.wait_for_event(room, demote)
    status, body = bob.call("PUT", f"/rooms/{q(room)}/state/m.room.topic/", {"topic": "again"})
    assert status == 403, body
    assert_members_agree(room, alice, bob)
