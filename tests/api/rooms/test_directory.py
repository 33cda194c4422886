"""Room aliases (create, resolve, delete, permissions) and the published directory."""

from __future__ import annotations

from ...support.matrix_client import Server, User, q

ALIAS = "#team:test.local"


async def check_alias_crud(server: Server, alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    path = f"/directory/room/{q(ALIAS)}"
    assert (await alice.call("PUT", path, {"room_id": room})).ok() == {}
    taken = await alice.call("PUT", path, {"room_id": room})
    assert taken.status == 409 and taken.errcode == "M_UNKNOWN"
    # Anyone may resolve it, without a token.
    resolved = await server.call("GET", path)
    assert resolved.ok() == {"room_id": room, "servers": ["test.local"]}
    assert (await alice.call("GET", f"/rooms/{q(room)}/aliases")).ok() == {"aliases": [ALIAS]}
    # Bob (not the creator, power 0) may not delete it.
    await bob.join(room)
    reply = await bob.call("DELETE", path)
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    assert (await alice.call("DELETE", path)).ok() == {}
    assert (await alice.call("GET", path)).errcode == "M_NOT_FOUND"
    assert (await alice.call("DELETE", path)).status == 404
    assert (await alice.call("GET", f"/rooms/{q(room)}/aliases")).ok() == {"aliases": []}


async def check_alias_errors(alice: User, bob: User) -> None:
    room = await alice.create_room()
    reply = await alice.call("PUT", f"/directory/room/{q('#x:elsewhere.org')}", {"room_id": room})
    assert reply.status == 400 and reply.errcode == "M_INVALID_PARAM"
    reply = await alice.call("PUT", f"/directory/room/{q('nope')}", {"room_id": room})
    assert reply.status == 400 and reply.errcode == "M_INVALID_PARAM"
    reply = await alice.call("PUT", f"/directory/room/{q(ALIAS)}", {})
    assert reply.status == 400 and reply.errcode == "M_MISSING_PARAM"
    reply = await alice.call("PUT", f"/directory/room/{q(ALIAS)}", raw=b"{")
    assert reply.status == 400 and reply.errcode == "M_NOT_JSON"
    reply = await alice.call(
        "PUT", f"/directory/room/{q(ALIAS)}", {"room_id": "!unknown:test.local"}
    )
    assert reply.status == 404
    # Only members may point an alias at a room.
    reply = await bob.call("PUT", f"/directory/room/{q(ALIAS)}", {"room_id": room})
    assert reply.status == 403
    # A remote alias is asked of its server (tests/federation); one that cannot be
    # reached is a 502, not "no such alias".
    assert (await alice.call("GET", f"/directory/room/{q('#a:elsewhere.invalid')}")).status == 502


async def check_moderator_may_delete_others_alias_and_canonical_follows(
    alice: User, bob: User
) -> None:
    room = await alice.create_room(preset="public_chat")
    await bob.join(room)
    # Bob creates an alias; alice (who may set the canonical alias) may delete it.
    path = f"/directory/room/{q(ALIAS)}"
    assert (await bob.call("PUT", path, {"room_id": room})).status == 200
    await alice.put_state(room, "m.room.canonical_alias", {"alias": ALIAS})
    assert (await alice.call("DELETE", path)).ok() == {}
    canonical = await alice.call("GET", f"/rooms/{q(room)}/state/m.room.canonical_alias")
    assert "alias" not in canonical.ok()
    # And the creator of an alias may always delete it.
    assert (await bob.call("PUT", path, {"room_id": room})).status == 200
    assert (await bob.call("DELETE", path)).ok() == {}


async def check_directory_visibility(server: Server, alice: User, bob: User) -> None:
    room = await alice.create_room()
    path = f"/directory/list/room/{q(room)}"
    assert (await server.call("GET", path)).ok() == {"visibility": "private"}
    await bob.join(room)  # fails (private), bob is not a member
    assert (await bob.call("PUT", path, {"visibility": "public"})).status == 403
    assert (await alice.call("PUT", path, {"visibility": "public"})).ok() == {}
    assert (await server.call("GET", path)).ok() == {"visibility": "public"}
    bad = await alice.call("PUT", path, {"visibility": "everyone"})
    assert bad.status == 400
    unknown = await server.call("GET", f"/directory/list/room/{q('!x:test.local')}")
    assert unknown.status == 404 and unknown.errcode == "M_NOT_FOUND"


async def check_public_rooms_listing_and_search(server: Server, alice: User, bob: User) -> None:
    big = await alice.create_room(
        visibility="public", name="Big Room", topic="Everyone's here", room_alias_name="big"
    )
    await bob.join(big)
    small = await alice.create_room(visibility="public", name="Quiet corner")
    space = await alice.create_room(
        visibility="public", name="A space", creation_content={"type": "m.space"}
    )
    await alice.create_room(name="Hidden")  # private: never listed
    listing = (await server.call("GET", "/publicRooms")).ok()
    assert listing["chunk"][0]["room_id"] == big
    assert {c["room_id"] for c in listing["chunk"]} == {big, small, space}
    assert listing["total_room_count_estimate"] == 3
    first = listing["chunk"][0]
    assert first == {
        "room_id": big,
        "name": "Big Room",
        "topic": "Everyone's here",
        "canonical_alias": "#big:test.local",
        "num_joined_members": 2,
        "world_readable": False,
        "guest_can_join": False,
        "join_rule": "public",
    }
    # Paging with since tokens.
    page1 = (await server.call("GET", "/publicRooms?limit=2")).ok()
    assert len(page1["chunk"]) == 2 and "next_batch" in page1
    page2 = (await server.call("GET", f"/publicRooms?limit=2&since={page1['next_batch']}")).ok()
    assert len(page2["chunk"]) == 1 and "prev_batch" in page2
    # Searching (needs a token for POST) and room types.
    found = (
        await bob.call("POST", "/publicRooms", {"filter": {"generic_search_term": "quiet"}})
    ).ok()
    assert [c["room_id"] for c in found["chunk"]] == [small]
    spaces = (await bob.call("POST", "/publicRooms", {"filter": {"room_types": ["m.space"]}})).ok()
    assert [(c["room_id"], c["room_type"]) for c in spaces["chunk"]] == [(space, "m.space")]
    plain = (await bob.call("POST", "/publicRooms", {"filter": {"room_types": [None]}})).ok()
    assert {c["room_id"] for c in plain["chunk"]} == {big, small}
    assert (await server.call("POST", "/publicRooms", {})).status == 401
    assert (await bob.call("POST", "/publicRooms", {"limit": "x"})).status == 400
    assert (await server.call("GET", "/publicRooms?since=zzz")).status == 400
    # Another server's directory is asked of it (tests/federation): 502 when unreachable.
    assert (await server.call("GET", "/publicRooms?server=elsewhere.invalid")).status == 502


async def test_aliases(server: Server, alice: User, bob: User) -> None:
    await check_alias_crud(server, alice, bob)
    await check_alias_errors(alice, bob)
    await check_moderator_may_delete_others_alias_and_canonical_follows(alice, bob)


async def test_published_directory(server: Server, alice: User, bob: User) -> None:
    await check_public_rooms_listing_and_search(server, alice, bob)
    await check_directory_visibility(server, alice, bob)
