"""The outbound sender as a remote server sees it: which events reach it, in what
transactions (spec: server-server "Transactions"), and what happens when it is down."""

from __future__ import annotations

import asyncio
import logging

import pytest

from federation.sender.sender import FederationSender
from homeserver.appkeys import STORE_KEY

from ..support.matrix_client import SERVER, User
from .sender_fixtures import (
    FAST,
    OTHER,
    REMOTE,
    FakePeers,
    FedServer,
    MakeFedServer,
    event_id_of,
    eventually,
)
from .sender_fixtures import fed as fed
from .sender_fixtures import make_fed_server as make_fed_server
from .sender_fixtures import peers as peers

ROB = f"@rob:{REMOTE}"
OLGA = f"@olga:{OTHER}"


async def shared_room(fed: FedServer, alice: User, *remote_users: str) -> str:
    room = await alice.create_room(preset="public_chat")
    for user_id in remote_users:
        await fed.remote_join(room, user_id)
    return room


def sent_ids(peers: FakePeers, destination: str) -> list[str]:
    return [event_id for s in peers.to(destination) for event_id in s.pdu_ids]


async def test_a_local_event_goes_to_each_server_in_the_room_once(
    fed: FedServer, peers: FakePeers
) -> None:
    alice = await fed.server.register("alice")
    room = await shared_room(fed, alice, ROB, OLGA)
    event_id = await alice.send(room, "hello")
    for destination in (REMOTE, OTHER):
        await peers.wait_for(
            lambda d=destination: event_id in sent_ids(peers, d), what=f"the event at {destination}"
        )
    txn = next(s for s in peers.to(REMOTE) if event_id in s.pdu_ids)
    assert txn.body["origin"] == SERVER
    assert isinstance(txn.body["origin_server_ts"], int)
    pdu = txn.body["pdus"][txn.pdu_ids.index(event_id)]
    assert pdu["content"]["body"] == "hello" and pdu["sender"] == alice.user_id
    assert "signatures" in pdu and SERVER in pdu["signatures"]
    await asyncio.sleep(0.05)
    # Once per server; the remote users' own joins are not sent back; never to ourselves.
    assert sent_ids(peers, REMOTE).count(event_id) == 1
    assert all(s.destination in (REMOTE, OTHER) for s in peers.sent)
    remote_senders = {p["sender"] for s in peers.sent for p in s.body["pdus"]}
    assert remote_senders == {alice.user_id}


async def test_a_room_without_remote_members_sends_nothing(
    fed: FedServer, peers: FakePeers
) -> None:
    alice = await fed.server.register("alice")
    bob = await fed.server.register("bob")
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    await alice.send(room, "local only")
    await asyncio.sleep(0.1)
    assert peers.attempts == []


async def test_a_kick_reaches_the_server_that_lost_its_user(
    fed: FedServer, peers: FakePeers
) -> None:
    alice = await fed.server.register("alice")
    room = await shared_room(fed, alice, ROB)
    (await alice.act("kick", room, ROB)).ok()
    await peers.wait_for(
        lambda: any(
            p["type"] == "m.room.member" and p["state_key"] == ROB
            for s in peers.to(REMOTE)
            for p in s.body["pdus"]
        ),
        what="the kick",
    )
    # Rob is gone: the next message stays here.
    before = len(peers.attempts)
    await alice.send(room, "after the kick")
    await asyncio.sleep(0.1)
    assert len(peers.attempts) == before


async def test_the_domain_whitelist_limits_destinations(
    make_fed_server: MakeFedServer, peers: FakePeers
) -> None:
    fed = await make_fed_server(domain_whitelist=[OTHER])
    alice = await fed.server.register("alice")
    room = await shared_room(fed, alice, ROB, OLGA)
    event_id = await alice.send(room, "hello")
    await peers.wait_for(lambda: event_id in sent_ids(peers, OTHER), what="the event")
    await asyncio.sleep(0.05)
    assert peers.to(REMOTE) == []


