"""Two (or three) real Concord servers talking over TLS: signed requests, inbound
authentication, key fetching, the whitelist and the SSRF guard, as a peer sees them."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from federation.client import FederationRequestError, fed_path
from federation.inbound_auth import authenticated
from homeserver.appkeys import STORE_KEY
from homeserver.http import web
from homeserver.http.client import HttpClient
from homeserver.protocol.signing import SigningKey
from homeserver.protocol.x_matrix import sign_request

from ..support.federation import FederatedServer, StartFederation

ECHO = "/_matrix/federation/unstable/im.concord.test/echo/{id}"


def add_echo_route(server: FederatedServer) -> None:
    """An authenticated test endpoint answering who called it and with what."""

    async def echo(request: web.Request, origin: str) -> web.StreamResponse:
        body = await request.json() if await request.read() else None
        return web.Response(
            body=orjson.dumps(
                {
                    "origin": origin,
                    "id": request.match_info["id"],
                    "query": request.query.items(),
                    "body": body,
                }
            ),
            content_type="application/json",
        )

    server.app.add_routes([web.get(ECHO, authenticated(echo)), web.put(ECHO, authenticated(echo))])


async def raw_fed_request(
    target: FederatedServer,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None = None,
) -> tuple[int, Any]:
    http = HttpClient(verify_tls=False)
    try:
        response = await http.request(
            method, "127.0.0.1", target.fed_port, path, headers=headers, body=body, timeout=10
        )
    finally:
        await http.close()
    return response.status, response.json()


async def test_a_signed_request_reaches_the_peer_as_its_origin(
    federation: StartFederation,
) -> None:
    a, b = await federation(2)
    add_echo_route(b)
    path = fed_path(ECHO.replace("{id}", "{}"), "!room/with:odd chars")
    got = await a.fed_client.get_json(b.name, path, {"a": ["1", "2"], "b": "x y/z"})
    assert got == {
        "origin": a.name,
        "id": "!room/with:odd chars",
        "query": [["a", "1"], ["a", "2"], ["b", "x y/z"]],
        "body": None,
    }
    put = await a.fed_client.put_json(b.name, path, {"pdus": [], "n": 1})
    assert put["body"] == {"pdus": [], "n": 1} and put["origin"] == a.name
    # B learnt A's key from A (and kept it); A needed nothing from B.
    stored = await b.app[STORE_KEY].server_keys.keys_of(a.name)
    assert [(k.key_id, k.verify_key) for k in stored] == [
        (a.signing_key.key_id, a.signing_key.verify_key_base64)
    ]


async def test_requests_without_a_valid_signature_are_refused(
    federation: StartFederation,
) -> None:
    a, b = await federation(2)
    add_echo_route(b)
    path = "/_matrix/federation/unstable/im.concord.test/echo/1"

    status, body = await raw_fed_request(b, "GET", path, {})
    assert (status, body["errcode"]) == (401, "M_UNAUTHORIZED")
    assert "X-Matrix" in body["error"]

    signed = sign_request(a.signing_key, "PUT", path, b.name, {"n": 1})
    status, body = await raw_fed_request(
        b, "PUT", path, {"Authorization": signed, "Content-Type": "application/json"}, b'{"n": 2}'
    )
    assert (status, body["errcode"]) == (401, "M_UNAUTHORIZED")
    assert "signature" in body["error"]

    status, body = await raw_fed_request(b, "PUT", path, {"Authorization": signed}, b'{"n": 1}')
    assert status == 200 and body["origin"] == a.name

    elsewhere = sign_request(a.signing_key, "GET", path, "other.example")
    status, body = await raw_fed_request(b, "GET", path, {"Authorization": elsewhere})
    assert (status, body["errcode"]) == (401, "M_UNAUTHORIZED")
    assert "destination" in body["error"]

    status, body = await raw_fed_request(
        b, "GET", path, {"Authorization": 'X-Matrix origin="a.example",key="ed25519:x"'}
    )
    assert (status, body["errcode"]) == (401, "M_UNAUTHORIZED")

    # Signed by a server whose key cannot be had: 401, not a hang or a 500.
    stranger = SigningKey.generate("stranger.invalid")
    forged = sign_request(stranger, "GET", path, b.name)
    status, body = await raw_fed_request(b, "GET", path, {"Authorization": forged})
    assert (status, body["errcode"]) == (401, "M_UNAUTHORIZED")


async def test_errors_come_back_with_status_and_errcode(federation: StartFederation) -> None:
    a, b = await federation(2)
    with pytest.raises(FederationRequestError) as info:
        await a.fed_client.get_json(b.name, "/_matrix/federation/v1/no_such_thing")
    assert info.value.status == 404
    assert info.value.errcode == "M_UNRECOGNIZED"

    with pytest.raises(FederationRequestError) as info:
        await a.fed_client.get_json("localhost:1", "/_matrix/key/v2/server", timeout=5)
    assert info.value.status is None


async def test_the_domain_whitelist_applies_both_ways(federation: StartFederation) -> None:
    a, b = await federation(2)
    add_echo_route(b)
    path = "/_matrix/federation/unstable/im.concord.test/echo/1"
    # Y accepts only nobody.example: X is refused with 403 whatever it signs.
    whitelist = {"federation": {"domain_whitelist": ["nobody.example"]}}
    x, y = await federation(2, configs=[{}, whitelist])
    add_echo_route(y)
    with pytest.raises(FederationRequestError) as info:
        await x.fed_client.get_json(y.name, path)
    assert (info.value.status, info.value.errcode) == (403, "M_FORBIDDEN")
    # ... and Y will not send to X: refused before anything is sent.
    with pytest.raises(FederationRequestError) as info:
        await y.fed_client.get_json(x.name, "/_matrix/key/v2/server")
    assert (info.value.status, info.value.errcode) == (None, "M_FORBIDDEN")
    assert "domain_whitelist" in info.value.message
    # Unrestricted servers still talk.
    assert (await a.fed_client.get_json(b.name, path))["origin"] == a.name


async def test_the_ssrf_guard_refuses_loopback_unless_whitelisted(
    federation: StartFederation,
) -> None:
    a, b = await federation(2, configs=[{"federation": {"ip_range_whitelist": []}}])
    with pytest.raises(FederationRequestError) as info:
        await a.fed_client.get_json(b.name, "/_matrix/key/v2/server")
    assert info.value.status is None
    assert "not a public address" in info.value.message
    assert (await b.fed_client.get_json(a.name, "/_matrix/key/v2/server"))["server_name"] == a.name
