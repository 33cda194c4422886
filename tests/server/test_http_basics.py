"""The endpoints `make run` answers from day one, as a client or peer sees them."""

from __future__ import annotations

import signedjson.key
import signedjson.sign

from homeserver.app import build_app
from homeserver.config import Config, parse_config
from homeserver.protocol.signing import SigningKey
from homeserver.storage.migrations import migrate
from homeserver.storage.sqlite import SqliteDatabase

from ..conftest import FakeClock
from ..support.http_client import TestClient


async def make_client(serve_app, config, signing_key, clock=None) -> TestClient:
    db = SqliteDatabase(config.data_dir / "t.db")
    migrate(db)
    return await serve_app(build_app(config, signing_key, db, clock=clock or FakeClock()))


async def test_versions_lists_spec_versions(serve_app, config, signing_key) -> None:
    client = await make_client(serve_app, config, signing_key)
    resp = await client.get("/_matrix/client/versions")
    assert resp.status == 200
    body = await resp.json()
    assert "v1.19" in body["versions"]
    assert body["unstable_features"]["org.matrix.msc3026.busy_presence"] is True
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


async def test_server_keys_are_self_signed(
    serve_app, config: Config, signing_key: SigningKey
) -> None:
    clock = FakeClock(1_700_000_000_000)
    client = await make_client(serve_app, config, signing_key, clock)
    resp = await client.get("/_matrix/key/v2/server")
    assert resp.status == 200
    body = await resp.json()
    assert body["server_name"] == "test.local"
    assert body["valid_until_ts"] == clock.now_ms + config.key_valid_for_ms
    (key_id,) = body["verify_keys"]
    assert key_id == signing_key.key_id
    # Verify with the reference library (what Synapse uses), not our own code.
    verify_key = signedjson.key.decode_verify_key_base64(
        "ed25519", key_id.split(":")[1], body["verify_keys"][key_id]["key"]
    )
    signedjson.sign.verify_signed_json(body, "test.local", verify_key)


async def test_server_keys_resigned_when_half_validity_passed(
    serve_app, config: Config, signing_key: SigningKey
) -> None:
    clock = FakeClock(1_700_000_000_000)
    client = await make_client(serve_app, config, signing_key, clock)
    first = await (await client.get("/_matrix/key/v2/server")).json()
    clock.now_ms += config.key_valid_for_ms // 2 + 1
    second = await (await client.get("/_matrix/key/v2/server")).json()
    assert second["valid_until_ts"] > first["valid_until_ts"]
    assert second["valid_until_ts"] > clock.now_ms


async def test_health(serve_app, config, signing_key) -> None:
    client = await make_client(serve_app, config, signing_key)
    resp = await client.get("/health")
    assert resp.status == 200
    assert await resp.text() == "OK"


async def test_metrics_count_requests_by_endpoint(serve_app, config, signing_key) -> None:
    client = await make_client(serve_app, config, signing_key)
    await client.get("/_matrix/client/versions")
    await client.get("/_matrix/client/versions")
    text = await (await client.get("/metrics")).text()
    line = next(
        line
        for line in text.splitlines()
        if line.startswith("concord_http_request_seconds_count")
        and 'endpoint="/_matrix/client/versions"' in line
    )
    assert line.endswith(" 2.0")


async def test_unknown_endpoint_is_matrix_error(serve_app, config, signing_key) -> None:
    client = await make_client(serve_app, config, signing_key)
    resp = await client.get("/_matrix/client/v3/nonexistent")
    assert resp.status == 404
    assert (await resp.json())["errcode"] == "M_UNRECOGNIZED"
    resp = await client.post("/_matrix/client/versions")
    assert resp.status == 405
    assert "GET" in resp.headers["Allow"]  # RFC 9110 §15.5.6
    assert (await resp.json())["errcode"] == "M_UNRECOGNIZED"


async def test_cors_preflight(serve_app, config, signing_key) -> None:
    client = await make_client(serve_app, config, signing_key)
    resp = await client.options("/_matrix/client/versions")
    assert resp.status == 204
    assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]


async def test_rate_limited_requests_get_m_limit_exceeded(serve_app, tmp_path, signing_key) -> None:
    config = parse_config(
        {
            "server_name": "test.local",
            "rate_limits": {"account_per_second": 0.1, "account_burst": 2},
        },
        source="t.yaml",
        base_dir=tmp_path,
    )
    client = await make_client(serve_app, config, signing_key)
    statuses = []
    for _ in range(3):
        resp = await client.post("/_matrix/client/v3/login", json={"type": "m.login.password"})
        statuses.append(resp.status)
    assert statuses[:2] != [429, 429]
    assert statuses[2] == 429
    body = await resp.json()
    assert body["errcode"] == "M_LIMIT_EXCEEDED"
    assert body["retry_after_ms"] > 0


async def test_oversized_body_is_refused_before_reading(serve_app, config, signing_key) -> None:
    client = await make_client(serve_app, config, signing_key)
    big = b"{" + b" " * (config.max_request_body_bytes + 10) + b"}"
    resp = await client.post("/_matrix/client/v3/createRoom", data=big)
    assert resp.status == 413
    assert (await resp.json())["errcode"] == "M_TOO_LARGE"
