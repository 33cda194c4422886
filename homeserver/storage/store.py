"""The one ``Store`` the rest of the server talks to.

It is a small facade: each concern has its own narrow store class in its own module
(accounts, events, state, rooms, ...), all sharing one ``Database``. Handlers get the
``Store`` passed in; nothing reaches for a global.
"""

from __future__ import annotations

from .account_data_store import AccountDataStore
from .accounts_store import AccountsStore
from .database import Database
from .events_store import EventsStore
from .filters_store import FiltersStore
from .push_store import PushStore
from .rooms_store import RoomsStore
from .state_store import StateStore


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.accounts = AccountsStore(db)
        self.events = EventsStore(db)
        self.state = StateStore(db)
        self.rooms = RoomsStore(db)
        self.account_data = AccountDataStore(db)
        self.filters = FiltersStore(db)
        self.push = PushStore(db)

    async def close(self) -> None:
        await self.db.close()
