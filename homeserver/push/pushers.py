"""Pushers: ``GET /pushers``, ``POST /pushers/set`` and the running HTTP pushers.

spec: client-server "Client behaviour" (``/pushers``, ``/pushers/set``): a pusher is
named by (user, ``app_id``, ``pushkey``); ``kind: null`` deletes it; ``append: false``
removes other users' pushers with the same ``app_id`` and ``pushkey``; an ``http``
pusher's ``data.url`` is the gateway's ``/_matrix/push/v1/notify``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from homeserver.clock import Clock
from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage import pushers_store, room_reads
from homeserver.storage.database import Txn
from homeserver.storage.push_actions_store import unread_counts
from homeserver.storage.pushers_store import PusherRow
from homeserver.storage.store import Store

from .gateway import GatewayClient
from .http_pusher import HttpPusher, PushSettings

log = logging.getLogger(__name__)

NOTIFY_PATH = "/_matrix/push/v1/notify"
MAX_APP_ID_LENGTH = 64  # spec: "Max length, 64 chars."
MAX_PUSHKEY_BYTES = 512  # spec: "Max length, 512 bytes."
FORMATS = ("event_id_only",)

# Where the user has read up to per room (stream orderings), from read receipts; None
# until receipts exist (everything counts as unread).
ReceiptPositions = Callable[[str, Sequence[str]], Awaitable[Mapping[str, int]]]


@dataclass(frozen=True, slots=True)
class PusherRequest:
    """A checked ``/pushers/set`` body (``kind`` None: delete)."""

    kind: str | None
    app_id: str
    pushkey: str
    app_display_name: str = ""
    device_display_name: str = ""
    profile_tag: str | None = None
    lang: str = ""
    data: Mapping[str, Any] | None = None
    append: bool = False


def _invalid(message: str) -> MatrixError:
    return MatrixError(400, "M_INVALID_PARAM", message)


def parse_pusher_request(body: Mapping[str, Any]) -> PusherRequest:
    missing = [k for k in ("kind", "app_id", "pushkey") if k not in body]
    kind = body.get("kind")
    if kind is not None:
        missing += [
            k for k in ("app_display_name", "device_display_name", "lang", "data") if k not in body
        ]
    if missing:
        raise MatrixError(400, "M_MISSING_PARAM", "Missing parameters: " + ", ".join(missing))
    app_id, pushkey = body["app_id"], body["pushkey"]
    if not isinstance(app_id, str) or not app_id or len(app_id) > MAX_APP_ID_LENGTH:
        raise _invalid(f"`app_id` must be a string of 1 to {MAX_APP_ID_LENGTH} characters")
    if (
        not isinstance(pushkey, str)
        or not pushkey
        or len(pushkey.encode("utf-8")) > MAX_PUSHKEY_BYTES
    ):
        raise _invalid(f"`pushkey` must be a string of 1 to {MAX_PUSHKEY_BYTES} bytes")
    append = body.get("append", False)
    if not isinstance(append, bool):
        raise _invalid("`append` must be true or false")
    if kind is None:
        return PusherRequest(None, app_id, pushkey)
    if kind == "email":
        raise _invalid("Email pushers are not supported by this server")
    if kind != "http":
        raise _invalid("`kind` must be http or null")
    for name in ("app_display_name", "device_display_name", "lang"):
        if not isinstance(body[name], str):
            raise _invalid(f"`{name}` must be a string")
    profile_tag = body.get("profile_tag")
    if profile_tag is not None and not isinstance(profile_tag, str):
        raise _invalid("`profile_tag` must be a string")
    data = body["data"]
    if not isinstance(data, dict):
        raise _invalid("`data` must be an object")
    _check_http_data(data)
    return PusherRequest(
        kind,
        app_id,
        pushkey,
        body["app_display_name"],
        body["device_display_name"],
        profile_tag,
        body["lang"],
        data,
        append,
    )


def _check_http_data(data: Mapping[str, Any]) -> None:
    """spec: ``data.url`` is required for ``http``: an http(s) URL with the path
    ``/_matrix/push/v1/notify`` (the spec asks for HTTPS; plain HTTP is accepted for
    gateways on the same host or network); ``format`` is ``event_id_only`` if given."""
    if "url" not in data:
        raise MatrixError(400, "M_MISSING_PARAM", "`data.url` is required for http pushers")
    url = data["url"]
    if not isinstance(url, str):
        raise _invalid("`data.url` must be a string")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise _invalid("`data.url` is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise _invalid("`data.url` must be an http(s) URL")
    if parts.path != NOTIFY_PATH:
        raise _invalid(f"`data.url` must have the path {NOTIFY_PATH}")
    fmt = data.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise _invalid("`data.format` must be event_id_only when given")


def pusher_json(row: PusherRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pushkey": row.pushkey,
        "kind": row.kind,
        "app_id": row.app_id,
        "app_display_name": row.app_display_name,
        "device_display_name": row.device_display_name,
        "lang": row.lang,
        "data": row.data,
    }
    if row.profile_tag is not None:
        out["profile_tag"] = row.profile_tag
    return out


class PusherPool:
    def __init__(
        self,
        store: Store,
        room_state: RoomStateCache,
        clock: Clock,
        current_position: Callable[[], int],
        *,
        settings: PushSettings | None = None,
        receipts: ReceiptPositions | None = None,
    ) -> None:
        self.store = store
        self.room_state = room_state
        self.clock = clock
        self.current_position = current_position
        self.settings = settings or PushSettings()
        self.receipts = receipts
        self.gateway = GatewayClient(self.settings.request_timeout_s)
        self._by_user: dict[str, dict[tuple[str, str], HttpPusher]] = {}
        self._started = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        for row in await self.store.push.all_pushers():
            self._add(row)
        self._started = True
        for pushers in list(self._by_user.values()):
            for pusher in list(pushers.values()):
                pusher.poke()  # resume from the stored positions

    async def stop(self) -> None:
        self._started = False
        running, self._by_user = self._by_user, {}
        for pushers in running.values():
            for pusher in pushers.values():
                await pusher.stop()
        await self.gateway.close()

    def pushers_of(self, user_id: str) -> list[HttpPusher]:
        return list(self._by_user.get(user_id, {}).values())

    def poke_users(self, user_ids: set[str]) -> None:
        """New notifications for these users (the evaluator calls this)."""
        if not self._started:
            return
        for user_id in user_ids:
            for pusher in self._by_user.get(user_id, {}).values():
                pusher.poke()

    def _add(self, row: PusherRow) -> HttpPusher:
        pushers = self._by_user.setdefault(row.user_id, {})
        key = (row.app_id, row.pushkey)
        existing = pushers.get(key)
        if existing is not None:
            existing.update(row)
            return existing
        pusher = pushers[key] = HttpPusher(self, row)
        return pusher

    async def _drop(self, user_id: str, app_id: str, pushkey: str) -> None:
        pushers = self._by_user.get(user_id, {})
        pusher = pushers.pop((app_id, pushkey), None)
        if not pushers:
            self._by_user.pop(user_id, None)
        if pusher is not None:
            await pusher.stop()

    async def remove(self, pusher: HttpPusher, *, reason: str) -> None:
        row = pusher.row
        log.info(
            "removing pusher",
            extra=fields(user_id=row.user_id, app_id=row.app_id, reason=reason),
        )
        await self.store.push.delete_pusher(row.user_id, row.app_id, row.pushkey)
        await self._drop(row.user_id, row.app_id, row.pushkey)

    # ------------------------------------------------------------------ API

    async def list(self, user_id: str) -> dict[str, Any]:
        rows = await self.store.push.user_pushers(user_id)
        return {"pushers": [pusher_json(row) for row in rows]}

    async def set(self, user_id: str, device_id: str | None, request: PusherRequest) -> None:
        if request.kind is None:
            await self.store.push.delete_pusher(user_id, request.app_id, request.pushkey)
            await self._drop(user_id, request.app_id, request.pushkey)
            return
        assert request.data is not None
        row = PusherRow(
            user_id=user_id,
            app_id=request.app_id,
            pushkey=request.pushkey,
            kind=request.kind,
            app_display_name=request.app_display_name,
            device_display_name=request.device_display_name,
            profile_tag=request.profile_tag,
            lang=request.lang,
            data=dict(request.data),
            device_id=device_id,
            pushkey_ts=self.clock.time_ms(),
            # A new pusher sends what is notified from now on.
            last_stream_ordering=self.current_position(),
        )

        def write(txn: Txn) -> tuple[PusherRow, list[str]]:
            others = (
                []
                if request.append
                else pushers_store.delete_other_users_pushers(
                    txn, user_id, request.app_id, request.pushkey
                )
            )
            return pushers_store.upsert_pusher(txn, row), others

        stored, others = await self.store.db.write(write)
        for other in others:
            await self._drop(other, request.app_id, request.pushkey)
        self._add(stored)

    # ------------------------------------------------------------------ for pushers

    async def unread_total(self, user_id: str) -> int:
        """The user's unread notifications over their joined rooms (``counts.unread``)."""
        room_ids = await self.store.db.read(room_reads.joined_rooms, user_id)
        if not room_ids:
            return 0
        receipts = await self.receipts(user_id, room_ids) if self.receipts else None
        counts = await self.store.db.read(unread_counts, user_id, room_ids, receipts)
        return sum(notify for notify, _ in counts.values())
