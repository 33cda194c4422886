"""Account data and room tags, and how they reach /sync (spec: "Client Config",
"Room Tagging")."""

from __future__ import annotations

import asyncio

from homeserver.appkeys import NOTIFIER_KEY

from ..support.matrix_client import Server, User, q


def global_path(user: User, type_: str) -> str:
    return f"/user/{q(user.user_id)}/account_data/{q(type_)}"


def room_path(user: User, room_id: str, type_: str) -> str:
    return f"/user/{q(user.user_id)}/rooms/{q(room_id)}/account_data/{q(type_)}"


def tags_path(user: User, room_id: str, tag: str | None = None) -> str:
    path = f"/user/{q(user.user_id)}/rooms/{q(room_id)}/tags"
    return path if tag is None else f"{path}/{q(tag)}"


async def test_global_account_data_set_get(alice: User, bob: User) -> None:
    path = global_path(alice, "org.example.config")
    missing = await alice.call("GET", path)
    assert (missing.status, missing.errcode) == (404, "M_NOT_FOUND")
    assert (await alice.call("PUT", path, {"theme": "dark"})).ok() == {}
    assert (await alice.call("GET", path)).ok() == {"theme": "dark"}
    assert (await alice.call("PUT", path, {"theme": "light"})).ok() == {}
    assert (await alice.call("GET", path)).ok() == {"theme": "light"}
    # Only for yourself.
    for method, body in (("GET", None), ("PUT", {"x": 1})):
        reply = await bob.call(method, path, body)
        assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN")
    assert (await alice.call("GET", path)).ok() == {"theme": "light"}


async def test_bad_bodies_and_server_managed_types(alice: User) -> None:
    path = global_path(alice, "org.example.config")
    not_object = await alice.call("PUT", path, [1, 2])
    assert (not_object.status, not_object.errcode) == (400, "M_BAD_JSON")
    resp = await alice.http.put(
        "/_matrix/client/v3" + path,
        data=b"{nope",
        headers={"Authorization": f"Bearer {alice.token}"},
    )
    assert resp.status == 400 and (await resp.json())["errcode"] == "M_NOT_JSON"
    room = await alice.create_room()
    # spec "Server Behaviour": 405 M_BAD_JSON, globally and per room; reading works.
    for type_ in ("m.fully_read", "m.push_rules"):
        for p in (global_path(alice, type_), room_path(alice, room, type_)):
            reply = await alice.call("PUT", p, {"event_id": "$x"})
            assert (reply.status, reply.errcode) == (405, "M_BAD_JSON"), p
            assert (await alice.call("GET", p)).status == 404
    bad_room = await alice.call("PUT", room_path(alice, "not-a-room", "org.x"), {})
    assert (bad_room.status, bad_room.errcode) == (400, "M_INVALID_PARAM")


async def test_room_account_data(alice: User) -> None:
    room = await alice.create_room()
    path = room_path(alice, room, "org.example.room")
    assert (await alice.call("PUT", path, {"pinned": True})).ok() == {}
    assert (await alice.call("GET", path)).ok() == {"pinned": True}
    # Room account data does not fall back to global data, nor the reverse.
    assert (await alice.call("GET", global_path(alice, "org.example.room"))).status == 404
    other = await alice.create_room()
    assert (await alice.call("GET", room_path(alice, other, "org.example.room"))).status == 404


