"""Event relationships as pure rules: what an ``m.relates_to`` declares, which
relations count, and the aggregations built from them.

spec: client-server "Forming relationships between events", "Event annotations and
reactions", "Event replacements", "Threading", "Reference relations". Relations
that do not match the schema or break a rule of their ``rel_type`` are ignored (not
indexed, not aggregated); the event itself stays in the room as any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

ANNOTATION = "m.annotation"
REPLACE = "m.replace"
THREAD = "m.thread"
REFERENCE = "m.reference"

# spec: "Editing encrypted events" — the replacement's `m.new_content` is inside the
# ciphertext, so the server cannot see it.
ENCRYPTED = "m.room.encrypted"


@dataclass(frozen=True, slots=True)
class Relation:
    """The relationship a child event declares to its parent."""

    rel_type: str
    parent_id: str
    key: str | None = None  # the aggregation key of an m.annotation


@dataclass(frozen=True, slots=True)
class RelatedEvent:
    """What the rules need to know about an event on either end of a relation."""

    room_id: str
    sender: str
    type: str
    is_state: bool
    # The event's own relation type (an event may itself be a child).
    rel_type: str | None


def relation_of(content: Mapping[str, Any]) -> Relation | None:
    """The relation declared by an event's (cleartext) content, or None.

    spec: "Forming relationships between events" — ``m.relates_to`` with a string
    ``rel_type`` and ``event_id``; rich replies (``m.in_reply_to`` only) have no
    ``rel_type`` and are no relation here. An ``m.annotation`` needs a string ``key``.
    """
    relates = content.get("m.relates_to")
    if not isinstance(relates, Mapping):
        return None
    rel_type = relates.get("rel_type")
    parent_id = relates.get("event_id")
    if not isinstance(rel_type, str) or not rel_type:
        return None
    if not isinstance(parent_id, str) or not parent_id.startswith("$"):
        return None
    if rel_type == ANNOTATION:
        key = relates.get("key")
        if not isinstance(key, str):
            return None
        return Relation(rel_type, parent_id, key)
    return Relation(rel_type, parent_id)


def own_rel_type(content: Mapping[str, Any]) -> str | None:
    """The ``rel_type`` an event declares, well formed or not (for the parent rules)."""
    relates = content.get("m.relates_to")
    value = relates.get("rel_type") if isinstance(relates, Mapping) else None
    return value if isinstance(value, str) else None


def child_valid(
    relation: Relation, event_type: str, is_state: bool, content: Mapping[str, Any]
) -> bool:
    """The rules a child must meet whatever its parent.

    spec: "Validity of replacement events" — a replacement is no state event and has
    an ``m.new_content`` (not visible to the server when encrypted).
    """
    if relation.rel_type == REPLACE:
        if is_state:
            return False
        if event_type != ENCRYPTED and not isinstance(content.get("m.new_content"), Mapping):
            return False
    return True


def valid_with_parent(relation: Relation, child: RelatedEvent, parent: RelatedEvent) -> bool:
    """The rules that need the parent.

    - Both events are in the same room ("Forming relationships between events").
    - An annotation may not target an annotation or a replacement ("Event annotations
      and reactions", client behaviour).
    - A replacement has the original's sender and type, neither is a state event, and
      the original is no replacement itself ("Validity of replacement events").
    - A thread root is not itself a child ("Threading": "It is not possible to create
      a thread from an event which itself is the child of an event relationship").
    """
    if child.room_id != parent.room_id:
        return False
    if relation.rel_type == ANNOTATION:
        return parent.rel_type not in (ANNOTATION, REPLACE)
    if relation.rel_type == REPLACE:
        return (
            child.sender == parent.sender
            and child.type == parent.type
            and not child.is_state
            and not parent.is_state
            and parent.rel_type != REPLACE
        )
    if relation.rel_type == THREAD:
        return parent.rel_type is None
    return True


def may_have_children(event_type: str, is_state: bool, rel_type: str | None) -> bool:
    """Whether an event gets bundled aggregations at all.

    spec: "Aggregations of child events" — state events receive none; edits and
    annotations cannot be edited or annotated, so they have nothing to bundle.
    """
    return not is_state and rel_type not in (ANNOTATION, REPLACE)


def newer_replacement(ts: int, event_id: str, than_ts: int, than_id: str) -> bool:
    """spec: "Server-side aggregation of m.replace relationships" — the most recent
    replacement has the greatest ``origin_server_ts``, ties going to the
    lexicographically largest ``event_id``."""
    return (ts, event_id) > (than_ts, than_id)


class AnnotationCount(TypedDict):
    count: int
    senders: list[str]


def annotation_summary(annotations: Iterable[tuple[str, str]]) -> dict[str, AnnotationCount]:
    """``{key: {"count": n, "senders": [...]}}`` from ``(key, sender)`` pairs, in order.

    spec: "Event annotations and reactions", client behaviour — identical annotations
    (same type and key) from one sender count once; callers pass the annotations of
    one event type (``m.reaction`` for reactions). Keys keep the order of their first
    annotation, senders the order in which they annotated.
    """
    out: dict[str, AnnotationCount] = {}
    for key, sender in annotations:
        entry = out.get(key)
        if entry is None:
            out[key] = {"count": 1, "senders": [sender]}
        elif sender not in entry["senders"]:
            entry["senders"].append(sender)
            entry["count"] += 1
    return out
