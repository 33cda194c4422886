"""The subscribe side of one participant: the peer connection the others' tracks leave on.

The SFU is the offerer here. Each forwarded track takes a *slot*: a send-only
transceiver whose sender never encodes (``SilentTrack``); its ``Output`` writes rewritten
packets straight onto the connection. When a track goes away its slot turns
``inactive`` and is reused for the next track of the same media kind and codec, so the
SDP does not grow without bound as people come and go.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpSender, RTCRtpTransceiver, RTCSessionDescription

from sfu.media import aiortc_hooks as hooks
from sfu.media.errors import SignalingError
from sfu.media.forwarding import Output
from sfu.media.publishing import MEDIA_KIND, PublishedTrack


@dataclass(frozen=True)
class Wanted:
    """A track this participant should receive, and whose it is."""

    user_id: str
    session_id: str
    track: PublishedTrack


@dataclass
class Slot:
    transceiver: RTCRtpTransceiver
    media_kind: str
    codec: str
    wanted: Wanted | None = None
    output: Output | None = None


class Subscriber:
    def __init__(self) -> None:
        self.pc: RTCPeerConnection | None = None
        self.slots: list[Slot] = []
        self.offer_pending = False
        self.deafened = False

    def _loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    async def offer(self, wanted: dict[str, Wanted]) -> dict[str, Any] | None:
        """Bring the slots in line with ``wanted`` (track id -> Wanted) and return the
        ``subscribe`` frame to send, or None when nothing changed."""
        if self.pc is not None and self.pc.connectionState == "closed":
            return None  # this participant is on the way out (see VoiceService._watch)
        changed = False
        now = self._loop_time()
        for slot in self.slots:
            if slot.wanted is not None and slot.wanted.track.track_id not in wanted:
                if slot.output is not None:
                    slot.wanted.track.source.detach(slot.output)
                slot.wanted = None
                slot.transceiver.direction = "inactive"
                changed = True
        assigned = {s.wanted.track.track_id for s in self.slots if s.wanted is not None}
        for track_id, want in wanted.items():
            if track_id in assigned:
                continue
            slot = self._free_slot(want.track)
            slot.wanted = want
            slot.transceiver.direction = "sendonly"
            if slot.output is not None:
                self._apply_deafen(slot)
                want.track.source.attach(slot.output, now)
            changed = True
        if not changed:
            return None
        assert self.pc is not None
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.offer_pending = True
        local = self.pc.localDescription
        assert local is not None
        return {"type": "subscribe", "sdp": local.sdp, "tracks": self.track_list()}

    def track_list(self) -> list[dict[str, str]]:
        return [
            {
                "mid": slot.transceiver.mid or "",
                "user_id": slot.wanted.user_id,
                "session_id": slot.wanted.session_id,
                "kind": slot.wanted.track.kind,
                "track_id": slot.wanted.track.track_id,
            }
            for slot in self.slots
            if slot.wanted is not None
        ]

    def _free_slot(self, track: PublishedTrack) -> Slot:
        media_kind = MEDIA_KIND[track.kind]
        for slot in self.slots:
            if slot.wanted is None and slot.media_kind == media_kind and slot.codec == track.codec:
                return slot
        if self.pc is None:
            self.pc = hooks.peer_connection()
            self.pc.on("connectionstatechange", self._on_state)
        transceiver = self.pc.addTransceiver(hooks.SilentTrack(media_kind), direction="sendonly")
        preferred = [
            c
            for c in RTCRtpSender.getCapabilities(media_kind).codecs
            if c.mimeType.lower() == track.codec
        ]
        transceiver.setCodecPreferences(preferred)
        slot = Slot(transceiver, media_kind, track.codec)
        self.slots.append(slot)
        return slot

    async def answer(self, answer_sdp: str) -> None:
        if not self.offer_pending or self.pc is None:
            raise SignalingError("M_INVALID_PARAM", "no subscribe offer is waiting for an answer")
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))
        except Exception as exc:
            raise SignalingError("M_INVALID_PARAM", f"cannot apply the answer: {exc}") from exc
        self.offer_pending = False
        now = self._loop_time()
        for slot in self.slots:
            if slot.output is None and slot.wanted is not None:
                slot.output = self._make_output(slot)
                if slot.output is not None:
                    self._apply_deafen(slot)
                    slot.wanted.track.source.attach(slot.output, now)

    def _make_output(self, slot: Slot) -> Output | None:
        agreed = hooks.negotiated(slot.transceiver)
        payload_type = next((pt for pt, mime, _ in agreed.codecs if mime == slot.codec), None)
        if payload_type is None:
            return None  # the client refused the codec: nothing can be forwarded there
        clock_rate = next(rate for pt, _, rate in agreed.codecs if pt == payload_type)
        sender = slot.transceiver.sender
        output = Output(
            send=hooks.PacketSink(sender.transport).send,
            ssrc=agreed.sender_ssrc,
            payload_type=payload_type,
            clock_rate=clock_rate,
            extensions=agreed.extensions,
            mid=agreed.mid,
            keep_history=slot.media_kind == "video",
            initial_seq=random.randrange(1 << 16),
            initial_ts=random.randrange(1 << 32),
        )

        def feedback(fb: hooks.Feedback) -> None:
            if slot.wanted is None:
                return
            source = slot.wanted.track.source
            if fb.keyframe:
                source.keyframe_needed(self._loop_time())
            elif fb.bitrate is not None:
                source.estimate(output, fb.bitrate, self._loop_time())
            else:
                output.retransmit(fb.lost)

        hooks.on_feedback(sender, feedback)

        def report(ntp: int, rtp_timestamp: int, packets: int, octets: int) -> None:
            hooks.set_sender_report(sender, ntp, rtp_timestamp, packets, octets)

        output.report = report
        return output

    def _on_state(self) -> None:
        # A late joiner's transport is up: its decoder needs a key frame now, not at the
        # publisher's next scheduled one.
        if self.pc is not None and self.pc.connectionState == "connected":
            now = self._loop_time()
            for slot in self.slots:
                if slot.wanted is not None and slot.media_kind == "video":
                    slot.wanted.track.source.keyframe_needed(now, force=True)

    def set_deafened(self, deafened: bool) -> None:
        self.deafened = deafened
        for slot in self.slots:
            self._apply_deafen(slot)

    def _apply_deafen(self, slot: Slot) -> None:
        """A deafened participant gets no audio: their audio outputs stop."""
        if slot.output is None or slot.media_kind != "audio":
            return
        enabled = not self.deafened
        if enabled and not slot.output.enabled:
            slot.output.resplice()
        slot.output.enabled = enabled

    def stream_count(self) -> int:
        return sum(
            1
            for slot in self.slots
            if slot.wanted is not None
            and slot.output is not None
            and slot.output.enabled
            and slot.wanted.track.source.forwarding
        )

    async def close(self) -> None:
        for slot in self.slots:
            if slot.wanted is not None and slot.output is not None:
                slot.wanted.track.source.detach(slot.output)
            slot.wanted = None
        if self.pc is not None:
            await self.pc.close()