async def test_account_data_in_sync(alice: User) -> None:
    room = await alice.create_room()
    await alice.call("PUT", global_path(alice, "org.example.a"), {"v": 1})
    await alice.call("PUT", room_path(alice, room, "org.example.r"), {"v": 2})
    latest = await alice.send(room, "latest")
    first = await alice.sync()
    assert {"type": "org.example.a", "content": {"v": 1}} in first["account_data"]["events"]
    assert first["rooms"]["join"][room]["account_data"]["events"] == [
        {"type": "org.example.r", "content": {"v": 2}}
    ]
    assert first["next_batch"] != "s0_0_0_0_0_0_0"
    # Incremental: only what changed, and a room whose only news is account data appears.
    await alice.call("PUT", room_path(alice, room, "org.example.r"), {"v": 3})
    second = await alice.sync(first["next_batch"])
    assert second["account_data"]["events"] == []
    r = second["rooms"]["join"][room]
    assert r["account_data"]["events"] == [{"type": "org.example.r", "content": {"v": 3}}]
    assert r["timeline"]["events"] == []
    # An empty timeline's prev_batch still pages back from the sync position.
    page = await alice.call(
        "GET",
        f"/rooms/{q(room)}/messages",
        params={"from": r["timeline"]["prev_batch"], "dir": "b", "limit": "1"},
    )
    assert [e["event_id"] for e in page.ok()["chunk"]] == [latest]
    third = await alice.sync(second["next_batch"])
    assert third["rooms"]["join"] == {} and third["account_data"]["events"] == []
    # A filter on account data types.
    await alice.call("PUT", global_path(alice, "org.example.b"), {"v": 4})
    filtered = await alice.sync(
        third["next_batch"], filter={"account_data": {"not_types": ["org.example.b"]}}
    )
    assert filtered["account_data"]["events"] == []


async def test_account_data_wakes_long_poll(server: Server, alice: User) -> None:
    since = (await alice.sync())["next_batch"]
    poll = asyncio.create_task(alice.sync(since, timeout=10_000))
    notifier = server.app[NOTIFIER_KEY]
    while notifier.waiting == 0:
        await asyncio.sleep(0.005)
    loop = asyncio.get_running_loop()
    await alice.call("PUT", global_path(alice, "m.direct"), {"@bob:test.local": ["!r:x"]})
    put_done = loop.time()
    body = await poll
    # Woken by the write, not by the 10 s timeout (a bound with room for a loaded machine).
    assert loop.time() - put_done < 2
    assert body["account_data"]["events"] == [
        {"type": "m.direct", "content": {"@bob:test.local": ["!r:x"]}}
    ]


async def test_tags(alice: User, bob: User) -> None:
    room = await alice.create_room()
    assert (await alice.call("GET", tags_path(alice, room))).ok() == {"tags": {}}
    since = (await alice.sync())["next_batch"]
    favourite = tags_path(alice, room, "m.favourite")
    assert (await alice.call("PUT", favourite, {"order": 0.2})).ok() == {}
    assert (await alice.call("PUT", tags_path(alice, room, "u.work"), {})).ok() == {}
    assert (await alice.call("GET", tags_path(alice, room))).ok() == {
        "tags": {"m.favourite": {"order": 0.2}, "u.work": {}}
    }
    body = await alice.sync(since)
    assert body["rooms"]["join"][room]["account_data"]["events"] == [
        {"type": "m.tag", "content": {"tags": {"m.favourite": {"order": 0.2}, "u.work": {}}}}
    ]
    # The tags are the room's m.tag account data.
    assert (await alice.call("GET", room_path(alice, room, "m.tag"))).ok() == {
        "tags": {"m.favourite": {"order": 0.2}, "u.work": {}}
    }
    assert (await alice.call("DELETE", tags_path(alice, room, "u.work"))).ok() == {}
    assert (await alice.call("GET", tags_path(alice, room))).ok() == {
        "tags": {"m.favourite": {"order": 0.2}}
    }
    after = await alice.sync(body["next_batch"])
    assert after["rooms"]["join"][room]["account_data"]["events"] == [
        {"type": "m.tag", "content": {"tags": {"m.favourite": {"order": 0.2}}}}
    ]
    # Errors: other users, bad order, too long a tag.
    reply = await bob.call("PUT", tags_path(alice, room, "u.x"), {})
    assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN")
    reply = await bob.call("GET", tags_path(alice, room))
    assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN")
    reply = await alice.call("PUT", tags_path(alice, room, "u.x"), {"order": "first"})
    assert (reply.status, reply.errcode) == (400, "M_BAD_JSON")
    reply = await alice.call("PUT", tags_path(alice, room, "u." + "x" * 300), {})
    assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM")
    assert (await alice.call("GET", tags_path(alice, room))).ok() == {
        "tags": {"m.favourite": {"order": 0.2}}
    }
