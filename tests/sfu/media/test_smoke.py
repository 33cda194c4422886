from __future__ import annotations

import asyncio

from tests.support.waiting import until

from .client import ColorTrack, ToneTrack, tone_strength, mean_color


async def test_two_participants_hear_each_other(sfu, clients) -> None:
    a = await clients()
    b = await clients()
    assert (await a.join("ok:@a:x"))["type"] == "joined"
    assert (await b.join("ok:@b:x"))["type"] == "joined"
    await a.publish([("audio", ToneTrack(440)), ("webcam", ColorTrack((200, 30, 30)))])
    await b.publish([("audio", ToneTrack(880))])

    async def got() -> bool:
        return b.received("@a:x", "webcam") is not None and a.received("@b:x", "audio") is not None

    await until(got, "tracks offered", timeout=10)
    video = b.received("@a:x", "webcam")
    frame = await asyncio.wait_for(video.recv(), 10)
    print(mean_color(frame))
    audio = a.received("@b:x", "audio")
    frames = [await asyncio.wait_for(audio.recv(), 10) for _ in range(25)]
    print(tone_strength(frames[5:], 880), tone_strength(frames[5:], 440))
