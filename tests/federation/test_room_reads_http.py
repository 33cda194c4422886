"""The read endpoints of the federation API between two real Concord servers.

Server A holds a room its users built through the client API; a user of server B joins
it over federation. B then reads the room from A with its own ``FederationClient``
(signed X-Matrix requests over TLS): ``/backfill``, ``/get_missing_events``, ``/state``,
``/state_ids``, ``/event``, ``/event_auth``. What A answers is checked against A's own
view of the room, and the PDUs must verify on B (signatures, content hashes, event ids)
exactly as when they first arrived.

spec: server-server "Backfilling and retrieving missing events", "Retrieving events",
"Server Access Control Lists (ACLs)".
"""

from __future__ import annotations

from typing import Any

import pytest

from federation.client import FederationRequestError, fed_path
from homeserver.appkeys import STORE_KEY
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import room_version
from homeserver.protocol.signing import check_content_hash

from ..support.federation import FederatedServer, StartFederation
from ..support.matrix_client import User, q

V1 = "/_matrix/federation/v1"


async def _setup(
    federation: StartFederation, version: str, **room: Any
) -> tuple[FederatedServer, FederatedServer, User, User, str]:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="public_chat", room_version=version, **room)
    (await bob.call("POST", f"/join/{q(room_id)}", {}, params={"via": a.name})).ok()
    return a, b, alice, bob, room_id


async def _get(b: FederatedServer, a: FederatedServer, template: str, *args: str, **query: Any):  # type: ignore[no-untyped-def]
    return await b.fed_client.get_json(a.name, fed_path(V1 + template, *args), query or None)


async def _a_state(alice: User, room_id: str) -> dict[tuple[str, str], str]:
    events = (await alice.call("GET", f"/rooms/{q(room_id)}/state")).ok()
    return {(e["type"], e["state_key"]): e["event_id"] for e in events}


async def _verify(
    b: FederatedServer, pdu: dict[str, Any], version: str, *, redacted: bool = False
) -> Event:
    """The PDU as B's pipeline would take it: its id and signatures, and its content
    hash unless it comes redacted (spec: "Validating hashes and signatures on received
    events" — a redacted copy fails the hash check but keeps its signatures)."""
    event = Event(pdu, room_version(version))
    assert check_content_hash(event) is not redacted, pdu
    await b.keyring.verify_event(event)
    return event


async def _errcode(call: Any) -> tuple[int | None, str | None]:
    with pytest.raises(FederationRequestError) as info:
        await call
    return info.value.status, info.value.errcode


