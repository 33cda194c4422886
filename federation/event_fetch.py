"""Events received from other servers: checked, and fetched when we lack them.

spec: server-server "Checks performed on receipt of a PDU", steps 1 to 3: an event that
is not valid for its room version, or whose signatures do not verify, is dropped; one
whose content hash does not match is redacted and then handled as usual. The rest
(auth, state, soft failure) is ``homeserver.rooms.remote_events``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from homeserver.logs import fields
from homeserver.protocol.errors import InvalidEvent, SignatureError
from homeserver.protocol.events import Event
from homeserver.protocol.redaction import redact
from homeserver.protocol.room_versions import RoomVersion
from homeserver.protocol.signing import check_content_hash

from .client import FederationClient, FederationRequestError, fed_path
from .keyring import Keyring

log = logging.getLogger(__name__)

# Fetches of single events run at most this many at once per call.
_PARALLEL_FETCHES = 10


def parse_pdu(pdu: object, version: RoomVersion) -> Event:
    """A PDU as an event of ``version`` with its size limits checked; local-only
    ``unsigned`` data a peer may have left in is not kept. Raises ``InvalidEvent``."""
    if not isinstance(pdu, Mapping):
        raise InvalidEvent("a PDU must be a JSON object")
    data = dict(pdu)
    unsigned = data.pop("unsigned", None)
    if isinstance(unsigned, dict) and isinstance(unsigned.get("invite_room_state"), list):
        # Kept: a remote invite's stripped state is what the invitee sees of the room.
        data["unsigned"] = {"invite_room_state": unsigned["invite_room_state"]}
    event = Event(data, version)
    event.check_size_limits()
    return event


class EventChecker:
    """Steps 1 to 3 of the PDU checks for batches of events."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    async def checked(self, version: RoomVersion, pdus: Iterable[object]) -> list[Event]:
        """The PDUs that are valid events with good signatures, redacted where their
        content hash fails; the others are logged and left out."""
        events: list[Event] = []
        for pdu in pdus:
            try:
                events.append(parse_pdu(pdu, version))
            except InvalidEvent as exc:
                log.info("dropped invalid PDU", extra=fields(error=str(exc)))
        if not events:
            return []
        failures = await self.keyring.verify_events(events)
        good: list[Event] = []
        for event in events:
            error = failures.get(event.event_id)
            if error is not None:
                log.info(
                    "dropped PDU with bad signatures",
                    extra=fields(event_id=event.event_id, error=str(error)),
                )
                continue
            good.append(self.hash_checked(event))
        return good

    async def checked_one(self, version: RoomVersion, pdu: object) -> Event:
        """One PDU, checked; raises ``InvalidEvent`` or ``SignatureError``."""
        event = parse_pdu(pdu, version)
        await self.keyring.verify_event(event)
        return self.hash_checked(event)

    @staticmethod
    def hash_checked(event: Event) -> Event:
        if check_content_hash(event):
            return event
        # spec: "If the hash check fails, the event is redacted before being processed".
        log.info("redacting event whose content hash fails", extra=fields(event_id=event.event_id))
        return Event(redact(event.pdu, event.room_version), event.room_version)


