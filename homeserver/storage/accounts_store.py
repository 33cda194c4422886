"""Users, devices, access tokens and refresh tokens.

Tokens are stored as their sha256 hex digest, never in clear (the caller hashes them). A
device owns its tokens: deleting a device deletes its access and refresh tokens in the
same transaction, so no token outlives its device.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from .database import Database, Row, Txn
from .profiles_store import set_profile_field


class UserExistsError(Exception):
    """The user id is taken (deactivated ids stay taken: they are never reused)."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    user_id: str
    account_uuid: str
    password_hash: str | None
    created_ts: int
    deactivated: bool
    is_admin: bool


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    user_id: str
    device_id: str
    display_name: str | None
    created_ts: int
    last_seen_ts: int | None
    last_seen_ip: str | None


@dataclass(frozen=True, slots=True)
class AccessTokenRecord:
    """What an access token resolves to, with its owner's account flags."""

    token_hash: str
    user_id: str
    device_id: str
    expires_ts: int | None
    refresh_token_hash: str | None
    deactivated: bool
    is_admin: bool
    # The refresh token that was exchanged for this token's refresh token is still
    # valid until this token is first used (spec "Refreshing access tokens").
    has_predecessor: bool


@dataclass(frozen=True, slots=True)
class NewTokens:
    """Hashes (and lifetime) of an access token, and optionally a refresh token, to store."""

    access_hash: str
    refresh_hash: str | None = None
    expires_ts: int | None = None


_USER_COLUMNS = "user_id, account_uuid, password_hash, created_ts, deactivated, is_admin"
_DEVICE_COLUMNS = "user_id, device_id, display_name, created_ts, last_seen_ts, last_seen_ip"


def _user(row: Row) -> UserRecord:
    return UserRecord(row[0], row[1], row[2], row[3], bool(row[4]), bool(row[5]))


def _device(row: Row) -> DeviceRecord:
    return DeviceRecord(row[0], row[1], row[2], row[3], row[4], row[5])


class AccountsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ users

    async def create_user(
        self,
        user_id: str,
        password_hash: str | None,
        now_ms: int,
        *,
        is_admin: bool = False,
        appservice_id: str | None = None,
    ) -> UserRecord:
        """Create an account with a fresh account UUID; ``UserExistsError`` if taken.

        The profile starts with the localpart as display name, as Synapse does.
        """
        account_uuid = str(uuid.uuid4())

        def txn(t: Txn) -> None:
            # One writer serializes writes, so check-then-insert cannot race.
            if t.fetchone("SELECT 1 FROM users WHERE user_id = ?", (user_id,)) is not None:
                raise UserExistsError(user_id)
            t.execute(
                "INSERT INTO users (user_id, account_uuid, password_hash, created_ts,"
                " deactivated, is_admin, appservice_id) VALUES (?, ?, ?, ?, 0, ?, ?)",
                (user_id, account_uuid, password_hash, now_ms, int(is_admin), appservice_id),
            )
            set_profile_field(t, user_id, "displayname", user_id[1:].partition(":")[0])

        await self.db.write(txn)
        return UserRecord(user_id, account_uuid, password_hash, now_ms, False, is_admin)

    async def get_user(self, user_id: str) -> UserRecord | None:
        def txn(t: Txn) -> Row | None:
            return t.fetchone(f"SELECT {_USER_COLUMNS} FROM users WHERE user_id = ?", (user_id,))

        row = await self.db.read(txn)
        return None if row is None else _user(row)

    async def get_user_by_uuid(self, account_uuid: str) -> UserRecord | None:
        def txn(t: Txn) -> Row | None:
            return t.fetchone(
                f"SELECT {_USER_COLUMNS} FROM users WHERE account_uuid = ?", (account_uuid,)
            )

        row = await self.db.read(txn)
        return None if row is None else _user(row)

    async def user_exists(self, user_id: str) -> bool:
        def txn(t: Txn) -> bool:
            return t.fetchone("SELECT 1 FROM users WHERE user_id = ?", (user_id,)) is not None

        return await self.db.read(txn)

    async def set_password_hash(self, user_id: str, password_hash: str | None) -> None:
        def txn(t: Txn) -> None:
            t.execute(
                "UPDATE users SET password_hash = ? WHERE user_id = ?", (password_hash, user_id)
            )

        await self.db.write(txn)

    async def set_admin(self, user_id: str, is_admin: bool) -> None:
        def txn(t: Txn) -> None:
            t.execute("UPDATE users SET is_admin = ? WHERE user_id = ?", (int(is_admin), user_id))

        await self.db.write(txn)

    async def deactivate_user(self, user_id: str) -> list[str]:
        """Mark deactivated, forget the password, remove every device and token.

        Returns the ids of the devices removed.
        """

        def txn(t: Txn) -> list[str]:
            t.execute(
                "UPDATE users SET deactivated = 1, password_hash = NULL WHERE user_id = ?",
                (user_id,),
            )
            return _delete_devices(t, user_id, None, None)

        return await self.db.write(txn)

    # ------------------------------------------------------------------ devices

    async def get_device(self, user_id: str, device_id: str) -> DeviceRecord | None:
        def txn(t: Txn) -> Row | None:
            return t.fetchone(
                f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE user_id = ? AND device_id = ?",
                (user_id, device_id),
            )

        row = await self.db.read(txn)
        return None if row is None else _device(row)

    async def get_devices(self, user_id: str) -> list[DeviceRecord]:
        def txn(t: Txn) -> list[Row]:
            return t.fetchall(
                f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE user_id = ? ORDER BY device_id",
                (user_id,),
            )

        return [_device(row) for row in await self.db.read(txn)]

    async def set_device_display_name(
        self, user_id: str, device_id: str, display_name: str | None
    ) -> bool:
        """False when the user has no such device."""

        def txn(t: Txn) -> bool:
            t.execute(
                "UPDATE devices SET display_name = ? WHERE user_id = ? AND device_id = ?",
                (display_name, user_id, device_id),
            )
            return t.rowcount > 0

        return await self.db.write(txn)

    async def update_last_seen(self, user_id: str, device_id: str, ts: int, ip: str | None) -> None:
        def txn(t: Txn) -> None:
            t.execute(
                "UPDATE devices SET last_seen_ts = ?, last_seen_ip = ?"
                " WHERE user_id = ? AND device_id = ?",
                (ts, ip, user_id, device_id),
            )

        await self.db.write(txn)

    async def delete_devices(self, user_id: str, device_ids: Sequence[str]) -> list[str]:
        """Delete these devices and their tokens; returns the ids that existed."""
        if not device_ids:
            return []

        def txn(t: Txn) -> list[str]:
            return _delete_devices(t, user_id, list(device_ids), None)

        return await self.db.write(txn)

    async def delete_all_devices(self, user_id: str, *, keep: str | None = None) -> list[str]:
        """Delete every device of the user (except ``keep``) and their tokens."""

        def txn(t: Txn) -> list[str]:
            return _delete_devices(t, user_id, None, keep)

        return await self.db.write(txn)

    # ------------------------------------------------------------------ tokens

    async def create_login(
        self,
        user_id: str,
        device_id: str,
        display_name: str | None,
        tokens: NewTokens,
        now_ms: int,
    ) -> bool:
        """Store new tokens for a device, creating the device if needed.

        Tokens the device held before are revoked (spec "Relationship between access
        tokens and devices"). Returns whether the device was created.
        """

        def txn(t: Txn) -> bool:
            exists = (
                t.fetchone(
                    "SELECT 1 FROM devices WHERE user_id = ? AND device_id = ?",
                    (user_id, device_id),
                )
                is not None
            )
            if exists:
                _delete_device_tokens(t, user_id, [device_id])
            else:
                t.execute(
                    "INSERT INTO devices (user_id, device_id, display_name, created_ts)"
                    " VALUES (?, ?, ?, ?)",
                    (user_id, device_id, display_name, now_ms),
                )
            _insert_tokens(t, user_id, device_id, tokens, now_ms)
            return not exists

        return await self.db.write(txn)

    async def get_access_token(self, token_hash: str) -> AccessTokenRecord | None:
        def txn(t: Txn) -> AccessTokenRecord | None:
            row = t.fetchone(
                "SELECT a.user_id, a.device_id, a.expires_ts, a.refresh_token_hash,"
                " u.deactivated, u.is_admin"
                " FROM access_tokens a JOIN users u ON u.user_id = a.user_id"
                " WHERE a.token_hash = ?",
                (token_hash,),
            )
            if row is None:
                return None
            has_predecessor = row[3] is not None and (
                t.fetchone("SELECT 1 FROM refresh_tokens WHERE next_token_hash = ?", (row[3],))
                is not None
            )
            return AccessTokenRecord(
                token_hash=token_hash,
                user_id=row[0],
                device_id=row[1],
                expires_ts=row[2],
                refresh_token_hash=row[3],
                deactivated=bool(row[4]),
                is_admin=bool(row[5]),
                has_predecessor=has_predecessor,
            )

        return await self.db.read(txn)

    async def retire_predecessor(self, refresh_hash: str) -> None:
        """The tokens issued with ``refresh_hash`` were used: revoke the refresh token
        they replaced."""

        def txn(t: Txn) -> None:
            t.execute("DELETE FROM refresh_tokens WHERE next_token_hash = ?", (refresh_hash,))

        await self.db.write(txn)

    async def refresh(
        self, refresh_hash: str, new: NewTokens, now_ms: int
    ) -> tuple[str, str] | None:
        """Exchange a refresh token for new tokens; ``(user_id, device_id)``, or None
        when the refresh token is unknown or already superseded and retired.

        spec: client-server "Refreshing access tokens". The access token issued with the
        old refresh token is revoked now; the old refresh token itself stays valid until
        the new tokens are first used, so that a client that lost the response can retry.
        A retry revokes the tokens the lost response carried.
        """
        assert new.refresh_hash is not None

        def txn(t: Txn) -> tuple[str, str] | None:
            row = t.fetchone(
                "SELECT r.user_id, r.device_id, r.next_token_hash, u.deactivated"
                " FROM refresh_tokens r JOIN users u ON u.user_id = r.user_id"
                " WHERE r.token_hash = ?",
                (refresh_hash,),
            )
            if row is None or row[3]:
                return None
            user_id, device_id, previous_next = row[0], row[1], row[2]
            # Using this token proves the client holds it: its own predecessor goes.
            t.execute("DELETE FROM refresh_tokens WHERE next_token_hash = ?", (refresh_hash,))
            if previous_next is not None:
                _delete_refresh_family(t, previous_next)
            t.execute("DELETE FROM access_tokens WHERE refresh_token_hash = ?", (refresh_hash,))
            _insert_tokens(t, user_id, device_id, new, now_ms)
            t.execute(
                "UPDATE refresh_tokens SET next_token_hash = ? WHERE token_hash = ?",
                (new.refresh_hash, refresh_hash),
            )
            return user_id, device_id

        return await self.db.write(txn)


