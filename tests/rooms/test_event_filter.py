"""EventFilter as clients send it in ``/messages`` and ``/context``."""

from __future__ import annotations

from typing import Any

import pytest

from homeserver.errors import MatrixError
from homeserver.protocol.builder import build_event
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import room_version
from homeserver.protocol.signing import SigningKey
from homeserver.rooms.event_filter import EventFilter

KEY = SigningKey.from_seed("hs.test", "a_1", b"\x03" * 32)


def ev(event_type: str, sender: str = "@a:hs.test", **content: Any) -> Event:
    return build_event(
        version=room_version("10"),
        room_id="!r:hs.test",
        sender=sender,
        event_type=event_type,
        content=content,
        prev_events=[],
        auth_events=[],
        depth=3,
        origin_server_ts=1,
        key=KEY,
        event_id_localpart=None,
    )


def test_empty_filter_matches_everything() -> None:
    flt = EventFilter.from_query(None)
    assert flt == EventFilter()
    assert flt.matches_event(ev("m.room.message"))


def test_types_with_wildcards_and_not_types_win() -> None:
    flt = EventFilter.from_json({"types": ["m.room.*"], "not_types": ["m.room.member"]})
    assert flt.matches_event(ev("m.room.message"))
    assert not flt.matches_event(ev("m.room.member"))
    assert not flt.matches_event(ev("m.reaction"))
    exact = EventFilter.from_json({"types": ["m.room.message"]})
    assert not exact.matches_event(ev("m.room.messageX"))


def test_senders_and_contains_url() -> None:
    flt = EventFilter.from_json({"senders": ["@b:hs.test"], "contains_url": True})
    assert flt.matches_event(ev("m.room.message", "@b:hs.test", url="mxc://x/y"))
    assert not flt.matches_event(ev("m.room.message", "@b:hs.test"))
    assert not flt.matches_event(ev("m.room.message", "@a:hs.test", url="mxc://x/y"))
    no_url = EventFilter.from_json({"contains_url": False, "not_senders": ["@c:hs.test"]})
    assert no_url.matches_event(ev("m.room.message"))
    assert not no_url.matches_event(ev("m.room.message", url="mxc://x/y"))
    assert not no_url.matches_event(ev("m.room.message", "@c:hs.test"))


def test_rooms() -> None:
    assert not EventFilter.from_json({"not_rooms": ["!r:hs.test"]}).matches_event(ev("x"))
    assert not EventFilter.from_json({"rooms": ["!other:hs.test"]}).matches_event(ev("x"))


@pytest.mark.parametrize(
    ("text", "errcode"),
    [
        ("{not json", "M_NOT_JSON"),
        ("[]", "M_BAD_JSON"),
        ('{"types": "m.room.message"}', "M_BAD_JSON"),
        ('{"contains_url": "yes"}', "M_BAD_JSON"),
        ('{"limit": 0}', "M_INVALID_PARAM"),  # well-formed but out of range
    ],
)
def test_bad_filters(text: str, errcode: str) -> None:
    with pytest.raises(MatrixError) as info:
        EventFilter.from_query(text)
    assert info.value.errcode == errcode
