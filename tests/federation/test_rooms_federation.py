"""Two Concord servers sharing rooms: joins, invites, leaves and what each side sees.

spec: server-server "Joining Rooms", "Inviting to a room", "Leaving Rooms"; driven
through the client API of both servers as users would.
"""

from __future__ import annotations

import asyncio

import pytest

from federation.client import FederationRequestError
from homeserver.api.ops import METRICS_KEY

from ..support.federation import StartFederation
from ..support.matrix_client import q

pytestmark = pytest.mark.parametrize("version", ["10", "11", "12"])


async def _members(user, room_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    reply = await user.call("GET", f"/rooms/{q(room_id)}/joined_members")
    return sorted(reply.ok()["joined"])


async def test_remote_user_joins_a_public_room(federation: StartFederation, version: str) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="public_chat", room_version=version, name="Hall")
    joined = await bob.call("POST", f"/join/{q(room_id)}", {}, params={"via": a.name})
    assert joined.ok()["room_id"] == room_id
    assert await _members(bob, room_id) == sorted([alice.user_id, bob.user_id])
    assert await _members(alice, room_id) == sorted([alice.user_id, bob.user_id])
    # Bob's server has the room's state: its name shows in his sync.
    sync = await bob.sync()
    state = sync["rooms"]["join"][room_id]["state"]["events"]
    timeline = sync["rooms"]["join"][room_id]["timeline"]["events"]
    names = [e["content"].get("name") for e in [*state, *timeline] if e["type"] == "m.room.name"]
    assert names == ["Hall"]


async def test_invite_a_remote_user_who_joins(federation: StartFederation, version: str) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="private_chat", room_version=version)
    (await alice.invite(room_id, bob.user_id)).ok()
    sync = await bob.sync()
    assert room_id in sync["rooms"]["invite"]
    invite_state = sync["rooms"]["invite"][room_id]["invite_state"]["events"]
    assert any(e["type"] == "m.room.create" for e in invite_state)
    (await bob.call("POST", f"/rooms/{q(room_id)}/join", {})).ok()
    assert await _members(alice, room_id) == sorted([alice.user_id, bob.user_id])


async def test_remote_user_rejects_an_invite(federation: StartFederation, version: str) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="private_chat", room_version=version)
    (await alice.invite(room_id, bob.user_id)).ok()
    (await bob.leave(room_id)).ok()
    member = await alice.call("GET", f"/rooms/{q(room_id)}/state/m.room.member/{q(bob.user_id)}")
    assert member.ok()["membership"] == "leave"
    sync = await bob.sync()
    assert room_id not in sync["rooms"]["invite"]


async def _wait_for(user, room_id: str, event_id: str, tries: int = 100) -> dict:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        reply = await user.call("GET", f"/rooms/{q(room_id)}/event/{q(event_id)}")
        if reply.status == 200:
            return reply.ok()  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{event_id} never reached {user.user_id}")


async def test_messages_flow_both_ways(federation: StartFederation, version: str) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="public_chat", room_version=version)
    (await bob.call("POST", f"/join/{q(room_id)}", {}, params={"via": a.name})).ok()
    from_alice = await alice.send(room_id, "hello bob")
    assert (await _wait_for(bob, room_id, from_alice))["content"]["body"] == "hello bob"
    from_bob = await bob.send(room_id, "hello alice")
    assert (await _wait_for(alice, room_id, from_bob))["content"]["body"] == "hello alice"


async def test_knock_then_invited_in(federation: StartFederation, version: str) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(
        room_version=version,
        initial_state=[{"type": "m.room.join_rules", "content": {"join_rule": "knock"}}],
    )
    knocked = await bob.call(
        "POST", f"/knock/{q(room_id)}", {"reason": "let me in"}, params={"via": a.name}
    )
    assert knocked.ok()["room_id"] == room_id
    sync = await bob.sync()
    assert room_id in sync["rooms"]["knock"]
    member = await alice.call("GET", f"/rooms/{q(room_id)}/state/m.room.member/{q(bob.user_id)}")
    assert member.ok() == {"membership": "knock", "reason": "let me in"} | {
        k: v for k, v in member.ok().items() if k in ("displayname", "avatar_url")
    }
    (await alice.invite(room_id, bob.user_id)).ok()
    (await bob.call("POST", f"/join/{q(room_id)}", {}, params={"via": a.name})).ok()
    assert await _members(alice, room_id) == sorted([alice.user_id, bob.user_id])
    assert await _members(bob, room_id) == sorted([alice.user_id, bob.user_id])


async def test_restricted_room_lets_in_members_of_the_allowed_room(
    federation: StartFederation, version: str
) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    carol = await b.register("carol")
    space = await alice.create_room(preset="public_chat", room_version=version)
    channel = await alice.create_room(
        room_version=version,
        initial_state=[
            {
                "type": "m.room.join_rules",
                "content": {
                    "join_rule": "restricted",
                    "allow": [{"type": "m.room_membership", "room_id": space}],
                },
            }
        ],
    )
    # Carol is in no allowed room: refused.
    refused = await carol.call("POST", f"/join/{q(channel)}", {}, params={"via": a.name})
    assert refused.status == 403, refused
    (await bob.call("POST", f"/join/{q(space)}", {}, params={"via": a.name})).ok()
    (await bob.call("POST", f"/join/{q(channel)}", {}, params={"via": a.name})).ok()
    member = await alice.call("GET", f"/rooms/{q(channel)}/state/m.room.member/{q(bob.user_id)}")
    assert member.ok()["join_authorised_via_users_server"] == alice.user_id
    assert await _members(bob, channel) == sorted([alice.user_id, bob.user_id])


