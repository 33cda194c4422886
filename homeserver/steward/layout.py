"""Channels and categories of a guild: create, move, rename, delete.

DESIGN.md "Concord layer": a channel's position is (its category's order, its own
m.space.child ``order``), so moving a category is one ``im.concord.category`` event and
its channels follow. Every request is checked whole before its first event is sent:
a refused request changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from homeserver.chat.event_types import (
    CATEGORY,
    CHILD_CATEGORY_FIELD,
    MANAGE_CHANNELS,
    SPACE_CHILD,
)
from homeserver.chat.schemas import ChatSchemaError, validate_state
from homeserver.errors import MatrixError, not_found

from .context import GuildDeps, LoadedGuild, next_order
from .guilds import GuildActions, channel_json
from .snapshot import snapshot

# Marks "not given" in a move, where None means "no category".
UNSET: Any = object()


def invalid(message: str) -> MatrixError:
    return MatrixError(400, "M_INVALID_PARAM", message)


def _checked(event_type: str, state_key: str, content: dict[str, Any]) -> dict[str, Any]:
    """The content, if Concord's schema accepts it (400 ``M_BAD_JSON`` otherwise)."""
    try:
        validate_state(event_type, state_key, content)
    except ChatSchemaError as exc:
        raise MatrixError(400, "M_BAD_JSON", str(exc)) from exc
    return content


@dataclass(frozen=True, slots=True)
class ChannelMove:
    category: Any = UNSET  # a category id, None (no category) or UNSET
    order: str | None = None
    name: str | None = None


class LayoutActions:
    def __init__(self, deps: GuildDeps) -> None:
        self.deps = deps

    async def _load(self, guild_id: str, requester: str) -> LoadedGuild:
        return await self.deps.load(guild_id, requester, MANAGE_CHANNELS)

    @staticmethod
    def _category(loaded: LoadedGuild, category: str | None) -> None:
        if category is not None and category not in loaded.guild.categories:
            raise invalid(f"Unknown category {category!r}")

    @staticmethod
    def _channel(loaded: LoadedGuild, channel_id: str) -> dict[str, Any]:
        if channel_id not in loaded.guild.channels:
            raise not_found("Unknown channel in this guild")
        return dict(loaded.space.content(SPACE_CHILD, channel_id))

    # ------------------------------------------------------------------ channels

    async def create_channel(
        self,
        requester: str,
        guild_id: str,
        *,
        name: str,
        voice: bool,
        category: str | None,
        topic: str | None,
    ) -> dict[str, Any]:
        loaded = await self._load(guild_id, requester)
        self._category(loaded, category)
        room_id = await self.deps.create_channel(
            loaded,
            name=name,
            voice=voice,
            category=category,
            topic=topic,
            order=next_order(loaded.guild, category),
        )
        await self.deps.steward.reconcile(guild_id)  # readers invited before we answer
        # The requester may read it (manage_channels is compiled above every read
        # gate): they are in the channel they made, as with the guild's first ones.
        await self.deps.membership.join(requester, room_id)
        return channel_json(room_id, name, voice, category)

    async def move_channel(
        self, requester: str, guild_id: str, channel_id: str, move: ChannelMove
    ) -> None:
        loaded = await self._load(guild_id, requester)
        child = self._channel(loaded, channel_id)
        if move.category is not UNSET:
            self._category(loaded, move.category)
            if move.category is None:
                child.pop(CHILD_CATEGORY_FIELD, None)
            else:
                child[CHILD_CATEGORY_FIELD] = move.category
        if move.order is not None:
            child["order"] = move.order
        elif (
            move.category is not UNSET
            and move.category != loaded.guild.channels[channel_id].category
        ):
            child["order"] = next_order(loaded.guild, move.category)
        _checked(SPACE_CHILD, channel_id, child)
        channel = await snapshot(self.deps.rooms, channel_id)
        ours = channel is not None and self.deps.reconciler.is_channel_of(channel, guild_id)
        if move.name is not None and not ours:
            raise invalid("This channel's room is not managed by this guild")
        if child != loaded.space.content(SPACE_CHILD, channel_id):
            await self.deps.send_state(guild_id, SPACE_CHILD, channel_id, child)
        if move.name is not None:
            await self.deps.send_state(channel_id, "m.room.name", "", {"name": move.name})

    async def delete_channel(self, requester: str, guild_id: str, channel_id: str) -> None:
        loaded = await self._load(guild_id, requester)
        self._channel(loaded, channel_id)
        async with self.deps.steward.lock:  # no reconcile invites anyone meanwhile
            await self.deps.send_state(guild_id, SPACE_CHILD, channel_id, {})
            channel = await snapshot(self.deps.rooms, channel_id)
            if channel is not None and self.deps.reconciler.is_channel_of(channel, guild_id):
                await GuildActions(self.deps).close_room(channel_id)

    # ------------------------------------------------------------------ categories

    async def create_category(self, requester: str, guild_id: str, name: str) -> dict[str, Any]:
        loaded = await self._load(guild_id, requester)
        orders = [c.order for c in loaded.guild.categories.values()]
        category_id = secrets.token_hex(6)
        content = _checked(
            CATEGORY, category_id, {"name": name, "order": max(orders, default=-1) + 1}
        )
        await self.deps.send_state(guild_id, CATEGORY, category_id, content)
        return {"category_id": category_id, **content}

    async def update_category(
        self,
        requester: str,
        guild_id: str,
        category_id: str,
        *,
        name: str | None,
        order: int | None,
    ) -> None:
        loaded = await self._load(guild_id, requester)
        if category_id not in loaded.guild.categories:
            raise not_found("Unknown category")
        content = dict(loaded.space.content(CATEGORY, category_id))
        if name is not None:
            content["name"] = name
        if order is not None:
            content["order"] = order
        _checked(CATEGORY, category_id, content)
        if content != loaded.space.content(CATEGORY, category_id):
            await self.deps.send_state(guild_id, CATEGORY, category_id, content)

    async def delete_category(self, requester: str, guild_id: str, category_id: str) -> None:
        """Its channels move to no category (keeping their own order), then the
        category is deleted (empty content: how Matrix deletes state)."""
        loaded = await self._load(guild_id, requester)
        if category_id not in loaded.guild.categories:
            raise not_found("Unknown category")
        for link in loaded.guild.channels.values():
            if link.category != category_id:
                continue
            child = dict(loaded.space.content(SPACE_CHILD, link.room_id))
            child.pop(CHILD_CATEGORY_FIELD, None)
            await self.deps.send_state(guild_id, SPACE_CHILD, link.room_id, child)
        await self.deps.send_state(guild_id, CATEGORY, category_id, {})
