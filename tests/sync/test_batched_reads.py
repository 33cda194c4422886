"""The batched reads behind initial sync give what the per-room reads give."""

from __future__ import annotations

from homeserver.appkeys import STORE_KEY
from homeserver.storage import sync_store
from homeserver.storage.database import Txn
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.sync_store import Window

from ..support.matrix_client import Server, User


def _both_ways(
    txn: Txn, windows: list[Window], limit: int, types: set[str] | None
) -> tuple[list[list[str]], list[list[str]]]:
    def accept(stored: StoredEvent) -> bool:
        return types is None or stored.event.type in types

    pages = sync_store.first_pages(txn, windows, limit + 1)
    batched, single = [], []
    for w in windows:
        for first, out in ((pages[w.room_id], batched), (None, single)):
            timeline = sync_store.recent_events(
                txn, w.room_id, w.after, w.upto, limit, accept, first
            )
            out.append(
                [e.event.event_id for e in timeline.events]
                + [f"limited={timeline.limited}", f"skipped={timeline.skipped}"]
            )
    return batched, single


async def test_first_pages_match_per_room_reads(server: Server, alice: User) -> None:
    rooms = [await alice.create_room() for _ in range(5)]  # enough to be read batched
    for index in range(30):
        event_type = "m.room.message" if index % 3 else "org.example.other"
        await alice.send(rooms[0], f"m{index}", event_type=event_type)
    await alice.send(rooms[1], "one")
    store = server.app[STORE_KEY]
    upto = await store.events.max_stream_ordering()
    middle = upto - 20
    for after in (None, middle):
        windows = [Window(room_id, after, upto) for room_id in rooms]
        # A window that ends before the newest events of its room.
        windows[0] = Window(rooms[0], after, upto - 5)
        for limit in (0, 1, 5, 40):
            for types in (None, {"m.room.message"}, {"org.example.none"}):
                for some in (windows, windows[:2]):  # batched, and room by room
                    batched, single = await store.db.read(_both_ways, some, limit, types)
                    assert batched == single, (after, limit, types)
