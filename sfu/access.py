"""The seam between the SFU's two halves: access (who may be in which voice room) and
media (signaling and RTP forwarding).

``sfu/auth/`` implements both protocols against a real homeserver (OpenID token exchange,
JWTs, the application-service view of the room); ``sfu/media/`` only calls them, so its
tests can drive it with an in-memory ``Access``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

TrackKind = Literal["audio", "webcam", "screen"]
TRACK_KINDS: tuple[TrackKind, ...] = ("audio", "webcam", "screen")


@dataclass(frozen=True)
class Grant:
    """What a verified SFU token says: this user (this device) may connect to this room
    until ``expires_at_ms``."""

    user_id: str
    device_id: str
    room_id: str
    expires_at_ms: int


class AccessDenied(Exception):
    """Refusal with a Matrix-style error the client can show: ``status`` is the HTTP
    status (or WebSocket close reason), ``errcode`` e.g. ``M_FORBIDDEN``,
    ``M_UNKNOWN_TOKEN``."""

    def __init__(self, status: int, errcode: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.errcode = errcode
        self.message = message

    def to_json(self) -> dict[str, str]:
        return {"errcode": self.errcode, "error": self.message}


class Access(Protocol):
    def verify(self, token: str) -> Grant:
        """The grant a JWT from ``/token`` carries; ``AccessDenied`` (401
        ``M_UNKNOWN_TOKEN``) when it is malformed, badly signed or expired."""
        ...

    async def check_member(self, grant: Grant) -> None:
        """Asks the homeserver again, at signaling join: ``AccessDenied`` (403
        ``M_FORBIDDEN``) when the user is no longer joined to the room (left, kicked,
        banned)."""
        ...

    async def may_moderate(self, room_id: str, moderator: str, target: str) -> bool:
        """Whether ``moderator``'s power level in the room lets them mute ``target``
        (at least the room's ``kick`` level and above the target's level)."""
        ...


class CallRoster(Protocol):
    """Voice-channel presence as ``org.matrix.msc3401.call.member`` state in the room."""

    async def joined(self, grant: Grant, session_id: str, tracks: list[TrackKind]) -> None: ...

    async def left(self, grant: Grant, session_id: str) -> None: ...
