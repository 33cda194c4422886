"""State lookups at state groups: deltas over chains and snapshots, on both engines."""

from __future__ import annotations

from homeserver.storage import room_reads, state_store
from homeserver.storage.database import Database, Txn


def build_chain(txn: Txn, length: int) -> list[int]:
    """Groups where group i sets ("k", str(i % 3)) -> "$e{i}"; returns their ids."""
    state: dict[tuple[str, str], str] = {}
    groups: list[int] = []
    prev: int | None = None
    for i in range(length):
        key = ("k", str(i % 3))
        state[key] = f"$e{i}"
        prev = state_store.store_state_group(txn, "!r:hs", prev, {key: f"$e{i}"}, dict(state))
        groups.append(prev)
    return groups


async def test_state_at_groups_matches_full_loads(database: Database) -> None:
    length = state_store.MAX_CHAIN * 2 + 5  # crosses snapshots
    groups = await database.write(build_chain, length)
    keys = [("k", "0"), ("k", "2"), ("other", "")]
    found = await database.read(room_reads.state_at_groups, groups, keys)
    for gid in groups:
        full = await database.read(state_store.load_state_group, gid)
        expected = {k: v for k, v in full.items() if k in keys}
        assert found[gid] == expected
    assert found[groups[0]] == {("k", "0"): "$e0"}
    assert await database.read(room_reads.state_at_groups, [], keys) == {}
