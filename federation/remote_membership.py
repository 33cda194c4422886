"""``homeserver.rooms.membership.FederatedMembership``: our users' membership in rooms
that live on other servers, through the handshakes of ``membership_handshakes``."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from homeserver.errors import MatrixError
from homeserver.rooms.remote_events import RemoteEvents

from .client import FederationClient, FederationRequestError
from .membership_handshakes import HandshakeClient


class RemoteMembership:
    def __init__(
        self, handshakes: HandshakeClient, remote: RemoteEvents, client: FederationClient
    ) -> None:
        self.handshakes = handshakes
        self.remote = remote
        self.client = client

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
        """spec: server-server "GET /query/directory"."""
        server = alias.partition(":")[2]
        try:
            body = await self.client.get_json(
                server, "/_matrix/federation/v1/query/directory", {"room_alias": alias}
            )
        except FederationRequestError as exc:
            if exc.status == 404:
                return None
            raise MatrixError(502, "M_UNKNOWN", f"could not ask {server}: {exc}") from exc
        room_id = body.get("room_id") if isinstance(body, dict) else None
        if not isinstance(room_id, str):
            return None
        servers = body.get("servers")
        listed = [s for s in servers if isinstance(s, str)] if isinstance(servers, list) else []
        return room_id, [server, *listed]
