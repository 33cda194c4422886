"""The SFU's operational routes: ``/health``, ``/metrics`` (Prometheus text, read back
with prometheus-client's parser), CORS for the browser client, Matrix errors for unknown
routes."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from .conftest import VoiceSetup


async def test_health_and_metrics(voice: VoiceSetup) -> None:
    session = voice.sfu.session
    async with session.get("/health") as resp:
        assert (resp.status, await resp.json()) == (200, {"status": "ok"})
    voice.sfu.voice.streams = 3
    async with session.get("/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
    assert families["concord_sfu_streams"].type == "gauge"
    assert families["concord_sfu_streams"].samples[0].value == 3


async def test_browsers_may_call_from_the_homeservers_origin(voice: VoiceSetup) -> None:
    headers = {
        "Origin": "http://localhost:8008",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with voice.sfu.session.options("/token", headers=headers) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in resp.headers["Access-Control-Allow-Methods"]
        assert "Content-Type" in resp.headers["Access-Control-Allow-Headers"]
    async with voice.sfu.session.post("/token", json={}, headers={"Origin": "x"}) as resp:
        assert resp.status == 400  # errors carry the CORS headers too, for the client to read
        assert resp.headers["Access-Control-Allow-Origin"] == "*"


async def test_unknown_routes_are_matrix_errors(voice: VoiceSetup) -> None:
    async with voice.sfu.session.get("/nope") as resp:
        assert (resp.status, (await resp.json())["errcode"]) == (404, "M_UNRECOGNIZED")
    async with voice.sfu.session.get("/token") as resp:
        assert (resp.status, (await resp.json())["errcode"]) == (405, "M_UNRECOGNIZED")
