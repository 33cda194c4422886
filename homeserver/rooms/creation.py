"""``POST /createRoom``: the ordered events a new room starts with.

spec: client-server "POST /_matrix/client/v3/createRoom" — create, creator's join,
power levels (override merged), canonical alias, preset events, ``initial_state``,
name and topic, then invites; each one through the normal pipeline and auth rules.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.protocol.errors import InvalidIdentifier, UnknownRoomVersion
from homeserver.protocol.ids import parse_user_id, room_alias
from homeserver.protocol.room_versions import DEFAULT_ROOM_VERSION, RoomVersion, room_version
from homeserver.storage import room_reads

from .aliases import AliasDirectory
from .chat_checks import check_content
from .pipeline import EventPipeline

PRESETS: Mapping[str, Mapping[str, str]] = {
    "private_chat": {"join_rule": "invite", "history_visibility": "shared", "guest": "can_join"},
    "trusted_private_chat": {
        "join_rule": "invite",
        "history_visibility": "shared",
        "guest": "can_join",
    },
    "public_chat": {"join_rule": "public", "history_visibility": "shared", "guest": "forbidden"},
}

log = logging.getLogger(__name__)


@dataclass
class CreateRoomRequest:
    visibility: str = "private"
    room_alias_name: str | None = None
    name: str | None = None
    topic: str | None = None
    invite: list[str] = field(default_factory=list)
    room_version: RoomVersion = DEFAULT_ROOM_VERSION
    creation_content: dict[str, Any] = field(default_factory=dict)
    initial_state: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    preset: str = "private_chat"
    is_direct: bool = False
    power_level_content_override: dict[str, Any] | None = None


def _bad(message: str, errcode: str = "M_BAD_JSON") -> MatrixError:
    return MatrixError(400, errcode, message)


def parse_create_room(body: object) -> CreateRoomRequest:
    """Validate the request body; every problem is a 400 with a clear errcode."""
    if not isinstance(body, dict):
        raise _bad("Request body must be a JSON object", "M_NOT_JSON")
    req = CreateRoomRequest()
    visibility = body.get("visibility", "private")
    if visibility not in ("public", "private"):
        raise _bad("`visibility` must be public or private", "M_INVALID_PARAM")
    req.visibility = visibility
    for key in ("room_alias_name", "name", "topic"):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise _bad(f"`{key}` must be a string")
        setattr(req, key, value)
    invite = body.get("invite", [])
    if not isinstance(invite, list):
        raise _bad("`invite` must be a list of user ids")
    for user in invite:
        try:
            parse_user_id(user)
        except InvalidIdentifier as exc:
            raise _bad(f"invalid user id in `invite`: {exc}", "M_INVALID_PARAM") from exc
    req.invite = list(dict.fromkeys(invite))
    if "room_version" in body:
        try:
            req.room_version = room_version(body["room_version"])
        except UnknownRoomVersion as exc:
            raise _bad(str(exc), "M_UNSUPPORTED_ROOM_VERSION") from exc
    creation = body.get("creation_content", {})
    if not isinstance(creation, dict):
        raise _bad("`creation_content` must be an object")
    req.creation_content = copy.deepcopy(creation)
    initial = body.get("initial_state", [])
    if not isinstance(initial, list):
        raise _bad("`initial_state` must be a list", "M_INVALID_ROOM_STATE")
    for item in initial:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("type"), str)
            or not isinstance(item.get("content"), dict)
            or not isinstance(item.get("state_key", ""), str)
        ):
            raise _bad(
                "`initial_state` entries need `type`, `content` and a string `state_key`",
                "M_INVALID_ROOM_STATE",
            )
        check_content(item["type"], item.get("state_key", ""), item["content"])
        req.initial_state.append((item["type"], item.get("state_key", ""), item["content"]))
    preset = body.get("preset")
    if preset is None:
        preset = "public_chat" if req.visibility == "public" else "private_chat"
    if preset not in PRESETS:
        raise _bad(f"unknown preset {preset!r}", "M_INVALID_PARAM")
    req.preset = preset
    is_direct = body.get("is_direct", False)
    if not isinstance(is_direct, bool):
        raise _bad("`is_direct` must be a boolean")
    req.is_direct = is_direct
    override = body.get("power_level_content_override")
    if override is not None and not isinstance(override, dict):
        raise _bad("`power_level_content_override` must be an object")
    req.power_level_content_override = override
    return req


def default_power_levels(
    version: RoomVersion, creator: str, preset: str, invitees: list[str]
) -> dict[str, Any]:
    users: dict[str, int] = {}
    if not version.privileged_creators:
        users[creator] = 100
        if preset == "trusted_private_chat":
            users.update(dict.fromkeys(invitees, 100))
    # spec: createRoom step 3 — in v12 tombstone must need more than state_default
    tombstone = 150 if version.privileged_creators else 100
    return {
        "users": users,
        "users_default": 0,
        "events": {
            "m.room.name": 50,
            "m.room.power_levels": 100,
            "m.room.history_visibility": 100,
            "m.room.canonical_alias": 50,
            "m.room.avatar": 50,
            "m.room.tombstone": tombstone,
            "m.room.server_acl": 100,
            "m.room.encryption": 100,
        },
        "events_default": 0,
        "state_default": 50,
        "ban": 50,
        "kick": 50,
        "redact": 50,
        "invite": 50 if preset == "public_chat" else 0,
        "notifications": {"room": 50},
    }


class RoomCreator:
    def __init__(self, pipeline: EventPipeline, aliases: AliasDirectory) -> None:
        self.pipeline = pipeline
        self.aliases = aliases
        # Set by the application service wiring: asks the service whose users namespace
        # holds an unknown local invitee (it may create the user).
        self.query_unknown_user: Callable[[str], Awaitable[bool]] | None = None

    async def _profile(self, user_id: str) -> dict[str, Any]:
        if not self.pipeline.is_local(user_id):
            return {}
        return await self.pipeline.store.db.read(room_reads.profile, user_id)

    async def create_room(self, creator: str, req: CreateRoomRequest) -> str:
        """Create the room and return its id."""
        version = req.room_version
        server = self.pipeline.server_name
        alias: str | None = None
        if req.room_alias_name is not None:
            try:
                alias = room_alias(f"#{req.room_alias_name}:{server}")
            except InvalidIdentifier as exc:
                raise _bad(f"invalid room alias: {exc}", "M_INVALID_PARAM") from exc
            self.aliases.check_exclusive(creator, alias)
            if await self.aliases.resolve_local(alias) is not None:
                raise _bad("Room alias already taken", "M_ROOM_IN_USE")

        creation = dict(req.creation_content)
        if version.privileged_creators and req.preset == "trusted_private_chat":
            extra = creation.get("additional_creators", [])
            if isinstance(extra, list):
                creation["additional_creators"] = list(dict.fromkeys([*extra, *req.invite]))
        created = await self.pipeline.create_room(version, creator, creation)
        room_id = created.event.room_id
        send = self.pipeline.send

        # spec: "Events on Change of Profile Information" — our users' member events
        # carry their name and avatar.
        join = {"membership": "join", **await self._profile(creator)}
        await send(room_id, creator, "m.room.member", join, state_key=creator)
        levels = default_power_levels(version, creator, req.preset, req.invite)
        if req.power_level_content_override:
            levels.update(req.power_level_content_override)
        await send(room_id, creator, "m.room.power_levels", levels, state_key="")
        if alias is not None:
            await self.aliases.create(alias, room_id, creator)
            await send(room_id, creator, "m.room.canonical_alias", {"alias": alias}, state_key="")
        preset = PRESETS[req.preset]
        initial_keys = {(t, k) for t, k, _ in req.initial_state}
        for preset_type, key, value in (
            ("m.room.join_rules", "join_rule", preset["join_rule"]),
            ("m.room.history_visibility", "history_visibility", preset["history_visibility"]),
            ("m.room.guest_access", "guest_access", preset["guest"]),
        ):
            if (preset_type, "") not in initial_keys:
                await send(room_id, creator, preset_type, {key: value}, state_key="")
        for event_type, state_key, content in req.initial_state:
            if event_type == "m.room.name" and req.name is not None:
                continue
            if event_type == "m.room.topic" and req.topic is not None:
                continue
            await send(room_id, creator, event_type, content, state_key=state_key)
        if req.name is not None:
            await send(room_id, creator, "m.room.name", {"name": req.name}, state_key="")
        if req.topic is not None:
            topic = {
                "topic": req.topic,
                "m.topic": {"m.text": [{"body": req.topic, "mimetype": "text/plain"}]},
            }
            await send(room_id, creator, "m.room.topic", topic, state_key="")
        if req.visibility == "public":
            await self.aliases.set_visibility(room_id, public=True)
        for invitee in req.invite:
            if self.query_unknown_user is not None and self.pipeline.is_local(invitee):
                await self.query_unknown_user(invitee)
            invite: dict[str, Any] = {"membership": "invite", **await self._profile(invitee)}
            if req.is_direct:
                invite["is_direct"] = True
            try:
                await send(room_id, creator, "m.room.member", invite, state_key=invitee)
            except MatrixError as exc:
                if exc.status < 500:
                    raise
                # As Synapse does: a remote invitee's server that cannot be reached
                # does not cost the room; the invite can be sent again later.
                log.warning(
                    "invite at room creation failed",
                    extra=fields(room_id=room_id, invitee=invitee, error=exc.message),
                )
        return room_id