@pytest.mark.parametrize("version", ["10", "11", "12"])
async def test_peer_reads_history_state_and_auth_chains(
    federation: StartFederation, version: str
) -> None:
    a, b, alice, bob, room_id = await _setup(federation, version, name="Hall")
    said = [await alice.send(room_id, f"m{i}") for i in range(6)]
    (await alice.put_state(room_id, "m.room.topic", {"topic": "T"})).ok()
    last = await alice.send(room_id, "last")

    # /backfill: the given event and those before it, deepest first, at most `limit`.
    page = await _get(b, a, "/backfill/{}", room_id, v=[last], limit="5")
    assert page["origin"] == a.name and isinstance(page["origin_server_ts"], int)
    events = [await _verify(b, pdu, version) for pdu in page["pdus"]]
    assert events[0].event_id == last and len(events) == 5
    assert [e.depth for e in events] == sorted((e.depth for e in events), reverse=True)
    assert [e.content.get("body") for e in events] == ["last", None, "m5", "m4", "m3"]
    assert all(set(pdu.get("unsigned", {})) <= {"age"} for pdu in page["pdus"])
    # Paging on from the oldest reaches the create event, with nothing twice.
    seen = [e.event_id for e in events]
    while True:
        more = await _get(b, a, "/backfill/{}", room_id, v=[seen[-1]], limit="50")
        new = [pdu for pdu in more["pdus"] if (await _verify(b, pdu, version)).event_id not in seen]
        if not new:
            break
        seen += [Event(pdu, room_version(version)).event_id for pdu in new]
    assert len(seen) == len(set(seen))
    stored = await a.app[STORE_KEY].events.get_events(seen)
    assert stored[seen[-1]].event.type == "m.room.create"
    assert set(said) <= set(seen)

    # /get_missing_events: what lies between, oldest first, without the ends.
    missing = await b.fed_client.post_json(
        a.name,
        fed_path(V1 + "/get_missing_events/{}", room_id),
        {"earliest_events": [said[1]], "latest_events": [said[5]], "limit": 10},
    )
    bodies = [(await _verify(b, pdu, version)).content["body"] for pdu in missing["events"]]
    assert bodies == ["m2", "m3", "m4"]

    # /state_ids and /state: the state before the event, and its auth chain.
    state_now = await _a_state(alice, room_id)
    assert ("m.room.member", bob.user_id) in state_now
    ids = await _get(b, a, "/state_ids/{}", room_id, event_id=last)
    assert sorted(ids["pdu_ids"]) == sorted(state_now.values())
    topic_id = state_now[("m.room.topic", "")]
    before_topic = await _get(b, a, "/state_ids/{}", room_id, event_id=topic_id)
    assert set(ids["pdu_ids"]) - set(before_topic["pdu_ids"]) == {topic_id}
    full = await _get(b, a, "/state/{}", room_id, event_id=last)
    state_events = [await _verify(b, pdu, version) for pdu in full["pdus"]]
    chain_events = [await _verify(b, pdu, version) for pdu in full["auth_chain"]]
    assert sorted(e.event_id for e in state_events) == sorted(ids["pdu_ids"])
    assert sorted(e.event_id for e in chain_events) == sorted(ids["auth_chain_ids"])
    chain = set(ids["auth_chain_ids"])
    for event in [*state_events, *chain_events]:
        assert set(event.auth_event_ids) <= chain, event  # closed under auth_events
    create_id = state_now[("m.room.create", "")]
    assert create_id in chain
    assert state_now[("m.room.member", alice.user_id)] in chain

    # /event: one PDU, as A stores it.
    one = await _get(b, a, "/event/{}", said[0])
    assert one["origin"] == a.name and len(one["pdus"]) == 1
    a_copy = (await a.app[STORE_KEY].events.get_event(said[0])).event.pdu  # type: ignore[union-attr]
    assert {k: v for k, v in one["pdus"][0].items() if k != "unsigned"} == a_copy
    await _verify(b, one["pdus"][0], version)

    # /event_auth: the whole auth chain of one event.
    auth = await _get(b, a, "/event_auth/{}/{}", room_id, said[0])
    auth_events = [await _verify(b, pdu, version) for pdu in auth["auth_chain"]]
    auth_ids = {e.event_id for e in auth_events}
    message = Event(one["pdus"][0], room_version(version))
    assert set(message.auth_event_ids) <= auth_ids and create_id in auth_ids
    assert message.event_id not in auth_ids
    for event in auth_events:
        assert set(event.auth_event_ids) <= auth_ids
    assert auth_ids <= chain


