"""``org.matrix.login.jwt``: a JWT signed by a trusted issuer names the user.

The subject claim holds the localpart (or a full user id on this server); the account is
created on first login. Expiry (``exp``) and not-before (``nbf``) are checked when present;
``iss`` and ``aud`` when the config names them.
"""

from __future__ import annotations

from typing import Any

from homeserver.clock import Clock
from homeserver.config import JwtConfig
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import is_valid_localpart, parse_user_id

from .errors import forbidden


class JwtVerifier:
    def __init__(self, config: JwtConfig, server_name: str, clock: Clock) -> None:
        self.config = config
        self.server_name = server_name
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    def localpart(self, token: object) -> str:
        """The localpart a valid token names; 403 ``M_FORBIDDEN`` otherwise."""
        if not self.config.enabled:
            raise forbidden("JWT login is not enabled")
        if not isinstance(token, str) or not token:
            raise forbidden("A JWT is required in `token`")
        required = [self.config.subject_claim]
        if self.config.issuer is not None:
            required.append("iss")
        if self.config.audiences:
            required.append("aud")
        # Imported here: pyjwt pulls in `cryptography` (~8 MB of RSS) that a server
        # without JWT login never needs.
        import jwt

        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.config.secret,
                algorithms=[self.config.algorithm],
                issuer=self.config.issuer,
                audience=list(self.config.audiences) or None,
                # Time comes from our clock (below), not pyjwt's.
                options={
                    "require": required,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise forbidden(f"JWT validation failed: {exc}") from None
        now_s = self._clock.time_ms() / 1000
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if exp is not None and (not _is_number(exp) or now_s >= exp):
            raise forbidden("JWT validation failed: the token has expired")
        if nbf is not None and (not _is_number(nbf) or now_s < nbf):
            raise forbidden("JWT validation failed: the token is not yet valid")
        subject = claims.get(self.config.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise forbidden(f"JWT claim `{self.config.subject_claim}` must be a string")
        if subject.startswith("@"):
            try:
                localpart, server = parse_user_id(subject)
            except InvalidIdentifier:
                raise forbidden("JWT subject is not a valid user id") from None
            if server != self.server_name:
                raise forbidden("JWT subject is a user of another server")
            subject = localpart
        localpart = subject.lower()
        if not is_valid_localpart(localpart) or len(f"@{localpart}:{self.server_name}") > 255:
            raise forbidden("JWT subject is not a valid user name")
        return localpart


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