async def test_transactions_hold_at_most_50_pdus_and_one_is_in_flight(
    fed: FedServer, peers: FakePeers
) -> None:
    alice = await fed.server.register("alice")
    room = await shared_room(fed, alice, ROB)
    first = await alice.send(room, "first")
    peers.gate = asyncio.Event()  # the destination is slow: the rest queue up
    await peers.wait_for(lambda: len(peers.attempts) >= 1, what="a first attempt")
    wanted = [first]
    for n in range(120):
        wanted.append(await alice.send(room, f"m{n}"))
    peers.gate.set()
    await peers.wait_for(
        lambda: wanted[-1] in sent_ids(peers, REMOTE), timeout=10, what="every event"
    )
    sent = sent_ids(peers, REMOTE)
    assert [e for e in sent if e in wanted] == wanted  # all, once each, in order
    assert all(len(s.body["pdus"]) <= 50 for s in peers.sent)
    assert max(len(s.body["pdus"]) for s in peers.sent) == 50
    assert peers.max_in_flight == 1
    txn_ids = [s.txn_id for s in peers.attempts]
    assert len(set(txn_ids)) == len(txn_ids)


async def test_refused_events_are_logged_and_not_sent_again(
    fed: FedServer, peers: FakePeers, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await fed.server.register("alice")
    room = await shared_room(fed, alice, ROB)
    caplog.set_level(logging.INFO, logger="federation.sender.queue")
    # The peer refuses the next event it sees (its id is known once it is sent).
    original = peers.put_json

    async def refusing(destination, path, body, query=None, *, timeout=60.0):  # type: ignore[no-untyped-def]
        peers.refuse.update(event_id_of(p) for p in body["pdus"])
        return await original(destination, path, body, query, timeout=timeout)

    peers.put_json = refusing  # type: ignore[method-assign]
    event_id = await alice.send(room, "unwelcome")
    await peers.wait_for(lambda: event_id in sent_ids(peers, REMOTE), what="the event")
    await asyncio.sleep(0.1)
    assert sent_ids(peers, REMOTE).count(event_id) == 1
    assert any("refused an event" in r.message for r in caplog.records)


async def test_backoff_then_catch_up_sends_each_rooms_newest_event(
    fed: FedServer, peers: FakePeers
) -> None:
    alice = await fed.server.register("alice")
    room_a = await shared_room(fed, alice, ROB)
    room_b = await shared_room(fed, alice, ROB)
    store = fed.server.app[STORE_KEY]
    fed.sender.backoff = FAST.__class__(min_ms=60_000, max_ms=120_000, jitter=0.0)
    peers.down[REMOTE] = None  # unreachable
    await alice.send(room_a, "a1")
    await peers.wait_for(lambda: len(peers.attempts) >= 1, what="an attempt")
    await asyncio.sleep(0.05)
    # The backoff is stored, and nothing is attempted while it lasts.
    rows = {r.destination: r for r in await store.federation_sender.load_destinations()}
    assert rows[REMOTE].retry_interval_ms == 60_000
    assert rows[REMOTE].failure_ts is not None
    attempts = len(peers.attempts)
    a2 = await alice.send(room_a, "a2")
    a3 = await alice.send(room_a, "a3")
    b1 = await alice.send(room_b, "b1")
    await asyncio.sleep(0.1)
    assert len(peers.attempts) == attempts
    # The destination is back (it sent us a request): only each room's newest event goes.
    del peers.down[REMOTE]
    fed.sender.on_destination_seen(REMOTE)
    await peers.wait_for(
        lambda: {a3, b1} <= set(sent_ids(peers, REMOTE)), what="the catch-up events"
    )
    assert a2 not in sent_ids(peers, REMOTE)

    async def backoff_cleared() -> bool:
        rows = {r.destination: r for r in await store.federation_sender.load_destinations()}
        return rows[REMOTE].retry_interval_ms == 0 and rows[REMOTE].failure_ts is None

    await eventually(backoff_cleared, "the stored backoff to end")
    # Then normal sending resumes.
    a4 = await alice.send(room_a, "a4")
    await peers.wait_for(lambda: a4 in sent_ids(peers, REMOTE), what="a new event")


async def test_backoff_grows_and_retries_on_its_own(fed: FedServer, peers: FakePeers) -> None:
    alice = await fed.server.register("alice")
    room = await shared_room(fed, alice, ROB)
    peers.down[REMOTE] = 503
    event_id = await alice.send(room, "persist")
    await peers.wait_for(lambda: len(peers.attempts) >= 3, what="three attempts")
    store = fed.server.app[STORE_KEY]
    rows = {r.destination: r for r in await store.federation_sender.load_destinations()}
    assert rows[REMOTE].retry_interval_ms >= 2 * FAST.min_ms
    del peers.down[REMOTE]
    await peers.wait_for(lambda: event_id in sent_ids(peers, REMOTE), what="the event")


async def test_a_restart_keeps_the_backoff_and_catches_up(fed: FedServer, peers: FakePeers) -> None:
    """The sender's whole memory is in the database: a new sender over it (as after a
    restart) waits out the stored backoff, then sends what the destination missed."""
    alice = await fed.server.register("alice")
    room = await shared_room(fed, alice, ROB)
    fed.sender.backoff = FAST.__class__(min_ms=3_600_000, max_ms=7_200_000, jitter=0.0)
    peers.down[REMOTE] = None
    await alice.send(room, "m1")
    await peers.wait_for(lambda: len(peers.attempts) >= 1, what="an attempt")
    await asyncio.sleep(0.05)
    last = await alice.send(room, "m2")
    await fed.sender.stop()
    del peers.down[REMOTE]

    app = fed.server.app
    restarted = FederationSender(
        server_name=SERVER, store=app[STORE_KEY], client=peers, clock=fed.server.clock
    )
    await restarted.start()
    try:
        await asyncio.sleep(0.1)
        assert peers.to(REMOTE) == []  # an hour of backoff is left
        restarted.on_destination_seen(REMOTE)
        await peers.wait_for(lambda: last in sent_ids(peers, REMOTE), what="the catch-up")
    finally:
        await restarted.stop()


async def test_a_restart_catches_up_what_was_queued_but_never_sent(
    fed: FedServer, peers: FakePeers
) -> None:
    alice = await fed.server.register("alice")
    room = await shared_room(fed, alice, ROB)
    peers.gate = asyncio.Event()  # the transaction hangs: the process stops meanwhile
    first = await alice.send(room, "m1")
    await peers.wait_for(lambda: len(peers.attempts) >= 1, what="an attempt")
    second = await alice.send(room, "m2")
    await asyncio.sleep(0.05)
    await fed.sender.stop()
    peers.gate = None

    restarted = FederationSender(
        server_name=SERVER,
        store=fed.server.app[STORE_KEY],
        client=peers,
        clock=fed.server.clock,
    )
    await restarted.start()
    try:
        await peers.wait_for(lambda: second in sent_ids(peers, REMOTE), what="the catch-up")
        assert first not in sent_ids(peers, REMOTE)  # the peer fetches the gap itself
    finally:
        await restarted.stop()


async def test_edus_with_a_key_replace_the_queued_one(fed: FedServer, peers: FakePeers) -> None:
    sender = fed.sender
    peers.gate = asyncio.Event()
    sender.send_edu(REMOTE, "m.test", {"n": 0})
    await peers.wait_for(lambda: len(peers.attempts) >= 1, what="an attempt")
    for n in range(1, 4):
        sender.send_edu(REMOTE, "m.test", {"n": n}, key="k")
    for n in range(150):
        sender.send_edu(REMOTE, "m.other", {"n": n})
    peers.gate.set()
    await peers.wait_for(
        lambda: sum(len(s.edus("m.other")) for s in peers.to(REMOTE)) == 150, what="the EDUs"
    )
    keyed = [c["n"] for s in peers.to(REMOTE) for c in s.edus("m.test")]
    assert keyed == [0, 3]
    assert all(len(s.body.get("edus", [])) <= 100 for s in peers.sent)
    assert all(s.body["pdus"] == [] for s in peers.sent)
