"""Stored events rendered for one client: ``unsigned`` filled per requester.

spec: client-server "ClientEvent" — ``unsigned.transaction_id`` only for the device
that sent the event, ``unsigned.redacted_because`` on redacted events,
``unsigned.prev_content`` / ``prev_sender`` / ``replaces_state`` on state events that
replaced an earlier one. Everything needed is fetched in one read transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from homeserver.clock import Clock
from homeserver.storage import events_store, room_reads
from homeserver.storage.database import Txn
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.store import Store

from .client_format import JsonDict, client_event


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who the events are rendered for (device None: no transaction ids)."""

    user_id: str
    device_id: str | None = None


@dataclass
class _Extras:
    txn_ids: dict[str, str]
    redactions: dict[str, StoredEvent]
    replaced: dict[str, StoredEvent]  # state event id -> the state event it replaced


def _load_extras(
    txn: Txn, events: Sequence[StoredEvent], viewer: Viewer, with_prev: bool
) -> _Extras:
    own = [s.event.event_id for s in events if s.event.sender == viewer.user_id]
    txn_ids = (
        room_reads.txn_ids_for(txn, viewer.user_id, viewer.device_id, own)
        if viewer.device_id is not None
        else {}
    )
    redaction_ids = [s.redacted_by for s in events if s.redacted_by is not None]
    redactions = events_store.get_events(txn, redaction_ids) if redaction_ids else {}
    replaced: dict[str, StoredEvent] = {}
    if with_prev:
        state = [s for s in events if s.event.is_state and s.state_group_before is not None]
        if state:
            keys = list({s.event.state_tuple for s in state})
            groups = {s.state_group_before for s in state if s.state_group_before is not None}
            at = room_reads.state_at_groups(txn, groups, keys)
            prev_ids: dict[str, str] = {}
            for s in state:
                assert s.state_group_before is not None
                prev_id = at.get(s.state_group_before, {}).get(s.event.state_tuple)
                if prev_id is not None and prev_id != s.event.event_id:
                    prev_ids[s.event.event_id] = prev_id
            found = events_store.get_events(txn, list(prev_ids.values()))
            replaced = {eid: found[pid] for eid, pid in prev_ids.items() if pid in found}
    return _Extras(txn_ids, redactions, replaced)


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
        extras = await self.store.db.read(_load_extras, events, viewer, prev_content)
        now = self.clock.time_ms()
        out: list[JsonDict] = []
        for stored in events:
            event = stored.event
            because: JsonDict | None = None
            redaction = extras.redactions.get(stored.redacted_by or "")
            if redaction is not None:
                because = client_event(redaction.event, now_ms=now)
            prev = extras.replaced.get(event.event_id)
            kwargs: dict[str, Any] = {}
            if prev is not None:
                kwargs = {
                    "prev_content": prev.event.content,
                    "prev_sender": prev.event.sender,
                    "replaces_state": prev.event.event_id,
                }
            out.append(
                client_event(
                    event,
                    now_ms=now,
                    transaction_id=extras.txn_ids.get(event.event_id),
                    redacted_because=because,
                    include_room_id=include_room_id,
                    **kwargs,
                )
            )
        return out

    async def render_one(self, stored: StoredEvent, viewer: Viewer) -> JsonDict:
        return (await self.render([stored], viewer))[0]
