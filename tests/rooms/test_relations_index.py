"""The relations index the pipeline writes, and what bundling costs, on both databases."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from homeserver.protocol.builder import build_event
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import room_version
from homeserver.protocol.signing import SigningKey
from homeserver.rooms.bundles import load_bundles
from homeserver.rooms.creation import parse_create_room
from homeserver.storage import relations_store
from homeserver.storage.database import Row, Txn
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.relations_store import RelationRooms

from .conftest import Rooms

ALICE = "@alice:hs.test"
BOB = "@bob:hs.test"


class CountingTxn(Txn):
    """A ``Txn`` that counts the statements run through it."""

    def __init__(self, inner: Txn) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.statements = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.statements += 1
        self.inner.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.statements += 1
        self.inner.executemany(sql, rows)

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        self.statements += 1
        return self.inner.fetchone(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.statements += 1
        return self.inner.fetchall(sql, params)

    @property
    def rowcount(self) -> int:
        return self.inner.rowcount


def _edit(target: str, body: str) -> dict[str, Any]:
    return {
        "body": f"* {body}",
        "m.new_content": {"body": body},
        "m.relates_to": {"rel_type": "m.replace", "event_id": target},
    }


async def _bundle_statements(
    rooms: Rooms, event_ids: list[str], known: RelationRooms | None
) -> tuple[int, int]:
    """(statements, bundles) of bundling these events in one read."""
    found = await rooms.store.events.get_events(event_ids)
    events: list[StoredEvent] = [found[i] for i in event_ids]

    def run(txn: Txn) -> tuple[int, int]:
        counting = CountingTxn(txn)
        bundles = load_bundles(counting, events, ALICE, known)
        return counting.statements, len(bundles)

    return await rooms.store.db.read(run)


async def test_bundling_costs_nothing_without_relations_and_a_few_statements_with(
    rooms: Rooms,
) -> None:
    pipeline = rooms.pipeline
    room = await rooms.creator.create_room(ALICE, parse_create_room({"preset": "public_chat"}))
    plain = [
        (await pipeline.send(room, ALICE, "m.room.message", {"body": f"m{i}"})).event.event_id
        for i in range(30)
    ]
    known = rooms.store.relations.rooms
    await rooms.store.db.read(known.among, [])  # loaded once, as on a running server
    # A page from a room that never had a relation: no statement at all.
    assert await _bundle_statements(rooms, plain, known) == (0, 0)
    # Without the room set every page asks the database once.
    assert await _bundle_statements(rooms, plain, None) == (1, 0)

    # Edits of 3 messages or of 30 cost the same: one query for the page, one fetch.
    for target in plain[:3]:
        await pipeline.send(room, ALICE, "m.room.message", _edit(target, "x"))
    assert await _bundle_statements(rooms, plain, known) == (2, 3)
    for target in plain[3:]:
        await pipeline.send(room, ALICE, "m.room.message", _edit(target, "x"))
    assert await _bundle_statements(rooms, plain, known) == (2, 30)

    # Threads add one query for their latest events' own edits.
    for target in plain[:10]:
        thread = {"body": "t", "m.relates_to": {"rel_type": "m.thread", "event_id": target}}
        await pipeline.send(room, ALICE, "m.room.message", thread)
    assert await _bundle_statements(rooms, plain, known) == (3, 30)

    # A fresh room set (a restart) finds the room in the database.
    fresh = RelationRooms()
    assert await rooms.store.db.read(fresh.among, [room, "!other:hs.test"]) == {room}


def _event(
    key: SigningKey, room_id: str, sender: str, content: dict[str, Any], depth: int
) -> Event:
    return build_event(
        version=room_version("10"),
        room_id=room_id,
        sender=sender,
        event_type="m.room.message",
        content=content,
        prev_events=[],
        auth_events=[],
        depth=depth,
        origin_server_ts=1_000 + depth,
        key=key,
    )


async def test_children_that_arrive_before_their_parent_are_checked_when_it_comes(
    rooms: Rooms,
) -> None:
    """Over federation a child may come first: it is indexed on trust, and dropped when
    its parent arrives if it breaks the parent's rules (spec: "Validity of
    replacement events")."""
    key = SigningKey.from_seed("other.test", "k", b"\x03" * 32)
    room_id = "!room:other.test"
    parent = _event(key, room_id, "@carol:other.test", {"body": "original"}, 1)
    good = _event(key, room_id, "@carol:other.test", _edit(parent.event_id, "mine"), 2)
    forged = _event(key, room_id, "@mallory:other.test", _edit(parent.event_id, "not mine"), 3)
    reaction = _event(
        key,
        room_id,
        "@mallory:other.test",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": parent.event_id, "key": "k"}},
        4,
    )
    known = rooms.store.relations.rooms

    def index_children(txn: Txn) -> list[bool]:
        return [
            relations_store.index_event(txn, child, stream, known)
            for stream, child in ((2, good), (3, forged), (4, reaction))
        ]

    assert await rooms.store.db.write(index_children) == [True, True, True]
    await rooms.store.db.write(relations_store.recheck_children, parent)

    def children(txn: Txn) -> list[str]:
        rows = txn.fetchall(
            "SELECT event_id FROM event_relations WHERE relates_to_id = ? ORDER BY depth",
            (parent.event_id,),
        )
        return [row[0] for row in rows]

    assert await rooms.store.db.read(children) == [good.event_id, reaction.event_id]
    assert await rooms.store.db.read(known.among, [room_id]) == {room_id}
