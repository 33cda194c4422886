"""matrix-nio sets and reads profiles against the real server (both databases), and sees
a rename reach a shared room through /sync. nio validates each response against its
schemas, so a response off the spec fails here too."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest

nio = pytest.importorskip("nio")

from nio import (  # noqa: E402
    AsyncClient,
    AsyncClientConfig,
    JoinResponse,
    ProfileGetAvatarResponse,
    ProfileGetDisplayNameResponse,
    ProfileGetResponse,
    ProfileSetAvatarResponse,
    ProfileSetDisplayNameResponse,
    RegisterResponse,
    RoomCreateResponse,
    SyncResponse,
)

from .server_process import ConcordServer  # noqa: E402

PASSWORD = "correct horse battery staple"
T = TypeVar("T")


def ok(resp: object, kind: type[T]) -> T:
    if not isinstance(resp, kind):
        detail = {k: getattr(resp, k, None) for k in ("status_code", "message")}
        raise AssertionError(f"expected {kind.__name__}, got {type(resp).__name__}: {detail}")
    return resp


@pytest.fixture
async def clients(server: ConcordServer) -> AsyncIterator[Callable[[], AsyncClient]]:
    made: list[AsyncClient] = []

    def make() -> AsyncClient:
        config = AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)
        client = AsyncClient(server.url, "", config=config)
        made.append(client)
        return client

    yield make
    await asyncio.gather(*(c.close() for c in made), return_exceptions=True)


async def test_set_and_read_profiles(server: ConcordServer, clients: Any) -> None:
    suffix = secrets.token_hex(3)
    pia, quinn = clients(), clients()
    pia_id = ok(await pia.register(f"pia{suffix}", PASSWORD), RegisterResponse).user_id
    ok(await quinn.register(f"quinn{suffix}", PASSWORD), RegisterResponse)

    # The localpart is the display name from registration on.
    profile = ok(await quinn.get_profile(pia_id), ProfileGetResponse)
    assert (profile.displayname, profile.avatar_url) == (f"pia{suffix}", None)

    room_id = ok(await pia.room_create(invite=[quinn.user_id]), RoomCreateResponse).room_id
    ok(await quinn.join(room_id), JoinResponse)
    ok(await quinn.sync(timeout=0), SyncResponse)

    ok(await pia.set_displayname("Pia Profile"), ProfileSetDisplayNameResponse)
    ok(await pia.set_avatar("mxc://localhost/pia-avatar"), ProfileSetAvatarResponse)
    profile = ok(await quinn.get_profile(pia_id), ProfileGetResponse)
    assert (profile.displayname, profile.avatar_url) == (
        "Pia Profile",
        "mxc://localhost/pia-avatar",
    )
    name = ok(await quinn.get_displayname(pia_id), ProfileGetDisplayNameResponse)
    assert name.displayname == "Pia Profile"
    avatar = ok(await quinn.get_avatar(pia_id), ProfileGetAvatarResponse)
    assert avatar.avatar_url == "mxc://localhost/pia-avatar"

    # The rename reached the shared room: quinn's room model shows it after /sync.
    for _ in range(20):
        ok(await quinn.sync(timeout=1000), SyncResponse)
        room = quinn.rooms.get(room_id)
        if room is not None and room.user_name(pia_id) == "Pia Profile":
            assert room.avatar_url(pia_id) == "mxc://localhost/pia-avatar"
            break
    else:
        raise AssertionError("quinn never saw pia's new name in the room")
