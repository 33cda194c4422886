"""The notifier's change caches and waiters, without a server."""

from __future__ import annotations

import asyncio

from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import V10
from homeserver.rooms.bus import EventBus, PersistedEvent
from homeserver.storage.rooms_store import Membership
from homeserver.sync.change_cache import StreamChangeCache
from homeserver.sync.memberships import MembershipCache
from homeserver.sync.notifier import Notifier
from homeserver.sync.tokens import StreamToken


def test_change_cache_answers_from_memory() -> None:
    cache = StreamChangeCache(earliest=10)
    for position, room in enumerate(["!a", "!b", "!c", "!a"], start=11):
        cache.record(room, position)
    assert cache.changed_among({"!a", "!b", "!z"}, 10) == {"!a", "!b"}
    assert cache.changed_among({"!a", "!b", "!c"}, 13) == {"!a"}
    assert cache.changed_among({"!b"}, 12) == set()
    assert cache.changed_since(12) == ["!a", "!c"]
    assert cache.has_changed("!a", 13) and not cache.has_changed("!c", 13)
    assert not cache.has_changed("!z", 10)  # never changed since the cache started
    # Older than what the cache knows: unknown, the caller must ask the database.
    assert cache.changed_among({"!a"}, 9) is None
    assert cache.has_changed("!z", 9)


def test_change_cache_walks_only_the_changes() -> None:
    cache = StreamChangeCache(earliest=0)
    for i in range(1000):
        cache.record(f"!r{i}", i + 1)

    class Watched(set[str]):
        lookups = 0

        def __contains__(self, item: object) -> bool:
            Watched.lookups += 1
            return super().__contains__(item)

    rooms = Watched(f"!r{i}" for i in range(0, 1000, 2))
    assert cache.changed_among(rooms, 997) == {"!r998"}
    assert Watched.lookups <= 3  # the three changes after 997, not the 500 rooms


def test_change_cache_is_bounded_and_safe_with_late_positions() -> None:
    cache = StreamChangeCache(earliest=0, max_size=3)
    for position, room in enumerate(["!a", "!b", "!c", "!d"], start=1):
        cache.record(room, position)
    assert cache.earliest == 1  # !a's change was evicted
    assert cache.changed_among({"!a"}, 0) is None
    assert cache.changed_among({"!b", "!d"}, 1) == {"!b", "!d"}
    cache.record("!e", 2)  # arrived late: filed as of the newest position, never lost
    assert cache.has_changed("!e", 3)


def _member_event(room_id: str, user_id: str, membership: str) -> Event:
    pdu = {
        "type": "m.room.member",
        "room_id": room_id,
        "sender": user_id,
        "state_key": user_id,
        "content": {"membership": membership},
        "origin_server_ts": 1,
        "depth": 3,
        "prev_events": [],
        "auth_events": [],
        "hashes": {"sha256": "x"},
        "signatures": {},
    }
    return Event(pdu, V10, event_id=f"${room_id}{user_id}{membership}")


async def _memberships(user_id: str) -> list[Membership]:
    return [Membership("!joined:x", "join", "$j", 1)]


def make_notifier() -> Notifier:
    notifier = Notifier(MembershipCache(_memberships))
    notifier.start(room_position=5, account_data_position=2)
    return notifier


async def test_wait_times_out_without_news() -> None:
    notifier = make_notifier()
    loop = asyncio.get_running_loop()
    start = loop.time()
    woken = await notifier.wait("@u:x", {"!joined:x"}, StreamToken(5, 2), timeout=0.2)
    assert not woken
    assert 0.19 <= loop.time() - start < 1
    assert notifier.waiting == 0


async def test_wait_returns_at_once_when_news_is_older_than_the_wait() -> None:
    notifier = make_notifier()
    notifier.on_account_data("@u:x", 3)
    assert await notifier.wait("@u:x", set(), StreamToken(5, 2), timeout=10)


async def test_room_events_wake_room_members_only() -> None:
    notifier = make_notifier()
    bus = EventBus()
    bus.subscribe(notifier.on_event)
    member = asyncio.create_task(notifier.wait("@u:x", {"!joined:x"}, StreamToken(5, 2), 10))
    other = asyncio.create_task(notifier.wait("@v:x", {"!elsewhere:x"}, StreamToken(5, 2), 10))
    await asyncio.sleep(0)
    assert notifier.waiting == 2
    event = _member_event("!joined:x", "@w:x", "join")
    bus.publish(PersistedEvent(event, 6))
    assert await asyncio.wait_for(member, 1) is True
    assert not other.done()
    other.cancel()
    await asyncio.gather(other, return_exceptions=True)
    assert notifier.waiting == 0  # cancelled waits leave nothing registered
    assert notifier.room_position == 6


async def test_membership_change_wakes_the_target_outside_the_room() -> None:
    notifier = make_notifier()
    rooms = await notifier.memberships.get("@invitee:x")
    assert rooms.joined == {"!joined:x"}
    waiting = asyncio.create_task(notifier.wait("@invitee:x", rooms.joined, StreamToken(5, 2), 10))
    await asyncio.sleep(0)
    invite = _member_event("!new:x", "@invitee:x", "invite")
    notifier.on_event(PersistedEvent(invite, 7, membership_change_for="@invitee:x"))
    assert await asyncio.wait_for(waiting, 1) is True
    updated = await notifier.memberships.get("@invitee:x")
    assert updated.by_room["!new:x"].membership == "invite"
    assert rooms.by_room.keys() == {"!joined:x"}  # the old snapshot is unchanged
    assert notifier.member_changes.has_changed("@invitee:x", 6)


async def test_account_data_wakes_its_user() -> None:
    notifier = make_notifier()
    waiting = asyncio.create_task(notifier.wait("@u:x", set(), StreamToken(5, 2), 10))
    await asyncio.sleep(0)
    notifier.on_account_data("@someone-else:x", 3)
    await asyncio.sleep(0)
    assert not waiting.done()
    notifier.on_account_data("@u:x", 4)
    assert await asyncio.wait_for(waiting, 1) is True
    assert notifier.current_token(StreamToken(5, 2)) == StreamToken(5, 4)
