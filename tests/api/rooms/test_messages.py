"""``/messages`` and ``/context``: pages chain without gaps or duplicates both ways,
filters apply, tokens from sync-style stream positions work."""

from __future__ import annotations

import json
from typing import Any

from ...support.matrix_client import User, q


async def fill(user: User, room: str, count: int) -> list[str]:
    return [await user.send(room, f"m{i}") for i in range(count)]


def ids(chunk: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for e in chunk]


async def walk(user: User, room: str, direction: str, limit: int, **params: Any) -> list[str]:
    """Every event id from paginating to the end, checking tokens chain."""
    seen: list[str] = []
    token: str | None = None
    for _ in range(1000):
        query = {"dir": direction, "limit": limit, **params}
        if token is not None:
            query["from"] = token
        page = (await user.messages(room, **query)).ok()
        if token is not None:
            assert page["start"] == token
        assert len(page["chunk"]) <= limit
        seen += ids(page["chunk"])
        if "end" not in page or not page["chunk"]:
            return seen
        token = page["end"]
    raise AssertionError("pagination did not end")


async def test_paginate_100_messages_both_ways(alice: User) -> None:
    room = await alice.create_room(preset="public_chat")
    sent = await fill(alice, room, 100)
    backwards = await walk(alice, room, "b", 7)
    assert len(backwards) == len(set(backwards))
    assert backwards[:100] == list(reversed(sent))
    # Then the room's initial events, oldest last, ending with the create event.
    create = (
        await alice.call("GET", f"/rooms/{q(room)}/state/m.room.create", params={"format": "event"})
    ).ok()
    assert backwards[-1] == create["event_id"]
    forwards = await walk(alice, room, "f", 9)
    assert forwards == list(reversed(backwards))


async def check_backwards_then_forwards_from_the_same_token(alice: User) -> None:
    room = await alice.create_room()
    sent = await fill(alice, room, 10)
    first = (await alice.messages(room, dir="b", limit=4)).ok()
    assert ids(first["chunk"]) == list(reversed(sent[6:]))
    # Forwards from the end of a backwards page returns those same events, in order.
    again = (await alice.messages(room, dir="f", limit=4, **{"from": first["end"]})).ok()
    assert ids(again["chunk"]) == sent[6:]
    # A `to` token bounds a page.
    second = (await alice.messages(room, dir="b", limit=4, **{"from": first["end"]})).ok()
    bounded = (
        await alice.messages(room, dir="b", limit=50, to=second["end"], **{"from": first["end"]})
    ).ok()
    assert ids(bounded["chunk"]) == ids(second["chunk"])
    assert "end" not in bounded


async def check_limit_defaults_caps_and_errors(alice: User) -> None:
    room = await alice.create_room()
    await fill(alice, room, 12)
    assert len((await alice.messages(room, dir="b")).ok()["chunk"]) == 10
    assert len((await alice.messages(room, dir="b", limit=5000)).ok()["chunk"]) > 12
    assert len((await alice.messages(room, dir="b", limit=0)).ok()["chunk"]) == 0
    for params in (
        {"dir": "x"},
        {"dir": "b", "limit": "ten"},
        {"dir": "b", "limit": "-1"},
        {"dir": "b", "from": "garbage"},
        {"dir": "b", "filter": "{bad"},
    ):
        reply = await alice.messages(room, **params)
        assert reply.status == 400, params
    reply = await alice.messages("!unknown:test.local", dir="b")
    assert reply.status == 403


async def check_stream_token_as_from(alice: User) -> None:
    room = await alice.create_room()
    sent = await fill(alice, room, 3)
    # A sync token: everything up to a stream position, then backwards from there.
    event = (await alice.call("GET", f"/rooms/{q(room)}/event/{q(sent[1])}")).ok()
    assert event["event_id"] == sent[1]
    page = (await alice.messages(room, dir="b", limit=50, **{"from": "s999999_0_0_0_0_0_0"})).ok()
    assert ids(page["chunk"])[:3] == list(reversed(sent))
    early = (await alice.messages(room, dir="f", limit=50, **{"from": "s0"})).ok()
    assert ids(early["chunk"])[-3:] == sent


async def check_filters(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    await bob.join(room)
    await alice.send(room, "text")
    image = await bob.send(room, "pic", msgtype="m.image", url="mxc://test.local/abc")
    note = await bob.send(room, "note", event_type="org.example.note")
    await alice.send(room, "more")

    async def only(flt: dict[str, Any]) -> list[str]:
        page = await alice.messages(room, dir="b", limit=50, filter=json.dumps(flt))
        return ids(page.ok()["chunk"])

    assert await only({"contains_url": True}) == [image]
    assert await only({"types": ["org.example.*"]}) == [note]
    assert await only({"senders": [bob.user_id], "not_types": ["m.room.member"]}) == [note, image]
    mine = await only({"not_senders": [bob.user_id], "types": ["m.room.message"]})
    assert len(mine) == 2
    # Lazy-loading members returns the senders' member events.
    page = await alice.messages(
        room, dir="b", limit=2, filter=json.dumps({"lazy_load_members": True})
    )
    state = page.ok()["state"]
    assert {e["state_key"] for e in state} == {alice.user_id, bob.user_id}
    assert all(e["type"] == "m.room.member" for e in state)
    # Without lazy loading there is no state.
    assert "state" not in (await alice.messages(room, dir="b", limit=2)).ok()


async def check_context(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    await bob.join(room)
    sent = await fill(alice, room, 9)
    middle = sent[4]
    reply = await alice.call("GET", f"/rooms/{q(room)}/context/{q(middle)}", params={"limit": "4"})
    body = reply.ok()
    assert body["event"]["event_id"] == middle
    assert ids(body["events_before"]) == [sent[3], sent[2]]
    assert ids(body["events_after"]) == [sent[5], sent[6]]
    assert {e["type"] for e in body["state"]} >= {"m.room.create", "m.room.member"}
    # start/end chain on with /messages.
    before = (await alice.messages(room, dir="b", limit=2, **{"from": body["start"]})).ok()
    assert ids(before["chunk"]) == [sent[1], sent[0]]
    after = (await alice.messages(room, dir="f", limit=2, **{"from": body["end"]})).ok()
    assert ids(after["chunk"]) == [sent[7], sent[8]]
    # Filter with lazy loading; limit 0 still returns the event.
    lazy = await alice.call(
        "GET",
        f"/rooms/{q(room)}/context/{q(middle)}",
        params={"limit": "0", "filter": json.dumps({"lazy_load_members": True})},
    )
    body = lazy.ok()
    assert body["events_before"] == [] and body["events_after"] == []
    assert [e["state_key"] for e in body["state"]] == [alice.user_id]
    missing = await alice.call("GET", f"/rooms/{q(room)}/context/{q('$nope')}")
    assert missing.status == 404 and missing.errcode == "M_NOT_FOUND"
    bad = await alice.call("GET", f"/rooms/{q(room)}/context/nope")
    assert bad.status == 400


async def test_tokens_and_limits(alice: User) -> None:
    await check_backwards_then_forwards_from_the_same_token(alice)
    await check_limit_defaults_caps_and_errors(alice)
    await check_stream_token_as_from(alice)


async def test_filters_and_context(alice: User, bob: User) -> None:
    await check_filters(alice, bob)
    await check_context(alice, bob)
