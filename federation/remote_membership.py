"""``homeserver.rooms.membership.FederatedMembership``: our users' membership in rooms
that live on other servers, through the handshakes of ``membership_handshakes``."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from homeserver.errors import MatrixError
from homeserver.rooms.directory import DirectoryHandler
from homeserver.rooms.remote_events import RemoteEvents

from .membership_handshakes import HandshakeClient


class RemoteMembership:
    def __init__(
        self, handshakes: HandshakeClient, remote: RemoteEvents, directory: DirectoryHandler
    ) -> None:
        self.handshakes = handshakes
        self.remote = remote
        self.directory = directory

    async def join(
        self, servers: Collection[str], room_id: str, user_id: str, content: dict[str, Any]
    ) -> None:
        await self.handshakes.join(servers, room_id, user_id, content)

    async def leave_or_knock(
        self,
        membership: str,
        servers: Collection[str],
        room_id: str,
        user_id: str,
        content: dict[str, Any],
    ) -> None:
        event = await self.handshakes.leave_or_knock(membership, servers, room_id, user_id, content)
        if await self.remote.store.events.get_event(event.event_id) is None:
            await self.remote.persist_membership_outlier(event)

    async def resolve_alias(self, alias: str) -> tuple[str, list[str]] | None:
        """spec: server-server "GET /query/directory", through the directory handler; a
        server that cannot be reached knows no room for us (404 for the join)."""
        try:
            found = await self.directory.resolve(alias)
        except MatrixError as exc:
            if exc.status in (404, 502):
                return None
            raise
        return str(found["room_id"]), [s for s in found["servers"] if isinstance(s, str)]
