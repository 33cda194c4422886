"""Which events and ephemeral data an application service is interested in (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from appservice.pusher.interest import (
    RoomInfo,
    interested_in_event,
    interested_in_presence,
    interested_in_room,
    room_aliases,
)
from appservice.registration import Registration, parse_registration
from homeserver.protocol.events import Event

SERVER = "hs.test"
NOBODY = RoomInfo(frozenset(), ())


def registration(**namespaces: Any) -> Registration:
    data = {
        "id": "irc",
        "url": "http://127.0.0.1:9000",
        "as_token": "a",
        "hs_token": "h",
        "sender_localpart": "ircbot",
        "namespaces": {"users": [], "aliases": [], "rooms": [], **namespaces},
    }
    return parse_registration(data, source=Path("irc.yaml"), server_name=SERVER)


@dataclass
class FakeEvent:
    sender: str
    type: str = "m.room.message"
    room_id: str = "!room:hs.test"
    state_key: str | None = None
    content: dict[str, Any] = field(default_factory=dict)


def ev(sender: str, **kwargs: Any) -> Event:
    return cast(Event, FakeEvent(sender, **kwargs))


IRC = registration(
    users=[{"regex": "@_irc_.*", "exclusive": True}],
    aliases=[{"regex": "#_irc_.*", "exclusive": True}],
    rooms=[{"regex": "!bridged:hs.test", "exclusive": False}],
)


def test_sender_member_and_own_sender() -> None:
    assert interested_in_event(IRC, ev("@_irc_bob:hs.test"), NOBODY)
    assert interested_in_event(IRC, ev(f"@ircbot:{SERVER}"), NOBODY)
    assert not interested_in_event(IRC, ev("@alice:hs.test"), NOBODY)
    invite = ev("@alice:hs.test", type="m.room.member", state_key="@_irc_bob:hs.test")
    assert interested_in_event(IRC, invite, NOBODY)
    # A state_key only means a user on membership events.
    other = ev("@alice:hs.test", type="m.custom", state_key="@_irc_bob:hs.test")
    assert not interested_in_event(IRC, other, NOBODY)


def test_room_id_members_and_aliases() -> None:
    assert interested_in_event(IRC, ev("@alice:hs.test", room_id="!bridged:hs.test"), NOBODY)
    with_ghost = RoomInfo(frozenset({"@alice:hs.test", "@_irc_bob:hs.test"}), ())
    assert interested_in_event(IRC, ev("@alice:hs.test"), with_ghost)
    aliased = RoomInfo(frozenset({"@alice:hs.test"}), ("#_irc_chan:hs.test",))
    assert interested_in_event(IRC, ev("@alice:hs.test"), aliased)
    assert not interested_in_room(IRC, "!other:hs.test", RoomInfo(frozenset({"@a:x"}), ("#b:x",)))


def test_the_alias_being_set_counts() -> None:
    setting = ev(
        "@alice:hs.test",
        type="m.room.canonical_alias",
        state_key="",
        content={"alias": "#plain:hs.test", "alt_aliases": ["#_irc_x:hs.test"]},
    )
    assert interested_in_event(IRC, setting, NOBODY)


def test_room_aliases_ignores_junk() -> None:
    assert room_aliases({"alias": "#a:x", "alt_aliases": ["#b:x", 3, None]}) == ("#a:x", "#b:x")
    assert room_aliases({"alias": 5, "alt_aliases": "#c:x"}) == ()
    assert room_aliases(None) == ()


def test_presence_for_own_users_and_room_mates() -> None:
    assert interested_in_presence(IRC, "@_irc_bob:hs.test", [])
    shared = [("!r:hs.test", RoomInfo(frozenset({"@alice:hs.test", "@_irc_bob:hs.test"}), ()))]
    assert interested_in_presence(IRC, "@alice:hs.test", shared)
    alone = [("!r:hs.test", RoomInfo(frozenset({"@alice:hs.test"}), ()))]
    assert not interested_in_presence(IRC, "@alice:hs.test", alone)
