"""Federation queries both ways: a client of one server asks about the other's users,
aliases and room directory; the other server answers from its own data.

spec: server-server "Querying for information", "Published Room Directory";
client-server "Profiles", "Room aliases", "Listing rooms".
"""

from __future__ import annotations

from typing import Any

from ..support.matrix_client import q
from .conftest import Peers

FED = "/_matrix/federation/v1"


async def fed_get(peers: Peers, path: str, **params: str) -> Any:
    """A signed GET from a.test to b.test."""
    return await peers.fed("GET", FED + path, params=params)


async def test_remote_profiles(peers: Peers) -> None:
    alice = await peers.a.register("alice")
    bob = await peers.b.register("bob")
    (await bob.call("PUT", f"/profile/{q(bob.user_id)}/displayname", {"displayname": "Bob"})).ok()
    # A client of a.test reads Bob's profile: a.test asks b.test.
    profile = (await alice.call("GET", f"/profile/{q(bob.user_id)}")).ok()
    assert profile == {"displayname": "Bob"}
    field = (await alice.call("GET", f"/profile/{q(bob.user_id)}/displayname")).ok()
    assert field == {"displayname": "Bob"}
    missing = await alice.call("GET", f"/profile/{q(bob.user_id)}/avatar_url")
    assert (missing.status, missing.errcode) == (404, "M_NOT_FOUND")
    unknown = await alice.call("GET", f"/profile/{q('@nobody:b.test')}")
    assert (unknown.status, unknown.errcode) == (404, "M_NOT_FOUND")
    # Cached briefly: a rename is seen once the cache entry expired.
    (await bob.call("PUT", f"/profile/{q(bob.user_id)}/displayname", {"displayname": "B2"})).ok()
    asked = len(peers.network.requests)
    assert (await alice.call("GET", f"/profile/{q(bob.user_id)}")).ok()["displayname"] == "Bob"
    assert len(peers.network.requests) == asked
    peers.a.clock.advance(61_000)
    assert (await alice.call("GET", f"/profile/{q(bob.user_id)}")).ok()["displayname"] == "B2"
    # b.test unreachable and the cache expired: 404 (nothing known from rooms either).
    peers.a.clock.advance(61_000)
    del peers.network.peers["b.test"]
    gone = await alice.call("GET", f"/profile/{q(bob.user_id)}")
    assert (gone.status, gone.errcode) == (404, "M_NOT_FOUND")


async def test_serving_profile_queries(peers: Peers) -> None:
    bob = await peers.b.register("bob")
    (await bob.call("PUT", f"/profile/{q(bob.user_id)}/displayname", {"displayname": "Bob"})).ok()
    assert await fed_get(peers, "/query/profile", user_id=bob.user_id) == (
        200,
        {"displayname": "Bob"},
    )
    assert await fed_get(peers, "/query/profile", user_id=bob.user_id, field="displayname") == (
        200,
        {"displayname": "Bob"},
    )
    status, body = await fed_get(peers, "/query/profile", user_id=bob.user_id, field="avatar_url")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    # Only local users are answered.
    status, body = await fed_get(peers, "/query/profile", user_id="@alice:a.test")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    status, body = await fed_get(peers, "/query/profile", user_id="@ghost:b.test")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    status, body = await fed_get(peers, "/query/profile")
    assert (status, body["errcode"]) == (400, "M_MISSING_PARAM")
    status, body = await fed_get(peers, "/query/profile", user_id="not a user")
    assert (status, body["errcode"]) == (400, "M_INVALID_PARAM")
    # Unauthenticated requests are refused.
    resp = await peers.b.http.get(FED + "/query/profile", params={"user_id": bob.user_id})
    assert resp.status == 401


async def test_remote_aliases(peers: Peers) -> None:
    alice = await peers.a.register("alice")
    bob = await peers.b.register("bob")
    room = await bob.create_room(preset="public_chat")
    (await bob.call("PUT", f"/directory/room/{q('#lobby:b.test')}", {"room_id": room})).ok()
    resolved = (await alice.call("GET", f"/directory/room/{q('#lobby:b.test')}")).ok()
    assert resolved == {"room_id": room, "servers": ["b.test"]}
    missing = await alice.call("GET", f"/directory/room/{q('#nope:b.test')}")
    assert (missing.status, missing.errcode) == (404, "M_NOT_FOUND")
    # Served: only our aliases.
    assert (await fed_get(peers, "/query/directory", room_alias="#lobby:b.test"))[1][
        "room_id"
    ] == room
    status, body = await fed_get(peers, "/query/directory", room_alias="#lobby:a.test")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    status, body = await fed_get(peers, "/query/directory", room_alias="lobby")
    assert (status, body["errcode"]) == (400, "M_INVALID_PARAM")
    status, body = await fed_get(peers, "/query/directory")
    assert (status, body["errcode"]) == (400, "M_MISSING_PARAM")
    # A server that cannot be reached: the client is told so, not "not found".
    unreachable = await alice.call("GET", f"/directory/room/{q('#x:c.test')}")
    assert (unreachable.status, unreachable.errcode) == (502, "M_UNKNOWN")


async def test_remote_room_directory(peers: Peers) -> None:
    alice = await peers.a.register("alice")
    bob = await peers.b.register("bob")
    for name in ("Cats", "Dogs"):
        room = await bob.create_room(preset="public_chat", name=name)
        (await bob.call("PUT", f"/directory/list/room/{q(room)}", {"visibility": "public"})).ok()
    listing = (await alice.call("GET", "/publicRooms", params={"server": "b.test"})).ok()
    assert sorted(c["name"] for c in listing["chunk"]) == ["Cats", "Dogs"]
    page = (await alice.call("GET", "/publicRooms", params={"server": "b.test", "limit": "1"})).ok()
    assert len(page["chunk"]) == 1 and "next_batch" in page
    filtered = (
        await alice.call(
            "POST",
            "/publicRooms",
            {"filter": {"generic_search_term": "cat"}},
            params={"server": "b.test"},
        )
    ).ok()
    assert [c["name"] for c in filtered["chunk"]] == ["Cats"]
    # a.test's own directory is empty, and does not include b.test's rooms.
    assert (await alice.call("GET", "/publicRooms")).ok()["chunk"] == []
    bad = await alice.call("GET", "/publicRooms", params={"server": "not a server!"})
    assert (bad.status, bad.errcode) == (400, "M_INVALID_PARAM")
    down = await alice.call("GET", "/publicRooms", params={"server": "c.test"})
    assert down.status == 502
    # Served directly: GET with a limit, POST with a filter.
    status, body = await fed_get(peers, "/publicRooms", limit="1")
    assert status == 200 and len(body["chunk"]) == 1
    status, body = await peers.fed(
        "POST", FED + "/publicRooms", body={"filter": {"room_types": ["m.space"]}}
    )
    assert (status, body["chunk"]) == (200, [])
    status, body = await peers.fed("POST", FED + "/publicRooms", body={"limit": "x"})
    assert status == 400
