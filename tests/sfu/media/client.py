"""A voice client for tests: aiortc peer connections speaking the SFU's signaling
protocol over a real WebSocket, publishing synthetic media (a tone, solid colour video)
and decoding what it receives with aiortc's own receivers."""

from __future__ import annotations

import asyncio
import fractions
import math
from array import array
from typing import Any

import aiohttp
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from av import AudioFrame, VideoFrame

from sfu.media import aiortc_hooks as hooks

AUDIO_RATE = 48000
SAMPLES = 960  # 20 ms


class ToneTrack(MediaStreamTrack):
    """A sine tone at ``frequency`` Hz, 20 ms frames, paced in real time."""

    kind = "audio"

    def __init__(self, frequency: float) -> None:
        super().__init__()
        self.frequency = frequency
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self._pts / AUDIO_RATE - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        step = 2 * math.pi * self.frequency / AUDIO_RATE
        samples = array("h", (int(8000 * math.sin(step * (self._pts + i))) for i in range(SAMPLES)))
        frame = AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self._pts += SAMPLES
        return frame


class ColorTrack(MediaStreamTrack):
    """Solid ``rgb`` frames of ``width`` x ``height`` at 15 fps."""

    kind = "video"

    def __init__(self, rgb: tuple[int, int, int], width: int = 160, height: int = 120) -> None:
        super().__init__()
        self.rgb = rgb
        self.width = width
        self.height = height
        self._n = 0
        self._start: float | None = None
        self.fps = 15

    async def recv(self) -> VideoFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self._n / self.fps - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = VideoFrame(self.width, self.height, "rgb24")
        plane = frame.planes[0]
        row = bytes(self.rgb) * self.width + bytes(plane.line_size - 3 * self.width)
        plane.update(row * self.height)
        frame = frame.reformat(format="yuv420p")
        frame.pts = self._n * 90000 // self.fps
        frame.time_base = fractions.Fraction(1, 90000)
        self._n += 1
        return frame


def tone_strength(frames: list[AudioFrame], frequency: float) -> float:
    """How much of decoded audio (first channel) is at ``frequency``: the Goertzel
    power at that frequency over the total power, 0..1 (a pure tone gives ~0.5)."""
    samples: list[float] = []
    for f in frames:
        assert f.format.name == "s16", f.format.name  # packed: channels interleaved
        channels = len(f.layout.channels)
        data = array("h")
        data.frombytes(bytes(f.planes[0])[: 2 * channels * f.samples])
        samples.extend(data[::channels])
    rate = frames[0].sample_rate
    coeff = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    total = sum(x * x for x in samples) * len(samples) / 2
    return power / total if total else 0.0


