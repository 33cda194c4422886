"""Keys and signed requests against a real Synapse (spec: server-server "Retrieving server
keys", "Request Authentication").

Runs when ``SYNAPSE_PY`` names a Python with matrix-synapse installed (H2's harness brings
the full interop suite); skipped otherwise. Synapse is started with the shared recipe
(``../shared/interop/synapse-fed/start.sh``, ``ONLY=A``) on free loopback ports and stopped
by its recorded pid."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from federation.client import FederationRequestError
from federation.inbound_auth import authenticated
from homeserver.clock import SystemClock
from homeserver.http import web
from homeserver.protocol.signing import verify_json

from ..support.federation import StartFederation

RECIPE = Path(__file__).resolve().parents[2].parent / "shared" / "interop" / "synapse-fed"
SYNAPSE_PY = os.environ.get("SYNAPSE_PY", "")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _concord_port() -> int:
    return _free_port()


@pytest.fixture
def synapse(tmp_path: Path) -> Iterator[tuple[str, int, int, str]]:
    """(server name, federation port, client port, run dir) of one Synapse; the Concord
    server name it may federate with is set with ``concord_name`` below."""
    if not SYNAPSE_PY or not (RECIPE / "start.sh").exists():
        pytest.skip("set SYNAPSE_PY to a Python with matrix-synapse to run the Synapse tests")
    probe = subprocess.run([SYNAPSE_PY, "-c", "import synapse"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"{SYNAPSE_PY} has no synapse")
    fed, client = _free_port(), _free_port()
    yield f"localhost:{fed}", fed, client, str(tmp_path / "synapse")


def start_synapse(run: str, name: str, fed: int, client: int, peer: str) -> None:
    env = {
        **os.environ,
        "SYNAPSE_PY": SYNAPSE_PY,
        "ONLY": "A",
        "A_NAME": name,
        "A_FED": str(fed),
        "A_CLIENT": str(client),
        "FED_DOMAINS": f'["{name}", "{peer}"]',
    }
    subprocess.run(
        ["bash", str(RECIPE / "start.sh"), run],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def stop_synapse(run: str) -> None:
    subprocess.run(["bash", str(RECIPE / "stop.sh"), run], capture_output=True, timeout=60)


async def test_synapse_and_concord_accept_each_others_keys_and_requests(
    federation: StartFederation, synapse: tuple[str, int, int, str]
) -> None:
    name, fed, client, run = synapse
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
    start_synapse(run, name, fed, client, concord.name)
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
        stop_synapse(run)
