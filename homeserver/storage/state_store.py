"""State groups (full state maps stored as bounded delta chains) and current state.

DESIGN.md "The write path": a group is a delta over a previous group with periodic
full snapshots, so reading one touches at most ``MAX_CHAIN`` groups.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from .database import Database, Txn, in_chunks

StateKey = tuple[str, str]
StateMap = dict[StateKey, str]

# A new group whose chain would grow past this is written as a full snapshot.
MAX_CHAIN = 32


class StateGroupCache:
    """Full state maps of state groups, shared by every reader and the writer.

    A group never changes once committed, so entries never go stale. Bounded by the
    total number of map entries (big rooms have big maps), least recently used out
    first; thread-safe because reads run on the database's worker threads. Only
    committed groups go in: group ids of a rolled-back write are handed out again.
    Maps handed out are copies, so callers may change them.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._maps: OrderedDict[int, StateMap] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, group_id: int) -> StateMap | None:
        with self._lock:
            state = self._maps.get(group_id)
            if state is None:
                return None
            self._maps.move_to_end(group_id)
        return dict(state)

    def put(self, group_id: int, state: Mapping[StateKey, str]) -> None:
        if len(state) > self.max_entries:
            return
        copy = dict(state)
        with self._lock:
            old = self._maps.pop(group_id, None)
            if old is not None:
                self._size -= len(old)
            self._maps[group_id] = copy
            self._size += len(copy)
            while self._size > self.max_entries:
                _, evicted = self._maps.popitem(last=False)
                self._size -= len(evicted)

    def __len__(self) -> int:
        return len(self._maps)


def next_state_group_id(txn: Txn) -> int:
    return int(txn.fetchval("SELECT MAX(id) FROM state_groups") or 0) + 1


def store_state_group(
    txn: Txn,
    room_id: str,
    prev_group: int | None,
    delta: Mapping[StateKey, str],
    full_state: Mapping[StateKey, str],
) -> int:
    """Write a group for ``full_state``: a delta over ``prev_group`` while its chain is
    short, else a snapshot. Returns the new group id."""
    group_id = next_state_group_id(txn)
    chain = 0
    if prev_group is not None:
        prev_chain = txn.fetchval(
            "SELECT chain_length FROM state_groups WHERE id = ?", (prev_group,)
        )
        if prev_chain is not None and prev_chain + 1 < MAX_CHAIN:
            chain = prev_chain + 1
    if chain == 0:
        prev_group = None
        entries = full_state
    else:
        entries = delta
    txn.execute(
        "INSERT INTO state_groups (id, room_id, prev_group, chain_length) VALUES (?, ?, ?, ?)",
        (group_id, room_id, prev_group, chain),
    )
    txn.executemany(
        "INSERT INTO state_group_entries (group_id, type, state_key, event_id) VALUES (?, ?, ?, ?)",
        [(group_id, key[0], key[1], event_id) for key, event_id in entries.items()],
    )
    return group_id


def group_chain(txn: Txn, group_id: int, max_length: int = MAX_CHAIN + 2) -> list[int]:
    """The group and the groups it is a delta over, newest first (at most
    ``max_length``), in one round trip."""
    rows = txn.fetchall(
        "WITH RECURSIVE chain(id, prev_group) AS ("
        " SELECT id, prev_group FROM state_groups WHERE id = ?"
        " UNION ALL SELECT g.id, g.prev_group FROM state_groups g"
        " JOIN chain c ON g.id = c.prev_group)"
        " SELECT id, prev_group FROM chain LIMIT ?",
        (group_id, max_length),
    )
    prev = {row[0]: row[1] for row in rows}
    chain: list[int] = []
    current: int | None = group_id if group_id in prev else None
    while current is not None and current in prev and len(chain) < max_length:
        chain.append(current)
        current = prev[current]
    return chain


