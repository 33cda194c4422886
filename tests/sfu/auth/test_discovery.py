"""Where the SFU asks about a user's OpenID token (spec: server-server "Resolving server
names"), and the identifier grammar it checks first (spec: appendices)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from homeserver.tls_files import server_context, write_self_signed
from sfu.access import AccessDenied
from sfu.auth.discovery import CACHE_MS, ServerResolver, parse_well_known
from sfu.auth.ids import is_room_id, split_server_name, user_server
from sfu.auth.openid import OpenIdVerifier
from tests.conftest import FakeClock
from tests.support.waiting import free_port


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


async def test_well_known_delegation_is_followed_and_cached(
    tmp_path: Path, clock: FakeClock
) -> None:
    """``localhost`` (no port) delegates with ``.well-known/matrix/server`` to
    ``localhost:<port>``, where userinfo vouches for ``@bob:localhost``; the delegation is
    asked once, then cached (spec: server-server "Resolving server names", step 3)."""
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    write_self_signed(cert, key, "localhost")
    tls = server_context(cert, key)
    asked: list[str] = []

    async def well_known(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.json_response({"m.server": f"localhost:{userinfo_port}"})

    async def userinfo(request: web.Request) -> web.Response:
        if request.query.get("access_token") != "bobs-token":
            return web.json_response({"errcode": "M_UNKNOWN_TOKEN"}, status=401)
        return web.json_response({"sub": "@bob:localhost"})

    app = web.Application()
    app.router.add_get("/.well-known/matrix/server", well_known)
    app.router.add_get("/_matrix/federation/v1/openid/userinfo", userinfo)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        sites = [web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls) for _ in range(2)]
        for site in sites:
            await site.start()
        well_known_port, userinfo_port = (a[1] for a in runner.addresses)
        async with aiohttp.ClientSession() as session:
            resolver = ServerResolver(session, clock, verify_tls=False)
            resolver.well_known_port = well_known_port
            verifier = OpenIdVerifier(resolver)
            assert await verifier.user_for("localhost", "bobs-token") == "@bob:localhost"
            assert await resolver.base_url("localhost") == f"https://localhost:{userinfo_port}"
            with pytest.raises(AccessDenied) as refused:
                await verifier.user_for("localhost", "guessed")
            assert refused.value.errcode == "M_UNKNOWN_TOKEN"
            assert asked == ["/.well-known/matrix/server"]  # cached
            clock.advance(CACHE_MS + 1)
            assert await verifier.user_for("localhost", "bobs-token") == "@bob:localhost"
            assert len(asked) == 2
    finally:
        await runner.cleanup()


async def test_without_well_known_port_8448_is_used(clock: FakeClock) -> None:
    async with aiohttp.ClientSession() as session:
        resolver = ServerResolver(session, clock, verify_tls=False)
        resolver.well_known_port = free_port()  # nothing listens: no delegation
        assert await resolver.base_url("localhost") == "https://localhost:8448"
