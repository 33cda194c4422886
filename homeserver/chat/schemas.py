"""Validation of Concord state events and message fields.

Our server refuses malformed content from its own clients with ``M_BAD_JSON`` (the client
API hook in homeserver/rooms/chat_checks.py); events that arrive over federation are judged
by Matrix auth only, so guild.py reads state leniently and ignores what fails here.

Shapes (``{}`` is always valid: it is how a state event is deleted):

- ``im.concord.role`` (state_key: role id): ``name`` (1-100 chars, required), ``position``
  (int 0..ROLE_POSITION_MAX, required, larger = more senior), ``permissions`` (optional
  LIST of unique permission names from event_types.PERMISSIONS — we picked a list rather
  than an object of booleans: one way to say it, and "absent" cannot mean two things),
  ``color`` (optional ``"#rrggbb"``), ``mentionable`` (optional bool). The Admin role is
  an ordinary role whose permissions contain ``"administrator"``.
- ``im.concord.member_roles`` (state_key: the user id without its ``@``, see
  ``event_types.member_roles_key``): ``roles``: list of unique role ids.
- ``im.concord.category`` (state_key: category id): ``name`` (1-100 chars), ``order``
  (int 0..2**31-1).
- ``im.concord.banner`` (state_key ""): ``url``: an ``mxc://`` URI.
- ``im.concord.channel_permissions`` (state_key ""): keys among ``read``, ``write``,
  ``edit_description``; each a list of unique role ids (absent key = everyone in the guild).
- ``m.space.child`` (state_key: room id): per spec client-server "Spaces", ``via`` is a
  list of server names, ``order`` a string of at most 50 printable ASCII characters
  (0x20-0x7E), ``suggested`` a bool; Concord adds ``im.concord.category`` (a category id).
  Other keys are left alone there: the type is Matrix's, not ours.

Concord's own types refuse unknown keys, so a typo (``"permission"``) or a shape from
another design (``"administrator": true``) is an error rather than a silently ignored
field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..protocol.errors import InvalidIdentifier
from ..protocol.ids import is_valid_server_name, parse_room_id, parse_user_id
from ..protocol.profile_fields import is_mxc_uri
from . import event_types as et

# Role and category ids are state keys chosen by clients (the Admin role is "admin").
_ID = re.compile(r"[A-Za-z0-9._~-]{1,64}")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_NAME_MAX = 100
_ORDER_MAX_LEN = 50  # spec: client-server "Spaces", m.space.child order
_CATEGORY_ORDER_MAX = 2**31 - 1
_LIST_MAX = 250  # roles per member, role ids per channel action, mentions per message


class ChatSchemaError(ValueError):
    """Malformed Concord content; the message names the field at fault."""


def is_valid_id(value: object) -> bool:
    """Whether ``value`` is a role or category id."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _no_unknown_keys(event_type: str, content: Mapping[str, Any], known: frozenset[str]) -> None:
    extra = sorted(str(key) for key in content if key not in known)
    if extra:
        raise ChatSchemaError(f"{event_type}: unknown field(s) {', '.join(extra)}")


