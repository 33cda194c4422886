"""Space hierarchies across servers: a child room we do not have is asked of the servers
in its ``via`` (``GET /_matrix/federation/v1/hierarchy/{roomId}``), which answer with the
room and the children the asking server may see.

spec: client-server "Spaces" (``GET /hierarchy``); server-server "Spaces".
"""

from __future__ import annotations

from typing import Any

from ..support.matrix_client import User, q
from .conftest import Peers

SPACE = {"creation_content": {"type": "m.space"}}
FED = "/_matrix/federation/v1"


async def link(user: User, space: str, child: str, via: str, **content: Any) -> None:
    body = {"via": [via], **content}
    (await user.put_state(space, "m.space.child", body, state_key=child)).ok()


async def test_children_on_another_server(peers: Peers) -> None:
    alice = await peers.a.register("alice")
    bob = await peers.b.register("bob")
    # On b.test: a public sub-space with a public room, a suggested room and a private one.
    sub = await bob.create_room(preset="public_chat", name="B space", **SPACE)
    lobby = await bob.create_room(preset="public_chat", name="lobby")
    news = await bob.create_room(preset="public_chat", name="news")
    private = await bob.create_room(preset="private_chat", name="staff")
    await link(bob, sub, lobby, "b.test")
    await link(bob, sub, news, "b.test", suggested=True)
    await link(bob, sub, private, "b.test")
    # On a.test: Alice's space links b.test's sub-space.
    space = await alice.create_room(preset="public_chat", name="A space", **SPACE)
    await link(alice, space, sub, "b.test")
    body = (await alice.call("GET", f"/_matrix/client/v1/rooms/{q(space)}/hierarchy")).ok()
    names = [room.get("name") for room in body["rooms"]]
    assert names[:2] == ["A space", "B space"]
    assert sorted(names[2:]) == ["lobby", "news"]  # not the private room
    assert body["rooms"][1]["room_type"] == "m.space"
    # Served by b.test as a.test asked it.
    status, served = await peers.fed("GET", f"{FED}/hierarchy/{q(sub)}")
    assert status == 200 and served["room"]["room_id"] == sub
    assert sorted(c["room_id"] for c in served["children"]) == sorted([lobby, news])
    assert served["inaccessible_children"] == [private]
    assert len(served["room"]["children_state"]) == 3
    _, suggested = await peers.fed(
        "GET", f"{FED}/hierarchy/{q(sub)}", params={"suggested_only": "true"}
    )
    assert [c["room_id"] for c in suggested["children"]] == [news]
    assert [e["state_key"] for e in suggested["room"]["children_state"]] == [news]
    # A room a.test may not see: 404, as for one b.test does not have.
    status, body = await peers.fed("GET", f"{FED}/hierarchy/{q(private)}")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    status, _ = await peers.fed("GET", f"{FED}/hierarchy/{q('!nope:b.test')}")
    assert status == 404
    status, _ = await peers.fed(
        "GET", f"{FED}/hierarchy/{q(sub)}", params={"suggested_only": "maybe"}
    )
    assert status == 400
    resp = await peers.b.http.get(f"{FED}/hierarchy/{q(sub)}")
    assert resp.status == 401


async def test_unreachable_children_are_left_out(peers: Peers) -> None:
    alice = await peers.a.register("alice")
    space = await alice.create_room(preset="public_chat", **SPACE)
    await link(alice, space, "!far:c.test", "c.test")
    body = (await alice.call("GET", f"/_matrix/client/v1/rooms/{q(space)}/hierarchy")).ok()
    assert [room["room_id"] for room in body["rooms"]] == [space]
