"""The pusher's storage on each database engine: positions, pending transactions (the
same id and body until acknowledged; ids never reused), the backoff."""

from __future__ import annotations

from homeserver.storage.database import Database
from homeserver.storage.store import Store


async def test_a_new_registration_starts_at_the_given_positions(database: Database) -> None:
    store = Store(database).appservice
    state = await store.load_state("irc", 42, 7)
    assert (state.stream_position, state.to_device_position) == (42, 7)
    assert (state.retry_last_ts, state.retry_interval_ms) == (0, 0)
    again = await store.load_state("irc", 99, 99)  # existing: the start is ignored
    assert (again.stream_position, again.to_device_position) == (42, 7)
    assert await store.pending_txns("irc") == []


async def test_transactions_are_kept_until_sent_and_ids_never_reused(database: Database) -> None:
    store = Store(database).appservice
    await store.load_state("irc", 0, 0)
    await store.load_state("slack", 0, 0)
    assert await store.create_txn("irc", None, 5, 0) is None  # only the position moves
    first = await store.create_txn("irc", {"events": [{"n": 1}]}, 10, 3)
    second = await store.create_txn("irc", {"events": [{"n": 2}]}, 12, 3)
    other = await store.create_txn("slack", {"events": []}, 1, 0)
    assert first is not None and second is not None and other is not None
    assert (first.txn_id, second.txn_id, other.txn_id) == (1, 2, 1)
    state = await store.load_state("irc", 0, 0)
    assert (state.stream_position, state.to_device_position) == (12, 3)
    pending = await store.pending_txns("irc")
    assert [(p.txn_id, p.body) for p in pending] == [(1, {"events": [{"n": 1}]}), (2, second.body)]

    await store.set_backoff("irc", 1000, 4000)
    state = await store.load_state("irc", 0, 0)
    assert (state.retry_last_ts, state.retry_interval_ms) == (1000, 4000)
    await store.txn_sent("irc", 1)
    state = await store.load_state("irc", 0, 0)
    assert (state.retry_last_ts, state.retry_interval_ms) == (0, 0)
    assert [p.txn_id for p in await store.pending_txns("irc")] == [2]
    await store.txn_sent("irc", 2)
    third = await store.create_txn("irc", {"events": []}, 13, 3)
    assert third is not None and third.txn_id == 3
    assert [p.txn_id for p in await store.pending_txns("slack")] == [1]


async def test_reading_the_streams_is_empty_on_an_empty_database(database: Database) -> None:
    store = Store(database).appservice
    assert await store.timeline_events(0, 100, 10) == []
    assert await store.to_device_messages(0, 100, 10) == []
