"""Filters: the pure semantics (spec "Filtering") and their use through HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from homeserver.errors import MatrixError
from homeserver.sync.filtering import EventFilter, only_fields, parse_filter, type_matches

from ..support.matrix_client import User, q

# ---------------------------------------------------------------- pure semantics


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("m.room.message", "m.room.message", True),
        ("m.room.*", "m.room.message", True),
        ("m.room.*", "m.reaction", False),
        ("*", "anything", True),
        ("m.*.member", "m.room.member", True),
        ("m.room.?", "m.room.x", False),  # only `*` is special
        ("m.room.[ab]", "m.room.a", False),
        ("m.room.", "m.room.message", False),
    ],
)
def test_type_wildcards(pattern: str, event_type: str, expected: bool) -> None:
    assert type_matches(pattern, event_type) is expected


def test_not_lists_win_over_positive_lists() -> None:
    f = EventFilter.parse(
        {
            "types": ["m.room.*"],
            "not_types": ["m.room.member"],
            "senders": ["@a:x", "@b:x"],
            "not_senders": ["@b:x"],
            "rooms": ["!r:x", "!s:x"],
            "not_rooms": ["!s:x"],
        }
    )
    assert f.matches("m.room.message", sender="@a:x", room_id="!r:x")
    assert not f.matches("m.room.member", sender="@a:x", room_id="!r:x")
    assert not f.matches("m.room.message", sender="@b:x", room_id="!r:x")
    assert not f.matches("m.room.message", sender="@c:x", room_id="!r:x")
    assert not f.matches("m.room.message", sender="@a:x", room_id="!s:x")
    assert not f.matches("m.reaction", sender="@a:x", room_id="!r:x")


def test_contains_url() -> None:
    with_url = EventFilter.parse({"contains_url": True})
    without_url = EventFilter.parse({"contains_url": False})
    either = EventFilter.parse({})
    image = {"msgtype": "m.image", "url": "mxc://x/y"}
    text = {"msgtype": "m.text", "body": "hi"}
    assert with_url.matches("m.room.message", content=image)
    assert not with_url.matches("m.room.message", content=text)
    assert without_url.matches("m.room.message", content=text)
    assert not without_url.matches("m.room.message", content=image)
    assert either.matches("m.room.message", content=image)
    assert either.matches("m.room.message", content=text)


def test_empty_types_means_nothing() -> None:
    f = EventFilter.parse({"types": []})
    assert f.includes_nothing
    assert not f.matches("m.room.message")


def test_event_fields_with_escapes() -> None:
    event = {
        "type": "m.room.message",
        "sender": "@a:x",
        "content": {"body": "hi", "m.relates_to": {"rel_type": "m.thread"}, "m\\foo": 1},
    }
    assert only_fields(event, ["type", "content.body"]) == {
        "type": "m.room.message",
        "content": {"body": "hi"},
    }
    assert only_fields(event, ["content.m\\.relates_to.rel_type"]) == {
        "content": {"m.relates_to": {"rel_type": "m.thread"}}
    }
    assert only_fields(event, ["content.m\\\\foo"]) == {"content": {"m\\foo": 1}}
    assert only_fields(event, ["content.missing", "unsigned"]) == {}


@pytest.mark.parametrize(
    "definition",
    [
        [],
        {"event_format": "xml"},
        {"event_fields": "type"},
        {"event_fields": ["content..body"]},
        {"room": []},
        {"room": {"timeline": {"limit": 0}}},
        {"room": {"timeline": {"limit": "10"}}},
        {"room": {"timeline": {"types": "m.room.message"}}},
        {"room": {"state": {"lazy_load_members": "yes"}}},
        {"room": {"rooms": [1]}},
        {"room": {"include_leave": 1}},
        {"presence": {"senders": [None]}},
    ],
)
def test_invalid_filters_are_refused(definition: Any) -> None:
    with pytest.raises(MatrixError) as caught:
        parse_filter(definition)
    assert caught.value.status == 400
    assert caught.value.errcode in ("M_BAD_JSON", "M_INVALID_PARAM")


def test_limits_are_capped() -> None:
    assert parse_filter({}).timeline_limit == 10
    assert parse_filter({"room": {"timeline": {"limit": 3}}}).timeline_limit == 3
    assert parse_filter({"room": {"timeline": {"limit": 10**9}}}).timeline_limit == 1000


# ---------------------------------------------------------------- over HTTP


async def test_upload_and_download(alice: User, bob: User) -> None:
    definition = {
        "room": {"timeline": {"limit": 5, "types": ["m.room.message"]}},
        "event_fields": ["type", "content"],
    }
    reply = (await alice.call("POST", f"/user/{q(alice.user_id)}/filter", definition)).ok()
    filter_id = reply["filter_id"]
    assert isinstance(filter_id, str) and not filter_id.startswith("{")
    got = (await alice.call("GET", f"/user/{q(alice.user_id)}/filter/{filter_id}")).ok()
    assert got == definition
    # The same definition again: the same id.
    again = (await alice.call("POST", f"/user/{q(alice.user_id)}/filter", definition)).ok()
    assert again["filter_id"] == filter_id
    # Someone else's filters are neither writable nor readable; unknown ids are 404.
    other = await bob.call("POST", f"/user/{q(alice.user_id)}/filter", definition)
    assert (other.status, other.errcode) == (403, "M_FORBIDDEN")
    other = await bob.call("GET", f"/user/{q(alice.user_id)}/filter/{filter_id}")
    assert (other.status, other.errcode) == (403, "M_FORBIDDEN")
    missing = await bob.call("GET", f"/user/{q(bob.user_id)}/filter/{filter_id}")
    assert (missing.status, missing.errcode) == (404, "M_NOT_FOUND")
    missing = await alice.call("GET", f"/user/{q(alice.user_id)}/filter/abc")
    assert (missing.status, missing.errcode) == (404, "M_NOT_FOUND")
    bad = await alice.call("POST", f"/user/{q(alice.user_id)}/filter", {"event_format": "x"})
    assert (bad.status, bad.errcode) == (400, "M_BAD_JSON")


async def test_sync_with_uploaded_filter_types_and_limit(alice: User) -> None:
    room = await alice.create_room(name="Filtered")
    for i in range(4):
        await alice.send(room, f"m{i}")
    await alice.send(room, "👍", event_type="m.reaction")
    definition = {"room": {"timeline": {"limit": 2, "types": ["m.room.message"]}}}
    filter_id = (await alice.call("POST", f"/user/{q(alice.user_id)}/filter", definition)).ok()[
        "filter_id"
    ]
    r = (await alice.sync(filter=filter_id))["rooms"]["join"][room]
    assert [e["content"]["body"] for e in r["timeline"]["events"]] == ["m2", "m3"]
    assert r["timeline"]["limited"] is True
    # The state of the room is complete (its events were left out of the timeline).
    state = {e["type"] for e in r["state"]["events"]}
    assert {"m.room.create", "m.room.name", "m.room.member"} <= state


async def test_inline_filter_not_types_and_event_fields(alice: User) -> None:
    room = await alice.create_room()
    since = (await alice.sync())["next_batch"]
    await alice.send(room, "keep")
    await alice.send(room, "drop", event_type="org.example.noise")
    body = await alice.sync(
        since,
        filter={
            "room": {"timeline": {"not_types": ["org.example.*"]}},
            "event_fields": ["type", "content.body"],
        },
    )
    events = body["rooms"]["join"][room]["timeline"]["events"]
    assert events == [{"type": "m.room.message", "content": {"body": "keep"}}]


async def test_room_filter_excludes_rooms(alice: User) -> None:
    kept = await alice.create_room()
    dropped = await alice.create_room()
    body = await alice.sync(filter={"room": {"not_rooms": [dropped]}})
    assert set(body["rooms"]["join"]) == {kept}
    body = await alice.sync(filter={"room": {"rooms": [dropped]}})
    assert set(body["rooms"]["join"]) == {dropped}


async def test_lazy_load_members(alice: User, bob: User, server: Any) -> None:
    carol = await server.register("carol")
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    (await carol.join(room)).ok()
    for i in range(12):
        await bob.send(room, f"b{i}")
    lazy = {"room": {"state": {"lazy_load_members": True}}}
    r = (await alice.sync(filter=lazy))["rooms"]["join"][room]
    members = {e["state_key"] for e in r["state"]["events"] if e["type"] == "m.room.member"}
    # bob sent the timeline; alice's own membership is included on a full state;
    # carol (neither sender nor the user) is left out. Heroes are bob and carol.
    assert {alice.user_id, bob.user_id} <= members
    heroes = set(r["summary"]["m.heroes"])
    assert heroes == {bob.user_id, carol.user_id}
    assert members <= {alice.user_id} | heroes
    full = (await alice.sync())["rooms"]["join"][room]
    all_members = {e["state_key"] for e in full["state"]["events"] if e["type"] == "m.room.member"}
    assert all_members == {alice.user_id, bob.user_id, carol.user_id}

    # Incremental: a new sender's membership comes with their message.
    since = (await alice.sync(filter=lazy))["next_batch"]
    await carol.send(room, "hello from carol")
    r = (await alice.sync(since, filter=lazy))["rooms"]["join"][room]
    members = {e["state_key"] for e in r["state"]["events"] if e["type"] == "m.room.member"}
    assert carol.user_id in members


async def test_lazy_members_without_heroes(alice: User, bob: User, server: Any) -> None:
    carol = await server.register("carol")
    room = await alice.create_room(preset="public_chat", name="Named")
    (await bob.join(room)).ok()
    (await carol.join(room)).ok()
    for i in range(12):
        await bob.send(room, f"b{i}")
    lazy = {"room": {"state": {"lazy_load_members": True}}}
    r = (await alice.sync(filter=lazy))["rooms"]["join"][room]
    state_members = {e["state_key"] for e in r["state"]["events"] if e["type"] == "m.room.member"}
    assert bob.user_id in state_members and alice.user_id in state_members
