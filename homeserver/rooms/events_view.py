"""Stored events rendered for one client: ``unsigned`` filled per requester.

spec: client-server "ClientEvent" — ``unsigned.transaction_id`` only for the device
that sent the event, ``unsigned.redacted_because`` on redacted events,
``unsigned.prev_content`` / ``prev_sender`` / ``replaces_state`` on state events that
replaced an earlier one. Everything needed is fetched in one read transaction.
``/sync`` renders its timelines with the same two steps (``load_extras`` in its own
transaction, then ``render_client_event``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from homeserver.clock import Clock
from homeserver.protocol.events import Event
from homeserver.storage import events_store, room_reads
from homeserver.storage.database import Txn
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.relations_store import RelationRooms
from homeserver.storage.state_store import StateGroupCache
from homeserver.storage.store import Store

from .bundles import NO_BUNDLES, Bundle, load_bundles
from .client_format import JsonDict, client_event


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who the events are rendered for (device None: no transaction ids)."""

    user_id: str
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class UnsignedExtras:
    """What ``unsigned`` needs beyond the events themselves, read for one viewer."""

    txn_ids: Mapping[str, str]  # event id -> the viewer's device's transaction id
    redactions: Mapping[str, StoredEvent]  # redaction event id -> the redaction
    replaced: Mapping[str, StoredEvent]  # state event id -> the state event it replaced
    # event id -> its bundled aggregations
    relations: Mapping[str, Bundle] = field(default_factory=lambda: NO_BUNDLES)


def load_extras(
    txn: Txn,
    events: Sequence[StoredEvent],
    viewer: Viewer,
    with_prev: bool = True,
    groups: StateGroupCache | None = None,
    *,
    bundle: bool = True,
    relation_rooms: RelationRooms | None = None,
) -> UnsignedExtras:
    """What rendering ``events`` for ``viewer`` needs. ``bundle=False`` leaves out the
    bundled aggregations (``load_bundles`` may then be run for part of the events);
    ``relation_rooms`` spares the relations query for rooms without relations."""
    own = [s.event.event_id for s in events if s.event.sender == viewer.user_id]
    txn_ids = (
        room_reads.txn_ids_for(txn, viewer.user_id, viewer.device_id, own)
        if viewer.device_id is not None
        else {}
    )
    redaction_ids = [s.redacted_by for s in events if s.redacted_by is not None]
    redactions = events_store.get_events(txn, redaction_ids) if redaction_ids else {}
    replaced = _replaced_state(txn, events, groups) if with_prev else {}
    bundles = load_bundles(txn, events, viewer.user_id, relation_rooms) if bundle else NO_BUNDLES
    return UnsignedExtras(txn_ids, redactions, replaced, bundles)


def _replaced_state(
    txn: Txn, events: Sequence[StoredEvent], groups: StateGroupCache | None
) -> dict[str, StoredEvent]:
    """spec: ClientEvent ``unsigned.prev_content`` — for each state event, the event it
    replaced: the state before it, for its key."""
    state = [s for s in events if s.event.is_state and s.state_group_before is not None]
    if not state:
        return {}
    keys = list({s.event.state_tuple for s in state})
    before = {s.state_group_before for s in state if s.state_group_before is not None}
    at = room_reads.state_at_groups(txn, before, keys, groups)
    prev_ids: dict[str, str] = {}
    for s in state:
        assert s.state_group_before is not None
        prev_id = at.get(s.state_group_before, {}).get(s.event.state_tuple)
        if prev_id is not None and prev_id != s.event.event_id:
            prev_ids[s.event.event_id] = prev_id
    found = events_store.get_events(txn, list(prev_ids.values()))
    return {eid: found[pid] for eid, pid in prev_ids.items() if pid in found}


def render_client_event(
    event: Event,
    extras: UnsignedExtras,
    *,
    now_ms: int,
    redacted_by: str | None = None,
    include_room_id: bool = True,
) -> JsonDict:
    """``event`` as a ClientEvent with its ``unsigned`` filled from ``extras``."""
    redaction = extras.redactions.get(redacted_by) if redacted_by is not None else None
    prev = extras.replaced.get(event.event_id)
    out = client_event(
        event,
        now_ms=now_ms,
        transaction_id=extras.txn_ids.get(event.event_id),
        redacted_because=client_event(redaction.event, now_ms=now_ms)
        if redaction is not None
        else None,
        prev_content=prev.event.content if prev is not None else None,
        prev_sender=prev.event.sender if prev is not None else None,
        replaces_state=prev.event.event_id if prev is not None else None,
        include_room_id=include_room_id,
    )
    bundle = extras.relations.get(event.event_id)
    if bundle:
        out["unsigned"]["m.relations"] = _relations_json(
            bundle, extras, now_ms=now_ms, include_room_id=include_room_id
        )
    return out


def _relations_json(
    bundle: Bundle, extras: UnsignedExtras, *, now_ms: int, include_room_id: bool
) -> dict[str, Any]:
    """spec: "Aggregations of child events" — ``m.relations`` keyed by ``rel_type``."""
    out: dict[str, Any] = {}
    if bundle.replace is not None:
        # spec: "Server-side aggregation of m.replace relationships" — the edit in full,
        # "formatted as normal"; the original's content stays as it is.
        out["m.replace"] = client_event(
            bundle.replace.event, now_ms=now_ms, include_room_id=include_room_id
        )
    if bundle.thread is not None:
        latest = bundle.thread.latest
        out["m.thread"] = {
            # The latest event's own bundle is in ``extras`` (it cannot start a thread,
            # so this recursion stops there).
            "latest_event": render_client_event(
                latest.event,
                extras,
                now_ms=now_ms,
                redacted_by=latest.redacted_by,
                include_room_id=include_room_id,
            ),
            "count": bundle.thread.count,
            "current_user_participated": bundle.thread.participated,
        }
    if bundle.references:
        out["m.reference"] = {"chunk": [{"event_id": ref} for ref in bundle.references]}
    return out


class EventRenderer:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def render(
        self,
        events: Sequence[StoredEvent],
        viewer: Viewer,
        *,
        prev_content: bool = True,
        include_room_id: bool = True,
    ) -> list[JsonDict]:
        if not events:
            return []
        extras = await self.store.db.read(
            load_extras,
            events,
            viewer,
            prev_content,
            self.store.state.groups,
            relation_rooms=self.store.relations.rooms,
        )
        return self.render_loaded(events, extras, include_room_id=include_room_id)

    def render_loaded(
        self,
        events: Sequence[StoredEvent],
        extras: UnsignedExtras,
        *,
        include_room_id: bool = True,
    ) -> list[JsonDict]:
        """``render`` with the extras already read (``load_extras`` in the caller's read)."""
        now = self.clock.time_ms()
        return [
            render_client_event(
                stored.event,
                extras,
                now_ms=now,
                redacted_by=stored.redacted_by,
                include_room_id=include_room_id,
            )
            for stored in events
        ]

    async def render_one(self, stored: StoredEvent, viewer: Viewer) -> JsonDict:
        return (await self.render([stored], viewer))[0]
