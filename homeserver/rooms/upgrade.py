"""``POST /rooms/{roomId}/upgrade``: replace a room by a new one of another version.

spec: client-server "Room Upgrades", "Server behaviour": check the power to send
``m.room.tombstone``; create the new room with ``predecessor`` (and the old ``type``);
replicate the transferable state; move local aliases; tombstone the old room; restrict
its power levels so nobody but moderators speaks or invites there any more.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from homeserver.errors import MatrixError
from homeserver.protocol.room_versions import RoomVersion

from .aliases import AliasDirectory
from .membership import MembershipHandler
from .pipeline import EventPipeline
from .room_state import RoomStateCache

# spec: "Room Upgrades" step 3, the recommended state to transfer (power levels apart).
TRANSFERABLE_STATE = (
    "m.room.server_acl",
    "m.room.encryption",
    "m.room.name",
    "m.room.avatar",
    "m.room.topic",
    "m.room.guest_access",
    "m.room.history_visibility",
    "m.room.join_rules",
)


def _max_level(content: Mapping[str, Any]) -> int:
    """The highest level a power levels content asks for anywhere (at least 100)."""
    levels = [100]
    for key in ("ban", "kick", "redact", "invite", "events_default", "state_default"):
        value = content.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            levels.append(value)
    for group in ("events", "users", "notifications"):
        values = content.get(group)
        if isinstance(values, dict):
            levels += [v for v in values.values() if isinstance(v, int) and not isinstance(v, bool)]
    return max(levels)


class RoomUpgrader:
    def __init__(
        self,
        rooms: RoomStateCache,
        pipeline: EventPipeline,
        aliases: AliasDirectory,
        membership: MembershipHandler,
    ) -> None:
        self.rooms = rooms
        self.pipeline = pipeline
        self.aliases = aliases
        self.membership = membership
        # Upgrades under way, by (old room, user): a repeated request (a client
        # retrying) waits for the first and gets the same replacement room.
        self._running: dict[tuple[str, str], asyncio.Future[str]] = {}

    async def upgrade(
        self,
        user_id: str,
        old_room: str,
        version: RoomVersion,
        additional_creators: list[str] | None = None,
    ) -> str:
        key = (old_room, user_id)
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            new_room = await self._upgrade(user_id, old_room, version, additional_creators)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # marked retrieved: only waiters re-raise it
            raise
        except BaseException:
            future.cancel()
            raise
        else:
            future.set_result(new_room)
            return new_room
        finally:
            del self._running[key]

    async def _upgrade(
        self,
        user_id: str,
        old_room: str,
        version: RoomVersion,
        additional_creators: list[str] | None,
    ) -> str:
        info = await self.rooms.room(old_room)
        if info is None:
            raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
        if await self.membership.membership_of(old_room, user_id) != "join":
            raise MatrixError(403, "M_FORBIDDEN", "You are not in this room")
        power = await self.rooms.power(old_room)
        if not power.can_send(user_id, "m.room.tombstone", True):
            raise MatrixError(403, "M_FORBIDDEN", "You cannot upgrade this room")
        keys = [(t, "") for t in (*TRANSFERABLE_STATE, "m.room.create", "m.room.power_levels")]
        keys.append(("m.room.canonical_alias", ""))
        old_state = await self.rooms.state_events(old_room, keys)
        old_create = old_state.get(("m.room.create", ""))

        create: dict[str, Any] = {"predecessor": {"room_id": old_room}}
        if not version.room_id_from_create_event and info.extremities:
            create["predecessor"]["event_id"] = info.extremities[-1]
        if old_create is not None:
            for key in ("type", "m.federate"):
                if key in old_create.content:
                    create[key] = old_create.content[key]
        if version.privileged_creators and additional_creators:
            create["additional_creators"] = list(dict.fromkeys(additional_creators))
        created = await self.pipeline.create_room(version, user_id, create)
        new_room = created.event.room_id
        await self.membership.join(user_id, new_room)
        send = self.pipeline.send

        # Power levels: the old room's, the upgrader made able to send the rest.
        old_pl = old_state.get(("m.room.power_levels", ""))
        final: dict[str, Any] = dict(old_pl.content) if old_pl is not None else {}
        users = dict(final.get("users") or {})
        if version.privileged_creators:
            # spec: rooms/v12 — creators must not be listed in `users`.
            for creator in {user_id, *(additional_creators or [])}:
                users.pop(creator, None)
        elif info.version.privileged_creators and power.user_level(user_id) > _max_level(final):
            users[user_id] = _max_level(final)  # an infinite-power creator keeps top power
        final["users"] = users
        restore = False
        if not version.privileged_creators:
            needed = _max_level(final)
            default = final.get("users_default", 0)
            own = users.get(user_id, default if isinstance(default, int) else 0)
            if own < needed:
                temporary = {**final, "users": {**users, user_id: needed}}
                await send(new_room, user_id, "m.room.power_levels", temporary, state_key="")
                restore = True
        if not restore:
            await send(new_room, user_id, "m.room.power_levels", final, state_key="")

        for event_type in TRANSFERABLE_STATE:
            event = old_state.get((event_type, ""))
            if event is not None and event.content:
                await send(new_room, user_id, event_type, dict(event.content), state_key="")
        await self._copy_bans(user_id, old_room, new_room)
        await self._move_aliases(user_id, old_room, new_room, old_state)
        if restore:
            await send(new_room, user_id, "m.room.power_levels", final, state_key="")

        await send(
            old_room,
            user_id,
            "m.room.tombstone",
            {"body": "This room has been replaced", "replacement_room": new_room},
            state_key="",
        )
        await self._restrict_old_room(user_id, old_room)
        if await self.aliases.visibility(old_room):
            await self.aliases.set_visibility(new_room, public=True)
            await self.aliases.set_visibility(old_room, public=False)
        return new_room

    async def _copy_bans(self, user_id: str, old_room: str, new_room: str) -> None:
        info = await self.rooms.room(old_room)
        assert info is not None
        members = await self.rooms.get_events(
            [eid for (t, _), eid in info.state.items() if t == "m.room.member"]
        )
        for event in members.values():
            if event.membership == "ban" and event.state_key and event.state_key != user_id:
                content: dict[str, Any] = {"membership": "ban"}
                if isinstance(event.content.get("reason"), str):
                    content["reason"] = event.content["reason"]
                try:
                    await self.pipeline.send(
                        new_room, user_id, "m.room.member", content, state_key=event.state_key
                    )
                except MatrixError:
                    continue  # e.g. not enough power to ban in the new room

    async def _move_aliases(
        self, user_id: str, old_room: str, new_room: str, old_state: Mapping[Any, Any]
    ) -> None:
        """spec step 4: local aliases move; the canonical alias follows them."""
        for alias in await self.aliases.room_aliases(old_room):
            creator = await self.aliases.creator(alias) or user_id
            await self.aliases.delete(alias)
            await self.aliases.create(alias, new_room, creator)
        canonical = old_state.get(("m.room.canonical_alias", ""))
        if canonical is not None and canonical.content:
            await self.pipeline.send(
                new_room, user_id, "m.room.canonical_alias", dict(canonical.content), state_key=""
            )
            # Without the power, the old room keeps naming aliases that now resolve elsewhere.
            with contextlib.suppress(MatrixError):
                await self.pipeline.send(
                    old_room, user_id, "m.room.canonical_alias", {}, state_key=""
                )

    async def _restrict_old_room(self, user_id: str, old_room: str) -> None:
        """spec step 6: events_default and invite to max(50, users_default + 1)."""
        found = await self.rooms.state_events(old_room, [("m.room.power_levels", "")])
        pl = found.get(("m.room.power_levels", ""))
        content: dict[str, Any] = dict(pl.content) if pl is not None else {}
        default = content.get("users_default", 0)
        level = max(50, (default if isinstance(default, int) else 0) + 1)
        content["events_default"] = level
        content["invite"] = level
        # The upgrader may lack power-levels power; the tombstone is what matters.
        with contextlib.suppress(MatrixError):
            await self.pipeline.send(
                old_room, user_id, "m.room.power_levels", content, state_key=""
            )
