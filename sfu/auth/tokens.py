"""The SFU's own short-lived tokens: HS256 JWTs (pyjwt) that carry a ``Grant``.

``/token`` issues one after checking the user's OpenID token and room membership; the
signaling WebSocket accepts it (``Access.verify``). Claims: ``sub`` (Matrix user id),
``room``, ``device``, ``iat``, ``exp`` (seconds, RFC 7519), and ``aud`` so that a token
another service signed with a shared secret is not taken for ours.
"""

from __future__ import annotations

from typing import Any

import jwt

from sfu.access import AccessDenied, Grant

from .clock import Clock

ALGORITHM = "HS256"
AUDIENCE = "im.concord.sfu"


class TokenIssuer:
    def __init__(self, secret: str, ttl_seconds: int, clock: Clock) -> None:
        self.secret = secret
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    def issue(self, user_id: str, device_id: str, room_id: str) -> tuple[str, Grant]:
        now_s = self.clock.time_ms() // 1000
        expires_s = now_s + self.ttl_seconds
        claims = {
            "sub": user_id,
            "room": room_id,
            "device": device_id,
            "aud": AUDIENCE,
            "iat": now_s,
            "exp": expires_s,
        }
        token = jwt.encode(claims, self.secret, algorithm=ALGORITHM)
        return token, Grant(user_id, device_id, room_id, expires_s * 1000)

    def verify(self, token: str) -> Grant:
        try:
            # Expiry is checked below against the injected clock, not pyjwt's time.time().
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"verify_exp": False, "require": ["sub", "room", "device", "exp"]},
            )
        except jwt.InvalidTokenError as exc:
            raise AccessDenied(401, "M_UNKNOWN_TOKEN", f"Invalid SFU token: {exc}") from None
        expires = claims["exp"]
        fields = (claims["sub"], claims["device"], claims["room"])
        if not isinstance(expires, int) or not all(isinstance(f, str) and f for f in fields):
            raise AccessDenied(401, "M_UNKNOWN_TOKEN", "Invalid SFU token: malformed claims")
        if expires * 1000 <= self.clock.time_ms():
            raise AccessDenied(401, "M_UNKNOWN_TOKEN", "The SFU token has expired")
        return Grant(claims["sub"], claims["device"], claims["room"], expires * 1000)
