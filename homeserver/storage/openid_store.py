"""OpenID tokens (spec: client-server "OpenID", server-server "OpenID").

Stored as their sha256 hex digest with an expiry; they are good for the federation
``/openid/userinfo`` look-up only, never as access tokens. Expired ones are swept when a
new one is issued.
"""

from __future__ import annotations

from .database import Database, Txn


def insert_token(txn: Txn, token_hash: str, user_id: str, expires_ts: int, now_ms: int) -> None:
    txn.execute("DELETE FROM openid_tokens WHERE expires_ts <= ?", (now_ms,))
    txn.execute(
        "INSERT INTO openid_tokens (token_hash, user_id, expires_ts) VALUES (?, ?, ?)",
        (token_hash, user_id, expires_ts),
    )


def token_user(txn: Txn, token_hash: str, now_ms: int) -> str | None:
    """The user who requested the token, while it has not expired."""
    value = txn.fetchval(
        "SELECT user_id FROM openid_tokens WHERE token_hash = ? AND expires_ts > ?",
        (token_hash, now_ms),
    )
    return None if value is None else str(value)


class OpenIdStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert_token(
        self, token_hash: str, user_id: str, expires_ts: int, now_ms: int
    ) -> None:
        await self.db.write(insert_token, token_hash, user_id, expires_ts, now_ms)

    async def token_user(self, token_hash: str, now_ms: int) -> str | None:
        return await self.db.read(token_user, token_hash, now_ms)
