"""Keys and signed requests against a real Synapse (spec: server-server "Retrieving server
keys", "Request Authentication").

Synapse (``make synapse``) is started with the interop harness's recipe
(``tests/interop/synapse_process.py``) on free loopback ports and stopped by its pid."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import aiohttp
import pytest

from federation.client import FederationRequestError
from federation.inbound_auth import authenticated
from homeserver.clock import SystemClock
from homeserver.http import web
from homeserver.protocol.signing import verify_json

from ..interop.synapse_process import SynapseServer, synapse_python
from ..support.federation import StartFederation


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def synapse_ports() -> tuple[int, int]:
    """Federation and client ports of one Synapse (from the interop harness's recipe);
    skipped without ``make synapse``, failed instead with ``REQUIRE_SYNAPSE=1``."""
    if synapse_python() is None:
        message = "Synapse not installed (run `make synapse`)"
        if os.environ.get("REQUIRE_SYNAPSE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return _free_port(), _free_port()


async def test_synapse_and_concord_accept_each_others_keys_and_requests(
    federation: StartFederation, synapse_ports: tuple[int, int], tmp_path: Path
) -> None:
    fed, client = synapse_ports
    name = f"localhost:{fed}"
    (concord,) = await federation(
        1, clock=SystemClock(), extra_overrides={name: f"127.0.0.1:{fed}"}
    )
    received: list[str] = []
    profile_path = "/_matrix/federation/v1/query/profile"
    ours = ("GET", profile_path) not in concord.app.router.routes()
    if ours:  # until the real endpoint exists: one that answers who signed the request

        async def profile(request: web.Request, origin: str) -> web.StreamResponse:
            received.append(origin)
            return web.Response(
                body=b'{"displayname": "%s"}' % origin.encode(), content_type="application/json"
            )

        concord.app.add_routes([web.get(profile_path, authenticated(profile))])
    synapse = SynapseServer(
        tmp_path / "synapse",
        fed_port=fed,
        client_port=client,
        federation_domains=[name, concord.name],
    )
    await asyncio.to_thread(synapse.start)
    try:
        # Synapse as a notary for us: it fetches our key from us over TLS, checks it, and
        # answers it signed by itself, a signature our keyring checks with Synapse's key.
        key = concord.signing_key
        now = SystemClock().time_ms()
        got = await concord.fed_client.post_json(
            name,
            "/_matrix/key/v2/query",
            {"server_keys": {concord.name: {key.key_id: {"minimum_valid_until_ts": now}}}},
        )
        (document,) = got["server_keys"]
        verify_json(document, concord.name, key.key_id, key.verify_key_base64)
        await concord.keyring.verify_json(name, document)
        # A request we sign is accepted by Synapse: 404 for an unknown user, not 401.
        with pytest.raises(FederationRequestError) as info:
            await concord.fed_client.get_json(
                name, profile_path, {"user_id": f"@nobody:{name}", "field": "displayname"}
            )
        assert (info.value.status, info.value.errcode) == (404, "M_NOT_FOUND"), info.value
        # A request Synapse signs is accepted by us (our keyring fetches Synapse's key).
        if ours:
            async with aiohttp.ClientSession() as session:
                url = f"http://127.0.0.1:{client}/_matrix/client/v3/profile/@x:{concord.name}"
                async with session.get(url) as response:
                    body = await response.json()
            assert body.get("displayname") == name, body
            assert received == [name]
    finally:
        await asyncio.to_thread(synapse.stop)
