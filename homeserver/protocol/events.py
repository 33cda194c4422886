"""The PDU (event) format per room version, and the hashes that identify events.

spec: server-server "PDUs", rooms/v1 "Event IDs", rooms/v3 and v4 "Event IDs",
rooms/v12 "Event format"; server-server "Calculating the reference hash for an event"
and "Calculating the content hash for an event".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .canonical import (
    JsonDict,
    check_strict,
    encode_canonical_json,
    sha256,
    unpadded_base64,
    unpadded_urlsafe_base64,
)
from .errors import CanonicalJsonError, InvalidEvent
from .redaction import redact
from .room_versions import EventIdFormat, RoomVersion

# spec: server-server "Size limits"
MAX_PDU_BYTES = 65536
MAX_ID_BYTES = 255
# spec: PDU schemas — at most 20 prev_events and 10 auth_events
MAX_PREV_EVENTS = 20
MAX_AUTH_EVENTS = 10
# spec: PDU schemas — `origin_server_ts` is an int64, and `depth` below 2**63 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def content_hash(pdu: Mapping[str, Any], version: RoomVersion) -> bytes:
    """sha256 over the event without ``unsigned``, ``signatures`` and ``hashes``."""
    if not isinstance(pdu, Mapping):
        raise InvalidEvent("an event must be a JSON object")
    stripped = {k: v for k, v in pdu.items() if k not in ("unsigned", "signatures", "hashes")}
    return sha256(encode_canonical_json(stripped, strict=version.strict_canonical_json))


def reference_hash(pdu: Mapping[str, Any], version: RoomVersion) -> bytes:
    """sha256 over the redacted event without ``signatures`` and ``unsigned``."""
    redacted = redact(pdu, version)  # a new dict; raises InvalidEvent for a non-object
    redacted.pop("signatures", None)
    redacted.pop("unsigned", None)
    return sha256(encode_canonical_json(redacted, strict=version.strict_canonical_json))


def compute_event_id(pdu: Mapping[str, Any], version: RoomVersion) -> str:
    """The event id of a v3+ event: ``$`` + base64 of its reference hash."""
    if version.event_id_format is EventIdFormat.V1:
        raise InvalidEvent("room versions 1 and 2 carry their event id in the event")
    digest = reference_hash(pdu, version)
    if version.event_id_format is EventIdFormat.V3:
        return "$" + unpadded_base64(digest)
    return "$" + unpadded_urlsafe_base64(digest)


def room_id_for_create_event(create_event_id: str) -> str:
    """spec: rooms/v12 — the room id is the create event's id with sigil ``!``."""
    return "!" + create_event_id[1:]


def _require_str(pdu: Mapping[str, Any], key: str) -> str:
    value = pdu.get(key)
    if not isinstance(value, str):
        raise InvalidEvent(f"`{key}` must be a string")
    return value


def _require_int(pdu: Mapping[str, Any], key: str) -> int:
    value = pdu.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidEvent(f"`{key}` must be an integer")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise InvalidEvent(f"`{key}` is out of the 64-bit integer range")
    return value


def _check_signatures_shape(value: object) -> None:
    """spec: PDU schemas — ``signatures`` maps server names to key id -> signature."""
    if not isinstance(value, dict):
        raise InvalidEvent("`signatures` must be an object")
    for server, by_key in value.items():
        if not isinstance(by_key, dict) or not all(isinstance(s, str) for s in by_key.values()):
            raise InvalidEvent(f"`signatures.{server}` must map key ids to strings")


def _event_refs(pdu: Mapping[str, Any], key: str, version: RoomVersion) -> tuple[str, ...]:
    """Read ``prev_events`` / ``auth_events`` in the room version's shape."""
    value = pdu.get(key)
    if not isinstance(value, list):
        raise InvalidEvent(f"`{key}` must be a list")
    ids: list[str] = []
    if version.event_id_format is EventIdFormat.V1:
        # v1/v2: [[event_id, {"sha256": hash}], ...]
        for item in value:
            if (
                not isinstance(item, list)
                or len(item) != 2
                or not isinstance(item[0], str)
                or not isinstance(item[1], dict)
                or not isinstance(item[1].get("sha256"), str)
            ):
                raise InvalidEvent(f"`{key}` entries must be [event_id, hashes] pairs")
            ids.append(item[0])
    else:
        for item in value:
            if not isinstance(item, str):
                raise InvalidEvent(f"`{key}` entries must be event id strings")
            ids.append(item)
    return tuple(ids)


