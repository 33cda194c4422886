"""The sender between real Concord servers over TLS: signed ``/send`` transactions that
the peer authenticates, events its keyring verifies, to-device messages its users
receive, and a backoff stored when a peer cannot be reached."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from federation.appkeys import FEDERATION_SENDER_KEY
from federation.sender.queue import TransactionClient
from homeserver.appkeys import PIPELINE_KEY, STORE_KEY
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import DEFAULT_ROOM_VERSION

from ..support.federation import FederatedServer, StartFederation
from ..support.waiting import until
from .sender_fixtures import FAST


@dataclass
class Call:
    destination: str
    body: dict[str, Any]
    response: Any = None
    error: Exception | None = None


class Recording:
    """The sender's real ``FederationClient``, with each call written down."""

    def __init__(self, inner: TransactionClient) -> None:
        self.inner = inner
        self.calls: list[Call] = []

    async def put_json(
        self, destination: str, path: str, body: Any, query: Any = None, *, timeout: float = 60.0
    ) -> Any:
        call = Call(destination, body)
        self.calls.append(call)
        try:
            call.response = await self.inner.put_json(
                destination, path, body, query, timeout=timeout
            )
        except Exception as exc:
            call.error = exc
            raise
        return call.response


def record(server: FederatedServer) -> Recording:
    sender = server.app[FEDERATION_SENDER_KEY]
    recording = Recording(sender.ctx.client)
    sender.ctx.client = recording
    return recording


async def test_a_peer_authenticates_our_transactions_and_gets_events_and_messages(
    federation: StartFederation,
) -> None:
    a, b = await federation(2)
    calls = record(a)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room = await alice.create_room(preset="public_chat")
    # Bob joined (as A's inbound federation will persist it): B now shares the room.
    await a.app[PIPELINE_KEY].send(
        room, bob.user_id, "m.room.member", {"membership": "join"}, state_key=bob.user_id
    )
    event_id = await alice.send(room, "over TLS")
    message = {"messages": {bob.user_id: {bob.device_id: {"hello": "bob"}}}}
    (await alice.call("PUT", "/sendToDevice/m.test/t1", message)).ok()

    async def delivered() -> list[Any]:
        events: list[Any] = (await bob.sync(timeout=0)).get("to_device", {}).get("events", [])
        return events

    events = await until(delivered, "the to-device message at B")
    assert events == [{"sender": alice.user_id, "type": "m.test", "content": {"hello": "bob"}}]

    async def carried() -> list[dict[str, Any]]:
        return [
            pdu
            for call in calls.calls
            if call.error is None and call.response is not None
            for pdu in call.body["pdus"]
            if Event(pdu, DEFAULT_ROOM_VERSION).event_id == event_id
        ]

    [pdu] = await until(carried, "the event accepted by B")
    assert all(call.destination == b.name for call in calls.calls)
    # B can verify our signature on the event with the key it fetched from us.
    await b.keyring.verify_event(Event(pdu, DEFAULT_ROOM_VERSION))


async def test_an_unreachable_peer_gets_a_stored_backoff(federation: StartFederation) -> None:
    nowhere = "localhost:1"  # nothing listens on port 1
    [a] = await federation(1, extra_overrides={nowhere: "127.0.0.1:1"})
    sender = a.app[FEDERATION_SENDER_KEY]
    sender.backoff = FAST
    calls = record(a)
    alice = await a.register("alice")
    room = await alice.create_room(preset="public_chat")
    user = f"@someone:{nowhere}"
    await a.app[PIPELINE_KEY].send(
        room, user, "m.room.member", {"membership": "join"}, state_key=user
    )
    await alice.send(room, "hello?")

    async def failed_twice() -> bool:
        return sum(1 for c in calls.calls if c.error is not None) >= 2

    await until(failed_twice, "two failed attempts")
    error = next(c.error for c in calls.calls if c.error is not None)
    assert getattr(error, "status", "missing") is None  # could not connect
    rows = await a.app[STORE_KEY].federation_sender.load_destinations()
    [row] = [r for r in rows if r.destination == nowhere]
    assert row.retry_interval_ms >= FAST.min_ms and row.failure_ts is not None
