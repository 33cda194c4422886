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


async def test_a_freed_slot_is_reused_for_the_next_track_of_its_kind(sfu, clients) -> None:
    bob, ann = await clients(), await clients()
    await bob.join("ok:@bob:x")
    await ann.join("ok:@ann:x")
    await ann.publish([("webcam", ColorTrack((220, 40, 40)))])
    await until(lambda: asyncio.sleep(0, bob.sub_tracks), "bob offered ann's camera", timeout=10)
    assert close_to(await decoded_frame(bob, "@ann:x", "webcam"), (220, 40, 40))
    (first_mid,) = [t["mid"] for t in bob.sub_tracks]
    await ann.send({"type": "leave"})
    await until(lambda: asyncio.sleep(0, bob.sub_tracks == []), "ann's camera withdrawn", 10)

    cat = await clients()
    await cat.join("ok:@cat:x")
    await cat.publish([("webcam", ColorTrack((40, 40, 220)))])
    await until(lambda: asyncio.sleep(0, bob.sub_tracks), "bob offered cat's camera", timeout=10)
    # the same m-line carries cat now: the SDP did not grow
    assert [t["mid"] for t in bob.sub_tracks] == [first_mid]
    assert bob.subscribe_pc is not None and len(bob.subscribe_pc.getTransceivers()) == 1
    track = bob.received("@cat:x", "webcam")
    assert track is not None

    async def cats_colour() -> bool:
        frame = await asyncio.wait_for(track.recv(), 10)
        return close_to(mean_color(frame), (40, 40, 220))

    await until(cats_colour, "cat's picture decoded on the reused slot", timeout=10)


async def test_people_joining_and_publishing_at_once_all_meet(sfu, clients) -> None:
    names = [f"@p{n}:x" for n in range(4)]
    people = [await clients() for _ in names]

    async def arrive(client: VoiceClient, user_id: str, n: int) -> None:
        await client.join(f"ok:{user_id}")
        await client.publish([("audio", ToneTrack(300 + 100 * n))])

    await asyncio.gather(
        *(arrive(c, u, n) for n, (c, u) in enumerate(zip(people, names, strict=True)))
    )

    async def complete() -> bool:
        for client, me in zip(people, names, strict=True):
            if len(client.sub_tracks) != len(names) - 1:
                return False
            for other in names:
                if other != me and await client.packets_received(other, "audio") == 0:
                    return False
        return True

    await until(complete, "everyone receives everyone", timeout=20)
    assert sfu.service.stream_count() == len(names) * (len(names) - 1)
