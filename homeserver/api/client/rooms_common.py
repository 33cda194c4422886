"""What the room route modules share: the handlers' app key, path prefixes and the
validation of path parameters."""

from __future__ import annotations

from dataclasses import dataclass

from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_room_id
from homeserver.rooms.access import RoomAccess
from homeserver.rooms.creation import RoomCreator
from homeserver.rooms.directory import DirectoryHandler
from homeserver.rooms.events_view import Viewer
from homeserver.rooms.membership import MembershipHandler
from homeserver.rooms.messages import MessagesHandler
from homeserver.rooms.sending import SendHandler
from homeserver.rooms.state_reads import StateReader
from homeserver.rooms.upgrade import RoomUpgrader

from ..auth import Requester

# r0 is what older clients and bots still call; the endpoints behave the same.
CLIENT_VERSIONS = ("v3", "r0")


@dataclass(frozen=True, slots=True)
class RoomHandlers:
    creator: RoomCreator
    access: RoomAccess
    membership: MembershipHandler
    sending: SendHandler
    messages: MessagesHandler
    state: StateReader
    directory: DirectoryHandler
    upgrader: RoomUpgrader


ROOM_HANDLERS_KEY = web.AppKey("room_handlers", RoomHandlers)


def handlers(request: web.Request) -> RoomHandlers:
    return request.config_dict[ROOM_HANDLERS_KEY]


def paths(suffix: str, versions: tuple[str, ...] = CLIENT_VERSIONS) -> list[str]:
    return [f"/_matrix/client/{version}{suffix}" for version in versions]


def viewer(requester: Requester) -> Viewer:
    return Viewer(requester.user_id, requester.device_id)


def room_id_param(request: web.Request, name: str = "roomId") -> str:
    value = request.match_info[name]
    try:
        parse_room_id(value)
    except InvalidIdentifier as exc:
        raise MatrixError(400, "M_INVALID_PARAM", f"invalid room id: {exc}") from exc
    return value


def event_id_param(request: web.Request, name: str = "eventId") -> str:
    value = request.match_info[name]
    if not value.startswith("$") or len(value) > 255:
        raise MatrixError(400, "M_INVALID_PARAM", f"invalid event id: {value!r}")
    return value


def int_param(request: web.Request, name: str, default: int, *, maximum: int) -> int:
    """A non-negative integer query parameter, capped at ``maximum``."""
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise MatrixError(400, "M_INVALID_PARAM", f"`{name}` must be an integer") from None
    if value < 0:
        raise MatrixError(400, "M_INVALID_PARAM", f"`{name}` must not be negative")
    return min(value, maximum)
