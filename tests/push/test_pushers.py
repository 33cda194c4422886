"""Pushers: the API, and HTTP pushers delivering to a push gateway.

spec: client-server ``GET /pushers``, ``POST /pushers/set``; push-gateway
"Homeserver behaviour" (retry with exponential backoff; ``event_id_only``) and
``POST /_matrix/push/v1/notify`` (``rejected`` pushkeys lose their pusher).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from homeserver.appkeys import PUSH_KEY, STORE_KEY
from homeserver.push.http_pusher import PushSettings

from ..support.matrix_client import Server, User
from .fake_gateway import FakeGateway
from .fake_gateway import gateway as gateway
from .helpers import evaluated, mention, room_with


def pusher_body(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "http",
        "app_id": "org.example.app.ios",
        "pushkey": "key-1",
        "app_display_name": "Example",
        "device_display_name": "Phone",
        "profile_tag": "tag",
        "lang": "en",
        "data": {"url": url, "custom": 1},
        **extra,
    }


async def pushers(user: User) -> list[dict[str, Any]]:
    body: dict[str, Any] = (await user.call("GET", "/pushers")).ok()
    return list(body["pushers"])


def fast(server: Server, **settings: float) -> None:
    """Short backoff for the test (the defaults are seconds to an hour)."""
    base = {"initial_backoff_s": 0.05, "max_backoff_s": 0.4, "request_timeout_s": 5.0}
    server.app[PUSH_KEY].pushers.settings = PushSettings(**{**base, **settings})


URL = "https://push.example.org/_matrix/push/v1/notify"


async def test_set_list_update_and_delete(alice: User, bob: User) -> None:
    assert await pushers(alice) == []
    (await alice.call("POST", "/pushers/set", pusher_body(URL))).ok()
    assert await pushers(alice) == [
        {
            "pushkey": "key-1",
            "kind": "http",
            "app_id": "org.example.app.ios",
            "app_display_name": "Example",
            "device_display_name": "Phone",
            "profile_tag": "tag",
            "lang": "en",
            "data": {"url": URL, "custom": 1},
        }
    ]
    # The same app_id and pushkey: an update, not a second pusher.
    (await alice.call("POST", "/pushers/set", pusher_body(URL, lang="fr"))).ok()
    assert [p["lang"] for p in await pushers(alice)] == ["fr"]
    (await alice.call("POST", "/pushers/set", pusher_body(URL, pushkey="key-2"))).ok()
    assert [p["pushkey"] for p in await pushers(alice)] == ["key-1", "key-2"]
    # Another user takes key-1: append false removes alice's pusher for it.
    (await bob.call("POST", "/pushers/set", pusher_body(URL))).ok()
    assert [p["pushkey"] for p in await pushers(alice)] == ["key-2"]
    # append true keeps the other user's.
    (await alice.call("POST", "/pushers/set", pusher_body(URL, append=True))).ok()
    assert len(await pushers(bob)) == 1
    assert [p["pushkey"] for p in await pushers(alice)] == ["key-1", "key-2"]
    # kind null deletes (and deleting what is not there is fine).
    delete = {"kind": None, "app_id": "org.example.app.ios", "pushkey": "key-1"}
    (await alice.call("POST", "/pushers/set", delete)).ok()
    (await alice.call("POST", "/pushers/set", delete)).ok()
    assert [p["pushkey"] for p in await pushers(alice)] == ["key-2"]
    assert len(await pushers(bob)) == 1


async def test_bad_pushers_are_refused(alice: User) -> None:
    good = pusher_body(URL)
    without = {k: v for k, v in good.items() if k not in ("lang", "data")}
    reply = await alice.call("POST", "/pushers/set", without)
    assert (reply.status, reply.errcode) == (400, "M_MISSING_PARAM")
    assert "lang" in reply.body["error"] and "data" in reply.body["error"]
    cases: list[tuple[dict[str, Any], str]] = [
        ({k: v for k, v in good.items() if k != "kind"}, "M_MISSING_PARAM"),
        ({"kind": None, "app_id": "a"}, "M_MISSING_PARAM"),
        ({**good, "data": {}}, "M_MISSING_PARAM"),
        ({**good, "kind": "email"}, "M_INVALID_PARAM"),
        ({**good, "kind": "carrier-pigeon"}, "M_INVALID_PARAM"),
        ({**good, "app_id": "x" * 65}, "M_INVALID_PARAM"),
        ({**good, "pushkey": "é" * 257}, "M_INVALID_PARAM"),
        ({**good, "pushkey": 5}, "M_INVALID_PARAM"),
        ({**good, "lang": None}, "M_INVALID_PARAM"),
        ({**good, "data": "url"}, "M_INVALID_PARAM"),
        ({**good, "append": "yes"}, "M_INVALID_PARAM"),
        ({**good, "data": {"url": "https://push.example.org/notify"}}, "M_INVALID_PARAM"),
        ({**good, "data": {"url": "ftp://push.example.org" + URL[25:]}}, "M_INVALID_PARAM"),
        ({**good, "data": {"url": "https:///_matrix/push/v1/notify"}}, "M_INVALID_PARAM"),
        ({**good, "data": {"url": 3}}, "M_INVALID_PARAM"),
        ({**good, "data": {"url": URL, "format": "full"}}, "M_INVALID_PARAM"),
    ]
    for body, errcode in cases:
        reply = await alice.call("POST", "/pushers/set", body)
        assert (reply.status, reply.errcode) == (400, errcode), (body, reply)
    assert await pushers(alice) == []


async def test_a_message_is_pushed_to_the_gateway(
    server: Server, alice: User, bob: User, carol: User, gateway: FakeGateway
) -> None:
    room = await room_with(alice, bob, carol, name="The Room")
    (await alice.call("POST", "/pushers/set", pusher_body(gateway.url))).ok()
    event_id = await bob.send(room, "ping", **mention(alice.user_id))
    [received] = await gateway.wait_for(1)
    notification = received.body["notification"]
    assert notification == {
        "event_id": event_id,
        "room_id": room,
        "type": "m.room.message",
        "sender": bob.user_id,
        "sender_display_name": "bob",  # the default display name: the localpart
        "room_name": "The Room",
        "prio": "high",
        "content": {"msgtype": "m.text", "body": "ping", **mention(alice.user_id)},
        "counts": {"unread": 1},
        "devices": [
            {
                "app_id": "org.example.app.ios",
                "pushkey": "key-1",
                "pushkey_ts": notification["devices"][0]["pushkey_ts"],
                "data": {"custom": 1},  # without the url
                "tweaks": {"sound": "default", "highlight": True},
            }
        ],
    }
    assert isinstance(notification["devices"][0]["pushkey_ts"], int)
    # Events that do not notify are not pushed; the next message is, once.
    await bob.send(
        room, "* edit", **{"m.relates_to": {"rel_type": "m.replace", "event_id": event_id}}
    )
    second = await bob.send(room, "again")
    await gateway.wait_for(2)
    await evaluated(server)
    await asyncio.sleep(0.1)
    assert [n["event_id"] for n in gateway.delivered()] == [event_id, second]
    assert gateway.delivered()[1]["counts"] == {"unread": 2}
    assert gateway.delivered()[1]["prio"] == "low"  # .m.rule.message: no sound, no highlight


async def test_event_id_only(
    server: Server, alice: User, bob: User, carol: User, gateway: FakeGateway
) -> None:
    room = await room_with(alice, bob, carol)
    body = pusher_body(gateway.url)
    body["data"] = {"url": gateway.url, "format": "event_id_only"}
    (await alice.call("POST", "/pushers/set", body)).ok()
    event_id = await bob.send(room, "secret")
    [received] = await gateway.wait_for(1)
    notification = received.body["notification"]
    assert set(notification) == {"event_id", "room_id", "counts", "devices", "prio"}
    assert notification["event_id"] == event_id and notification["room_id"] == room
    assert notification["devices"][0]["data"] == {"format": "event_id_only"}


async def test_retries_with_backoff_until_the_gateway_recovers(
    server: Server, alice: User, bob: User, gateway: FakeGateway
) -> None:
    fast(server)
    room = await room_with(alice, bob)
    (await alice.call("POST", "/pushers/set", pusher_body(gateway.url))).ok()
    gateway.script = [(500, {}), (500, {}), (500, {})]
    event_id = await bob.send(room, "are you there?")
    attempts = await gateway.wait_for(4)
    assert [a.status for a in attempts] == [500, 500, 500, 200]
    assert {a.body["notification"]["event_id"] for a in attempts} == {event_id}
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    # Exponential backoff: 0.05 s, 0.1 s, 0.2 s at least.
    for gap, least in zip(gaps, (0.05, 0.1, 0.2), strict=True):
        assert gap >= least * 0.9, gaps
    assert gaps[2] > gaps[0]
    # Delivered once; the position is stored; the next message goes once too.
    later = await bob.send(room, "good")
    await gateway.wait_for(5)
    await asyncio.sleep(0.1)
    assert [n["event_id"] for n in gateway.delivered()] == [event_id, later]
    stored = await server.app[STORE_KEY].push.user_pushers(alice.user_id)
    event = await server.app[STORE_KEY].events.get_event(later)
    assert event is not None and stored[0].last_stream_ordering == event.stream_ordering


async def test_the_backoff_is_bounded(
    server: Server, alice: User, bob: User, gateway: FakeGateway
) -> None:
    fast(server, initial_backoff_s=0.02, max_backoff_s=0.04)
    room = await room_with(alice, bob)
    (await alice.call("POST", "/pushers/set", pusher_body(gateway.url))).ok()
    gateway.script = [(503, {})] * 8
    await bob.send(room, "hello")
    attempts = await gateway.wait_for(9)
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    assert max(gaps) < 1.0, gaps  # the doubling stops at max_backoff_s
    assert attempts[-1].status == 200


async def test_a_rejected_pushkey_loses_its_pusher(
    server: Server, alice: User, bob: User, gateway: FakeGateway
) -> None:
    room = await room_with(alice, bob)
    (await alice.call("POST", "/pushers/set", pusher_body(gateway.url))).ok()
    gateway.script = [(200, {"rejected": ["key-1"]})]
    await bob.send(room, "hello")
    await gateway.wait_for(1)
    for _ in range(200):
        if not await pushers(alice):
            break
        await asyncio.sleep(0.02)
    assert await pushers(alice) == []
    await bob.send(room, "anyone?")
    await evaluated(server)
    await asyncio.sleep(0.1)
    assert len(gateway.received) == 1


async def test_pushers_resume_after_a_restart(
    server: Server, alice: User, bob: User, gateway: FakeGateway
) -> None:
    room = await room_with(alice, bob)
    (await alice.call("POST", "/pushers/set", pusher_body(gateway.url))).ok()
    first = await bob.send(room, "one")
    await gateway.wait_for(1)
    pool = server.app[PUSH_KEY].pushers
    await pool.stop()
    missed = await bob.send(room, "while stopped")
    await evaluated(server)
    await asyncio.sleep(0.1)
    assert len(gateway.received) == 1
    await pool.start()  # reads the pushers and their positions from the database
    await gateway.wait_for(2)
    await asyncio.sleep(0.1)
    assert [n["event_id"] for n in gateway.delivered()] == [first, missed]
