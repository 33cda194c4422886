"""Room aliases and the published room directory, as clients use them.

spec: client-server "Room aliases" (``/directory/room/{roomAlias}``, ``/rooms/{roomId}/
aliases``) and "Listing rooms" (``/directory/list/room/{roomId}``, ``/publicRooms``).
Remote aliases and other servers' directories are asked over federation (``remote``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.errors import MatrixError
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_room_alias, server_name_of
from homeserver.remote import RemoteCaller, RemoteError

from .access import RoomAccess
from .aliases import AliasDirectory
from .client_format import JsonDict
from .membership import MembershipHandler
from .pipeline import EventPipeline
from .room_state import RoomStateCache
from .visibility import WORLD_READABLE, effective_visibility

MAX_PUBLIC_ROOMS_LIMIT = 500
REMOTE_TIMEOUT_S = 15.0


def _forbidden(message: str) -> MatrixError:
    return MatrixError(403, "M_FORBIDDEN", message)


@dataclass(frozen=True, slots=True)
class PublicRoomsQuery:
    limit: int | None = None
    since: str | None = None
    search_term: str | None = None
    # None: every room type; otherwise the wanted types (None inside: untyped rooms).
    room_types: tuple[str | None, ...] | None = None


class DirectoryHandler:
    def __init__(
        self,
        rooms: RoomStateCache,
        pipeline: EventPipeline,
        aliases: AliasDirectory,
        access: RoomAccess,
        membership: MembershipHandler,
    ) -> None:
        self.rooms = rooms
        self.pipeline = pipeline
        self.aliases = aliases
        self.access = access
        self.membership = membership
        # Asks other servers about their aliases and directories (federation on).
        self.remote: RemoteCaller | None = None

    def _local_alias(self, alias: str) -> bool:
        """Validate ``alias`` (400 ``M_INVALID_PARAM``); True when it is ours."""
        try:
            _, server = parse_room_alias(alias)
        except InvalidIdentifier as exc:
            raise MatrixError(400, "M_INVALID_PARAM", f"Room alias invalid: {exc}") from exc
        return server == self.pipeline.server_name

    async def _can_edit_room_aliases(self, user_id: str, room_id: str, is_admin: bool) -> bool:
        if is_admin:
            return True
        power = await self.rooms.power(room_id)
        return power.can_send(user_id, "m.room.canonical_alias", True)

    # ------------------------------------------------------------------ aliases

    async def create_alias(self, user_id: str, alias: str, room_id: str) -> None:
        if not self._local_alias(alias):
            raise MatrixError(400, "M_INVALID_PARAM", "Can only create aliases on this server")
        self.aliases.check_exclusive(user_id, alias)
        if await self.rooms.room(room_id) is None:
            raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
        if await self.membership.membership_of(room_id, user_id) != "join":
            raise _forbidden("You must be in the room to give it an alias")
        if not await self.aliases.create(alias, room_id, user_id):
            raise MatrixError(409, "M_UNKNOWN", f"Room alias {alias} already exists.")

    async def resolve(self, alias: str) -> JsonDict:
        if not self._local_alias(alias):
            return await self._resolve_remote(alias)
        room_id = await self.aliases.resolve(alias)
        if room_id is None:
            raise MatrixError(404, "M_NOT_FOUND", f"Room alias {alias} not found.")
        servers = {self.pipeline.server_name}
        for member in await self.rooms.store.state.joined_members(room_id):
            with contextlib.suppress(InvalidIdentifier):
                servers.add(server_name_of(member))
        ours = self.pipeline.server_name
        return {"room_id": room_id, "servers": [ours, *sorted(servers - {ours})]}

    async def _resolve_remote(self, alias: str) -> JsonDict:
        """spec: server-server ``GET /query/directory``, asked of the alias's server."""
        if self.remote is None:
            raise MatrixError(404, "M_NOT_FOUND", f"Room alias {alias} not found.")
        server = parse_room_alias(alias)[1]
        try:
            answer = await self.remote.get_json(
                server,
                "/_matrix/federation/v1/query/directory",
                {"room_alias": alias},
                timeout=REMOTE_TIMEOUT_S,
            )
        except RemoteError as exc:
            if exc.status == 404:
                raise MatrixError(404, "M_NOT_FOUND", f"Room alias {alias} not found.") from None
            raise MatrixError(
                502, "M_UNKNOWN", f"Could not ask {server} about the alias: {exc.message}"
            ) from None
        room_id = answer.get("room_id") if isinstance(answer, dict) else None
        servers = answer.get("servers") if isinstance(answer, dict) else None
        if not isinstance(room_id, str) or not room_id.startswith("!"):
            raise MatrixError(502, "M_UNKNOWN", f"{server} gave no room id for the alias")
        listed = [s for s in servers if isinstance(s, str)] if isinstance(servers, list) else []
        # The alias's own server first: it answered, so it knows the room.
        return {"room_id": room_id, "servers": list(dict.fromkeys([server, *listed]))}

    async def remote_public_rooms(self, server: str, query: PublicRoomsQuery) -> JsonDict:
        """spec: client-server ``/publicRooms?server=``: another server's directory, through
        server-server ``/publicRooms`` (POST when a filter is given, as Synapse does)."""
        if self.remote is None:
            raise MatrixError(404, "M_NOT_FOUND", "Unknown server")
        try:
            if query.search_term is None and query.room_types is None:
                params: dict[str, str] = {}
                if query.limit:
                    params["limit"] = str(query.limit)
                if query.since:
                    params["since"] = query.since
                answer = await self.remote.get_json(
                    server, "/_matrix/federation/v1/publicRooms", params, timeout=REMOTE_TIMEOUT_S
                )
            else:
                body: JsonDict = {}
                if query.limit:
                    body["limit"] = query.limit
                if query.since:
                    body["since"] = query.since
                flt: JsonDict = {}
                if query.search_term is not None:
                    flt["generic_search_term"] = query.search_term
                if query.room_types is not None:
                    flt["room_types"] = list(query.room_types)
                body["filter"] = flt
                answer = await self.remote.post_json(
                    server, "/_matrix/federation/v1/publicRooms", body, timeout=REMOTE_TIMEOUT_S
                )
        except RemoteError as exc:
            raise MatrixError(
                502, "M_UNKNOWN", f"Could not read the directory of {server}: {exc.message}"
            ) from None
        if not isinstance(answer, dict) or not isinstance(answer.get("chunk"), list):
            raise MatrixError(502, "M_UNKNOWN", f"{server} sent no room directory")
        out: JsonDict = {"chunk": [c for c in answer["chunk"] if isinstance(c, dict)]}
        for key in ("next_batch", "prev_batch"):
            if isinstance(answer.get(key), str):
                out[key] = answer[key]
        if isinstance(answer.get("total_room_count_estimate"), int):
            out["total_room_count_estimate"] = answer["total_room_count_estimate"]
        return out

    async def delete_alias(self, user_id: str, alias: str, *, is_admin: bool) -> None:
        """spec: "DELETE /directory/room/{roomAlias}" — the alias's creator, a user who
        may change the room's canonical alias, or a server admin."""
        if not self._local_alias(alias):
            raise MatrixError(404, "M_NOT_FOUND", f"Room alias {alias} not found.")
        room_id = await self.aliases.resolve_local(alias)
        if room_id is None:
            raise MatrixError(404, "M_NOT_FOUND", f"Room alias {alias} not found.")
        self.aliases.check_exclusive(user_id, alias)
        creator = await self.aliases.creator(alias)
        if creator != user_id and not await self._can_edit_room_aliases(user_id, room_id, is_admin):
            raise _forbidden("You may not delete this alias")
        await self.aliases.delete(alias)
        await self._drop_from_canonical_alias(user_id, room_id, alias)

    async def _drop_from_canonical_alias(self, user_id: str, room_id: str, alias: str) -> None:
        """Servers may update ``m.room.canonical_alias`` when an alias goes; we do when
        the user may send it."""
        key = ("m.room.canonical_alias", "")
        current = (await self.rooms.state_events(room_id, [key])).get(key)
        if current is None:
            return
        content: dict[str, Any] = dict(current.content)
        changed = False
        if content.get("alias") == alias:
            content.pop("alias")
            changed = True
        alt = content.get("alt_aliases")
        if isinstance(alt, list) and alias in alt:
            content["alt_aliases"] = [a for a in alt if a != alias]
            changed = True
        if changed:
            with contextlib.suppress(MatrixError):
                await self.pipeline.send(
                    room_id, user_id, "m.room.canonical_alias", content, state_key=""
                )

    async def room_aliases(self, user_id: str, room_id: str) -> list[str]:
        if await self.rooms.room(room_id) is None:
            raise _forbidden("You are not a member of this room")
        member = await self.membership.membership_of(room_id, user_id) == "join"
        if not member and not await self.access.world_readable(room_id):
            raise _forbidden("You are not a member of this room")
        return await self.aliases.room_aliases(room_id)

    # ------------------------------------------------------------------ the directory

    async def get_visibility(self, room_id: str) -> str:
        public = await self.aliases.visibility(room_id)
        if public is None:
            raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
        return "public" if public else "private"

    async def set_visibility(
        self, user_id: str, room_id: str, visibility: str, *, is_admin: bool
    ) -> None:
        if visibility not in ("public", "private"):
            raise MatrixError(400, "M_INVALID_PARAM", "`visibility` must be public or private")
        if await self.rooms.room(room_id) is None:
            raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
        if not is_admin and await self.membership.membership_of(room_id, user_id) != "join":
            raise _forbidden("You are not a member of this room")
        if not await self._can_edit_room_aliases(user_id, room_id, is_admin):
            raise _forbidden("You may not change this room's visibility in the directory")
        await self.aliases.set_visibility(room_id, public=visibility == "public")

    async def summary(self, room_id: str) -> JsonDict | None:
        """The ``PublishedRoomsChunk`` of a room (spec: ``public_rooms_chunk.yaml``)."""
        info = await self.rooms.room(room_id)
        if info is None:
            return None
        keys = [
            ("m.room.create", ""),
            ("m.room.name", ""),
            ("m.room.topic", ""),
            ("m.room.canonical_alias", ""),
            ("m.room.avatar", ""),
            ("m.room.join_rules", ""),
            ("m.room.history_visibility", ""),
            ("m.room.guest_access", ""),
        ]
        found = await self.rooms.state_events(room_id, keys)
        state = {key[0]: event.content for key, event in found.items()}
        joined = len(await self.rooms.store.state.joined_members(room_id))
        visibility = state.get("m.room.history_visibility", {}).get("history_visibility")
        chunk: JsonDict = {
            "room_id": room_id,
            "num_joined_members": joined,
            "world_readable": effective_visibility(visibility) == WORLD_READABLE,
            "guest_can_join": state.get("m.room.guest_access", {}).get("guest_access")
            == "can_join",
            "join_rule": _str(state.get("m.room.join_rules", {}), "join_rule") or "public",
        }
        for field, event_type, content_key in (
            ("name", "m.room.name", "name"),
            ("topic", "m.room.topic", "topic"),
            ("canonical_alias", "m.room.canonical_alias", "alias"),
            ("avatar_url", "m.room.avatar", "url"),
            ("room_type", "m.room.create", "type"),
        ):
            value = _str(state.get(event_type, {}), content_key)
            if value:
                chunk[field] = value
        return chunk

    async def public_rooms(self, query: PublicRoomsQuery) -> JsonDict:
        """One page of the published rooms, largest first; ``since`` is an offset token."""
        offset = _parse_since(query.since)
        chunks: list[JsonDict] = []
        for room_id in await self.aliases.public_rooms():
            chunk = await self.summary(room_id)
            if chunk is not None and _matches(chunk, query):
                chunks.append(chunk)
        chunks.sort(key=lambda c: (-c["num_joined_members"], c["room_id"]))
        total = len(chunks)
        limit = min(query.limit or MAX_PUBLIC_ROOMS_LIMIT, MAX_PUBLIC_ROOMS_LIMIT)
        page = chunks[offset : offset + limit]
        body: JsonDict = {"chunk": page, "total_room_count_estimate": total}
        if offset + limit < total:
            body["next_batch"] = f"p{offset + limit}"
        if offset > 0:
            body["prev_batch"] = f"p{max(0, offset - limit)}"
        return body


def _str(content: Mapping[str, Any], key: str) -> str | None:
    value = content.get(key)
    return value if isinstance(value, str) else None


def _parse_since(since: str | None) -> int:
    if since is None or since == "":
        return 0
    if since.startswith("p") and since[1:].isdigit():
        return int(since[1:])
    raise MatrixError(400, "M_INVALID_PARAM", "Invalid `since` token")


def _matches(chunk: JsonDict, query: PublicRoomsQuery) -> bool:
    if query.room_types is not None and chunk.get("room_type") not in query.room_types:
        return False
    term = (query.search_term or "").strip().casefold()
    if not term:
        return True
    haystack = " ".join(
        str(chunk.get(key, "")) for key in ("name", "topic", "canonical_alias", "room_id")
    )
    return term in haystack.casefold()
