"""Membership PDUs about our users in rooms we are not in: a withdrawn invite, a
refused knock.

Our user's invite (or knock) is all we hold of such a room: an outlier with stripped
state, no room state. When the inviting server withdraws the invite (spec: client-server
"Leaving rooms" — a kick of an invited user rescinds the invite), it sends the ``leave``
to us because the event is about our user (spec: server-server "Inviting to a room"),
yet we cannot auth it: the auth events it names (power levels, the sender's membership)
are not ours to fetch while we are not in the room. So, like Synapse does, we accept it
as an outlier on narrower grounds than the auth rules, checked here:

- its signatures and content hash verify (the caller checked the signatures);
- it is a ``leave`` or ``ban`` of our user, sent by someone else, from the server of its
  sender (no relaying: the server speaking for the room is the one that signed);
- our user is currently ``invite`` or ``knock`` there, and that membership event is among
  its auth events (it withdraws the very invite we hold, not some other one);
- its origin may speak for the room: the server that sent the invite, or the server of
  the room's creator (the room id's server before room version 12; from v12 the sender
  of a create event whose id the room id names, carried in the stripped state we keep
  with the invite or knock).

Anything else about our users in such a room is refused with a reason (the transaction
answer's ``error``) and changes nothing: an arbitrary server cannot drop our invites.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

from homeserver.logs import fields
from homeserver.protocol.errors import InvalidEvent
from homeserver.protocol.events import Event
from homeserver.protocol.signing import check_content_hash
from homeserver.rooms.remote_events import RemoteEvents, create_event_id
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage import room_reads
from homeserver.storage.store import Store

log = logging.getLogger(__name__)

# Our user's membership that only exists outside the room (an outlier we hold).
PENDING = ("invite", "knock")
# What the room may turn that membership into while we are not in it.
WITHDRAWALS = ("leave", "ban")


def server_of(user_id: str) -> str:
    """The server part of a user id ("" for something that is not one)."""
    return user_id.partition(":")[2] if user_id.startswith("@") else ""


class OutOfRoomMemberships:
    def __init__(
        self, store: Store, rooms: RoomStateCache, remote: RemoteEvents, server_name: str
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.remote = remote
        self.server_name = server_name

    async def claims(self, event: Event) -> bool:
        """Whether ``event`` is a membership event about one of our users in a room none
        of our users is joined to (then ``accept`` decides, not the pipeline)."""
        if event.type != "m.room.member" or event.state_key is None:
            return False
        if server_of(event.state_key) != self.server_name:
            return False
        return not await self._joined_here(event.room_id)

    async def accept(self, origin: str, event: Event) -> str | None:
        """Store a withdrawal of our user's invite or knock (see the module's rules);
        the error to report for the PDU, or None when accepted (or held already)."""
        if await self.store.events.get_event(event.event_id) is not None:
            return None  # e.g. the invite itself, which its server also sends us
        reason = await self._refusal(origin, event)
        if reason is not None:
            log.info(
                "refused out-of-room membership",
                extra=fields(event_id=event.event_id, origin=origin, reason=reason),
            )
            return reason
        await self.remote.persist_membership_outlier(event)
        log.info(
            "invite or knock withdrawn",
            extra=fields(event_id=event.event_id, room_id=event.room_id, origin=origin),
        )
        return None

    async def _refusal(self, origin: str, event: Event) -> str | None:
        target = event.state_key or ""
        if event.membership not in WITHDRAWALS:
            return f"we are not in {event.room_id}: only a withdrawn invite or knock is accepted"
        if event.sender == target:
            return "a leave of our own user is ours to make"
        if server_of(event.sender) != origin:
            return f"{origin} may not relay {event.sender}'s event into a room we are not in"
        if not check_content_hash(event):
            return "the event's content hash does not match"
        row = await self.store.db.read(room_reads.local_membership, target, event.room_id)
        if row is None or row[0] not in PENDING:
            return f"{target} holds no invite or knock in {event.room_id}"
        membership, pending_id, _ = row
        if pending_id not in event.auth_event_ids:
            return f"the event does not withdraw {target}'s current {membership}"
        pending = (await self.rooms.get_events([pending_id])).get(pending_id)
        if pending is None:
            return f"{target}'s {membership} is not stored"
        allowed = self._creator_servers(event.room_id, pending)
        if membership == "invite":
            allowed.add(server_of(pending.sender))
        if origin not in allowed:
            return f"{origin} did not send the {membership} and did not create the room"
        return None

    def _creator_servers(self, room_id: str, pending: Event) -> set[str]:
        """The server(s) of the room's creator, as far as we can tell without its state."""
        version = pending.room_version
        if not version.room_id_from_create_event:
            # spec: auth rules (v1-v11) — a create event's sender shares the room id's server.
            return {room_id.partition(":")[2]}
        expected = create_event_id(pending)
        servers: set[str] = set()
        for pdu in _stripped_state(pending.pdu):
            if pdu.get("type") != "m.room.create":
                continue
            try:
                create = Event(pdu, version)
            except InvalidEvent:
                continue
            # rooms/v12: the room id names its create event, so this one is genuine;
            # its ``additional_creators`` are creators too.
            if create.event_id == expected:
                extra = create.content.get("additional_creators")
                others = [u for u in extra if isinstance(u, str)] if isinstance(extra, list) else []
                servers |= {server_of(u) for u in [create.sender, *others]}
        return servers

    async def _joined_here(self, room_id: str) -> bool:
        info = await self.rooms.room(room_id)
        if info is None or not info.state:
            return False
        local = [
            event_id
            for (kind, key), event_id in info.state.items()
            if kind == "m.room.member" and server_of(key) == self.server_name
        ]
        members = await self.rooms.get_events(local)
        return any(e.membership == "join" for e in members.values())


def _stripped_state(pdu: Mapping[str, Any]) -> Collection[Mapping[str, Any]]:
    """The stripped state we keep with our invite or knock (spec: v2 invite
    ``invite_room_state``, ``send_knock`` ``knock_room_state``)."""
    unsigned = pdu.get("unsigned")
    if not isinstance(unsigned, dict):
        return []
    state = unsigned.get("invite_room_state", unsigned.get("knock_room_state"))
    return [e for e in state if isinstance(e, dict)] if isinstance(state, list) else []
