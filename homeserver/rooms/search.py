"""``POST /search``, category ``room_events``: full-text search over the rooms a user
has been in.

spec: client-server "Server Side Search". What is searched:

- rooms the user is joined to, and rooms they left (or were kicked or banned from) and
  did not forget, up to their leave (spec: "including those that they have left ... it
  won't include events in rooms that happened after you left"); not rooms they are
  only invited to, not world-readable rooms they never joined, not end-to-end
  encrypted rooms (``homeserver.storage.search_store``);
- of those, only the events history visibility lets them see (the same rule as
  ``/messages``: ``homeserver.rooms.access.visibility_checkers``);
- ``content.body`` / ``content.name`` / ``content.topic`` (``keys``), narrowed by the
  RoomEventFilter (``rooms``, ``not_rooms``, ``senders``, ``not_senders``, ``types``,
  ``not_types``, ``contains_url``, ``limit``: results per page, default 10, at most 100).

Every word of the search term must match the start of a word of the text (so "mart"
finds "martians"), case-insensitively. ``order_by`` ``rank`` orders by relevance
(FTS5 ``bm25`` on SQLite, ``ts_rank`` on PostgreSQL), ``recent`` newest first.
``next_batch`` continues after the last hit looked at, over the events that existed
when the first page was read. ``count`` counts the matches before the per-event
history visibility check (the spec allows an estimate). ``highlights`` are the search
words and the words of the results they matched. Context (``event_context``) is read
like ``/context``; ``profile_info`` is each sender's member event in the state at the
last context event (their profile then, not now). ``include_state`` gives each result
room's state as the user may read it (current, or as of their leave). Groups
(``room_id``, ``sender``) list the page's result ids per value, with a ``next_batch``
(scoped to that group) when the group has more hits after this page.

On SQLite, ``bm25`` scores depend on the whole index, so when events are indexed
between two pages of a ``rank`` search the pages may overlap or skip a result;
``recent`` pages, and PostgreSQL's, are exact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from homeserver.errors import MatrixError
from homeserver.storage import events_store, room_reads, search_store
from homeserver.storage.database import Txn
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.search_store import Cursor, SearchSpec
from homeserver.storage.state_store import StateGroupCache
from homeserver.storage.store import Store
from homeserver.sync.tokens import TopoToken

from .access import ReadScope, visibility_checkers
from .client_format import JsonDict
from .event_filter import EventFilter
from .events_view import EventRenderer, UnsignedExtras, Viewer, load_extras
from .messages import leave_cap, read_page
from .search_request import RANK, BatchToken, EventContext, RoomEventsCriteria
from .search_text import TYPE_OF_KEY, matched_words, search_terms, searchable_texts
from .state_reads import StateReader

Pos = tuple[int, int]
Check = Callable[[StoredEvent], bool]

# How many batches of hits one request looks through while checks hide hits.
MAX_ROUNDS = 5
# Context pages hide nothing by filter: the search filter narrows the results only.
_NO_FILTER = EventFilter()


@dataclass
class Found:
    """One page of results, read in one transaction."""

    results: list[tuple[StoredEvent, float]]
    cursor: Cursor | None  # the last hit looked at
    exhausted: bool  # no hits after ``cursor``
    count: int
    upto: int
    extras: UnsignedExtras
    checkers: dict[str, Check]
    # group key -> the values of this page's groups that have hits after ``cursor``
    more_in_groups: dict[str, set[str]]


def find(
    txn: Txn,
    spec: SearchSpec,
    cursor: Cursor | None,
    *,
    limit: int,
    flt: EventFilter,
    viewer: Viewer,
    group_by: Sequence[str],
    groups: StateGroupCache | None,
) -> Found:
    if spec.upto < 0:  # a first page: search what exists now, and page over that
        spec = dataclasses.replace(spec, upto=events_store.max_stream_ordering(txn))
    checkers: dict[str, Check] = {}
    results: list[tuple[StoredEvent, float]] = []
    fetch = max(2 * limit, 20)
    exhausted = False
    for _ in range(MAX_ROUNDS):
        hits = search_store.search_page(txn, spec, cursor, fetch)
        found = events_store.get_events(txn, [hit.event_id for hit in hits])
        rooms = {s.event.room_id for s in found.values()} - checkers.keys()
        checkers.update(visibility_checkers(txn, sorted(rooms), spec.user_id))
        looked = 0
        for hit in hits:
            looked += 1
            cursor = (hit.rank, hit.stream_ordering)
            stored = found.get(hit.event_id)
            if (
                stored is not None
                and flt.matches_event(stored.event)
                and checkers[stored.event.room_id](stored)
            ):
                results.append((stored, hit.rank))
                if len(results) >= limit:
                    break
        # The batch was short: nothing is left after its last hit.
        exhausted = len(hits) < fetch and looked == len(hits)
        if exhausted or len(results) >= limit:
            break
    more: dict[str, set[str]] = {}
    if not exhausted and cursor is not None:
        for key in group_by:
            values = [getattr(s.event, key) for s, _ in results]
            more[key] = search_store.groups_with_more(txn, spec, cursor, key, values)
    extras = load_extras(txn, [s for s, _ in results], viewer, True, groups)
    total = search_store.count(txn, spec)
    return Found(results, cursor, exhausted, total, spec.upto, extras, checkers, more)


@dataclass(frozen=True, slots=True)
class LoadedContext:
    before: list[StoredEvent]  # newest first, as /context returns them
    after: list[StoredEvent]
    start: Pos
    end: Pos
    profiles: dict[str, JsonDict] | None


def _leave_cap(txn: Txn, room_id: str, user_id: str) -> Pos | None:
    row = room_reads.local_membership(txn, user_id, room_id)
    if row is None or row[0] not in ("leave", "ban"):
        return None
    return leave_cap(txn, ReadScope(room_id, user_id, row[0], False, row[1]))


def _profiles(
    txn: Txn, group: int | None, senders: set[str], groups: StateGroupCache | None
) -> dict[str, JsonDict]:
    """spec: ``profile_info`` — each sender's display name and avatar in the state
    ``group`` (from their member event there)."""
    if group is None or not senders:
        return {}
    keys = [("m.room.member", sender) for sender in sorted(senders)]
    ids = room_reads.state_at_groups(txn, [group], keys, groups).get(group, {})
    found = events_store.get_events(txn, list(ids.values()))
    profiles: dict[str, JsonDict] = {}
    for (_, user_id), event_id in ids.items():
        stored = found.get(event_id)
        if stored is None:
            continue
        content = stored.event.content
        profiles[user_id] = {
            field: content[field]
            for field in ("displayname", "avatar_url")
            if isinstance(content.get(field), str)
        }
    return profiles


def load_contexts(
    txn: Txn,
    results: Sequence[StoredEvent],
    context: EventContext,
    viewer: Viewer,
    checkers: dict[str, Check],
    groups: StateGroupCache | None,
) -> tuple[list[LoadedContext], UnsignedExtras]:
    """The events around each result (as ``/context`` reads them) and their extras."""
    caps: dict[str, Pos | None] = {}
    loaded: list[LoadedContext] = []
    for stored in results:
        room_id = stored.event.room_id
        if room_id not in caps:
            caps[room_id] = _leave_cap(txn, room_id, viewer.user_id)
        pos = (stored.event.depth, stored.stream_ordering)
        check = checkers[room_id]
        before = read_page(
            txn,
            room_id,
            pos,
            backwards=True,
            limit=context.before_limit,
            to=None,
            flt=_NO_FILTER,
            check=check,
        )
        after = read_page(
            txn,
            room_id,
            (pos[0], pos[1] + 1),
            backwards=False,
            limit=context.after_limit,
            to=caps[room_id],
            flt=_NO_FILTER,
            check=check,
        )
        profiles = None
        if context.include_profile:
            last = after.events[-1] if after.events else stored
            senders = {s.event.sender for s in (*before.events, stored, *after.events)}
            profiles = _profiles(txn, last.state_group_after, senders, groups)
        loaded.append(
            LoadedContext(
                before=before.events,
                after=after.events,
                start=before.next_gap or pos,
                end=after.next_gap or (pos[0], pos[1] + 1),
                profiles=profiles,
            )
        )
    everything = [s for c in loaded for s in (*c.before, *c.after)]
    return loaded, load_extras(txn, everything, viewer, True, groups)


def _empty() -> JsonDict:
    return {"search_categories": {"room_events": {"count": 0, "highlights": [], "results": []}}}


class SearchHandler:
    def __init__(self, store: Store, renderer: EventRenderer, state: StateReader) -> None:
        self.store = store
        self.renderer = renderer
        self.state = state

    def _spec(
        self,
        viewer: Viewer,
        criteria: RoomEventsCriteria,
        terms: list[str],
        token: BatchToken | None,
    ) -> SearchSpec | None:
        """What SQL narrows the search to (None: nothing can match)."""
        flt = criteria.flt
        keys = tuple(k for k in criteria.keys if flt.allows_type(TYPE_OF_KEY[k]))
        if not keys:
            return None
        rooms, senders = flt.rooms, flt.senders
        if token is not None and token.group is not None:
            # spec: "using a token inside a group will return more results from within
            # that group".
            key, value = token.group
            if key == "room_id":
                rooms = (value,) if flt.allows_room(value) else ()
            else:
                senders = (value,) if flt.allows_sender(value) else ()
        return SearchSpec(
            user_id=viewer.user_id,
            terms=tuple(terms),
            keys=keys,
            by_rank=criteria.order_by == RANK,
            upto=token.upto if token is not None else -1,
            rooms=rooms,
            not_rooms=flt.not_rooms,
            senders=senders,
            not_senders=flt.not_senders,
        )

    async def search(
        self, viewer: Viewer, criteria: RoomEventsCriteria, next_batch: str | None
    ) -> JsonDict:
        token = BatchToken.parse(next_batch, criteria.order_by) if next_batch else None
        terms = search_terms(criteria.search_term)
        spec = self._spec(viewer, criteria, terms, token) if terms else None
        if spec is None:
            return _empty()
        cursor = (token.rank, token.stream) if token is not None else None
        groups = self.store.state.groups
        found = await self.store.db.read(
            find,
            spec,
            cursor,
            limit=criteria.limit,
            flt=criteria.flt,
            viewer=viewer,
            group_by=criteria.group_by,
            groups=groups,
        )
        events = [s for s, _ in found.results]
        rendered = self.renderer.render_loaded(events, found.extras)
        results: list[JsonDict] = [
            {"rank": rank, "result": event}
            for (_, rank), event in zip(found.results, rendered, strict=True)
        ]
        if criteria.event_context is not None and events:
            contexts, extras = await self.store.db.read(
                load_contexts, events, criteria.event_context, viewer, found.checkers, groups
            )
            for result, context in zip(results, contexts, strict=True):
                result["context"] = self._render_context(context, extras)
        texts = [
            text
            for s in events
            for text in searchable_texts(s.event.type, s.event.state_key, s.event.content)
        ]
        room_events: JsonDict = {
            "count": found.count,
            "highlights": list(dict.fromkeys([*terms, *matched_words(texts, terms)])),
            "results": results,
        }

        def token_after(group: tuple[str, str] | None = None) -> str:
            assert found.cursor is not None
            rank, stream = found.cursor
            return BatchToken(criteria.order_by, rank, stream, found.upto, group).encode()

        if not found.exhausted and found.cursor is not None:
            room_events["next_batch"] = token_after(token.group if token else None)
        if criteria.group_by:
            room_events["groups"] = self._groups(criteria.group_by, events, found, token_after)
        if criteria.include_state:
            room_events["state"] = await self._state(viewer, events)
        return {"search_categories": {"room_events": room_events}}

    def _render_context(self, context: LoadedContext, extras: UnsignedExtras) -> JsonDict:
        out: JsonDict = {
            "events_before": self.renderer.render_loaded(context.before, extras),
            "events_after": self.renderer.render_loaded(context.after, extras),
            "start": TopoToken(*context.start).encode(),
            "end": TopoToken(*context.end).encode(),
        }
        if context.profiles is not None:
            out["profile_info"] = context.profiles
        return out

    @staticmethod
    def _groups(
        group_by: Sequence[str],
        events: Sequence[StoredEvent],
        found: Found,
        token_after: Callable[[tuple[str, str]], str],
    ) -> JsonDict:
        """spec: "Groups" — for each key, each value's result ids in result order,
        ``order`` the rank of the group's first result in this page (1 first)."""
        out: JsonDict = {}
        for key in group_by:
            by_value: dict[str, JsonDict] = {}
            for stored in events:
                value = getattr(stored.event, key)
                group = by_value.get(value)
                if group is None:
                    group = by_value[value] = {"order": len(by_value) + 1, "results": []}
                    if value in found.more_in_groups.get(key, ()):
                        group["next_batch"] = token_after((key, value))
                group["results"].append(stored.event.event_id)
            out[key] = by_value
        return out

    async def _state(self, viewer: Viewer, events: Sequence[StoredEvent]) -> dict[str, Any]:
        """spec: ``include_state`` — each result room's state, as ``/state`` gives it."""
        state: dict[str, Any] = {}
        for room_id in dict.fromkeys(s.event.room_id for s in events):
            try:
                state[room_id] = await self.state.full_state(viewer, room_id)
            except MatrixError:  # the user lost access since the search read
                continue
        return state
