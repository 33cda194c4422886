"""Reports of events, rooms and users to the server's admins.

spec: client-server "Reporting Content". An event report needs the reporter to be
joined to the room and able to see the event; the answer is the same 404 whether the
room, the event or the membership is missing, so a report cannot probe for rooms or
events. Room and user reports need no shared room (spec: servers MUST NOT require
one); they are refused only for a room or a local user this server does not know.
"""

from __future__ import annotations

import logging

from homeserver.clock import Clock
from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.storage.reports_store import EVENT, ROOM, USER, Report
from homeserver.storage.store import Store

from .access import RoomAccess
from .room_state import RoomStateCache

log = logging.getLogger(__name__)


def _not_found(message: str) -> MatrixError:
    return MatrixError(404, "M_NOT_FOUND", message)


class ReportHandler:
    def __init__(
        self,
        store: Store,
        rooms: RoomStateCache,
        access: RoomAccess,
        clock: Clock,
        server_name: str,
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.access = access
        self.clock = clock
        self.server_name = server_name

    async def _save(self, report: Report) -> None:
        report_id = await self.store.reports.insert(report)
        log.info(
            "content reported",
            extra=fields(
                report_id=report_id,
                kind=report.kind,
                reporter=report.reporter,
                room_id=report.room_id,
                event_id=report.event_id,
                user_id=report.target_user_id,
            ),
        )

    async def report_event(
        self, reporter: str, room_id: str, event_id: str, reason: str | None, score: int | None
    ) -> None:
        hidden = _not_found("The event was not found or you are not joined to the room")
        if await self.access.current_membership(room_id, reporter) != "join":
            raise hidden
        stored = await self.store.events.get_event(event_id)
        if (
            stored is None
            or stored.event.room_id != room_id
            or stored.outlier
            or stored.rejected_reason is not None
        ):
            raise hidden
        scope = await self.access.require_reader(reporter, room_id)
        if not await self.access.visible(scope, [stored]):
            raise hidden
        await self._save(
            Report(
                kind=EVENT,
                reporter=reporter,
                received_ts=self.clock.time_ms(),
                room_id=room_id,
                event_id=event_id,
                reason=reason,
                score=score,
            )
        )

    async def report_room(self, reporter: str, room_id: str, reason: str) -> None:
        if await self.rooms.room(room_id) is None:
            raise _not_found("The room was not found")
        await self._save(
            Report(
                kind=ROOM,
                reporter=reporter,
                received_ts=self.clock.time_ms(),
                room_id=room_id,
                reason=reason,
            )
        )

    async def report_user(self, reporter: str, user_id: str, reason: str) -> None:
        # Remote users cannot be checked without federation: their reports are kept.
        local = user_id.partition(":")[2] == self.server_name
        if local and not await self.store.accounts.user_exists(user_id):
            raise _not_found("The user was not found")
        await self._save(
            Report(
                kind=USER,
                reporter=reporter,
                received_ts=self.clock.time_ms(),
                target_user_id=user_id,
                reason=reason,
            )
        )
