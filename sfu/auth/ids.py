"""The identifier grammar the SFU checks before using an id in a URL or a state key.

spec: appendices "Server Name", "User Identifiers", "Room IDs". Our own few lines: the SFU
imports nothing from the homeserver package (DESIGN.md "Layout").
"""

from __future__ import annotations

import ipaddress
import re

_DNS_NAME = re.compile(r"[A-Za-z0-9.-]{1,255}")
_PORT = re.compile(r"[0-9]{1,5}")
# Historical user ids may hold any printable ASCII but ':' in the localpart.
_USER_ID = re.compile(r"@[\x21-\x39\x3b-\x7e]+:(.+)")
_ROOM_ID = re.compile(r"![\x21-\x7e]+(?::.+)?")
MAX_ID_LENGTH = 255


def split_server_name(name: str) -> tuple[str, int | None] | None:
    """(host, port) of a valid server name, the host of an IPv6 literal without brackets;
    None when ``name`` is not one."""
    host, port = name, None
    if name.startswith("["):
        end = name.find("]")
        if end < 0:
            return None
        host, rest = name[1:end], name[end + 1 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
    else:
        host, sep, rest = name.partition(":")
        rest = sep + rest
        if not _DNS_NAME.fullmatch(host):
            return None
    if rest:
        if not rest.startswith(":") or not _PORT.fullmatch(rest[1:]):
            return None
        port = int(rest[1:])
        if not 0 < port < 65536:
            return None
    return host, port


def is_server_name(name: str) -> bool:
    return split_server_name(name) is not None


def user_server(user_id: str) -> str | None:
    """The server name of a valid user id, else None."""
    match = _USER_ID.fullmatch(user_id)
    if match is None or len(user_id) > MAX_ID_LENGTH or not is_server_name(match.group(1)):
        return None
    return match.group(1)


def is_room_id(room_id: str) -> bool:
    return len(room_id) <= MAX_ID_LENGTH and _ROOM_ID.fullmatch(room_id) is not None


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
