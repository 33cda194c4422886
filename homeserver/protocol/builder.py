"""Building a new local event: the PDU fields for its room version, hashed and signed.

spec: server-server "PDUs" and "Adding hashes and signatures to outgoing events";
rooms/v1 "Event IDs" (event id carried in v1/v2 events, prev/auth as
``[event_id, {"sha256": hash}]`` pairs), rooms/v3+ (ids are reference hashes),
rooms/v11 (``redacts`` inside content), rooms/v12 (no ``room_id`` on the create event).

Pure: the timestamp, the v1/v2 random id part and the signing key are parameters.
The caller chooses ``auth_events`` (``auth_events.auth_types_for_event``) and
``prev_events`` (the forward extremities), and computes ``depth``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .canonical import MAX_SAFE_INTEGER, JsonDict, unpadded_base64
from .errors import InvalidEvent
from .events import Event, reference_hash
from .room_versions import EventIdFormat, RoomVersion
from .signing import SigningKey, hash_and_sign_event, server_name_of

# A reference to an earlier event: its id, or for room versions 1 and 2 the pair
# (event id, unpadded base64 reference hash) that those versions put in the event.
EventRef = str | tuple[str, str]

# spec: PDU schemas — at most 20 prev_events and 10 auth_events
MAX_PREV_EVENTS = 20
MAX_AUTH_EVENTS = 10
# spec: rooms/v1 PDU "depth" is below 2**63 - 1; v6+ (canonical JSON) below 2**53 - 1
_MAX_DEPTH_V1 = 2**63 - 1


def event_reference(event: Event) -> tuple[str, str]:
    """``(event_id, reference hash)`` of ``event``, the shape v1/v2 builders need."""
    return (event.event_id, unpadded_base64(reference_hash(event.pdu, event.room_version)))


def max_depth(version: RoomVersion) -> int:
    return MAX_SAFE_INTEGER if version.strict_canonical_json else _MAX_DEPTH_V1


def _refs(refs: Sequence[EventRef], version: RoomVersion, what: str) -> list[Any]:
    out: list[Any] = []
    for ref in refs:
        if isinstance(ref, tuple):
            if len(ref) != 2 or not all(isinstance(part, str) for part in ref):
                raise InvalidEvent(f"{what} references are (event_id, reference_hash) pairs")
            event_id, ref_hash = ref
        elif isinstance(ref, str):
            event_id, ref_hash = ref, None
        else:
            raise InvalidEvent(f"{what} references must be event ids")
        if version.event_id_format is EventIdFormat.V1:
            if ref_hash is None:
                raise InvalidEvent(f"room version {version.identifier} needs {what} hashes")
            out.append([event_id, {"sha256": ref_hash}])
        else:
            out.append(event_id)
    return out


def build_event(
    *,
    version: RoomVersion,
    room_id: str | None,
    sender: str,
    event_type: str,
    content: Mapping[str, Any],
    prev_events: Sequence[EventRef],
    auth_events: Sequence[EventRef],
    depth: int,
    origin_server_ts: int,
    key: SigningKey,
    state_key: str | None = None,
    redacts: str | None = None,
    event_id_localpart: str | None = None,
) -> Event:
    """Build, hash and sign a new event; return it as a validated ``Event``.

    ``room_id`` is ``None`` only for the create event of a v12+ room, whose room id
    is derived from its event id. ``redacts`` goes top-level in v1-v10 and into
    ``content`` from v11. ``event_id_localpart`` is the random part of a v1/v2 event
    id (``$<localpart>:<sender's server>``) and is required there. ``depth`` above
    the room version's maximum is set to the maximum, as the PDU schema says.
    Raises ``InvalidEvent`` for anything the event format does not allow.
    """
    if not isinstance(content, Mapping):
        raise InvalidEvent("`content` must be an object")
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise InvalidEvent("`depth` must be a non-negative integer")
    if len(prev_events) > MAX_PREV_EVENTS:
        raise InvalidEvent(f"at most {MAX_PREV_EVENTS} prev_events are allowed")
    if len(auth_events) > MAX_AUTH_EVENTS:
        raise InvalidEvent(f"at most {MAX_AUTH_EVENTS} auth_events are allowed")

    event_content: JsonDict = dict(content)
    pdu: JsonDict = {
        "type": event_type,
        "sender": sender,
        "origin_server_ts": origin_server_ts,
        "depth": min(depth, max_depth(version)),
        "prev_events": _refs(prev_events, version, "prev_events"),
        "auth_events": _refs(auth_events, version, "auth_events"),
        "content": event_content,
        "hashes": {},
        "signatures": {},
    }
    if state_key is not None:
        pdu["state_key"] = state_key

    is_create = event_type == "m.room.create" and state_key == ""
    if version.room_id_from_create_event and is_create:
        if room_id is not None:  # spec: rooms/v12 — the room id is derived from it
            raise InvalidEvent("a v12+ m.room.create event has no `room_id`")
    elif room_id is None:
        raise InvalidEvent("`room_id` is required except on a v12+ m.room.create")
    else:
        pdu["room_id"] = room_id

    if redacts is not None:
        if event_type != "m.room.redaction":
            raise InvalidEvent("only m.room.redaction events carry `redacts`")
        if version.redacts_in_content:
            event_content["redacts"] = redacts  # spec: rooms/v11 "Event format"
        else:
            pdu["redacts"] = redacts
    elif event_type == "m.room.redaction":
        carried = event_content.get("redacts") if version.redacts_in_content else None
        if not isinstance(carried, str):
            raise InvalidEvent("an m.room.redaction event needs `redacts`")

    if version.event_id_format is EventIdFormat.V1:
        if not event_id_localpart:
            raise InvalidEvent("room versions 1 and 2 need a random event id part")
        pdu["event_id"] = f"${event_id_localpart}:{server_name_of(sender)}"

    signed = hash_and_sign_event(pdu, key, version)
    return Event(signed, version)
