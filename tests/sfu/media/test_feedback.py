"""RTCP through the SFU: a subscriber's picture loss indication reaches the publisher
(so a late joiner gets a key frame), and its NACKs are answered from the SFU's history."""

from __future__ import annotations

import asyncio

from sfu.media import aiortc_hooks as hooks
from tests.support.waiting import until

from .client import ColorTrack


async def test_pli_reaches_the_publisher_and_nack_is_answered(sfu, clients) -> None:
    ann, bob = await clients(), await clients()
    await ann.join("ok:@ann:x")
    await bob.join("ok:@bob:x")
    await ann.publish([("webcam", ColorTrack((1, 2, 3)))])
    await until(lambda: asyncio.sleep(0, bob.received("@ann:x", "webcam")), "offered", timeout=10)
    video = bob.received("@ann:x", "webcam")
    await asyncio.wait_for(video.recv(), 10)  # media flows and decodes

    # what ann's publishing stack hears back
    assert ann.publish_pc is not None
    (ann_sending,) = ann.publish_pc.getTransceivers()
    heard: list[hooks.Feedback] = []
    hooks.on_feedback(ann_sending.sender, heard.append)

    assert bob.subscribe_pc is not None
    (bob_receiving,) = bob.subscribe_pc.getTransceivers()
    sfu_ssrc = hooks.remote_ssrc(bob.subscribe_pc, bob_receiving)
    assert sfu_ssrc is not None and sfu_ssrc != ann_sending.sender._ssrc  # rewritten
    await asyncio.sleep(0.35)  # past the SFU's key frame rate limit
    await hooks.request_keyframe(bob_receiving.receiver, sfu_ssrc)
    await until(
        lambda: asyncio.sleep(0, any(f.keyframe for f in heard)),
        "ann asked for a key frame",
        timeout=3,
    )

    # bob reports two recent packets lost: the SFU resends them itself
    (room,) = sfu.service.rooms.values()
    bob_side = next(p for p in room.participants.values() if p.user_id == "@bob:x")
    (slot,) = bob_side.subscriber.slots
    assert slot.output is not None
    last = slot.output.last_seq
    await bob_receiving.receiver._send_rtcp_nack(sfu_ssrc, [last - 1, last])
    await until(
        lambda: asyncio.sleep(0, slot.output.retransmitted == 2), "retransmitted", timeout=3
    )
    assert not any(f.lost for f in heard)  # the publisher was not bothered with NACKs
    # bob's receiver estimates its bandwidth (REMB, from the SFU's abs-send-time); ann
    # hears it, about her own stream
    await until(
        lambda: asyncio.sleep(0, any(f.bitrate for f in heard)), "ann hears REMB", timeout=8
    )


async def test_sender_reports_carry_the_publishers_clock_into_the_rewritten_stream(
    sfu, clients
) -> None:
    ann, bob = await clients(), await clients()
    await ann.join("ok:@ann:x")
    await bob.join("ok:@bob:x")
    await ann.publish([("webcam", ColorTrack((1, 2, 3)))])
    await until(lambda: asyncio.sleep(0, bob.received("@ann:x", "webcam")), "offered", timeout=10)
    assert bob.subscribe_pc is not None
    (bob_receiving,) = bob.subscribe_pc.getTransceivers()
    reports: list[tuple[int, int, int]] = []
    hooks.on_sender_report(bob_receiving.receiver, lambda *r: reports.append(r))
    # aiortc sends a sender report every 0.5 to 1.5 s; the publisher's must arrive first
    await until(lambda: asyncio.sleep(0, len(reports) >= 2), "sender reports", timeout=8)
    ssrc, ntp, rtp_timestamp = reports[-1]
    assert ssrc == hooks.remote_ssrc(bob.subscribe_pc, bob_receiving)
    # NTP: the publisher's wall clock (seconds since 1900 in the high 32 bits), not 0
    from aiortc.clock import current_ntp_time

    assert abs((ntp >> 32) - (current_ntp_time() >> 32)) <= 3
    # RTP: within a couple of seconds (90 kHz) of what the SFU last sent bob
    (room,) = sfu.service.rooms.values()
    bob_side = next(p for p in room.participants.values() if p.user_id == "@bob:x")
    (slot,) = bob_side.subscriber.slots
    assert slot.output is not None
    gap = (slot.output.last_ts - rtp_timestamp) & 0xFFFFFFFF
    assert min(gap, 0x100000000 - gap) < 2 * 90000
    stats = await bob_receiving.receiver.getStats()
    sent = [s.packetsSent for s in stats.values() if s.type == "remote-outbound-rtp"]
    assert sent and sent[0] > 0
