"""Events from another server through the pipeline: joining a remote room from its
state, timeline events after it, forks and their resolved state, rejection (auth
events, state before) and soft failure (current state), on both databases.

spec: server-server "Checks performed on receipt of a PDU", "Soft failure".
"""

from __future__ import annotations

import pytest

from homeserver.protocol.room_versions import room_version
from homeserver.protocol.signing import SigningKey
from homeserver.rooms.remote_events import MissingEvents, RemoteEvents, StateAt
from homeserver.storage.database import Database

from ..conftest import FakeClock
from .conftest import SERVER, Rooms, make_rooms
from .remote_room import REMOTE, RemoteRoom

OUR_KEY = SigningKey.from_seed(SERVER, "a_1", b"\x02" * 32)
CAROL = f"@carol:{REMOTE}"
BOB = f"@bob:{REMOTE}"
ALICE = f"@alice:{SERVER}"

pytestmark = pytest.mark.parametrize("version_id", ["10", "11", "12"])


async def _joined(
    db: Database, clock: FakeClock, version_id: str
) -> tuple[Rooms, RemoteEvents, RemoteRoom]:
    """Alice (ours) has joined Carol's room on remote.test, Bob (remote) too."""
    rooms = await make_rooms(db, clock)
    remote = RemoteEvents(rooms.pipeline, rooms.pipeline.rooms, rooms.store)
    room = RemoteRoom(room_version(version_id), CAROL)
    room.build_and_add(BOB, "m.room.member", {"membership": "join"}, state_key=BOB)
    state = room.state()
    join = room.build(ALICE, "m.room.member", {"membership": "join"}, state_key=ALICE, key=OUR_KEY)
    chain = room.auth_chain([*state.values(), *join.auth_event_ids])
    rejected = await remote.persist_outliers(
        room.version, room.room_id, [*chain, *room.state_events()]
    )
    assert rejected == {}
    await remote.accept(join, state_before=StateAt(state))
    room.add(join)
    return rooms, remote, room


async def test_join_from_state_makes_the_room_ours(
    database: Database, clock: FakeClock, version_id: str
) -> None:
    rooms, _, room = await _joined(database, clock, version_id)
    info = await rooms.pipeline.rooms.room(room.room_id)
    assert info is not None
    assert info.extremities == [room.head]
    assert info.state == room.state()
    memberships = await rooms.store.rooms.user_memberships(ALICE)
    assert [(m.room_id, m.membership) for m in memberships] == [(room.room_id, "join")]
    assert rooms.published[-1].membership_change_for == ALICE
    # The join's prev event (Bob's join) is a gap backfill can fill.
    assert await rooms.store.events.get_backward_extremities(room.room_id) == [join_prev(room)]
    # State events from the peer are outliers: no client sees them in the timeline.
    create = await rooms.store.events.get_event(room.create.event_id)
    assert create is not None and create.outlier


def join_prev(room: RemoteRoom) -> str:
    return room.events[room.head].prev_event_ids[0]


async def test_timeline_event_after_join(
    database: Database, clock: FakeClock, version_id: str
) -> None:
    rooms, remote, room = await _joined(database, clock, version_id)
    message = room.build_and_add(BOB, "m.room.message", {"msgtype": "m.text", "body": "hi"})
    persisted = await remote.accept(message)
    assert persisted.live and not persisted.federate
    info = await rooms.pipeline.rooms.room(room.room_id)
    assert info is not None and info.extremities == [message.event_id]
    stored = await rooms.store.events.get_event(message.event_id)
    assert stored is not None and not stored.outlier and stored.rejected_reason is None
    # Our next local event builds on it.
    sent = await rooms.pipeline.send(room.room_id, ALICE, "m.room.message", {"body": "yo"})
    assert sent.event.prev_event_ids == (message.event_id,)


