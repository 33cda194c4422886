"""Withdrawn invites and refused knocks reach the server of the user they are about,
which is not in the room (it only holds the invite or knock): Synapse and Concord both
ways (refused knocks between Concords only: Synapse does not send or take those).

spec: server-server "Inviting to a room"; client-server "Leaving rooms" (a kick of an
invited user rescinds the invite). The inviting server sends the ``leave`` to the
invitee's server, which shows the room under ``leave`` and drops the invite.
"""

from __future__ import annotations

import pytest

from .client import JsonDict, MxUser, q, room_section
from .conftest import Pair
from .test_membership import invited, wait_membership


def _left(room: str, sender: MxUser):  # type: ignore[no-untyped-def]
    """A /sync check: ``room`` under ``leave``, with the membership ``sender`` made."""

    def check(batch: JsonDict) -> JsonDict | None:
        left = room_section(batch, room, "leave")
        for ev in left.get("timeline", {}).get("events", []):
            if ev.get("type") == "m.room.member" and ev.get("sender") == sender.user_id:
                return ev  # type: ignore[no-any-return]
        return None

    return check


def _listed(user: MxUser, room: str, section: str) -> bool:
    """Whether a fresh (initial) /sync lists ``room`` in ``section``."""
    batch = user.ok("GET", "/sync", query={"timeout": "0"})
    return bool(room_section(batch, room, section))


def test_rescinded_invite(pair: Pair, room_version: str) -> None:
    alice = MxUser.register(pair.a, "alice")
    bob = MxUser.register(pair.b, "bob")
    room = alice.create_room(preset="private_chat", room_version=room_version)
    alice.membership_call(room, "invite", user_id=bob.user_id)
    bob.sync_until(invited(room), f"invite to {room}")
    alice.membership_call(room, "kick", user_id=bob.user_id, reason="sent by mistake")
    leave = bob.sync_until(_left(room, alice), f"{room} under leave for {bob.user_id}")
    assert leave["content"]["membership"] == "leave", leave
    assert leave["state_key"] == bob.user_id, leave
    assert not _listed(bob, room, "invite")
    # Invited again, Bob can take the new invite.
    alice.membership_call(room, "invite", user_id=bob.user_id)
    bob.sync_until(invited(room), f"second invite to {room}")
    assert bob.join(room, via=alice.server_name) == room
    wait_membership(alice, room, bob, "join")


def test_refused_knock(pair: Pair, room_version: str) -> None:
    # Synapse 1.163 neither sends a refused knock to the knocker's server nor takes one.
    if "synapse" in (pair.a.kind, pair.b.kind):
        pytest.skip("Synapse handles withdrawn invites only, not refused knocks")
    alice = MxUser.register(pair.a, "alice")
    bob = MxUser.register(pair.b, "bob")
    room = alice.create_room(
        room_version=room_version,
        initial_state=[{"type": "m.room.join_rules", "content": {"join_rule": "knock"}}],
    )
    bob.ok("POST", f"/knock/{q(room)}", {}, query={"server_name": alice.server_name}, timeout=60)
    bob.sync_until(lambda b: room_section(b, room, "knock") or None, f"knock on {room}")
    wait_membership(alice, room, bob, "knock")
    alice.membership_call(room, "kick", user_id=bob.user_id, reason="not now")
    bob.sync_until(_left(room, alice), f"{room} under leave for {bob.user_id}")
    assert not _listed(bob, room, "knock")
