"""Reporting events, rooms and users (spec: client-server "Reporting Content"): what is
kept for the admins, and the 404s that do not tell a reporter whether a room or an
event exists."""

from __future__ import annotations

from homeserver.appkeys import STORE_KEY
from homeserver.storage.reports_store import Report

from ...support.matrix_client import Server, User, q


async def reports(server: Server) -> list[Report]:
    return await server.app[STORE_KEY].reports.all()


async def test_event_reports(server: Server, alice: User, bob: User, carol: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    event = await alice.send(room, "rude")
    path = f"/rooms/{q(room)}/report/{q(event)}"
    assert (await bob.call("POST", path, {"reason": "spam", "score": -100})).ok() == {}
    assert (await bob.call("POST", path, {})).ok() == {}
    # A score outside the old range is ignored (it left the spec in v1.18).
    assert (await bob.call("POST", path, {"reason": "x", "score": 7})).ok() == {}
    kept = await reports(server)
    assert [(r.kind, r.reporter, r.room_id, r.event_id, r.reason, r.score) for r in kept] == [
        ("event", bob.user_id, room, event, "spam", -100),
        ("event", bob.user_id, room, event, None, None),
        ("event", bob.user_id, room, event, "x", None),
    ]
    assert all(r.received_ts == server.clock.time_ms() for r in kept)

    other = await alice.create_room(preset="public_chat")
    elsewhere = await alice.send(other, "elsewhere")
    hidden_room = await alice.create_room()
    hidden = await alice.send(hidden_room, "hidden")
    not_found = [
        (carol, path),  # not joined
        (bob, f"/rooms/{q(room)}/report/{q('$nope')}"),  # no such event
        (bob, f"/rooms/{q(room)}/report/{q(elsewhere)}"),  # another room's event
        (bob, f"/rooms/{q('!nope:test.local')}/report/{q(event)}"),  # no such room
        (bob, f"/rooms/{q(hidden_room)}/report/{q(hidden)}"),  # a room bob is not in
    ]
    for user, target in not_found:
        reply = await user.call("POST", target, {"reason": "x"})
        assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND"), target
    # Events sent before a `joined`-visibility room was joined cannot be reported.
    later = await alice.create_room(
        preset="public_chat",
        initial_state=[
            {
                "type": "m.room.history_visibility",
                "state_key": "",
                "content": {"history_visibility": "joined"},
            }
        ],
    )
    before_join = await alice.send(later, "before bob")
    (await bob.join(later)).ok()
    reply = await bob.call("POST", f"/rooms/{q(later)}/report/{q(before_join)}", {"reason": "x"})
    assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND")
    # Bad input.
    for target, body, status, errcode in [
        (path, {"reason": 5}, 400, "M_BAD_JSON"),
        (path, [1], 400, "M_BAD_JSON"),
        (f"/rooms/{q('not-a-room')}/report/{q(event)}", {}, 400, "M_INVALID_PARAM"),
        (f"/rooms/{q(room)}/report/{q('not-an-event')}", {}, 400, "M_INVALID_PARAM"),
    ]:
        reply = await bob.call("POST", target, body)
        assert (reply.status, reply.errcode) == (status, errcode), (target, body)
    reply = await bob.call("POST", path, {"reason": "x"}, auth=False)
    assert (reply.status, reply.errcode) == (401, "M_MISSING_TOKEN")
    assert len(await reports(server)) == 3


async def test_room_and_user_reports(server: Server, alice: User, bob: User) -> None:
    room = await alice.create_room()
    # Room reports need no membership (spec: servers MUST NOT require it).
    assert (await bob.call("POST", f"/rooms/{q(room)}/report", {"reason": "bad room"})).ok() == {}
    assert (await bob.call("POST", f"/rooms/{q(room)}/report", {"reason": ""})).ok() == {}
    users = f"/users/{q(alice.user_id)}/report"
    assert (await bob.call("POST", users, {"reason": "troll"})).ok() == {}
    remote = f"/users/{q('@someone:elsewhere.org')}/report"
    assert (await bob.call("POST", remote, {"reason": "remote troll"})).ok() == {}
    kept = [(r.kind, r.room_id, r.target_user_id, r.reason) for r in await reports(server)]
    assert kept == [
        ("room", room, None, "bad room"),
        ("room", room, None, ""),
        ("user", None, alice.user_id, "troll"),
        ("user", None, "@someone:elsewhere.org", "remote troll"),
    ]
    for path, body, status, errcode in [
        (f"/rooms/{q('!nope:test.local')}/report", {"reason": "x"}, 404, "M_NOT_FOUND"),
        (f"/rooms/{q(room)}/report", {}, 400, "M_MISSING_PARAM"),
        (f"/rooms/{q(room)}/report", {"reason": None}, 400, "M_BAD_JSON"),
        (f"/rooms/{q(room)}/report", {"reason": 1}, 400, "M_BAD_JSON"),
        (f"/rooms/{q('nope')}/report", {"reason": "x"}, 400, "M_INVALID_PARAM"),
        (f"/users/{q('@ghost:test.local')}/report", {"reason": "x"}, 404, "M_NOT_FOUND"),
        (f"/users/{q('ghost')}/report", {"reason": "x"}, 400, "M_INVALID_PARAM"),
        (users, {}, 400, "M_MISSING_PARAM"),
        (users, {"reason": ["x"]}, 400, "M_BAD_JSON"),
    ]:
        reply = await bob.call("POST", path, body)
        assert (reply.status, reply.errcode) == (status, errcode), (path, body)
    reply = await bob.call("POST", users, {"reason": "x"}, auth=False)
    assert (reply.status, reply.errcode) == (401, "M_MISSING_TOKEN")
    assert len(await reports(server)) == 4
