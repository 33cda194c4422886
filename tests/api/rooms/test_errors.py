"""Bad input on every room endpoint gets the spec's error and changes nothing."""

from __future__ import annotations

from ...support.matrix_client import User, q

UNKNOWN = q("!unknown:test.local")


async def check_invalid_room_ids_are_400(alice: User) -> None:
    for method, path, body in (
        ("POST", "/rooms/nope/join", {}),
        ("POST", "/rooms/nope/leave", {}),
        ("POST", "/rooms/nope/forget", {}),
        ("POST", "/rooms/nope/invite", {"user_id": "@a:test.local"}),
        ("POST", "/rooms/nope/kick", {"user_id": "@a:test.local"}),
        ("POST", "/rooms/nope/ban", {"user_id": "@a:test.local"}),
        ("POST", "/rooms/nope/unban", {"user_id": "@a:test.local"}),
        ("PUT", "/rooms/nope/send/m.room.message/1", {}),
        ("PUT", "/rooms/nope/state/m.room.topic", {}),
        ("GET", "/rooms/nope/state", None),
        ("GET", "/rooms/nope/state/m.room.topic/", None),
        ("PUT", f"/rooms/nope/redact/{q('$e')}/1", {}),
        ("GET", f"/rooms/nope/event/{q('$e')}", None),
        ("GET", "/rooms/nope/messages", None),
        ("GET", f"/rooms/nope/context/{q('$e')}", None),
        ("GET", "/rooms/nope/members", None),
        ("GET", "/rooms/nope/joined_members", None),
        ("GET", "/rooms/nope/aliases", None),
        ("POST", "/rooms/nope/upgrade", {"new_version": "12"}),
        ("GET", "/directory/list/room/nope", None),
    ):
        reply = await alice.call(method, path, body)
        assert reply.status == 400 and reply.errcode == "M_INVALID_PARAM", (method, path, reply)


async def check_unknown_rooms(alice: User) -> None:
    # Writes: 404. Reads: 403, like any room the user is not in.
    for method, path, body, status in (
        ("POST", f"/rooms/{UNKNOWN}/join", {}, 404),
        ("POST", f"/rooms/{UNKNOWN}/leave", {}, 404),
        ("POST", f"/rooms/{UNKNOWN}/ban", {"user_id": "@a:test.local"}, 404),
        ("PUT", f"/rooms/{UNKNOWN}/state/m.room.topic", {"topic": "x"}, 404),
        ("PUT", f"/rooms/{UNKNOWN}/redact/{q('$e')}/1", {}, 404),
        ("GET", f"/rooms/{UNKNOWN}/members", None, 403),
        ("GET", f"/rooms/{UNKNOWN}/joined_members", None, 403),
        ("GET", f"/rooms/{UNKNOWN}/state/m.room.create", None, 403),
        ("GET", f"/rooms/{UNKNOWN}/context/{q('$e')}", None, 403),
    ):
        reply = await alice.call(method, path, body)
        assert reply.status == status, (method, path, reply)
    # Forgetting a room one was never in is harmless.
    assert (await alice.call("POST", f"/rooms/{UNKNOWN}/forget", {})).ok() == {}


async def check_bad_bodies(alice: User) -> None:
    room = q(await alice.create_room())
    for method, path in (
        ("POST", f"/rooms/{room}/kick"),
        ("PUT", f"/rooms/{room}/state/m.room.topic"),
        ("PUT", f"/directory/list/room/{room}"),
        ("POST", f"/rooms/{room}/upgrade"),
        ("PUT", f"/directory/room/{q('#a:test.local')}"),
    ):
        reply = await alice.call(method, path, raw=b"{not json")
        assert reply.status == 400 and reply.errcode == "M_NOT_JSON", (method, path, reply)
        reply = await alice.call(method, path, raw=b'"a string"')
        assert reply.status == 400 and reply.errcode == "M_BAD_JSON", (method, path, reply)
    reply = await alice.call("POST", f"/rooms/{room}/leave", {"reason": 5})
    assert reply.status == 400 and reply.errcode == "M_BAD_JSON"
    reply = await alice.call("PUT", f"/rooms/{room}/send/{'x' * 300}/1", {})
    assert reply.status == 400
    reply = await alice.call("PUT", f"/rooms/{room}/state/m.room.topic/{'k' * 300}", {})
    assert reply.status == 400
    # Nothing above changed the room.
    assert (await alice.call("GET", f"/rooms/{room}/state/m.room.topic")).status == 404


async def test_bad_requests_change_nothing(alice: User) -> None:
    await check_invalid_room_ids_are_400(alice)
    await check_unknown_rooms(alice)
    await check_bad_bodies(alice)
