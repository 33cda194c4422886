"""Where the SFU asks about a user's OpenID token (spec: server-server "Resolving server
names"), and the identifier grammar it checks first (spec: appendices)."""

from __future__ import annotations

import aiohttp
import pytest

from sfu.auth.discovery import ServerResolver, parse_well_known
from sfu.auth.ids import is_room_id, split_server_name, user_server
from tests.conftest import FakeClock


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("mapped.test", "http://127.0.0.1:9999"),  # the config's map first
        ("example.org:8008", "https://example.org:8008"),  # explicit port: as given
        ("1.2.3.4", "https://1.2.3.4:8448"),  # IP literal: port 8448
        ("[::1]:1234", "https://[::1]:1234"),
        ("[2001:db8::1]", "https://[2001:db8::1]:8448"),
        ("bad name", None),
        ("host:99999", None),
        ("[notipv6]:80", None),
        ("a.org/path", None),
    ],
)
async def test_base_urls(name: str, url: str | None, clock: FakeClock) -> None:
    async with aiohttp.ClientSession() as session:
        resolver = ServerResolver(session, clock, {"mapped.test": "http://127.0.0.1:9999"})
        assert await resolver.base_url(name) == url


@pytest.mark.parametrize(
    ("body", "delegated"),
    [
        (b'{"m.server": "matrix.example.org:443"}', "matrix.example.org:443"),
        (b'{"m.server": "matrix.example.org"}', "matrix.example.org"),
        (b'{"m.server": "not a name"}', None),
        (b'{"m.server": 5}', None),
        (b"[]", None),
        (b"<html>", None),
        (b'{"m.server": "a.org", "pad": "' + b"x" * 70_000 + b'"}', None),
    ],
)
def test_well_known_bodies(body: bytes, delegated: str | None) -> None:
    assert parse_well_known(body) == delegated


def test_identifiers() -> None:
    assert split_server_name("localhost:8448") == ("localhost", 8448)
    assert user_server("@alice:example.org:8448") == "example.org:8448"
    assert user_server("@alice:[::1]") == "[::1]"
    for bad in ("alice:example.org", "@alice", "@:example.org", "@a b:example.org", "@a:b c"):
        assert user_server(bad) is None, bad
    assert is_room_id("!abc:example.org") and is_room_id("!opaqueV12id")
    assert not is_room_id("#alias:example.org") and not is_room_id("!a b:c")
