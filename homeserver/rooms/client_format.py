"""Events as clients see them: the client-server "ClientEvent" format.

spec: client-server "Room Events" / "ClientEvent" — the PDU's protocol fields
(hashes, signatures, auth/prev events, depth) are dropped, ``unsigned`` carries
``age``, ``transaction_id`` (for the sending device only), ``prev_content`` and
``redacted_because``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeserver.protocol.events import Event

JsonDict = dict[str, Any]


def client_event(
    event: Event,
    *,
    now_ms: int,
    transaction_id: str | None = None,
    redacted_because: Mapping[str, Any] | None = None,
    prev_content: Mapping[str, Any] | None = None,
    prev_sender: str | None = None,
    replaces_state: str | None = None,
    include_room_id: bool = True,
) -> JsonDict:
    out: JsonDict = {
        "content": event.content,
        "event_id": event.event_id,
        "origin_server_ts": event.origin_server_ts,
        "sender": event.sender,
        "type": event.type,
    }
    if include_room_id:
        out["room_id"] = event.room_id
    if event.state_key is not None:
        out["state_key"] = event.state_key
    if event.redacts is not None:
        # v11 moved `redacts` into content; clients written for older rooms read it
        # top-level, so both places carry it.
        out["redacts"] = event.redacts
    unsigned: JsonDict = {"age": max(0, now_ms - event.origin_server_ts)}
    if transaction_id is not None:
        unsigned["transaction_id"] = transaction_id
    if redacted_because is not None:
        unsigned["redacted_because"] = dict(redacted_because)
    if prev_content is not None:
        unsigned["prev_content"] = dict(prev_content)
        if prev_sender is not None:
            unsigned["prev_sender"] = prev_sender
    if replaces_state is not None:
        unsigned["replaces_state"] = replaces_state
    out["unsigned"] = unsigned
    return out
