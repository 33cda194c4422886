"""The SFU side of ``bench_sfu.py``: the media service behind aiohttp with a permissive
``Access``, and the probes that measure it from inside (egress latency, loop lag, GC)."""

from __future__ import annotations

import asyncio
import gc
import json
import signal
import struct
import sys
import time
from pathlib import Path

from aiohttp import web

from sfu.access import Grant, TrackKind
from sfu.media import MediaSettings, VoiceService

ROOM = "!bench:localhost"


def percentile(values: list[float], q: float) -> float:
    return values[min(int(len(values) * q), len(values) - 1)] if values else float("nan")


def payload_offset(data: bytes) -> int:
    """Where an RTP packet's payload starts (after CSRCs and the header extension)."""
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        offset += 4 + 4 * (data[offset + 2] << 8 | data[offset + 3])
    return offset


class BenchAccess:
    """Every token is a user id, member of the one room."""

    def verify(self, token: str) -> Grant:
        return Grant(token, "BENCH", ROOM, int(time.time() * 1000) + 3_600_000)

    async def check_member(self, grant: Grant) -> None:
        return None

    async def may_moderate(self, room_id: str, moderator: str, target: str) -> bool:
        return False


class NullRoster:
    async def joined(self, grant: Grant, session_id: str, tracks: list[TrackKind]) -> None:
        return None

    async def left(self, grant: Grant, session_id: str) -> None:
        return None


def sample_egress_latency(path: str) -> None:
    """In the SFU process: between SIGUSR1 and SIGUSR2, record for each forwarded packet
    the time from its send stamp to the moment the SFU has sent its last copy (the SFU's
    own part of the path: publisher -> SFU receive -> rewrite, protect, send to all);
    SIGUSR2 writes the samples to ``path``."""
    from sfu.media.forwarding import Source

    samples: list[tuple[int, int]] = []
    on = [False]
    original = Source.forward

    def forward(self: Source, data: bytes, now: float) -> int:
        entry = time.monotonic_ns()
        sent = original(self, data, now)
        if on[0] and sent:
            (stamp,) = struct.unpack_from("!Q", data, payload_offset(data))
            done = time.monotonic_ns()
            samples.append((done - stamp, done - entry))
        return sent

    Source.forward = forward  # type: ignore[method-assign]
    loop = asyncio.get_running_loop()

    def start() -> None:
        samples.clear()
        on[0] = True

    lags: list[float] = []
    pauses: list[float] = []
    gc_start = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        elif on[0]:
            pauses.append(time.perf_counter() - gc_start[0])

    gc.callbacks.append(on_gc)

    async def watch_loop() -> None:
        while True:
            before = loop.time()
            await asyncio.sleep(0.001)
            if on[0]:
                lags.append(loop.time() - before - 0.001)

    watcher = asyncio.ensure_future(watch_loop())

    def stop() -> None:
        on[0] = False
        watcher.cancel()
        lags.sort()
        Path(path).write_text(
            json.dumps(
                {
                    "samples": samples,
                    "loop_lag_ms": [1000 * percentile(lags, q) for q in (0.5, 0.95, 0.999)],
                    "gc_pauses": len(pauses),
                    "gc_max_ms": 1000 * max(pauses, default=0.0),
                }
            )
        )

    loop.add_signal_handler(signal.SIGUSR1, start)
    loop.add_signal_handler(signal.SIGUSR2, stop)


async def serve(port: int, samples_path: str) -> None:
    sample_egress_latency(samples_path)
    service = VoiceService(BenchAccess(), NullRoster(), MediaSettings(drop_timeout_s=30))
    app = web.Application()
    app.router.add_get("/ws", service.websocket)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gc.freeze()  # as sfu/__main__.py does once serving
    print("ready", flush=True)
    # run until the parent closes our stdin
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await service.close()
    await runner.cleanup()


# -- the load ------------------------------------------------------------------------