def _name(where: str, value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= _NAME_MAX:
        raise ChatSchemaError(f"{where} must be a string of 1 to {_NAME_MAX} characters")
    if value.strip() == "":
        raise ChatSchemaError(f"{where} must not be blank")
    return value


def _int(where: str, value: object, low: int, high: int) -> int:
    # bool is an int subclass in Python but not a JSON integer.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ChatSchemaError(f"{where} must be an integer from {low} to {high}")
    return value


def _id_list(where: str, value: object) -> list[str]:
    if not isinstance(value, list):
        raise ChatSchemaError(f"{where} must be a list of ids")
    if len(value) > _LIST_MAX:
        raise ChatSchemaError(f"{where} has more than {_LIST_MAX} entries")
    for item in value:
        if not is_valid_id(item):
            raise ChatSchemaError(f"{where}: {item!r} is not an id (1-64 of A-Za-z0-9._~-)")
    if len(set(value)) != len(value):
        raise ChatSchemaError(f"{where} holds duplicate ids")
    return list(value)


def _state_key_id(event_type: str, state_key: str) -> None:
    if not is_valid_id(state_key):
        raise ChatSchemaError(f"{event_type}: state_key {state_key!r} is not a valid id")


def _empty_state_key(event_type: str, state_key: str) -> None:
    if state_key != "":
        raise ChatSchemaError(f"{event_type}: state_key must be empty")


def _role(state_key: str, content: Mapping[str, Any]) -> None:
    _state_key_id(et.ROLE, state_key)
    _no_unknown_keys(
        et.ROLE, content, frozenset({"name", "position", "permissions", "color", "mentionable"})
    )
    if "name" not in content or "position" not in content:
        raise ChatSchemaError(f"{et.ROLE}: name and position are required")
    _name(f"{et.ROLE}.name", content["name"])
    _int(f"{et.ROLE}.position", content["position"], 0, et.ROLE_POSITION_MAX)
    if "permissions" in content:
        perms = content["permissions"]
        if not isinstance(perms, list) or not all(isinstance(p, str) for p in perms):
            raise ChatSchemaError(f"{et.ROLE}.permissions must be a list of permission names")
        unknown = sorted(set(perms) - et.PERMISSIONS)
        if unknown:
            raise ChatSchemaError(f"{et.ROLE}.permissions: unknown {', '.join(unknown)}")
        if len(set(perms)) != len(perms):
            raise ChatSchemaError(f"{et.ROLE}.permissions holds duplicates")
    if "color" in content and (
        not isinstance(content["color"], str) or not _COLOR.fullmatch(content["color"])
    ):
        raise ChatSchemaError(f"{et.ROLE}.color must be '#rrggbb'")
    if "mentionable" in content and not isinstance(content["mentionable"], bool):
        raise ChatSchemaError(f"{et.ROLE}.mentionable must be a boolean")


def _member_roles(state_key: str, content: Mapping[str, Any]) -> None:
    try:
        if state_key.startswith("@"):
            raise InvalidIdentifier("it must not start with @ (see member_roles_key)")
        parse_user_id(et.member_roles_user(state_key))
    except InvalidIdentifier as exc:
        raise ChatSchemaError(
            f"{et.MEMBER_ROLES}: state_key must be a user id without its @ ({exc})"
        ) from None
    _no_unknown_keys(et.MEMBER_ROLES, content, frozenset({"roles"}))
    if "roles" not in content:
        raise ChatSchemaError(f"{et.MEMBER_ROLES}: roles is required")
    _id_list(f"{et.MEMBER_ROLES}.roles", content["roles"])


def _category(state_key: str, content: Mapping[str, Any]) -> None:
    _state_key_id(et.CATEGORY, state_key)
    _no_unknown_keys(et.CATEGORY, content, frozenset({"name", "order"}))
    if "name" not in content or "order" not in content:
        raise ChatSchemaError(f"{et.CATEGORY}: name and order are required")
    _name(f"{et.CATEGORY}.name", content["name"])
    _int(f"{et.CATEGORY}.order", content["order"], 0, _CATEGORY_ORDER_MAX)


def _banner(state_key: str, content: Mapping[str, Any]) -> None:
    _empty_state_key(et.BANNER, state_key)
    _no_unknown_keys(et.BANNER, content, frozenset({"url"}))
    url = content.get("url")
    if not isinstance(url, str) or not is_mxc_uri(url):
        raise ChatSchemaError(f"{et.BANNER}.url must be an mxc://server/media_id URI")


def _channel_permissions(state_key: str, content: Mapping[str, Any]) -> None:
    _empty_state_key(et.CHANNEL_PERMISSIONS, state_key)
    _no_unknown_keys(et.CHANNEL_PERMISSIONS, content, et.CHANNEL_ACTIONS)
    for action, roles in content.items():
        _id_list(f"{et.CHANNEL_PERMISSIONS}.{action}", roles)


def _space_child(state_key: str, content: Mapping[str, Any]) -> None:
    # spec: client-server "Spaces" / "m.space.child".
    try:
        parse_room_id(state_key)
    except InvalidIdentifier as exc:
        raise ChatSchemaError(f"{et.SPACE_CHILD}: state_key must be a room id ({exc})") from None
    if "via" in content:
        via = content["via"]
        if (
            not isinstance(via, list)
            or not via
            or not all(isinstance(s, str) and is_valid_server_name(s) for s in via)
        ):
            raise ChatSchemaError(f"{et.SPACE_CHILD}.via must be a non-empty list of server names")
    if "order" in content:
        order = content["order"]
        if (
            not isinstance(order, str)
            or len(order) > _ORDER_MAX_LEN
            or not all(0x20 <= ord(ch) <= 0x7E for ch in order)
        ):
            raise ChatSchemaError(
                f"{et.SPACE_CHILD}.order must be at most {_ORDER_MAX_LEN} printable ASCII"
                " characters"
            )
    if "suggested" in content and not isinstance(content["suggested"], bool):
        raise ChatSchemaError(f"{et.SPACE_CHILD}.suggested must be a boolean")
    if et.CHILD_CATEGORY_FIELD in content and not is_valid_id(content[et.CHILD_CATEGORY_FIELD]):
        raise ChatSchemaError(f"{et.SPACE_CHILD}.{et.CHILD_CATEGORY_FIELD} must be a category id")


_VALIDATORS = {
    et.ROLE: _role,
    et.MEMBER_ROLES: _member_roles,
    et.CATEGORY: _category,
    et.BANNER: _banner,
    et.CHANNEL_PERMISSIONS: _channel_permissions,
    et.SPACE_CHILD: _space_child,
}


def is_checked_state_type(event_type: str) -> bool:
    """Whether ``validate_state`` has rules for ``event_type``."""
    return event_type in _VALIDATORS


def validate_state(event_type: str, state_key: str, content: Mapping[str, Any]) -> None:
    """Raise ``ChatSchemaError`` if a Concord state event (or m.space.child) is malformed.

    Other event types are not ours to judge: no-op. ``{}`` (deletion) is always valid.
    """
    validator = _VALIDATORS.get(event_type)
    if validator is None:
        return
    if not isinstance(content, Mapping):
        raise ChatSchemaError(f"{event_type}: content must be an object")
    if not content:
        return
    validator(state_key, content)


def validate_message(content: Mapping[str, Any]) -> None:
    """Raise ``ChatSchemaError`` if ``im.concord.role_mentions`` is present and malformed."""
    if et.ROLE_MENTIONS in content:
        _id_list(et.ROLE_MENTIONS, content[et.ROLE_MENTIONS])
