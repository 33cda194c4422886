"""Benchmark: the SFU forwarding synthetic RTP from N publishers to M subscribers.

The SFU (``sfu.media.VoiceService`` behind aiohttp, a permissive in-memory ``Access``)
runs in its own process, so its CPU time is its own. This process is the load: N
publishers each send an audio stream (50 packets/s of ~100 bytes) and a webcam stream
(30 frames/s as two ~1,200-byte packets: ~600 kbit/s) as pre-built RTP injected on real
aiortc peer connections (SRTP, ICE over loopback, no encoder); M subscribers receive
every publisher's two streams on real aiortc peer connections and read each packet's
send time (the first 8 payload bytes, CLOCK_MONOTONIC, shared by both processes).

Reported:
- SFU CPU per forwarded stream, and forwarded streams per core at 60% CPU;
- latency, p50/p95: from the publisher's send to the moment the SFU has sent the last
  copy (measured inside the SFU process: the SFU's part of the path, and within it the
  rewrite+protect+send fan-out alone), and from send to the subscriber's receipt (the
  whole loopback path, both aiortc stacks of the load included);
- the SFU's event loop lag and GC pauses, which explain latency tails on a busy machine;
- time from a subscriber's ``join`` frame to its first decoded video frame (real aiortc
  clients: the publisher encodes VP8, the subscriber decodes; the SFU asks the publisher
  for a key frame when the subscriber's transport comes up).

Targets (issue 8): >= 200 audio+video streams per core at <= 60% CPU; latency <= 3 ms
p50, <= 10 ms p95; first frame <= 700 ms after join.

The SFU process is ``sfu_bench_server.py``, the load ``sfu_bench_clients.py``.

Run from the repository root (``make bench-sfu``):

    .venv/bin/python benchmarks/bench_sfu.py [--publishers 4] [--subscribers 25]
        [--seconds 10] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sfu_bench_clients import (
    AUDIO_PAYLOAD,
    VIDEO_PACKETS_PER_FRAME,
    VIDEO_PAYLOAD,
    Client,
    Receipts,
    SyntheticStream,
    first_frame_times,
)
from sfu_bench_server import percentile, serve

from sfu.media import aiortc_hooks as hooks

PROFILE_PATH = "/tmp/bench_sfu_profile.txt"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(url: str, sfu_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    hooks.restrict_host_addresses(["127.0.0.1"])
    results: dict[str, Any] = {}
    async with aiohttp.ClientSession() as http:
        results["first_frame_s"] = await first_frame_times(http, url, args.first_frame_tries)

        receipts = Receipts()
        subscribers = []
        for n in range(args.subscribers):
            sub = Client(http, url, f"@sub{n}:localhost")

            def intercept(_frame: Any, sub: Client = sub) -> None:
                # every m-line is bundled on one transport: intercept it once
                if sub.subscribe_offers == 1:
                    transport = sub.subscribe_pc.getTransceivers()[0].receiver.transport
                    hooks.intercept_rtp(transport, receipts.handler)

            sub.on_subscribed = intercept
            await sub.join()
            subscribers.append(sub)
        publishers, streams = [], []
        for n in range(args.publishers):
            pub = Client(http, url, f"@pub{n}:localhost")
            pub.answer_offers = False  # publishers only send
            await pub.join()
            await pub.publish(
                [("audio", hooks.SilentTrack("audio")), ("webcam", hooks.SilentTrack("video"))]
            )
            publishers.append(pub)
        for pub in publishers:
            deadline = time.monotonic() + 20
            while pub.publish_pc.connectionState != "connected" and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            streams.append(
                (
                    SyntheticStream(pub, 0, AUDIO_PAYLOAD, 48000),
                    SyntheticStream(pub, 1, VIDEO_PAYLOAD, 90000),
                )
            )
        expected = args.publishers * 2 * args.subscribers

        async def pace(audio: SyntheticStream, video: SyntheticStream, phase: float) -> None:
            """One publisher: audio every 20 ms, a video frame every 1/30 s, starting at
            its own phase (real publishers are not synchronised with each other)."""
            loop = asyncio.get_running_loop()
            start = loop.time() + phase
            next_audio, next_video = start, start + phase / 2
            frames = packets = 0
            while not stop.is_set():
                now = loop.time()
                if now >= next_audio:
                    audio.send(False, 960)
                    packets += 1
                    next_audio = start + packets * 0.02
                if now >= next_video:
                    for i in range(VIDEO_PACKETS_PER_FRAME):
                        last = i == VIDEO_PACKETS_PER_FRAME - 1
                        video.send(last, 3000 if last else 0)
                    frames += 1
                    next_video = start + phase / 2 + frames / 30
                await asyncio.sleep(max(0.0, min(next_audio, next_video) - loop.time()))

        stop = asyncio.Event()
        pacers = [
            asyncio.ensure_future(pace(a, v, 0.02 * n / len(streams)))
            for n, (a, v) in enumerate(streams)
        ]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            if all(s.subscribe_offers for s in subscribers):
                break
        await asyncio.sleep(args.warmup)
        sent0 = sum(a.sent + v.sent for a, v in streams)
        got0 = receipts.packets
        cpu0, me0, wall0 = cpu_seconds(sfu_pid), time.process_time(), time.monotonic()
        receipts.measuring = True
        os.kill(sfu_pid, signal.SIGUSR1)
        profiler = None
        if args.profile:
            profiler = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw",
                 "-r", "200", "-d", str(int(args.seconds)), "-p", str(sfu_pid),
                 "-o", PROFILE_PATH],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        await asyncio.sleep(args.seconds)
        receipts.measuring = False
        results["load_average"] = os.getloadavg()[0]
        os.kill(sfu_pid, signal.SIGUSR2)
        wall = time.monotonic() - wall0
        results.update(
            streams=expected,
            sfu_cpu=(cpu_seconds(sfu_pid) - cpu0) / wall,
            load_cpu=(time.process_time() - me0) / wall,
            sent_per_s=(sum(a.sent + v.sent for a, v in streams) - sent0) / wall,
            received_per_s=(receipts.packets - got0) / wall,
            latencies_ms=sorted(x / 1e6 for x in receipts.latencies_ns),
        )
        stop.set()
        await asyncio.gather(*pacers)
        for _ in range(100):
            if Path(args.samples_path).exists():
                break
            await asyncio.sleep(0.1)
        sfu_side = json.loads(Path(args.samples_path).read_text())
        egress = sfu_side["samples"]
        results["loop_lag_ms"] = sfu_side["loop_lag_ms"]
        results["gc"] = (sfu_side["gc_pauses"], sfu_side["gc_max_ms"])
        results["egress_ms"] = sorted(total / 1e6 for total, _ in egress)
        results["fanout_ms"] = sorted(work / 1e6 for _, work in egress)
        if profiler is not None:
            profiler.wait(timeout=args.seconds + 30)
        for client in subscribers + publishers:
            await client.close()
    return results


IDLE = ("Condition.wait", "EpollSelector.select", "_WorkItem.run", "_worker")


def hot_spots(path: str, top: int = 12) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """From py-spy's raw output, busy samples only (not threads or the loop waiting):
    the top functions by own time, and by time including what they call."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [f.split(" (")[0] for f in stack.split(";")]
        if any(f.startswith(IDLE) for f in frames[-2:]):
            continue
        own[frames[-1]] += int(count)
        for name in set(frames):
            inclusive[name] += int(count)
        total += int(count)
    if not total:
        return [], []
    return (
        [(name, n / total) for name, n in own.most_common(top)],
        [(name, n / total) for name, n in inclusive.most_common(top * 2)],
    )


def report(r: dict[str, Any], args: argparse.Namespace) -> None:
    lat = r["latencies_ms"]
    p50 = statistics.median(lat) if lat else float("nan")
    p95 = lat[int(len(lat) * 0.95)] if lat else float("nan")
    per_stream = r["sfu_cpu"] / r["streams"]
    per_core = 0.6 / per_stream if per_stream else float("inf")
    first = r["first_frame_s"]
    expected_rate = args.publishers * (50 + 30 * VIDEO_PACKETS_PER_FRAME) * args.subscribers
    print(f"SFU: {args.publishers} publishers x {args.subscribers} subscribers, "
          f"{r['streams']} forwarded streams (audio 50 pkt/s x {AUDIO_PAYLOAD} B, "
          f"video 30 fps x {VIDEO_PACKETS_PER_FRAME} x {VIDEO_PAYLOAD} B)")  # fmt: skip
    print(f"  packets: sent {r['sent_per_s']:.0f}/s, received {r['received_per_s']:.0f}/s "
          f"(expected {expected_rate}/s)")  # fmt: skip
    print(f"  SFU CPU: {100 * r['sfu_cpu']:.1f}% of a core; {100 * per_stream:.3f}% "
          f"per stream; {per_core:.0f} streams per core at 60% CPU (target >= 200)")  # fmt: skip
    print(f"  load generator CPU: {100 * r['load_cpu']:.0f}% of a core")
    print(f"  latency send->receive through the SFU: p50 {p50:.2f} ms, p95 {p95:.2f} ms "
          f"(targets <= 3 / <= 10 ms), {len(lat)} samples")  # fmt: skip
    egress = r["egress_ms"]
    e50 = statistics.median(egress) if egress else float("nan")
    e95 = egress[int(len(egress) * 0.95)] if egress else float("nan")
    fanout = r["fanout_ms"]
    print(f"  latency send->last copy sent by the SFU (SFU's part): p50 {e50:.2f} ms, "
          f"p95 {e95:.2f} ms, {len(egress)} samples; of which rewriting+protecting+sending "
          f"the {args.subscribers} copies: p50 {percentile(fanout, 0.5):.2f} ms, "
          f"p95 {percentile(fanout, 0.95):.2f} ms")  # fmt: skip
    lag = r["loop_lag_ms"]
    print(f"  SFU event loop lag: p50 {lag[0]:.2f} ms, p95 {lag[1]:.2f} ms, p99.9 {lag[2]:.2f} ms; "
          f"{r['gc'][0]} GC runs, longest {r['gc'][1]:.1f} ms")  # fmt: skip
    print(
        f"  machine load average while measuring: {r['load_average']:.2f} on {os.cpu_count()} cores"
    )
    print(f"  join -> first decoded frame: median {1000 * statistics.median(first):.0f} ms, "
          f"max {1000 * max(first):.0f} ms over {len(first)} joins (target <= 700 ms)")  # fmt: skip
    lost = 1 - r["received_per_s"] / expected_rate if expected_rate else 0
    verdicts = {
        "streams/core at 60%": per_core >= 200,
        "SFU latency p50": e50 <= 3,
        "SFU latency p95": e95 <= 10,
        "end-to-end p50": p50 <= 3,
        "end-to-end p95": p95 <= 10,
        "first frame": max(first) <= 0.7,
        "delivery (>= 99%)": lost <= 0.01,
    }
    print(
        "  targets: " + ", ".join(f"{k} {'MET' if v else 'NOT met'}" for k, v in verdicts.items())
    )
    if args.profile:
        own, inclusive = hot_spots(PROFILE_PATH)
        print("  SFU busy time by function, own (py-spy):")
        for name, share in own:
            print(f"    {100 * share:5.1f}%  {name}")
        print("  ... and including callees:")
        for name, share in inclusive:
            print(f"    {100 * share:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--samples-path", help=argparse.SUPPRESS)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--subscribers", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--first-frame-tries", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="py-spy the SFU process")
    args = parser.parse_args()
    if args.serve:
        hooks.restrict_host_addresses(["127.0.0.1"])
        asyncio.run(serve(args.serve, args.samples_path))
        return
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args.samples_path = f"/tmp/bench_sfu_latency_{os.getpid()}.json"
    sfu = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port), "--samples-path", args.samples_path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sfu.stdout is not None
        if sfu.stdout.readline().strip() != "ready":
            raise SystemExit("the SFU process did not start")
        results = asyncio.run(load(f"http://127.0.0.1:{port}/ws", sfu.pid, args))
        report(results, args)
    finally:
        if sfu.stdin is not None:
            sfu.stdin.close()
        Path(args.samples_path).unlink(missing_ok=True)
        try:
            sfu.wait(timeout=20)
        except subprocess.TimeoutExpired:
            sfu.kill()
            sfu.wait()


if __name__ == "__main__":
    main()
