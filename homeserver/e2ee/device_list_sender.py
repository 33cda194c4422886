"""Telling other servers about local users' devices and cross-signing keys.

spec: server-server "Device Management": "Servers must send ``m.device_list_update``
EDUs to all the servers who share a room with a given local user, and must be sent
whenever that user's device list changes"; "End-to-End Encryption":
``m.signing_key_update`` when their cross-signing keys change. Also serves
``GET /user/devices/{userId}``, the snapshot a peer resyncs from.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import Any

import orjson

from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_user_id, server_name_of
from homeserver.remote import EduSender, PersistentEduSender
from homeserver.storage.device_list_outbound_store import OutboundChanges
from homeserver.storage.store import Store

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]

DEVICE_LIST_UPDATE = "m.device_list_update"
SIGNING_KEY_UPDATE = "m.signing_key_update"


class DeviceListSender:
    def __init__(self, store: Store, sender: EduSender | None, server_name: str) -> None:
        self.store = store
        self.sender = sender
        self.server_name = server_name

    def _is_local(self, user_id: str) -> bool:
        try:
            return server_name_of(user_id) == self.server_name
        except InvalidIdentifier:
            return False

    async def servers_sharing_rooms_with(self, user_id: str) -> set[str]:
        servers: set[str] = set()
        for other in await self.store.e2e_keys.viewers_of(user_id):
            try:
                servers.add(server_name_of(other))
            except InvalidIdentifier:
                continue
        servers.discard(self.server_name)
        return servers

    async def on_change(self, user_ids: Iterable[str]) -> None:
        """Device-lists stream listener: some users' devices or keys changed."""
        for user_id in user_ids:
            if not self._is_local(user_id):
                continue
            try:
                await self._send(user_id, await self.store.device_list_outbound.diff_user(user_id))
            except Exception:
                log.exception("device list update not sent", extra=fields(user_id=user_id))

    async def _send(self, user_id: str, changes: OutboundChanges) -> None:
        if self.sender is None or (not changes.devices and changes.signing_keys is None):
            return
        destinations = sorted(await self.servers_sharing_rooms_with(user_id))
        # Cross-signing keys first: a device signed by a new self-signing key is then
        # verifiable as soon as it arrives.
        items: list[tuple[str, str, str, JsonDict]] = []
        digest = hashlib.sha256(
            orjson.dumps(changes.signing_keys, option=orjson.OPT_SORT_KEYS)
        ).hexdigest()[:16]
        for destination in destinations:
            if changes.signing_keys is not None:
                items.append(
                    (
                        destination,
                        SIGNING_KEY_UPDATE,
                        f"{user_id}/sk/{digest}",
                        changes.signing_keys,
                    )
                )
            for update in changes.devices:
                stream_id = update.content["stream_id"]
                items.append(
                    (destination, DEVICE_LIST_UPDATE, f"{user_id}/{stream_id}", update.content)
                )
        if isinstance(self.sender, PersistentEduSender):
            # A lost update would leave the peer with a wrong list until the next one.
            await self.sender.send_persistent_edus(items)
        else:
            for destination, edu_type, _, content in items:
                # No replacement key: each update chains to the one before (prev_id).
                self.sender.send_edu(destination, edu_type, content)
        log.info(
            "device list update sent",
            extra=fields(user_id=user_id, updates=len(changes.devices), servers=len(destinations)),
        )

    async def user_devices(self, user_id: str) -> JsonDict:
        """spec: ``GET /_matrix/federation/v1/user/devices/{userId}`` (a local user)."""
        try:
            parse_user_id(user_id)
        except InvalidIdentifier as exc:
            raise MatrixError(400, "M_INVALID_PARAM", f"invalid user id: {exc}") from exc
        if not self._is_local(user_id):
            raise MatrixError(404, "M_NOT_FOUND", "The user is not on this server")
        if not await self.store.accounts.user_exists(user_id):
            raise MatrixError(404, "M_NOT_FOUND", "Unknown user")
        changes, announced = await self.store.device_list_outbound.sync_and_read(user_id)
        # What the answer says is sent to everyone else too, so that they agree with it.
        await self._send(user_id, changes)
        devices = []
        for device_id, keys, name in announced.devices:
            entry: JsonDict = {"device_id": device_id, "keys": keys}
            if name is not None:
                entry["device_display_name"] = name
            devices.append(entry)
        body: JsonDict = {
            "user_id": user_id,
            "stream_id": announced.stream_id,
            "devices": devices,
        }
        for usage in ("master", "self_signing"):
            if usage in announced.cross_signing:
                body[f"{usage}_key"] = announced.cross_signing[usage]
        return body
