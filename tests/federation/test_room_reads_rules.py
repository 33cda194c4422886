"""Who may read what of a room over federation: the gates, history visibility for
servers and the ACL, checked on the read handlers of both database engines (the HTTP
endpoints between two real servers are in ``test_room_reads_http``)."""

from __future__ import annotations

from typing import Any

import pytest

from federation.acl import ServerAcl
from federation.room_reads import RoomReads
from homeserver.errors import MatrixError
from homeserver.protocol.events import Event
from homeserver.protocol.redaction import redact
from homeserver.rooms.creation import parse_create_room

from ..conftest import FakeClock
from ..rooms.conftest import Rooms
from ..rooms.conftest import rooms as rooms

ALICE = "@alice:hs.test"
BOB = "@bob:remote.test"
EVE = "@eve:other.test"
MSG = {"msgtype": "m.text", "body": "secret"}


def _handler(rooms: Rooms, clock: FakeClock) -> RoomReads:
    cache = rooms.pipeline.rooms
    return RoomReads(rooms.store, cache, ServerAcl(cache), clock)


async def _send(
    rooms: Rooms, room_id: str, sender: str, typ: str, content: Any, key: str | None = None
) -> Event:
    return (await rooms.pipeline.send(room_id, sender, typ, content, state_key=key)).event


async def _errcode(coro: Any) -> tuple[int, str]:
    with pytest.raises(MatrixError) as info:
        await coro
    return info.value.status, info.value.errcode


async def test_gates_unknown_room_not_in_room_and_acl(rooms: Rooms, clock: FakeClock) -> None:
    reads = _handler(rooms, clock)
    room_id = await rooms.creator.create_room(ALICE, parse_create_room({"preset": "public_chat"}))
    msg = await _send(rooms, room_id, ALICE, "m.room.message", MSG)
    assert await _errcode(reads.backfill(BOB, "!nope:hs.test", [msg.event_id], 5)) == (
        404,
        "M_NOT_FOUND",
    )
    # remote.test has nobody in the room.
    for call in (
        reads.backfill("remote.test", room_id, [msg.event_id], 5),
        reads.missing_events("remote.test", room_id, [], [msg.event_id], 5, 0),
        reads.state("remote.test", room_id, msg.event_id),
        reads.state_ids("remote.test", room_id, msg.event_id),
        reads.event("remote.test", msg.event_id),
        reads.event_auth("remote.test", room_id, msg.event_id),
    ):
        assert await _errcode(call) == (403, "M_FORBIDDEN")
    await _send(rooms, room_id, BOB, "m.room.member", {"membership": "join"}, BOB)
    assert len(await reads.backfill("remote.test", room_id, [msg.event_id], 5)) == 5
    # Unknown events of a known room.
    assert await _errcode(reads.state_ids("remote.test", room_id, "$nope")) == (404, "M_NOT_FOUND")
    assert await _errcode(reads.event("remote.test", "$nope")) == (404, "M_NOT_FOUND")
    other = await rooms.creator.create_room(ALICE, parse_create_room({"preset": "public_chat"}))
    await _send(rooms, other, BOB, "m.room.member", {"membership": "join"}, BOB)
    assert await _errcode(reads.event_auth("remote.test", other, msg.event_id)) == (
        404,
        "M_NOT_FOUND",
    )

    # The ACL shuts remote.test out of every protected read, though it is in the room.
    await _send(
        rooms, room_id, ALICE, "m.room.server_acl", {"allow": ["*"], "deny": ["remote.test"]}, ""
    )
    for call in (
        reads.backfill("remote.test", room_id, [msg.event_id], 5),
        reads.missing_events("remote.test", room_id, [], [msg.event_id], 5, 0),
        reads.state("remote.test", room_id, msg.event_id),
        reads.state_ids("remote.test", room_id, msg.event_id),
        reads.event_auth("remote.test", room_id, msg.event_id),
    ):
        assert await _errcode(call) == (403, "M_FORBIDDEN")
    acl = reads.acl
    assert not await acl.allowed("remote.test:8448", room_id)
    assert await acl.allowed("hs.test", room_id)
    assert await acl.allowed("remote.test", other)  # no ACL there
    await _send(rooms, room_id, ALICE, "m.room.server_acl", {"allow": ["*"]}, "")
    assert len(await reads.backfill("remote.test", room_id, [msg.event_id], 2)) == 2


