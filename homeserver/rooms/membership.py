"""Membership changes a local user asks for: join, knock, invite, leave, kick, ban,
unban, forget.

spec: client-server "Room membership". Each change is one ``m.room.member`` event
through the pipeline, whose auth rules decide (403 ``M_FORBIDDEN`` when they refuse).
Rooms this server does not know answer 404 ``M_NOT_FOUND`` until federation joins
exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any, Protocol

from homeserver.errors import MatrixError
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.events import Event
from homeserver.protocol.ids import parse_room_alias, parse_room_id, parse_user_id
from homeserver.protocol.profile_fields import MEMBER_FIELDS
from homeserver.storage import room_reads
from homeserver.storage.store import Store

from .aliases import AliasDirectory
from .pipeline import EventPipeline
from .room_state import RoomStateCache

RESTRICTED_RULES = ("restricted", "knock_restricted")
# Keys a profile refresh does not carry over from the join it replaces: they belonged
# to that join (its reason, the restricted-join authoriser).
_NOT_CARRIED = ("reason", "join_authorised_via_users_server", *MEMBER_FIELDS)


def _forbidden(message: str) -> MatrixError:
    return MatrixError(403, "M_FORBIDDEN", message)


def _unknown_room() -> MatrixError:
    return MatrixError(404, "M_NOT_FOUND", "Unknown room")


def check_user_id(value: object, what: str = "user_id") -> str:
    if not isinstance(value, str):
        raise MatrixError(400, "M_BAD_JSON", f"`{what}` must be a user id string")
    try:
        parse_user_id(value)
    except InvalidIdentifier as exc:
        raise MatrixError(400, "M_INVALID_PARAM", f"invalid `{what}`: {exc}") from exc
    return value


def _with_reason(content: dict[str, Any], reason: str | None) -> dict[str, Any]:
    if reason is not None:
        content["reason"] = reason
    return content


class FederatedMembership(Protocol):
    """Membership through other servers (``federation`` provides it)."""

    async def join(
        self, servers: Collection[str], room_id: str, user_id: str, content: dict[str, Any]
    ) -> None: ...

    async def leave_or_knock(
        self,
        membership: str,
        servers: Collection[str],
        room_id: str,
        user_id: str,
        content: dict[str, Any],
    ) -> None: ...

    async def resolve_alias(self, alias: str) -> tuple[str, list[str]] | None: ...


class MembershipHandler:
    def __init__(
        self,
        store: Store,
        rooms: RoomStateCache,
        pipeline: EventPipeline,
        aliases: AliasDirectory,
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.pipeline = pipeline
        self.aliases = aliases
        # Set when federation is on: joins and knocks of rooms we are not in.
        self.federation: FederatedMembership | None = None
        # Set by the application service wiring: asks the service whose users namespace
        # holds an unknown local user (before an invite); True when it exists afterwards.
        self.query_unknown_user: Callable[[str], Awaitable[bool]] | None = None

    # ------------------------------------------------------------------ helpers

    async def resolve_room(self, room_id_or_alias: str) -> str:
        """A room id for ``!room`` or a ``#alias`` (404 when unknown)."""
        return (await self.resolve_room_and_servers(room_id_or_alias))[0]

    async def resolve_room_and_servers(self, room_id_or_alias: str) -> tuple[str, list[str]]:
        """A room id for ``!room`` or ``#alias``, with the servers an alias's server
        says are in the room (remote aliases are asked of their server)."""
        if room_id_or_alias.startswith("#"):
            try:
                parse_room_alias(room_id_or_alias)
            except InvalidIdentifier as exc:
                raise MatrixError(400, "M_INVALID_PARAM", f"invalid room alias: {exc}") from exc
            room_id = await self.aliases.resolve(room_id_or_alias)
            if room_id is not None:
                return room_id, []
            alias_server = room_id_or_alias.partition(":")[2]
            if self.federation is not None and not self.pipeline.is_local("@x:" + alias_server):
                found = await self.federation.resolve_alias(room_id_or_alias)
                if found is not None:
                    return found
            raise MatrixError(404, "M_NOT_FOUND", "Room alias not found")
        try:
            parse_room_id(room_id_or_alias)
        except InvalidIdentifier as exc:
            raise MatrixError(400, "M_INVALID_PARAM", f"invalid room id or alias: {exc}") from exc
        return room_id_or_alias, []

    async def _require_room(self, room_id: str) -> None:
        if await self.rooms.room(room_id) is None:
            raise _unknown_room()

    async def member_event(self, room_id: str, user_id: str) -> Event | None:
        found = await self.rooms.state_events(room_id, [("m.room.member", user_id)])
        return found.get(("m.room.member", user_id))

    async def membership_of(self, room_id: str, user_id: str) -> str | None:
        event = await self.member_event(room_id, user_id)
        return event.membership if event is not None else None

    async def _profile(self, user_id: str) -> dict[str, Any]:
        if not self.pipeline.is_local(user_id):
            return {}
        return await self.store.db.read(room_reads.profile, user_id)

    async def _send(self, room_id: str, sender: str, target: str, content: dict[str, Any]) -> str:
        sent = await self.pipeline.send(room_id, sender, "m.room.member", content, state_key=target)
        return sent.event.event_id

    # ------------------------------------------------------------------ own membership

    async def server_in_room(self, room_id: str) -> bool:
        """Whether one of our users is joined to the room (we hold its state then)."""
        info = await self.rooms.room(room_id)
        if info is None or not info.state:
            return False
        local = [
            eid
            for (typ, key), eid in info.state.items()
            if typ == "m.room.member" and self.pipeline.is_local(key)
        ]
        members = await self.rooms.get_events(local)
        return any(e.membership == "join" for e in members.values())

    async def _through_other_servers(
        self, user_id: str, room_id: str, given: Collection[str]
    ) -> list[str]:
        """The servers to join or knock through when we are not in the room and one of
        them is another server; empty when the room is ours to act in."""
        if self.federation is None or await self.server_in_room(room_id):
            return []
        targets = await self._servers_for(user_id, room_id, given)
        if all(self.pipeline.is_local("@x:" + s) for s in targets):
            return []
        return targets

    async def _servers_for(self, user_id: str, room_id: str, given: Collection[str]) -> list[str]:
        """Servers to reach a room through: those given, the sender of the user's
        invite, and the room id's own server (room versions before 12)."""
        servers = list(given)
        row = await self.store.db.read(room_reads.local_membership, user_id, room_id)
        if row is not None:
            event = (await self.rooms.get_events([row[1]])).get(row[1])
            if event is not None:
                servers.append(event.sender.partition(":")[2])
        _, _, domain = room_id.partition(":")
        if domain:
            servers.append(domain)
        return list(dict.fromkeys(servers))

    async def join(
        self,
        user_id: str,
        room_id: str,
        *,
        reason: str | None = None,
        servers: Collection[str] = (),
    ) -> str:
        """Join ``room_id``; joining again is a no-op. Returns the room id."""
        targets = await self._through_other_servers(user_id, room_id, servers)
        if self.federation is not None and targets:
            content = _with_reason({"membership": "join", **await self._profile(user_id)}, reason)
            await self.federation.join(targets, room_id, user_id, content)
            return room_id
        await self._require_room(room_id)
        current = await self.membership_of(room_id, user_id)
        if current == "join":
            return room_id
        content = _with_reason({"membership": "join", **await self._profile(user_id)}, reason)
        if current != "invite":
            authoriser = await self.restricted_authoriser(room_id, user_id)
            if authoriser is not None:
                content["join_authorised_via_users_server"] = authoriser
        await self._send(room_id, user_id, user_id, content)
        return room_id

    async def refresh_profile(self, user_id: str, room_id: str, profile: dict[str, Any]) -> bool:
        """spec: client-server "Events on Change of Profile Information" — a new join
        carrying ``profile``'s ``displayname``/``avatar_url``, the rest of the current
        join's content kept. False when the user is not joined or nothing changed; the
        pipeline raises ``StateChanged`` if their membership moved meanwhile (a leave
        must not be undone by a profile change) and ``MatrixError`` if refused.
        """
        current = await self.member_event(room_id, user_id)
        if current is None or current.membership != "join":
            return False
        content = {k: v for k, v in current.content.items() if k not in _NOT_CARRIED}
        content["membership"] = "join"
        content.update((k, profile[k]) for k in MEMBER_FIELDS if isinstance(profile.get(k), str))
        if content == dict(current.content):
            return False
        await self.pipeline.send(
            room_id,
            user_id,
            "m.room.member",
            content,
            state_key=user_id,
            if_state=(("m.room.member", user_id), current.event_id),
        )
        return True

    async def restricted_authoriser(self, room_id: str, user_id: str) -> str | None:
        """spec: client-server "Restricted rooms" — a local member with the power to
        invite vouches for a user who is in one of the allowed rooms."""
        found = await self.rooms.state_events(room_id, [("m.room.join_rules", "")])
        rules = found.get(("m.room.join_rules", ""))
        if rules is None or rules.content.get("join_rule") not in RESTRICTED_RULES:
            return None
        allow = rules.content.get("allow")
        allowed_rooms = [
            entry.get("room_id")
            for entry in (allow if isinstance(allow, list) else [])
            if isinstance(entry, dict) and entry.get("type") == "m.room_membership"
        ]
        in_allowed = False
        for allowed in allowed_rooms:
            if (
                isinstance(allowed, str)
                and await self.rooms.room(allowed) is not None
                and await self.membership_of(allowed, user_id) == "join"
            ):
                in_allowed = True
                break
        if not in_allowed:
            return None
        power = await self.rooms.power(room_id)
        info = await self.rooms.room(room_id)
        assert info is not None
        member_ids = [eid for (t, _), eid in info.state.items() if t == "m.room.member"]
        members = await self.rooms.get_events(member_ids)
        candidates = sorted(
            (
                -power.user_level(e.state_key),
                e.state_key,
            )
            for e in members.values()
            if e.membership == "join"
            and e.state_key is not None
            and self.pipeline.is_local(e.state_key)
            and power.user_level(e.state_key) >= power.levels.invite
        )
        return candidates[0][1] if candidates else None

    async def knock(
        self,
        user_id: str,
        room_id: str,
        *,
        reason: str | None = None,
        servers: Collection[str] = (),
    ) -> str:
        content = _with_reason({"membership": "knock", **await self._profile(user_id)}, reason)
        targets = await self._through_other_servers(user_id, room_id, servers)
        if self.federation is not None and targets:
            await self.federation.leave_or_knock("knock", targets, room_id, user_id, content)
            return room_id
        await self._require_room(room_id)
        await self._send(room_id, user_id, user_id, content)
        return room_id

    async def leave(self, user_id: str, room_id: str, *, reason: str | None = None) -> None:
        """Leave, reject an invite or retract a knock; leaving twice is a no-op."""
        if self.federation is not None and not await self.server_in_room(room_id):
            row = await self.store.db.read(room_reads.local_membership, user_id, room_id)
            if row is not None and row[0] in ("invite", "knock"):
                targets = await self._servers_for(user_id, room_id, ())
                content = _with_reason({"membership": "leave"}, reason)
                await self.federation.leave_or_knock("leave", targets, room_id, user_id, content)
                return
        await self._require_room(room_id)
        current = await self.membership_of(room_id, user_id)
        if current is None:
            raise _forbidden("You are not a member of this room")
        if current == "leave":
            return
        await self._send(room_id, user_id, user_id, _with_reason({"membership": "leave"}, reason))

    async def forget(self, user_id: str, room_id: str) -> None:
        """spec: "POST /rooms/{roomId}/forget" — only once left; 400 while still in."""
        row = await self.store.db.read(room_reads.local_membership, user_id, room_id)
        if row is None:
            return
        if row[0] not in ("leave", "ban"):
            raise MatrixError(400, "M_UNKNOWN", f"User {user_id} is in room {room_id}")
        await self.store.db.write(room_reads.forget_room, user_id, room_id)

    async def joined_rooms(self, user_id: str) -> list[str]:
        return await self.store.db.read(room_reads.joined_rooms, user_id)

    # ------------------------------------------------------------------ others' membership

    async def invite(
        self, sender: str, room_id: str, target: str, *, reason: str | None = None
    ) -> None:
        await self._require_room(room_id)
        if self.query_unknown_user is not None and self.pipeline.is_local(target):
            # spec: application-service-api "Query User": the service may create it.
            await self.query_unknown_user(target)
        current = await self.membership_of(room_id, target)
        if current == "join":
            raise _forbidden(f"{target} is already in the room")
        if current == "ban":
            raise _forbidden(f"{target} is banned from the room")
        # As Synapse does: the invite shows the invitee's own name and avatar.
        content = {"membership": "invite", **await self._profile(target)}
        await self._send(room_id, sender, target, _with_reason(content, reason))

    async def kick(
        self, sender: str, room_id: str, target: str, *, reason: str | None = None
    ) -> None:
        await self._require_room(room_id)
        if await self.membership_of(room_id, target) not in ("join", "invite", "knock"):
            raise _forbidden(f"{target} is not in the room")
        await self._send(room_id, sender, target, _with_reason({"membership": "leave"}, reason))

    async def ban(
        self, sender: str, room_id: str, target: str, *, reason: str | None = None
    ) -> None:
        await self._require_room(room_id)
        await self._send(room_id, sender, target, _with_reason({"membership": "ban"}, reason))

    async def unban(
        self, sender: str, room_id: str, target: str, *, reason: str | None = None
    ) -> None:
        await self._require_room(room_id)
        if await self.membership_of(room_id, target) != "ban":
            raise _forbidden(f"{target} is not banned from the room")
        await self._send(room_id, sender, target, _with_reason({"membership": "leave"}, reason))
