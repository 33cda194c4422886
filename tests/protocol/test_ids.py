"""Identifier grammar.

spec: appendices "Identifier Grammar"; rooms/v1, v3, v4 "Event IDs"; rooms/v12 room ids.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.events import compute_event_id, room_id_for_create_event
from homeserver.protocol.ids import (
    is_compliant_localpart,
    is_valid_localpart,
    is_valid_server_name,
    parse_event_id,
    parse_room_alias,
    parse_room_id,
    parse_server_name,
    parse_user_id,
    room_alias,
    server_name,
    server_name_of,
    user_id,
)
from homeserver.protocol.room_versions import (
    KNOWN_ROOM_VERSIONS,
    V1,
    V3,
    V4,
    V10,
    V11,
    V12,
    RoomVersion,
)

SHA = hashlib.sha256(b"concord").digest()
HASH_STD = base64.b64encode(SHA).decode().rstrip("=")
HASH_URL = base64.urlsafe_b64encode(SHA).decode().rstrip("=")
assert HASH_STD != HASH_URL  # this digest exercises both alphabets' differing characters
# spec examples: rooms/v3 "Event IDs" and rooms/fragments/v4-event-ids
SPEC_V3_EVENT_ID = "$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk"
SPEC_V3_EVENT_ID_2 = "$CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZgrW6o"
SPEC_V4_EVENT_ID = "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"


def sized(sigil: str, total_bytes: int) -> str:
    """``&aaa…:example.com`` of exactly ``total_bytes`` bytes."""
    suffix = ":example.com"
    return sigil + "a" * (total_bytes - 1 - len(suffix)) + suffix


# -- server names ------------------------------------------------------------------------

VALID_SERVER_NAMES = [
    # the spec's own examples (appendices "Server Name")
    ("matrix.org", ("matrix.org", None)),
    ("matrix.org:8888", ("matrix.org", 8888)),
    ("1.2.3.4", ("1.2.3.4", None)),
    ("1.2.3.4:1234", ("1.2.3.4", 1234)),
    ("[1234:5678::abcd]", ("[1234:5678::abcd]", None)),
    ("[1234:5678::abcd]:5678", ("[1234:5678::abcd]", 5678)),
    # edge cases
    ("[::1]:8448", ("[::1]", 8448)),
    ("[::1]", ("[::1]", None)),
    ("[::ffff:1.2.3.4]", ("[::ffff:1.2.3.4]", None)),
    ("[ABCD::EF]", ("[ABCD::EF]", None)),
    ("localhost", ("localhost", None)),
    ("localhost:8482", ("localhost", 8482)),
    ("0.0.0.0:1", ("0.0.0.0", 1)),
    ("255.255.255.255:65535", ("255.255.255.255", 65535)),
    ("example.com:08448", ("example.com", 8448)),  # port = 1*5DIGIT
    ("MATRIX.ORG", ("MATRIX.ORG", None)),  # upper case is discouraged, not invalid
    ("xn--bcher-kva.example", ("xn--bcher-kva.example", None)),
    ("a-b.c-d", ("a-b.c-d", None)),
    ("a" * 63 + ".com", ("a" * 63 + ".com", None)),
    ("1.2.3", ("1.2.3", None)),  # not a dotted quad, so a DNS name per the grammar
]

INVALID_SERVER_NAMES = [
    "",
    ":8448",
    "matrix.org:",
    "matrix.org:0",
    "matrix.org:65536",
    "matrix.org:123456",
    "matrix.org:-1",
    "matrix.org:+80",
    "matrix.org: 80",
    "matrix.org:８０",  # non-ASCII digits
    "matrix.org:8448:1",
    "matrix.org.",  # trailing dot: an empty label
    ".matrix.org",
    "matrix..org",
    "matrix_org",
    "mätrix.org",
    "例え.jp",
    "matrix.org\n",
    " matrix.org",
    "a b",
    "a" * 64 + ".com",  # label over 63 characters
    ".".join(["a" * 63] * 4) + ".a",  # 257 characters
    "1.2.3.256",
    "256.1.1.1",
    "1.2.3.4:0",
    "::1",  # IPv6 without brackets
    "[::1",
    "[::1]8448",
    "[::1]:",
    "[]",
    "[1.2.3.4]",
    "[::g]",
    "[::1%eth0]",  # scope ids are outside the grammar
    "[1:2:3:4:5:6:7:8:9]",
    "[::1]]",
    "matrix.org]",
]


@pytest.mark.parametrize(("name", "expected"), VALID_SERVER_NAMES)
def test_valid_server_names(name: str, expected: tuple[str, int | None]) -> None:
    assert parse_server_name(name) == expected
    assert is_valid_server_name(name)
    assert server_name(name) == name


@pytest.mark.parametrize("name", INVALID_SERVER_NAMES)
def test_invalid_server_names(name: str) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_server_name(name)
    assert not is_valid_server_name(name)


def test_dns_name_length_limit() -> None:
    # spec: dns-name = 1*255dns-char
    name = ".".join(["a" * 63] * 4)  # 255 characters
    assert len(name) == 255
    assert parse_server_name(name) == (name, None)
    assert not is_valid_server_name(name + "a")


# -- user ids ----------------------------------------------------------------------------

VALID_STRICT_USER_IDS = [
    ("@alice:example.com", ("alice", "example.com")),
    ("@a:b", ("a", "b")),
    ("@user.name_1=x-y/z+q:matrix.org:8448", ("user.name_1=x-y/z+q", "matrix.org:8448")),
    ("@a:[::1]:8448", ("a", "[::1]:8448")),
    ("@1234:1.2.3.4", ("1234", "1.2.3.4")),
]

# spec: "Historical User IDs" — accepted from federation, but not the current grammar.
HISTORICAL_ONLY_USER_IDS = [
    ("@Alice:example.com", ("Alice", "example.com")),  # upper case
    ("@al ice:example.com", ("al ice", "example.com")),
    ("@:example.com", ("", "example.com")),  # empty localpart is accepted
    ("@ü:example.com", ("ü", "example.com")),
    ("@a\x01b:example.com", ("a\x01b", "example.com")),  # control characters too
    ("@!#$%*:example.com", ("!#$%*", "example.com")),
]

INVALID_USER_IDS = [
    "",
    "@",
    "alice:example.com",
    "#alice:example.com",
    "@alice",
    "@alice:",
    "@alice:exa mple.com",
    "@alice:example.com:99999",
    "@alice:example.com.",
    "@a\x00b:example.com",
    "@\ud800:example.com",  # lone surrogate
    sized("@", 256),  # 256 bytes
]


@pytest.mark.parametrize(("uid", "parts"), VALID_STRICT_USER_IDS)
def test_valid_strict_user_ids(uid: str, parts: tuple[str, str]) -> None:
    assert parse_user_id(uid, strict=True) == parts
    assert parse_user_id(uid) == parts
    assert user_id(uid, strict=True) == uid


@pytest.mark.parametrize(("uid", "parts"), HISTORICAL_ONLY_USER_IDS)
def test_historical_user_ids(uid: str, parts: tuple[str, str]) -> None:
    assert parse_user_id(uid) == parts
    assert user_id(uid) == uid
    with pytest.raises(InvalidIdentifier):
        parse_user_id(uid, strict=True)
    with pytest.raises(InvalidIdentifier):
        user_id(uid, strict=True)


@pytest.mark.parametrize("uid", INVALID_USER_IDS)
@pytest.mark.parametrize("strict", [False, True])
def test_invalid_user_ids(uid: str, strict: bool) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_user_id(uid, strict=strict)


@pytest.mark.parametrize("strict", [False, True])
def test_user_id_255_byte_limit(strict: bool) -> None:
    # spec: "The length of a user ID, including the @ sigil and the domain, MUST NOT
    # exceed 255 bytes."
    at_limit = sized("@", 255)
    assert len(at_limit.encode()) == 255
    assert parse_user_id(at_limit, strict=strict)[1] == "example.com"
    with pytest.raises(InvalidIdentifier, match="255"):
        parse_user_id("@a" + at_limit[1:], strict=strict)


def test_user_id_limit_counts_bytes_not_characters() -> None:
    at_limit = "@" + "é" * 121 + ":example.com"  # 134 characters, 255 bytes
    assert len(at_limit.encode()) == 255
    assert parse_user_id(at_limit)[0] == "é" * 121
    with pytest.raises(InvalidIdentifier):
        parse_user_id("@a" + at_limit[1:])  # 135 characters, 256 bytes


LOCALPARTS = [
    # (localpart, strict, historical, compliant)
    ("alice", True, True, True),
    ("a.b_c=d-e/f+g", True, True, True),
    ("0", True, True, True),
    ("", False, True, False),
    ("Alice", False, True, True),
    ("al ice", False, True, False),  # space is outside U+0021-U+007E
    ("ü", False, True, False),
    ("a*b", False, True, True),
    ("a:b", False, False, False),
    ("a\x00b", False, False, False),
    ("\ud800", False, False, False),
]


@pytest.mark.parametrize(("localpart", "strict", "historical", "compliant"), LOCALPARTS)
def test_localparts(localpart: str, strict: bool, historical: bool, compliant: bool) -> None:
    assert is_valid_localpart(localpart) is strict
    assert is_valid_localpart(localpart, strict=True) is strict
    assert is_valid_localpart(localpart, strict=False) is historical
    assert is_compliant_localpart(localpart) is compliant


# -- room ids ----------------------------------------------------------------------------

V12_ROOM_ID = "!" + HASH_URL
SERVER_ROOM_IDS = ["!abc123:example.com", "!AbC:matrix.org:8448", "!ö é:[::1]", "!x:1.2.3.4"]
INVALID_ROOM_IDS = [
    "",
    "!",
    "!:example.com",
    "abc:example.com",
    "$abc:example.com",
    "!abc:",
    "!abc:bad_server",
    "!a\x00b:example.com",
    sized("!", 256),  # 256 bytes
    "!" + HASH_URL[:-1],  # 42 characters
    "!" + HASH_URL + "A",  # 44 characters
    "!" + HASH_URL + "=",  # padded
    "!" + HASH_STD,  # standard alphabet (+ or /) is not the v12 form
    "!" + HASH_URL[:-1] + "B",  # non-zero trailing bits: not the encoding of 32 bytes
    "!" + HASH_URL[:-1] + "\n",
]


@pytest.mark.parametrize("room_id", SERVER_ROOM_IDS)
def test_server_form_room_ids(room_id: str) -> None:
    assert parse_room_id(room_id) == room_id
    for version in (V1, V10, V11):
        assert parse_room_id(room_id, version) == room_id
    # spec: rooms/v12 — room ids no longer include a domain
    with pytest.raises(InvalidIdentifier):
        parse_room_id(room_id, V12)


def test_v12_room_ids() -> None:
    assert parse_room_id(V12_ROOM_ID) == V12_ROOM_ID
    assert parse_room_id(V12_ROOM_ID, V12) == V12_ROOM_ID
    with pytest.raises(InvalidIdentifier):
        parse_room_id(V12_ROOM_ID, V11)


def test_v12_room_id_of_a_real_create_event() -> None:
    create = {
        "type": "m.room.create",
        "state_key": "",
        "sender": "@alice:example.com",
        "content": {"room_version": "12"},
        "origin_server_ts": 0,
        "depth": 1,
        "prev_events": [],
        "auth_events": [],
    }
    room_id = room_id_for_create_event(compute_event_id(create, V12))
    assert parse_room_id(room_id, V12) == room_id


@pytest.mark.parametrize("room_id", INVALID_ROOM_IDS)
@pytest.mark.parametrize("version", [None, V1, V11, V12])
def test_invalid_room_ids(room_id: str, version: RoomVersion | None) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_room_id(room_id, version)


def test_room_id_255_byte_limit() -> None:
    at_limit = sized("!", 255)
    assert parse_room_id(at_limit) == at_limit
    with pytest.raises(InvalidIdentifier):
        parse_room_id("!a" + at_limit[1:])


# -- event ids ---------------------------------------------------------------------------

EVENT_ID_CASES = [
    # (event id, room versions where it is valid)
    ("$abc:example.com", {"1", "2"}),
    ("$a/b+c:[::1]:8448", {"1", "2"}),
    (SPEC_V3_EVENT_ID, {"3"}),  # has "/", so never URL-safe
    (SPEC_V4_EVENT_ID, {"4", "5", "6", "7", "8", "9", "10", "11", "12"}),
    # no character that differs between the alphabets: valid in both formats
    (SPEC_V3_EVENT_ID_2, {"3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}),
    ("$" + HASH_STD, {"3"}),
    ("$" + HASH_URL, {"4", "5", "6", "7", "8", "9", "10", "11", "12"}),
    ("$" + HASH_URL[:-1], set()),
    ("$" + HASH_URL + "A", set()),
    ("$" + HASH_URL + "=", set()),
    ("$" + HASH_URL[:-1] + "B", set()),
    ("$:example.com", set()),
    ("$abc", set()),
    ("$abc:", set()),
    ("!abc:example.com", set()),
    ("$a\x00:example.com", set()),
    (sized("$", 256), set()),
    (sized("$", 255), {"1", "2"}),
    ("", set()),
    ("$", set()),
]


@pytest.mark.parametrize(("event_id", "valid_in"), EVENT_ID_CASES)
@pytest.mark.parametrize("version", list(KNOWN_ROOM_VERSIONS.values()), ids=lambda v: v.identifier)
def test_event_ids(event_id: str, valid_in: set[str], version: RoomVersion) -> None:
    if version.identifier in valid_in:
        assert parse_event_id(event_id, version) == event_id
    else:
        with pytest.raises(InvalidIdentifier):
            parse_event_id(event_id, version)


def test_computed_event_ids_parse() -> None:
    pdu = {"type": "m.room.message", "sender": "@a:b", "content": {"body": "hi"}, "depth": 3}
    for version in (V3, V4, V12):
        event_id = compute_event_id(pdu, version)
        assert parse_event_id(event_id, version) == event_id


# -- room aliases ------------------------------------------------------------------------

VALID_ALIASES = [
    ("#room:example.com", ("room", "example.com")),
    ("#Ünïcode room!:example.com:8448", ("Ünïcode room!", "example.com:8448")),
    ("#a:[::1]", ("a", "[::1]")),
]
INVALID_ALIASES = [
    "",
    "#",
    "#:example.com",
    "#room",
    "room:example.com",
    "@room:example.com",
    "#room:",
    "#room:example.com:0",
    "#a\x00:example.com",
    sized("#", 256),  # 256 bytes
]


@pytest.mark.parametrize(("alias", "parts"), VALID_ALIASES)
def test_valid_aliases(alias: str, parts: tuple[str, str]) -> None:
    assert parse_room_alias(alias) == parts
    assert room_alias(alias) == alias


@pytest.mark.parametrize("alias", INVALID_ALIASES)
def test_invalid_aliases(alias: str) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_room_alias(alias)
    with pytest.raises(InvalidIdentifier):
        room_alias(alias)


# -- server_name_of ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "server"),
    [
        ("@alice:example.com", "example.com"),
        ("@Old Style:example.com", "example.com"),
        ("!room:matrix.org:8448", "matrix.org:8448"),
        ("#alias:[::1]", "[::1]"),
        ("$event:1.2.3.4", "1.2.3.4"),
    ],
)
def test_server_name_of(identifier: str, server: str) -> None:
    assert server_name_of(identifier) == server


@pytest.mark.parametrize(
    "identifier",
    [V12_ROOM_ID, SPEC_V4_EVENT_ID, "", "x", "%a:example.com", "@a", "!:example.com", "$a:"],
)
def test_server_name_of_rejects(identifier: str) -> None:
    with pytest.raises(InvalidIdentifier):
        server_name_of(identifier)
