"""The steward as a server process runs it (issue 9): a reconcile with nothing to
change sends nothing; what changed while it was stopped, or while the server was down,
is caught up when it starts; it is an account nobody can log in to; the SFU bot is
invited into voice channels at its service level."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from homeserver.api.client.concord_setup import STEWARD_KEY
from homeserver.app import build_app
from homeserver.config import parse_config
from homeserver.protocol.signing import SigningKey
from homeserver.storage.database import Database
from homeserver.storage.migrations import migrate

from ..conftest import FakeClock
from ..support.concord import (
    STEWARD,
    concord,
    create_guild,
    membership,
    power_levels,
    set_role,
    set_roles,
    wait_membership,
)
from ..support.http_client import TestClient
from ..support.matrix_client import SERVER, Server, User, q


async def gated_guild(alice: User, bob: User) -> tuple[str, str]:
    """Alice's guild, Bob a member without roles, a channel only Mods read."""
    guild = (await create_guild(alice))["room_id"]
    await set_role(alice, guild, "mods", "Mods", 10)
    (await alice.invite(guild, bob.user_id)).ok()
    (await bob.join(guild)).ok()
    made = (await concord(alice, "POST", f"{q(guild)}/channels", {"name": "mods"})).ok()
    channel = str(made["room_id"])
    (await alice.put_state(channel, "im.concord.channel_permissions", {"read": ["mods"]})).ok()
    await wait_membership(alice, channel, bob.user_id, "leave")
    return guild, channel


async def settled(server: Server) -> None:
    """Wait until the steward has nothing pending (bounded)."""
    steward = server.app[STEWARD_KEY]
    for _ in range(100):
        await asyncio.sleep(0.05)
        if not steward.busy:
            return
    raise AssertionError("the steward did not settle")


async def test_second_reconcile_sends_nothing(server: Server, alice: User, bob: User) -> None:
    guild, channel = await gated_guild(alice, bob)
    await set_roles(alice, guild, bob.user_id, ["mods"])
    await wait_membership(alice, channel, bob.user_id, "invite")
    await settled(server)
    first = (await alice.sync())["next_batch"]
    steward = server.app[STEWARD_KEY]
    result = await steward.reconcile(guild)
    assert (result.sent, result.failed) == (0, 0)
    assert channel in result.channels and len(result.channels) == 3
    again = await alice.sync(since=first, timeout=0)
    assert again.get("rooms", {}).get("join", {}) == {}  # no event in any guild room


async def test_stopped_steward_catches_up_on_start(server: Server, alice: User, bob: User) -> None:
    guild, channel = await gated_guild(alice, bob)
    steward = server.app[STEWARD_KEY]
    await steward.stop()
    await set_roles(alice, guild, bob.user_id, ["mods"])
    await asyncio.sleep(0.3)
    assert await membership(alice, channel, bob.user_id) == "leave"  # nobody applied it
    steward.start()
    await wait_membership(alice, channel, bob.user_id, "invite")


async def test_steward_account(server: Server, alice: User) -> None:
    await create_guild(alice)
    for password in ("", "correct horse", "concord"):
        reply = await server.login("concord", password)
        assert reply.status in (400, 403), reply
    reply = await server.call(
        "POST",
        "/register",
        {"username": "concord", "password": "x" * 12, "auth": {"type": "m.login.dummy"}},
    )
    assert reply.errcode == "M_USER_IN_USE"


async def test_sfu_bot_in_voice_channels(make_server: Callable[..., Awaitable[Server]]) -> None:
    server = await make_server(concord={"sfu_user_id": "@sfu:test.local", "sfu_power_level": 42})
    alice = await server.register("alice")
    made = await create_guild(alice)
    voice = next(c["room_id"] for c in made["channels"] if c["kind"] == "voice")
    text = next(c["room_id"] for c in made["channels"] if c["kind"] == "text")
    assert await membership(alice, voice, "@sfu:test.local") == "invite"
    assert (await power_levels(alice, voice))["users"]["@sfu:test.local"] == 42
    assert await membership(alice, text, "@sfu:test.local") is None
    assert "@sfu:test.local" not in (await power_levels(alice, text))["users"]


# ---------------------------------------------------------------- a real restart


@pytest.fixture
async def reopen(
    db_engine: str, tmp_path: Path, request: pytest.FixtureRequest, clock: FakeClock
) -> AsyncIterator[Callable[[], Awaitable[tuple[TestClient, Server]]]]:
    """``await reopen()``: a new server process's worth of objects over the same
    database (a new app, a new connection); the previous one must be stopped first."""
    dsn = request.getfixturevalue("postgres_dsn") if db_engine == "postgres" else None
    clients: list[TestClient] = []

    def open_db() -> Database:
        if dsn is None:
            from homeserver.storage.sqlite import SqliteDatabase

            db: Database = SqliteDatabase(tmp_path / "restart.db")
        else:
            from homeserver.storage.postgres import PostgresDatabase

            db = PostgresDatabase(dsn)
        migrate(db)
        return db

    async def start() -> tuple[TestClient, Server]:
        data: dict[str, Any] = {
            "server_name": SERVER,
            "listeners": {"client": {"port": 0}},
            "bcrypt_rounds": 4,
            "enable_registration": True,
            "rate_limits": {"enabled": False},
        }
        config = parse_config(data, source="test.yaml", base_dir=tmp_path)
        key = SigningKey.from_seed(SERVER, "a_test", b"\x01" * 32)
        client = TestClient(build_app(config, key, open_db(), clock=clock))
        await client.start()
        clients.append(client)
        return client, Server(client, client.app, clock)

    yield start
    for client in clients:
        await client.close()  # stops the server and closes its database (idempotent)


async def test_restart_catches_up(
    reopen: Callable[[], Awaitable[tuple[TestClient, Server]]],
) -> None:
    first, server = await reopen()
    alice = await server.register("alice")
    bob = await server.register("bob")
    guild, channel = await gated_guild(alice, bob)
    # The server goes down; the role change lands while the steward cannot act on it
    # (stopped first, as a crash between the commit and the reconcile would leave it).
    await server.app[STEWARD_KEY].stop()
    await set_roles(alice, guild, bob.user_id, ["mods"])
    await first.close()
    second, server = await reopen()
    alice = User(second, alice.user_id, alice.token, alice.device_id)
    await wait_membership(alice, channel, bob.user_id, "invite")
    member = await alice.call(
        "GET",
        f"/rooms/{q(channel)}/state/m.room.member/{q(bob.user_id)}",
        params={"format": "event"},
    )
    assert member.ok()["sender"] == STEWARD


async def test_power_levels_and_join_rules_are_put_back(
    server: Server, alice: User, bob: User
) -> None:
    """They are the compiler's output: a hand edit (even an Admin's) is undone."""
    made = await create_guild(alice)
    general = made["channels"][0]["room_id"]
    levels = await power_levels(alice, general)
    compiled = dict(levels)
    levels["users"] = {**levels["users"], bob.user_id: 100}
    (await alice.put_state(general, "m.room.power_levels", levels)).ok()
    (await alice.put_state(general, "m.room.join_rules", {"join_rule": "public"})).ok()

    async def restored() -> bool:
        rules = await alice.call("GET", f"/rooms/{q(general)}/state/m.room.join_rules/")
        return (
            await power_levels(alice, general) == compiled
            and rules.ok()["join_rule"] == "restricted"
        )

    for _ in range(100):
        if await restored():
            break
        await asyncio.sleep(0.05)
    assert await restored()
