"""Reading and changing profiles, and carrying name and avatar into the user's rooms.

spec: client-server "Profiles". Any profile may be read, without a token (Synapse's
default): local users from the database, remote users from their server
(``remote``), else from what their membership events told us. A user changes their own profile; a
server admin may change a local user's (as in Synapse). Changing ``displayname`` or
``avatar_url`` sends a new ``m.room.member`` join into every room the user is joined
to before the request returns (spec: "Events on Change of Profile Information";
Synapse does the same): one room after the other, a room that refuses it is skipped
with a log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from homeserver.accounts.requester import Requester
from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.profiles.remote import RemoteProfiles
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_user_id
from homeserver.protocol.profile_fields import (
    MEMBER_FIELDS,
    ProfileFieldError,
    check_key,
    check_size,
    check_value,
    clears,
)
from homeserver.remote import RemoteError
from homeserver.rooms.membership import MembershipHandler
from homeserver.storage.profiles_store import DELETE
from homeserver.storage.store import Store

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]


def _invalid(error: ProfileFieldError) -> MatrixError:
    return MatrixError(400, error.errcode, str(error))


def _not_found(message: str = "Profile not found") -> MatrixError:
    return MatrixError(404, "M_NOT_FOUND", message)


def check_user_id(user_id: str) -> str:
    try:
        parse_user_id(user_id)
    except InvalidIdentifier as exc:
        raise MatrixError(400, "M_INVALID_PARAM", f"invalid user id: {exc}") from exc
    return user_id


def check_field_key(key: str) -> str:
    try:
        return check_key(key)
    except ProfileFieldError as exc:
        raise _invalid(exc) from exc


def _member_fields(profile: JsonDict) -> tuple[object, ...]:
    return tuple(profile.get(key) for key in MEMBER_FIELDS)


class KeyedLock:
    """An ``asyncio.Lock`` per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class ProfileHandler:
    def __init__(self, store: Store, membership: MembershipHandler, server_name: str) -> None:
        self.store = store
        self.membership = membership
        self.server_name = server_name
        # One propagation per user at a time, each sending the profile as it is then:
        # two quick renames cannot leave a room with the older name.
        self._propagating = KeyedLock()
        # Told (user id, new profile) after a name or avatar change reached the rooms:
        # spec "Events on Change of Profile Information" wants a presence update with
        # the new values too; presence subscribes here.
        self.member_fields_changed: list[Callable[[str, JsonDict], Awaitable[None]]] = []
        # Profiles of remote users, asked of their servers (set when federation is on).
        self.remote: RemoteProfiles | None = None
        # Set by the application service wiring: asks the services whose users
        # namespace holds an unknown local user; True when the user exists afterwards.
        self.query_unknown_user: Callable[[str], Awaitable[bool]] | None = None

    def is_local(self, user_id: str) -> bool:
        return user_id.partition(":")[2] == self.server_name

    # ------------------------------------------------------------------ reading

    async def get_profile(self, user_id: str) -> JsonDict:
        """The whole profile; 404 ``M_NOT_FOUND`` for a user we do not know."""
        check_user_id(user_id)
        if self.is_local(user_id):
            if not await self.store.accounts.user_exists(user_id) and not (
                self.query_unknown_user is not None and await self.query_unknown_user(user_id)
            ):
                raise _not_found()
            return await self.store.profiles.get_profile(user_id)
        if self.remote is not None:
            try:
                found = await self.remote.get(user_id)
            except RemoteError as exc:
                log.info(
                    "remote profile unavailable",
                    extra=fields(user_id=user_id, error=exc.message),
                )
            else:
                if found is None:
                    raise _not_found()
                return found
        # Without an answer from their server: what their membership events said.
        entry = await self.store.user_directory.get_entry(user_id)
        if entry is None:
            raise _not_found()
        remote: JsonDict = {}
        if entry.display_name is not None:
            remote["displayname"] = entry.display_name
        if entry.avatar_url is not None:
            remote["avatar_url"] = entry.avatar_url
        return remote

    async def get_field(self, user_id: str, key: str) -> object:
        check_field_key(key)
        profile = await self.get_profile(user_id)
        if key not in profile:
            raise _not_found(f"No `{key}` in this profile")
        return profile[key]

    # ------------------------------------------------------------------ changing

    async def _check_writer(self, requester: Requester, user_id: str) -> None:
        check_user_id(user_id)
        if requester.user_id == user_id:
            return
        if not (requester.is_admin and self.is_local(user_id)):
            raise MatrixError(403, "M_FORBIDDEN", "You cannot change another user's profile")
        if not await self.store.accounts.user_exists(user_id):
            raise _not_found("Unknown user")

    async def set_field(self, requester: Requester, user_id: str, key: str, value: object) -> None:
        check_field_key(key)
        await self._check_writer(requester, user_id)
        try:
            check_value(key, value)
        except ProfileFieldError as exc:
            raise _invalid(exc) from exc
        await self._write(user_id, key, DELETE if clears(key, value) else value)

    async def delete_field(self, requester: Requester, user_id: str, key: str) -> None:
        check_field_key(key)
        await self._check_writer(requester, user_id)
        await self._write(user_id, key, DELETE)

    async def _write(self, user_id: str, key: str, value: object) -> None:
        try:
            change = await self.store.profiles.write_field(user_id, key, value, check_size)
        except ProfileFieldError as exc:
            raise _invalid(exc) from exc
        log.info("profile changed", extra=fields(user_id=user_id, field=key))
        if _member_fields(change.before) != _member_fields(change.after):
            await self.propagate(user_id)
            for listener in self.member_fields_changed:
                try:
                    await listener(user_id, change.after)
                except Exception:
                    log.exception("profile listener failed", extra=fields(user_id=user_id))

    # ------------------------------------------------------------------ propagation

    async def propagate(self, user_id: str) -> int:
        """Send the user's current name and avatar into each room they are joined to;
        returns how many rooms got a new member event."""
        async with self._propagating.hold(user_id):
            # The profile as it is now: a newer change may have landed meanwhile.
            profile = await self.store.profiles.get_profile(user_id)
            updated = 0
            for room_id in await self.membership.joined_rooms(user_id):
                try:
                    if await self.membership.refresh_profile(user_id, room_id, profile):
                        updated += 1
                except MatrixError as exc:
                    log.warning(
                        "profile not propagated to room",
                        extra=fields(user_id=user_id, room_id=room_id, error=exc.message),
                    )
                except Exception:
                    log.exception(
                        "profile propagation failed",
                        extra=fields(user_id=user_id, room_id=room_id),
                    )
            return updated
