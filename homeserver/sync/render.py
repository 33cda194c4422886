"""Turning loaded room data into the JSON of a ``/sync`` response.

spec: client-server ``GET /sync`` (Joined Room, Invited Room, Knocked Room, Left
Room), "Stripped state", "Lazy-loading room members", and the Filter's
``event_format`` / ``event_fields``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.protocol.events import Event
from homeserver.rooms.events_view import UnsignedExtras, render_client_event

from .filtering import SyncFilter, only_fields
from .room_data import LoadedRoom, StateKey
from .tokens import StreamToken, TopoToken

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class RenderContext:
    now_ms: int
    filter: SyncFilter
    extras: UnsignedExtras


def render_event(event: Event, ctx: RenderContext, redacted_by: str | None = None) -> JsonDict:
    out: JsonDict
    if ctx.filter.event_format == "federation":
        # spec: Filter.event_format — "the raw event as received over federation".
        out = dict(event.pdu)
        out.setdefault("event_id", event.event_id)
    else:
        out = render_client_event(
            event, ctx.extras, now_ms=ctx.now_ms, redacted_by=redacted_by, include_room_id=False
        )
    if ctx.filter.event_fields is not None:
        out = only_fields(out, ctx.filter.event_fields)
    return out


def stripped(event: Event) -> JsonDict:
    """spec: "Stripped state" — only sender, type, state_key and content."""
    return {
        "content": event.content,
        "sender": event.sender,
        "state_key": event.state_key,
        "type": event.type,
    }


def state_ids_to_send(loaded: LoadedRoom, sync_filter: SyncFilter, user_id: str) -> list[str]:
    """Which state event ids go in the room's ``state`` section, before the filter's
    sender/content checks (which need the bodies)."""
    state_filter = sync_filter.room.state
    if state_filter.includes_nothing:
        return []
    chosen: dict[StateKey, str] = dict(loaded.state_ids)
    if state_filter.lazy_load_members:
        # spec: "Lazy-loading room members" — members of the timeline's senders; the
        # user's own membership on join or full state; the heroes' memberships.
        needed = {e.event.sender for e in loaded.timeline}
        if loaded.full_state:
            needed.add(user_id)
            if loaded.summary is not None:
                needed.update(loaded.summary.heroes)
            chosen = {k: v for k, v in chosen.items() if k[0] != "m.room.member" or k[1] in needed}
        # (In a delta every changed membership stays: the gap's joins and leaves
        # must not be lost, per GET /sync.)
        start = loaded.start_state or {}
        for member in needed:
            key = ("m.room.member", member)
            if key in start and key not in chosen:
                chosen[key] = start[key]
    in_timeline = {e.event.event_id for e in loaded.timeline}
    return [
        event_id
        for key, event_id in chosen.items()
        if state_filter.allows_type(key[0]) and event_id not in in_timeline
    ]


def _state_events(
    ids: Iterable[str], events: Mapping[str, Event], room_id: str, ctx: RenderContext
) -> list[JsonDict]:
    state_filter = ctx.filter.room.state
    out = []
    for event_id in ids:
        event = events.get(event_id)
        if event is None:
            continue
        if state_filter.matches(
            event.type, sender=event.sender, room_id=room_id, content=event.content
        ):
            out.append(render_event(event, ctx))
    return out


def _timeline(loaded: LoadedRoom, ctx: RenderContext) -> JsonDict:
    events = loaded.timeline
    if events:
        first = events[0]
        # The gap before the oldest event: GET /messages pages backwards from here.
        prev_batch = TopoToken(first.event.depth, first.stream_ordering).encode()
    else:
        prev_batch = StreamToken(room_events=loaded.plan.upto).encode()
    return {
        "events": [render_event(e.event, ctx, e.redacted_by) for e in events],
        "limited": loaded.limited,
        "prev_batch": prev_batch,
    }


def joined_room(
    loaded: LoadedRoom,
    state_ids: list[str],
    events: Mapping[str, Event],
    account_data: list[JsonDict],
    ctx: RenderContext,
) -> JsonDict:
    summary: JsonDict = {}
    if loaded.summary is not None:
        summary = {
            "m.heroes": loaded.summary.heroes,
            "m.joined_member_count": loaded.summary.joined,
            "m.invited_member_count": loaded.summary.invited,
        }
    return {
        "account_data": {"events": account_data},
        "ephemeral": {"events": []},
        "state": {"events": _state_events(state_ids, events, loaded.plan.room_id, ctx)},
        "summary": summary,
        "timeline": _timeline(loaded, ctx),
        # Push rules and receipts land later: nothing is counted yet.
        "unread_notifications": {"highlight_count": 0, "notification_count": 0},
    }


def left_room(
    loaded: LoadedRoom,
    state_ids: list[str],
    events: Mapping[str, Event],
    account_data: list[JsonDict],
    ctx: RenderContext,
) -> JsonDict:
    return {
        "account_data": {"events": account_data},
        "state": {"events": _state_events(state_ids, events, loaded.plan.room_id, ctx)},
        "timeline": _timeline(loaded, ctx),
    }


def stripped_state(loaded: LoadedRoom, events: Mapping[str, Event]) -> list[JsonDict]:
    """The invite_state / knock_state events: the room's stripped state (or what the
    inviting server sent with a remote invite), then the invite or knock itself."""
    own = loaded.membership_event.event if loaded.membership_event is not None else None
    out: list[JsonDict] = []
    unsigned = own.pdu.get("unsigned") if own is not None else None
    carried = unsigned.get("invite_room_state") if isinstance(unsigned, dict) else None
    if isinstance(carried, list) and carried:
        # spec: "Stripped state" — what came over federation is pruned to the schema.
        out = [
            {k: item[k] for k in ("content", "sender", "state_key", "type") if k in item}
            for item in carried
            if isinstance(item, dict)
        ]
    else:
        for event_id in loaded.stripped_ids.values():
            event = events.get(event_id)
            if event is not None:
                out.append(stripped(event))
    if own is not None:
        out.append(stripped(own))
    return out
