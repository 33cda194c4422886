"""``GET /_matrix/client/v1/rooms/{roomId}/hierarchy`` on one server.

spec: client-server "Spaces": the depth-first walk, ordering of children, ``max_depth``,
``limit`` and ``from``, ``suggested_only``, and which rooms a user is shown.
"""

from __future__ import annotations

from typing import Any

from ...support.matrix_client import User, q

SPACE = {"creation_content": {"type": "m.space"}}


async def hierarchy(user: User, room_id: str, **params: Any) -> Any:
    return await user.call(
        "GET",
        f"/_matrix/client/v1/rooms/{q(room_id)}/hierarchy",
        params={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()},
    )


async def link(user: User, space: str, child: str, **content: Any) -> None:
    body = {"via": ["test.local"], **content}
    (await user.put_state(space, "m.space.child", body, state_key=child)).ok()


def ids(body: dict[str, Any]) -> list[str]:
    return [room["room_id"] for room in body["rooms"]]


async def test_walk_order_depth_and_pages(alice: User, bob: User) -> None:
    space = await alice.create_room(preset="public_chat", name="Guild", **SPACE)
    sub = await alice.create_room(preset="public_chat", name="Sub", **SPACE)
    general = await alice.create_room(preset="public_chat", name="general")
    voice = await alice.create_room(preset="public_chat", name="voice")
    deep = await alice.create_room(preset="public_chat", name="deep")
    secret = await alice.create_room(preset="private_chat", name="secret")
    # Ordered by `order` first, then by timestamp; sub-space children come right after it.
    await link(alice, space, voice, order="b")
    await link(alice, space, sub, order="a")
    await link(alice, space, general)
    await link(alice, space, secret)
    await link(alice, sub, deep, suggested=True)
    await link(alice, sub, space)  # a loop: walked once
    # A link without `via` does not count; neither does bad `order` (treated as absent).
    (await alice.put_state(space, "m.space.child", {}, state_key="!gone:test.local")).ok()
    body = (await hierarchy(bob, space)).ok()
    assert ids(body) == [space, sub, deep, voice, general]  # not `secret`: invite-only
    top = body["rooms"][0]
    assert top["room_type"] == "m.space" and top["name"] == "Guild"
    assert top["join_rule"] == "public" and top["num_joined_members"] == 1
    assert top["room_version"]
    assert sorted(e["state_key"] for e in top["children_state"]) == sorted(
        [voice, sub, general, secret]
    )
    assert all("origin_server_ts" in e for e in top["children_state"])
    assert "next_batch" not in body
    # Alice is in `secret`: she sees it.
    assert secret in ids((await hierarchy(alice, space)).ok())
    # max_depth
    assert ids((await hierarchy(bob, space, max_depth=0)).ok()) == [space]
    assert ids((await hierarchy(bob, space, max_depth=1)).ok()) == [space, sub, voice, general]
    # suggested_only: the root, then only suggested children.
    assert ids((await hierarchy(bob, sub, suggested_only=True)).ok()) == [sub, deep]
    # Pages of two.
    first = (await hierarchy(bob, space, limit=2)).ok()
    assert ids(first) == [space, sub]
    second = (await hierarchy(bob, space, limit=2, **{"from": first["next_batch"]})).ok()
    assert ids(second) == [deep, voice]
    third = (await hierarchy(bob, space, limit=2, **{"from": second["next_batch"]})).ok()
    assert ids(third) == [general] and "next_batch" not in third
    # The token fixes max_depth and suggested_only, and belongs to its user.
    changed = await hierarchy(
        bob, space, limit=2, suggested_only=True, **{"from": first["next_batch"]}
    )
    assert (changed.status, changed.errcode) == (400, "M_INVALID_PARAM")
    again = (await hierarchy(bob, space, limit=2)).ok()
    stolen = await hierarchy(alice, space, **{"from": again["next_batch"]})
    assert (stolen.status, stolen.errcode) == (400, "M_INVALID_PARAM")
    unknown = await hierarchy(bob, space, **{"from": "nope"})
    assert (unknown.status, unknown.errcode) == (400, "M_INVALID_PARAM")


async def test_who_sees_what(alice: User, bob: User) -> None:
    space = await alice.create_room(preset="private_chat", name="Private space", **SPACE)
    # Bob is not in the private space: 403.
    denied = await hierarchy(bob, space)
    assert (denied.status, denied.errcode) == (403, "M_FORBIDDEN")
    (await alice.invite(space, bob.user_id)).ok()
    # Invited: he may see it.
    assert ids((await hierarchy(bob, space)).ok()) == [space]
    (await bob.join(space)).ok()
    restricted = await alice.create_room(
        preset="private_chat",
        name="members",
        room_version="10",
        initial_state=[
            {
                "type": "m.room.join_rules",
                "state_key": "",
                "content": {
                    "join_rule": "restricted",
                    "allow": [{"type": "m.room_membership", "room_id": space}],
                },
            }
        ],
    )
    readable = await alice.create_room(
        preset="private_chat",
        initial_state=[
            {
                "type": "m.room.history_visibility",
                "state_key": "",
                "content": {"history_visibility": "world_readable"},
            }
        ],
    )
    elsewhere = await alice.create_room(preset="private_chat", room_version="10")
    closed = await alice.create_room(
        preset="private_chat",
        room_version="10",
        initial_state=[
            {
                "type": "m.room.join_rules",
                "state_key": "",
                "content": {
                    "join_rule": "restricted",
                    "allow": [{"type": "m.room_membership", "room_id": elsewhere}],
                },
            }
        ],
    )
    await link(alice, space, restricted)
    await link(alice, space, readable)
    await link(alice, space, closed)  # Bob is not in the room it allows: not shown
    body = (await hierarchy(bob, space)).ok()
    # Same timestamps (the test clock stands still): ordered by room id.
    assert ids(body) == [space, *sorted([restricted, readable])]
    rooms = {room["room_id"]: room for room in body["rooms"]}
    assert rooms[restricted]["join_rule"] == "restricted"
    assert rooms[restricted]["allowed_room_ids"] == [space]
    assert rooms[readable]["world_readable"] is True
    # Bad parameters.
    for params in ({"limit": 0}, {"max_depth": -1}, {"suggested_only": "yes"}, {"limit": "x"}):
        bad = await hierarchy(bob, space, **params)
        assert (bad.status, bad.errcode) == (400, "M_INVALID_PARAM"), params
    bad_id = await bob.call("GET", "/_matrix/client/v1/rooms/nope/hierarchy")
    assert bad_id.status == 400
    anonymous = await bob.call("GET", f"/_matrix/client/v1/rooms/{q(space)}/hierarchy", auth=False)
    assert anonymous.status == 401
