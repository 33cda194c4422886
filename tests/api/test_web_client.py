"""The web client served at ``/`` (homeserver/api/web_client.py), as a browser meets it:
index.html for the app's own routes, hashed bundles cached for a year, the right
content types, 404 for a missing bundle, no way out of the directory, and the API's
Matrix errors untouched by the catch-all."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from homeserver.config import ConfigError

from ..support.matrix_client import Server
from ..support.server_fixtures import make_server as make_server
from ..support.server_fixtures import server as server
from ..support.server_fixtures import server_config as server_config

INDEX = b'<!doctype html><html><head><script type="module" src="/assets/index-abc123.js">'
INDEX += b"</script></head><body><div id=app></div></body></html>"
IDENTITY = {"Accept-Encoding": "identity"}
BUNDLE = b"export const x = 1;\n" * 200  # big enough to be worth compressing


@pytest.fixture
def db_engine() -> str:
    """No storage under test here: one engine is enough."""
    return "sqlite"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "index-abc123.js").write_bytes(BUNDLE)
    (root / "assets" / "index-abc123.css").write_text("body{color:#fff}")
    (root / "assets" / "logo-1a2b.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (tmp_path / "secret.txt").write_text("do not serve")
    (root / "assets" / "escape.js").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.fixture
def server_config(dist: Path) -> dict[str, Any]:  # noqa: F811
    return {"web_client_dir": str(dist)}


async def _get(server: Server, path: str, **headers: str) -> tuple[int, Mapping[str, str], bytes]:
    resp = await server.http.get(path, headers=headers, auto_decompress=False)
    body = await resp.read()
    return resp.status, resp.headers, body


async def _raw(server: Server, target: str) -> bytes:
    """A request line sent as is: HTTP clients normalise ``..`` away, attackers don't."""
    port = server.http.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()


async def test_index_and_client_side_routes(server: Server) -> None:
    for path in ("/", "/channels/!room:example.org/$event", "/login", "/settings/profile"):
        status, headers, body = await _get(server, path)
        assert status == 200, path
        assert body == INDEX
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Cache-Control"] == "no-cache"  # a rebuilt client is seen at once
    # Revalidation: the ETag answers 304 without a body.
    _, headers, _ = await _get(server, "/")
    status, _, body = await _get(server, "/", **{"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""


async def test_assets_types_caching_and_compression(server: Server) -> None:
    status, headers, body = await _get(server, "/assets/index-abc123.js", **IDENTITY)
    assert status == 200 and body == BUNDLE
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = await _get(
        server, "/assets/index-abc123.js", **{"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == BUNDLE and len(body) < len(BUNDLE) // 4
    for path, content_type in (
        ("/assets/index-abc123.css", "text/css; charset=utf-8"),
        ("/assets/logo-1a2b.svg", "image/svg+xml"),
        ("/favicon.ico", "image/x-icon"),
    ):
        status, headers, _ = await _get(server, path)
        assert (status, headers["Content-Type"]) == (200, content_type), path
    resp = await server.http.head("/assets/index-abc123.js")
    assert resp.status == 200 and await resp.read() == b""


async def test_missing_files_are_404_not_the_app(server: Server) -> None:
    for path in ("/assets/index-old999.js", "/assets/", "/robots.txt", "/app.js"):
        status, _, body = await _get(server, path)
        assert status == 404 and INDEX not in body, path


async def test_no_path_traversal(server: Server, dist: Path) -> None:
    secret = b"do not serve"
    for target in (
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/assets/..%2F..%2Fsecret.txt",
        "/%2E%2E/secret.txt",
        "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/assets/..\\..\\secret.txt",
        "/assets/escape.js",  # a symlink out of the directory
        "/assets/%00.js",
    ):
        reply = await _raw(server, target)
        status = reply.split(b" ", 2)[1]
        assert secret not in reply, target
        assert status in (b"400", b"404"), (target, reply[:200])
    # An absolute-looking path is a client-side route, nothing from outside.
    reply = await _raw(server, "//etc/passwd")
    assert b"root:" not in reply and reply.endswith(INDEX)


async def test_api_paths_keep_their_matrix_errors(server: Server) -> None:
    status, _, body = await _get(server, "/_matrix/client/v3/no_such_endpoint")
    assert status == 404 and b"M_UNRECOGNIZED" in body
    status, _, body = await _get(server, "/_matrix/client/v3/createRoom")  # POST only
    assert status == 405 and b"M_UNRECOGNIZED" in body
    status, _, body = await _get(server, "/.well-known/matrix/nothing")
    assert status == 404 and INDEX not in body
    resp = await server.http.post("/", json={})
    assert resp.status == 405
    status, _, body = await _get(server, "/_matrix/client/versions")
    assert status == 200 and b"versions" in body


async def test_a_rebuilt_client_is_served_without_restart(server: Server, dist: Path) -> None:
    new_index = INDEX.replace(b"abc123", b"def456")
    (dist / "index.html").write_bytes(new_index + b"<!-- rebuilt -->")
    status, _, body = await _get(server, "/")
    assert status == 200 and body.endswith(b"<!-- rebuilt -->")


async def test_not_built_yet_says_how_to_build(server: Server, dist: Path) -> None:
    (dist / "index.html").unlink()
    status, _, body = await _get(server, "/")
    assert status == 404 and b"make run" in body


def test_config_default_and_explicit_directory(tmp_path: Path) -> None:
    from homeserver.config import parse_config

    base = {"server_name": "a.test", "listeners": {"client": {"port": 0}}}
    config = parse_config(base, base_dir=tmp_path)
    repo_web = Path(__file__).resolve().parents[2] / "web"
    assert config.web_client_dir == repo_web / "dist"  # a source checkout: its own build
    config = parse_config({**base, "web_client_dir": "client"}, base_dir=tmp_path)
    assert config.web_client_dir == tmp_path / "client"
    with pytest.raises(ConfigError, match="web_client_dir"):
        parse_config({**base, "web_client_dir": ""}, base_dir=tmp_path)
