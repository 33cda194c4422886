"""bcrypt password hashing, off the event loop (one thread hop per hash or check)."""

from __future__ import annotations

import asyncio

import bcrypt

from homeserver.errors import MatrixError

# bcrypt only reads the first 72 bytes; bcrypt 5 raises on longer input instead of
# truncating, so we truncate ourselves (as older bcrypt and Synapse's hashes did).
_BCRYPT_MAX_BYTES = 72


def _secret(password: str) -> bytes:
    return password.encode("utf-8")[:_BCRYPT_MAX_BYTES]


class PasswordHasher:
    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self._dummy_hash: bytes | None = None

    async def hash(self, password: str) -> str:
        def work() -> str:
            return bcrypt.hashpw(_secret(password), bcrypt.gensalt(self.rounds)).decode("ascii")

        return await asyncio.to_thread(work)

    async def check(self, password: str, stored_hash: str | None) -> bool:
        """Whether ``password`` matches; with no stored hash (unknown user, no password)
        it still spends the time of a real check, so timing tells nothing."""
        if stored_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = (await self.hash("concord-timing-equalizer")).encode("ascii")
            dummy = self._dummy_hash
            await asyncio.to_thread(bcrypt.checkpw, _secret(password), dummy)
            return False

        def work() -> bool:
            try:
                return bcrypt.checkpw(_secret(password), stored_hash.encode("ascii"))
            except ValueError:  # not a bcrypt hash: matches nothing
                return False

        return await asyncio.to_thread(work)


MAX_PASSWORD_LENGTH = 512


def validate_new_password(password: object) -> str:
    """A password a user may set. spec: "Password management" (``M_WEAK_PASSWORD``)."""
    if not isinstance(password, str):
        raise MatrixError(400, "M_BAD_JSON", "The password must be a string")
    if not password:
        raise MatrixError(400, "M_WEAK_PASSWORD", "The password must not be empty")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise MatrixError(
            400, "M_INVALID_PARAM", f"The password is longer than {MAX_PASSWORD_LENGTH}"
        )
    return password
