"""Sending messages and state, reading state and single events, redacting."""

from __future__ import annotations

from ...support.matrix_client import User, q


async def check_send_is_idempotent_per_device_txn(alice: User) -> None:
    room = await alice.create_room()
    path = f"/rooms/{q(room)}/send/m.room.message/txn1"
    first = (await alice.call("PUT", path, {"msgtype": "m.text", "body": "once"})).ok()
    again = (await alice.call("PUT", path, {"msgtype": "m.text", "body": "once"})).ok()
    assert first == again
    chunk = (await alice.messages(room, dir="b", limit=5)).ok()["chunk"]
    bodies = [e["content"].get("body") for e in chunk if e["type"] == "m.room.message"]
    assert bodies == ["once"]
    # The sender's own device sees its transaction id; the event endpoint too.
    assert chunk[0]["unsigned"]["transaction_id"] == "txn1"
    event = (await alice.call("GET", f"/rooms/{q(room)}/event/{q(first['event_id'])}")).ok()
    assert event["unsigned"]["transaction_id"] == "txn1"
    assert event["room_id"] == room and event["sender"] == alice.user_id
    assert "hashes" not in event and "signatures" not in event


async def check_transaction_id_only_for_the_sending_device(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    await bob.join(room)
    event_id = await alice.send(room, "hello")
    seen = (await bob.call("GET", f"/rooms/{q(room)}/event/{q(event_id)}")).ok()
    assert "transaction_id" not in seen["unsigned"]
    # A second device of alice does not see it either.
    login = await alice.call(
        "POST",
        "/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": "alice"},
            "password": "correct horse",
        },
        auth=False,
    )
    other = User(alice.http, alice.user_id, login.ok()["access_token"])
    seen = (await other.call("GET", f"/rooms/{q(room)}/event/{q(event_id)}")).ok()
    assert "transaction_id" not in seen["unsigned"]


async def check_send_errors(alice: User, bob: User) -> None:
    room = await alice.create_room()
    reply = await bob.call("PUT", f"/rooms/{q(room)}/send/m.room.message/1", {"body": "x"})
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    reply = await alice.call("PUT", f"/rooms/{q(room)}/send/m.room.message/2", raw=b"nope")
    assert reply.status == 400 and reply.errcode == "M_NOT_JSON"
    reply = await alice.call("PUT", f"/rooms/{q(room)}/send/m.room.message/3", raw=b"[1]")
    assert reply.status == 400 and reply.errcode == "M_BAD_JSON"
    reply = await alice.call("PUT", "/rooms/%21nope%3Atest.local/send/m.room.message/4", {})
    assert reply.status == 404 and reply.errcode == "M_NOT_FOUND"
    reply = await alice.call("PUT", "/rooms/nope/send/m.room.message/4", {})
    assert reply.status == 400 and reply.errcode == "M_INVALID_PARAM"
    big = {"body": "x" * 70_000}
    reply = await alice.call("PUT", f"/rooms/{q(room)}/send/m.room.message/5", big)
    assert reply.status == 413 and reply.errcode == "M_TOO_LARGE"


