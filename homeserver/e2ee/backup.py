"""Server-side key backups (spec: client-server "Server-side key backups",
``/room_keys/version`` and ``/room_keys/keys``).

The server stores what clients encrypted for their backup and cannot read it. Keys may
only be written to the current (newest) version: writing to another answers 403
``M_WRONG_ROOM_KEYS_VERSION`` with the ``current_version``. Each write answers the
backup's ``etag`` (it changes whenever the stored keys do) and ``count``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeserver.errors import MatrixError, bad_json, not_found
from homeserver.storage.key_backup_store import (
    BackupVersion,
    BackupVersionMissing,
    Counted,
    RoomKey,
    WrongBackupVersion,
)
from homeserver.storage.store import Store

from .validation import invalid, should_replace

JsonDict = dict[str, Any]

MAX_ALGORITHM_LENGTH = 255


def _counted(c: Counted) -> JsonDict:
    return {"etag": str(c.etag), "count": c.count}


def _version_json(info: BackupVersion) -> JsonDict:
    return {
        "algorithm": info.algorithm,
        "auth_data": info.auth_data,
        "count": info.count,
        "etag": str(info.etag),
        "version": str(info.version),
    }


def version_number(text: str | None) -> int | None:
    """A version as we hand them out (a positive integer), else None."""
    if text is None or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def _algorithm_and_auth_data(body: Mapping[str, Any]) -> tuple[str, JsonDict]:
    algorithm = body.get("algorithm")
    if not isinstance(algorithm, str) or not algorithm:
        raise bad_json("`algorithm` must be a string")
    if len(algorithm) > MAX_ALGORITHM_LENGTH:
        raise invalid("`algorithm` is too long")
    auth_data = body.get("auth_data")
    if not isinstance(auth_data, dict):
        raise bad_json("`auth_data` must be an object")
    return algorithm, auth_data


class KeyBackup:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ versions

    async def create_version(self, user_id: str, body: Mapping[str, Any]) -> JsonDict:
        algorithm, auth_data = _algorithm_and_auth_data(body)
        version = await self.store.key_backup.create_version(user_id, algorithm, auth_data)
        return {"version": str(version)}

    async def get_version(self, user_id: str, version: str | None) -> JsonDict:
        if version is None:
            info = await self.store.key_backup.get_version(user_id, None)
            if info is None:
                raise not_found("No current backup version")
            return _version_json(info)
        number = version_number(version)
        info = None if number is None else await self.store.key_backup.get_version(user_id, number)
        if info is None:
            raise not_found("Unknown backup version")
        return _version_json(info)

    async def update_version(self, user_id: str, version: str, body: Mapping[str, Any]) -> None:
        algorithm, auth_data = _algorithm_and_auth_data(body)
        given = body.get("version")
        if given is not None and given != version:
            raise invalid("`version` does not match the version in the path")
        number = version_number(version)
        info = None if number is None else await self.store.key_backup.get_version(user_id, number)
        if info is None or number is None:
            raise not_found("Unknown backup version")
        if algorithm != info.algorithm:
            raise invalid("Algorithm does not match")
        await self.store.key_backup.update_version(user_id, number, auth_data)

    async def delete_version(self, user_id: str, version: str) -> None:
        number = version_number(version)
        # spec: deleting a version deleted before succeeds; one never created is 404.
        if number is None or not await self.store.key_backup.delete_version(user_id, number):
            raise not_found("Unknown backup version")

    # ------------------------------------------------------------------ keys

    async def put_keys(
        self, user_id: str, version: str, keys: list[tuple[str, str, RoomKey]]
    ) -> JsonDict:
        number = version_number(version)
        try:
            counted = await self.store.key_backup.put_keys(
                user_id, -1 if number is None else number, keys, should_replace
            )
        except BackupVersionMissing:
            raise not_found("Unknown backup version") from None
        except WrongBackupVersion as exc:
            raise MatrixError(
                403,
                "M_WRONG_ROOM_KEYS_VERSION",
                "Wrong backup version",
                current_version=str(exc.current),
            ) from None
        return _counted(counted)

    async def get_keys(
        self, user_id: str, version: str, room_id: str | None, session_id: str | None
    ) -> JsonDict:
        number = version_number(version)
        found = (
            None
            if number is None
            else await self.store.key_backup.get_keys(user_id, number, room_id, session_id)
        )
        if found is None:
            raise not_found("Unknown backup version")
        if session_id is not None:
            if not found:
                raise not_found("No room key found for this session")
            return found[0][2].to_json()
        rooms: dict[str, JsonDict] = {}
        for room, session, key in found:
            rooms.setdefault(room, {"sessions": {}})["sessions"][session] = key.to_json()
        if room_id is not None:
            # spec: no keys is ``{"sessions": {}}``.
            return rooms.get(room_id, {"sessions": {}})
        return {"rooms": rooms}

    async def delete_keys(
        self, user_id: str, version: str, room_id: str | None, session_id: str | None
    ) -> JsonDict:
        number = version_number(version)
        counted = (
            None
            if number is None
            else await self.store.key_backup.delete_keys(user_id, number, room_id, session_id)
        )
        if counted is None:
            raise not_found("Unknown backup version")
        return _counted(counted)
