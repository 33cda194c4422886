"""Sending events for a client: messages, state, redactions.

spec: client-server "PUT /rooms/{roomId}/send/{eventType}/{txnId}", "PUT /rooms/
{roomId}/state/{eventType}/{stateKey}", "PUT /rooms/{roomId}/redact/{eventId}/
{txnId}". A ``txnId`` makes a send idempotent per device (the pipeline keeps the
mapping); the auth rules decide the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeserver.errors import MatrixError
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_room_alias

from . import chat_checks
from .aliases import AliasDirectory
from .persist import TxnKey
from .pipeline import EventPipeline
from .room_state import RoomStateCache

# spec: client-server "Size limits" / appendices: types and state keys are at most 255 bytes.
MAX_TYPE_BYTES = 255
MAX_STATE_KEY_BYTES = 255


def check_event_type(event_type: str) -> None:
    if not event_type or len(event_type.encode("utf-8")) > MAX_TYPE_BYTES:
        raise MatrixError(400, "M_INVALID_PARAM", "event type must be 1 to 255 bytes")


class SendHandler:
    def __init__(
        self, rooms: RoomStateCache, pipeline: EventPipeline, aliases: AliasDirectory
    ) -> None:
        self.rooms = rooms
        self.pipeline = pipeline
        self.aliases = aliases

    async def send_message(
        self,
        user_id: str,
        device_id: str,
        room_id: str,
        event_type: str,
        content: Mapping[str, Any],
        txn_id: str,
        ts: int | None = None,
    ) -> str:
        check_event_type(event_type)
        txn = TxnKey(user_id, device_id, txn_id)
        if event_type == "m.room.redaction":
            # A redaction sent through /send gets the same permission check as /redact.
            target = content.get("redacts")
            if not isinstance(target, str):
                raise MatrixError(400, "M_BAD_JSON", "m.room.redaction needs `redacts`")
            return await self.redact(user_id, room_id, target, content, txn)
        chat_checks.check_content(event_type, None, content)
        sent = await self.pipeline.send(room_id, user_id, event_type, content, txn=txn, ts=ts)
        return sent.event.event_id

    async def put_state(
        self,
        user_id: str,
        room_id: str,
        event_type: str,
        state_key: str,
        content: Mapping[str, Any],
        ts: int | None = None,
    ) -> str:
        check_event_type(event_type)
        if len(state_key.encode("utf-8")) > MAX_STATE_KEY_BYTES:
            raise MatrixError(400, "M_INVALID_PARAM", "state key must be at most 255 bytes")
        if await self.rooms.room(room_id) is None:
            raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
        if event_type == "m.room.canonical_alias" and state_key == "":
            await self._check_canonical_alias(room_id, content)
        await chat_checks.check_state(self.rooms, user_id, room_id, event_type, state_key, content)
        # Setting the same content again changes nothing: answer with the current event.
        key = (event_type, state_key)
        current = (await self.rooms.state_events(room_id, [key])).get(key)
        if current is not None and current.sender == user_id and current.content == content:
            return current.event_id
        sent = await self.pipeline.send(
            room_id, user_id, event_type, content, state_key=state_key, ts=ts
        )
        return sent.event.event_id

    async def _check_canonical_alias(self, room_id: str, content: Mapping[str, Any]) -> None:
        """spec: "m.room.canonical_alias" — the server checks that the aliases exist
        and point at the room (400 ``M_BAD_ALIAS``); we can only tell for local ones."""
        aliases: list[object] = []
        if "alias" in content and content["alias"] is not None:
            aliases.append(content["alias"])
        alt = content.get("alt_aliases", [])
        if not isinstance(alt, list):
            raise MatrixError(400, "M_INVALID_PARAM", "`alt_aliases` must be a list")
        aliases.extend(alt)
        for alias in aliases:
            if not isinstance(alias, str):
                raise MatrixError(400, "M_INVALID_PARAM", "aliases must be strings")
            try:
                _, server = parse_room_alias(alias)
            except InvalidIdentifier as exc:
                raise MatrixError(400, "M_INVALID_PARAM", f"invalid alias: {exc}") from exc
            if server != self.pipeline.server_name:
                continue
            if await self.aliases.resolve_local(alias) != room_id:
                raise MatrixError(400, "M_BAD_ALIAS", f"{alias} does not point to this room")

    async def redact(
        self,
        user_id: str,
        room_id: str,
        event_id: str,
        content: Mapping[str, Any],
        txn: TxnKey | None,
    ) -> str:
        """Redact ``event_id``: senders may redact their own events, others need the
        room's ``redact`` power level (403 otherwise)."""
        if await self.rooms.room(room_id) is None:
            raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
        target = (await self.rooms.get_events([event_id])).get(event_id)
        own = target is not None and target.room_id == room_id and target.sender == user_id
        if not own:
            power = await self.rooms.power(room_id)
            if power.user_level(user_id) < power.levels.redact:
                raise MatrixError(403, "M_FORBIDDEN", "You may not redact this event")
        body = {k: v for k, v in content.items() if k != "redacts"}
        sent = await self.pipeline.send(
            room_id, user_id, "m.room.redaction", body, redacts=event_id, txn=txn
        )
        return sent.event.event_id
