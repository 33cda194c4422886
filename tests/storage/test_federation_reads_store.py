"""DAG walks, auth chains and servers' views of a room, on both engines.

Rooms are written through the real pipeline (a line of events); forks, rejected
events and outliers are added as rows the way a federation pipeline would store them.
"""

from __future__ import annotations

from typing import Any

from homeserver.protocol.builder import build_event
from homeserver.protocol.events import Event
from homeserver.rooms.creation import parse_create_room
from homeserver.storage import events_store
from homeserver.storage import federation_reads_store as fr
from homeserver.storage.database import Txn

from ..rooms.conftest import Rooms
from ..rooms.conftest import rooms as rooms

ALICE = "@alice:hs.test"
BOB = "@bob:remote.test"
BOB2 = "@bob2:remote.test"
EVE = "@eve:other.test"
MSG = {"msgtype": "m.text", "body": "hi"}


async def _room(rooms: Rooms, preset: str = "public_chat") -> str:
    return await rooms.creator.create_room(ALICE, parse_create_room({"preset": preset}))


async def _say(rooms: Rooms, room_id: str, sender: str = ALICE, n: int = 1) -> list[str]:
    sent = []
    for i in range(n):
        body = {**MSG, "body": f"m{i}"}
        sent.append((await rooms.pipeline.send(room_id, sender, "m.room.message", body)).event)
    return [e.event_id for e in sent]


async def _stored(rooms: Rooms, event_ids: list[str]) -> dict[str, Event]:
    return {k: v.event for k, v in (await rooms.store.events.get_events(event_ids)).items()}


def _reads(rooms: Rooms) -> fr.FederationReadsStore:
    return fr.FederationReadsStore(rooms.store.db, rooms.store.state.groups)


async def _add_row(
    rooms: Rooms,
    room_id: str,
    prevs: list[str],
    *,
    stream: int,
    rejected: str | None = None,
    outlier: bool = False,
    body: str = "side",
) -> Event:
    """An event stored beside the pipeline's line (as remote events may be)."""
    info = await rooms.pipeline.rooms.room(room_id)
    assert info is not None
    parents = await _stored(rooms, prevs)
    template = parents[prevs[0]]
    event = build_event(
        version=info.version,
        room_id=room_id,
        sender=ALICE,
        event_type="m.room.message",
        content={**MSG, "body": body},
        prev_events=prevs,
        auth_events=list(template.auth_event_ids),
        depth=max(p.depth for p in parents.values()) + 1,
        origin_server_ts=1,
        key=rooms.pipeline.signing_key,
    )
    group = (await rooms.store.events.get_event(prevs[0])).state_group_after  # type: ignore[union-attr]

    def write(txn: Txn) -> None:
        events_store.insert_event(
            txn,
            events_store.NewEventRow(
                event=event,
                stream_ordering=stream,
                received_ts=1,
                state_group_before=None if outlier else group,
                state_group_after=None if outlier else group,
                rejected_reason=rejected,
                outlier=outlier,
            ),
        )

    await rooms.store.db.write(write)
    return event


async def test_backfill_walks_back_deepest_first(rooms: Rooms) -> None:
    room_id = await _room(rooms)
    said = await _say(rooms, room_id, n=6)
    reads = _reads(rooms)
    page = await reads.backfill(room_id, [said[-1]], 4)
    assert page == list(reversed(said))[:4]
    everything = await reads.backfill(room_id, [said[-1]], 1000)
    events = await _stored(rooms, everything)
    depths = [events[e].depth for e in everything]
    assert depths == sorted(depths, reverse=True)
    assert events[everything[-1]].type == "m.room.create"
    assert len(everything) == len(set(everything)) == 6 + 6  # public_chat: 6 initial events
    # Paging back from the oldest of a page continues without gaps.
    next_page = await reads.backfill(room_id, [page[-1]], 3)
    assert next_page == [page[-1], said[1], said[0]]
    # Unknown ids, ids of other rooms and limits of 0 give nothing.
    other = await _room(rooms)
    assert await reads.backfill(room_id, ["$nope"], 10) == []
    assert await reads.backfill(other, [said[-1]], 10) == []
    assert await reads.backfill(room_id, [said[-1]], 0) == []