async def test_gates_and_bad_requests(federation: StartFederation) -> None:
    a, b, alice, _, room_id = await _setup(federation, "12")
    msg = await alice.send(room_id, "hello")
    lonely = await alice.create_room(preset="public_chat")
    lonely_msg = await alice.send(lonely, "nobody from b here")
    # Unknown room and event: 404.
    assert await _errcode(_get(b, a, "/backfill/{}", "!nope:" + a.name, v=[msg], limit="5")) == (
        404,
        "M_NOT_FOUND",
    )
    assert await _errcode(_get(b, a, "/event/{}", "$nope")) == (404, "M_NOT_FOUND")
    assert await _errcode(_get(b, a, "/state_ids/{}", room_id, event_id="$nope")) == (
        404,
        "M_NOT_FOUND",
    )
    assert await _errcode(_get(b, a, "/event_auth/{}/{}", room_id, lonely_msg)) == (
        404,
        "M_NOT_FOUND",
    )
    # A room B has nobody in: 403 everywhere.
    for call in (
        _get(b, a, "/backfill/{}", lonely, v=[lonely_msg], limit="5"),
        _get(b, a, "/state/{}", lonely, event_id=lonely_msg),
        _get(b, a, "/state_ids/{}", lonely, event_id=lonely_msg),
        _get(b, a, "/event/{}", lonely_msg),
        _get(b, a, "/event_auth/{}/{}", lonely, lonely_msg),
        b.fed_client.post_json(
            a.name,
            fed_path(V1 + "/get_missing_events/{}", lonely),
            {"earliest_events": [], "latest_events": [lonely_msg]},
        ),
    ):
        assert await _errcode(call) == (403, "M_FORBIDDEN")
    # Malformed requests: 400 and nothing else happens.
    assert await _errcode(_get(b, a, "/backfill/{}", room_id, limit="5")) == (
        400,
        "M_MISSING_PARAM",
    )
    assert await _errcode(_get(b, a, "/backfill/{}", room_id, v=[msg], limit="many")) == (
        400,
        "M_INVALID_PARAM",
    )
    assert await _errcode(_get(b, a, "/state_ids/{}", room_id)) == (400, "M_MISSING_PARAM")
    assert await _errcode(_get(b, a, "/state/{}", "not-a-room", event_id=msg)) == (
        400,
        "M_INVALID_PARAM",
    )
    path = fed_path(V1 + "/get_missing_events/{}", room_id)
    for body in ({"latest_events": [msg]}, {"earliest_events": [], "latest_events": "x"}):
        assert await _errcode(b.fed_client.post_json(a.name, path, body)) == (400, "M_BAD_JSON")
    bad_limit = {"earliest_events": [], "latest_events": [msg], "limit": -1}
    assert await _errcode(b.fed_client.post_json(a.name, path, bad_limit)) == (
        400,
        "M_INVALID_PARAM",
    )
    # An unsigned request is refused before anything is read.
    unsigned = await alice.http.request("GET", fed_path(V1 + "/event/{}", msg))
    assert unsigned.status == 401


async def test_server_acl_shuts_a_peer_out(federation: StartFederation) -> None:
    a, b, alice, _, room_id = await _setup(federation, "11")
    msg = await alice.send(room_id, "hello")
    b_host = b.name.partition(":")[0]  # "localhost": ACLs ignore the port
    (await alice.put_state(room_id, "m.room.server_acl", {"allow": ["*"], "deny": [b_host]})).ok()
    path = fed_path(V1 + "/get_missing_events/{}", room_id)
    for call in (
        _get(b, a, "/backfill/{}", room_id, v=[msg], limit="5"),
        _get(b, a, "/state/{}", room_id, event_id=msg),
        _get(b, a, "/state_ids/{}", room_id, event_id=msg),
        _get(b, a, "/event_auth/{}/{}", room_id, msg),
        b.fed_client.post_json(a.name, path, {"earliest_events": [], "latest_events": [msg]}),
    ):
        assert await _errcode(call) == (403, "M_FORBIDDEN")
    # The same ACL guards the join handshake (app wiring: ServerAcl.allowed).
    carol = "@carol:" + b.name
    make_join = _get(b, a, "/make_join/{}/{}", room_id, carol, ver=["10", "11", "12"])
    assert await _errcode(make_join) == (403, "M_FORBIDDEN")
    (await alice.put_state(room_id, "m.room.server_acl", {"allow": ["LOCALHOST"]})).ok()
    page = await _get(b, a, "/backfill/{}", room_id, v=[msg], limit="2")
    assert len(page["pdus"]) == 2


async def test_history_before_a_server_joined_is_redacted(federation: StartFederation) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(
        preset="public_chat",
        initial_state=[
            {"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}}
        ],
    )
    secret = await alice.send(room_id, "before bob")
    (await bob.call("POST", f"/join/{q(room_id)}", {}, params={"via": a.name})).ok()
    seen = await alice.send(room_id, "with bob")
    page = await _get(b, a, "/backfill/{}", room_id, v=[seen], limit="10")
    by_id = {Event(pdu, room_version("12")).event_id: pdu for pdu in page["pdus"]}
    assert by_id[seen]["content"]["body"] == "with bob"
    await _verify(b, by_id[seen], "12")
    # Redacted, yet the same event: its id and signatures still verify.
    assert by_id[secret]["content"] == {}
    await _verify(b, by_id[secret], "12", redacted=True)
    event = await _get(b, a, "/event/{}", secret)
    assert event["pdus"][0] == by_id[secret]
