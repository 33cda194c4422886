"""Late joiners page back through history over federation; `joined`-only history stays
hidden from them.

spec: server-server "Backfilling and retrieving missing events"; client-server "History
visibility".
"""

from __future__ import annotations

from .client import MxUser, wait_until
from .conftest import Pair

BEFORE = 30


def test_late_joiner_pages_back_through_history(pair: Pair, room_version: str) -> None:
    alice = MxUser.register(pair.a, "alice")
    bob = MxUser.register(pair.b, "bob")
    room = alice.create_room(preset="public_chat", room_version=room_version)
    for i in range(BEFORE):
        alice.send_text(room, f"early {i:02d}")
    alice.put_state(room, "m.room.topic", {"topic": "history"})
    assert bob.join(room, via=alice.server_name) == room
    wait_until(lambda: bob.user_id in alice.joined_members(room), "bob's join at A")
    # `shared` history: every message before the join, in order, through /messages.
    expected = [f"early {i:02d}" for i in range(BEFORE)]
    wait_until(lambda: bob.texts(room, "early") == expected or None, "backfilled history at B")
    assert bob.get_state(room, "m.room.topic") == {"topic": "history"}


def test_joined_only_history_stays_hidden(pair: Pair, room_version: str) -> None:
    alice = MxUser.register(pair.a, "alice")
    bob = MxUser.register(pair.b, "bob")
    room = alice.create_room(
        preset="public_chat",
        room_version=room_version,
        initial_state=[
            {"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}}
        ],
    )
    for i in range(5):
        alice.send_text(room, f"secret {i}")
    assert bob.join(room, via=alice.server_name) == room
    wait_until(lambda: bob.user_id in alice.joined_members(room), "bob's join at A")
    # B pages back through the room (backfilling from A: those events come redacted
    # from a Concord A) and shows bob none of them.
    timeline = list(bob.messages(room))
    assert any(e.get("sender") == bob.user_id for e in timeline)
    assert bob.texts(room, "secret") == []
