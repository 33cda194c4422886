"""``VoiceService``: the WebSocket handler ``sfu/app.py`` mounts at ``GET /ws``, and the
operations the access half calls (remove a user, count streams, shut down).

The protocol is described in ``sfu/media/signaling.py``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

from aiohttp import WSMsgType, web
from aiortc import RTCPeerConnection

from sfu.access import Access, AccessDenied, CallRoster
from sfu.media import aiortc_hooks as hooks
from sfu.media import signaling
from sfu.media.errors import SignalingError
from sfu.media.room import CallRoom, Participant
from sfu.media.settings import MediaSettings

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class VoiceService:
    def __init__(self, access: Access, roster: CallRoster, settings: MediaSettings) -> None:
        self.access = access
        self.roster = roster
        self.settings = settings
        self.rooms: dict[str, CallRoom] = {}
        self._closing = False
        if settings.ice_host:
            hooks.restrict_host_addresses([settings.ice_host])

    # -- the WebSocket -------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(
            heartbeat=max(self.settings.drop_timeout_s / 2, 0.5),
            max_msg_size=signaling.MAX_FRAME_BYTES,
        )
        await ws.prepare(request)
        try:
            joined = await self._join(ws)
        except SignalingError as exc:
            await ws.send_json(exc.frame())
            await ws.close(code=exc.close_code or CLOSE_UNAUTHENTICATED)
            return ws
        if joined is None:
            return ws
        participant, room = joined
        left = False
        try:
            left = await self._serve(participant, room, ws)
        finally:
            participant.ws = None
            if not left:
                self._schedule_drop(participant, "signaling connection lost")
        return ws

    async def _join(self, ws: web.WebSocketResponse) -> tuple[Participant, CallRoom] | None:
        try:
            msg = await ws.receive(timeout=signaling.JOIN_TIMEOUT_S)
        except TimeoutError as exc:
            raise SignalingError("M_MISSING_TOKEN", "no join frame", CLOSE_UNAUTHENTICATED) from exc
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return None
        if msg.type != WSMsgType.TEXT:
            raise SignalingError("M_BAD_JSON", "frames are JSON text", CLOSE_UNAUTHENTICATED)
        frame = signaling.parse_frame(msg.data)
        if frame["type"] != "join" or not isinstance(frame.get("token"), str):
            raise SignalingError(
                "M_MISSING_TOKEN",
                "the first frame must be join with a token",
                CLOSE_UNAUTHENTICATED,
            )
        if self._closing:
            raise SignalingError("M_UNKNOWN", "the SFU is shutting down", CLOSE_FORBIDDEN)
        try:
            grant = self.access.verify(frame["token"])
            await self.access.check_member(grant)
        except AccessDenied as exc:
            code = CLOSE_UNAUTHENTICATED if exc.status == 401 else CLOSE_FORBIDDEN
            raise SignalingError(exc.errcode, exc.message, code) from exc
        participant = Participant(grant, secrets.token_urlsafe(12), ws)
        room = self.rooms.setdefault(grant.room_id, CallRoom(grant.room_id, self.roster))
        await self._supersede(room, participant)
        await participant.send(
            {
                "type": "joined",
                "session_id": participant.session_id,
                "user_id": grant.user_id,
                "room_id": grant.room_id,
            }
        )
        await room.add(participant)
        return participant, room

    async def _supersede(self, room: CallRoom, participant: Participant) -> None:
        """A device coming back after its signaling connection dropped (a network blip, a
        reload) replaces the session still waiting out its drop timeout, at once: others
        would otherwise see the person twice until then. A moderator's mute carries over,
        so reconnecting is no way out of it. A session whose socket is still open is left
        alone (two tabs of one login would only push each other out in turn)."""
        for old in room.sessions_of(participant.user_id):
            if old.grant.device_id != participant.grant.device_id or old.ws is not None:
                continue
            if old.drop_timer is not None:
                old.drop_timer.cancel()
                old.drop_timer = None
            participant.server_muted = participant.server_muted or old.server_muted
            log.info("session %s: replaced by %s", old.session_id, participant.session_id)
            await room.remove(old)

    async def _serve(
        self, participant: Participant, room: CallRoom, ws: web.WebSocketResponse
    ) -> bool:
        """Handle frames until the socket closes; True when the participant left."""
        async for msg in ws:
            if participant.gone:
                return True
            if msg.type != WSMsgType.TEXT:
                if msg.type == WSMsgType.BINARY:
                    await participant.send(
                        SignalingError("M_BAD_JSON", "frames are JSON text").frame()
                    )
                continue
            try:
                frame = signaling.parse_frame(msg.data)
                if frame["type"] == "leave":
                    await room.remove(participant)
                    self._forget_if_empty(room)
                    await ws.close(code=1000)
                    return True
                await self._handle(room, participant, frame)
            except SignalingError as exc:
                await participant.send(exc.frame())
            except Exception:
                # a bug or an aiortc surprise must not take the session down with it
                log.exception("session %s: frame failed", participant.session_id)
                await participant.send(
                    {"type": "error", "errcode": "M_UNKNOWN", "error": "internal error"}
                )
        return participant.gone

    async def _handle(self, room: CallRoom, me: Participant, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "publish":
            sdp = signaling.string(frame, "sdp")
            wanted = signaling.publish_tracks(frame)
            answer, removed, added = await me.publisher.publish(sdp, wanted)
            self._watch(me, me.publisher.pc)
            await me.send({"type": "publish_answer", "sdp": answer})
            if removed or added:
                await room.tracks_changed(me)
        elif kind == "subscribe_answer":
            await room.answered(me, signaling.string(frame, "sdp"))
            self._watch(me, me.subscriber.pc)
        elif kind == "mute":
            me.muted = signaling.boolean(frame, "muted")
            me.enforce_mute()
            await room.changed()
        elif kind == "deafen":
            me.deafened = signaling.boolean(frame, "deafened")
            me.subscriber.set_deafened(me.deafened)
            await room.changed()
        elif kind == "moderate_mute":
            await self._moderate_mute(room, me, frame)
        elif kind == "ping":
            await me.send({"type": "pong"})
        elif kind == "join":
            raise SignalingError("M_INVALID_PARAM", "already joined")
        else:
            raise SignalingError("M_UNRECOGNIZED", f"unknown frame type {kind!r}")

    async def _moderate_mute(self, room: CallRoom, me: Participant, frame: dict[str, Any]) -> None:
        target = signaling.string(frame, "user_id")
        muted = signaling.boolean(frame, "muted")
        sessions = room.sessions_of(target)
        if not sessions:
            raise SignalingError("M_NOT_FOUND", f"{target} is not in this call")
        if not await self.access.may_moderate(room.room_id, me.user_id, target):
            raise SignalingError("M_FORBIDDEN", f"you may not mute {target} in this room")
        for participant in sessions:
            participant.server_muted = muted
            participant.enforce_mute()
        await room.changed()

    # -- leaving without saying so -------------------------------------------------

    def _watch(self, participant: Participant, pc: RTCPeerConnection | None) -> None:
        """A media connection that fails (ICE consent lost, DTLS closed) counts as the
        participant vanishing."""
        if pc is None or id(pc) in participant.watched:
            return
        participant.watched.add(id(pc))

        def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and not participant.gone:
                self._schedule_drop(participant, f"media connection {pc.connectionState}")

        pc.on("connectionstatechange", on_state)

    def _schedule_drop(self, participant: Participant, why: str) -> None:
        if participant.gone or participant.drop_timer is not None:
            return
        log.info(
            "session %s: %s; removing in %ss",
            participant.session_id,
            why,
            self.settings.drop_timeout_s,
        )
        loop = asyncio.get_running_loop()

        def drop() -> None:
            task = asyncio.ensure_future(self._drop(participant))
            participant.background.add(task)

        participant.drop_timer = loop.call_later(self.settings.drop_timeout_s, drop)

    async def _drop(self, participant: Participant) -> None:
        room = self.rooms.get(participant.grant.room_id)
        if room is not None:
            await room.remove(participant)
            self._forget_if_empty(room)

    def _forget_if_empty(self, room: CallRoom) -> None:
        if not room.participants and self.rooms.get(room.room_id) is room:
            del self.rooms[room.room_id]

    # -- called by the access half -------------------------------------------------

    async def remove_user(self, room_id: str, user_id: str, reason: str) -> None:
        """The homeserver says ``user_id`` left or was banned from ``room_id``: every
        session of theirs there ends now (error frame, close 4403, ``CallRoster.left``)."""
        room = self.rooms.get(room_id)
        if room is None:
            return
        for participant in room.sessions_of(user_id):
            ws = participant.ws
            await participant.send({"type": "error", "errcode": "M_FORBIDDEN", "error": reason})
            await room.remove(participant)
            if ws is not None and not ws.closed:
                await ws.close(code=CLOSE_FORBIDDEN)
        self._forget_if_empty(room)

    def stream_count(self) -> int:
        """Forwarded streams now: one per (published track, subscriber) actually sent."""
        return sum(room.stream_count() for room in self.rooms.values())

    async def close(self) -> None:
        self._closing = True
        for room in list(self.rooms.values()):
            room.closing = True
            for participant in list(room.participants.values()):
                ws = participant.ws
                await room.remove(participant)
                if ws is not None and not ws.closed:
                    await ws.close(code=1001)
        self.rooms.clear()