def mean_color(frame: VideoFrame) -> tuple[int, int, int]:
    rgb = frame.reformat(format="rgb24")
    plane = rgb.planes[0]
    raw = bytes(plane)
    sums = [0, 0, 0]
    count = 0
    for y in range(0, rgb.height, 4):
        row = raw[y * plane.line_size : y * plane.line_size + 3 * rgb.width]
        for x in range(0, 3 * rgb.width, 12):
            sums[0] += row[x]
            sums[1] += row[x + 1]
            sums[2] += row[x + 2]
            count += 1
    r, g, b = (s // count for s in sums)
    return r, g, b


class VoiceClient:
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.frames: list[dict[str, Any]] = []
        self.errors: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.participants: list[dict[str, Any]] = []
        self.sub_tracks: list[dict[str, str]] = []
        self.session_id = ""
        self.publish_pc: RTCPeerConnection | None = None
        self.subscribe_pc: RTCPeerConnection | None = None
        self.close_code: int | None = None
        self._answers: asyncio.Queue[str] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    # -- connection ----------------------------------------------------------------

    async def connect(self) -> None:
        self.ws = await self.http.ws_connect(self.url, timeout=aiohttp.ClientWSTimeout(ws_close=2))

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_json(frame)

    async def join(self, token: str) -> dict[str, Any]:
        """Join; returns the ``joined`` frame, or the ``error`` frame of a refusal (then
        ``close_code`` says how the socket closed)."""
        await self.connect()
        await self.send({"type": "join", "token": token})
        assert self.ws is not None
        msg = await self.ws.receive(timeout=10)
        frame: dict[str, Any] = msg.json()
        if frame["type"] == "error":
            await self.ws.receive(timeout=10)  # the close
            self.close_code = self.ws.close_code
            return frame
        self.session_id = frame["session_id"]
        self._reader = asyncio.ensure_future(self._read())
        return frame

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = msg.json()
            self.frames.append(frame)
            kind = frame["type"]
            if kind == "participants":
                self.participants = frame["participants"]
            elif kind == "subscribe":
                await self._on_subscribe(frame)
            elif kind == "publish_answer":
                await self._answers.put(frame["sdp"])
            elif kind == "error":
                await self.errors.put(frame)
            self._changed.set()
        self.close_code = self.ws.close_code

    async def _on_subscribe(self, frame: dict[str, Any]) -> None:
        if self.subscribe_pc is None:
            self.subscribe_pc = hooks.peer_connection()
        pc = self.subscribe_pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=frame["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        self.sub_tracks = frame["tracks"]
        assert pc.localDescription is not None
        await self.send({"type": "subscribe_answer", "sdp": pc.localDescription.sdp})

    # -- publishing ----------------------------------------------------------------

    async def publish(self, tracks: list[tuple[str, MediaStreamTrack]]) -> None:
        """Offer ``tracks`` as (kind, track) on the publish connection; the list is the
        whole set published."""
        if self.publish_pc is None:
            self.publish_pc = hooks.peer_connection()
        pc = self.publish_pc
        known = {t.sender.track: t for t in pc.getTransceivers() if t.sender.track is not None}
        for _, track in tracks:
            if track not in known:
                pc.addTransceiver(track, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        mids = {t.sender.track: t.mid for t in pc.getTransceivers()}
        assert pc.localDescription is not None
        await self.send(
            {
                "type": "publish",
                "sdp": pc.localDescription.sdp,
                "tracks": [{"mid": mids[track], "kind": kind} for kind, track in tracks],
            }
        )
        answer = await asyncio.wait_for(self._answers.get(), 10)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def publish_wrong_kind(self) -> None:
        """Offer an audio track but call it a webcam (the SFU must refuse it)."""
        pc = self.publish_pc = self.publish_pc or hooks.peer_connection()
        transceiver = pc.addTransceiver(ToneTrack(440), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        assert pc.localDescription is not None
        await self.send(
            {
                "type": "publish",
                "sdp": pc.localDescription.sdp,
                "tracks": [{"mid": transceiver.mid, "kind": "webcam"}],
            }
        )
        await asyncio.wait_for(self._answers.get(), 2)

    # -- receiving -----------------------------------------------------------------

    def received(self, user_id: str, kind: str) -> MediaStreamTrack | None:
        """The decoded track carrying ``user_id``'s ``kind``, per the last track list."""
        if self.subscribe_pc is None:
            return None
        for info in self.sub_tracks:
            if info["user_id"] == user_id and info["kind"] == kind:
                for t in self.subscribe_pc.getTransceivers():
                    if t.mid == info["mid"]:
                        return t.receiver.track
        return None

    async def packets_received(self, user_id: str, kind: str) -> int:
        """RTP packets that arrived for that track (the receiver's inbound-rtp stats)."""
        if self.subscribe_pc is None:
            return 0
        mid = next(
            (i["mid"] for i in self.sub_tracks if i["user_id"] == user_id and i["kind"] == kind),
            None,
        )
        for t in self.subscribe_pc.getTransceivers():
            if t.mid == mid:
                stats = await t.receiver.getStats()
                return sum(s.packetsReceived for s in stats.values() if s.type == "inbound-rtp")
        return 0

    def person(self, user_id: str) -> dict[str, Any] | None:
        """``user_id``'s entry in the last participant list."""
        return next((p for p in self.participants if p["user_id"] == user_id), None)

    async def next_error(self, timeout: float = 5) -> dict[str, Any]:
        return await asyncio.wait_for(self.errors.get(), timeout)

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
        for pc in (self.publish_pc, self.subscribe_pc):
            if pc is not None:
                await pc.close()
