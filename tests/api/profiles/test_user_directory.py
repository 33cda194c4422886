"""``POST /user_directory/search``: who a user may find (spec: users sharing a room with
them, and users in public or world-readable rooms), how terms match (case-insensitive
word prefixes of user ids and display names), limits, and an index that rebuilds."""

from __future__ import annotations

from typing import Any

from homeserver.api.client.profiles_common import USER_HANDLERS_KEY
from homeserver.appkeys import PIPELINE_KEY, STORE_KEY

from ...support.matrix_client import Server, User, q


async def search(user: User, term: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = (
        await user.call("POST", "/user_directory/search", {"search_term": term, **extra})
    ).ok()
    return body


async def found(user: User, term: str) -> set[str]:
    return {r["user_id"] for r in (await search(user, term))["results"]}


async def rename(user: User, name: str) -> None:
    path = f"/profile/{q(user.user_id)}/displayname"
    assert (await user.call("PUT", path, {"displayname": name})).ok() == {}


async def test_who_can_be_found(server: Server, alice: User, bob: User, carol: User) -> None:
    dave = await server.register("dave")
    erin = await server.register("erin")
    # alice and bob share a private room.
    private = await alice.create_room(invite=[bob.user_id])
    (await bob.join(private)).ok()
    # carol is alone in a private room: nobody else may find her.
    await carol.create_room()
    # dave is in a public room alice is not in.
    public = await dave.create_room(preset="public_chat")
    # erin's invite-only room is world-readable.
    await erin.create_room(
        initial_state=[
            {
                "type": "m.room.history_visibility",
                "state_key": "",
                "content": {"history_visibility": "world_readable"},
            }
        ]
    )
    assert await found(alice, "bob") == {bob.user_id}
    assert await found(alice, "carol") == set()
    assert await found(alice, "dave") == {dave.user_id}
    assert await found(alice, "erin") == {erin.user_id}
    # Searching "test" (the server name) lists everyone alice may see, herself included.
    assert await found(alice, "test") == {alice.user_id, bob.user_id, dave.user_id, erin.user_id}
    # carol sees only public users (and herself).
    assert await found(carol, "test") == {carol.user_id, dave.user_id, erin.user_id}

    # The public room turns invite-only: dave is no longer findable by strangers.
    reply = await dave.put_state(public, "m.room.join_rules", {"join_rule": "invite"})
    reply.ok()
    assert await found(alice, "dave") == set()
    # bob leaves the shared room: alice can no longer find him.
    (await bob.leave(private)).ok()
    assert await found(alice, "bob") == set()
    # A deactivated account disappears.
    await server.app[STORE_KEY].accounts.deactivate_user(erin.user_id)
    assert await found(alice, "erin") == set()


async def test_matching_and_results(server: Server, alice: User, bob: User, carol: User) -> None:
    room = await alice.create_room(preset="public_chat")
    for user in (bob, carol):
        (await user.join(room)).ok()
    await rename(bob, "Robert Paulson")
    avatar = "mxc://test.local/bob"
    path = f"/profile/{q(bob.user_id)}/avatar_url"
    assert (await bob.call("PUT", path, {"avatar_url": avatar})).ok() == {}
    await rename(carol, "Straße Crew")

    body = await search(alice, "paul")
    assert body == {
        "results": [
            {"user_id": bob.user_id, "display_name": "Robert Paulson", "avatar_url": avatar}
        ],
        "limited": False,
    }
    # Word prefixes, any case, of the name and of the user id; every word must match.
    assert await found(alice, "ROB") == {bob.user_id}
    assert await found(alice, "robert pa") == {bob.user_id}
    assert await found(alice, "robert carol") == set()
    assert await found(alice, "obert") == set()
    assert await found(alice, "@bo") == {bob.user_id}
    assert await found(alice, "strasse") == {carol.user_id}
    assert await found(alice, "") == set()
    assert await found(alice, "%") == set()
    # A name without an avatar is rendered without the key.
    assert (await search(alice, "crew"))["results"] == [
        {"user_id": carol.user_id, "display_name": "Straße Crew"}
    ]
    # Whole-word matches first: "bob" is bob's localpart; "bobby" only starts with it.
    bobby = await server.register("bobby")
    (await bobby.join(room)).ok()
    results = (await search(alice, "bob"))["results"]
    assert [r["user_id"] for r in results] == [bob.user_id, bobby.user_id]


async def test_limit_and_limited(server: Server, alice: User) -> None:
    room = await alice.create_room(preset="public_chat")
    for name in ("pat1", "pat2", "pat3"):
        user = await server.register(name)
        (await user.join(room)).ok()
    full = await search(alice, "pat")
    assert len(full["results"]) == 3 and full["limited"] is False
    two = await search(alice, "pat", limit=2)
    assert len(two["results"]) == 2 and two["limited"] is True
    none = await search(alice, "pat", limit=0)
    assert none == {"results": [], "limited": True}
    assert (await search(alice, "pat", limit=3))["limited"] is False


async def test_bad_requests(alice: User) -> None:
    cases = [
        ({}, 400, "M_MISSING_PARAM"),
        ({"search_term": 3}, 400, "M_BAD_JSON"),
        ({"search_term": "a", "limit": -1}, 400, "M_BAD_JSON"),
        ({"search_term": "a", "limit": "5"}, 400, "M_BAD_JSON"),
        ({"search_term": "a", "limit": True}, 400, "M_BAD_JSON"),
    ]
    for body, status, errcode in cases:
        reply = await alice.call("POST", "/user_directory/search", body)
        assert (reply.status, reply.errcode) == (status, errcode), body
    reply = await alice.call("POST", "/user_directory/search", {"search_term": "a"}, auth=False)
    assert (reply.status, reply.errcode) == (401, "M_MISSING_TOKEN")


async def test_the_index_rebuilds_from_scratch(server: Server, alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    await rename(bob, "Builder")
    assert await found(alice, "builder") == {bob.user_id}
    store = server.app[STORE_KEY]

    def wipe(txn: Any) -> None:
        for table in ("user_directory", "user_directory_public_rooms", "user_directory_position"):
            txn.execute(f"DELETE FROM {table}")

    await store.db.write(wipe)
    assert await found(alice, "builder") == set()
    # Without a stored position the index starts over from the first event, in
    # batches that each move the stored position on.
    positions = []
    more = True
    while more:
        position, more = await store.user_directory.catch_up("test.local", batch=2)
        positions.append(position)
    assert len(positions) >= 3 and positions == sorted(set(positions))
    assert await found(alice, "builder") == {bob.user_id}
    assert positions[-1] == server.app[PIPELINE_KEY].persisted_upto
    assert await store.user_directory.position() == positions[-1]
    # Catching up again finds nothing new.
    assert await store.user_directory.catch_up("test.local") == (positions[-1], False)
    await server.app[USER_HANDLERS_KEY].directory.catch_up()
    assert await found(alice, "builder") == {bob.user_id}
