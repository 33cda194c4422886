"""The write path end to end on both databases: create, send, redact, restart."""

from __future__ import annotations

import pytest

from homeserver.errors import MatrixError
from homeserver.protocol.room_versions import KNOWN_ROOM_VERSIONS, room_version
from homeserver.rooms.creation import parse_create_room
from homeserver.rooms.persist import TxnKey
from homeserver.storage import state_store

from .conftest import Rooms, make_rooms

ALICE = "@alice:hs.test"
BOB = "@bob:hs.test"


async def test_create_room_initial_events_in_spec_order(rooms: Rooms) -> None:
    req = parse_create_room(
        {"preset": "public_chat", "name": "Pub", "topic": "Beer", "room_alias_name": "pub"}
    )
    room_id = await rooms.creator.create_room(ALICE, req)
    types = [(p.event.type, p.event.state_key) for p in rooms.published]
    assert types == [
        ("m.room.create", ""),
        ("m.room.member", ALICE),
        ("m.room.power_levels", ""),
        ("m.room.canonical_alias", ""),
        ("m.room.join_rules", ""),
        ("m.room.history_visibility", ""),
        ("m.room.guest_access", ""),
        ("m.room.name", ""),
        ("m.room.topic", ""),
    ]
    positions = [p.stream_ordering for p in rooms.published]
    assert positions == sorted(positions)
    state = await rooms.store.state.get_current_state_ids(room_id)
    assert state[("m.room.join_rules", "")] == rooms.published[4].event.event_id
    assert await rooms.creator.aliases.resolve_local("#pub:hs.test") == room_id
    # v12 by default: the room id is derived from the create event.
    create = rooms.published[0].event
    assert room_id == "!" + create.event_id[1:]


@pytest.mark.parametrize("version", sorted(KNOWN_ROOM_VERSIONS, key=int))
async def test_every_room_version_works(rooms: Rooms, version: str) -> None:
    req = parse_create_room({"preset": "public_chat", "room_version": version})
    room_id = await rooms.creator.create_room(ALICE, req)
    await rooms.pipeline.send(room_id, BOB, "m.room.member", {"membership": "join"}, state_key=BOB)
    sent = await rooms.pipeline.send(
        room_id, BOB, "m.room.message", {"body": "hi", "msgtype": "m.text"}
    )
    assert sent.event.room_version is room_version(version)
    members = await rooms.store.state.joined_members(room_id)
    assert sorted(members) == [ALICE, BOB]


async def test_auth_rules_refuse_non_members_and_low_power(rooms: Rooms) -> None:
    room_id = await rooms.creator.create_room(ALICE, parse_create_room({"preset": "private_chat"}))
    with pytest.raises(MatrixError) as info:
        await rooms.pipeline.send(room_id, BOB, "m.room.message", {"body": "x"})
    assert info.value.errcode == "M_FORBIDDEN"
    with pytest.raises(MatrixError):  # invite-only: bob may not join uninvited
        await rooms.pipeline.send(
            room_id, BOB, "m.room.member", {"membership": "join"}, state_key=BOB
        )
    await rooms.pipeline.send(
        room_id, ALICE, "m.room.member", {"membership": "invite"}, state_key=BOB
    )
    await rooms.pipeline.send(room_id, BOB, "m.room.member", {"membership": "join"}, state_key=BOB)
    with pytest.raises(MatrixError):  # power levels need 100
        await rooms.pipeline.send(room_id, BOB, "m.room.power_levels", {}, state_key="")


async def test_unknown_room_is_404(rooms: Rooms) -> None:
    with pytest.raises(MatrixError) as info:
        await rooms.pipeline.send("!nope:hs.test", ALICE, "m.room.message", {})
    assert info.value.status == 404


async def test_txn_id_makes_sends_idempotent(rooms: Rooms) -> None:
    room_id = await rooms.creator.create_room(ALICE, parse_create_room({}))
    txn = TxnKey(ALICE, "DEV", "t1")
    first = await rooms.pipeline.send(room_id, ALICE, "m.room.message", {"body": "a"}, txn=txn)
    again = await rooms.pipeline.send(room_id, ALICE, "m.room.message", {"body": "a"}, txn=txn)
    assert again.event.event_id == first.event.event_id
    other = await rooms.pipeline.send(
        room_id, ALICE, "m.room.message", {"body": "a"}, txn=TxnKey(ALICE, "DEV2", "t1")
    )
    assert other.event.event_id != first.event.event_id


async def test_redaction_strips_content(rooms: Rooms) -> None:
    room_id = await rooms.creator.create_room(ALICE, parse_create_room({}))
    msg = await rooms.pipeline.send(room_id, ALICE, "m.room.message", {"body": "secret"})
    await rooms.pipeline.send(room_id, ALICE, "m.room.redaction", {}, redacts=msg.event.event_id)
    stored = await rooms.store.events.get_event(msg.event.event_id)
    assert stored is not None
    assert stored.event.content == {}
    assert stored.redacted_by is not None


async def test_state_survives_restart_and_groups_match(rooms: Rooms, clock) -> None:
    room_id = await rooms.creator.create_room(ALICE, parse_create_room({"name": "one"}))
    for i in range(40):  # long enough to force a state-group snapshot
        await rooms.pipeline.send(room_id, ALICE, "m.room.topic", {"topic": f"t{i}"}, state_key="")
    last = await rooms.pipeline.send(room_id, ALICE, "m.room.message", {"body": "m"})
    fresh = await make_rooms(rooms.store.db, clock)
    current = await fresh.store.state.get_current_state_ids(room_id)
    stored = await fresh.store.events.get_event(last.event.event_id)
    assert stored is not None and stored.state_group_after is not None
    group_state = await fresh.store.db.read(state_store.load_state_group, stored.state_group_after)
    assert group_state == current
    sent = await fresh.pipeline.send(room_id, ALICE, "m.room.message", {"body": "after"})
    assert sent.event.prev_event_ids == (last.event.event_id,)
    assert sent.event.depth == last.event.depth + 1
    assert sent.stream_ordering > last.stream_ordering


async def test_concurrent_retries_of_one_txn_make_one_event(rooms: Rooms) -> None:
    import asyncio

    room_id = await rooms.creator.create_room(ALICE, parse_create_room({}))
    for round_ in range(10):  # retries land before, during and after the first commit
        txn = TxnKey(ALICE, "DEV", f"same{round_}")
        sends = [
            rooms.pipeline.send(
                room_id, ALICE, "m.room.message", {"body": f"once{round_}"}, txn=txn
            )
            for _ in range(8)
        ]
        results = await asyncio.gather(*sends)
        assert len({r.event.event_id for r in results}) == 1
    bodies = [
        p.event.content.get("body") for p in rooms.published if p.event.type == "m.room.message"
    ]
    assert bodies == [f"once{i}" for i in range(10)]
