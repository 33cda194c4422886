"""The auth DAG of a room as state resolution walks it: auth chains, the auth
difference and the conflicted state subgraph.

Every walk goes through :class:`EventLookup`, which memoises the caller's
``fetch_event`` for the duration of one resolution and turns a missing event into a
``StateResolutionError``. Walks are breadth-first over sets of event ids with a shared
``seen`` set, so each event of the DAG is visited at most once per walk.

spec: rooms/fragments/v2-state-res "Auth chain", "Auth difference"; rooms/v12
"Conflicted state subgraph".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence

from .errors import StateResolutionError
from .events import Event

FetchEvent = Callable[[str], "Event | None"]


class EventLookup:
    """``fetch_event`` with a per-resolution memo; a missing event is an error."""

    __slots__ = ("_auth", "_cache", "_fetch")

    def __init__(self, fetch_event: FetchEvent) -> None:
        self._fetch = fetch_event
        self._cache: dict[str, Event] = {}
        self._auth: dict[str, tuple[str, ...]] = {}

    def get(self, event_id: str) -> Event:
        found = self._cache.get(event_id)
        if found is not None:
            return found
        fetched = self._fetch(event_id)
        if fetched is None:
            raise StateResolutionError(f"state resolution needs event {event_id}, not found")
        if not isinstance(fetched, Event):
            raise StateResolutionError(f"fetch_event({event_id!r}) did not return an Event")
        if fetched.event_id != event_id:
            raise StateResolutionError(
                f"fetch_event({event_id!r}) returned event {fetched.event_id}"
            )
        self._cache[event_id] = fetched
        self._auth[event_id] = fetched.auth_event_ids
        return fetched

    def parents_of(self, event_ids: set[str]) -> set[str]:
        """The union of the auth events of ``event_ids``."""
        auth = self._auth
        for event_id in event_ids.difference(auth):
            self.get(event_id)
        parents: set[str] = set()
        parents.update(*map(auth.__getitem__, event_ids))
        return parents

    def auth_ids(self, event_id: str) -> tuple[str, ...]:
        found = self._auth.get(event_id)
        if found is None:
            found = self.get(event_id).auth_event_ids
        return found


def ancestors(
    lookup: EventLookup,
    start: Iterable[str],
    *,
    stop: Collection[str] = (),
    include_start: bool = False,
) -> set[str]:
    """The union of the auth chains of ``start`` (plus ``start`` itself if asked).

    Events in ``stop`` are neither returned nor walked through; callers pass a set that
    is closed under taking auth events (an auth chain), so nothing reachable is lost.
    Breadth-first, one frontier set per level, so the set work happens in C.
    """
    frontier: set[str] = set(start)
    if not include_start:
        frontier = lookup.parents_of(frontier)
    frontier.difference_update(stop)
    seen: set[str] = set()
    while frontier:
        seen |= frontier
        parents = lookup.parents_of(frontier)
        parents -= seen
        parents.difference_update(stop)
        frontier = parents
    return seen


def auth_difference(
    lookup: EventLookup,
    common: Iterable[str],
    per_set: Sequence[Iterable[str]],
) -> set[str]:
    """∪Cᵢ − ∩Cᵢ where Cᵢ is the full auth chain of state set i.

    ``common`` are the event ids present in every state set (the unconflicted ones) and
    ``per_set[i]`` the other event ids of set i. With U the auth chain of ``common`` and
    Dᵢ that of ``per_set[i]``, Cᵢ = U ∪ Dᵢ, so ∪Cᵢ − ∩Cᵢ = ∪(Dᵢ − U) − ∩(Dᵢ − U): we
    walk U once and every Dᵢ only down to where it meets U, instead of building the
    (large, mostly shared) chain of each state set.
    """
    if len(per_set) < 2:
        return set()
    shared = ancestors(lookup, common)
    chains = [ancestors(lookup, ids, stop=shared) for ids in per_set]
    union: set[str] = set().union(*chains)
    intersection = set(chains[0]).intersection(*chains[1:])
    return union - intersection


def conflicted_subgraph(lookup: EventLookup, conflicted: Collection[str]) -> set[str]:
    """Events on an auth-events path of length ≥ 1 from one conflicted event to
    another, endpoints included (spec: rooms/v12 "Conflicted state subgraph").

    With A the strict auth ancestors of the conflicted set C, an event x is on such a
    path iff x ∈ A ∪ C and x has a strict ancestor in C (x is then the upper part of a
    path), or x ∈ C ∩ A (x is the lower endpoint of a path).
    """
    conflicted_set = set(conflicted)
    strict = ancestors(lookup, conflicted_set)
    region = strict | conflicted_set
    # Children edges inside the region, to walk from C towards newer events.
    children: dict[str, list[str]] = {}
    for event_id in region:
        for parent in lookup.auth_ids(event_id):
            if parent in region:
                children.setdefault(parent, []).append(event_id)
    below_conflicted: set[str] = set()
    frontier = [c for e in conflicted_set for c in children.get(e, ())]
    while frontier:
        next_frontier: list[str] = []
        for event_id in frontier:
            if event_id not in below_conflicted:
                below_conflicted.add(event_id)
                next_frontier.extend(children.get(event_id, ()))
        frontier = next_frontier
    return below_conflicted | (conflicted_set & strict)
