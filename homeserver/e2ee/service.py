"""Wires the e2ee handlers and streams from the store, the notifier and the accounts."""

from __future__ import annotations

from dataclasses import dataclass

from homeserver.accounts.hooks import AccountHooks
from homeserver.accounts.user_auth import UserAuth
from homeserver.clock import Clock
from homeserver.storage.store import Store
from homeserver.sync.notifier import Notifier

from .backup import KeyBackup
from .device_lists import DeviceListStream, KeyCountsCache
from .keys import E2eKeys
from .to_device import ToDeviceStream


@dataclass(frozen=True, slots=True)
class E2ee:
    keys: E2eKeys
    backup: KeyBackup
    to_device: ToDeviceStream  # a sync extension (the to_device stream)
    device_lists: DeviceListStream  # a sync extension (device_lists and key counts)

    async def start(self, room_position: int) -> None:
        await self.to_device.start()
        await self.device_lists.start(room_position)


def build_e2ee(
    store: Store,
    notifier: Notifier,
    clock: Clock,
    server_name: str,
    user_auth: UserAuth,
    hooks: AccountHooks,
) -> E2ee:
    counts = KeyCountsCache(store)
    device_lists = DeviceListStream(store, notifier, counts)
    to_device = ToDeviceStream(store, notifier, clock, server_name)
    keys = E2eKeys(store, server_name, device_lists, to_device, counts, user_auth)
    hooks.devices_added.append(keys.on_devices_added)
    hooks.devices_removed.append(keys.on_devices_removed)
    hooks.user_deactivated.append(keys.on_user_deactivated)
    return E2ee(keys, KeyBackup(store), to_device, device_lists)
