"""History across federation: a server joining a room with 500 earlier messages paginates
all of them (backfill), and 50 messages sent while a server was down all arrive, in
order, once it is back (catch-up, missing events, backfill)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .client import MxUser, Peer, wait_until
from .conftest import Pair
from .test_room_events import assert_members_agree, shared_room

HISTORY = [f"history {i}" for i in range(500)]
# (server name, room version) -> (alice, room with HISTORY): each server and room version
# makes the room once per session (500 sends on Synapse take ~12 s); every other server
# joining it is new to it, as each pair's side B differs for the same side A.
_history_rooms: dict[tuple[str, str], tuple[MxUser, str]] = {}


def history_room(peer: Peer, room_version: str) -> tuple[MxUser, str]:
    key = (peer.server_name, room_version)
    if key not in _history_rooms:
        alice = MxUser.register(peer, "alice")
        room = alice.create_room(preset="public_chat", room_version=room_version)
        for text in HISTORY:
            alice.send_text(room, text)
        _history_rooms[key] = (alice, room)
    return _history_rooms[key]


def test_join_then_paginate_500_earlier_messages(pair: Pair, room_version: str) -> None:
    alice, room = history_room(pair.a, room_version)
    bob = MxUser.register(pair.b, "bob")
    expected = HISTORY

    bob.join(room, via=alice.server_name)
    # B's server has (at most) the latest events; the rest come by backfill while paging
    assert bob.texts(room, "history ") == expected
    assert alice.texts(room, "history ") == expected
    # (the room may have members from other pairs' runs: both sides list the same ones)
    wait_until(
        lambda: alice.joined_members(room) == bob.joined_members(room) >= {bob.user_id},
        "joined_members to agree",
    )


@contextlib.contextmanager
def stopped(peer: Peer) -> Iterator[None]:
    """The peer is stopped inside the block and running again after it, even on failure
    (the peers are shared by the whole session)."""
    peer.stop()
    try:
        yield
    finally:
        if not peer.running:
            peer.start()


def test_messages_sent_while_peer_down_arrive_in_order(pair: Pair, room_version: str) -> None:
    alice, bob, room = shared_room(pair, room_version)
    before = alice.send_text(room, "gap before")
    bob.wait_for_event(room, before)

    expected = [f"gap {i}" for i in range(50)]
    with stopped(pair.b):
        for text in expected:
            alice.send_text(room, text)

    # bob is back and says so: his server's /send to A's tells A that B is up again
    back = bob.send_text(room, "back again")
    alice.wait_for_event(room, back)
    wait_until(lambda: bob.texts(room, "gap ")[-50:] == expected or None, "the 50 messages at B")
    assert bob.texts(room, "gap ") == ["gap before", *expected]
    assert_members_agree(room, alice, bob)
