"""``POST /search`` bodies and ``next_batch`` tokens."""

from __future__ import annotations

from typing import Any

import pytest

from homeserver.errors import MatrixError
from homeserver.rooms.event_filter import EventFilter
from homeserver.rooms.search_request import (
    MAX_CONTEXT,
    MAX_LIMIT,
    BatchToken,
    EventContext,
    RoomEventsCriteria,
    parse_search_body,
)
from homeserver.rooms.search_text import ALL_KEYS


def parse(**room_events: Any) -> RoomEventsCriteria:
    return parse_search_body({"search_categories": {"room_events": room_events}})


def test_defaults() -> None:
    criteria = parse(search_term="x")
    assert criteria == RoomEventsCriteria(search_term="x")
    assert criteria.keys == ALL_KEYS and criteria.order_by == "rank"
    assert criteria.event_context is None and not criteria.include_state
    assert criteria.group_by == () and criteria.limit == 10
    assert parse(search_term="x", keys=[]).keys == ALL_KEYS


def test_everything() -> None:
    criteria = parse(
        search_term="martians and men",
        keys=["content.body", "content.name", "content.body"],
        filter={"rooms": ["!a:x"], "senders": ["@b:x"], "types": ["m.room.message"], "limit": 500},
        order_by="recent",
        event_context={"before_limit": 1, "after_limit": 1000, "include_profile": True},
        include_state=True,
        groupings={"group_by": [{"key": "room_id"}, {"key": "sender"}, {"key": "room_id"}]},
    )
    assert criteria.keys == ("content.body", "content.name")
    assert criteria.flt == EventFilter(
        limit=500, rooms=("!a:x",), senders=("@b:x",), types=("m.room.message",)
    )
    assert criteria.limit == MAX_LIMIT
    assert criteria.order_by == "recent"
    assert criteria.event_context == EventContext(1, MAX_CONTEXT, True)
    assert criteria.include_state
    assert criteria.group_by == ("room_id", "sender")
    assert parse(search_term="x", event_context={}).event_context == EventContext(5, 5, False)


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({}, "M_BAD_JSON"),
        ({"search_categories": None}, "M_BAD_JSON"),
        ({"search_categories": {"room_events": None}}, "M_BAD_JSON"),
        ({"search_categories": {"room_events": {}}}, "M_BAD_JSON"),
        ({"search_categories": {"other": {}}}, "M_INVALID_PARAM"),
        ({"search_categories": {"room_events": {"search_term": "x"}, "x": 1}}, "M_INVALID_PARAM"),
    ],
)
def test_bad_bodies(body: dict[str, Any], errcode: str) -> None:
    with pytest.raises(MatrixError) as caught:
        parse_search_body(body)
    assert caught.value.status == 400 and caught.value.errcode == errcode


def test_tokens_round_trip() -> None:
    token = BatchToken("rank", 0.125, 42, 99, ("room_id", "!r:x"))
    assert BatchToken.parse(token.encode(), "rank") == token
    plain = BatchToken("recent", 1e-06, -3, 7)
    assert BatchToken.parse(plain.encode(), "recent") == plain
    assert "=" not in plain.encode()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "!!!",
        "bm90IGpzb24",  # not json
        "WzFd",  # [1]
        BatchToken("rank", 1.0, 1, 1).encode() + "x",
        "eyJvIjoicmFuayIsInIiOiJ4IiwicyI6MSwidSI6MX0",  # rank "x"
        "eyJvIjoicmFuayIsInIiOjEsInMiOnRydWUsInUiOjF9",  # stream true
        "eyJvIjoicmFuayIsInIiOk5hTiwicyI6MSwidSI6MX0",  # rank NaN
        "eyJvIjoicmFuayIsImciOlsidHlwZSIsIngiXSwiciI6MSwicyI6MSwidSI6MX0",  # group "type"
    ],
)
def test_bad_tokens(text: str) -> None:
    with pytest.raises(MatrixError) as caught:
        BatchToken.parse(text, "rank")
    assert caught.value.errcode == "M_INVALID_PARAM"


def test_a_token_is_for_one_order() -> None:
    with pytest.raises(MatrixError) as caught:
        BatchToken.parse(BatchToken("recent", 1.0, 1, 1).encode(), "rank")
    assert caught.value.errcode == "M_INVALID_PARAM"