async def test_backfill_and_missing_events_across_a_fork(rooms: Rooms) -> None:
    room_id = await _room(rooms)
    base = (await _say(rooms, room_id, n=2))[-1]
    left = await _add_row(rooms, room_id, [base], stream=10_001, body="left")
    right = await _add_row(rooms, room_id, [base], stream=10_002, body="right")
    merge = await _add_row(rooms, room_id, [left.event_id, right.event_id], stream=10_003)
    reads = _reads(rooms)
    page = await reads.backfill(room_id, [merge.event_id], 4)
    # Same depth: the later stored first.
    assert page == [merge.event_id, right.event_id, left.event_id, base]

    missing = await reads.missing_events(room_id, [base], [merge.event_id], 10, 0)
    assert missing == [left.event_id, right.event_id]  # oldest first; base is known
    # Knowing one side, the other side and what precedes it, oldest first.
    other_side = await reads.missing_events(room_id, [left.event_id], [merge.event_id], 5, 0)
    assert other_side[-2:] == [base, right.event_id]
    assert left.event_id not in other_side and len(other_side) == 5
    events = await _stored(rooms, other_side)
    depths = [events[e].depth for e in other_side]
    assert depths == sorted(depths)


async def test_missing_events_limit_and_min_depth(rooms: Rooms) -> None:
    room_id = await _room(rooms)
    said = await _say(rooms, room_id, n=8)
    reads = _reads(rooms)
    assert await reads.missing_events(room_id, [said[2]], [said[7]], 10, 0) == said[3:7]
    # The limit keeps the newest ones (nearest the latest events).
    assert await reads.missing_events(room_id, [said[2]], [said[7]], 2, 0) == said[5:7]
    depths = {e.event_id: e.depth for e in (await _stored(rooms, said)).values()}
    got = await reads.missing_events(room_id, [], [said[7]], 100, depths[said[4]])
    assert got == said[4:7]
    # Latest events listed as earliest too: nothing to walk.
    assert await reads.missing_events(room_id, [said[7]], [said[7]], 10, 0) == []


async def test_rejected_events_and_outliers_are_not_served(rooms: Rooms) -> None:
    room_id = await _room(rooms)
    base = (await _say(rooms, room_id))[0]
    rejected = await _add_row(rooms, room_id, [base], stream=10_001, rejected="auth", body="r")
    outlier = await _add_row(rooms, room_id, [base], stream=-5, outlier=True, body="o")
    ok = await _add_row(rooms, room_id, [base], stream=10_002, body="ok")
    child = await _add_row(
        rooms, room_id, [rejected.event_id, outlier.event_id, ok.event_id], stream=10_003
    )
    reads = _reads(rooms)
    page = await reads.backfill(room_id, [child.event_id, rejected.event_id], 4)
    assert page == [child.event_id, ok.event_id, base, page[3]]
    served = await reads.events([rejected.event_id, outlier.event_id, ok.event_id])
    assert set(served) == {ok.event_id}
    assert await reads.state_before(rejected.event_id) is None
    assert await reads.state_before(outlier.event_id) is None
    assert await reads.missing_events(room_id, [], [child.event_id], 1, 0) == [ok.event_id]


async def test_auth_chain_is_closed_under_auth_events(rooms: Rooms) -> None:
    room_id = await _room(rooms)
    await rooms.pipeline.send(room_id, BOB, "m.room.member", {"membership": "join"}, state_key=BOB)
    await rooms.pipeline.send(
        room_id, ALICE, "m.room.power_levels", {"users": {BOB: 50}}, state_key=""
    )
    said = await _say(rooms, room_id, sender=BOB)
    reads = _reads(rooms)
    chain = await reads.auth_chain_ids(said)
    events = await _stored(rooms, sorted(chain))
    assert set(events) == chain
    for event in events.values():
        assert set(event.auth_event_ids) <= chain
    message = (await _stored(rooms, said))[said[0]]
    assert set(message.auth_event_ids) <= chain
    assert said[0] not in chain
    types = {(e.type, e.state_key) for e in events.values()}
    # (v12: the create event is named by the room id, not listed in auth_events)
    assert ("m.room.power_levels", "") in types and ("m.room.member", BOB) in types
    # Reference: a breadth-first walk in Python.
    expected: set[str] = set()
    front = list(message.auth_event_ids)
    while front:
        expected.update(front)
        parents = await _stored(rooms, front)
        front = [a for p in parents.values() for a in p.auth_event_ids if a not in expected]
    assert chain == expected
    assert await reads.auth_chain_ids([]) == set()


