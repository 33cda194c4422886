"""RTP forwarding at the byte level: one published stream to many subscriber streams.

No codec runs here. A publisher's decrypted packet is read with ``struct`` (RFC 3550
section 5.1 fixed header, RFC 8285 one-byte header extensions) and, for each subscriber,
written again with that subscriber's SSRC, payload type, a continuous sequence number and
timestamp, and the header extensions that subscriber negotiated (ids remapped by URI;
``sdes:mid`` set to the subscriber's mid, RFC 8843 section 15). The payload is copied as
it is.

The sequence number and timestamp are *spliced*: whenever an output (re)starts from a
source - a new subscriber, unmute, undeafen - they continue from the last value that
output sent, so the receiver sees one unbroken stream instead of a gap it would NACK or a
jump its jitter buffer would reject.

Each video output keeps the last ``HISTORY`` packets it sent, to answer NACKs (RFC 4585
section 6.2.1) by resending the same bytes.

This module is pure (no I/O, no clock): the caller passes ``now`` and a ``send``
callable.
"""

from __future__ import annotations

from collections.abc import Callable
from struct import Struct

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
HISTORY = 256  # packets (~4 s of 600 kbit/s video); a power of two (seq & (HISTORY - 1))
KEYFRAME_REQUEST_INTERVAL_S = 0.3  # at most one PLI per source per interval
ESTIMATE_INTERVAL_S = 1.0  # at most one REMB per source per interval (unless it drops)

_HEADER = Struct("!BBHII")
_U32 = Struct("!I")
_EXT_HEADER = Struct("!HH")
_ONE_BYTE_PROFILE = 0xBEDE


class Output:
    """One subscriber's copy of one source: everything needed to rewrite a packet for it."""

    __slots__ = (
        "clock_rate",
        "enabled",
        "forwarded",
        "history",
        "id_map",
        "last_seq",
        "last_time",
        "last_ts",
        "mid_element",
        "octets",
        "payload_type",
        "report",
        "retransmitted",
        "send",
        "seq_offset",
        "spliced",
        "ssrc",
        "ts_offset",
    )

    def __init__(
        self,
        *,
        send: Callable[[bytes], bool],
        ssrc: int,
        payload_type: int,
        clock_rate: int,
        extensions: dict[str, int],
        mid: str,
        keep_history: bool,
        initial_seq: int,
        initial_ts: int,
    ) -> None:
        self.send = send
        self.ssrc = ssrc
        self.payload_type = payload_type
        self.clock_rate = clock_rate
        mid_id = extensions.get(MID_URI)
        mid_bytes = mid.encode()
        self.mid_element = (
            bytes([(mid_id << 4) | (len(mid_bytes) - 1)]) + mid_bytes
            if mid_id is not None and 0 < len(mid_bytes) <= 16
            else b""
        )
        # subscriber extension id per URI; translated to a per-source id map on attach
        self.id_map: dict[str, int] = {u: i for u, i in extensions.items() if u != MID_URI}
        self.history: list[bytes | None] | None = [None] * HISTORY if keep_history else None
        self.enabled = True
        self.spliced = False
        self.seq_offset = 0
        self.ts_offset = 0
        self.last_seq = (initial_seq - 1) & 0xFFFF
        self.last_ts = initial_ts & 0xFFFFFFFF
        self.last_time: float | None = None
        self.forwarded = 0
        self.octets = 0
        self.retransmitted = 0
        # (ntp, rtp timestamp, packets, octets) for this output's RTCP sender reports
        self.report: Callable[[int, int, int, int], None] | None = None

    def resplice(self) -> None:
        """Continue sequence and timestamp from what was last sent, at the next packet."""
        self.spliced = False

    def retransmit(self, lost: tuple[int, ...]) -> int:
        """Resend the packets a NACK names that are still in the history."""
        history = self.history
        if history is None:
            return 0
        sent = 0
        for seq in lost:
            packet = history[seq & (HISTORY - 1)]
            if packet is not None and (packet[2] << 8 | packet[3]) == seq and self.send(packet):
                sent += 1
        self.retransmitted += sent
        return sent