async def test_joined_history_is_redacted_for_servers_not_there(
    rooms: Rooms, clock: FakeClock
) -> None:
    reads = _handler(rooms, clock)
    room_id = await rooms.creator.create_room(ALICE, parse_create_room({"preset": "public_chat"}))
    vis = "m.room.history_visibility"
    await _send(rooms, room_id, ALICE, vis, {"history_visibility": "joined"}, "")
    before = await _send(rooms, room_id, ALICE, "m.room.message", {**MSG, "body": "before"})
    join = await _send(rooms, room_id, BOB, "m.room.member", {"membership": "join"}, BOB)
    during = await _send(rooms, room_id, ALICE, "m.room.message", {**MSG, "body": "during"})
    await _send(rooms, room_id, BOB, "m.room.member", {"membership": "leave"}, BOB)
    after = await _send(rooms, room_id, ALICE, "m.room.message", {**MSG, "body": "after"})
    await _send(rooms, room_id, EVE, "m.room.member", {"membership": "join"}, EVE)
    # remote.test left: it no longer reads the room at all.
    assert await _errcode(reads.event("remote.test", during.event_id)) == (403, "M_FORBIDDEN")
    await _send(rooms, room_id, BOB, "m.room.member", {"membership": "join"}, BOB)
    by_id = {
        pdu["content"].get("body", pdu["type"]): pdu
        for pdu in await reads.backfill("remote.test", room_id, [after.event_id], 100)
    }
    assert "during" in by_id  # whole: remote.test was in the room
    assert by_id["during"]["signatures"] == during.pdu["signatures"]
    assert "before" not in by_id and "after" not in by_id  # redacted: no body
    redacted_before = redact(before.pdu, before.room_version)
    event_pdu = await reads.event("remote.test", before.event_id)
    assert {k: v for k, v in event_pdu.items() if k != "unsigned"} == redacted_before
    assert event_pdu["unsigned"] == {"age": clock.time_ms() - before.origin_server_ts}
    assert (await reads.event("remote.test", join.event_id))["content"] == {"membership": "join"}
    # other.test joined after all of it, and sees the same redactions.
    eve_view = await reads.event("other.test", during.event_id)
    assert "body" not in eve_view["content"]
    # shared history is open to any server in the room.
    await _send(rooms, room_id, ALICE, vis, {"history_visibility": "shared"}, "")
    late = await _send(rooms, room_id, ALICE, "m.room.message", {**MSG, "body": "late"})
    assert (await reads.event("other.test", late.event_id))["content"]["body"] == "late"
    missing = await reads.missing_events("other.test", room_id, [], [late.event_id], 3, 0)
    assert missing[-1]["type"] == vis and len(missing) == 3


async def test_invited_history_is_open_to_invited_servers(rooms: Rooms, clock: FakeClock) -> None:
    reads = _handler(rooms, clock)
    room_id = await rooms.creator.create_room(ALICE, parse_create_room({"preset": "private_chat"}))
    vis = "m.room.history_visibility"
    await _send(rooms, room_id, ALICE, vis, {"history_visibility": "invited"}, "")
    await _send(rooms, room_id, ALICE, "m.room.member", {"membership": "invite"}, BOB)
    while_invited = await _send(rooms, room_id, ALICE, "m.room.message", MSG)
    await _send(rooms, room_id, BOB, "m.room.member", {"membership": "join"}, BOB)
    assert (await reads.event("remote.test", while_invited.event_id))["content"] == MSG
    await _send(rooms, room_id, ALICE, vis, {"history_visibility": "joined"}, "")
    await _send(rooms, room_id, ALICE, "m.room.member", {"membership": "invite"}, EVE)
    invited_only = await _send(rooms, room_id, ALICE, "m.room.message", MSG)
    await _send(rooms, room_id, EVE, "m.room.member", {"membership": "join"}, EVE)
    assert (await reads.event("other.test", invited_only.event_id))["content"] == {}
    assert (await reads.event("remote.test", invited_only.event_id))["content"] == MSG


async def test_state_and_auth_chains(rooms: Rooms, clock: FakeClock) -> None:
    reads = _handler(rooms, clock)
    room_id = await rooms.creator.create_room(ALICE, parse_create_room({"preset": "public_chat"}))
    await _send(rooms, room_id, BOB, "m.room.member", {"membership": "join"}, BOB)
    name = await _send(rooms, room_id, ALICE, "m.room.name", {"name": "N"}, "")
    msg = await _send(rooms, room_id, BOB, "m.room.message", MSG)
    current = await rooms.store.state.get_current_state_ids(room_id)
    pdu_ids, chain = await reads.state_ids("remote.test", room_id, msg.event_id)
    assert sorted(pdu_ids) == sorted(current.values())
    before_name, _ = await reads.state_ids("remote.test", room_id, name.event_id)
    assert set(pdu_ids) - set(before_name) == {name.event_id}
    pdus, auth = await reads.state("remote.test", room_id, msg.event_id)
    assert sorted(p["type"] for p in pdus) == sorted(t for t, _ in current)
    assert "m.room.create" in {a["type"] for a in auth}
    assert len(auth) == len(chain)
    event_auth = await reads.event_auth("remote.test", room_id, msg.event_id)
    types = {(p["type"], p.get("state_key")) for p in event_auth}
    assert ("m.room.create", "") in types and ("m.room.member", BOB) in types
    assert all("unsigned" not in p or set(p["unsigned"]) == {"age"} for p in event_auth)
    create_id = current[("m.room.create", "")]
    assert await reads.event_auth("remote.test", room_id, create_id) == []
