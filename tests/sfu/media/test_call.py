"""Three aiortc clients in one voice room: each publishes a tone and a webcam, one also
shares a screen; each decodes what the others send (the SFU decodes nothing)."""

from __future__ import annotations

import asyncio

from tests.support.waiting import until

from .client import ColorTrack, ToneTrack, VoiceClient, mean_color, tone_strength

PEOPLE = {
    "@ann:x": (440.0, (220, 40, 40)),
    "@bob:x": (660.0, (40, 220, 40)),
    "@cat:x": (990.0, (40, 40, 220)),
}
SCREEN_RGB = (240, 240, 20)


def close_to(color: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 25 for a, b in zip(color, expected, strict=True))


async def decoded_frame(client: VoiceClient, user_id: str, kind: str) -> tuple[int, int, int]:
    track = client.received(user_id, kind)
    assert track is not None
    # the first frames of a stream can be partial pictures; take one a little later
    for _ in range(3):
        frame = await asyncio.wait_for(track.recv(), 10)
    return mean_color(frame)


async def decoded_audio(client: VoiceClient, user_id: str) -> list:
    track = client.received(user_id, "audio")
    assert track is not None
    return [await asyncio.wait_for(track.recv(), 10) for _ in range(30)][10:]


async def test_three_participants_decode_each_others_audio_video_and_screen(sfu, clients) -> None:
    people = {}
    for user_id, (tone, rgb) in PEOPLE.items():
        client = await clients()
        joined = await client.join(f"ok:{user_id}")
        assert joined["type"] == "joined" and joined["user_id"] == user_id
        tracks = [("audio", ToneTrack(tone)), ("webcam", ColorTrack(rgb))]
        if user_id == "@cat:x":
            tracks.append(("screen", ColorTrack(SCREEN_RGB, width=320, height=180)))
        await client.publish(tracks)
        people[user_id] = client

    async def everyone_offered() -> bool:
        return all(len(c.sub_tracks) == (5 if me != "@cat:x" else 4) for me, c in people.items())

    await until(everyone_offered, "each client offered every other track", timeout=15)

    for me, client in people.items():
        for other, (tone, rgb) in PEOPLE.items():
            if other == me:
                assert client.received(other, "audio") is None  # nobody gets their own
                continue
            assert close_to(await decoded_frame(client, other, "webcam"), rgb)
            frames = await decoded_audio(client, other)
            assert tone_strength(frames, tone) > 0.3
            for wrong in {t for t, _ in PEOPLE.values()} - {tone}:
                assert tone_strength(frames, wrong) < 0.05

    # the screen share is its own track, told apart from the webcam by its kind
    for me in ("@ann:x", "@bob:x"):
        client = people[me]
        kinds = sorted(t["kind"] for t in client.sub_tracks if t["user_id"] == "@cat:x")
        assert kinds == ["audio", "screen", "webcam"]
        screen = client.received("@cat:x", "screen")
        assert screen is not None and screen is not client.received("@cat:x", "webcam")
        frame = await asyncio.wait_for(screen.recv(), 10)
        frame = await asyncio.wait_for(screen.recv(), 10)
        assert (frame.width, frame.height) == (320, 180)
        assert close_to(mean_color(frame), SCREEN_RGB)

    # everyone sees everyone, and the roster heard of each join and its tracks
    participants = people["@ann:x"].participants
    assert sorted(p["user_id"] for p in participants) == sorted(PEOPLE)
    cat = next(p for p in participants if p["user_id"] == "@cat:x")
    assert sorted(t["kind"] for t in cat["tracks"]) == ["audio", "screen", "webcam"]
    assert ("@cat:x", people["@cat:x"].session_id, ["audio", "webcam", "screen"]) in (
        sfu.roster.joined
    )
    # each published track goes to the two others: (2 + 2 + 3) tracks x 2
    assert sfu.service.stream_count() == 14


async def test_a_track_added_later_and_a_person_leaving_renegotiate(sfu, clients) -> None:
    ann, bob = await clients(), await clients()
    await ann.join("ok:@ann:x")
    await bob.join("ok:@bob:x")
    tone, cam = ToneTrack(440), ColorTrack((220, 40, 40))
    await ann.publish([("audio", tone)])
    await until(
        lambda: asyncio.sleep(0, len(bob.sub_tracks) == 1), "bob offered ann's audio", timeout=10
    )
    # ann turns her camera on: same publish connection, new list
    await ann.publish([("audio", tone), ("webcam", cam)])
    await until(
        lambda: asyncio.sleep(0, len(bob.sub_tracks) == 2), "bob offered ann's camera", timeout=10
    )
    assert close_to(await decoded_frame(bob, "@ann:x", "webcam"), (220, 40, 40))
    # ann leaves: bob's next offer lists nothing, the roster hears it once
    await ann.send({"type": "leave"})
    await until(
        lambda: asyncio.sleep(0, bob.sub_tracks == [] and len(bob.participants) == 1),
        "ann gone from bob's view",
        timeout=10,
    )
    assert sfu.roster.left == [("@ann:x", ann.session_id)]
    assert sfu.service.stream_count() == 0
