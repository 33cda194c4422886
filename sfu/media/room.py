"""A voice room: its participants, who receives what, and mute/deafen enforcement.

Enforcement is here, not in the client: a muted (or server-muted) participant's audio
sources stop forwarding (``Source.set_forwarding``), a deafened participant's audio
outputs stop (``Subscriber.set_deafened``). Deafen does not imply mute; a client that
wants Discord's "deafen also mutes" sends both.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from sfu.access import CallRoster, Grant, TrackKind
from sfu.media.publishing import Publisher
from sfu.media.subscribing import Subscriber, Wanted

log = logging.getLogger(__name__)


class Participant:
    def __init__(self, grant: Grant, session_id: str, ws: web.WebSocketResponse) -> None:
        self.grant = grant
        self.session_id = session_id
        self.ws: web.WebSocketResponse | None = ws
        self.publisher = Publisher(session_id)
        self.subscriber = Subscriber()
        self.muted = False
        self.deafened = False
        self.server_muted = False
        self.gone = False
        self.negotiation = asyncio.Lock()
        self.resync_wanted = False
        self.drop_timer: asyncio.TimerHandle | None = None
        self.watched: set[int] = set()
        self.background: set[asyncio.Task[None]] = set()

    @property
    def user_id(self) -> str:
        return self.grant.user_id

    def kinds(self) -> list[TrackKind]:
        return [t.kind for t in self.publisher.tracks.values()]

    def summary(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "session_id": self.session_id,
            "muted": self.muted,
            "deafened": self.deafened,
            "server_muted": self.server_muted,
            "tracks": [
                {"kind": t.kind, "track_id": t.track_id} for t in self.publisher.tracks.values()
            ],
        }

    def enforce_mute(self) -> None:
        silent = self.muted or self.server_muted
        for track in self.publisher.tracks.values():
            if track.kind == "audio":
                track.source.set_forwarding(not silent)

    async def send(self, frame: dict[str, Any]) -> None:
        ws = self.ws
        if ws is None or ws.closed:
            return
        try:
            await ws.send_json(frame)
        except (ConnectionError, RuntimeError):
            log.debug("signaling frame to %s lost: socket closing", self.session_id)

    def stream_count(self) -> int:
        return self.subscriber.stream_count()

    async def close(self) -> None:
        if self.drop_timer is not None:
            self.drop_timer.cancel()
        await self.subscriber.close()
        await self.publisher.close()


class CallRoom:
    def __init__(self, room_id: str, roster: CallRoster) -> None:
        self.room_id = room_id
        self.roster = roster
        self.participants: dict[str, Participant] = {}
        self.closing = False

    async def add(self, participant: Participant) -> None:
        self.participants[participant.session_id] = participant
        await self._roster_joined(participant)
        await self.changed()

    async def remove(self, participant: Participant) -> bool:
        """Take the participant out (idempotent); True when this call removed them."""
        if self.participants.pop(participant.session_id, None) is None:
            return False
        participant.gone = True
        await participant.close()
        try:
            await self.roster.left(participant.grant, participant.session_id)
        except Exception:
            log.exception("CallRoster.left failed for %s", participant.session_id)
        await self.changed()
        return True

    async def tracks_changed(self, participant: Participant) -> None:
        participant.enforce_mute()
        await self._roster_joined(participant)
        await self.changed()

    async def _roster_joined(self, participant: Participant) -> None:
        try:
            await self.roster.joined(participant.grant, participant.session_id, participant.kinds())
        except Exception:
            log.exception("CallRoster.joined failed for %s", participant.session_id)

    async def changed(self) -> None:
        """Someone came, went, published or changed state: everyone gets the new
        participant list and, where their set of tracks changed, a new subscribe offer."""
        frame = {
            "type": "participants",
            "participants": [p.summary() for p in self.participants.values()],
        }
        everyone = list(self.participants.values())
        await asyncio.gather(*(p.send(frame) for p in everyone))
        await asyncio.gather(*(self.resync(p) for p in everyone))

    def wanted_for(self, participant: Participant) -> dict[str, Wanted]:
        return {
            track.track_id: Wanted(other.user_id, other.session_id, track)
            for other in self.participants.values()
            if other is not participant
            for track in other.publisher.tracks.values()
        }

    async def resync(self, participant: Participant) -> None:
        async with participant.negotiation:
            if participant.gone or self.closing:
                return
            if participant.subscriber.offer_pending:
                participant.resync_wanted = True
                return
            frame = await participant.subscriber.offer(self.wanted_for(participant))
        if frame is not None:
            await participant.send(frame)

    async def answered(self, participant: Participant, answer_sdp: str) -> None:
        async with participant.negotiation:
            await participant.subscriber.answer(answer_sdp)
        if participant.resync_wanted:
            participant.resync_wanted = False
            await self.resync(participant)

    def sessions_of(self, user_id: str) -> list[Participant]:
        return [p for p in self.participants.values() if p.user_id == user_id]

    def stream_count(self) -> int:
        return sum(p.stream_count() for p in self.participants.values())