async def test_history_of_messages_is_backfilled_without_asking_for_state(
    federation: StartFederation, version: str
) -> None:
    """A late joiner pages back through messages: each one's state is known from the
    event after it, so the resident server is asked for /backfill, not /state_ids."""
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="public_chat", room_version=version)
    sent = [await alice.send(room_id, f"early {i}") for i in range(25)]
    (await bob.call("POST", f"/join/{q(room_id)}", {}, params={"via": a.name})).ok()
    metrics = a.app[METRICS_KEY].registry

    def state_ids_served() -> float:
        lines = metrics.exposition().decode().splitlines()
        counts = [line for line in lines if "/state_ids/" in line and "_count{" in line]
        return sum(float(line.rpartition(" ")[2]) for line in counts)

    seen: list[str] = []
    token: str | None = None
    for _ in range(10):
        params = {"dir": "b", "limit": "10", **({"from": token} if token else {})}
        page = (await bob.call("GET", f"/rooms/{q(room_id)}/messages", params=params)).ok()
        seen += [e["event_id"] for e in page["chunk"] if e["type"] == "m.room.message"]
        if 10 <= len(seen) < 25:
            # Pages of messages: no state asked for.
            assert state_ids_served() == 0
        token = page.get("end")
        if token is None:
            break
    assert seen == sent[::-1]
    # The room's first events are state events: their state is asked for once.
    assert state_ids_served() <= 1


async def test_joining_server_learns_the_presence_of_the_room(
    federation: StartFederation, version: str
) -> None:
    """Alice's status was set before Bob's server shared a room with her: his join
    brings it over (and his presence goes to her server the same way)."""
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    status = {"presence": "online", "status_msg": "writing docs"}
    (await alice.call("PUT", f"/presence/{q(alice.user_id)}/status", status)).ok()
    (await bob.call("PUT", f"/presence/{q(bob.user_id)}/status", {"presence": "online"})).ok()
    room_id = await alice.create_room(preset="public_chat", room_version=version)
    (await bob.call("POST", f"/join/{q(room_id)}", {}, params={"via": a.name})).ok()
    for _ in range(100):
        seen = await bob.call("GET", f"/presence/{q(alice.user_id)}/status")
        if seen.status == 200 and seen.body.get("status_msg") == "writing docs":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"alice's presence never reached bob's server: {seen}")
    for _ in range(100):
        seen = await alice.call("GET", f"/presence/{q(bob.user_id)}/status")
        if seen.status == 200 and seen.body.get("presence") == "online":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"bob's presence never reached alice's server: {seen}")


async def test_timestamp_to_event_for_clients_and_servers(
    federation: StartFederation, version: str
) -> None:
    """Jump to date: the event closest to a time, in either direction, for a local
    client and for a server in the room (spec: "timestamp_to_event")."""
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="public_chat", room_version=version)
    a.clock.advance(60_000)
    first = await alice.send(room_id, "first")
    a.clock.advance(60_000)
    second = await alice.send(room_id, "second")
    ts_second = (await alice.call("GET", f"/rooms/{q(room_id)}/event/{q(second)}")).ok()[
        "origin_server_ts"
    ]
    path = f"/_matrix/client/v1/rooms/{q(room_id)}/timestamp_to_event"
    found = await alice.call("GET", path, params={"ts": str(ts_second - 1), "dir": "b"})
    assert found.ok()["event_id"] == first
    found = await alice.call("GET", path, params={"ts": str(ts_second - 1), "dir": "f"})
    assert found.ok() == {"event_id": second, "origin_server_ts": ts_second}
    late = await alice.call("GET", path, params={"ts": str(ts_second + 1), "dir": "f"})
    assert (late.status, late.errcode) == (404, "M_NOT_FOUND")
    bad = await alice.call("GET", path, params={"ts": "soon", "dir": "f"})
    assert (bad.status, bad.errcode) == (400, "M_INVALID_PARAM")
    # Bob (not in the room) may not ask; his server may once he joined.
    assert (await bob.call("GET", path, params={"ts": "0", "dir": "f"})).status == 403
    fed_path_ = f"/_matrix/federation/v1/timestamp_to_event/{q(room_id)}"
    query = {"ts": str(ts_second - 1), "dir": "b"}
    with pytest.raises(FederationRequestError) as refused:
        await b.fed_client.get_json(a.name, fed_path_, query)
    assert refused.value.status == 403
    (await bob.call("POST", f"/join/{q(room_id)}", {}, params={"via": a.name})).ok()
    answer = await b.fed_client.get_json(a.name, fed_path_, query)
    assert answer["event_id"] == first
