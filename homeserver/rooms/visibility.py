"""Who may see which event of a room: history visibility as a pure function.

spec: client-server "Room History Visibility", "Server behaviour". The decision for
one event depends on the state of the room *at that event*: the
``m.room.history_visibility`` in force and the user's ``membership``, plus whether the
user joined at any later point. Both are read from histories — the ordered changes
of one state key — so the rule is a pure function of
(the user's membership history, the room's visibility history, the event).

Positions are (depth, stream_ordering), the room's topological order. For a room
whose DAG is a line (every room with only local senders) the value in force before
an event is exactly the last change before it; for forked DAGs this is the usual
approximation of taking the topologically latest change.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

Pos = tuple[int, int]

WORLD_READABLE = "world_readable"
SHARED = "shared"
INVITED = "invited"
JOINED = "joined"
KNOWN_VISIBILITIES = frozenset({WORLD_READABLE, SHARED, INVITED, JOINED})


def effective_visibility(value: object) -> str:
    """spec: a missing or not understood ``history_visibility`` means ``shared``."""
    return value if isinstance(value, str) and value in KNOWN_VISIBILITIES else SHARED


class History:
    """The successive values of one state key, each with the position of its event."""

    __slots__ = ("_positions", "_values")

    def __init__(self, changes: Iterable[tuple[Pos, str | None]] = ()) -> None:
        ordered = sorted(changes, key=lambda item: item[0])
        self._positions = [pos for pos, _ in ordered]
        self._values = [value for _, value in ordered]

    def before(self, pos: Pos) -> str | None:
        """The value in force just before the event at ``pos`` (None: never set)."""
        index = bisect.bisect_left(self._positions, pos)
        return self._values[index - 1] if index else None

    def after(self, pos: Pos) -> str | None:
        """The value in force just after the event at ``pos``."""
        index = bisect.bisect_right(self._positions, pos)
        return self._values[index - 1] if index else None

    def any_later(self, pos: Pos, value: str) -> bool:
        """Whether the key took ``value`` at some position strictly after ``pos``."""
        index = bisect.bisect_right(self._positions, pos)
        return value in self._values[index:]

    @property
    def latest(self) -> str | None:
        return self._values[-1] if self._values else None


def visibility_allows(visibility: str | None, membership: str | None, joined_later: bool) -> bool:
    """The five rules of spec "Room History Visibility", "Server behaviour"."""
    vis = effective_visibility(visibility)
    if vis == WORLD_READABLE:
        return True
    if membership == "join":
        return True
    if vis == SHARED and joined_later:
        return True
    return vis == INVITED and membership == "invite"


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What the rule needs to know about one event."""

    pos: Pos
    # The event is an m.room.history_visibility state event.
    is_visibility_change: bool = False
    # The event is the requesting user's own m.room.member event.
    is_own_membership: bool = False


def event_visible(event: EventFacts, memberships: History, visibilities: History) -> bool:
    """May the user whose membership history is ``memberships`` see ``event``?

    For history visibility changes and for the user's own membership events, the
    state before *or* after the event may allow it (spec, same section).
    """
    joined_later = memberships.any_later(event.pos, "join")
    if visibility_allows(
        visibilities.before(event.pos), memberships.before(event.pos), joined_later
    ):
        return True
    if event.is_visibility_change or event.is_own_membership:
        return visibility_allows(
            visibilities.after(event.pos), memberships.after(event.pos), joined_later
        )
    return False


def server_may_see(visibility: str | None, memberships: Iterable[str]) -> bool:
    """May a server see an event, given the room's history visibility before the event
    and the memberships of the server's users once the event applies?

    The client-server rules ("Room History Visibility") read for a server as a whole,
    as Synapse applies them to federation reads: ``world_readable`` and ``shared``
    history is open to any server in the room; ``invited`` history to a server with a
    user invited or joined at the event; ``joined`` history to a server with a user
    joined at the event. Events a server may not see are served redacted.
    """
    vis = effective_visibility(visibility)
    if vis in (WORLD_READABLE, SHARED):
        return True
    held = set(memberships)
    return "join" in held or (vis == INVITED and "invite" in held)