# ---------------------------------------------------------------------- transaction helpers


def _insert_tokens(t: Txn, user_id: str, device_id: str, tokens: NewTokens, now_ms: int) -> None:
    if tokens.refresh_hash is not None:
        t.execute(
            "INSERT INTO refresh_tokens (token_hash, user_id, device_id, created_ts)"
            " VALUES (?, ?, ?, ?)",
            (tokens.refresh_hash, user_id, device_id, now_ms),
        )
    t.execute(
        "INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts, expires_ts,"
        " refresh_token_hash) VALUES (?, ?, ?, ?, ?, ?)",
        (tokens.access_hash, user_id, device_id, now_ms, tokens.expires_ts, tokens.refresh_hash),
    )


def _delete_refresh_family(t: Txn, refresh_hash: str) -> None:
    """A refresh token and the access tokens issued with it."""
    t.execute("DELETE FROM access_tokens WHERE refresh_token_hash = ?", (refresh_hash,))
    t.execute("DELETE FROM refresh_tokens WHERE token_hash = ?", (refresh_hash,))


def _delete_device_tokens(t: Txn, user_id: str, device_ids: list[str]) -> None:
    ids = t.in_list(device_ids)
    params = (user_id, *device_ids)
    t.execute(f"DELETE FROM access_tokens WHERE user_id = ? AND device_id IN {ids}", params)
    t.execute(f"DELETE FROM refresh_tokens WHERE user_id = ? AND device_id IN {ids}", params)


def _delete_devices(
    t: Txn, user_id: str, device_ids: list[str] | None, keep: str | None
) -> list[str]:
    """Delete the listed devices (all when None, minus ``keep``) with their tokens."""
    if device_ids is None:
        rows = t.fetchall("SELECT device_id FROM devices WHERE user_id = ?", (user_id,))
        # Tokens can exist without a device row only through a bug; sweep them too.
        rows += t.fetchall(
            "SELECT DISTINCT device_id FROM access_tokens WHERE user_id = ?", (user_id,)
        )
        found = sorted({row[0] for row in rows if row[0] != keep})
    else:
        rows = t.fetchall(
            f"SELECT device_id FROM devices WHERE user_id = ? AND device_id IN"
            f" {t.in_list(device_ids)}",
            (user_id, *device_ids),
        )
        found = sorted({row[0] for row in rows})
        # Tokens of listed ids go even when the device row is missing.
        _delete_device_tokens(t, user_id, device_ids)
    if found:
        _delete_device_tokens(t, user_id, found)
        t.execute(
            f"DELETE FROM devices WHERE user_id = ? AND device_id IN {t.in_list(found)}",
            (user_id, *found),
        )
    return found
