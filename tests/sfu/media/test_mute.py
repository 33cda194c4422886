"""Mute, deafen and moderator mute are enforced by the SFU: what a client receives
stops (measured at the receiving client's RTP stats), not only what it is told."""

from __future__ import annotations

import asyncio

from tests.support.waiting import until

from .client import ColorTrack, ToneTrack, VoiceClient

STOPPED_WITHIN_S = 0.2


async def flowing(client: VoiceClient, user_id: str, kind: str, more_than: int = 0) -> int:
    """Waits until packets of that track arrive; returns the count."""

    async def count() -> int:
        n = await client.packets_received(user_id, kind)
        return n if n > more_than else 0

    return int(await until(count, f"{kind} of {user_id} flowing", timeout=10))


async def assert_stops(client: VoiceClient, user_id: str, kind: str) -> None:
    """Called right after the request: nothing may arrive once STOPPED_WITHIN_S has
    passed."""
    await asyncio.sleep(STOPPED_WITHIN_S)
    settled = await client.packets_received(user_id, kind)
    await asyncio.sleep(0.5)  # 25 audio packets would have come by now
    assert await client.packets_received(user_id, kind) == settled


async def assert_resumes(client: VoiceClient, user_id: str, kind: str) -> None:
    before = await client.packets_received(user_id, kind)
    await asyncio.sleep(STOPPED_WITHIN_S)
    assert await client.packets_received(user_id, kind) > before


async def call(clients, *user_ids: str) -> list[VoiceClient]:
    people = []
    for n, user_id in enumerate(user_ids):
        client = await clients()
        await client.join(f"ok:{user_id}")
        await client.publish(
            [("audio", ToneTrack(440 + 110 * n)), ("webcam", ColorTrack((9, 9, 9)))]
        )
        people.append(client)
    for me, client in zip(user_ids, people, strict=True):
        for other in user_ids:
            if other != me:
                await flowing(client, other, "audio")
    return people


async def test_mute_stops_forwarding_within_200ms_and_unmute_resumes(sfu, clients) -> None:
    ann, bob = await call(clients, "@ann:x", "@bob:x")
    await ann.send({"type": "mute", "muted": True})
    await assert_stops(bob, "@ann:x", "audio")
    assert bob.person("@ann:x")["muted"] is True
    # only audio is muted: her camera still comes, and bob's audio still reaches her
    await assert_resumes(bob, "@ann:x", "webcam")
    await assert_resumes(ann, "@bob:x", "audio")

    await ann.send({"type": "mute", "muted": False})
    await assert_resumes(bob, "@ann:x", "audio")
    assert bob.person("@ann:x")["muted"] is False


async def test_deafened_user_receives_no_audio(sfu, clients) -> None:
    ann, bob, cat = await call(clients, "@ann:x", "@bob:x", "@cat:x")
    await bob.send({"type": "deafen", "deafened": True})
    await asyncio.gather(assert_stops(bob, "@ann:x", "audio"), assert_stops(bob, "@cat:x", "audio"))
    await assert_resumes(bob, "@ann:x", "webcam")  # video still comes
    await assert_resumes(cat, "@bob:x", "audio")  # deafen is not mute
    await assert_resumes(cat, "@ann:x", "audio")  # others unaffected
    assert ann.person("@bob:x")["deafened"] is True

    await bob.send({"type": "deafen", "deafened": False})
    await assert_resumes(bob, "@ann:x", "audio")


async def test_moderator_mutes_someone_who_cannot_unmute_themselves(sfu, clients) -> None:
    sfu.access.moderators.add("@mod:x")
    ann, bob, mod = await call(clients, "@ann:x", "@bob:x", "@mod:x")

    # bob is no moderator: refused, and nothing changes
    await bob.send({"type": "moderate_mute", "user_id": "@ann:x", "muted": True})
    error = await bob.next_error()
    assert error["errcode"] == "M_FORBIDDEN"
    await assert_resumes(bob, "@ann:x", "audio")
    assert bob.person("@ann:x")["server_muted"] is False

    await mod.send({"type": "moderate_mute", "user_id": "@ann:x", "muted": True})
    await asyncio.gather(assert_stops(bob, "@ann:x", "audio"), assert_stops(mod, "@ann:x", "audio"))
    await until(
        lambda: asyncio.sleep(0, (ann.person("@ann:x") or {}).get("server_muted")),
        "ann told she is server-muted",
        timeout=5,
    )
    # her own unmute does not lift a moderator's mute
    await ann.send({"type": "mute", "muted": False})
    await assert_stops(bob, "@ann:x", "audio")

    await mod.send({"type": "moderate_mute", "user_id": "@nobody:x", "muted": True})
    assert (await mod.next_error())["errcode"] == "M_NOT_FOUND"

    await mod.send({"type": "moderate_mute", "user_id": "@ann:x", "muted": False})
    await assert_resumes(bob, "@ann:x", "audio")
