"""matrix-nio sends a reaction, an edit and a thread reply to the real server (both
databases) and reads them back through ``/relations``, ``/threads`` and the bundled
aggregations of ``/event`` (spec: client-server "Relationships API"). nio checks the
responses against its own schemas."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import pytest

nio = pytest.importorskip("nio")

from nio import (  # noqa: E402
    AsyncClient,
    AsyncClientConfig,
    JoinResponse,
    ReactionEvent,
    RegisterResponse,
    RoomCreateResponse,
    RoomGetEventResponse,
    RoomMessageText,
    RoomSendError,
    RoomSendResponse,
)
from nio.api import RelationshipType, RoomPreset, ThreadInclusion  # noqa: E402

from .server_process import ConcordServer  # noqa: E402
from .test_nio_client import PASSWORD, ok  # noqa: E402


@pytest.fixture
async def clients(server: ConcordServer) -> AsyncIterator[Callable[..., AsyncClient]]:
    made: list[AsyncClient] = []

    def make(user: str = "") -> AsyncClient:
        config = AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)
        client = AsyncClient(server.url, user, config=config)
        made.append(client)
        return client

    yield make
    await asyncio.gather(*(c.close() for c in made), return_exceptions=True)


async def collect(iterator: AsyncIterator[Any]) -> list[Any]:
    """Every item of a nio paginating iterator (it follows next_batch), bounded."""
    out: list[Any] = []
    async for item in iterator:
        out.append(item)
        assert len(out) < 100
    return out


async def test_reaction_edit_and_thread_through_relations(
    server: ConcordServer, clients: Any
) -> None:
    alice, bob = clients(), clients()
    ok(await alice.register("relalice", PASSWORD), RegisterResponse)
    ok(await bob.register("relbob", PASSWORD), RegisterResponse)
    room_id = ok(await alice.room_create(preset=RoomPreset.public_chat), RoomCreateResponse).room_id
    ok(await bob.join(room_id), JoinResponse)

    text = {"msgtype": "m.text", "body": "what shall we eat?"}
    message = ok(await alice.room_send(room_id, "m.room.message", text), RoomSendResponse)
    parent = message.event_id
    reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": parent, "key": "🍕"}}
    reacted = ok(await bob.room_send(room_id, "m.reaction", reaction), RoomSendResponse)
    edit = {
        "msgtype": "m.text",
        "body": "* what shall we eat tonight?",
        "m.new_content": {"msgtype": "m.text", "body": "what shall we eat tonight?"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": parent},
    }
    edited = ok(await alice.room_send(room_id, "m.room.message", edit), RoomSendResponse)
    thread = {
        "msgtype": "m.text",
        "body": "pizza",
        "m.relates_to": {"rel_type": "m.thread", "event_id": parent},
    }
    replied = ok(await bob.room_send(room_id, "m.room.message", thread), RoomSendResponse)

    # Every child, newest first, in pages of one (nio follows next_batch).
    children = await collect(alice.room_get_event_relations(room_id, parent, limit=1))
    assert [e.event_id for e in children] == [
        replied.event_id,
        edited.event_id,
        reacted.event_id,
    ]
    reactions = await collect(
        alice.room_get_event_relations(
            room_id, parent, rel_type=RelationshipType.annotation, event_type="m.reaction"
        )
    )
    assert len(reactions) == 1 and isinstance(reactions[0], ReactionEvent)
    assert (reactions[0].key, reactions[0].reacts_to) == ("🍕", parent)
    assert reactions[0].sender == bob.user_id

    # A second identical reaction is refused.
    again = await bob.room_send(room_id, "m.reaction", reaction)
    assert ok(again, RoomSendError).status_code == "M_DUPLICATE_ANNOTATION"

    # The original keeps its content and bundles the edit and the thread.
    fetched = ok(await bob.room_get_event(room_id, parent), RoomGetEventResponse)
    assert isinstance(fetched.event, RoomMessageText)
    assert fetched.event.body == "what shall we eat?"
    bundled = fetched.event.source["unsigned"]["m.relations"]
    assert bundled["m.replace"]["event_id"] == edited.event_id
    assert bundled["m.thread"]["latest_event"]["event_id"] == replied.event_id
    assert bundled["m.thread"]["count"] == 1
    assert bundled["m.thread"]["current_user_participated"] is True

    roots = await collect(alice.room_get_threads(room_id))
    assert [e.event_id for e in roots] == [parent]
    mine = await collect(alice.room_get_threads(room_id, include=ThreadInclusion.participated))
    assert [e.event_id for e in mine] == [parent]

    # nio has no `recurse`: a raw request through its session.
    path = f"/_matrix/client/v1/rooms/{quote(room_id)}/relations/{quote(parent)}?recurse=true"
    headers = {"Authorization": f"Bearer {alice.access_token}"}
    raw = await alice.send("GET", path, headers=headers)
    assert raw.status == 200
    body = await raw.json()
    assert body["recursion_depth"] == 3
    assert len(body["chunk"]) == 3
