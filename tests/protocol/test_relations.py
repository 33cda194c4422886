"""The pure relation rules (spec: client-server "Forming relationships between events"
and the modules of each relation type)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeserver.protocol import relations as rel
from homeserver.protocol.relations import RelatedEvent, Relation


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({}, None),
        ({"m.relates_to": "x"}, None),
        ({"m.relates_to": {"m.in_reply_to": {"event_id": "$a"}}}, None),  # a reply
        ({"m.relates_to": {"rel_type": "m.thread"}}, None),
        ({"m.relates_to": {"rel_type": "m.thread", "event_id": "a"}}, None),
        ({"m.relates_to": {"rel_type": 5, "event_id": "$a"}}, None),
        ({"m.relates_to": {"rel_type": "", "event_id": "$a"}}, None),
        ({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$a"}}, None),
        ({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$a", "key": 1}}, None),
        (
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$a", "key": "👍"}},
            Relation("m.annotation", "$a", "👍"),
        ),
        (
            {"m.relates_to": {"rel_type": "m.thread", "event_id": "$a", "key": "ignored"}},
            Relation("m.thread", "$a"),
        ),
        (
            {"m.relates_to": {"rel_type": "org.example.rel", "event_id": "$a"}},
            Relation("org.example.rel", "$a"),
        ),
    ],
)
def test_relation_of(content: dict[str, Any], expected: Relation | None) -> None:
    assert rel.relation_of(content) == expected


def _ev(
    sender: str = "@a:x",
    typ: str = "m.room.message",
    *,
    room: str = "!r:x",
    state: bool = False,
    rel_type: str | None = None,
) -> RelatedEvent:
    return RelatedEvent(room, sender, typ, state, rel_type)


def test_replacement_rules() -> None:
    edit = Relation(rel.REPLACE, "$p")
    new = {"m.new_content": {"body": "x"}}
    assert rel.child_valid(edit, "m.room.message", False, new)
    assert not rel.child_valid(edit, "m.room.message", False, {"body": "x"})
    assert not rel.child_valid(edit, "m.room.message", True, new)
    # Encrypted edits carry m.new_content in the ciphertext.
    assert rel.child_valid(edit, rel.ENCRYPTED, False, {"ciphertext": "..."})
    assert rel.valid_with_parent(edit, _ev(), _ev())
    assert not rel.valid_with_parent(edit, _ev("@b:x"), _ev())
    assert not rel.valid_with_parent(edit, _ev(typ="m.sticker"), _ev())
    assert not rel.valid_with_parent(edit, _ev(room="!other:x"), _ev())
    assert not rel.valid_with_parent(edit, _ev(), _ev(state=True))
    assert not rel.valid_with_parent(edit, _ev(), _ev(rel_type=rel.REPLACE))
    # An edit of a thread event is fine.
    assert rel.valid_with_parent(edit, _ev(), _ev(rel_type=rel.THREAD))


def test_annotation_thread_and_other_rules() -> None:
    react = Relation(rel.ANNOTATION, "$p", "k")
    assert rel.valid_with_parent(react, _ev("@b:x", "m.reaction"), _ev(state=True))
    assert not rel.valid_with_parent(react, _ev(), _ev(rel_type=rel.ANNOTATION))
    assert not rel.valid_with_parent(react, _ev(), _ev(rel_type=rel.REPLACE))
    assert rel.valid_with_parent(react, _ev(), _ev(rel_type=rel.THREAD))
    thread = Relation(rel.THREAD, "$p")
    assert rel.valid_with_parent(thread, _ev("@b:x"), _ev())
    assert not rel.valid_with_parent(thread, _ev(), _ev(rel_type=rel.THREAD))
    assert not rel.valid_with_parent(thread, _ev(room="!other:x"), _ev())
    ref = Relation(rel.REFERENCE, "$p")
    assert rel.valid_with_parent(ref, _ev("@b:x", "x"), _ev(state=True, rel_type=rel.REPLACE))
    assert not rel.valid_with_parent(ref, _ev(room="!other:x"), _ev())


def test_which_events_get_bundles() -> None:
    assert rel.may_have_children("m.room.message", False, None)
    assert rel.may_have_children("m.room.message", False, rel.THREAD)
    assert not rel.may_have_children("m.room.topic", True, None)
    assert not rel.may_have_children("m.room.message", False, rel.REPLACE)
    assert not rel.may_have_children("m.reaction", False, rel.ANNOTATION)


def test_newer_replacement_by_timestamp_then_event_id() -> None:
    assert rel.newer_replacement(2, "$a", 1, "$z")
    assert not rel.newer_replacement(1, "$z", 2, "$a")
    assert rel.newer_replacement(1, "$b", 1, "$a")
    assert not rel.newer_replacement(1, "$a", 1, "$a")


def test_annotation_summary_counts_each_sender_once_per_key() -> None:
    pairs = [("👍", "@a:x"), ("👍", "@b:x"), ("❤️", "@a:x"), ("👍", "@a:x")]
    assert rel.annotation_summary(pairs) == {
        "👍": {"count": 2, "senders": ["@a:x", "@b:x"]},
        "❤️": {"count": 1, "senders": ["@a:x"]},
    }
    assert rel.annotation_summary([]) == {}


@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(["@x:s", "@y:s", "@z:s"]))))
def test_annotation_summary_properties(pairs: list[tuple[str, str]]) -> None:
    summary = rel.annotation_summary(pairs)
    assert set(summary) == {key for key, _ in pairs}
    for key, entry in summary.items():
        senders = {s for k, s in pairs if k == key}
        assert entry["count"] == len(senders) == len(entry["senders"])
        assert set(entry["senders"]) == senders