def load_state_group(txn: Txn, group_id: int, cache: StateGroupCache | None = None) -> StateMap:
    """The full state map of a group: from ``cache``, else its delta chain read back
    to a snapshot or to a cached group (the result goes into ``cache``)."""
    if cache is not None and (cached := cache.get(group_id)) is not None:
        return cached
    chain = group_chain(txn, group_id)
    if not chain:
        return {}
    if len(chain) > MAX_CHAIN + 1:
        raise RuntimeError(f"state group chain of {group_id} is longer than {MAX_CHAIN}")
    state: StateMap = {}
    if cache is not None:
        for index, gid in enumerate(chain[1:], start=1):
            found = cache.get(gid)
            if found is not None:
                state, chain = found, chain[:index]
                break
    rows = txn.fetchall(
        "SELECT group_id, type, state_key, event_id FROM state_group_entries"
        f" WHERE group_id IN {txn.in_list(chain)}",
        chain,
    )
    by_group: dict[int, list[tuple[str, str, str]]] = {}
    for gid, typ, state_key, event_id in rows:
        by_group.setdefault(gid, []).append((typ, state_key, event_id))
    for gid in reversed(chain):  # snapshot (or cached base) first, newest delta last
        for typ, state_key, event_id in by_group.get(gid, ()):
            state[(typ, state_key)] = event_id
    if cache is not None:
        cache.put(group_id, state)
    return state


def update_current_state(
    txn: Txn, room_id: str, changes: Mapping[StateKey, str], memberships: Mapping[str, str]
) -> None:
    """Apply ``changes`` to the room's current state. ``memberships`` gives the
    membership of each changed ``m.room.member`` state key."""
    for (typ, state_key), event_id in changes.items():
        membership = memberships.get(state_key) if typ == "m.room.member" else None
        txn.execute(
            "INSERT INTO current_state (room_id, type, state_key, event_id, membership)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (room_id, type, state_key)"
            " DO UPDATE SET event_id = excluded.event_id, membership = excluded.membership",
            (room_id, typ, state_key, event_id, membership),
        )


def remove_current_state(txn: Txn, room_id: str, keys: Sequence[StateKey]) -> None:
    txn.executemany(
        "DELETE FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?",
        [(room_id, typ, state_key) for typ, state_key in keys],
    )


def replace_current_state(
    txn: Txn, room_id: str, state: Mapping[StateKey, str], memberships: Mapping[str, str]
) -> None:
    txn.execute("DELETE FROM current_state WHERE room_id = ?", (room_id,))
    update_current_state(txn, room_id, state, memberships)


def get_current_state_ids(txn: Txn, room_id: str) -> StateMap:
    rows = txn.fetchall(
        "SELECT type, state_key, event_id FROM current_state WHERE room_id = ?", (room_id,)
    )
    return {(typ, state_key): event_id for typ, state_key, event_id in rows}


def joined_members(txn: Txn, room_id: str) -> list[str]:
    rows = txn.fetchall(
        "SELECT state_key FROM current_state WHERE room_id = ? AND type = 'm.room.member'"
        " AND membership = 'join'",
        (room_id,),
    )
    return [row[0] for row in rows]


def joined_in_rooms(txn: Txn, room_ids: Sequence[str]) -> set[str]:
    """Everyone joined to any of ``room_ids`` (local or not)."""
    found: set[str] = set()
    for chunk in in_chunks(room_ids):
        rows = txn.fetchall(
            "SELECT DISTINCT state_key FROM current_state WHERE type = 'm.room.member'"
            f" AND membership = 'join' AND room_id IN {txn.in_list(chunk)}",
            chunk,
        )
        found.update(row[0] for row in rows)
    return found


class StateStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.groups = StateGroupCache()

    async def load_state_group(self, group_id: int) -> StateMap:
        return await self.db.read(load_state_group, group_id, self.groups)

    async def get_current_state_ids(self, room_id: str) -> StateMap:
        return await self.db.read(get_current_state_ids, room_id)

    async def joined_members(self, room_id: str) -> list[str]:
        return await self.db.read(joined_members, room_id)
