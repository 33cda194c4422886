"""The pipeline's announcement of persisted events.

Sync, federation sending, application services and push all subscribe here; the
pipeline calls none of them by name (DESIGN.md "The write path", step 6).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from homeserver.logs import fields
from homeserver.protocol.events import Event

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MembershipChange:
    """A local user's membership in the event's room, as of the event's position."""

    user_id: str
    membership: str
    event_id: str  # the membership event (not always the persisted event itself)


@dataclass(frozen=True, slots=True)
class PersistedEvent:
    event: Event
    stream_ordering: int
    # The local user whose membership this event changed (for sync's room lists).
    membership_change_for: str | None = None
    # Whether the federation sender should send it to the other servers in the room.
    federate: bool = True
    # A timeline event at the live end of the room (not an outlier or a backfilled one).
    live: bool = True
    # Local users' memberships changed by resolving the room's state with this event
    # (a remote event can change someone else's membership: a fork won).
    other_membership_changes: tuple[MembershipChange, ...] = ()


Subscriber = Callable[[PersistedEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def publish(self, item: PersistedEvent) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(item)
            except Exception:  # one broken consumer must not stop the others
                log.exception("event subscriber failed", extra=fields(event_id=item.event.event_id))