class Source:
    """One published track: its incoming SSRC and extension ids, the outputs it feeds,
    and whether it is forwarded at all (muted audio is not)."""

    def __init__(
        self,
        *,
        ssrc: int,
        clock_rate: int,
        extensions: dict[str, int],
        request_keyframe: Callable[[], None] | None,
        send_estimate: Callable[[int], None] | None = None,
    ) -> None:
        self.ssrc = ssrc
        self.clock_rate = clock_rate
        # publisher extension id -> URI
        self._uri_by_id = {i: u for u, i in extensions.items() if u != MID_URI}
        self._abs_send_time_id = extensions.get(ABS_SEND_TIME_URI, 0)
        self._request_keyframe = request_keyframe
        self._last_keyframe_request = float("-inf")
        self._keyframe_pending = False
        self._send_estimate = send_estimate
        self._estimates: dict[int, int] = {}  # id(output) -> its subscriber's REMB
        self._last_estimate: tuple[float, int] | None = None
        self.outputs: list[Output] = []
        self._translations: dict[int, bytes] = {}
        self.forwarding = True
        self.received = 0

    # -- outputs ---------------------------------------------------------------------

    def attach(self, output: Output, now: float) -> None:
        output.resplice()
        self._translations[id(output)] = self._translation(output)
        self.outputs.append(output)
        self.keyframe_needed(now)

    def detach(self, output: Output) -> None:
        if output in self.outputs:
            self.outputs.remove(output)
        self._translations.pop(id(output), None)
        self._estimates.pop(id(output), None)

    def _translation(self, output: Output) -> bytes:
        """A 16-byte table: publisher extension id -> subscriber id (0 = drop)."""
        table = bytearray(16)
        for pub_id, uri in self._uri_by_id.items():
            sub_id = output.id_map.get(uri)
            if sub_id is not None and 0 < pub_id < 15 and 0 < sub_id < 15:
                table[pub_id] = sub_id
        return bytes(table)

    def sender_report(self, ntp: int, rtp_timestamp: int) -> None:
        """The publisher's RTCP SR: NTP time ``ntp`` is RTP time ``rtp_timestamp`` in its
        stream. Each output reports the same instant in its own, shifted, timestamps
        (RFC 3550 section 6.4.1), so a subscriber can synchronise audio and video."""
        for output in self.outputs:
            if output.report is not None and output.spliced:
                shifted = (rtp_timestamp + output.ts_offset) & 0xFFFFFFFF
                output.report(ntp, shifted, output.forwarded, output.octets)

    def estimate(self, output: Output, bitrate: int, now: float) -> None:
        """A subscriber's REMB. The publisher hears the lowest estimate among the
        subscribers (no simulcast: one stream must suit the slowest), at most once per
        ``ESTIMATE_INTERVAL_S`` unless it fell by more than a tenth."""
        if self._send_estimate is None or id(output) not in self._translations:
            return
        self._estimates[id(output)] = bitrate
        lowest = min(self._estimates.values())
        last = self._last_estimate
        if last is None or now - last[0] >= ESTIMATE_INTERVAL_S or lowest < 0.9 * last[1]:
            self._last_estimate = (now, lowest)
            self._send_estimate(lowest)

    def set_forwarding(self, forwarding: bool) -> None:
        if forwarding and not self.forwarding:
            for output in self.outputs:
                output.resplice()
        self.forwarding = forwarding

    def keyframe_needed(self, now: float, force: bool = False) -> None:
        """A subscriber lost the picture or just arrived: ask the publisher for a key
        frame, at most once per ``KEYFRAME_REQUEST_INTERVAL_S``; a request inside the
        interval is kept and sent when it ends (from ``forward``), not dropped."""
        if self._request_keyframe is None:
            return
        if force or now - self._last_keyframe_request >= KEYFRAME_REQUEST_INTERVAL_S:
            self._last_keyframe_request = now
            self._keyframe_pending = False
            self._request_keyframe()
        else:
            self._keyframe_pending = True

    def _restamp(self, elements: list[tuple[int, bytes]], now: float) -> list[tuple[int, bytes]]:
        """abs-send-time is the time the packet leaves its sender, 6.18 fixed-point
        seconds (webrtc.org's abs-send-time spec): the receiver's bandwidth estimate
        compares it with arrival times, so the SFU, which sends the copy, stamps its own
        time (any clock will do: only differences count)."""
        stamp = (int(now * 262144) & 0xFFFFFF).to_bytes(3, "big")
        return [(i, stamp if i == self._abs_send_time_id else v) for i, v in elements]

    # -- the hot path ----------------------------------------------------------------

    def forward(self, data: bytes, now: float) -> int:
        """Rewrite and send one decrypted packet to every enabled output; returns how
        many copies were sent. Malformed packets are dropped."""
        self.received += 1
        if self._keyframe_pending:
            self.keyframe_needed(now)
        if not self.forwarding or not self.outputs or len(data) < 12:
            return 0
        b0 = data[0]
        if b0 >> 6 != 2:
            return 0
        offset = 12 + 4 * (b0 & 0x0F)
        elements: list[tuple[int, bytes]] = []
        if b0 & 0x10:
            if len(data) < offset + 4:
                return 0
            profile, words = _EXT_HEADER.unpack_from(data, offset)
            start = offset + 4
            offset = start + 4 * words
            if offset > len(data):
                return 0
            if profile == _ONE_BYTE_PROFILE:
                elements = _one_byte_elements(data, start, offset)
                if self._abs_send_time_id:
                    elements = self._restamp(elements, now)
        if offset > len(data):
            return 0
        payload = data[offset:]
        second = data[1] & 0x80  # keep the marker bit, replace the payload type
        seq = data[2] << 8 | data[3]
        (ts,) = _U32.unpack_from(data, 4)
        keep_padding = b0 & 0x20

        built: dict[bytes, bytes] = {}
        sent = 0
        for output in self.outputs:
            if not output.enabled:
                continue
            if not output.spliced:
                output.seq_offset = (output.last_seq + 1 - seq) & 0xFFFF
                elapsed = 0.02 if output.last_time is None else max(now - output.last_time, 0.0)
                step = max(1, int(elapsed * output.clock_rate))
                output.ts_offset = (output.last_ts + step - ts) & 0xFFFFFFFF
                output.spliced = True
            translation = self._translations[id(output)]
            body = built.get(translation)
            if body is None:
                body = b"".join(
                    bytes([(translation[i] << 4) | (len(v) - 1)]) + v
                    for i, v in elements
                    if translation[i]
                )
                built[translation] = body
            extension = output.mid_element + body
            out_seq = (seq + output.seq_offset) & 0xFFFF
            out_ts = (ts + output.ts_offset) & 0xFFFFFFFF
            if extension:
                pad = -len(extension) % 4
                header = _HEADER.pack(
                    0x90 | keep_padding,
                    second | output.payload_type,
                    out_seq,
                    out_ts,
                    output.ssrc,
                ) + _EXT_HEADER.pack(_ONE_BYTE_PROFILE, (len(extension) + pad) // 4)
                packet = b"".join((header, extension, b"\0" * pad, payload))
            else:
                header = _HEADER.pack(
                    0x80 | keep_padding,
                    second | output.payload_type,
                    out_seq,
                    out_ts,
                    output.ssrc,
                )
                packet = header + payload
            output.last_seq = out_seq
            output.last_ts = out_ts
            output.last_time = now
            if output.history is not None:
                output.history[out_seq & (HISTORY - 1)] = packet
            if output.send(packet):
                output.forwarded += 1
                output.octets += len(payload)
                sent += 1
        return sent


def _one_byte_elements(data: bytes, start: int, end: int) -> list[tuple[int, bytes]]:
    """RFC 8285 section 4.2: id (4 bits) and length - 1 (4 bits), then the value; id 0
    is padding, id 15 stops the parse."""
    elements = []
    i = start
    while i < end:
        head = data[i]
        if head == 0:
            i += 1
            continue
        ext_id = head >> 4
        if ext_id == 15:
            break
        length = (head & 0x0F) + 1
        if i + 1 + length > end:
            break
        elements.append((ext_id, data[i + 1 : i + 1 + length]))
        i += 1 + length
    return elements
