"""The user directory: an index kept up to date behind the event bus, and its search.

spec: client-server "User Directory" (``POST /user_directory/search``). The index
(``homeserver.storage.user_directory_store``) follows the room-events stream from a
stored position: at start it catches up on everything it missed (the whole history the
first time), then a bus subscriber wakes it after each membership, join-rule or
history-visibility event. A search first catches up if such an event is pending, so a
client sees its own joins and renames at once. Profile changes of local users update
the index in the same transaction as the profile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from homeserver.logs import fields
from homeserver.rooms.bus import EventBus, PersistedEvent
from homeserver.storage.store import Store
from homeserver.storage.user_directory_store import INDEXED_TYPES, DirectoryEntry

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# A search term's words beyond this many are ignored (each is a LIKE clause).
MAX_TERM_WORDS = 8
# After a failed catch-up (database unreachable), wait this long before retrying.
RETRY_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class SearchResult:
    results: list[DirectoryEntry]
    limited: bool

    def to_json(self) -> dict[str, object]:
        results = []
        for entry in self.results:
            item: dict[str, str] = {"user_id": entry.user_id}
            if entry.display_name is not None:
                item["display_name"] = entry.display_name
            if entry.avatar_url is not None:
                item["avatar_url"] = entry.avatar_url
            results.append(item)
        return {"results": results, "limited": self.limited}


class UserDirectory:
    def __init__(self, store: Store, bus: EventBus, server_name: str) -> None:
        self.store = store
        self.server_name = server_name
        self._pending = True  # nothing indexed by this process yet
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        bus.subscribe(self._on_event)

    def _on_event(self, item: PersistedEvent) -> None:
        if item.event.type in INDEXED_TYPES and item.event.state_key is not None:
            self._pending = True
            self._wake.set()

    async def catch_up(self) -> int:
        """Index every committed event up to now; returns the position reached."""
        async with self._lock:
            self._pending = False
            while True:
                try:
                    position, more = await self.store.user_directory.catch_up(self.server_name)
                except BaseException:
                    self._pending = True  # redo it on the next search or wake-up
                    raise
                if not more:
                    return position

    async def _run(self) -> None:
        while True:
            try:
                position = await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("user directory catch-up failed; retrying")
                await asyncio.sleep(RETRY_SECONDS)
                continue
            log.debug("user directory caught up", extra=fields(position=position))
            await self._wake.wait()
            self._wake.clear()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def search(self, requester: str, term: str, limit: int) -> SearchResult:
        if self._pending or self._lock.locked():
            # A catch-up under way may have started before the newest event committed.
            await self.catch_up()
        results, limited = await self.store.user_directory.search(
            requester, term, limit, MAX_TERM_WORDS
        )
        return SearchResult(results, limited)
