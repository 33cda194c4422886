"""The state group cache: bounded, copies out, and chain reads that use it, on both
engines."""

from __future__ import annotations

from homeserver.storage import room_reads, state_store, sync_store
from homeserver.storage.database import Database
from homeserver.storage.state_store import StateGroupCache

from .test_room_reads import build_chain


def test_cache_is_bounded_by_entries_least_recently_used_first() -> None:
    cache = StateGroupCache(max_entries=4)
    cache.put(1, {("a", ""): "$1", ("b", ""): "$2"})
    cache.put(2, {("a", ""): "$3"})
    assert cache.get(1) is not None  # 1 is now the most recently used
    cache.put(3, {("c", ""): "$4", ("d", ""): "$5"})
    assert cache.get(2) is None
    assert cache.get(1) == {("a", ""): "$1", ("b", ""): "$2"}
    cache.put(4, {("k", str(i)): "$x" for i in range(5)})  # bigger than the whole cache
    assert cache.get(4) is None
    assert len(cache) == 2


def test_cache_hands_out_copies() -> None:
    cache = StateGroupCache()
    state = {("a", ""): "$1"}
    cache.put(1, state)
    state[("b", "")] = "$2"
    got = cache.get(1)
    assert got == {("a", ""): "$1"}
    assert got is not None
    got[("c", "")] = "$3"
    assert cache.get(1) == {("a", ""): "$1"}


async def test_loads_through_the_cache_match_uncached_loads(database: Database) -> None:
    length = state_store.MAX_CHAIN * 2 + 5  # crosses snapshots
    groups = await database.write(build_chain, length)
    cache = StateGroupCache()
    # A cached group in the middle of chains: later loads build on it.
    middle = groups[state_store.MAX_CHAIN + 3]
    cache.put(middle, await database.read(state_store.load_state_group, middle))
    keys = [("k", "0"), ("k", "1"), ("other", "")]
    for gid in groups:
        plain = await database.read(state_store.load_state_group, gid)
        assert await database.read(state_store.load_state_group, gid, cache) == plain
        assert cache.get(gid) == plain
        assert await database.read(sync_store.state_entries_at, gid, keys, cache) == {
            k: v for k, v in plain.items() if k in keys
        }
    found = await database.read(room_reads.state_at_groups, groups, keys, cache)
    uncached = await database.read(room_reads.state_at_groups, groups, keys)
    assert found == uncached
    assert await database.read(state_store.load_state_group, 10**9, cache) == {}


async def test_group_chain_and_state_delta(database: Database) -> None:
    groups = await database.write(build_chain, 10)
    chain = await database.read(state_store.group_chain, groups[9])
    assert chain == groups[::-1]
    assert await database.read(state_store.group_chain, groups[9], 3) == groups[9:6:-1]
    delta = await database.read(sync_store.state_delta, groups[5], groups[9])
    assert delta == {("k", "0"): "$e9", ("k", "2"): "$e8", ("k", "1"): "$e7"}
    assert await database.read(sync_store.state_delta, groups[9], groups[5]) is None
    assert await database.read(sync_store.state_delta, None, groups[5]) is None
