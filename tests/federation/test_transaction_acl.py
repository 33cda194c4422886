"""EDUs of rooms whose server ACL bans the origin are ignored (spec: server-server "Server
Access Control Lists (ACLs)"); the transaction's other EDUs still arrive."""

from __future__ import annotations

from typing import Any

from federation.transactions import TransactionHandler
from homeserver.storage.database import Database
from homeserver.storage.store import Store

from ..conftest import FakeClock

BANNED_ROOM = "!banned:hs.test"
OPEN_ROOM = "!open:hs.test"


class _NoPdus:
    async def on_pdus(self, origin: str, pdus: list[Any]) -> dict[str, Any]:
        return {}


async def test_typing_and_receipts_of_banning_rooms_are_dropped(
    database: Database, clock: FakeClock
) -> None:
    received: list[dict[str, Any]] = []

    async def on_edu(origin: str, edu: Any) -> None:
        received.append(edu)

    async def acl_allows(origin: str, room_id: str) -> bool:
        return room_id != BANNED_ROOM

    handler = TransactionHandler(
        Store(database),
        _NoPdus(),
        clock,
        on_edu=on_edu,
        acl_allows=acl_allows,  # type: ignore[arg-type]
    )
    receipt = {"m.read": {"@bob:other.test": {"event_ids": ["$e"], "data": {"ts": 1}}}}
    edus = [
        {
            "edu_type": "m.typing",
            "content": {"room_id": BANNED_ROOM, "user_id": "@bob:other.test", "typing": True},
        },
        {
            "edu_type": "m.typing",
            "content": {"room_id": OPEN_ROOM, "user_id": "@bob:other.test", "typing": True},
        },
        {"edu_type": "m.receipt", "content": {BANNED_ROOM: receipt, OPEN_ROOM: receipt}},
        {"edu_type": "m.receipt", "content": {BANNED_ROOM: receipt}},
        {"edu_type": "m.presence", "content": {"push": []}},
    ]
    await handler.on_send("other.test", "t1", {"pdus": [], "edus": edus})
    assert [
        (
            e["edu_type"],
            sorted(e["content"]) if e["edu_type"] == "m.receipt" else e["content"].get("room_id"),
        )
        for e in received
    ] == [
        ("m.typing", OPEN_ROOM),
        ("m.receipt", [OPEN_ROOM]),
        ("m.presence", None),
    ]
