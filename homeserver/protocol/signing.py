"""Signed JSON and signed events, and the server keys response.

spec: appendices "Signing JSON", "Signing Details", "Checking for a Signature";
server-server "Signing Events" (adding and validating hashes and signatures),
"Retrieving server keys" and rooms/v5 "Signing key validity period".
Nothing here reads a clock: times are parameters. The key types live in
``signing_keys`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.signing

from .canonical import (
    JsonDict,
    decode_unpadded_base64,
    encode_canonical_json,
    unpadded_base64,
)
from .errors import CanonicalJsonError, InvalidEvent, SignatureError
from .events import Event, content_hash
from .redaction import redact
from .room_versions import EventIdFormat, RoomVersion
from .signing_keys import (
    ED25519,
    InvalidSigningKey,
    SigningKey,
    VerifyKeyInfo,
    decode_verify_key,
)

__all__ = [
    "ED25519",
    "MAX_KEY_VALIDITY_MS",
    "InvalidSigningKey",
    "OldVerifyKey",
    "SigningKey",
    "VerifyKeyInfo",
    "cap_valid_until_ts",
    "check_content_hash",
    "decode_verify_key",
    "hash_and_sign_event",
    "make_server_keys_response",
    "parse_server_keys_response",
    "required_signers",
    "server_name_of",
    "sign_json",
    "verify_event_signatures",
    "verify_json",
]

MAX_KEY_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000


def server_name_of(identifier: str) -> str:
    """The server name of a user or v1/v2 event id: everything after the first colon."""
    _, sep, server = identifier.partition(":")
    if not sep or not server:
        raise InvalidEvent(f"identifier has no server name: {identifier!r}")
    return server


# -- JSON --------------------------------------------------------------------------


def _signable(obj: Mapping[str, Any]) -> JsonDict:
    return {k: v for k, v in obj.items() if k != "signatures" and k != "unsigned"}


def _signatures_copy(obj: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    existing = obj.get("signatures", {})
    if not isinstance(existing, Mapping):
        raise SignatureError("`signatures` must be an object")
    copied: dict[str, dict[str, Any]] = {}
    for name, sigs in existing.items():
        if not isinstance(sigs, Mapping):
            raise SignatureError(f"`signatures.{name}` must be an object")
        copied[name] = dict(sigs)
    return copied


def sign_json(obj: Mapping[str, Any], key: SigningKey, *, strict: bool = True) -> JsonDict:
    """Return a copy of ``obj`` with ``key``'s signature added to ``signatures``.

    spec: appendices "Signing Details" — the signature covers the canonical JSON of
    the object without ``signatures`` and ``unsigned``; other signatures are kept.
    """
    if not isinstance(obj, Mapping):
        raise SignatureError("only JSON objects can be signed")
    signatures = _signatures_copy(obj)
    message = encode_canonical_json(_signable(obj), strict=strict)
    signatures.setdefault(key.server_name, {})[key.key_id] = key.sign_bytes(message)
    signed = dict(obj)
    signed["signatures"] = signatures
    return signed


def _check_signature(
    message: bytes, signature: object, verify_key: nacl.signing.VerifyKey, who: str
) -> None:
    if not isinstance(signature, str):
        raise SignatureError(f"signature by {who} is not a string")
    try:
        raw = decode_unpadded_base64(signature)
    except CanonicalJsonError as exc:
        raise SignatureError(f"signature by {who} is not valid base64") from exc
    try:
        verify_key.verify(message, raw)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise SignatureError(f"signature by {who} does not verify") from exc


def verify_json(
    obj: Mapping[str, Any],
    server_name: str,
    key_id: str,
    verify_key: str | bytes | nacl.signing.VerifyKey | VerifyKeyInfo,
) -> None:
    """Check ``server_name``'s signature with ``key_id`` on ``obj``.

    spec: appendices "Checking for a Signature". Raises ``SignatureError`` if the
    signature is missing, malformed or wrong.
    """
    if not isinstance(obj, Mapping):
        raise SignatureError("only JSON objects carry signatures")
    signatures = obj.get("signatures")
    if not isinstance(signatures, Mapping):
        raise SignatureError("object has no `signatures`")
    by_server = signatures.get(server_name)
    if not isinstance(by_server, Mapping) or key_id not in by_server:
        raise SignatureError(f"object is not signed by {server_name} with {key_id}")
    if not key_id.startswith(ED25519 + ":"):
        raise SignatureError(f"unsupported signing algorithm in {key_id!r}")
    key = verify_key.key if isinstance(verify_key, VerifyKeyInfo) else verify_key
    message = encode_canonical_json(_signable(obj), strict=False)
    _check_signature(message, by_server[key_id], decode_verify_key(key), server_name)


# -- events ------------------------------------------------------------------------


def _redacted_signable(pdu: Mapping[str, Any], version: RoomVersion) -> bytes:
    redacted = redact(pdu, version)  # a new dict
    redacted.pop("signatures", None)
    redacted.pop("unsigned", None)
    return encode_canonical_json(redacted, strict=version.strict_canonical_json)


def hash_and_sign_event(pdu: Mapping[str, Any], key: SigningKey, version: RoomVersion) -> JsonDict:
    """Add the content hash, then sign the redacted event; return the new event dict.

    spec: server-server "Adding hashes and signatures to outgoing events". Existing
    signatures by other servers are kept; ``unsigned`` is carried over unsigned.
    """
    if not isinstance(pdu, Mapping):
        raise InvalidEvent("an event must be a JSON object")
    signatures = _signatures_copy(pdu)
    event = dict(pdu)
    try:
        digest = content_hash(event, version)
    except CanonicalJsonError as exc:
        raise InvalidEvent(f"event is not canonical JSON: {exc}") from exc
    event["hashes"] = {"sha256": unpadded_base64(digest)}
    signatures.setdefault(key.server_name, {})[key.key_id] = key.sign_bytes(
        _redacted_signable(event, version)
    )
    event["signatures"] = signatures
    return event


def check_content_hash(event: Event) -> bool:
    """Whether ``hashes.sha256`` matches the event's content hash.

    spec: server-server "Validating hashes and signatures on received events" — on a
    mismatch the receiver uses the redacted event instead of the received one.
    """
    hashes = event.pdu.get("hashes")
    claimed = hashes.get("sha256") if isinstance(hashes, Mapping) else None
    if not isinstance(claimed, str):
        return False
    try:
        expected = decode_unpadded_base64(claimed)
    except CanonicalJsonError:
        return False
    try:
        actual = content_hash(event.pdu, event.room_version)
    except CanonicalJsonError as exc:
        raise InvalidEvent(f"event is not canonical JSON: {exc}") from exc
    return actual == expected


def _is_third_party_invite(event: Event) -> bool:
    return (
        event.type == "m.room.member"
        and event.membership == "invite"
        and "third_party_invite" in event.content
    )


def required_signers(event: Event) -> set[str]:
    """The server names that must have signed ``event``.

    spec: server-server "Validating hashes and signatures on received events":
    - the sender's server, except for an invite made from a third-party invite,
      which another server may send on the original inviter's behalf;
    - room versions 1 and 2: also the server in the event id;
    - spec: rooms/v8 auth rule 4.2 — a restricted join (``join_authorised_via_users_server``
      in a join's content) must also be signed by that user's server.
    """
    servers: set[str] = set()
    if not _is_third_party_invite(event):
        servers.add(server_name_of(event.sender))
    if event.room_version.event_id_format is EventIdFormat.V1:
        servers.add(server_name_of(event.event_id))
    if (
        event.room_version.restricted_join_rule
        and event.type == "m.room.member"
        and event.membership == "join"
        and "join_authorised_via_users_server" in event.content
    ):
        authoriser = event.content["join_authorised_via_users_server"]
        if not isinstance(authoriser, str):
            raise InvalidEvent("`join_authorised_via_users_server` must be a user id")
        servers.add(server_name_of(authoriser))
    return servers


def verify_event_signatures(event: Event, keys: Mapping[tuple[str, str], VerifyKeyInfo]) -> None:
    """Check the signatures of every required signer on the redacted event.

    For each server in ``required_signers``, the signatures made with keys we know
    (``keys[(server, key_id)]``) and, from room version 5, that were still valid at
    ``origin_server_ts`` must all verify, and there must be at least one. Unknown and
    expired keys are skipped. Raises ``SignatureError``, or ``InvalidEvent`` when a
    server name cannot be read from the sender, event id or authorising user.
    spec: server-server "Validating hashes and signatures on received events",
    rooms/v5 "Signing key validity period".
    """
    version = event.room_version
    signatures = event.pdu.get("signatures")
    if not isinstance(signatures, Mapping):
        raise SignatureError("event has no `signatures`")
    try:
        message = _redacted_signable(event.pdu, version)
    except CanonicalJsonError as exc:
        raise SignatureError(f"event is not canonical JSON: {exc}") from exc
    for server in sorted(required_signers(event)):
        by_server = signatures.get(server)
        if not isinstance(by_server, Mapping) or not by_server:
            raise SignatureError(f"event {event.event_id} is not signed by {server}")
        checked = 0
        for key_id, signature in by_server.items():
            if not isinstance(key_id, str) or not key_id.startswith(ED25519 + ":"):
                continue  # spec: algorithms we do not understand are ignored
            info = keys.get((server, key_id))
            if info is None:
                continue
            if (
                version.enforce_key_validity
                and info.valid_until_ts is not None
                and info.valid_until_ts < event.origin_server_ts
            ):
                continue
            _check_signature(message, signature, info.key, f"{server} ({key_id})")
            checked += 1
        if not checked:
            raise SignatureError(
                f"event {event.event_id}: no known, valid key of {server} signed it"
            )


# -- server keys -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OldVerifyKey:
    """A key the server no longer signs with; still valid for events before ``expired_ts``."""

    key_id: str
    key: str  # unpadded base64 public key
    expired_ts: int


def make_server_keys_response(
    key: SigningKey, old_verify_keys: Iterable[OldVerifyKey] = (), *, valid_until_ts: int
) -> JsonDict:
    """The self-signed body of ``GET /_matrix/key/v2/server``.

    spec: server-server "Publishing Keys".
    """
    body: JsonDict = {
        "server_name": key.server_name,
        "verify_keys": {key.key_id: {"key": key.verify_key_base64}},
        "old_verify_keys": {
            old.key_id: {"key": old.key, "expired_ts": old.expired_ts} for old in old_verify_keys
        },
        "valid_until_ts": valid_until_ts,
    }
    return sign_json(body, key)


def cap_valid_until_ts(valid_until_ts: int, now_ms: int) -> int:
    """spec: rooms/v5 "Signing key validity period" — use the lesser of the key's
    ``valid_until_ts`` and 7 days after the time the keys were fetched."""
    return min(valid_until_ts, now_ms + MAX_KEY_VALIDITY_MS)


def parse_server_keys_response(
    body: Mapping[str, Any], server_name: str, *, now_ms: int | None = None
) -> dict[tuple[str, str], VerifyKeyInfo]:
    """Validate a ``/_matrix/key/v2/server`` body for ``server_name``; return its keys.

    The body must name ``server_name`` and be signed by every key in ``verify_keys``.
    Current keys are valid until ``valid_until_ts``, capped at ``now_ms`` + 7 days
    when ``now_ms`` (the fetch time) is given; old keys until their ``expired_ts``.
    A notary's own signature on a ``/query`` answer is for the caller to check with
    ``verify_json``. Raises ``SignatureError``.
    """
    if not isinstance(body, Mapping):
        raise SignatureError("key response must be a JSON object")
    if body.get("server_name") != server_name:
        raise SignatureError(f"key response is not for {server_name}")
    valid_until = body.get("valid_until_ts")
    if not isinstance(valid_until, int) or isinstance(valid_until, bool):
        raise SignatureError("`valid_until_ts` must be an integer")
    if now_ms is not None:
        valid_until = cap_valid_until_ts(valid_until, now_ms)
    found: dict[tuple[str, str], VerifyKeyInfo] = {}
    verify_keys = body.get("verify_keys")
    if not isinstance(verify_keys, Mapping) or not verify_keys:
        raise SignatureError("`verify_keys` must be a non-empty object")
    for key_id, entry in verify_keys.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
            raise SignatureError(f"verify key {key_id!r} has no `key`")
        if not key_id.startswith(ED25519 + ":"):
            continue
        info = VerifyKeyInfo.decode(entry["key"], valid_until)
        verify_json(body, server_name, key_id, info)
        found[(server_name, key_id)] = info
    old_keys = body.get("old_verify_keys", {})
    if not isinstance(old_keys, Mapping):
        raise SignatureError("`old_verify_keys` must be an object")
    for key_id, entry in old_keys.items():
        if not key_id.startswith(ED25519 + ":") or (server_name, key_id) in found:
            continue
        if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
            raise SignatureError(f"old verify key {key_id!r} has no `key`")
        expired = entry.get("expired_ts")
        if not isinstance(expired, int) or isinstance(expired, bool):
            raise SignatureError(f"old verify key {key_id!r} has no `expired_ts`")
        found[(server_name, key_id)] = VerifyKeyInfo.decode(entry["key"], expired)
    return found
