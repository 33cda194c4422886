"""Invites across servers.

spec: server-server "Inviting to a room": the inviting server sends the invite event to
the invitee's server (``PUT /_matrix/federation/v2/invite/{roomId}/{eventId}``) with the
room's stripped state; that server signs it and gives it back, and only then is it sent
into the room. ``InviteServer`` is the invitee's side, ``InviteClient`` the inviter's.
"""

from __future__ import annotations

import logging
from typing import Any

from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.protocol.canonical import JsonDict
from homeserver.protocol.errors import InvalidEvent, SignatureError
from homeserver.protocol.events import Event
from homeserver.protocol.federation_pdu import pdu_for_federation
from homeserver.protocol.room_versions import KNOWN_ROOM_VERSIONS, room_version
from homeserver.protocol.signing import SigningKey, check_content_hash, hash_and_sign_event
from homeserver.rooms.remote_events import MissingEvents, RemoteEvents
from homeserver.rooms.room_state import RoomInfo, RoomStateCache

from .client import FederationClient, FederationRequestError, fed_path
from .event_fetch import EventChecker, parse_pdu

log = logging.getLogger(__name__)

# spec: client-server "Stripped state" — what an invitee may see of the room.
STRIPPED_STATE_TYPES = (
    "m.room.create",
    "m.room.join_rules",
    "m.room.canonical_alias",
    "m.room.avatar",
    "m.room.name",
    "m.room.encryption",
    "m.room.topic",
    "m.room.history_visibility",
    "m.room.guest_access",
)


class InviteServer:
    def __init__(
        self,
        remote: RemoteEvents,
        rooms: RoomStateCache,
        checker: EventChecker,
        signing_key: SigningKey,
    ) -> None:
        self.remote = remote
        self.rooms = rooms
        self.checker = checker
        self.signing_key = signing_key
        self.server_name = signing_key.server_name

    async def on_invite(self, origin: str, room_id: str, event_id: str, body: object) -> JsonDict:
        """spec: ``PUT /_matrix/federation/v2/invite/{roomId}/{eventId}``."""
        if not isinstance(body, dict):
            raise MatrixError(400, "M_BAD_JSON", "expected a JSON object")
        version_id = body.get("room_version")
        if version_id not in KNOWN_ROOM_VERSIONS:
            raise MatrixError(
                400,
                "M_INCOMPATIBLE_ROOM_VERSION",
                f"room version {version_id!r} is not supported",
                room_version=version_id if isinstance(version_id, str) else None,
            )
        version = room_version(version_id)
        pdu = body.get("event")
        if not isinstance(pdu, dict):
            raise MatrixError(400, "M_BAD_JSON", "`event` must be an object")
        stripped = body.get("invite_room_state")
        if version.room_id_from_create_event and not (
            isinstance(stripped, list)
            and any(isinstance(e, dict) and e.get("type") == "m.room.create" for e in stripped)
        ):
            # spec: v2 invite — SHOULD be refused from room version 12 on.
            raise MatrixError(400, "M_INVALID_PARAM", "invite_room_state has no m.room.create")
        pdu = dict(pdu)
        if isinstance(stripped, list):
            unsigned = dict(pdu.get("unsigned") or {})
            unsigned["invite_room_state"] = stripped
            pdu["unsigned"] = unsigned
        try:
            event = parse_pdu(pdu, version)
        except InvalidEvent as exc:
            raise MatrixError(400, "M_BAD_JSON", f"invalid event: {exc}") from exc
        if event.event_id != event_id or event.room_id != room_id:
            raise MatrixError(400, "M_BAD_JSON", "the event's id or room does not match the path")
        target = event.state_key or ""
        if event.type != "m.room.member" or event.membership != "invite":
            raise MatrixError(400, "M_BAD_JSON", "not an invite")
        if target.partition(":")[2] != self.server_name:
            raise MatrixError(400, "M_BAD_JSON", f"{target} is not a user of this server")
        if event.origin != origin:
            raise MatrixError(403, "M_FORBIDDEN", f"{origin} cannot send events of {event.sender}")
        try:
            await self.checker.keyring.verify_event(event)
        except SignatureError as exc:
            raise MatrixError(403, "M_FORBIDDEN", f"bad signature: {exc}") from exc
        if not check_content_hash(event):
            raise MatrixError(400, "M_BAD_JSON", "the event's content hash does not match")
        # spec: "the invited homeserver ... adds its own signature".
        signed = Event(hash_and_sign_event(event.pdu, self.signing_key, version), version)
        await self._store(signed)
        return {"event": pdu_for_federation(signed.pdu)}

    async def _store(self, event: Event) -> None:
        info = await self.rooms.room(event.room_id)
        if info is not None and info.state:
            # We are in the room: the invite is a timeline event like any other.
            try:
                await self.remote.accept(event)
                return
            except MissingEvents:
                pass
        if await self.remote.store.events.get_event(event.event_id) is None:
            await self.remote.persist_membership_outlier(event)
        log.info("remote invite", extra=fields(event_id=event.event_id, room_id=event.room_id))


class InviteClient:
    def __init__(
        self, client: FederationClient, checker: EventChecker, rooms: RoomStateCache
    ) -> None:
        self.client = client
        self.checker = checker
        self.rooms = rooms

    async def invite(self, event: Event, info: RoomInfo) -> Event:
        """Our invite of a remote user, countersigned by their server (the pipeline's
        ``remote_invite``); 403 when that server refuses it."""
        target = event.state_key or ""
        destination = target.partition(":")[2]
        body: dict[str, Any] = {
            "room_version": info.version.identifier,
            "event": pdu_for_federation(event.pdu),
            "invite_room_state": await self._stripped_state(info, event),
        }
        try:
            answer = await self.client.put_json(
                destination,
                fed_path("/_matrix/federation/v2/invite/{}/{}", info.room_id, event.event_id),
                body,
            )
        except FederationRequestError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                raise MatrixError(403, "M_FORBIDDEN", f"{destination} refused: {exc}") from exc
            raise MatrixError(502, "M_UNKNOWN", f"could not reach {destination}: {exc}") from exc
        returned = answer.get("event") if isinstance(answer, dict) else None
        try:
            signed = await self.checker.checked_one(info.version, returned)
        except (InvalidEvent, SignatureError) as exc:
            raise MatrixError(502, "M_UNKNOWN", f"{destination} sent back a bad invite") from exc
        if signed.event_id != event.event_id:
            raise MatrixError(502, "M_UNKNOWN", f"{destination} changed the invite")
        if destination not in signed.pdu.get("signatures", {}):
            raise MatrixError(502, "M_UNKNOWN", f"{destination} did not sign the invite")
        return Event(pdu_for_federation(signed.pdu), info.version)

    async def _stripped_state(self, info: RoomInfo, event: Event) -> list[JsonDict]:
        keys = [(t, "") for t in STRIPPED_STATE_TYPES]
        keys.append(("m.room.member", event.sender))
        found = await self.rooms.state_events(info.room_id, keys)
        # spec: v2 invite "invite_room_state" — full PDUs, the create event among them.
        return [pdu_for_federation(e.pdu) for e in found.values()]
