"""One reconcile of one guild: compile its permissions and send what differs.

DESIGN.md "Concord layer": the pure compiler (``homeserver.chat.compiler``) maps roles,
member roles, channel permissions and membership to each channel's power levels, join
rule and readers; the steward applies the result as ordinary events through the
pipeline, so federation, sync and push see them like any other. Applying is
idempotent: a reconcile with nothing to change sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homeserver.chat.compiler import ChannelPlan, compile_channel, compile_guild_power_levels
from homeserver.chat.event_types import CHANNEL_PERMISSIONS, VOICE_ROOM_TYPE
from homeserver.chat.guild import Guild, guild_from_state
from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.rooms.membership import MembershipHandler
from homeserver.rooms.pipeline import EventPipeline
from homeserver.rooms.room_state import RoomStateCache

from .snapshot import RoomSnapshot, snapshot

log = logging.getLogger(__name__)

SPACE_TYPE = "m.space"
# Memberships that put a user in a channel (or on the way in): losing read ends them.
_PRESENT = ("join", "invite", "knock")


@dataclass
class ReconcileResult:
    """What a reconcile did: events sent, and actions the pipeline refused."""

    sent: int = 0
    failed: int = 0
    channels: list[str] = field(default_factory=list)


def is_guild(space: RoomSnapshot, steward: str) -> bool:
    """A guild is a space the steward created (it holds the top power there) and has
    not left (a deleted guild: DELETE /guilds/{roomId})."""
    return (
        space.creator == steward
        and space.room_type == SPACE_TYPE
        and space.membership(steward) == "join"
    )


def join_rules_content(plan: ChannelPlan) -> dict[str, Any]:
    content: dict[str, Any] = {"join_rule": plan.join_rule}
    if plan.join_rule in ("restricted", "knock_restricted"):
        content["allow"] = [dict(entry) for entry in plan.allow]
    return content


class Reconciler:
    def __init__(
        self,
        rooms: RoomStateCache,
        pipeline: EventPipeline,
        membership: MembershipHandler,
        *,
        steward: str,
        sfu_user_id: str | None = None,
        sfu_power_level: int = 50,
    ) -> None:
        self.rooms = rooms
        self.pipeline = pipeline
        self.membership = membership
        self.steward = steward
        self.sfu_user_id = sfu_user_id
        self.sfu_power_level = sfu_power_level

    def service_users(self, is_voice: bool) -> Mapping[str, int]:
        """Users the compiler keeps at a fixed level and the steward never kicks."""
        if is_voice and self.sfu_user_id is not None:
            return {self.sfu_user_id: self.sfu_power_level}
        return {}

    async def load_guild(self, guild_id: str) -> tuple[RoomSnapshot, Guild] | None:
        space = await snapshot(self.rooms, guild_id)
        if space is None or not is_guild(space, self.steward):
            return None
        return space, guild_from_state(guild_id, space.state, creators=(space.creator,))

    async def reconcile(self, guild_id: str) -> ReconcileResult:
        """Bring the guild's space and every channel the steward created in line with
        the compiled result. Each refused action is logged and counted; the others
        still happen (one unreachable remote invitee must not block a kick)."""
        result = ReconcileResult()
        loaded = await self.load_guild(guild_id)
        if loaded is None:
            return result
        space, guild = loaded
        current = space.content("m.room.power_levels")
        levels = compile_guild_power_levels(guild, current, steward=self.steward)
        await self._set_state(result, space, "m.room.power_levels", current, levels)
        for link in guild.channels.values():
            channel = await snapshot(self.rooms, link.room_id)
            if channel is None or channel.creator != self.steward:
                continue  # not ours to enforce (a room linked from elsewhere)
            result.channels.append(link.room_id)
            await self.reconcile_channel(result, guild, channel)
        if result.sent or result.failed:
            log.info(
                "guild reconciled",
                extra=fields(room_id=guild_id, sent=result.sent, failed=result.failed),
            )
        return result

    def plan_for(
        self,
        guild: Guild,
        permissions: Mapping[str, Any],
        current_power_levels: Mapping[str, Any],
        *,
        is_voice: bool,
    ) -> ChannelPlan:
        return compile_channel(
            guild,
            permissions,
            current_power_levels,
            steward=self.steward,
            is_voice=is_voice,
            service_users=self.service_users(is_voice),
        )

    def plan_channel(self, guild: Guild, channel: RoomSnapshot) -> ChannelPlan:
        return self.plan_for(
            guild,
            channel.content(CHANNEL_PERMISSIONS),
            channel.content("m.room.power_levels"),
            is_voice=channel.room_type == VOICE_ROOM_TYPE,
        )

    async def reconcile_channel(
        self, result: ReconcileResult, guild: Guild, channel: RoomSnapshot
    ) -> None:
        plan = self.plan_channel(guild, channel)
        is_voice = channel.room_type == VOICE_ROOM_TYPE
        keep = {self.steward, *self.service_users(is_voice)}
        # Order: rules and levels first, so that an invitee can join at once and a
        # kicked user's seat is closed before they could rejoin.
        current_rules = channel.content("m.room.join_rules")
        await self._set_state(
            result, channel, "m.room.join_rules", current_rules, join_rules_content(plan)
        )
        current_levels = channel.content("m.room.power_levels")
        await self._set_state(
            result, channel, "m.room.power_levels", current_levels, plan.power_levels
        )
        for user in channel.members(*_PRESENT):
            if user not in plan.readers and user not in keep:
                await self._act(result, "kick", channel.room_id, user)
        invitees = sorted(plan.readers - keep)
        if is_voice and self.sfu_user_id is not None:
            invitees.append(self.sfu_user_id)
        for user in invitees:
            if self._should_invite(channel, user):
                await self._act(result, "invite", channel.room_id, user)

    def _should_invite(self, channel: RoomSnapshot, user: str) -> bool:
        """Readers who are not in and were never there, or whom the steward removed
        (read given back). A reader who left on their own is not pulled back in: the
        restricted join rule lets them return when they choose; a ban stays a ban."""
        membership = channel.membership(user)
        if membership is None:
            return True
        if membership == "leave":
            return channel.senders.get(("m.room.member", user)) == self.steward
        return False

    async def _set_state(
        self,
        result: ReconcileResult,
        room: RoomSnapshot,
        event_type: str,
        current: Mapping[str, Any],
        wanted: Mapping[str, Any],
    ) -> None:
        if dict(current) == dict(wanted):
            return
        key = (event_type, "")
        base = room.event_ids.get(key)
        try:
            # Conditional on the state we compiled from: a concurrent change wins and
            # schedules the next reconcile, which compiles from it.
            await self.pipeline.send(
                room.room_id,
                self.steward,
                event_type,
                dict(wanted),
                state_key="",
                if_state=None if base is None else (key, base),
            )
            result.sent += 1
        except MatrixError as exc:
            result.failed += 1
            log.warning(
                "steward could not update state",
                extra=fields(room_id=room.room_id, type=event_type, error=exc.message),
            )

    async def _act(self, result: ReconcileResult, action: str, room_id: str, user: str) -> None:
        try:
            if action == "invite":
                await self.membership.invite(self.steward, room_id, user)
            else:
                await self.membership.kick(
                    self.steward, room_id, user, reason="No longer allowed to read this channel"
                )
            result.sent += 1
        except MatrixError as exc:
            result.failed += 1
            log.warning(
                "steward membership change refused",
                extra=fields(room_id=room_id, user_id=user, action=action, error=exc.message),
            )