async def check_state_put_and_get(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    first = (await alice.put_state(room, "m.room.topic", {"topic": "one"})).ok()
    # Same content again: the same event.
    assert (await alice.put_state(room, "m.room.topic", {"topic": "one"})).ok() == first
    await alice.put_state(room, "m.room.topic", {"topic": "two"})
    path = f"/rooms/{q(room)}/state/m.room.topic"
    assert (await alice.call("GET", path)).ok() == {"topic": "two"}
    assert (await alice.call("GET", path + "/")).ok() == {"topic": "two"}
    full = (await alice.call("GET", path, params={"format": "event"})).ok()
    assert full["type"] == "m.room.topic" and full["state_key"] == ""
    assert full["unsigned"]["prev_content"] == {"topic": "one"}
    # Custom state with a key, including characters that need encoding.
    key = "a/b c"
    (await alice.put_state(room, "org.example.thing", {"v": 1}, state_key=key)).ok()
    got = await alice.call("GET", f"/rooms/{q(room)}/state/org.example.thing/{q(key)}")
    assert got.ok() == {"v": 1}
    # Missing state is a 404; a bad format a 400.
    missing = await alice.call("GET", f"/rooms/{q(room)}/state/m.room.avatar")
    assert missing.status == 404 and missing.errcode == "M_NOT_FOUND"
    reply = await alice.call("GET", path, params={"format": "xml"})
    assert reply.status == 400
    # Bob (joined, power 0) may not change the topic; the whole state lists it once.
    await bob.join(room)
    reply = await bob.put_state(room, "m.room.topic", {"topic": "mine"})
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    state = (await bob.call("GET", f"/rooms/{q(room)}/state")).ok()
    topics = [e for e in state if e["type"] == "m.room.topic"]
    assert [t["content"] for t in topics] == [{"topic": "two"}]
    assert {e["type"] for e in state} >= {"m.room.create", "m.room.power_levels"}


async def check_state_of_rooms_one_is_not_in(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="private_chat")
    for path in (f"/rooms/{q(room)}/state", f"/rooms/{q(room)}/state/m.room.create"):
        reply = await bob.call("GET", path)
        assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    reply = await bob.call("GET", "/rooms/%21unknown%3Atest.local/state")
    assert reply.status == 403


async def check_canonical_alias_must_point_at_the_room(alice: User) -> None:
    room = await alice.create_room(room_alias_name="here")
    other = await alice.create_room(room_alias_name="there")
    ok = await alice.put_state(room, "m.room.canonical_alias", {"alias": "#here:test.local"})
    assert ok.status == 200
    bad = await alice.put_state(room, "m.room.canonical_alias", {"alias": "#there:test.local"})
    assert bad.status == 400 and bad.errcode == "M_BAD_ALIAS"
    bad = await alice.put_state(
        other, "m.room.canonical_alias", {"alt_aliases": ["#missing:test.local"]}
    )
    assert bad.errcode == "M_BAD_ALIAS"
    bad = await alice.put_state(room, "m.room.canonical_alias", {"alias": "nope"})
    assert bad.errcode == "M_INVALID_PARAM"


async def check_redaction_permissions(alice: User, bob: User, carol: User) -> None:
    room = await alice.create_room(preset="public_chat")
    await bob.join(room)
    await carol.join(room)
    bobs = await bob.send(room, "oops")
    alices = await alice.send(room, "mine")
    # Bob redacts his own message; redacting again with the same txn is idempotent.
    path = f"/rooms/{q(room)}/redact/{q(bobs)}/r1"
    first = (await bob.call("PUT", path, {"reason": "typo"})).ok()
    assert (await bob.call("PUT", path, {"reason": "typo"})).ok() == first
    shown = (await carol.call("GET", f"/rooms/{q(room)}/event/{q(bobs)}")).ok()
    assert shown["content"] == {}
    because = shown["unsigned"]["redacted_because"]
    assert because["event_id"] == first["event_id"]
    assert because["content"]["reason"] == "typo"
    # Carol may not redact alice's message; alice (moderator) may redact carol's.
    reply = await carol.call("PUT", f"/rooms/{q(room)}/redact/{q(alices)}/r2", {})
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    assert (await alice.call("GET", f"/rooms/{q(room)}/event/{q(alices)}")).ok()["content"]
    carols = await carol.send(room, "spam")
    assert (await alice.call("PUT", f"/rooms/{q(room)}/redact/{q(carols)}/r3", {})).status == 200
    # A redaction sent through /send gets the same check.
    reply = await carol.call(
        "PUT", f"/rooms/{q(room)}/send/m.room.redaction/r4", {"redacts": alices}
    )
    assert reply.status == 403
    reply = await carol.call("PUT", f"/rooms/{q(room)}/redact/not-an-id/r5", {})
    assert reply.status == 400


async def check_event_endpoint_errors(alice: User, bob: User) -> None:
    room = await alice.create_room()
    event_id = await alice.send(room)
    reply = await bob.call("GET", f"/rooms/{q(room)}/event/{q(event_id)}")
    assert reply.status == 403
    missing = await alice.call("GET", f"/rooms/{q(room)}/event/{q('$nope')}")
    assert missing.status == 404 and missing.errcode == "M_NOT_FOUND"
    other = await alice.create_room()
    wrong_room = await alice.call("GET", f"/rooms/{q(other)}/event/{q(event_id)}")
    assert wrong_room.status == 404


async def test_members_and_joined_members(alice: User, bob: User, carol: User) -> None:
    room = await alice.create_room(preset="public_chat")
    await alice.put_state(
        room, "m.room.member", {"membership": "join", "displayname": "Alice A"}, alice.user_id
    )
    await bob.join(room)
    await alice.act("invite", room, carol.user_id)
    joined = (await bob.call("GET", f"/rooms/{q(room)}/joined_members")).ok()["joined"]
    # Bob's join carries his profile: the localpart is his display name since registration.
    assert joined == {
        alice.user_id: {"display_name": "Alice A"},
        bob.user_id: {"display_name": "bob"},
    }
    members = (await bob.call("GET", f"/rooms/{q(room)}/members")).ok()["chunk"]
    assert {m["state_key"]: m["content"]["membership"] for m in members} == {
        alice.user_id: "join",
        bob.user_id: "join",
        carol.user_id: "invite",
    }
    only = (
        await bob.call("GET", f"/rooms/{q(room)}/members", params={"membership": "invite"})
    ).ok()["chunk"]
    assert [m["state_key"] for m in only] == [carol.user_id]
    without = (
        await bob.call("GET", f"/rooms/{q(room)}/members", params={"not_membership": "join"})
    ).ok()["chunk"]
    assert [m["state_key"] for m in without] == [carol.user_id]
    bad = await bob.call("GET", f"/rooms/{q(room)}/members", params={"membership": "x"})
    assert bad.status == 400
    # /members at a point in time: before bob joined, only alice.
    page = (await bob.messages(room, dir="b", limit=3)).ok()
    chunk_ids = [e["event_id"] for e in page["chunk"]]
    assert chunk_ids  # the invite, bob's join, alice's displayname change
    older = (await bob.messages(room, dir="b", limit=2)).ok()["end"]
    at_then = (await bob.call("GET", f"/rooms/{q(room)}/members", params={"at": older})).ok()
    assert {m["state_key"] for m in at_then["chunk"]} == {alice.user_id}
    # Invited but not joined: the member list is not theirs to read yet.
    reply = await carol.call("GET", f"/rooms/{q(room)}/members")
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"


async def test_sending(alice: User, bob: User) -> None:
    await check_send_is_idempotent_per_device_txn(alice)
    await check_transaction_id_only_for_the_sending_device(alice, bob)
    await check_send_errors(alice, bob)


async def test_state(alice: User, bob: User) -> None:
    await check_state_put_and_get(alice, bob)
    await check_state_of_rooms_one_is_not_in(alice, bob)
    await check_canonical_alias_must_point_at_the_room(alice)


async def test_redactions_and_events(alice: User, bob: User, carol: User) -> None:
    await check_redaction_permissions(alice, bob, carol)
    await check_event_endpoint_errors(alice, bob)
