"""The seam for /sync's other streams (typing, receipts, presence, to-device, device lists,
one-time-key counts, unread counts ...): each is a ``SyncExtension`` registered with the
``SyncHandler``, so a feature adds its part of the response without touching the
handler's room logic.

An extension owns at most one stream of the token (``stream``, a ``StreamToken`` field).
The notifier asks it for its position when it mints tokens and for ``has_news`` before
parking a long-poll; its producers call ``Notifier.on_stream`` after their writes commit
to wake the long-polls concerned. ``fill`` runs after the rooms are built and adds to the
result (``SyncResult.joined_room`` creates a joined room's entry when the room had no
other news).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .tokens import StreamToken

if TYPE_CHECKING:
    from .handler import SyncRequest, SyncResult


@dataclass(frozen=True, slots=True)
class SyncContext:
    """What an extension needs to know about the sync being answered."""

    user_id: str
    device_id: str
    joined: AbstractSet[str]  # rooms the user is joined to now
    since: StreamToken | None  # None for an initial sync
    token: StreamToken  # the positions this response covers (its next_batch)
    full_state: bool


class SyncExtension(Protocol):
    #: The ``StreamToken`` field this extension's positions live in, or None.
    stream: str | None

    def position(self) -> int:
        """The stream's current position (in memory: called for every token minted)."""
        ...

    def has_news(
        self, user_id: str, device_id: str, joined: AbstractSet[str], since: StreamToken
    ) -> bool:
        """Whether the user may have something after ``since`` (may err on yes; no I/O)."""
        ...

    async def fill(self, req: SyncRequest, ctx: SyncContext, result: SyncResult) -> None:
        """Add this extension's part for ``(ctx.since, ctx.token]`` to ``result``."""
        ...
