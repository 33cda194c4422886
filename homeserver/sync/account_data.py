"""Account data and room tags: per-user JSON on the account-data stream.

spec: client-server "Client Config" (``/user/{userId}/account_data/{type}`` and its
per-room form) and "Room Tagging" (tags are the room's ``m.tag`` account data).
Each write advances the account-data stream and wakes the user's syncs.
"""

from __future__ import annotations

from typing import Any

from homeserver.errors import MatrixError
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_room_id
from homeserver.storage.store import Store

from .notifier import Notifier

JsonDict = dict[str, Any]

# spec: "Client Config" / "Server Behaviour" — types the server manages itself.
SERVER_MANAGED_TYPES = frozenset({"m.fully_read", "m.push_rules"})
TAG_TYPE = "m.tag"
MAX_TAG_BYTES = 255  # spec: "Room Tagging" — a tag name MUST NOT exceed 255 bytes
MAX_TYPE_LENGTH = 255


def check_self(requester_id: str, user_id: str, verb: str = "access") -> None:
    if requester_id != user_id:
        raise MatrixError(403, "M_FORBIDDEN", f"Cannot {verb} account data for other users.")


def check_room_id(room_id: str) -> None:
    try:
        parse_room_id(room_id)
    except InvalidIdentifier as exc:
        raise MatrixError(400, "M_INVALID_PARAM", f"Invalid room id: {exc}") from exc


def _check_type(type_: str) -> None:
    if not type_ or len(type_) > MAX_TYPE_LENGTH:
        raise MatrixError(400, "M_INVALID_PARAM", "Invalid account data type")


class AccountDataHandler:
    def __init__(self, store: Store, notifier: Notifier) -> None:
        self.store = store
        self.notifier = notifier

    async def get(
        self, requester_id: str, user_id: str, room_id: str | None, type_: str
    ) -> JsonDict:
        check_self(requester_id, user_id)
        if room_id is not None:
            check_room_id(room_id)
        content = await self.store.account_data.get(user_id, room_id, type_)
        if content is None:
            raise MatrixError(404, "M_NOT_FOUND", "Account data not found.")
        return content

    async def put(
        self, requester_id: str, user_id: str, room_id: str | None, type_: str, content: JsonDict
    ) -> None:
        check_self(requester_id, user_id, "add")
        if room_id is not None:
            check_room_id(room_id)
        _check_type(type_)
        if type_ in SERVER_MANAGED_TYPES:
            # spec: "Server Behaviour" — 405, errcode M_BAD_JSON (per the OpenAPI).
            raise MatrixError(405, "M_BAD_JSON", f"Cannot set {type_} through this API.")
        await self.write(user_id, room_id, type_, content)

    async def write(self, user_id: str, room_id: str | None, type_: str, content: JsonDict) -> None:
        """Store account data and wake the user's syncs, with no checks: for the
        server's own writes (``m.fully_read`` from read markers, ``m.push_rules``)."""
        stream_id = await self.store.account_data.put(user_id, room_id, type_, content)
        self.notifier.on_account_data(user_id, stream_id)

    # ------------------------------------------------------------------ tags

    async def tags(self, requester_id: str, user_id: str, room_id: str) -> JsonDict:
        check_self(requester_id, user_id)
        check_room_id(room_id)
        content = await self.store.account_data.get(user_id, room_id, TAG_TYPE)
        tags = content.get("tags") if content else None
        return {"tags": tags if isinstance(tags, dict) else {}}

    async def put_tag(
        self, requester_id: str, user_id: str, room_id: str, tag: str, body: JsonDict
    ) -> None:
        check_self(requester_id, user_id, "add")
        check_room_id(room_id)
        if not tag or len(tag.encode("utf-8")) > MAX_TAG_BYTES:
            raise MatrixError(400, "M_INVALID_PARAM", "A tag name is 1 to 255 bytes")
        order = body.get("order")
        if order is not None and (not isinstance(order, int | float) or isinstance(order, bool)):
            raise MatrixError(400, "M_BAD_JSON", "`order` must be a number")

        def change(current: JsonDict | None) -> JsonDict:
            tags = dict(_tags_of(current))
            tags[tag] = body
            return {"tags": tags}

        stream_id = await self.store.account_data.update(user_id, room_id, TAG_TYPE, change)
        self.notifier.on_account_data(user_id, stream_id)

    async def delete_tag(self, requester_id: str, user_id: str, room_id: str, tag: str) -> None:
        check_self(requester_id, user_id, "remove")
        check_room_id(room_id)

        def change(current: JsonDict | None) -> JsonDict:
            tags = dict(_tags_of(current))
            tags.pop(tag, None)
            return {"tags": tags}

        stream_id = await self.store.account_data.update(user_id, room_id, TAG_TYPE, change)
        self.notifier.on_account_data(user_id, stream_id)


def _tags_of(content: JsonDict | None) -> JsonDict:
    tags = content.get("tags") if content else None
    return tags if isinstance(tags, dict) else {}
