"""Checking what clients upload: device keys, one-time and fallback keys,
cross-signing keys and their signatures, backed-up room keys (no I/O).

Each parser raises ``MatrixError`` (400) for a malformed body, so that nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeserver.errors import MatrixError, bad_json
from homeserver.protocol.errors import InvalidIdentifier, ProtocolError
from homeserver.protocol.ids import parse_user_id
from homeserver.protocol.signing import verify_json
from homeserver.storage.e2e_store import Upload
from homeserver.storage.key_backup_store import RoomKey

JsonDict = dict[str, Any]

MASTER = "master"
SELF_SIGNING = "self_signing"
USER_SIGNING = "user_signing"
ED25519 = "ed25519"
# Legacy (MSC2732) name of ``fallback_keys`` that older clients still send.
UNSTABLE_FALLBACK_KEYS = "org.matrix.msc2732.fallback_keys"
MAX_KEYS_PER_UPLOAD = 1000


def invalid(message: str) -> MatrixError:
    return MatrixError(400, "M_INVALID_PARAM", message)


def check_user_id(value: object) -> str:
    if not isinstance(value, str):
        raise bad_json("user ids must be strings")
    try:
        parse_user_id(value)
    except InvalidIdentifier:
        raise invalid(f"Invalid user id {value!r}") from None
    return value


def _string_map(value: object, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad_json(f"`{what}` must be an object of strings")
    return value


def check_signatures(value: object, what: str) -> dict[str, dict[str, str]]:
    """spec: appendices "Signing JSON" — ``{entity: {algorithm:key_id: signature}}``."""
    if not isinstance(value, dict):
        raise bad_json(f"`{what}.signatures` must be an object")
    for entity, sigs in value.items():
        _string_map(sigs, f"{what}.signatures.{entity}")
    return value


# ---------------------------------------------------------------------- /keys/upload


def parse_device_keys(value: object, user_id: str, device_id: str) -> JsonDict:
    """spec: DeviceKeys — must name the uploading user and device."""
    if not isinstance(value, dict):
        raise bad_json("`device_keys` must be an object")
    if value.get("user_id") != user_id or value.get("device_id") != device_id:
        raise invalid("`device_keys` must be for the user and device making the request")
    algorithms = value.get("algorithms")
    if not isinstance(algorithms, list) or not all(isinstance(a, str) for a in algorithms):
        raise bad_json("`device_keys.algorithms` must be a list of strings")
    keys = _string_map(value.get("keys"), "device_keys.keys")
    for key_id in keys:
        algorithm, sep, name = key_id.partition(":")
        if not sep or not algorithm or not name:
            raise invalid(f"Device key id {key_id!r} must be <algorithm>:<device_id>")
    check_signatures(value.get("signatures"), "device_keys")
    # ``unsigned`` is the server's to add (spec: /keys/query UnsignedDeviceInfo).
    return {k: v for k, v in value.items() if k != "unsigned"}


def _parse_key_map(value: object, what: str) -> list[tuple[str, str, JsonDict | str]]:
    """``{"<algorithm>:<key_id>": key}`` where a key is a string or a signed object."""
    if not isinstance(value, dict):
        raise bad_json(f"`{what}` must be an object")
    if len(value) > MAX_KEYS_PER_UPLOAD:
        raise invalid(f"At most {MAX_KEYS_PER_UPLOAD} keys per upload")
    parsed: list[tuple[str, str, JsonDict | str]] = []
    for name, key in sorted(value.items()):
        algorithm, sep, key_id = name.partition(":")
        if not sep or not algorithm or not key_id:
            raise invalid(f"Key id {name!r} in `{what}` must be <algorithm>:<key_id>")
        if isinstance(key, dict):
            # spec: KeyObject — ``key`` and ``signatures`` are required.
            if not isinstance(key.get("key"), str):
                raise bad_json(f"`{what}.{name}.key` must be a string")
            check_signatures(key.get("signatures"), f"{what}.{name}")
        elif not isinstance(key, str):
            raise bad_json(f"`{what}.{name}` must be a key object or a string")
        parsed.append((algorithm, key_id, key))
    return parsed


def parse_upload(body: Mapping[str, Any], user_id: str, device_id: str) -> Upload:
    """spec: ``POST /keys/upload``."""
    device_keys = body.get("device_keys")
    one_time = body.get("one_time_keys")
    fallback = body.get("fallback_keys", body.get(UNSTABLE_FALLBACK_KEYS))
    fallback_keys = [] if fallback is None else _parse_key_map(fallback, "fallback_keys")
    algorithms = [algorithm for algorithm, _, _ in fallback_keys]
    if len(set(algorithms)) != len(algorithms):
        # spec: "There can only be at most one key per algorithm uploaded".
        raise invalid("At most one fallback key per algorithm")
    return Upload(
        device_keys=None
        if device_keys is None
        else parse_device_keys(device_keys, user_id, device_id),
        one_time_keys=[] if one_time is None else _parse_key_map(one_time, "one_time_keys"),
        fallback_keys=fallback_keys,
    )


# ---------------------------------------------------------------------- cross-signing


def public_key_of(key: Mapping[str, Any]) -> str:
    """The single ed25519 public key of a checked cross-signing key."""
    return str(next(iter(key["keys"].values())))


def parse_cross_signing_key(value: object, user_id: str, usage: str, what: str) -> JsonDict:
    """spec: CrossSigningKey — the user's, for ``usage``, with exactly one
    ``ed25519:<public key>`` entry whose value is that public key."""
    if not isinstance(value, dict):
        raise bad_json(f"`{what}` must be an object")
    if value.get("user_id") != user_id:
        raise invalid(f"`{what}.user_id` must be the user making the request")
    usages = value.get("usage")
    if not isinstance(usages, list) or usage not in usages:
        raise invalid(f"`{what}.usage` must include {usage!r}")
    keys = _string_map(value.get("keys"), f"{what}.keys")
    if len(keys) != 1:
        raise invalid(f"`{what}.keys` must hold exactly one key")
    ((key_id, public_key),) = keys.items()
    if key_id != f"{ED25519}:{public_key}":
        raise invalid(f"`{what}` key id must be ed25519:<the public key>")
    if "signatures" in value:
        check_signatures(value["signatures"], what)
    return {k: v for k, v in value.items() if k != "unsigned"}


def signed_by(obj: Mapping[str, Any], user_id: str, public_key: str) -> bool:
    """Whether ``obj`` carries a valid signature by ``user_id`` with the ed25519 key
    ``public_key`` (key id ``ed25519:<public_key>``)."""
    return signed_with(obj, user_id, f"{ED25519}:{public_key}", public_key)


def signed_with(obj: Mapping[str, Any], user_id: str, key_id: str, public_key: str) -> bool:
    """spec: appendices "Checking for a Signature" (canonical JSON without
    ``signatures`` and ``unsigned``)."""
    try:
        verify_json(obj, user_id, key_id, public_key)
    except ProtocolError:
        return False
    return True


def same_key(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two key objects are the same but for their signatures."""

    def bare(obj: Mapping[str, Any]) -> JsonDict:
        return {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}

    return bare(a) == bare(b)


