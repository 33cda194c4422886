"""What of an event is indexed for search, and how text becomes search words."""

from __future__ import annotations

from typing import Any

from homeserver.protocol.builder import build_event
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import room_version
from homeserver.protocol.signing import SigningKey
from homeserver.rooms.search_text import (
    MAX_TERMS,
    index_entry,
    matched_words,
    search_terms,
    tokenize,
)

KEY = SigningKey.from_seed("hs.test", "a_1", b"\x03" * 32)


def ev(event_type: str, content: dict[str, Any], state_key: str | None = None) -> Event:
    return build_event(
        version=room_version("10"),
        room_id="!r:hs.test",
        sender="@a:hs.test",
        event_type=event_type,
        content=content,
        prev_events=[],
        auth_events=[],
        depth=3,
        origin_server_ts=1,
        key=KEY,
        state_key=state_key,
        event_id_localpart=None,
    )


def test_words_are_runs_of_letters_and_digits_lower_cased() -> None:
    assert tokenize("Hello, World! alice@example.org don't_stop v1.2 Ünïcode 日本語") == [
        "hello", "world", "alice", "example", "org", "don", "t", "stop", "v1", "2",
        "ünïcode", "日本語",
    ]  # fmt: skip
    assert tokenize("  --  ") == []


def test_search_terms_are_distinct_and_bounded() -> None:
    assert search_terms("Martians and MEN and martians") == ["martians", "and", "men"]
    many = " ".join(f"w{i}" for i in range(100))
    assert search_terms(many) == [f"w{i}" for i in range(MAX_TERMS)]


def test_index_entries_per_type() -> None:
    assert index_entry(ev("m.room.message", {"msgtype": "m.text", "body": "Hi There"})) == (
        "content.body",
        "hi there",
    )
    assert index_entry(ev("m.room.name", {"name": "The Den"}, "")) == ("content.name", "the den")
    assert index_entry(ev("m.room.topic", {"topic": "Chat"}, "")) == ("content.topic", "chat")
    topic = {
        "topic": "Chat here",
        "m.topic": {
            "m.text": [
                {"mimetype": "text/html", "body": "<i>Chat</i> here"},
                {"body": "Chat here"},  # the same as `topic`: indexed once
                {"mimetype": "text/plain", "body": "extra words"},
                "not an object",
            ]
        },
    }
    assert index_entry(ev("m.room.topic", topic, "")) == ("content.topic", "chat here extra words")
    assert index_entry(ev("m.room.topic", {"m.topic": {"m.text": [{"body": "only"}]}}, "")) == (
        "content.topic",
        "only",
    )


def test_nothing_to_index() -> None:
    assert index_entry(ev("m.room.message", {"body": 5})) is None
    assert index_entry(ev("m.room.message", {"body": "?!"})) is None
    assert index_entry(ev("m.room.message", {"body": "state"}, "")) is None
    assert index_entry(ev("m.room.name", {"name": "x"}, "key")) is None
    assert index_entry(ev("m.room.name", {"name": "x"})) is None
    assert index_entry(ev("m.room.topic", {"m.topic": "no"}, "")) is None
    assert (
        index_entry(ev("m.room.member", {"membership": "join", "displayname": "x"}, "@a:hs.test"))
        is None
    )
    assert index_entry(ev("org.example", {"body": "text"})) is None


def test_matched_words_for_highlights() -> None:
    assert matched_words(["Martians attack", "Marty and the martian MEN"], ["mart", "men"]) == [
        "martians",
        "marty",
        "martian",
        "men",
    ]
    assert matched_words(["nothing here"], ["zzz"]) == []
