"""Device management. spec: client-server "Device management" (``/devices``,
``/delete_devices``). Deleting devices needs user-interactive auth."""

from __future__ import annotations

from typing import Any

from homeserver.errors import not_found
from homeserver.storage.accounts_store import AccountsStore, DeviceRecord

from .hooks import AccountHooks
from .requester import Requester
from .sessions import Sessions
from .user_auth import UserAuth


def device_json(device: DeviceRecord) -> dict[str, Any]:
    body: dict[str, Any] = {"device_id": device.device_id}
    if device.display_name is not None:
        body["display_name"] = device.display_name
    if device.last_seen_ts is not None:
        body["last_seen_ts"] = device.last_seen_ts
    if device.last_seen_ip is not None:
        body["last_seen_ip"] = device.last_seen_ip
    return body


class Devices:
    def __init__(
        self,
        store: AccountsStore,
        sessions: Sessions,
        user_auth: UserAuth,
        hooks: AccountHooks | None = None,
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._user_auth = user_auth
        self._hooks = hooks

    async def list_devices(self, requester: Requester) -> list[dict[str, Any]]:
        return [device_json(d) for d in await self._store.get_devices(requester.user_id)]

    async def get(self, requester: Requester, device_id: str) -> dict[str, Any]:
        device = await self._store.get_device(requester.user_id, device_id)
        if device is None:
            raise not_found("Unknown device")
        return device_json(device)

    async def rename(self, requester: Requester, device_id: str, display_name: str | None) -> None:
        if display_name is None:  # spec: "If not given, the display name is unchanged."
            if await self._store.get_device(requester.user_id, device_id) is None:
                raise not_found("Unknown device")
            return
        if not await self._store.set_device_display_name(
            requester.user_id, device_id, display_name
        ):
            raise not_found("Unknown device")
        if self._hooks is not None:
            await self._hooks.fire_device_renamed(requester.user_id, device_id)

    async def delete(self, requester: Requester, device_id: str, auth: object) -> None:
        if await self._store.get_device(requester.user_id, device_id) is None:
            raise not_found("Unknown device")
        await self._user_auth.confirm(requester, auth, f"DELETE /devices/{device_id}")
        await self._sessions.delete_devices(requester.user_id, [device_id])

    async def delete_many(self, requester: Requester, device_ids: list[str], auth: object) -> None:
        await self._user_auth.confirm(
            requester, auth, "POST /delete_devices " + ",".join(sorted(device_ids))
        )
        await self._sessions.delete_devices(requester.user_id, device_ids)