async def test_fork_resolves_state_and_keeps_both_extremities(
    database: Database, clock: FakeClock, version_id: str
) -> None:
    rooms, remote, room = await _joined(database, clock, version_id)
    base = room.head
    topic = room.add(
        room.build(CAROL, "m.room.topic", {"topic": "fork A"}, state_key="", prev=[base])
    )
    message = room.build(BOB, "m.room.message", {"body": "fork B"}, prev=[base])
    room.add(message)
    await remote.accept(topic)
    await remote.accept(message)
    info = await rooms.pipeline.rooms.room(room.room_id)
    assert info is not None
    assert sorted(info.extremities) == sorted([topic.event_id, message.event_id])
    assert info.state[("m.room.topic", "")] == topic.event_id
    # A local event merges the fork.
    sent = await rooms.pipeline.send(room.room_id, ALICE, "m.room.message", {"body": "merge"})
    assert set(sent.event.prev_event_ids) == {topic.event_id, message.event_id}
    current = await rooms.store.state.get_current_state_ids(room.room_id)
    assert current[("m.room.topic", "")] == topic.event_id


async def test_unauthorised_event_is_rejected(
    database: Database, clock: FakeClock, version_id: str
) -> None:
    rooms, remote, room = await _joined(database, clock, version_id)
    head_before = room.head
    grab = room.build(BOB, "m.room.power_levels", {"users": {BOB: 100}}, state_key="")
    await remote.accept(grab)
    stored = await rooms.store.events.get_event(grab.event_id)
    assert stored is not None and stored.rejected_reason is not None
    info = await rooms.pipeline.rooms.room(room.room_id)
    assert info is not None
    assert info.extremities == [head_before]
    assert info.state[("m.room.power_levels", "")] != grab.event_id
    assert rooms.published[-1].event.event_id != grab.event_id


async def test_event_allowed_by_its_past_but_not_now_is_soft_failed(
    database: Database, clock: FakeClock, version_id: str
) -> None:
    rooms, remote, room = await _joined(database, clock, version_id)
    before_ban = room.head
    ban = room.build_and_add(CAROL, "m.room.member", {"membership": "ban"}, state_key=BOB)
    await remote.accept(ban)
    # Bob's message claims a place before the ban: allowed there, not any more.
    late = room.build(BOB, "m.room.message", {"body": "sneaky"}, prev=[before_ban])
    await remote.accept(late)
    stored = await rooms.store.events.get_event(late.event_id)
    assert stored is not None
    assert stored.outlier and stored.rejected_reason is None  # soft-failed: hidden
    info = await rooms.pipeline.rooms.room(room.room_id)
    assert info is not None and info.extremities == [ban.event_id]


async def test_unknown_prev_events_without_state_are_missing(
    database: Database, clock: FakeClock, version_id: str
) -> None:
    rooms, remote, room = await _joined(database, clock, version_id)
    skipped = room.build_and_add(BOB, "m.room.message", {"body": "never sent"})
    after = room.build_and_add(BOB, "m.room.message", {"body": "after the gap"})
    with pytest.raises(MissingEvents) as caught:
        await remote.accept(after)
    assert caught.value.event_ids == [skipped.event_id]
    # Given the state before it (as /state_ids would), it is placed, the gap recorded.
    await remote.accept(after, state_before=StateAt(room.state(skipped.event_id)))
    info = await rooms.pipeline.rooms.room(room.room_id)
    assert info is not None and after.event_id in info.extremities
    gaps = await rooms.store.events.get_backward_extremities(room.room_id)
    assert skipped.event_id in gaps


async def test_outlier_failing_its_auth_events_is_rejected(
    database: Database, clock: FakeClock, version_id: str
) -> None:
    rooms, remote, room = await _joined(database, clock, version_id)
    forged = room.build(BOB, "m.room.join_rules", {"join_rule": "invite"}, state_key="")
    rejected = await remote.persist_outliers(room.version, room.room_id, [forged])
    assert forged.event_id in rejected
    stored = await rooms.store.events.get_event(forged.event_id)
    assert stored is not None and stored.rejected_reason is not None
