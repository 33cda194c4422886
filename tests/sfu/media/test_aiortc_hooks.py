"""The private aiortc hooks of sfu/media/aiortc_hooks.py, each exercised on two real
peer connections over loopback. An aiortc upgrade that moves any of them fails here."""

from __future__ import annotations

import asyncio
import re
import tomllib
from pathlib import Path

import aiortc
from aiortc import RTCRtpReceiver
from aiortc.rtp import RtpPacket

from sfu.media import aiortc_hooks as hooks
from tests.support.waiting import until

ROOT = Path(__file__).resolve().parents[3]


def test_hooks_are_for_the_pinned_aiortc() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"aiortc=={hooks.SUPPORTED_AIORTC}" in deps
    assert aiortc.__version__ == hooks.SUPPORTED_AIORTC


async def connected_pair():
    """A sends one video track (a SilentTrack: no encoder runs), B receives it."""
    hooks.restrict_host_addresses(["127.0.0.1"])
    a, b = hooks.peer_connection(), hooks.peer_connection()
    sending = a.addTransceiver(hooks.SilentTrack("video"), direction="sendonly")
    await a.setLocalDescription(await a.createOffer())
    assert a.localDescription is not None
    await b.setRemoteDescription(a.localDescription)
    await b.setLocalDescription(await b.createAnswer())
    assert b.localDescription is not None
    await a.setRemoteDescription(b.localDescription)
    await until(
        lambda: asyncio.sleep(0, a.connectionState == b.connectionState == "connected"),
        "connected",
        timeout=10,
    )
    (receiving,) = b.getTransceivers()
    return a, b, sending, receiving


async def test_inject_intercept_feedback_and_negotiated_parameters() -> None:
    a, b, sending, receiving = await connected_pair()
    try:
        # only the loopback address is offered as a candidate
        hosts = set(re.findall(r"a=candidate:\S+ \d+ udp \d+ (\S+) ", a.localDescription.sdp))
        assert hosts == {"127.0.0.1"}

        agreed_a = hooks.negotiated(sending)
        agreed_b = hooks.negotiated(receiving)
        assert agreed_a.mid == agreed_b.mid == "0"
        assert agreed_a.codecs[0][1] == "video/vp8" and agreed_a.codecs[0][2] == 90000
        assert agreed_a.extensions["urn:ietf:params:rtp-hdrext:sdes:mid"] == 1
        assert agreed_a.sender_ssrc == sending.sender._ssrc
        assert hooks.remote_ssrc(b, receiving) == sending.sender._ssrc

        # B takes decrypted packets before aiortc parses them
        seen: list[bytes] = []
        hooks.intercept_rtp(
            receiving.receiver.transport, lambda data: bool(seen.append(data)) or True
        )
        packet = RtpPacket(
            payload_type=agreed_a.codecs[0][0],
            sequence_number=7,
            timestamp=9,
            ssrc=agreed_a.sender_ssrc,
        )
        packet.payload = b"\x10\x00not really vp8"
        sink = hooks.PacketSink(sending.sender.transport)
        assert sink.send(packet.serialize())
        await until(lambda: asyncio.sleep(0, seen), "packet intercepted", timeout=5)
        assert seen == [packet.serialize()]

        # B's feedback reaches A's sender hook: PLI and NACK
        feedback: list[hooks.Feedback] = []
        hooks.on_feedback(sending.sender, feedback.append)
        receiver: RTCRtpReceiver = receiving.receiver
        await hooks.request_keyframe(receiver, agreed_a.sender_ssrc)
        await receiver._send_rtcp_nack(agreed_a.sender_ssrc, [5, 6])
        await until(lambda: asyncio.sleep(0, len(feedback) >= 2), "feedback", timeout=5)
        assert hooks.Feedback(keyframe=True, lost=()) in feedback
        assert hooks.Feedback(keyframe=False, lost=(5, 6)) in feedback
        await hooks.send_estimate(receiver, agreed_a.sender_ssrc, 750_000)
        await until(lambda: asyncio.sleep(0, len(feedback) >= 3), "REMB", timeout=5)
        assert hooks.Feedback(keyframe=False, lost=(), bitrate=750_000) in feedback
    finally:
        await a.close()
        await b.close()
    # a closed transport refuses to send instead of raising
    assert not hooks.PacketSink(sending.sender.transport).send(b"\x80" + bytes(11))
