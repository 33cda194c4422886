"""Byte-level RTP rewriting (sfu/media/forwarding.py), checked against aiortc's own RTP
parser: what a subscriber's stack would read out of each forwarded packet."""

from __future__ import annotations

from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from sfu.media.forwarding import HISTORY, MID_URI, Output, Source

LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
ABS = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
BOTH_EXT = {MID_URI: 2, ABS: 5}
PUB_EXT = {MID_URI: 1, LEVEL: 2, ABS: 3}
SUB_EXT = {MID_URI: 4, LEVEL: 9}  # other ids, and no abs-send-time negotiated


def ext_map(extensions: dict[str, int]) -> HeaderExtensionsMap:
    m = HeaderExtensionsMap()
    m.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=i, uri=u) for u, i in extensions.items()
            ]
        )
    )
    return m


def publisher_packet(seq: int, ts: int, payload: bytes = b"opus!", marker: int = 0) -> bytes:
    packet = RtpPacket(payload_type=111, sequence_number=seq, timestamp=ts, ssrc=0xAAAA)
    packet.marker = marker
    packet.payload = payload
    packet.extensions.mid = "0"
    packet.extensions.audio_level = (True, 30)
    packet.extensions.abs_send_time = 0x123456
    return packet.serialize(ext_map(PUB_EXT))


class Wire:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.up = True

    def send(self, packet: bytes) -> bool:
        if self.up:
            self.sent.append(packet)
        return self.up

    def parsed(self, extensions: dict[str, int] = SUB_EXT) -> list[RtpPacket]:
        return [RtpPacket.parse(p, ext_map(extensions)) for p in self.sent]


def output(wire: Wire, *, mid: str = "7", history: bool = True, seq: int = 65530) -> Output:
    return Output(
        send=wire.send,
        ssrc=0xBBBB,
        payload_type=96,
        clock_rate=48000,
        extensions=SUB_EXT,
        mid=mid,
        keep_history=history,
        initial_seq=seq,
        initial_ts=1000,
    )


def source(requests: list[float] | None = None) -> Source:
    return Source(
        ssrc=0xAAAA,
        clock_rate=48000,
        extensions=PUB_EXT,
        request_keyframe=None if requests is None else (lambda: requests.append(1.0)),
    )


def test_header_is_rewritten_for_the_subscriber_and_payload_kept() -> None:
    src, wire = source(), Wire()
    src.attach(output(wire), now=0.0)
    for i in range(3):
        assert src.forward(publisher_packet(100 + i, 5000 + 960 * i, marker=i % 2), 0.02 * i) == 1
    packets = wire.parsed()
    assert [p.ssrc for p in packets] == [0xBBBB] * 3
    assert [p.payload_type for p in packets] == [96] * 3
    assert [p.marker for p in packets] == [0, 1, 0]
    # sequence continues from the output's own counter, wrapping at 16 bits
    assert [p.sequence_number for p in packets] == [65530, 65531, 65532]
    # timestamps keep the publisher's spacing
    assert packets[1].timestamp - packets[0].timestamp == 960
    assert packets[0].timestamp == (1000 + 960) & 0xFFFFFFFF  # spliced: last + 20 ms
    assert [p.payload for p in packets] == [b"opus!"] * 3
    # extensions: mid is the subscriber's, the level is kept under the subscriber's id,
    # abs-send-time (not negotiated by this subscriber) is dropped
    assert packets[0].extensions.mid == "7"
    assert packets[0].extensions.audio_level == (True, 30)
    assert packets[0].extensions.abs_send_time is None


def test_every_subscriber_gets_its_own_copy() -> None:
    src, one, two = source(), Wire(), Wire()
    src.attach(output(one, mid="1", seq=10), 0.0)
    src.attach(output(two, mid="12", seq=500), 0.0)
    assert src.forward(publisher_packet(7, 0), 0.0) == 2
    (a,), (b,) = one.parsed(), two.parsed()
    assert (a.sequence_number, a.extensions.mid) == (10, "1")
    assert (b.sequence_number, b.extensions.mid) == (500, "12")
    assert a.payload == b.payload == b"opus!"


def test_muted_source_sends_nothing_and_resumes_without_a_sequence_gap() -> None:
    src, wire = source(), Wire()
    src.attach(output(wire, seq=0), 0.0)
    src.forward(publisher_packet(1, 960), 0.0)
    src.set_forwarding(False)
    for i in range(2, 50):  # about a second of audio while muted
        assert src.forward(publisher_packet(i, 960 * i), 0.02 * i) == 0
    src.set_forwarding(True)
    src.forward(publisher_packet(50, 960 * 50), 1.0)
    first, resumed = wire.parsed()
    assert resumed.sequence_number == first.sequence_number + 1  # no gap to NACK
    # the timestamp moved on by the wall-clock time that passed (1 s at 48 kHz)
    assert resumed.timestamp - first.timestamp == 48000


def test_disabled_output_is_skipped_and_resplices() -> None:
    src, wire = source(), Wire()
    out = output(wire, seq=0)
    src.attach(out, 0.0)
    src.forward(publisher_packet(1, 0), 0.0)
    out.enabled = False
    src.forward(publisher_packet(2, 960), 0.02)
    out.resplice()
    out.enabled = True
    src.forward(publisher_packet(3, 1920), 0.04)
    assert [p.sequence_number for p in wire.parsed()] == [0, 1]


