"""The one ``Store`` the rest of the server talks to.

It is a small facade: each concern has its own narrow store class in its own module
(accounts, events, state, rooms, ...), all sharing one ``Database``. Handlers get the
``Store`` passed in; nothing reaches for a global.
"""

from __future__ import annotations

from .database import Database


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def close(self) -> None:
        await self.db.close()
