"""Joining, refusals, bad frames, and the ways a session ends: leave, vanishing,
removal by the access half, shutdown."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.waiting import until

from .client import ToneTrack, VoiceClient
from .conftest import ROOM

DROP_TIMEOUT_S = 0.6


@pytest.fixture
def drop_timeout() -> float:
    return DROP_TIMEOUT_S


@pytest.mark.parametrize(
    ("token", "errcode", "close_code"),
    [
        ("garbage", "M_UNKNOWN_TOKEN", 4401),
        ("expired:@ann:x", "M_UNKNOWN_TOKEN", 4401),
        ("outsider:@ann:x", "M_FORBIDDEN", 4403),
    ],
)
async def test_bad_expired_or_foreign_token_is_refused(
    sfu, clients, token: str, errcode: str, close_code: int
) -> None:
    client = await clients()
    frame = await client.join(token)
    assert frame["type"] == "error" and frame["errcode"] == errcode and frame["error"]
    assert client.close_code == close_code
    assert sfu.service.rooms == {} and sfu.roster.joined == []


async def test_first_frame_must_be_join(sfu, clients) -> None:
    client: VoiceClient = await clients()
    await client.connect()
    await client.send({"type": "ping"})
    assert client.ws is not None
    frame = (await client.ws.receive(timeout=5)).json()
    assert frame["errcode"] == "M_MISSING_TOKEN"
    await client.ws.receive(timeout=5)
    assert client.ws.close_code == 4401


async def test_bad_frames_get_errors_and_change_nothing(sfu, clients) -> None:
    ann = await clients()
    await ann.join("ok:@ann:x")
    assert ann.ws is not None
    await ann.ws.send_str("{not json")
    assert (await ann.next_error())["errcode"] == "M_BAD_JSON"
    await ann.send({"type": "mute", "muted": "yes"})
    assert (await ann.next_error())["errcode"] == "M_BAD_JSON"
    await ann.send({"type": "dance"})
    assert (await ann.next_error())["errcode"] == "M_UNRECOGNIZED"
    await ann.send({"type": "subscribe_answer", "sdp": "v=0"})
    assert (await ann.next_error())["errcode"] == "M_INVALID_PARAM"
    # an audio m-line announced as a webcam: refused, nothing published
    await ann.send({"type": "publish", "sdp": "v=0\r\n", "tracks": [{"mid": "0", "kind": "radio"}]})
    assert (await ann.next_error())["errcode"] == "M_BAD_JSON"
    many = "v=0\r\n" + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" * 9
    await ann.send({"type": "publish", "sdp": many, "tracks": []})
    assert (await ann.next_error())["errcode"] == "M_INVALID_PARAM"
    with pytest.raises(TimeoutError):
        await ann.publish_wrong_kind()
    assert (await ann.next_error())["errcode"] == "M_INVALID_PARAM"
    # still in the call, nothing published, still answering
    await ann.send({"type": "ping"})
    await until(
        lambda: asyncio.sleep(0, any(f["type"] == "pong" for f in ann.frames)), "pong", timeout=5
    )
    assert ann.person("@ann:x")["tracks"] == []
    assert sfu.roster.left == []


async def test_vanished_participant_is_removed_after_the_timeout(sfu, clients) -> None:
    ann, bob = await clients(), await clients()
    await ann.join("ok:@ann:x")
    await bob.join("ok:@bob:x")
    await ann.publish([("audio", ToneTrack(440))])
    await until(lambda: asyncio.sleep(0, bob.sub_tracks), "bob offered ann's audio", timeout=10)
    # ann's machine drops off: the socket goes without a leave, her media too
    gone_at = asyncio.get_running_loop().time()
    await ann.close()
    await asyncio.sleep(DROP_TIMEOUT_S / 2)
    assert sfu.roster.left == []  # not before the timeout
    await until(lambda: asyncio.sleep(0, sfu.roster.left), "roster told ann left", timeout=5)
    assert asyncio.get_running_loop().time() - gone_at >= DROP_TIMEOUT_S
    assert sfu.roster.left == [("@ann:x", ann.session_id)]
    await until(
        lambda: asyncio.sleep(0, [p["user_id"] for p in bob.participants] == ["@bob:x"]),
        "bob sees ann gone",
        timeout=5,
    )
    await until(lambda: asyncio.sleep(0, bob.sub_tracks == []), "ann's track withdrawn", timeout=5)


async def test_participant_whose_media_connection_dies_is_removed(sfu, clients) -> None:
    ann, bob = await clients(), await clients()
    await ann.join("ok:@ann:x")
    await bob.join("ok:@bob:x")
    await ann.publish([("audio", ToneTrack(440))])
    await until(lambda: asyncio.sleep(0, bob.sub_tracks), "bob offered ann's audio", timeout=10)
    assert ann.publish_pc is not None
    await ann.publish_pc.close()  # signaling stays up, media is gone
    # DTLS close_notify usually ends it at once; if that one datagram is lost (a loaded
    # machine), ICE consent freshness does (RFC 7675; aioice: 6 checks 5 s apart).
    await until(lambda: asyncio.sleep(0, sfu.roster.left), "roster told ann left", timeout=45)
    assert sfu.roster.left == [("@ann:x", ann.session_id)]


async def test_remove_user_ends_their_sessions(sfu, clients) -> None:
    ann, bob = await clients(), await clients()
    await ann.join("ok:@ann:x")
    await bob.join("ok:@bob:x")
    await sfu.service.remove_user(ROOM, "@ann:x", "banned from the room")
    error = await ann.next_error()
    assert error == {"type": "error", "errcode": "M_FORBIDDEN", "error": "banned from the room"}
    await until(lambda: asyncio.sleep(0, ann.close_code), "ann's socket closed", timeout=5)
    assert ann.close_code == 4403
    assert sfu.roster.left == [("@ann:x", ann.session_id)]
    await until(
        lambda: asyncio.sleep(0, [p["user_id"] for p in bob.participants] == ["@bob:x"]),
        "bob sees ann gone",
        timeout=5,
    )


async def test_close_makes_everyone_leave(sfu, clients) -> None:
    ann, bob = await clients(), await clients()
    await ann.join("ok:@ann:x")
    await bob.join("ok:@bob:x")
    await sfu.service.close()
    assert sorted(sfu.roster.left) == sorted(
        [("@ann:x", ann.session_id), ("@bob:x", bob.session_id)]
    )
    await until(lambda: asyncio.sleep(0, ann.close_code), "ann's socket closed", timeout=5)
    assert ann.close_code == 1001
    late = await clients()
    assert (await late.join("ok:@cat:x"))["type"] == "error"
