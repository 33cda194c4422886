"""The load side of ``bench_sfu.py``: participants speaking the signaling protocol,
synthetic RTP publishers, and subscribers that time each packet."""

from __future__ import annotations

import asyncio
import struct
import time
from typing import Any

import aiohttp
from aiortc import RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack, VideoStreamTrack
from sfu_bench_server import payload_offset

from sfu.media import aiortc_hooks as hooks
from sfu.media.forwarding import MID_URI

AUDIO_PAYLOAD = 100  # bytes, 50 packets/s
VIDEO_PAYLOAD = 1200  # bytes, VIDEO_PACKETS_PER_FRAME packets per frame at 30 fps
VIDEO_PACKETS_PER_FRAME = 2


class Client:
    """A participant speaking the signaling protocol (sfu/media/signaling.py)."""

    def __init__(self, http: aiohttp.ClientSession, url: str, user_id: str) -> None:
        self.http, self.url, self.user_id = http, url, user_id
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.publish_pc = hooks.peer_connection()
        self.subscribe_pc = hooks.peer_connection()
        self.answers: asyncio.Queue[str] = asyncio.Queue()
        self.subscribe_offers = 0
        self.answer_offers = True
        self.on_subscribed: Any = None
        self.reader: asyncio.Task[None] | None = None

    async def join(self) -> None:
        self.ws = await self.http.ws_connect(self.url)
        await self.ws.send_json({"type": "join", "token": self.user_id})
        frame = (await self.ws.receive(timeout=10)).json()
        assert frame["type"] == "joined", frame
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = msg.json()
            if frame["type"] == "publish_answer":
                await self.answers.put(frame["sdp"])
            elif frame["type"] == "subscribe" and self.answer_offers:
                pc = self.subscribe_pc
                await pc.setRemoteDescription(RTCSessionDescription(frame["sdp"], "offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                assert pc.localDescription is not None
                await self.ws.send_json(
                    {"type": "subscribe_answer", "sdp": pc.localDescription.sdp}
                )
                self.subscribe_offers += 1
                if self.on_subscribed is not None:
                    self.on_subscribed(frame)

    async def publish(self, tracks: list[tuple[str, MediaStreamTrack]]) -> None:
        pc = self.publish_pc
        for _, track in tracks:
            pc.addTransceiver(track, direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        mids = [t.mid for t in pc.getTransceivers()]
        assert self.ws is not None and pc.localDescription is not None
        await self.ws.send_json(
            {
                "type": "publish",
                "sdp": pc.localDescription.sdp,
                "tracks": [
                    {"mid": mid, "kind": kind} for mid, (kind, _) in zip(mids, tracks, strict=True)
                ],
            }
        )
        answer = await asyncio.wait_for(self.answers.get(), 20)
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.send_json({"type": "leave"})
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
        await self.publish_pc.close()
        await self.subscribe_pc.close()


class SyntheticStream:
    """Pre-built RTP for one track, stamped with its send time and injected with the
    same hook the SFU uses (one SRTP protect and one sendto per packet)."""

    def __init__(self, client: Client, index: int, payload: int, clock_rate: int) -> None:
        transceiver = client.publish_pc.getTransceivers()[index]
        agreed = hooks.negotiated(transceiver)
        self.sink = hooks.PacketSink(transceiver.sender.transport)
        self.ssrc = agreed.sender_ssrc
        self.payload_type = agreed.codecs[0][0]
        mid_id = agreed.extensions[MID_URI]
        mid = agreed.mid.encode()
        ext = bytes([(mid_id << 4) | (len(mid) - 1)]) + mid
        ext += b"\0" * (-len(ext) % 4)
        self.extension = struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
        self.filler = bytes(payload - 8)
        self.seq = 0
        self.ts = 0
        self.step = clock_rate // 50
        self.sent = 0

    def send(self, marker: bool, ts_step: int) -> None:
        header = struct.pack(
            "!BBHII",
            0x90,
            (0x80 if marker else 0) | self.payload_type,
            self.seq & 0xFFFF,
            self.ts & 0xFFFFFFFF,
            self.ssrc,
        )
        stamp = struct.pack("!Q", time.monotonic_ns())
        if self.sink.send(header + self.extension + stamp + self.filler):
            self.sent += 1
        self.seq += 1
        self.ts += ts_step


class Receipts:
    """What the subscribers received: counts, and latency samples while measuring."""

    def __init__(self) -> None:
        self.packets = 0
        self.latencies_ns: list[int] = []
        self.measuring = False

    def handler(self, data: bytes) -> bool:
        self.packets += 1
        if self.measuring:
            (sent,) = struct.unpack_from("!Q", data, payload_offset(data))
            self.latencies_ns.append(time.monotonic_ns() - sent)
        return True


async def first_frame_times(http: aiohttp.ClientSession, url: str, tries: int) -> list[float]:
    """A publisher encodes real VP8; each try, a fresh subscriber joins and decodes."""
    publisher = Client(http, url, "@camera:localhost")
    publisher.answer_offers = False
    await publisher.join()
    await publisher.publish([("audio", AudioStreamTrack()), ("webcam", VideoStreamTrack())])
    await asyncio.sleep(1.0)  # the publisher is well into its stream
    times = []
    for n in range(tries):
        viewer = Client(http, url, f"@viewer{n}:localhost")
        subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        viewer.on_subscribed = lambda _f, s=subscribed: s.done() or s.set_result(None)
        start = time.monotonic()
        await viewer.join()
        await asyncio.wait_for(subscribed, 10)
        video = next(
            t.receiver.track for t in viewer.subscribe_pc.getTransceivers() if t.kind == "video"
        )
        await asyncio.wait_for(video.recv(), 10)
        times.append(time.monotonic() - start)
        await viewer.close()
        await asyncio.sleep(0.5)
    await publisher.close()
    return times
