"""Joining, leaving and knocking through a resident server: the two-step handshakes.

spec: server-server "Joining Rooms", "Leaving Rooms (Rejecting Invites)" and "Knocking
upon a room". The resident server answers ``make_<membership>`` with an unsigned
template of the membership event; the joining server completes and signs it and hands
it back with ``send_<membership>``. This module plays both parts: ``HandshakeServer``
for peers joining our rooms, ``HandshakeClient`` for our users joining theirs.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.protocol.canonical import JsonDict
from homeserver.protocol.errors import InvalidEvent, SignatureError
from homeserver.protocol.events import Event
from homeserver.protocol.federation_pdu import pdu_for_federation
from homeserver.protocol.room_versions import (
    KNOWN_ROOM_VERSIONS,
    EventIdFormat,
    RoomVersion,
    room_version,
)
from homeserver.protocol.signing import SigningKey, check_content_hash, hash_and_sign_event
from homeserver.rooms.bus import PersistedEvent
from homeserver.rooms.pipeline import EventPipeline
from homeserver.rooms.remote_events import RemoteEvents, StateAt
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage.store import Store

from .client import FederationClient, FederationRequestError, fed_path
from .event_fetch import EventChecker, parse_pdu

log = logging.getLogger(__name__)

MEMBERSHIPS = ("join", "leave", "knock")
SUPPORTED_VERSIONS = tuple(KNOWN_ROOM_VERSIONS)


def _bad(message: str) -> MatrixError:
    return MatrixError(400, "M_BAD_JSON", message)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A remote user's membership event, persisted in one of our rooms."""

    persisted: PersistedEvent
    state_before: dict[tuple[str, str], str]


class HandshakeServer:
    """The resident side: templates for remote users, and their signed events."""

    def __init__(
        self,
        pipeline: EventPipeline,
        rooms: RoomStateCache,
        remote: RemoteEvents,
        checker: EventChecker,
        signing_key: SigningKey,
    ) -> None:
        self.pipeline = pipeline
        self.rooms = rooms
        self.remote = remote
        self.checker = checker
        self.signing_key = signing_key
        self.server_name = signing_key.server_name
        # Set by the membership handler: a local member who vouches for a restricted
        # join (spec: client-server "Restricted rooms"), or None.
        self.authoriser: Any = None

    async def make(
        self,
        origin: str,
        membership: str,
        room_id: str,
        user_id: str,
        versions: Sequence[str],
    ) -> JsonDict:
        """spec: ``GET /make_join``, ``/make_leave``, ``/make_knock``."""
        if user_id.partition(":")[2] != origin:
            raise MatrixError(403, "M_FORBIDDEN", f"{origin} cannot act for {user_id}")
        info = await self.rooms.room(room_id)
        if info is None or not info.state:
            raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
        if membership in ("join", "knock") and info.version.identifier not in versions:
            raise MatrixError(
                400,
                "M_INCOMPATIBLE_ROOM_VERSION",
                f"room version {info.version.identifier} is not supported by {origin}",
                room_version=info.version.identifier,
            )
        if membership == "knock" and not info.version.knock_join_rule:
            raise MatrixError(
                400,
                "M_INCOMPATIBLE_ROOM_VERSION",
                "this room version does not allow knocking",
                room_version=info.version.identifier,
            )
        content: dict[str, Any] = {"membership": membership}
        if membership == "join" and self.authoriser is not None:
            current = await self.rooms.state_events(room_id, [("m.room.member", user_id)])
            member = current.get(("m.room.member", user_id))
            if member is None or member.membership not in ("invite", "join"):
                vouching = await self.authoriser(room_id, user_id)
                if vouching is not None:
                    content["join_authorised_via_users_server"] = vouching
        version, proto = await self.pipeline.template(
            room_id, user_id, "m.room.member", content, user_id
        )
        return {"event": proto, "room_version": version.identifier}

    async def send(
        self, origin: str, membership: str, room_id: str, event_id: str, body: object
    ) -> tuple[Event, Accepted]:
        """spec: ``PUT /send_join``, ``/send_leave``, ``/send_knock`` — the signed event
        checked and persisted; 403 when the rules refuse it."""
        info = await self.rooms.room(room_id)
        if info is None or not info.state:
            raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
        try:
            event = parse_pdu(body, info.version)
        except InvalidEvent as exc:
            raise _bad(f"invalid event: {exc}") from exc
        if event.event_id != event_id or event.room_id != room_id:
            raise _bad("the event's id or room does not match the path")
        if (
            event.type != "m.room.member"
            or event.state_key != event.sender
            or event.membership != membership
        ):
            raise _bad(f"not an m.room.member event with membership {membership}")
        if event.origin != origin:
            raise MatrixError(403, "M_FORBIDDEN", f"{origin} cannot send events of {event.sender}")
        vouching = event.content.get("join_authorised_via_users_server")
        if membership == "join" and isinstance(vouching, str) and self.pipeline.is_local(vouching):
            # spec: "Restricted rooms" — the authorising server signs the join.
            event = Event(
                hash_and_sign_event(event.pdu, self.signing_key, info.version), info.version
            )
        try:
            await self.checker.keyring.verify_event(event)
        except SignatureError as exc:
            raise MatrixError(403, "M_FORBIDDEN", f"bad signature: {exc}") from exc
        if not check_content_hash(event):
            raise _bad("the event's content hash does not match")
        persisted = await self.remote.accept(event, federate=False)
        stored = await self.remote.store.events.get_event(event.event_id)
        if stored is None or stored.rejected_reason is not None or stored.outlier:
            reason = stored.rejected_reason if stored is not None else "not stored"
            raise MatrixError(403, "M_FORBIDDEN", f"the event is not allowed: {reason}")
        state: dict[tuple[str, str], str] = {}
        if stored.state_group_before is not None:
            state = dict(await self.remote.store.state.load_state_group(stored.state_group_before))
        return event, Accepted(persisted, state)

    async def state_and_auth_chain(
        self, state: dict[tuple[str, str], str], event: Event
    ) -> tuple[list[JsonDict], list[JsonDict]]:
        """The PDUs of a state and of the auth chain of it and of ``event``."""
        state_events = await self.rooms.get_events(list(state.values()))
        chain_ids = {a for e in state_events.values() for a in e.auth_event_ids}
        chain_ids.update(event.auth_event_ids)
        chain = await self.remote.auth_closure(sorted(chain_ids))
        return (
            [pdu_for_federation(e.pdu) for e in state_events.values()],
            [pdu_for_federation(e.pdu) for e in chain.values()],
        )


