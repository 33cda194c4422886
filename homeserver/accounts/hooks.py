"""Listeners other parts of the server register to follow account changes.

Device lists change when a device comes or goes (and E2E keys go with it); rooms must be
left when an account is deactivated.
The accounts handlers call these after their own change has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from homeserver.logs import fields

log = logging.getLogger(__name__)

DevicesAdded = Callable[[str, list[str]], Awaitable[None]]
DevicesRemoved = Callable[[str, list[str]], Awaitable[None]]
UserDeactivated = Callable[[str], Awaitable[None]]
DeviceRenamed = Callable[[str, str], Awaitable[None]]


class AccountHooks:
    def __init__(self) -> None:
        self.devices_added: list[DevicesAdded] = []
        self.devices_removed: list[DevicesRemoved] = []
        self.user_deactivated: list[UserDeactivated] = []
        # Other servers are told of a device's new display name (federation).
        self.device_renamed: list[DeviceRenamed] = []

    async def fire_devices_added(self, user_id: str, device_ids: list[str]) -> None:
        for listener in self.devices_added:
            try:
                await listener(user_id, device_ids)
            except Exception:
                log.exception("devices_added listener failed", extra=fields(user_id=user_id))

    async def fire_devices_removed(self, user_id: str, device_ids: list[str]) -> None:
        if not device_ids:
            return
        for listener in self.devices_removed:
            try:
                await listener(user_id, device_ids)
            except Exception:
                # One failing listener must not undo an account change already committed.
                log.exception("devices_removed listener failed", extra=fields(user_id=user_id))

    async def fire_user_deactivated(self, user_id: str) -> None:
        for listener in self.user_deactivated:
            try:
                await listener(user_id)
            except Exception:
                log.exception("user_deactivated listener failed", extra=fields(user_id=user_id))

    async def fire_device_renamed(self, user_id: str, device_id: str) -> None:
        for listener in self.device_renamed:
            try:
                await listener(user_id, device_id)
            except Exception:
                log.exception("device_renamed listener failed", extra=fields(user_id=user_id))