class EventFetcher:
    """What we lack of a room, asked of a server in it."""

    def __init__(self, client: FederationClient, checker: EventChecker) -> None:
        self.client = client
        self.checker = checker

    async def events(
        self, destination: str, version: RoomVersion, event_ids: Sequence[str]
    ) -> list[Event]:
        """``GET /event/{eventId}`` for each id; those a peer cannot give are left out."""
        semaphore = asyncio.Semaphore(_PARALLEL_FETCHES)

        async def one(event_id: str) -> list[Any]:
            async with semaphore:
                try:
                    body = await self.client.get_json(
                        destination, fed_path("/_matrix/federation/v1/event/{}", event_id)
                    )
                except FederationRequestError as exc:
                    log.info(
                        "could not fetch event",
                        extra=fields(event_id=event_id, destination=destination, error=str(exc)),
                    )
                    return []
            pdus = body.get("pdus") if isinstance(body, dict) else None
            return [p for p in pdus if isinstance(p, dict)] if isinstance(pdus, list) else []

        batches = await asyncio.gather(*(one(e) for e in dict.fromkeys(event_ids)))
        wanted = set(event_ids)
        checked = await self.checker.checked(version, [p for batch in batches for p in batch])
        return [e for e in checked if e.event_id in wanted]

    async def auth_chain(
        self, destination: str, version: RoomVersion, room_id: str, event_id: str
    ) -> list[Event]:
        """``GET /event_auth/{roomId}/{eventId}``: the event's whole auth chain."""
        body = await self.client.get_json(
            destination, fed_path("/_matrix/federation/v1/event_auth/{}/{}", room_id, event_id)
        )
        chain = body.get("auth_chain") if isinstance(body, dict) else None
        return await self.checker.checked(version, chain if isinstance(chain, list) else [])

    async def state_ids(
        self, destination: str, room_id: str, event_id: str
    ) -> tuple[list[str], list[str]]:
        """``GET /state_ids/{roomId}?event_id=``: the ids of the state before the event
        and of its auth chain."""
        body = await self.client.get_json(
            destination,
            fed_path("/_matrix/federation/v1/state_ids/{}", room_id),
            {"event_id": event_id},
        )
        if not isinstance(body, dict):
            raise FederationRequestError(None, None, "state_ids: not a JSON object")
        return _id_list(body.get("pdu_ids")), _id_list(body.get("auth_chain_ids"))

    async def state(
        self, destination: str, version: RoomVersion, room_id: str, event_id: str
    ) -> tuple[list[Event], list[Event]]:
        """``GET /state/{roomId}?event_id=``: the state before the event and its auth
        chain, as checked events."""
        body = await self.client.get_json(
            destination,
            fed_path("/_matrix/federation/v1/state/{}", room_id),
            {"event_id": event_id},
        )
        if not isinstance(body, dict):
            raise FederationRequestError(None, None, "state: not a JSON object")
        pdus = body.get("pdus")
        chain = body.get("auth_chain")
        state = await self.checker.checked(version, pdus if isinstance(pdus, list) else [])
        auth = await self.checker.checked(version, chain if isinstance(chain, list) else [])
        return state, auth

    async def missing_events(
        self,
        destination: str,
        version: RoomVersion,
        room_id: str,
        earliest: Sequence[str],
        latest: Sequence[str],
        *,
        limit: int = 10,
        min_depth: int = 0,
    ) -> list[Event]:
        """``POST /get_missing_events/{roomId}``, oldest first."""
        body = await self.client.post_json(
            destination,
            fed_path("/_matrix/federation/v1/get_missing_events/{}", room_id),
            {
                "earliest_events": list(earliest),
                "latest_events": list(latest),
                "limit": limit,
                "min_depth": min_depth,
            },
        )
        pdus = body.get("events") if isinstance(body, dict) else None
        events = await self.checker.checked(version, pdus if isinstance(pdus, list) else [])
        return sorted(events, key=lambda e: (e.depth, e.origin_server_ts, e.event_id))

    async def backfill(
        self,
        destination: str,
        version: RoomVersion,
        room_id: str,
        from_ids: Sequence[str],
        limit: int,
    ) -> list[Event]:
        """``GET /backfill/{roomId}?v=...&limit=``: events before ``from_ids``."""
        body = await self.client.get_json(
            destination,
            fed_path("/_matrix/federation/v1/backfill/{}", room_id),
            {"v": list(from_ids), "limit": str(limit)},
        )
        pdus = body.get("pdus") if isinstance(body, dict) else None
        return await self.checker.checked(version, pdus if isinstance(pdus, list) else [])


def _id_list(value: object) -> list[str]:
    if not isinstance(value, list):
        raise FederationRequestError(None, None, "expected a list of event ids")
    return [v for v in value if isinstance(v, str)]


__all__ = ["EventChecker", "EventFetcher", "SignatureError", "parse_pdu"]