def test_nack_resends_the_same_bytes_from_history() -> None:
    src, wire = source(), Wire()
    out = output(wire, seq=100)
    src.attach(out, 0.0)
    for i in range(10):
        src.forward(publisher_packet(i, 960 * i, payload=bytes([i]) * 50), 0.0)
    originals = list(wire.sent)
    assert out.retransmit((103, 105, 9999)) == 2  # 9999 was never sent
    assert wire.sent[-2:] == [originals[3], originals[5]]
    # packets older than the history are gone
    for i in range(10, 10 + HISTORY):
        src.forward(publisher_packet(i, 960 * i), 0.0)
    assert out.retransmit((103,)) == 0
    assert output(Wire(), history=False).retransmit((1,)) == 0


def test_keyframe_requests_are_rate_limited_but_not_lost() -> None:
    requests: list[float] = []
    src = source(requests)
    src.attach(output(Wire()), now=0.0)  # a new subscriber asks for a key frame
    assert len(requests) == 1
    src.keyframe_needed(0.1)  # too soon: kept for later
    assert len(requests) == 1
    src.forward(publisher_packet(1, 0), 0.2)
    assert len(requests) == 1
    src.forward(publisher_packet(2, 0), 0.35)  # the interval is over: sent now
    assert len(requests) == 2
    src.forward(publisher_packet(3, 0), 0.9)
    assert len(requests) == 2
    src.keyframe_needed(0.95, force=True)
    assert len(requests) == 3


def test_malformed_packets_are_dropped() -> None:
    src, wire = source(), Wire()
    src.attach(output(wire), 0.0)
    good = publisher_packet(1, 0)
    assert src.forward(good[:11], 0.0) == 0  # shorter than a header
    assert src.forward(bytes([0x40]) + good[1:], 0.0) == 0  # RTP version 1
    assert src.forward(bytes([good[0] | 0x0F]) + good[1:20], 0.0) == 0  # CSRCs past the end
    assert src.forward(good[:14], 0.0) == 0  # extension header cut off
    assert wire.sent == []
    assert src.forward(good, 0.0) == 1


def test_packet_without_extensions_and_detach() -> None:
    src, wire = source(), Wire()
    out = Output(
        send=wire.send,
        ssrc=1,
        payload_type=100,
        clock_rate=90000,
        extensions={},
        mid="0",
        keep_history=False,
        initial_seq=0,
        initial_ts=0,
    )
    src.attach(out, 0.0)
    plain = RtpPacket(payload_type=96, sequence_number=1, timestamp=9, ssrc=0xAAAA)
    plain.payload = b"vp8"
    src.forward(plain.serialize(), 0.0)
    (packet,) = wire.parsed({})
    assert packet.payload == b"vp8" and packet.extensions.mid is None
    src.detach(out)
    assert src.forward(plain.serialize(), 0.0) == 0


def test_sender_report_is_shifted_into_each_outputs_timestamps() -> None:
    src, one, two = source(), Wire(), Wire()
    a, b = output(one, seq=1), output(two, seq=1)
    seen: dict[str, tuple[int, int, int, int]] = {}
    a.report = lambda *r: seen.__setitem__("a", r)
    b.report = lambda *r: seen.__setitem__("b", r)
    src.attach(a, 0.0)
    src.forward(publisher_packet(1, 10_000), 0.0)
    src.attach(b, 0.0)
    src.forward(publisher_packet(2, 10_960), 0.02)
    src.sender_report(ntp=123 << 32, rtp_timestamp=10_000)
    pa, _ = one.parsed()
    (pb,) = two.parsed()
    # the instant the publisher calls 10_000 is its first packet's: a sent it as pa
    assert seen["a"] == (123 << 32, pa.timestamp, 2, 10)
    assert seen["b"][:2] == (123 << 32, (pb.timestamp - 960) & 0xFFFFFFFF)
    assert seen["b"][2:] == (1, 5)


def test_abs_send_time_is_the_sfus_send_time() -> None:
    src, wire = source(), Wire()
    out = Output(
        send=wire.send,
        ssrc=1,
        payload_type=96,
        clock_rate=90000,
        extensions=BOTH_EXT,
        mid="3",
        keep_history=False,
        initial_seq=0,
        initial_ts=0,
    )
    src.attach(out, 0.0)
    src.forward(publisher_packet(1, 0), 100.25)  # the publisher stamped 0x123456
    (packet,) = wire.parsed(BOTH_EXT)
    assert packet.extensions.abs_send_time == int(100.25 * (1 << 18)) & 0xFFFFFF
    assert packet.extensions.mid == "3"


def test_publisher_hears_the_lowest_subscriber_estimate_rate_limited() -> None:
    sent: list[int] = []
    src = Source(
        ssrc=0xAAAA, clock_rate=90000, extensions={}, request_keyframe=None,
        send_estimate=sent.append,
    )  # fmt: skip
    fast, slow = output(Wire()), output(Wire())
    src.attach(fast, 0.0)
    src.attach(slow, 0.0)
    src.estimate(fast, 2_000_000, 0.0)
    src.estimate(slow, 800_000, 0.1)  # a drop of more than a tenth goes out at once
    src.estimate(fast, 2_500_000, 0.2)  # nothing new for the publisher within a second
    assert sent == [2_000_000, 800_000]
    src.estimate(slow, 1_000_000, 1.2)
    assert sent == [2_000_000, 800_000, 1_000_000]
    src.detach(slow)  # the slow one left: the rest may have more
    src.estimate(fast, 2_500_000, 2.3)
    assert sent[-1] == 2_500_000
    src.estimate(slow, 1, 3.5)  # no longer attached: ignored
    assert sent[-1] == 2_500_000
