"""Profile field names and values: what the spec allows, what a profile may weigh.

spec: client-server "Profiles" (``PUT /profile/{userId}/{keyName}``, v1.16 custom
fields): a key is ``displayname``, ``avatar_url``, ``m.tz`` or a custom field in the
Common Namespaced Identifier Grammar (appendices), at most 255 bytes
(``M_KEY_TOO_LARGE``); ``avatar_url`` is an ``mxc://`` URI, ``displayname`` and ``m.tz``
are strings, custom fields any JSON; the whole profile stays under 64 KiB
(``M_PROFILE_TOO_LARGE``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .canonical import encode_canonical_json
from .errors import CanonicalJsonError, InvalidIdentifier, ProtocolError
from .ids import parse_server_name

DISPLAYNAME = "displayname"
AVATAR_URL = "avatar_url"
TIMEZONE = "m.tz"
# The fields copied into m.room.member events (spec: "Events on Change of Profile
# Information").
MEMBER_FIELDS = (DISPLAYNAME, AVATAR_URL)

MAX_KEY_BYTES = 255
# spec: "the total profile MUST be under 64 KiB" (its canonical JSON).
MAX_PROFILE_BYTES = 64 * 1024
# Upper bounds on the fields member events carry, as Synapse has them: every room the
# user is in gets a copy of these.
MAX_DISPLAYNAME_CHARS = 256
MAX_AVATAR_URL_CHARS = 1000

# spec: appendices "Common Namespaced Identifier Grammar".
_NAMESPACED = re.compile(r"[a-z][a-z0-9._-]*")
_MEDIA_ID = re.compile(r"[A-Za-z0-9_-]+")


class ProfileFieldError(ProtocolError):
    """A profile key or value the spec does not allow; ``errcode`` is the Matrix code."""

    def __init__(self, errcode: str, message: str) -> None:
        super().__init__(message)
        self.errcode = errcode


def check_key(key: str) -> str:
    """``key`` when it may name a profile field; else ``ProfileFieldError``."""
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise ProfileFieldError(
            "M_KEY_TOO_LARGE", f"Profile keys are at most {MAX_KEY_BYTES} bytes"
        )
    if key in (DISPLAYNAME, AVATAR_URL) or _NAMESPACED.fullmatch(key):
        return key
    raise ProfileFieldError(
        "M_INVALID_PARAM",
        "Profile keys are `displayname`, `avatar_url` or a namespaced identifier"
        " (lowercase letters, digits, `.`, `_`, `-`)",
    )


def is_mxc_uri(value: str) -> bool:
    """``mxc://<server-name>/<media-id>`` (spec: content repository "Matrix Content URIs")."""
    if not value.startswith("mxc://"):
        return False
    server, slash, media_id = value[len("mxc://") :].partition("/")
    if not slash or not _MEDIA_ID.fullmatch(media_id):
        return False
    try:
        parse_server_name(server)
    except InvalidIdentifier:
        return False
    return True


def check_value(key: str, value: object) -> object:
    """``value`` when it may be stored under ``key``; else ``ProfileFieldError``.

    An empty ``displayname`` or ``avatar_url`` is allowed: it clears the field (as
    Synapse does; the caller deletes it).
    """
    if key == DISPLAYNAME:
        if not isinstance(value, str):
            raise ProfileFieldError("M_INVALID_PARAM", "`displayname` must be a string")
        if len(value) > MAX_DISPLAYNAME_CHARS:
            raise ProfileFieldError(
                "M_INVALID_PARAM", f"`displayname` is longer than {MAX_DISPLAYNAME_CHARS}"
            )
    elif key == AVATAR_URL:
        if not isinstance(value, str):
            raise ProfileFieldError("M_INVALID_PARAM", "`avatar_url` must be a string")
        if len(value) > MAX_AVATAR_URL_CHARS:
            raise ProfileFieldError(
                "M_INVALID_PARAM", f"`avatar_url` is longer than {MAX_AVATAR_URL_CHARS}"
            )
        if value and not is_mxc_uri(value):
            raise ProfileFieldError("M_INVALID_PARAM", "`avatar_url` must be an mxc:// URI")
    elif key == TIMEZONE and not isinstance(value, str):
        raise ProfileFieldError("M_INVALID_PARAM", "`m.tz` must be a string")
    try:
        # Custom fields never enter events: floats are fine there.
        encode_canonical_json(value, strict=False)
    except CanonicalJsonError as exc:
        raise ProfileFieldError("M_BAD_JSON", f"`{key}`: {exc}") from exc
    return value


def profile_size(profile: Mapping[str, object]) -> int:
    """Bytes of the profile's canonical JSON (what the 64 KiB limit measures)."""
    return len(encode_canonical_json(dict(profile), strict=False))


def check_size(profile: Mapping[str, object]) -> None:
    if profile_size(profile) >= MAX_PROFILE_BYTES:
        raise ProfileFieldError(
            "M_PROFILE_TOO_LARGE", f"A profile must stay under {MAX_PROFILE_BYTES} bytes"
        )


def clears(key: str, value: object) -> bool:
    """Setting ``displayname`` or ``avatar_url`` to ``""`` removes the field."""
    return key in MEMBER_FIELDS and value == ""
