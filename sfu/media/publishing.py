"""The publish side of one participant: the peer connection their tracks arrive on.

The client offers (``publish`` frame), we answer. Every decrypted RTP packet on that
connection is taken before aiortc parses it (``aiortc_hooks.intercept_rtp``) and handed
by SSRC to its ``Source`` in ``forwarding.py``; aiortc's receivers (and their decoders)
never see media.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from struct import Struct

from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription, sdp

from sfu.access import TrackKind
from sfu.media import aiortc_hooks as hooks
from sfu.media.errors import SignalingError
from sfu.media.forwarding import Source

_SSRC = Struct("!I")
MAX_MEDIA = 8  # m-lines in a publish offer: one per track, at most 8 tracks
MEDIA_KIND: dict[TrackKind, str] = {"audio": "audio", "webcam": "video", "screen": "video"}


@dataclass
class PublishedTrack:
    mid: str
    kind: TrackKind
    track_id: str
    codec: str  # mimeType, lowercased
    source: Source


class Publisher:
    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.pc: RTCPeerConnection | None = None
        self.tracks: dict[str, PublishedTrack] = {}
        self._by_ssrc: dict[int, Source] = {}
        self._intercepted: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def publish(
        self, offer_sdp: str, wanted: dict[str, TrackKind]
    ) -> tuple[str, list[str], list[PublishedTrack]]:
        """Apply the client's offer; returns (answer sdp, mids removed, tracks added).
        Raises ``SignalingError`` (and changes nothing) when the offer and the track
        list disagree."""
        try:
            parsed = sdp.SessionDescription.parse(offer_sdp)
        except Exception as exc:  # aiortc raises assorted errors on garbage
            raise SignalingError("M_INVALID_PARAM", f"unparsable SDP: {exc}") from exc
        if len(parsed.media) > MAX_MEDIA:
            raise SignalingError("M_INVALID_PARAM", f"at most {MAX_MEDIA} m-lines")
        media_by_mid = {m.rtp.muxId: m for m in parsed.media}
        for mid, kind in wanted.items():
            media = media_by_mid.get(mid)
            if media is None:
                raise SignalingError("M_INVALID_PARAM", f"track mid {mid!r} is not in the SDP")
            if media.kind != MEDIA_KIND[kind]:
                raise SignalingError(
                    "M_INVALID_PARAM", f"track {mid!r} is {kind} but the SDP says {media.kind}"
                )
            if media.direction not in ("sendonly", "sendrecv"):
                raise SignalingError("M_INVALID_PARAM", f"track {mid!r} is not sent")
            if not media.ssrc:
                raise SignalingError("M_INVALID_PARAM", f"track {mid!r} announces no a=ssrc")
        for mid, track in self.tracks.items():
            if mid in wanted and wanted[mid] != track.kind:
                raise SignalingError("M_INVALID_PARAM", f"track {mid!r} cannot change kind")

        if self.pc is None:
            self.pc = hooks.peer_connection()
        pc = self.pc
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            answer = await pc.createAnswer()
            await pc.setLocalDescription(answer)
        except Exception as exc:
            raise SignalingError("M_INVALID_PARAM", f"cannot apply the offer: {exc}") from exc

        removed = [mid for mid in self.tracks if mid not in wanted]
        for mid in removed:
            self._drop(mid)
        added: list[PublishedTrack] = []
        for transceiver in pc.getTransceivers():
            t_mid = transceiver.mid
            if t_mid is None or t_mid not in wanted or t_mid in self.tracks:
                continue
            mid = t_mid
            self._intercept(transceiver.receiver)
            hooks.on_sender_report(transceiver.receiver, self._sender_report)
            ssrc = hooks.remote_ssrc(pc, transceiver)
            agreed = hooks.negotiated(transceiver)
            if ssrc is None or not agreed.codecs:
                continue
            _, codec, clock_rate = agreed.codecs[0]
            kind = wanted[mid]
            source = Source(
                ssrc=ssrc,
                clock_rate=clock_rate,
                extensions=agreed.extensions,
                request_keyframe=(
                    None
                    if kind == "audio"
                    else self._keyframe_requester(transceiver.receiver, ssrc)
                ),
                send_estimate=(
                    None if kind == "audio" else self._estimate_sender(transceiver.receiver, ssrc)
                ),
            )
            track = PublishedTrack(mid, kind, f"{self.session_id}-{mid}", codec, source)
            self.tracks[mid] = track
            self._by_ssrc[ssrc] = source
            added.append(track)
        local = pc.localDescription
        assert local is not None
        return local.sdp, removed, added

    def _sender_report(self, ssrc: int, ntp: int, rtp_timestamp: int) -> None:
        source = self._by_ssrc.get(ssrc)
        if source is not None:
            source.sender_report(ntp, rtp_timestamp)

    def _drop(self, mid: str) -> None:
        track = self.tracks.pop(mid)
        self._by_ssrc.pop(track.source.ssrc, None)
        track.source.outputs.clear()

    def _intercept(self, receiver: RTCRtpReceiver) -> None:
        transport = receiver.transport
        if id(transport) in self._intercepted:
            return
        self._intercepted.add(id(transport))
        loop = asyncio.get_running_loop()
        by_ssrc = self._by_ssrc

        def handle(data: bytes) -> bool:
            if len(data) >= 12:
                source = by_ssrc.get(_SSRC.unpack_from(data, 8)[0])
                if source is not None:
                    source.forward(data, loop.time())
            return True  # never let aiortc decode anything

        hooks.intercept_rtp(transport, handle)

    def _keyframe_requester(self, receiver: RTCRtpReceiver, ssrc: int) -> Callable[[], None]:
        def request() -> None:
            task = asyncio.ensure_future(hooks.request_keyframe(receiver, ssrc))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return request

    def _estimate_sender(self, receiver: RTCRtpReceiver, ssrc: int) -> Callable[[int], None]:
        def send(bitrate: int) -> None:
            task = asyncio.ensure_future(hooks.send_estimate(receiver, ssrc, bitrate))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return send

    async def close(self) -> None:
        for mid in list(self.tracks):
            self._drop(mid)
        if self.pc is not None:
            await self.pc.close()
