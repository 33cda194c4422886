"""``/keys/query`` and ``/keys/claim`` for users of other servers.

spec: client-server "End-to-End Encryption" (``POST /keys/query``, ``POST /keys/claim``:
``failures`` lists the servers that could not be reached; ``timeout`` is how long to
wait for them) and server-server "End-to-End Encryption" (``/user/keys/query``,
``/user/keys/claim``). Keys of users whose device list we cache (a room shared with a
local user, kept current by ``m.device_list_update``) come from the cache; the others
cost one request per server, all servers at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homeserver.protocol.ids import server_name_of
from homeserver.remote import RemoteCaller, RemoteError

from .remote_device_lists import RemoteDeviceLists

JsonDict = dict[str, Any]

DEFAULT_TIMEOUT_MS = 10_000
MAX_TIMEOUT_MS = 60_000


def timeout_seconds(value: object) -> float:
    """The body's ``timeout`` (milliseconds) as seconds, defaulted and capped."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return min(value, MAX_TIMEOUT_MS) / 1000
    return DEFAULT_TIMEOUT_MS / 1000


@dataclass
class RemoteKeysResult:
    device_keys: JsonDict = field(default_factory=dict)
    master_keys: JsonDict = field(default_factory=dict)
    self_signing_keys: JsonDict = field(default_factory=dict)
    failures: JsonDict = field(default_factory=dict)


def _by_server(users: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = {}
    for user_id, value in users.items():
        grouped.setdefault(server_name_of(user_id), {})[user_id] = value
    return grouped


def _objects(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class RemoteKeys:
    def __init__(self, remote: RemoteCaller, lists: RemoteDeviceLists) -> None:
        self.remote = remote
        self.lists = lists

    async def query(
        self, wanted: Mapping[str, list[str] | None], timeout_s: float
    ) -> RemoteKeysResult:
        """Keys of remote users (``user -> device ids``, None: all their devices)."""
        result = RemoteKeysResult()
        cached = await self.lists.cached(list(wanted))
        to_ask: dict[str, list[str] | None] = {}
        for user_id, device_ids in wanted.items():
            user = cached.get(user_id)
            if user is None:
                to_ask[user_id] = device_ids
                continue
            devices: JsonDict = {}
            for device_id, device in user.devices.items():
                if device.keys is None or (device_ids is not None and device_id not in device_ids):
                    continue
                entry = dict(device.keys)
                entry["unsigned"] = (
                    {"device_display_name": device.display_name}
                    if device.display_name is not None
                    else {}
                )
                devices[device_id] = entry
            result.device_keys[user_id] = devices
            if "master" in user.cross_signing:
                result.master_keys[user_id] = user.cross_signing["master"]
            if "self_signing" in user.cross_signing:
                result.self_signing_keys[user_id] = user.cross_signing["self_signing"]
        for user_id, device_ids in to_ask.items():
            if device_ids is None and await self.lists.shares_room_with_local_user(user_id):
                # Start caching them: their server will keep us current from here.
                self.lists.schedule_resync(user_id)
        servers = _by_server(to_ask)
        answers = await asyncio.gather(
            *(self._query_server(server, users, timeout_s) for server, users in servers.items())
        )
        for server, answer in zip(servers, answers, strict=True):
            if isinstance(answer, RemoteError):
                result.failures[server] = answer.failure()
                continue
            asked = servers[server]
            for user_id, devices in _objects(answer.get("device_keys")).items():
                if user_id in asked and isinstance(devices, dict):
                    result.device_keys[user_id] = devices
            for name, into in (
                ("master_keys", result.master_keys),
                ("self_signing_keys", result.self_signing_keys),
            ):
                for user_id, key in _objects(answer.get(name)).items():
                    if user_id in asked and isinstance(key, dict):
                        into[user_id] = key
        return result

    async def _query_server(
        self, server: str, users: Mapping[str, list[str] | None], timeout_s: float
    ) -> JsonDict | RemoteError:
        body = {"device_keys": {u: d or [] for u, d in users.items()}}
        try:
            answer = await self.remote.post_json(
                server, "/_matrix/federation/v1/user/keys/query", body, timeout=timeout_s
            )
        except RemoteError as exc:
            return exc
        if not isinstance(answer, dict):
            return RemoteError(None, None, "Bad response")
        return answer

    async def claim(
        self, wanted: Mapping[str, Mapping[str, str]], timeout_s: float
    ) -> tuple[JsonDict, JsonDict]:
        """One-time keys of remote devices (``user -> device -> algorithm``):
        ``(one_time_keys, failures)``."""
        servers = _by_server(wanted)
        answers = await asyncio.gather(
            *(self._claim_server(server, users, timeout_s) for server, users in servers.items())
        )
        keys: JsonDict = {}
        failures: JsonDict = {}
        for server, answer in zip(servers, answers, strict=True):
            if isinstance(answer, RemoteError):
                failures[server] = answer.failure()
                continue
            for user_id, devices in _objects(answer.get("one_time_keys")).items():
                if user_id in servers[server] and isinstance(devices, dict):
                    keys[user_id] = devices
        return keys, failures

    async def _claim_server(
        self, server: str, users: Mapping[str, Mapping[str, str]], timeout_s: float
    ) -> JsonDict | RemoteError:
        body = {"one_time_keys": {u: dict(d) for u, d in users.items()}}
        try:
            answer = await self.remote.post_json(
                server, "/_matrix/federation/v1/user/keys/claim", body, timeout=timeout_s
            )
        except RemoteError as exc:
            return exc
        if not isinstance(answer, dict):
            return RemoteError(None, None, "Bad response")
        return answer