class HandshakeClient:
    """Our users joining, leaving and knocking on rooms that live elsewhere."""

    def __init__(
        self,
        client: FederationClient,
        checker: EventChecker,
        remote: RemoteEvents,
        signing_key: SigningKey,
        clock: Clock,
        store: Store,
    ) -> None:
        self.client = client
        self.checker = checker
        self.remote = remote
        self.signing_key = signing_key
        self.server_name = signing_key.server_name
        self.clock = clock
        self.store = store

    async def _make(
        self, server: str, membership: str, room_id: str, user_id: str
    ) -> tuple[RoomVersion, JsonDict]:
        query: dict[str, Any] = {}
        if membership != "leave":
            query["ver"] = list(SUPPORTED_VERSIONS)
        body = await self.client.get_json(
            server,
            fed_path(f"/_matrix/federation/v1/make_{membership}/{{}}/{{}}", room_id, user_id),
            query or None,
        )
        if not isinstance(body, dict) or not isinstance(body.get("event"), dict):
            raise FederationRequestError(None, None, f"make_{membership}: no event template")
        version_id = body.get("room_version", "1")
        try:
            version = room_version(version_id)
        except (InvalidEvent, KeyError, ValueError) as exc:
            raise FederationRequestError(
                None, None, f"unsupported room version {version_id}"
            ) from exc
        return version, dict(body["event"])

    def _complete(
        self,
        version: RoomVersion,
        proto: JsonDict,
        room_id: str,
        user_id: str,
        membership: str,
        content: dict[str, Any],
    ) -> Event:
        """Our event from a resident server's template: checked, completed, signed."""
        if (
            proto.get("room_id") != room_id
            or proto.get("sender") != user_id
            or proto.get("state_key") != user_id
            or proto.get("type") != "m.room.member"
        ):
            raise FederationRequestError(None, None, "the template is for another event")
        template_content = proto.get("content")
        merged = dict(template_content) if isinstance(template_content, dict) else {}
        merged.update(content)
        merged["membership"] = membership
        pdu = {k: v for k, v in proto.items() if k not in ("hashes", "signatures", "unsigned")}
        pdu["content"] = merged
        pdu["origin_server_ts"] = self.clock.time_ms()
        if "origin" in pdu:
            pdu["origin"] = self.server_name
        if version.event_id_format is EventIdFormat.V1:
            pdu["event_id"] = f"${secrets.token_urlsafe(12)}:{self.server_name}"
        try:
            return Event(hash_and_sign_event(pdu, self.signing_key, version), version)
        except InvalidEvent as exc:
            raise FederationRequestError(None, None, f"bad template: {exc}") from exc

    async def join(
        self, servers: Collection[str], room_id: str, user_id: str, content: dict[str, Any]
    ) -> PersistedEvent:
        """Join through the first of ``servers`` that lets us; the room's state and
        auth chain are stored, and the join becomes our room's first timeline event."""
        errors: list[str] = []
        unreachable = True
        for server in _candidates(servers, self.server_name):
            try:
                return await self._join_via(server, room_id, user_id, content)
            except FederationRequestError as exc:
                log.info(
                    "remote join failed",
                    extra=fields(room_id=room_id, server=server, error=str(exc)),
                )
                errors.append(f"{server}: {exc}")
                if exc.status == 403 and exc.errcode == "M_FORBIDDEN":
                    raise MatrixError(403, "M_FORBIDDEN", f"{server} refused: {exc}") from exc
                unreachable = unreachable and exc.status in (None, 404)
        if not errors or unreachable:
            # No server we could reach knows the room.
            detail = "; ".join(errors) or "no server to ask"
            raise MatrixError(404, "M_NOT_FOUND", f"Room not found ({detail})")
        raise MatrixError(502, "M_UNKNOWN", "Could not join: " + "; ".join(errors))

    async def _join_via(
        self, server: str, room_id: str, user_id: str, content: dict[str, Any]
    ) -> PersistedEvent:
        version, proto = await self._make(server, "join", room_id, user_id)
        event = self._complete(version, proto, room_id, user_id, "join", content)
        body = await self.client.put_json(
            server,
            fed_path("/_matrix/federation/v2/send_join/{}/{}", room_id, event.event_id),
            event.pdu,
            {"omit_members": "false"},
        )
        if not isinstance(body, dict):
            raise FederationRequestError(None, None, "send_join: not a JSON object")
        signed = body.get("event")
        if isinstance(signed, dict):
            # spec: restricted joins — the resident server's signature is added.
            try:
                returned = await self.checker.checked_one(version, signed)
            except (InvalidEvent, SignatureError) as exc:
                raise FederationRequestError(None, None, f"bad signed join: {exc}") from exc
            if returned.event_id == event.event_id:
                event = returned
        state_pdus = body.get("state")
        chain_pdus = body.get("auth_chain")
        if not isinstance(state_pdus, list) or not isinstance(chain_pdus, list):
            raise FederationRequestError(None, None, "send_join: no state or auth chain")
        state = await self.checker.checked(version, state_pdus)
        chain = await self.checker.checked(version, chain_pdus)
        rejected = await self.remote.persist_outliers(version, room_id, [*chain, *state])
        state_map = {
            e.state_tuple: e.event_id
            for e in state
            if e.state_key is not None and e.event_id not in rejected
        }
        if ("m.room.create", "") not in state_map:
            raise FederationRequestError(None, None, "send_join: the state has no create event")
        persisted = await self.remote.accept(event, state_before=StateAt(state_map), rejoin=True)
        stored = await self.store.events.get_event(event.event_id)
        if stored is None or stored.rejected_reason is not None:
            reason = stored.rejected_reason if stored else "not stored"
            raise MatrixError(403, "M_FORBIDDEN", f"our join was not allowed: {reason}")
        return persisted

    async def leave_or_knock(
        self,
        membership: str,
        servers: Collection[str],
        room_id: str,
        user_id: str,
        content: dict[str, Any],
    ) -> Event:
        """Send a leave (rejecting an invite, retracting a knock) or a knock through a
        resident server; returns our signed event."""
        errors: list[str] = []
        for server in _candidates(servers, self.server_name):
            try:
                version, proto = await self._make(server, membership, room_id, user_id)
                event = self._complete(version, proto, room_id, user_id, membership, content)
                answer = await self.client.put_json(
                    server,
                    fed_path(
                        f"/_matrix/federation/v{'1' if membership == 'knock' else '2'}"
                        f"/send_{membership}/{{}}/{{}}",
                        room_id,
                        event.event_id,
                    ),
                    event.pdu,
                )
                return _with_knock_room_state(event, answer) if membership == "knock" else event
            except FederationRequestError as exc:
                errors.append(f"{server}: {exc}")
        raise MatrixError(502, "M_UNKNOWN", f"Could not {membership}: " + "; ".join(errors))


def _with_knock_room_state(event: Event, answer: object) -> Event:
    """Our knock carrying the room's stripped state from the ``send_knock`` answer, kept
    in its (local) ``unsigned`` as a remote invite keeps ``invite_room_state``: from room
    version 12 its create event names the room's creator (``federation.out_of_room``)."""
    stripped = answer.get("knock_room_state") if isinstance(answer, dict) else None
    if not isinstance(stripped, list):
        return event
    pdu = {**event.pdu, "unsigned": {"knock_room_state": stripped}}
    return Event(pdu, event.room_version, event_id=event.event_id)


def _candidates(servers: Collection[str], ourselves: str) -> list[str]:
    return [s for s in dict.fromkeys(servers) if s and s != ourselves]
