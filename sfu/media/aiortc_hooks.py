"""Every use of aiortc's private API, in one place.

aiortc has no public API for an SFU: it decodes what it receives and encodes what it
sends. We need the decrypted RTP of a publisher before aiortc parses it, and a way to
put already-encoded, rewritten RTP on a subscriber's connection. The hooks below do that
on aiortc 1.16.0 (pinned in pyproject.toml); ``tests/sfu/media/test_aiortc_hooks.py``
checks each of them, so an aiortc upgrade that moves them fails there, loudly, instead
of silently forwarding nothing.

Hooks used:
- ``RTCDtlsTransport._handle_rtp_data(data, arrival_time_ms)``: called with each
  decrypted RTP packet (bytes); we replace it on the publisher's transport instance.
- ``RTCDtlsTransport._tx_srtp`` (a ``pylibsrtp.Session``) and the nominated ICE pair of
  ``RTCIceTransport._connection`` (aioice): encrypt and send one packet without aiortc's
  per-packet coroutine (``_send_rtp``).
- ``RTCRtpSender._ssrc`` and ``_handle_rtcp_packet``: the SSRC we must write, and the
  entry point of the subscriber's RTCP feedback (NACK, PLI, FIR) for that sender.
- ``RTCRtpReceiver._send_rtcp_pli`` / ``_send_rtcp`` (and its ``__rtcp_ssrc``): ask
  the publisher for a key frame, tell it the subscribers' bandwidth estimate (REMB).
- ``RTCRtpReceiver._handle_rtcp_packet``: the publisher's sender reports (NTP <-> RTP
  time), and the ``RTCRtpSender.__ntp_timestamp`` & co. its SR task reads: a subscriber's
  sender reports carry the publisher's clock mapping, shifted into the rewritten stream.
- ``RTCRtpTransceiver._codecs`` / ``_headerExtensions``: what was negotiated.
- ``aioice.ice.get_host_addresses``: which local addresses ICE offers (loopback only in
  tests; the SFU is its own process, so this is a process-wide setting).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aioice.ice
import aiortc
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
)
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    pack_remb_fci,
    unpack_remb_fci,
)

SUPPORTED_AIORTC = "1.16.0"
if aiortc.__version__ != SUPPORTED_AIORTC:  # pragma: no cover - guarded by the pin
    raise ImportError(
        f"sfu.media hooks into aiortc {SUPPORTED_AIORTC} internals; found {aiortc.__version__}"
    )

RtpHandler = Callable[[bytes], bool]
"""Takes one decrypted RTP packet; returns False when it is not ours (aiortc then gets it)."""


def peer_connection() -> RTCPeerConnection:
    """A peer connection that bundles every m-line on one transport (aiortc's default,
    "balanced", leaves a second video m-line added by renegotiation on a transport that
    never connects) and uses no STUN/TURN server: host candidates only."""
    return RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


def restrict_host_addresses(addresses: list[str]) -> None:
    """Make ICE offer exactly ``addresses`` as host candidates (aioice otherwise offers
    every interface except loopback)."""
    fixed = list(addresses)

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in fixed if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = host_addresses


class SilentTrack(MediaStreamTrack):
    """An outgoing track whose ``recv`` never returns, so aiortc's sender never runs its
    encoder; the SFU injects rewritten packets instead."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._never: asyncio.Event = asyncio.Event()

    async def recv(self) -> Any:
        await self._never.wait()
        raise aiortc.mediastreams.MediaStreamError


def intercept_rtp(transport: RTCDtlsTransport, handler: RtpHandler) -> None:
    """Route each decrypted RTP packet of ``transport`` to ``handler`` before aiortc
    parses it; packets the handler declines go on to aiortc's own receivers."""
    original = transport._handle_rtp_data

    async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
        if not handler(data):
            await original(data, arrival_time_ms)

    transport._handle_rtp_data = handle_rtp_data  # type: ignore[method-assign]


@dataclass(frozen=True)
class Negotiated:
    """What one transceiver agreed on: the mid, the payload type per codec (the first is
    the one in use), header extension id per URI, and our sender's SSRC."""

    mid: str
    codecs: tuple[tuple[int, str, int], ...]  # (payload type, mimeType lowercased, clock rate)
    extensions: dict[str, int]
    sender_ssrc: int


def negotiated(transceiver: RTCRtpTransceiver) -> Negotiated:
    mid = transceiver.mid
    if mid is None:
        raise ValueError("transceiver not negotiated yet")
    codecs = tuple(
        (c.payloadType, c.mimeType.lower(), c.clockRate)
        for c in transceiver._codecs
        if c.payloadType is not None
    )
    extensions = {e.uri: e.id for e in transceiver._headerExtensions}
    return Negotiated(mid, codecs, extensions, transceiver.sender._ssrc)


