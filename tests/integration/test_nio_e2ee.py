"""An encrypted DM between two matrix-nio clients with E2E support (libolm through
python-olm) against the real server, on both databases.

Alice and Bob each publish device and one-time keys; Alice creates an encrypted DM
(``m.room.encryption``) and invites Bob; once he has joined, her client learns his
devices (``device_lists`` / ``/keys/query``), claims a one-time key, sends him the
Megolm session over an Olm-encrypted to-device message and sends an encrypted message.
Bob's client receives the room key in ``to_device`` and decrypts the message. The server
only ever sees ciphertext.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

nio = pytest.importorskip("nio")

import olm  # noqa: E402,F401  (python-olm: without it nio has no E2E support, and this fails)
from nio import (  # noqa: E402
    AsyncClient,
    AsyncClientConfig,
    JoinResponse,
    KeysUploadResponse,
    MegolmEvent,
    RegisterResponse,
    RoomCreateResponse,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)
from nio.api import RoomPreset  # noqa: E402

from .server_process import ConcordServer  # noqa: E402
from .test_nio_client import ok  # noqa: E402

PASSWORD = "correct horse battery staple"
MEGOLM = "m.megolm.v1.aes-sha2"


@pytest.fixture
async def e2e_clients(
    server: ConcordServer, tmp_path: Path
) -> AsyncIterator[Callable[[str], AsyncClient]]:
    """A factory of E2E-enabled nio clients, each with its own key store, closed at the end."""
    made: list[AsyncClient] = []

    def make(name: str) -> AsyncClient:
        store = tmp_path / f"store-{name}"
        store.mkdir()
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
        client = AsyncClient(server.url, config=config, store_path=str(store))
        made.append(client)
        return client

    yield make
    await asyncio.gather(*(c.close() for c in made), return_exceptions=True)


async def maintain(client: AsyncClient) -> SyncResponse:
    """One round of what ``sync_forever`` does: sync (long-poll 1 s), then send queued
    to-device messages and upload, query and claim keys as the client needs."""
    resp = ok(await client.sync(timeout=1000), SyncResponse)
    await client.send_to_device_messages()
    if client.should_upload_keys:
        ok(await client.keys_upload(), KeysUploadResponse)
    if client.should_query_keys:
        await client.keys_query()
    if client.should_claim_keys:
        await client.keys_claim(client.get_users_for_key_claiming())
    return resp


async def until(client: AsyncClient, predicate: Callable[[], bool], what: str) -> None:
    for _ in range(20):
        if predicate():
            return
        await maintain(client)
    raise AssertionError(f"{client.user_id} never saw {what}")


def raw_event(server: ConcordServer, token: str, room_id: str, event_id: str) -> Any:
    url = f"{server.url}/_matrix/client/v3/rooms/{quote(room_id)}/event/{quote(event_id)}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


async def test_encrypted_dm_decrypts_on_the_other_side(
    server: ConcordServer, e2e_clients: Callable[[str], AsyncClient]
) -> None:
    suffix = uuid.uuid4().hex[:8]
    alice, bob = e2e_clients("alice"), e2e_clients("bob")
    ok(
        await alice.register(f"ealice{suffix}", PASSWORD, device_name="alice-phone"),
        RegisterResponse,
    )
    ok(await bob.register(f"ebob{suffix}", PASSWORD, device_name="bob-laptop"), RegisterResponse)
    assert alice.olm is not None and bob.olm is not None, "nio has no E2E support"
    # Both publish their device keys and one-time keys on their first rounds.
    for client in (alice, bob):
        await maintain(client)
        await until(client, lambda c=client: not c.should_upload_keys, "its keys uploaded")
        assert client.olm is not None and client.olm.uploaded_key_count

    created = ok(
        await alice.room_create(
            is_direct=True,
            invite=[bob.user_id],
            preset=RoomPreset.trusted_private_chat,
            initial_state=[
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}}
            ],
        ),
        RoomCreateResponse,
    )
    room_id = created.room_id
    await until(bob, lambda: room_id in bob.invited_rooms, "the invite")
    ok(await bob.join(room_id), JoinResponse)
    await until(
        alice,
        lambda: room_id in alice.rooms and bob.user_id in alice.rooms[room_id].users,
        "Bob join",
    )
    assert alice.rooms[room_id].encrypted
    # Bob's devices reach Alice through device_lists / /keys/query.
    await until(
        alice,
        lambda: any(
            d.device_id == bob.device_id
            for d in alice.device_store.active_user_devices(bob.user_id)
        ),
        "Bob's device keys",
    )

    secret = f"the password is {suffix}"
    sent = ok(
        await alice.room_send(
            room_id,
            "m.room.message",
            {"msgtype": "m.text", "body": secret},
            ignore_unverified_devices=True,
        ),
        RoomSendResponse,
    )
    # What the server holds is ciphertext.
    stored = raw_event(server, bob.access_token, room_id, sent.event_id)
    assert stored["type"] == "m.room.encrypted"
    assert stored["content"]["algorithm"] == MEGOLM
    assert secret not in json.dumps(stored)

    decrypted: list[RoomMessageText] = []
    undecrypted: list[MegolmEvent] = []
    for _ in range(20):
        resp = await maintain(bob)
        room = resp.rooms.join.get(room_id)
        for event in room.timeline.events if room else []:
            if isinstance(event, RoomMessageText):
                decrypted.append(event)
            elif isinstance(event, MegolmEvent):
                undecrypted.append(event)
        if decrypted or undecrypted:
            break
    assert not undecrypted, "Bob got the message but could not decrypt it"
    assert [(e.sender, e.body, e.decrypted) for e in decrypted] == [(alice.user_id, secret, True)]
