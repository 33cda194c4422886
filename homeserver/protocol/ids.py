"""The grammar of Matrix identifiers: server names, user ids, room ids, event ids, aliases.

spec: appendices "Identifier Grammar" ("Server Name", "Common Identifier Format", "User
Identifiers", "Historical User IDs", "Room IDs", "Room Aliases", "Event IDs"), rooms/v1
"Event IDs", rooms/v3 and rooms/fragments/v4-event-ids "Event IDs", rooms/v12 (room ids
are the create event's id with the sigil ``!``).

Every failure raises ``InvalidIdentifier`` with a message naming what is wrong; no other
exception leaves this module, whatever the input.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NewType

from .errors import InvalidIdentifier
from .room_versions import EventIdFormat, RoomVersion

UserId = NewType("UserId", str)
RoomId = NewType("RoomId", str)
EventId = NewType("EventId", str)
RoomAlias = NewType("RoomAlias", str)
ServerName = NewType("ServerName", str)

# spec: appendices "User Identifiers", "Room IDs", "Room Aliases", "Event IDs" — the whole
# identifier, sigil and domain included, MUST NOT exceed 255 bytes.
MAX_ID_BYTES = 255
# spec: appendices "Server Name": dns-name = 1*255dns-char
MAX_DNS_NAME_LENGTH = 255
# RFC 1123 / RFC 1035: a DNS label is at most 63 octets.
MAX_DNS_LABEL_LENGTH = 63

# Patterns are matched with ``fullmatch`` and explicit ASCII classes, so neither a trailing
# newline nor a non-ASCII digit or letter can slip through.
_PORT = re.compile(r"[0-9]{1,5}")
_IPV4 = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})")
# spec: IPv6address = 2*45IPv6char; IPv6char = DIGIT / A-F / a-f / ":" / "."
_IPV6_CHARS = re.compile(r"[0-9A-Fa-f:.]{2,45}")
_DNS_LABEL = re.compile(r"[0-9A-Za-z-]{1,63}")
# spec: "User Identifiers" — user_id_char = DIGIT / a-z / "-" / "." / "=" / "_" / "/" / "+"
_STRICT_LOCALPART = re.compile(r"[a-z0-9._=\-/+]+")
# 32 bytes of sha256 in unpadded base64 are 43 characters; the last one carries 4 bits of
# data and 2 zero bits, so only every fourth letter of the alphabet can end a canonical
# encoding. spec: rooms/v3 "Event IDs", rooms/fragments/v4-event-ids, rooms/v12.
_HASH_STANDARD = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]")
_HASH_URLSAFE = re.compile(r"[A-Za-z0-9\-_]{42}[AEIMQUYcgkosw048]")


# -- server names ------------------------------------------------------------------------


def parse_server_name(s: str) -> tuple[str, int | None]:
    """Split a server name into ``(host, port)``; ``port`` is None when absent.

    ``host`` is returned as written, so an IPv6 literal keeps its brackets
    (``"[::1]:8448"`` gives ``("[::1]", 8448)``). Server names are case-sensitive and are
    not normalised. spec: appendices "Server Name".
    """
    if not isinstance(s, str):
        raise InvalidIdentifier(f"server name must be a string, not {type(s).__name__}")
    if not s:
        raise InvalidIdentifier("server name is empty")
    if s.startswith("["):
        end = s.find("]")
        if end < 0:
            raise InvalidIdentifier(f"IPv6 literal is missing its closing bracket: {s!r}")
        host, rest = s[: end + 1], s[end + 1 :]
        _check_ipv6_literal(host)
    else:
        host, sep, port_text = s.partition(":")
        rest = sep + port_text
        _check_hostname(host)
    if not rest:
        return host, None
    if not rest.startswith(":"):
        raise InvalidIdentifier(f"unexpected text after the host in server name {s!r}")
    return host, _parse_port(rest[1:], s)


def is_valid_server_name(s: str) -> bool:
    try:
        parse_server_name(s)
    except InvalidIdentifier:
        return False
    return True


def server_name(s: str) -> ServerName:
    """Validate a server name and return it as the ``ServerName`` type."""
    parse_server_name(s)
    return ServerName(s)


def _parse_port(text: str, whole: str) -> int:
    # spec: port = 1*5DIGIT; a TCP port is 1-65535.
    if not _PORT.fullmatch(text):
        raise InvalidIdentifier(f"port must be 1 to 5 decimal digits in server name {whole!r}")
    port = int(text)
    if not 1 <= port <= 65535:
        raise InvalidIdentifier(f"port {port} is out of range 1-65535 in {whole!r}")
    return port


def _check_ipv6_literal(host: str) -> None:
    inner = host[1:-1]
    # The character check comes first: ``ipaddress`` also accepts scope ids ("%eth0"),
    # which the server name grammar does not.
    if not _IPV6_CHARS.fullmatch(inner):
        raise InvalidIdentifier(f"invalid IPv6 literal {host!r}")
    try:
        ipaddress.IPv6Address(inner)
    except ValueError as exc:
        raise InvalidIdentifier(f"invalid IPv6 literal {host!r}: {exc}") from None


def _check_hostname(host: str) -> None:
    if not host:
        raise InvalidIdentifier("server name has an empty host")
    quad = _IPV4.fullmatch(host)
    if quad is not None:
        # spec: "IPv4 literals must be a sequence of four decimal numbers in the range 0 to
        # 255". A four-part all-digit name cannot be a DNS host name (RFC 1123 2.1: the top
        # label is alphabetic), so one out of range is an error, not a DNS name.
        if any(int(part) > 255 for part in quad.groups()):
            raise InvalidIdentifier(f"IPv4 literal out of range: {host!r}")
        return
    if len(host) > MAX_DNS_NAME_LENGTH:
        raise InvalidIdentifier(f"DNS name longer than {MAX_DNS_NAME_LENGTH} characters")
    # spec: a DNS name is a series of labels separated by "."; each label consists of
    # alphanumeric characters or hyphens. So no empty label: no leading, trailing or
    # doubled dot.
    for label in host.split("."):
        if not label:
            raise InvalidIdentifier(f"empty label in DNS name {host!r}")
        if len(label) > MAX_DNS_LABEL_LENGTH:
            raise InvalidIdentifier(
                f"DNS label longer than {MAX_DNS_LABEL_LENGTH} characters in {host!r}"
            )
        if not _DNS_LABEL.fullmatch(label):
            raise InvalidIdentifier(
                f"DNS name {host!r} may contain only ASCII letters, digits, '-' and '.'"
            )


# -- shared pieces -----------------------------------------------------------------------


def _require_str(s: object, kind: str) -> str:
    if not isinstance(s, str):
        raise InvalidIdentifier(f"{kind} must be a string, not {type(s).__name__}")
    return s


def _check_length(s: str, kind: str) -> None:
    # Lone surrogates cannot be encoded as UTF-8: reject them here rather than let
    # UnicodeEncodeError (a ValueError) escape.
    try:
        size = len(s.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidIdentifier(f"{kind} contains a surrogate code point") from None
    if size > MAX_ID_BYTES:
        raise InvalidIdentifier(f"{kind} is {size} bytes long; the limit is {MAX_ID_BYTES}")


def _split_sigil_domain(s: object, sigil: str, kind: str) -> tuple[str, str]:
    """``&localpart:domain`` -> (localpart, domain), checking sigil, length and domain."""
    text = _require_str(s, kind)
    if not text.startswith(sigil):
        raise InvalidIdentifier(f"{kind} must start with {sigil!r}: {text!r}")
    _check_length(text, kind)
    localpart, sep, domain = text[1:].partition(":")
    if not sep:
        raise InvalidIdentifier(f"{kind} has no ':domain' part: {text!r}")
    try:
        parse_server_name(domain)
    except InvalidIdentifier as exc:
        raise InvalidIdentifier(f"{kind} {text!r} has an invalid server name: {exc}") from None
    return localpart, domain


def _check_opaque_localpart(localpart: str, kind: str) -> None:
    # spec: room id and alias localparts may hold any non-surrogate code point except ":"
    # and NUL. ":" cannot appear (we split on the first one) and surrogates were caught by
    # the length check; an empty localpart is not an identifier at all.
    if not localpart:
        raise InvalidIdentifier(f"{kind} has an empty localpart")
    if "\x00" in localpart:
        raise InvalidIdentifier(f"{kind} localpart contains NUL")


# -- user ids ----------------------------------------------------------------------------


def is_valid_localpart(s: str, *, strict: bool = True) -> bool:
    """Whether ``s`` is a user id localpart.

    ``strict=True``: the current grammar, 1+ of ``a-z 0-9 . _ = - / +`` (what we allow
    for new local users). ``strict=False``: the historical grammar that servers MUST still
    accept in events: any non-surrogate code point except ``:`` and NUL, including the
    empty string. spec: appendices "User Identifiers", "Historical User IDs".
    """
    if not isinstance(s, str):
        return False
    if strict:
        return _STRICT_LOCALPART.fullmatch(s) is not None
    if ":" in s or "\x00" in s:
        return False
    return not any(0xD800 <= ord(ch) <= 0xDFFF for ch in s)


def is_compliant_localpart(s: str) -> bool:
    """Whether a historical localpart is "compliant": non-empty, all of U+0021-U+007E.

    spec: "Historical User IDs" — servers SHOULD NOT forward non-compliant user ids to
    clients outside the context of an event (e.g. device list updates).
    """
    return (
        isinstance(s, str) and bool(s) and ":" not in s and all(0x21 <= ord(ch) <= 0x7E for ch in s)
    )


def parse_user_id(s: str, *, strict: bool = False) -> tuple[str, str]:
    """``@localpart:server`` -> ``(localpart, server_name)``.

    ``strict=False`` (the default) accepts the historical grammar, as required for senders
    of federated events; ``strict=True`` requires the current grammar.
    """
    localpart, domain = _split_sigil_domain(s, "@", "user id")
    if strict:
        if not _STRICT_LOCALPART.fullmatch(localpart):
            raise InvalidIdentifier(
                f"user id localpart {localpart!r} must be 1 or more of a-z 0-9 . _ = - / +"
            )
    elif "\x00" in localpart:
        raise InvalidIdentifier("user id localpart contains NUL")
    return localpart, domain


def user_id(s: str, *, strict: bool = False) -> UserId:
    """Validate a user id and return it as the ``UserId`` type."""
    parse_user_id(s, strict=strict)
    return UserId(s)


# -- room ids ----------------------------------------------------------------------------


def parse_room_id(s: str, version: RoomVersion | None = None) -> RoomId:
    """Validate a room id and return it as the ``RoomId`` type.

    Room versions 1-11 use ``!opaque:server``; room version 12 uses ``!`` + the URL-safe
    unpadded base64 sha256 of the create event (43 characters). With ``version=None``
    either form is accepted, chosen by the presence of ``:``. spec: appendices "Room IDs".
    """
    text = _require_str(s, "room id")
    if not text.startswith("!"):
        raise InvalidIdentifier(f"room id must start with '!': {text!r}")
    hashed = ":" not in text if version is None else version.room_id_from_create_event
    if hashed:
        _check_length(text, "room id")
        if not _HASH_URLSAFE.fullmatch(text[1:]):
            raise InvalidIdentifier(
                f"room id {text!r} must be '!' and 43 URL-safe unpadded base64 characters"
                " of a sha256 hash"
            )
    else:
        localpart, _ = _split_sigil_domain(text, "!", "room id")
        _check_opaque_localpart(localpart, "room id")
    return RoomId(text)


# -- event ids ---------------------------------------------------------------------------


def parse_event_id(s: str, version: RoomVersion) -> EventId:
    """Validate an event id in the format of ``version`` and return it as ``EventId``.

    v1-v2: ``$opaque:server``; v3: ``$`` + standard unpadded base64 of a sha256;
    v4+: the same in URL-safe base64. spec: rooms/v1, rooms/v3, rooms/v4 "Event IDs".
    """
    text = _require_str(s, "event id")
    if not text.startswith("$"):
        raise InvalidIdentifier(f"event id must start with '$': {text!r}")
    fmt = version.event_id_format
    if fmt is EventIdFormat.V1:
        localpart, _ = _split_sigil_domain(text, "$", "event id")
        _check_opaque_localpart(localpart, "event id")
        return EventId(text)
    _check_length(text, "event id")
    pattern = _HASH_STANDARD if fmt is EventIdFormat.V3 else _HASH_URLSAFE
    if not pattern.fullmatch(text[1:]):
        alphabet = "standard" if fmt is EventIdFormat.V3 else "URL-safe"
        raise InvalidIdentifier(
            f"event id {text!r} in room version {version.identifier} must be '$' and 43"
            f" {alphabet} unpadded base64 characters of a sha256 hash"
        )
    return EventId(text)


# -- room aliases ------------------------------------------------------------------------


def parse_room_alias(s: str) -> tuple[str, str]:
    """``#alias:server`` -> ``(alias localpart, server_name)``. spec: "Room Aliases"."""
    localpart, domain = _split_sigil_domain(s, "#", "room alias")
    _check_opaque_localpart(localpart, "room alias")
    return localpart, domain


def room_alias(s: str) -> RoomAlias:
    """Validate a room alias and return it as the ``RoomAlias`` type."""
    parse_room_alias(s)
    return RoomAlias(s)


# -- any id ------------------------------------------------------------------------------


def server_name_of(identifier: str) -> str:
    """The server name of a user id, server-form room id, alias or v1-v2 event id.

    Raises ``InvalidIdentifier`` for ids without a domain (v12 room ids, v3+ event ids).
    """
    text = _require_str(identifier, "identifier")
    sigil = text[:1]
    if sigil == "@":
        return parse_user_id(text)[1]
    if sigil == "#":
        return parse_room_alias(text)[1]
    if sigil in ("!", "$"):
        kind = "room id" if sigil == "!" else "event id"
        if ":" not in text:
            raise InvalidIdentifier(f"{kind} {text!r} has no server name")
        localpart, domain = _split_sigil_domain(text, sigil, kind)
        _check_opaque_localpart(localpart, kind)
        return domain
    raise InvalidIdentifier(f"unknown identifier sigil in {text!r}")
