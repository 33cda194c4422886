"""Bundled aggregations: what ``unsigned.m.relations`` carries for a page of events.

spec: client-server "Aggregations of child events" and the server behaviour of each
relation type: ``m.replace`` bundles the most recent valid edit in full (and the
server leaves the original's content alone), ``m.thread`` the thread's latest event
(itself with its bundle), count and whether the viewer took part, ``m.reference``
the ids of the referencing events. ``m.annotation`` is not bundled ("Event
annotations and reactions": clients read reactions through ``/relations``).

``load_bundles`` runs inside a read transaction that is already open for the page:
nothing at all for a page from rooms without relations, else one statement for the
page's parents, one more for the latest thread events' own edits when threads are
present, and one to fetch the bundled events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from homeserver.protocol import relations as rel
from homeserver.storage import events_store, relations_store
from homeserver.storage.database import Txn
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.relations_store import ChildRow, RelationRooms


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    latest: StoredEvent
    count: int
    participated: bool


@dataclass(frozen=True, slots=True)
class Bundle:
    replace: StoredEvent | None = None
    thread: ThreadSummary | None = None
    references: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.replace is not None or self.thread is not None or bool(self.references)


NO_BUNDLES: Mapping[str, Bundle] = MappingProxyType({})


def _candidates(
    txn: Txn, events: Sequence[StoredEvent], rooms: RelationRooms | None
) -> dict[str, StoredEvent]:
    wanted = {
        s.event.event_id: s
        for s in events
        if s.rejected_reason is None
        and rel.may_have_children(s.event.type, s.event.is_state, rel.own_rel_type(s.event.content))
    }
    if not wanted or rooms is None:
        return wanted
    with_relations = rooms.among(txn, {s.event.room_id for s in wanted.values()})
    return {eid: s for eid, s in wanted.items() if s.event.room_id in with_relations}


def _latest_edit(parent: StoredEvent, edits: Sequence[ChildRow]) -> str | None:
    """spec: "Server-side aggregation of m.replace relationships" — none for a redacted
    original; else the most recent valid replacement (the index only holds valid
    ones, but a parent that arrived after its edits is checked again here)."""
    if parent.redacted_by is not None:
        return None
    best: ChildRow | None = None
    for edit in edits:
        if (
            edit.room_id != parent.event.room_id
            or edit.sender != parent.event.sender
            or edit.type != parent.event.type
        ):
            continue
        if best is None or rel.newer_replacement(
            edit.origin_server_ts, edit.event_id, best.origin_server_ts, best.event_id
        ):
            best = edit
    return best.event_id if best is not None else None


def _references(parent: StoredEvent, refs: Sequence[ChildRow]) -> tuple[str, ...]:
    return tuple(r.event_id for r in refs if r.room_id == parent.event.room_id)


def load_bundles(
    txn: Txn, events: Sequence[StoredEvent], user_id: str, rooms: RelationRooms | None = None
) -> Mapping[str, Bundle]:
    """The bundle of every event of ``events`` that has one, for the viewer ``user_id``
    (keyed by event id; the latest events of threads have their own entries).

    ``rooms`` (the store's ``RelationRooms``) lets pages from rooms that never had a
    relation skip the query; without it every page asks the database.
    """
    parents = _candidates(txn, events, rooms)
    if not parents:
        return NO_BUNDLES
    rows = relations_store.bundle_rows(txn, list(parents), user_id)
    edits: dict[str, str] = {}
    refs: dict[str, tuple[str, ...]] = {}
    threads: dict[str, relations_store.ThreadSummaryRow] = {}
    for parent_id, parent in parents.items():
        if (edit_id := _latest_edit(parent, rows.edits.get(parent_id, ()))) is not None:
            edits[parent_id] = edit_id
        if found := _references(parent, rows.references.get(parent_id, ())):
            refs[parent_id] = found
        summary = rows.threads.get(parent_id)
        if (
            summary is not None
            and summary.count > 0
            and summary.room_id == parent.event.room_id
            and rel.own_rel_type(parent.event.content) is None
        ):
            threads[parent_id] = summary
    # spec: "Threading" — the latest event is serialized as the event itself, with its
    # own bundled aggregations (its edits and references; it cannot be a thread root).
    latest_ids = [t.latest_event_id for t in threads.values()]
    inner = (
        relations_store.bundle_rows(txn, latest_ids, user_id, threads=False) if latest_ids else None
    )
    inner_edits: dict[str, list[ChildRow]] = inner.edits if inner is not None else {}
    inner_ids = [e.event_id for found in inner_edits.values() for e in found]
    wanted = [*edits.values(), *latest_ids, *inner_ids]
    fetched = events_store.get_events(txn, wanted) if wanted else {}
    out: dict[str, Bundle] = {}
    for parent_id, parent in parents.items():
        edit = fetched.get(edits[parent_id]) if parent_id in edits else None
        thread: ThreadSummary | None = None
        if (summary := threads.get(parent_id)) is not None:
            latest = fetched.get(summary.latest_event_id)
            if latest is not None:
                participated = parent.event.sender == user_id or summary.replied
                thread = ThreadSummary(latest, summary.count, participated)
        bundle = Bundle(edit, thread, refs.get(parent_id, ()))
        if bundle:
            out[parent_id] = bundle
    if inner is not None:
        for latest_id in latest_ids:
            latest = fetched.get(latest_id)
            if latest is None or latest_id in out:
                continue
            edit_id = _latest_edit(latest, inner.edits.get(latest_id, ()))
            bundle = Bundle(
                fetched.get(edit_id) if edit_id is not None else None,
                None,
                _references(latest, inner.references.get(latest_id, ())),
            )
            if bundle:
                out[latest_id] = bundle
    return out