# ---------------------------------------------------------------------- key backup


def _non_negative(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise bad_json(f"`{what}` must be a non-negative integer")
    return value


def parse_room_key(value: object, what: str = "key") -> RoomKey:
    """spec: KeyBackupData."""
    if not isinstance(value, dict):
        raise bad_json(f"`{what}` must be an object")
    verified = value.get("is_verified")
    if not isinstance(verified, bool):
        raise bad_json(f"`{what}.is_verified` must be true or false")
    session_data = value.get("session_data")
    if not isinstance(session_data, dict):
        raise bad_json(f"`{what}.session_data` must be an object")
    return RoomKey(
        first_message_index=_non_negative(
            value.get("first_message_index"), f"{what}.first_message_index"
        ),
        forwarded_count=_non_negative(value.get("forwarded_count"), f"{what}.forwarded_count"),
        is_verified=verified,
        session_data=session_data,
    )


def parse_room_sessions(value: object, room_id: str) -> list[tuple[str, str, RoomKey]]:
    """spec: RoomKeyBackup — ``{"sessions": {session_id: KeyBackupData}}``."""
    if not isinstance(value, dict) or not isinstance(value.get("sessions"), dict):
        raise bad_json("`sessions` must be an object")
    return [
        (room_id, session_id, parse_room_key(key, f"sessions.{session_id}"))
        for session_id, key in value["sessions"].items()
    ]


def should_replace(stored: RoomKey, uploaded: RoomKey) -> bool:
    """spec: "Server-side key backups" — keep the verified key; then the one with the
    lower ``first_message_index``; then the one with the lower ``forwarded_count``
    (on a tie, the stored one stays)."""
    if stored.is_verified != uploaded.is_verified:
        return uploaded.is_verified
    if stored.first_message_index != uploaded.first_message_index:
        return uploaded.first_message_index < stored.first_message_index
    return uploaded.forwarded_count < stored.forwarded_count
