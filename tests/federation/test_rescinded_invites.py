"""An invite withdrawn by the inviting server reaches the invitee's server.

spec: server-server "Inviting to a room" and client-server "Leaving rooms" (a kick of an
invited user rescinds the invite): the invitee's server holds the invite as an outlier
with stripped state only, and is not in the room; the inviting server must still send it
the rescinding ``leave``, and the invitee's server accepts it for its invited user.
"""

from __future__ import annotations

from typing import Any

from ..support.federation import StartFederation
from ..support.matrix_client import User, q
from ..support.waiting import until


INCLUDE_LEAVE = {"room": {"include_leave": True}}


async def _rooms(user: User, section: str, since: str | None = None) -> dict[str, Any]:
    sync = await user.sync(since, timeout=0, filter=INCLUDE_LEAVE)
    rooms: dict[str, Any] = sync.get("rooms", {}).get(section, {})
    return rooms


async def test_rescinded_invite_leaves_the_invitees_sync(federation: StartFederation) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="private_chat")
    (await alice.invite(room_id, bob.user_id)).ok()
    first = await bob.sync(timeout=0)
    assert room_id in first["rooms"]["invite"]
    (await alice.act("kick", room_id, bob.user_id, reason="changed my mind")).ok()

    async def left() -> dict[str, Any] | None:
        return (await _rooms(bob, "leave", first["next_batch"])).get(room_id)

    gone = await until(left, "the rescinded invite reaching bob's server")
    leave = [e for e in gone["timeline"]["events"] if e["type"] == "m.room.member"]
    assert [(e["sender"], e["content"]["membership"]) for e in leave] == [
        (alice.user_id, "leave")
    ]
    assert room_id not in await _rooms(bob, "invite")
    assert room_id in await _rooms(bob, "leave")
