"""The application-service pusher end to end: users act through the client API, a real
HTTP application service on loopback receives the transactions.

spec: application-service API "Pushing events" (transactions in order, retried with the
same id and content, exponential backoff) and "Pushing ephemeral data".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from appservice.pusher.queue import BackoffPolicy
from appservice.pusher.setup import PUSHER_KEY
from homeserver.app import build_app
from homeserver.appkeys import CONFIG_KEY, SIGNING_KEY, STORE_KEY
from homeserver.storage.database import Database
from homeserver.storage.postgres import PostgresDatabase
from homeserver.storage.sqlite import SqliteDatabase

from ..support.http_client import ServeApp
from ..support.matrix_client import SERVER, Server, User
from ..support.server_fixtures import MakeServer
from ..support.server_fixtures import make_server as make_server
from ..support.server_fixtures import server_config as server_config
from .fake_as import AS_TOKEN, HS_TOKEN, FakeAppService, registration_yaml, write_registration

FAST = BackoffPolicy(min_ms=50, max_ms=200)
GHOST = f"@_bridge_ghost:{SERVER}"


@pytest.fixture
async def fake_as() -> AsyncIterator[FakeAppService]:
    service = FakeAppService()
    await service.start()
    yield service
    await service.stop()


async def as_server(
    make_server: MakeServer, tmp_path: Path, *registrations: str, backoff: BackoffPolicy = FAST
) -> Server:
    paths = [
        str(write_registration(tmp_path, f"reg{n}", text)) for n, text in enumerate(registrations)
    ]
    server = await make_server(app_service_config_files=paths)
    server.app[PUSHER_KEY].backoff = backoff
    return server


def bridge(fake_as: FakeAppService, **kwargs: Any) -> str:
    # Not exclusive: the tests register the ghost like any user.
    return registration_yaml(fake_as.url, **kwargs).replace("exclusive: true", "exclusive: false")


async def bridged_room(server: Server) -> tuple[User, User, str]:
    """alice's room, with the bridge's ghost user in it."""
    alice = await server.register("alice")
    ghost = await server.register("_bridge_ghost")
    room = await alice.create_room()
    (await alice.invite(room, ghost.user_id)).ok()
    (await ghost.join(room)).ok()
    return alice, ghost, room


async def test_events_of_interest_are_pushed_in_order(
    make_server: MakeServer, tmp_path: Path, fake_as: FakeAppService
) -> None:
    server = await as_server(make_server, tmp_path, bridge(fake_as, aliases="#_bridge_.*"))
    alice, _, room = await bridged_room(server)
    other = await alice.create_room()  # no bridge user: not sent
    aliased = await alice.create_room(room_alias_name="_bridge_portal")  # alias namespace
    sent = []
    for n in range(5):
        sent.append(await alice.send(room, f"m{n}"))
        await alice.send(other, f"private{n}")
    await alice.send(aliased, "portal")
    await fake_as.wait_for(lambda: fake_as.messages() == [*(f"m{n}" for n in range(5)), "portal"])

    assert {t.authorization for t in fake_as.received} == {f"Bearer {HS_TOKEN}_bridge"}
    ids = [int(t.txn_id) for t in fake_as.received]
    assert ids == sorted(set(ids))  # one at a time, never an id twice
    events = fake_as.events()
    assert [e["event_id"] for e in events if e["type"] == "m.room.message"][:5] == sent
    first = next(e for e in events if e["event_id"] == sent[0])
    assert first["room_id"] == room and first["sender"] == alice.user_id
    assert "hashes" not in first and "signatures" not in first  # ClientEvent format
    members = [e for e in events if e["type"] == "m.room.member" and e["room_id"] == room]
    assert GHOST in {e["state_key"] for e in members}
    assert all(e["room_id"] != other for e in events)
    assert all(len(t.body["events"]) <= 100 for t in fake_as.received)


async def test_a_failing_as_gets_the_same_transaction_again_then_everything_once(
    make_server: MakeServer, tmp_path: Path, fake_as: FakeAppService
) -> None:
    server = await as_server(make_server, tmp_path, bridge(fake_as))
    alice, _, room = await bridged_room(server)
    await fake_as.wait_for(lambda: len(fake_as.processed()) >= 1, what="the joins")
    fake_as.status = 500
    await alice.send(room, "a0")
    await fake_as.wait_for(lambda: len(fake_as.received) >= len(fake_as.processed()) + 3)
    for n in range(1, 4):
        await alice.send(room, f"a{n}")
    failed = [t for t in fake_as.received if t.status == 500]
    assert len({t.txn_id for t in failed}) == 1  # retried under the same id...
    assert all(t.body == failed[0].body for t in failed)  # ...with the same content
    fake_as.status = 200
    await fake_as.wait_for(lambda: fake_as.messages()[-1:] == ["a3"])
    assert fake_as.messages() == ["a0", "a1", "a2", "a3"]
    retried = [t for t in fake_as.received if t.txn_id == failed[0].txn_id and t.status == 200]
    assert len(retried) == 1 and retried[0].body == failed[0].body


async def test_an_unreachable_as_gets_every_missed_event_once_in_order(
    make_server: MakeServer, tmp_path: Path, fake_as: FakeAppService
) -> None:
    server = await as_server(make_server, tmp_path, bridge(fake_as))
    alice, _, room = await bridged_room(server)
    await fake_as.wait_for(lambda: len(fake_as.processed()) >= 1, what="the joins")
    await fake_as.go_down()
    for n in range(120):  # more than one transaction's worth
        await alice.send(room, f"b{n}")
    await asyncio.sleep(0.3)  # several failed attempts
    await fake_as.come_back()
    await fake_as.wait_for(lambda: fake_as.messages()[-1:] == ["b119"])
    assert fake_as.messages() == [f"b{n}" for n in range(120)]
    event_ids = [e["event_id"] for t in fake_as.received for e in t.body["events"]]
    assert len(event_ids) == len(set(event_ids))  # no event in two transactions
    sizes = [len(t.body["events"]) for t in fake_as.processed()]
    assert max(sizes) == 100  # batched, at most 100 events a transaction


async def restart(server: Server, serve_app: ServeApp, database: Database) -> Server:
    """Stop ``server`` (its app closes the database) and start a second app over the
    same database, as after a process restart."""
    app = server.app
    config, key = app[CONFIG_KEY], app[SIGNING_KEY]
    await server.http.close()
    db: Database
    if isinstance(database, SqliteDatabase):
        db = SqliteDatabase(database.path)
    else:
        assert isinstance(database, PostgresDatabase)
        db = PostgresDatabase(database.dsn)
    new_app = build_app(config, key, db, clock=server.clock)
    http = await serve_app(new_app)
    return Server(http, new_app, server.clock)


async def test_a_restart_loses_and_repeats_nothing(
    make_server: MakeServer,
    tmp_path: Path,
    fake_as: FakeAppService,
    serve_app: ServeApp,
    database: Database,
) -> None:
    server = await as_server(make_server, tmp_path, bridge(fake_as))
    alice, _, room = await bridged_room(server)
    await alice.send(room, "c0")
    await fake_as.wait_for(lambda: fake_as.messages() == ["c0"])
    fake_as.status = 500
    await alice.send(room, "c1")  # in a stored transaction, failing
    await fake_as.wait_for(lambda: fake_as.received[-1].status == 500)
    await alice.send(room, "c2")  # not in a transaction yet
    pending_id = fake_as.received[-1].txn_id

    server = await restart(server, serve_app, database)
    server.app[PUSHER_KEY].backoff = FAST
    alice.http = server.http  # the same device: its transaction ids go on
    await alice.send(room, "c3")  # after the restart
    fake_as.status = 200
    await fake_as.wait_for(lambda: fake_as.messages()[-1:] == ["c3"])
    assert fake_as.messages() == ["c0", "c1", "c2", "c3"]
    resent = [t for t in fake_as.processed() if t.txn_id == pending_id]
    assert [e["content"]["body"] for e in resent[0].body["events"]] == ["c1"]
    ids = [int(t.txn_id) for t in fake_as.processed()]
    assert ids == sorted(set(ids))  # ids are never reused after a restart


async def test_the_backoff_survives_a_restart(
    make_server: MakeServer,
    tmp_path: Path,
    fake_as: FakeAppService,
    serve_app: ServeApp,
    database: Database,
) -> None:
    hour = BackoffPolicy(min_ms=3_600_000, max_ms=7_200_000)
    server = await as_server(make_server, tmp_path, bridge(fake_as), backoff=hour)
    fake_as.status = 503
    alice, _, room = await bridged_room(server)
    await fake_as.wait_for(lambda: len(fake_as.received) == 1, what="an attempt")
    await alice.send(room, "d0")
    store = server.app[STORE_KEY].appservice
    for _ in range(100):
        state = await store.load_state("bridge", 0, 0)
        if state.retry_interval_ms:
            break
        await asyncio.sleep(0.02)
    assert state.retry_interval_ms == 3_600_000

    server = await restart(server, serve_app, database)
    fake_as.status = 200
    await asyncio.sleep(0.3)
    assert len(fake_as.received) == 1  # an hour of backoff is left
    # The bridge pings the homeserver, which pings it: it is up, the wait is over.
    ping = "/_matrix/client/v1/appservice/bridge/ping"
    (await server.call("POST", ping, {}, token=f"{AS_TOKEN}_bridge")).ok()
    await fake_as.wait_for(lambda: fake_as.messages()[-1:] == ["d0"])
    state = await server.app[STORE_KEY].appservice.load_state("bridge", 0, 0)
    assert state.retry_interval_ms == 0


async def test_ephemeral_data_only_for_services_that_asked(
    make_server: MakeServer, tmp_path: Path, fake_as: FakeAppService
) -> None:
    plain = FakeAppService()
    await plain.start()
    try:
        server = await as_server(
            make_server,
            tmp_path,
            bridge(fake_as, extra="receive_ephemeral: true\n"),
            bridge(plain, as_id="plain", users="@_bridge_.*"),
        )
        alice, ghost, room = await bridged_room(server)
        last = await alice.send(room, "typing next")
        typing = {"typing": True, "timeout": 30000}
        path = f"/rooms/{room}/typing/{alice.user_id}"
        (await alice.call("PUT", path, typing)).ok()
        (await ghost.call("POST", f"/rooms/{room}/receipt/m.read/{last}", {})).ok()
        presence = {"presence": "online", "status_msg": "bridging"}
        (await ghost.call("PUT", f"/presence/{ghost.user_id}/status", presence)).ok()

        def arrived() -> set[str]:
            return {e["type"] for e in fake_as.ephemeral()}

        await fake_as.wait_for(
            lambda: {"m.typing", "m.receipt", "m.presence"} <= arrived(), what="ephemeral"
        )
        await plain.wait_for(lambda: "typing next" in plain.messages())
        await asyncio.sleep(0.2)
        assert all("ephemeral" not in t.body for t in plain.received)
        typing_edu = next(e for e in fake_as.ephemeral() if e["type"] == "m.typing")
        assert typing_edu == {
            "type": "m.typing",
            "room_id": room,
            "content": {"user_ids": [alice.user_id]},
        }
        receipt = next(e for e in fake_as.ephemeral() if e["type"] == "m.receipt")
        assert receipt["room_id"] == room
        assert ghost.user_id in receipt["content"][last]["m.read"]
        pres = next(e for e in fake_as.ephemeral() if e["type"] == "m.presence")
        assert pres["sender"] == ghost.user_id
        assert pres["content"]["presence"] == "online"
        msc2409 = [t for t in fake_as.processed() if "ephemeral" in t.body]
        assert all(t.body["de.sorunome.msc2409.ephemeral"] == t.body["ephemeral"] for t in msc2409)
    finally:
        await plain.stop()


async def test_private_receipts_only_for_the_services_users(
    make_server: MakeServer, tmp_path: Path, fake_as: FakeAppService
) -> None:
    server = await as_server(
        make_server, tmp_path, bridge(fake_as, extra="receive_ephemeral: true\n")
    )
    alice, ghost, room = await bridged_room(server)
    last = await alice.send(room, "read me")
    await fake_as.wait_for(lambda: "read me" in fake_as.messages())
    (await alice.call("POST", f"/rooms/{room}/receipt/m.read.private/{last}", {})).ok()
    (await ghost.call("POST", f"/rooms/{room}/receipt/m.read.private/{last}", {})).ok()
    await fake_as.wait_for(lambda: any(e["type"] == "m.receipt" for e in fake_as.ephemeral()))
    await asyncio.sleep(0.1)
    readers = [
        user
        for e in fake_as.ephemeral()
        if e["type"] == "m.receipt"
        for user in e["content"][last].get("m.read.private", {})
    ]
    assert readers == [ghost.user_id]


async def test_to_device_messages_where_the_registration_opts_in(
    make_server: MakeServer, tmp_path: Path, fake_as: FakeAppService
) -> None:
    server = await as_server(
        make_server, tmp_path, bridge(fake_as, extra="org.matrix.msc2409.to_device: true\n")
    )
    alice = await server.register("alice")
    ghost = await server.register("_bridge_ghost")
    messages = {
        ghost.user_id: {"*": {"hello": "ghost"}},
        alice.user_id: {"*": {"hello": "alice"}},
    }
    path = "/sendToDevice/m.test/txn1"
    (await alice.call("PUT", path, {"messages": messages})).ok()
    key = "de.sorunome.msc2409.to_device"
    await fake_as.wait_for(lambda: any(key in t.body for t in fake_as.processed()))
    items = [m for t in fake_as.processed() for m in t.body.get(key, [])]
    assert len(items) == 1
    assert items[0]["to_user_id"] == ghost.user_id
    assert items[0]["to_device_id"]
    assert items[0]["sender"] == alice.user_id
    assert items[0]["type"] == "m.test" and items[0]["content"] == {"hello": "ghost"}


async def test_device_list_changes_where_the_registration_opts_in(
    make_server: MakeServer, tmp_path: Path, fake_as: FakeAppService
) -> None:
    plain = FakeAppService()
    await plain.start()
    try:
        server = await as_server(
            make_server,
            tmp_path,
            bridge(fake_as, extra="org.matrix.msc3202: true\n"),
            bridge(plain, as_id="plain"),
        )
        alice, _, room = await bridged_room(server)
        loner = await server.register("loner")  # shares no room with the bridge's users
        (await server.login("alice")).ok()  # a new device
        (await server.login("loner")).ok()
        await alice.send(room, "after the logins")
        key = "org.matrix.msc3202.device_lists"

        def changed() -> list[str]:
            return [u for t in fake_as.processed() for u in t.body.get(key, {}).get("changed", [])]

        await fake_as.wait_for(lambda: alice.user_id in changed(), what="the device lists")
        await plain.wait_for(lambda: "after the logins" in plain.messages())
        await asyncio.sleep(0.1)
        assert loner.user_id not in changed()
        assert all(key not in t.body for t in plain.received)
    finally:
        await plain.stop()


async def test_a_database_failure_is_retried(
    make_server: MakeServer, tmp_path: Path, fake_as: FakeAppService
) -> None:
    server = await as_server(make_server, tmp_path, bridge(fake_as))
    alice, _, room = await bridged_room(server)
    await fake_as.wait_for(lambda: len(fake_as.processed()) >= 1, what="the joins")
    store = server.app[STORE_KEY].appservice
    real = store.create_txn
    failures = []

    async def failing_once(*args: Any) -> Any:
        if not failures:
            failures.append(args)
            raise RuntimeError("database down")
        return await real(*args)

    store.create_txn = failing_once  # type: ignore[method-assign]
    await alice.send(room, "e0")
    await fake_as.wait_for(lambda: fake_as.messages() == ["e0"])
    assert len(failures) == 1
