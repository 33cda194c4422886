"""``Access`` (sfu/access.py) against real homeservers: OpenID tokens are verified with the
user's own homeserver, room membership and power levels are read from ours by the SFU's
application-service bot, and the SFU's JWTs carry the result."""

from __future__ import annotations

import logging

from sfu.access import AccessDenied, Grant

from .homeserver import HomeserverClient, HomeserverError
from .openid import OpenIdVerifier
from .power import RoomPower
from .token_request import TokenRequest
from .tokens import TokenIssuer

log = logging.getLogger("sfu.access")


def _unavailable(exc: HomeserverError) -> AccessDenied:
    log.warning("homeserver check failed error=%s", exc)
    return AccessDenied(502, "M_UNKNOWN", "The SFU could not reach its homeserver")


class HomeserverAccess:
    def __init__(
        self,
        tokens: TokenIssuer,
        openid: OpenIdVerifier,
        homeserver: HomeserverClient,
        bot_user_id: str,
    ) -> None:
        self.tokens = tokens
        self.openid = openid
        self.homeserver = homeserver
        self.bot_user_id = bot_user_id

    async def issue(self, request: TokenRequest) -> tuple[str, Grant]:
        """``POST /token``: who the OpenID token is, whether they are in the room, and a
        JWT saying so."""
        user_id = await self.openid.user_for(request.server_name, request.access_token)
        await self.require_joined(request.room_id, user_id)
        return self.tokens.issue(user_id, request.device_id, request.room_id)

    def verify(self, token: str) -> Grant:
        return self.tokens.verify(token)

    async def check_member(self, grant: Grant) -> None:
        await self.require_joined(grant.room_id, grant.user_id)

    async def may_moderate(self, room_id: str, moderator: str, target: str) -> bool:
        try:
            state = await self.homeserver.room_state(room_id)
        except HomeserverError as exc:
            log.warning("power levels unreadable room=%s error=%s", room_id, exc)
            return False
        return RoomPower(state).may_moderate(moderator, target)

    async def require_joined(self, room_id: str, user_id: str) -> None:
        bot = self.bot_user_id
        not_here = AccessDenied(
            403,
            "M_FORBIDDEN",
            f"The voice server's bot {bot} is not in {room_id}: invite it to use voice there",
        )
        try:
            # The bot's own membership first: a bot that left still reads the state as
            # of its leave, which would be stale for everyone else.
            mine = await self.homeserver.state_event(room_id, "m.room.member", bot)
        except HomeserverError as exc:
            if exc.status in (403, 404):
                raise not_here from None
            raise _unavailable(exc) from None
        if not isinstance(mine, dict) or mine.get("membership") != "join":
            raise not_here
        try:
            theirs = await self.homeserver.state_event(room_id, "m.room.member", user_id)
        except HomeserverError as exc:
            raise _unavailable(exc) from None
        membership = theirs.get("membership") if isinstance(theirs, dict) else None
        if membership == "ban":
            raise AccessDenied(403, "M_FORBIDDEN", f"{user_id} is banned from {room_id}")
        if membership != "join":
            raise AccessDenied(403, "M_FORBIDDEN", f"{user_id} is not joined to {room_id}")
