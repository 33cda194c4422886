"""Remote users' device lists: the cache, the EDUs that keep it current, resyncs.

spec: server-server "Device Management" and "End-to-End Encryption"
(``m.device_list_update``, ``m.signing_key_update``, ``GET /user/devices/{userId}``);
client-server "Tracking the device list for a user".

An update from a user's own server, for a user sharing a room with one of ours, is
applied when it follows the last one we applied (``prev_id``); otherwise the list is
fetched again with ``/user/devices`` in the background. Either way local users sharing
a room with them see them in ``device_lists.changed`` and refetch their keys. A remote
user who no longer shares a room with any local user is no longer cached: their server
stops telling us about them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from homeserver.clock import Clock
from homeserver.logs import fields
from homeserver.profiles.handler import KeyedLock
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_user_id, server_name_of
from homeserver.remote import RemoteCaller, RemoteError, fed_path
from homeserver.rooms.bus import PersistedEvent
from homeserver.storage.remote_devices_store import (
    CachedUser,
    DeviceUpdate,
    Outcome,
    RemoteDevice,
)
from homeserver.storage.store import Store

from .device_lists import Change, DeviceListStream

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]

DEVICE_LIST_UPDATE = "m.device_list_update"
SIGNING_KEY_UPDATE = "m.signing_key_update"
RESYNC_TIMEOUT_S = 30.0


def _user_of(origin: str, value: object) -> str | None:
    """``value`` if it is a user id of ``origin`` (a server speaks only for its users)."""
    if not isinstance(value, str):
        return None
    try:
        parse_user_id(value)
    except InvalidIdentifier:
        return None
    return value if server_name_of(value) == origin else None


def _device_keys(value: object, user_id: str, device_id: str) -> JsonDict | None:
    """Device keys as the spec shapes them (``DeviceKeys`` of this user and device)."""
    if (
        isinstance(value, dict)
        and value.get("user_id") == user_id
        and value.get("device_id") == device_id
        and isinstance(value.get("keys"), dict)
    ):
        return {k: v for k, v in value.items() if k != "unsigned"}
    return None


def _cross_signing_key(value: object, user_id: str, usage: str) -> JsonDict | None:
    if (
        isinstance(value, dict)
        and value.get("user_id") == user_id
        and isinstance(value.get("usage"), list)
        and usage in value["usage"]
        and isinstance(value.get("keys"), dict)
        and len(value["keys"]) == 1
    ):
        return value
    return None


def parse_device_list_update(origin: str, content: Mapping[str, Any]) -> DeviceUpdate | None:
    """The EDU's content, or None when it is malformed or not the origin's to send."""
    user_id = _user_of(origin, content.get("user_id"))
    device_id = content.get("device_id")
    stream_id = content.get("stream_id")
    prev_ids = content.get("prev_id", [])
    deleted = content.get("deleted", False)
    name = content.get("device_display_name")
    if (
        user_id is None
        or not isinstance(device_id, str)
        or not isinstance(stream_id, int)
        or isinstance(stream_id, bool)
        or not isinstance(prev_ids, list)
        or not all(isinstance(p, int) and not isinstance(p, bool) for p in prev_ids)
        or not isinstance(deleted, bool)
        or (name is not None and not isinstance(name, str))
    ):
        return None
    keys = None if deleted else _device_keys(content.get("keys"), user_id, device_id)
    return DeviceUpdate(user_id, device_id, stream_id, tuple(prev_ids), deleted, keys, name)


def parse_user_devices(user_id: str, body: object) -> tuple[int, list[RemoteDevice], JsonDict]:
    """A ``/user/devices`` answer: ``(stream_id, devices, cross-signing keys)``;
    ``ValueError`` when it is not one for ``user_id``."""
    if not isinstance(body, dict) or body.get("user_id") != user_id:
        raise ValueError("not an answer about this user")
    stream_id = body.get("stream_id")
    devices = body.get("devices")
    if not isinstance(stream_id, int) or isinstance(stream_id, bool):
        raise ValueError("`stream_id` must be an integer")
    if not isinstance(devices, list):
        raise ValueError("`devices` must be a list")
    found: list[RemoteDevice] = []
    for item in devices:
        if not isinstance(item, dict) or not isinstance(item.get("device_id"), str):
            continue
        device_id = item["device_id"]
        name = item.get("device_display_name")
        found.append(
            RemoteDevice(
                device_id,
                _device_keys(item.get("keys"), user_id, device_id),
                name if isinstance(name, str) else None,
            )
        )
    cross: JsonDict = {}
    for usage in ("master", "self_signing"):
        key = _cross_signing_key(body.get(f"{usage}_key"), user_id, usage)
        if key is not None:
            cross[usage] = key
    return stream_id, found, cross


class RemoteDeviceLists:
    def __init__(
        self,
        store: Store,
        device_lists: DeviceListStream,
        clock: Clock,
        server_name: str,
        remote: RemoteCaller,
    ) -> None:
        self.store = store
        self.device_lists = device_lists
        self.clock = clock
        self.server_name = server_name
        self.remote = remote
        self._locks = KeyedLock()
        self._resyncs: dict[str, asyncio.Task[CachedUser | None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._resyncs.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def shares_room_with_local_user(self, user_id: str) -> bool:
        viewers = await self.store.e2e_keys.viewers_of(user_id)
        return any(server_name_of(v) == self.server_name for v in viewers if v != user_id)

    async def _record(self, user_id: str) -> None:
        """Local clients refetch the user's keys (their cache, if any, is not changed)."""
        await self.device_lists.publish(
            lambda: self.store.remote_devices.record_change(user_id),
            lambda position: [Change(position, (user_id,))],
        )

    # ------------------------------------------------------------------ inbound EDUs

    async def on_device_list_update(self, origin: str, content: Mapping[str, Any]) -> None:
        update = parse_device_list_update(origin, content)
        if update is None:
            log.info("m.device_list_update dropped", extra=fields(origin=origin))
            return
        user_id = update.user_id
        if not await self.shares_room_with_local_user(user_id):
            return  # not our business (Synapse ignores these too)
        async with self._locks.hold(user_id):
            outcome, _ = await self.device_lists.publish(
                lambda: self.store.remote_devices.apply_update(update, (), self.clock.time_ms()),
                lambda result: [] if result[1] is None else [Change(result[1], (user_id,))],
            )
        if outcome in (Outcome.GAP, Outcome.UNTRACKED):
            await self._record(user_id)
            self.schedule_resync(user_id)

    async def on_signing_key_update(self, origin: str, content: Mapping[str, Any]) -> None:
        user_id = _user_of(origin, content.get("user_id"))
        if user_id is None:
            log.info("m.signing_key_update dropped", extra=fields(origin=origin))
            return
        keys: JsonDict = {}
        for usage in ("master", "self_signing"):
            key = _cross_signing_key(content.get(f"{usage}_key"), user_id, usage)
            if key is not None:
                keys[usage] = key
        if not keys or not await self.shares_room_with_local_user(user_id):
            return
        async with self._locks.hold(user_id):
            tracked = await self.store.remote_devices.tracked([user_id])
            if user_id in tracked:
                await self.device_lists.publish(
                    lambda: self.store.remote_devices.put_cross_signing(user_id, keys),
                    lambda position: [Change(position, (user_id,))],
                )
                return
        await self._record(user_id)

    # ------------------------------------------------------------------ resync

    def schedule_resync(self, user_id: str) -> None:
        if user_id not in self._resyncs:
            self._spawn(self.resync(user_id))

    async def resync(self, user_id: str) -> CachedUser | None:
        """Fetch the user's whole list from their server and cache it (one fetch per
        user at a time); None when their server did not answer."""
        running = self._resyncs.get(user_id)
        if running is None:
            running = asyncio.get_running_loop().create_task(self._resync(user_id))
            self._resyncs[user_id] = running
            running.add_done_callback(lambda _: self._resyncs.pop(user_id, None))
        return await asyncio.shield(running)

    async def _resync(self, user_id: str) -> CachedUser | None:
        server = server_name_of(user_id)
        try:
            body = await self.remote.get_json(
                server,
                fed_path("/_matrix/federation/v1/user/devices/{}", user_id),
                timeout=RESYNC_TIMEOUT_S,
            )
            stream_id, devices, cross = parse_user_devices(user_id, body)
        except (RemoteError, ValueError) as exc:
            log.info("device list resync failed", extra=fields(user_id=user_id, error=str(exc)))
            await self.store.remote_devices.mark_stale(user_id)
            return None
        async with self._locks.hold(user_id):
            now = self.clock.time_ms()
            await self.device_lists.publish(
                lambda: self.store.remote_devices.replace_user(
                    user_id, stream_id, devices, cross, now
                ),
                lambda position: [Change(position, (user_id,))],
            )
        cached = CachedUser(stream_id, {d.device_id: d for d in devices}, dict(cross))
        return cached

    # ------------------------------------------------------------------ reads

    async def cached(self, user_ids: Sequence[str]) -> dict[str, CachedUser]:
        """The cached lists of those users we cache and believe current."""
        if not user_ids:
            return {}
        return await self.store.remote_devices.cached_users(user_ids)

    # ------------------------------------------------------------------ memberships

    def on_event(self, item: PersistedEvent) -> None:
        """Bus subscriber: a remote user leaving may end our reason to cache them."""
        event = item.event
        if event.type != "m.room.member" or event.state_key is None:
            return
        user_id = event.state_key
        try:
            local = server_name_of(user_id) == self.server_name
        except InvalidIdentifier:
            return
        if event.membership == "join" or local:
            return
        self._spawn(self._maybe_forget(user_id))

    async def _maybe_forget(self, user_id: str) -> None:
        try:
            if not await self.shares_room_with_local_user(user_id):
                async with self._locks.hold(user_id):
                    await self.store.remote_devices.forget([user_id])
        except Exception:
            log.exception("device list cache not dropped", extra=fields(user_id=user_id))
