"""The one ``Store`` the rest of the server talks to.

It is a small facade: each concern has its own narrow store class in its own module
(accounts, events, state, rooms, ...), all sharing one ``Database``. Handlers get the
``Store`` passed in; nothing reaches for a global.
"""

from __future__ import annotations

from .account_data_store import AccountDataStore
from .accounts_store import AccountsStore
from .appservice_store import AppServiceStore
from .database import Database
from .device_list_outbound_store import DeviceListOutboundStore
from .e2e_store import E2eKeysStore
from .events_store import EventsStore
from .federation_sender_store import FederationSenderStore
from .filters_store import FiltersStore
from .key_backup_store import KeyBackupStore
from .media_store import MediaStore
from .openid_store import OpenIdStore
from .presence_store import PresenceStore
from .profiles_store import ProfilesStore
from .push_store import PushStore
from .receipts_store import ReceiptsStore
from .relations_store import RelationsStore
from .remote_devices_store import RemoteDevicesStore
from .remote_media_store import RemoteMediaStore
from .reports_store import ReportsStore
from .rooms_store import RoomsStore
from .search_store import SearchStore
from .server_keys_store import ServerKeysStore
from .state_store import StateStore
from .to_device_store import ToDeviceStore
from .user_directory_store import UserDirectoryStore


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.accounts = AccountsStore(db)
        self.events = EventsStore(db)
        self.state = StateStore(db)
        self.rooms = RoomsStore(db)
        self.account_data = AccountDataStore(db)
        self.filters = FiltersStore(db)
        self.receipts = ReceiptsStore(db)
        self.presence = PresenceStore(db)
        self.search = SearchStore(db)
        self.profiles = ProfilesStore(db)
        self.user_directory = UserDirectoryStore(db)
        self.openid = OpenIdStore(db)
        self.reports = ReportsStore(db)
        self.relations = RelationsStore(db)
        self.media = MediaStore(db)
        self.remote_media = RemoteMediaStore(db)
        self.e2e_keys = E2eKeysStore(db)
        self.to_device = ToDeviceStore(db)
        self.key_backup = KeyBackupStore(db)
        self.push = PushStore(db)
        self.remote_devices = RemoteDevicesStore(db)
        self.device_list_outbound = DeviceListOutboundStore(db)
        self.federation_sender = FederationSenderStore(db)
        self.server_keys = ServerKeysStore(db)
        self.appservice = AppServiceStore(db)

    async def close(self) -> None:
        await self.db.close()