async def test_state_before_an_event(rooms: Rooms) -> None:
    room_id = await _room(rooms)
    said = await _say(rooms, room_id)
    name = await rooms.pipeline.send(room_id, ALICE, "m.room.name", {"name": "N"}, state_key="")
    reads = _reads(rooms)
    before_name = await reads.state_before(name.event.event_id)
    assert before_name is not None and ("m.room.name", "") not in before_name
    after_msg = await reads.state_before(said[0])
    assert after_msg == before_name
    current = await rooms.store.state.get_current_state_ids(room_id)
    assert {**before_name, ("m.room.name", ""): name.event.event_id} == current
    assert await reads.state_before("$unknown") is None


async def _member(rooms: Rooms, room_id: str, sender: str, target: str, membership: str) -> str:
    content: dict[str, Any] = {"membership": membership}
    sent = await rooms.pipeline.send(room_id, sender, "m.room.member", content, state_key=target)
    return sent.event.event_id


async def test_server_views_follow_membership_and_visibility(rooms: Rooms) -> None:
    room_id = await _room(rooms, "private_chat")
    await rooms.pipeline.send(
        room_id, ALICE, "m.room.history_visibility", {"history_visibility": "joined"}, state_key=""
    )
    m1 = (await _say(rooms, room_id))[0]
    invite = await _member(rooms, room_id, ALICE, BOB, "invite")
    m2 = (await _say(rooms, room_id))[0]
    join = await _member(rooms, room_id, BOB, BOB, "join")
    m3 = (await _say(rooms, room_id))[0]
    leave = await _member(rooms, room_id, BOB, BOB, "leave")
    m4 = (await _say(rooms, room_id))[0]
    ids = [m1, invite, m2, join, m3, leave, m4]
    stored = await rooms.store.events.get_events(ids)
    reads = _reads(rooms)
    views = await reads.server_views(room_id, "remote.test", [stored[i] for i in ids])
    seen = {i: (v.visibility, v.memberships) if v else None for i, v in views.items()}
    assert seen == {
        m1: ("joined", ()),
        invite: ("joined", ("invite",)),
        m2: ("joined", ("invite",)),
        join: ("joined", ("join",)),
        m3: ("joined", ("join",)),
        leave: ("joined", ("leave",)),
        m4: ("joined", ("leave",)),
    }
    other = await reads.server_views(room_id, "other.test", [stored[m3]])
    assert other[m3] is not None and other[m3].memberships == ()
    assert await reads.server_views(room_id, "remote.test", []) == {}


async def test_server_joined(rooms: Rooms) -> None:
    room_id = await _room(rooms)
    reads = _reads(rooms)
    assert await reads.server_joined(room_id, "hs.test")
    assert not await reads.server_joined(room_id, "remote.test")
    await _member(rooms, room_id, BOB, BOB, "join")
    await _member(rooms, room_id, BOB2, BOB2, "join")
    assert await reads.server_joined(room_id, "remote.test")
    await _member(rooms, room_id, BOB, BOB, "leave")
    assert await reads.server_joined(room_id, "remote.test")
    await _member(rooms, room_id, BOB2, BOB2, "leave")
    assert not await reads.server_joined(room_id, "remote.test")
    # A server whose name ends like another's is not that server.
    await _member(rooms, room_id, "@x:notremote.test", "@x:notremote.test", "join")
    assert not await reads.server_joined(room_id, "remote.test")
    assert not await reads.server_joined(room_id, "REMOTE.test")
