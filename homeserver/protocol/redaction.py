"""The redaction algorithm per room version.

spec: rooms/v1 "Redactions", v6, v8, v9 and v11 "Redactions". Redaction keeps the
fields the protocol needs (auth, hashes, signatures) and drops everything else, so a
redacted event still has the same reference hash and event id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import InvalidEvent
from .room_versions import RoomVersion

JsonDict = dict[str, Any]

_TOP_LEVEL_V1 = frozenset(
    {
        "event_id",
        "type",
        "room_id",
        "sender",
        "state_key",
        "content",
        "hashes",
        "signatures",
        "depth",
        "prev_events",
        "prev_state",
        "auth_events",
        "origin",
        "origin_server_ts",
        "membership",
    }
)
# spec: v11 removes `origin`, `membership` and `prev_state` from the kept keys.
_TOP_LEVEL_V11 = _TOP_LEVEL_V1 - {"origin", "membership", "prev_state"}

_POWER_LEVEL_KEYS = (
    "ban",
    "events",
    "events_default",
    "kick",
    "redact",
    "state_default",
    "users",
    "users_default",
)


def _kept_content_keys(event_type: object, version: RoomVersion) -> tuple[str, ...] | None:
    """The content keys kept for ``event_type``; ``None`` means keep all of them."""
    v11 = version.updated_redaction_rules
    if event_type == "m.room.member":
        if version.restricted_join_rule_fix:
            return ("membership", "join_authorised_via_users_server")
        return ("membership",)
    if event_type == "m.room.create":
        return None if v11 else ("creator",)
    if event_type == "m.room.join_rules":
        return ("join_rule", "allow") if version.restricted_join_rule else ("join_rule",)
    if event_type == "m.room.power_levels":
        return (*_POWER_LEVEL_KEYS, "invite") if v11 else _POWER_LEVEL_KEYS
    if event_type == "m.room.aliases" and version.special_case_aliases_auth:
        return ("aliases",)
    if event_type == "m.room.history_visibility":
        return ("history_visibility",)
    if event_type == "m.room.redaction" and v11:
        return ("redacts",)
    return ()


def redact(event: Mapping[str, Any], version: RoomVersion) -> JsonDict:
    """Return the redacted copy of ``event`` (a PDU as a JSON dict).

    The input is not modified; a non-object raises ``InvalidEvent``. ``unsigned`` is
    dropped, as the algorithm says; a server that serves a redacted event to clients
    adds ``redacted_because`` itself.
    """
    if not isinstance(event, Mapping):
        raise InvalidEvent("an event must be a JSON object")
    top = _TOP_LEVEL_V11 if version.updated_redaction_rules else _TOP_LEVEL_V1
    redacted: JsonDict = {key: value for key, value in event.items() if key in top}
    content = event.get("content")
    if not isinstance(content, dict):
        content = {}
    kept = _kept_content_keys(event.get("type"), version)
    if kept is None:
        new_content: JsonDict = dict(content)
    else:
        new_content = {key: content[key] for key in kept if key in content}
        # spec: v11 — m.room.member keeps third_party_invite.signed (MSC3821)
        if version.updated_redaction_rules and event.get("type") == "m.room.member":
            invite = content.get("third_party_invite")
            if isinstance(invite, dict) and "signed" in invite:
                new_content["third_party_invite"] = {"signed": invite["signed"]}
    redacted["content"] = new_content
    return redacted
