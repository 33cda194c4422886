"""Identifier grammar properties: any input fails cleanly; valid parts round-trip.

spec: appendices "Identifier Grammar"; rooms/v1, v3, v4 "Event IDs"; rooms/v12 room ids.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from homeserver.protocol.errors import InvalidIdentifier
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
from homeserver.protocol.room_versions import V1, V2, V3, V4, V12

# -- robustness: nothing but InvalidIdentifier escapes -----------------------------------

PARSERS: list[Callable[[str], object]] = [
    parse_server_name,
    parse_user_id,
    lambda s: parse_user_id(s, strict=True),
    user_id,
    parse_room_id,
    lambda s: parse_room_id(s, V1),
    lambda s: parse_room_id(s, V12),
    lambda s: parse_event_id(s, V1),
    lambda s: parse_event_id(s, V3),
    lambda s: parse_event_id(s, V4),
    parse_room_alias,
    room_alias,
    server_name,
    server_name_of,
]
PREDICATES: list[Callable[[str], bool]] = [
    is_valid_server_name,
    is_valid_localpart,
    lambda s: is_valid_localpart(s, strict=False),
    is_compliant_localpart,
]


@pytest.mark.parametrize("bad", [None, 42, b"@a:b", ["@a:b"], {"a": 1}])
def test_non_strings_are_invalid(bad: object) -> None:
    for parse in PARSERS:
        with pytest.raises(InvalidIdentifier):
            parse(bad)  # type: ignore[arg-type]
    for predicate in PREDICATES:
        assert predicate(bad) is False  # type: ignore[arg-type]


near_ids = st.builds(
    lambda sigil, a, b: f"{sigil}{a}:{b}",
    st.sampled_from("@!$#[x"),
    st.text(max_size=30),
    st.text(alphabet="[]:.0123456789abcdefABCDEF-_ é\x00", max_size=30),
)


# Hypothesis leaves surrogates out of text by default; they must fail cleanly too.
with_surrogates = st.text(st.characters(categories=["Cs", "Ll", "Nd", "Po", "Sm"]))


@given(st.one_of(st.text(), near_ids, with_surrogates, st.builds("@{}:a".format, with_surrogates)))
def test_random_text_raises_only_invalid_identifier(text: str) -> None:
    for parse in PARSERS:
        with contextlib.suppress(InvalidIdentifier):
            parse(text)
    for predicate in PREDICATES:
        assert isinstance(predicate(text), bool)


# -- round trips: ids built from valid parts parse back to them --------------------------

_QUAD = re.compile(r"[0-9]+(\.[0-9]+){3}")
dns_names = st.lists(st.from_regex(r"[A-Za-z0-9-]{1,20}", fullmatch=True), min_size=1, max_size=4)
hosts = st.one_of(
    dns_names.map(".".join).filter(lambda h: not _QUAD.fullmatch(h)),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)
ports = st.one_of(st.none(), st.integers(min_value=1, max_value=65535))
strict_localparts = st.from_regex(r"[a-z0-9._=\-/+]{1,30}", fullmatch=True)
opaque_localparts = st.text(
    alphabet=st.characters(exclude_characters=":\x00", exclude_categories=["Cs"]),
    min_size=1,
    max_size=30,
)


@st.composite
def server_names(draw: st.DrawFn) -> tuple[str, str, int | None]:
    host, port = draw(hosts), draw(ports)
    return (host if port is None else f"{host}:{port}"), host, port


@given(server_names())
def test_server_name_round_trip(parts: tuple[str, str, int | None]) -> None:
    name, host, port = parts
    assert parse_server_name(name) == (host, port)


@given(strict_localparts, server_names())
def test_strict_user_id_round_trip(localpart: str, parts: tuple[str, str, int | None]) -> None:
    uid = f"@{localpart}:{parts[0]}"
    assert parse_user_id(uid, strict=True) == (localpart, parts[0])
    assert is_valid_localpart(localpart)
    assert server_name_of(uid) == parts[0]


@given(opaque_localparts | st.just(""), server_names())
def test_historical_user_id_round_trip(localpart: str, parts: tuple[str, str, int | None]) -> None:
    uid = f"@{localpart}:{parts[0]}"
    assume(len(uid.encode()) <= 255)
    assert parse_user_id(uid) == (localpart, parts[0])
    assert is_valid_localpart(localpart, strict=False)


@given(opaque_localparts, server_names())
def test_room_id_alias_and_v1_event_id_round_trip(
    localpart: str, parts: tuple[str, str, int | None]
) -> None:
    name = parts[0]
    assume(len(localpart.encode()) + len(name) + 2 <= 255)
    assert parse_room_id(f"!{localpart}:{name}", V1) == f"!{localpart}:{name}"
    assert parse_room_alias(f"#{localpart}:{name}") == (localpart, name)
    assert parse_event_id(f"${localpart}:{name}", V2) == f"${localpart}:{name}"
    for sigil in "!#$":
        assert server_name_of(f"{sigil}{localpart}:{name}") == name


@given(st.binary(min_size=32, max_size=32))
def test_hash_ids_round_trip(digest: bytes) -> None:
    std = base64.b64encode(digest).decode().rstrip("=")
    url = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert parse_event_id("$" + std, V3) == "$" + std
    assert parse_event_id("$" + url, V4) == "$" + url
    assert parse_event_id("$" + url, V12) == "$" + url
    assert parse_room_id("!" + url, V12) == "!" + url
    assert parse_room_id("!" + url) == "!" + url
