"""``GET /.well-known/matrix/client`` (spec: client-server "Well-known URIs"): the base URL,
and the SFU as a MatrixRTC focus when ``concord.sfu_url`` is set."""

from __future__ import annotations

from ...support.server_fixtures import MakeServer

PATH = "/.well-known/matrix/client"


async def test_base_url_without_sfu(make_server: MakeServer) -> None:
    server = await make_server(public_baseurl="https://chat.example.org/")
    resp = await server.http.get(PATH)
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert await resp.json() == {"m.homeserver": {"base_url": "https://chat.example.org"}}


async def test_sfu_announced_as_rtc_focus(make_server: MakeServer) -> None:
    server = await make_server(
        public_baseurl="https://chat.example.org/",
        concord={"sfu_user_id": "@sfu:test.local", "sfu_url": "https://sfu.example.org"},
    )
    body = await (await server.http.get(PATH)).json()
    assert body["org.matrix.msc4143.rtc_foci"] == [
        {"type": "im.concord.sfu", "url": "https://sfu.example.org"}
    ]