def remote_ssrc(pc: RTCPeerConnection, transceiver: RTCRtpTransceiver) -> int | None:
    """The primary SSRC the remote side announced for this transceiver's m-line."""
    description = pc.remoteDescription
    index = transceiver._get_mline_index()
    if description is None or index is None:
        return None
    from aiortc import sdp

    media = sdp.SessionDescription.parse(description.sdp).media[index]
    return media.ssrc[0].ssrc if media.ssrc else None


class PacketSink:
    """Encrypts and sends RTP/RTCP on one DTLS transport, synchronously: one SRTP
    protect and one ``sendto`` per packet, no coroutine. (On the hot path: it reads the
    transport's state enum directly, not the ``state`` property, which formats a
    string per call.)"""

    __slots__ = ("_ice", "_transport")

    def __init__(self, transport: RTCDtlsTransport) -> None:
        self._transport = transport
        self._ice = transport.transport._connection

    def send(self, packet: bytes) -> bool:
        transport = self._transport
        srtp = transport._tx_srtp
        if srtp is None or transport._state is not DtlsState.CONNECTED:
            return False
        pair = self._ice._nominated.get(1)
        if pair is None or pair.protocol.transport is None:
            return False
        pair.protocol.transport.sendto(srtp.protect(packet), pair.remote_addr)
        return True


@dataclass(frozen=True)
class Feedback:
    """RTCP feedback a subscriber sent about one of our senders."""

    keyframe: bool
    lost: tuple[int, ...]
    bitrate: int | None = None  # REMB: the subscriber's estimate of what it can receive


def on_feedback(sender: RTCRtpSender, callback: Callable[[Feedback], None]) -> None:
    """Deliver PLI/FIR, NACK and REMB aimed at ``sender`` to ``callback`` instead of
    aiortc's encoder (there is none running); other RTCP (receiver reports) keeps
    aiortc's path."""
    original = sender._handle_rtcp_packet

    async def handle_rtcp_packet(packet: Any) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            callback(Feedback(keyframe=True, lost=()))
        elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            callback(Feedback(keyframe=False, lost=tuple(packet.lost)))
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                return
            if sender._ssrc in ssrcs:
                callback(Feedback(keyframe=False, lost=(), bitrate=bitrate))
        else:
            await original(packet)

    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]


def on_sender_report(receiver: RTCRtpReceiver, callback: Callable[[int, int, int], None]) -> None:
    """Tell ``callback(ssrc, ntp, rtp_timestamp)`` of each RTCP sender report (RFC 3550
    section 6.4.1) the publisher sends; aiortc's receiver still sees it too."""
    original = receiver._handle_rtcp_packet

    async def handle_rtcp_packet(packet: Any) -> None:
        if isinstance(packet, RtcpSrPacket):
            info = packet.sender_info
            callback(packet.ssrc, info.ntp_timestamp, info.rtp_timestamp)
        await original(packet)

    receiver._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]


_SR_FIELDS = tuple(
    f"_RTCRtpSender__{n}" for n in ("ntp_timestamp", "rtp_timestamp", "packet_count", "octet_count")
)


def set_sender_report(
    sender: RTCRtpSender, ntp: int, rtp_timestamp: int, packets: int, octets: int
) -> None:
    """What ``sender``'s next RTCP sender report says. aiortc fills it from its encoder,
    which never runs here; without this a subscriber hears NTP 0 / RTP 0, and cannot
    line up a person's audio and video."""
    for name in _SR_FIELDS:
        if not hasattr(sender, name):  # setting it would silently do nothing
            raise AttributeError(f"aiortc's RTCRtpSender has no {name} any more")
    sender._RTCRtpSender__ntp_timestamp = ntp  # type: ignore[attr-defined]
    sender._RTCRtpSender__rtp_timestamp = rtp_timestamp  # type: ignore[attr-defined]
    sender._RTCRtpSender__packet_count = packets  # type: ignore[attr-defined]
    sender._RTCRtpSender__octet_count = octets  # type: ignore[attr-defined]


def send_estimate(receiver: RTCRtpReceiver, media_ssrc: int, bitrate: int) -> Awaitable[None]:
    """Send the publisher behind ``receiver`` a REMB (draft-alvestrand-rmcat-remb): at
    most ``bitrate`` bit/s for ``media_ssrc``."""
    packet = RtcpPsfbPacket(
        fmt=RTCP_PSFB_APP,
        ssrc=receiver._RTCRtpReceiver__rtcp_ssrc or 0,  # type: ignore[attr-defined]
        media_ssrc=0,
        fci=pack_remb_fci(bitrate, [media_ssrc]),
    )
    return receiver._send_rtcp(packet)


def request_keyframe(receiver: RTCRtpReceiver, media_ssrc: int) -> Awaitable[None]:
    """Send a PLI for ``media_ssrc`` to the publisher behind ``receiver``."""
    return receiver._send_rtcp_pli(media_ssrc)