class Event:
    """An immutable, validated PDU with the fields the protocol reads hoisted.

    ``pdu`` keeps the JSON exactly as received or built (signatures included), so
    that hashes and signatures can be recomputed from it. ``rejected`` is set by the
    caller that knows (storage), and state resolution and auth honour it.
    """

    __slots__ = (
        "auth_event_ids",
        "content",
        "depth",
        "event_id",
        "origin_server_ts",
        "pdu",
        "prev_event_ids",
        "redacts",
        "rejected",
        "room_id",
        "room_version",
        "sender",
        "state_key",
        "type",
    )

    event_id: str
    room_id: str
    sender: str
    type: str
    state_key: str | None
    content: JsonDict
    prev_event_ids: tuple[str, ...]
    auth_event_ids: tuple[str, ...]
    depth: int
    origin_server_ts: int
    redacts: str | None
    room_version: RoomVersion
    rejected: bool
    pdu: JsonDict

    def __init__(
        self,
        pdu: Mapping[str, Any],
        version: RoomVersion,
        *,
        event_id: str | None = None,
        rejected: bool = False,
    ) -> None:
        """Validate ``pdu`` against the event format of ``version``.

        ``event_id`` may be passed when it is already known (from storage) to save
        recomputing the reference hash; for v1/v2 rooms it is read from the event.
        Raises ``InvalidEvent`` for anything malformed.
        """
        if not isinstance(pdu, Mapping):
            raise InvalidEvent("an event must be a JSON object")
        data = dict(pdu)
        self.pdu = data
        self.room_version = version
        self.rejected = rejected
        self.sender = _require_str(data, "sender")
        self.type = _require_str(data, "type")
        self.origin_server_ts = _require_int(data, "origin_server_ts")
        self.depth = _require_int(data, "depth")
        content = data.get("content")
        if not isinstance(content, dict):
            raise InvalidEvent("`content` must be an object")
        self.content = content
        state_key = data.get("state_key")
        if state_key is not None and not isinstance(state_key, str):
            raise InvalidEvent("`state_key` must be a string")
        self.state_key = state_key
        hashes = data.get("hashes")
        if not isinstance(hashes, dict) or not isinstance(hashes.get("sha256"), str):
            raise InvalidEvent("`hashes.sha256` must be a string")
        _check_signatures_shape(data.get("signatures"))
        self.prev_event_ids = _event_refs(data, "prev_events", version)
        self.auth_event_ids = _event_refs(data, "auth_events", version)

        redacts: object
        if version.redacts_in_content:
            redacts = content.get("redacts") if self.type == "m.room.redaction" else None
        else:
            redacts = data.get("redacts")
        if redacts is not None and not isinstance(redacts, str):
            raise InvalidEvent("`redacts` must be an event id string")
        self.redacts = redacts

        is_v12_create = (
            version.room_id_from_create_event
            and self.type == "m.room.create"
            and (self.state_key == "")
        )
        if version.event_id_format is EventIdFormat.V1:
            self.event_id = _require_str(data, "event_id")
        elif event_id is not None:
            self.event_id = event_id
        else:
            try:
                # spec: rooms/v6 "Canonical JSON" — the whole event, not only the
                # redacted part the event id covers; a given ``event_id`` means the
                # event was validated before (storage), so the walk is skipped there.
                if version.strict_canonical_json:
                    check_strict(data)
                self.event_id = compute_event_id(data, version)
            except CanonicalJsonError as exc:
                raise InvalidEvent(f"event is not canonical JSON: {exc}") from exc
        if is_v12_create and "room_id" not in data:
            self.room_id = room_id_for_create_event(self.event_id)
        else:
            self.room_id = _require_str(data, "room_id")

    # -- convenience -------------------------------------------------------------

    @property
    def is_state(self) -> bool:
        return self.state_key is not None

    @property
    def state_tuple(self) -> tuple[str, str]:
        """``(type, state_key)``; only meaningful for state events."""
        return (self.type, self.state_key or "")

    @property
    def membership(self) -> str | None:
        value = self.content.get("membership")
        return value if isinstance(value, str) else None

    @property
    def origin(self) -> str:
        """The server name of the sender."""
        return self.sender.split(":", 1)[1] if ":" in self.sender else ""

    def check_size_limits(self) -> None:
        """spec: server-server "Size limits" (65536 bytes; ids and keys 255 bytes), and
        the PDU schemas' limits of 20 ``prev_events`` and 10 ``auth_events``.

        Checked on receipt and before sending, not in the constructor, so that events
        stored before a limit existed can still be loaded.
        """
        if len(self.prev_event_ids) > MAX_PREV_EVENTS:
            raise InvalidEvent(f"more than {MAX_PREV_EVENTS} prev_events")
        if len(self.auth_event_ids) > MAX_AUTH_EVENTS:
            raise InvalidEvent(f"more than {MAX_AUTH_EVENTS} auth_events")
        for key in ("sender", "room_id", "type", "event_id"):
            value = getattr(self, key)
            if len(value.encode("utf-8")) > MAX_ID_BYTES:
                raise InvalidEvent(f"`{key}` is longer than {MAX_ID_BYTES} bytes")
        if self.state_key is not None and len(self.state_key.encode("utf-8")) > MAX_ID_BYTES:
            raise InvalidEvent(f"`state_key` is longer than {MAX_ID_BYTES} bytes")
        size = len(encode_canonical_json(self.pdu, strict=False))
        if size > MAX_PDU_BYTES:
            raise InvalidEvent(f"event is {size} bytes, more than {MAX_PDU_BYTES}")

    def __repr__(self) -> str:
        state = f" state_key={self.state_key!r}" if self.state_key is not None else ""
        return f"<Event {self.event_id} {self.type}{state} from {self.sender}>"
