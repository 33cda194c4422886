"""Presence as clients see it (spec: client-server "Presence"; busy from MSC3026)."""

from __future__ import annotations

from typing import Any

from homeserver.api.client.presence import PRESENCE_KEY
from homeserver.ephemeral.presence import DISCONNECTED_AFTER_MS, IDLE_AFTER_MS

from ..conftest import FakeClock
from ..support.matrix_client import Server, User, q


def presence_of(body: dict[str, Any], user_id: str) -> list[dict[str, Any]]:
    return [e["content"] for e in body["presence"]["events"] if e["sender"] == user_id]


async def put_presence(user: User, state: str, **extra: Any) -> Any:
    return await user.call(
        "PUT", f"/presence/{q(user.user_id)}/status", {"presence": state, **extra}
    )


async def sharing(alice: User, bob: User) -> str:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    return room


async def test_status_reaches_room_mates(alice: User, bob: User) -> None:
    await sharing(alice, bob)
    since = (await bob.sync())["next_batch"]
    (await put_presence(alice, "busy", status_msg="in a meeting")).ok()
    body = await bob.sync(since)
    (content,) = presence_of(body, alice.user_id)
    assert content["presence"] == "busy" and content["status_msg"] == "in a meeting"
    got = (await bob.call("GET", f"/presence/{q(alice.user_id)}/status")).ok()
    assert got["presence"] == "busy" and got["status_msg"] == "in a meeting"
    assert isinstance(got["last_active_ago"], int)


async def test_presence_only_for_users_sharing_a_room(server: Server, alice: User) -> None:
    carol = await server.register("carol")
    await alice.sync()
    (await put_presence(alice, "online")).ok()
    assert presence_of(await carol.sync(), alice.user_id) == []
    hidden = await carol.call("GET", f"/presence/{q(alice.user_id)}/status")
    assert (hidden.status, hidden.errcode) == (403, "M_FORBIDDEN")


async def test_invisible_is_offline_to_others_while_connected(alice: User, bob: User) -> None:
    await sharing(alice, bob)
    (await put_presence(alice, "offline")).ok()
    await alice.sync()  # still connected and syncing
    (content,) = presence_of(await bob.sync(), alice.user_id)
    assert content["presence"] == "offline"


async def test_idle_then_disconnected(
    server: Server, clock: FakeClock, alice: User, bob: User
) -> None:
    await sharing(alice, bob)
    await alice.sync()
    handler = server.app[PRESENCE_KEY]
    since = (await bob.sync())["next_batch"]
    assert presence_of(await bob.sync(), alice.user_id)[0]["presence"] == "online"
    step = DISCONNECTED_AFTER_MS // 2
    for _ in range(IDLE_AFTER_MS // step + 1):
        clock.now_ms += step
        await alice.sync()  # connected all along, but doing nothing
    await handler.tick()
    body = await bob.sync(since)
    assert presence_of(body, alice.user_id)[-1]["presence"] == "unavailable"
    clock.now_ms += DISCONNECTED_AFTER_MS + 1  # no sync since
    await handler.tick()
    later = await bob.sync(body["next_batch"])
    assert presence_of(later, alice.user_id)[-1]["presence"] == "offline"
    # Back, and sending: online again.
    await alice.sync()
    latest = await bob.sync(later["next_batch"])
    assert presence_of(latest, alice.user_id)[-1]["presence"] == "online"


async def test_set_presence_offline_on_sync_does_not_mark_online(
    server: Server, alice: User, bob: User
) -> None:
    await sharing(alice, bob)
    await alice.sync(set_presence="offline")
    assert presence_of(await bob.sync(), alice.user_id) == []


async def test_bad_presence_requests_change_nothing(alice: User, bob: User) -> None:
    await sharing(alice, bob)
    cases = [
        (await put_presence(alice, "asleep"), 400, "M_INVALID_PARAM"),
        (
            await alice.call("PUT", f"/presence/{q(bob.user_id)}/status", {"presence": "online"}),
            403,
            "M_FORBIDDEN",
        ),
        (await alice.call("PUT", f"/presence/{q(alice.user_id)}/status", {}), 400, "M_BAD_JSON"),
        (await put_presence(alice, "online", status_msg=5), 400, "M_BAD_JSON"),
    ]
    for reply, status, errcode in cases:
        assert (reply.status, reply.errcode) == (status, errcode), reply
