"""An incremental sync costs what changed, not how many rooms the user is in
(DESIGN.md "Read path"); an initial sync loads all rooms in a bounded number of reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from homeserver.appkeys import PIPELINE_KEY, PUSH_KEY, ROOMS_KEY, STORE_KEY, SYNC_HANDLER_KEY
from homeserver.protocol.room_versions import DEFAULT_ROOM_VERSION
from homeserver.storage.database import Database
from homeserver.sync.handler import SyncHandler, SyncRequest
from homeserver.sync.memberships import MembershipCache
from homeserver.sync.notifier import Notifier
from homeserver.sync.tokens import StreamToken

from ..support.matrix_client import Server, User

ROOMS = 200


@contextmanager
def counting_reads(db: Database) -> Iterator[list[str]]:
    """Records the name of every function run in a read transaction."""
    calls: list[str] = []
    original = db.read

    async def read(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(fn, *args, **kwargs)

    db.read = read  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        del db.read


async def make_rooms(server: Server, user: User, count: int) -> list[str]:
    """``count`` rooms the user created and joined (through the pipeline: fast)."""
    pipeline = server.app[PIPELINE_KEY]
    rooms = []
    for _ in range(count):
        server.clock.advance(1)  # v12 room ids hash the create event, timestamp included
        created = await pipeline.create_room(DEFAULT_ROOM_VERSION, user.user_id, {})
        room_id = created.event.room_id
        await pipeline.send(
            room_id, user.user_id, "m.room.member", {"membership": "join"}, state_key=user.user_id
        )
        rooms.append(room_id)
    return rooms


async def settled(server: Server) -> None:
    """Background readers of new events (push rules) are done: only sync reads count."""
    evaluator = server.app[PUSH_KEY].evaluator
    assert await evaluator.wait_for(server.app[PIPELINE_KEY].persisted_upto, timeout=30)


async def test_incremental_sync_visits_only_changed_rooms(server: Server, alice: User) -> None:
    rooms = await make_rooms(server, alice, ROOMS)
    db = server.app[STORE_KEY].db
    await settled(server)
    with counting_reads(db) as initial_reads:
        first = await alice.sync()
    assert set(first["rooms"]["join"]) == set(rooms)
    # All the rooms' timelines and state in a bounded number of reads (batched), not
    # one read (or more) per room; the other streams (receipts, presence, ...) add a
    # read or two each, also whatever the number of rooms.
    assert len(initial_reads) <= 10, initial_reads
    assert initial_reads.count("rooms_and_hooks") == 1  # every room, one read

    since = first["next_batch"]
    await alice.send(rooms[137], "only here")
    with counting_reads(db) as reads:
        body = await alice.sync(since)
    assert list(body["rooms"]["join"]) == [rooms[137]]
    assert len(reads) <= 2, reads  # the room's data; its state bodies come from the cache

    # The handler visited one room out of 200.
    handler = server.app[SYNC_HANDLER_KEY]
    since = body["next_batch"]
    await alice.send(rooms[3], "and here")
    result = await handler.current_sync(
        SyncRequest(alice.user_id, "DEVICE", since=StreamToken.parse(since))
    )
    assert result.rooms_visited == 1
    # Nothing changed: no room visited, no database read at all.
    with counting_reads(db) as reads:
        result = await handler.current_sync(
            SyncRequest(alice.user_id, "DEVICE", since=result.next_batch)
        )
    assert result.empty and result.rooms_visited == 0
    assert reads == []


async def test_token_older_than_the_cache_asks_the_database(server: Server, alice: User) -> None:
    """After a restart the in-memory cache knows nothing older: the handler then asks
    the database which rooms changed, and still answers correctly."""
    rooms = await make_rooms(server, alice, 5)
    since = (await alice.sync())["next_batch"]
    await alice.send(rooms[2], "before the restart")
    app = server.app
    store = app[STORE_KEY]
    notifier = Notifier(MembershipCache(store.rooms.user_memberships))
    notifier.start(app[PIPELINE_KEY].persisted_upto, await store.account_data.max_stream_id())
    fresh = SyncHandler(store, app[ROOMS_KEY], notifier, server.clock)
    req = SyncRequest(alice.user_id, "DEVICE", since=StreamToken.parse(since))
    result = await fresh.current_sync(req)
    assert list(result.rooms["join"]) == [rooms[2]]
    events = result.rooms["join"][rooms[2]]["timeline"]["events"]
    assert [e["content"]["body"] for e in events] == ["before the restart"]
