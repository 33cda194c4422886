"""``POST /token``: a client trades the OpenID token of its homeserver for an SFU token,
which the signaling WebSocket accepts; every refusal is a Matrix error.

spec: client-server "OpenID", server-server "OpenID" (userinfo); issue 8 of Concord.
"""

from __future__ import annotations

import jwt
import pytest
from aiohttp import web

from sfu.access import AccessDenied
from sfu.auth.tokens import AUDIENCE
from tests.conftest import FakeClock
from tests.support.matrix_client import SERVER, q

from .conftest import BOT, VoiceSetup
from .harness import SECRET, voice_room


async def test_a_member_gets_a_token_the_websocket_accepts(voice: VoiceSetup) -> None:
    alice = await voice.server.register("alice")
    room = await voice_room(alice, BOT)
    status, body = await voice.sfu.token_for(alice, room, "PHONE")
    assert status == 200, body
    assert body["url"] == voice.sfu.url.replace("http", "ws") + "/ws"
    claims = jwt.decode(body["jwt"], SECRET, algorithms=["HS256"], audience=AUDIENCE,
                        options={"verify_exp": False})  # fmt: skip
    assert (claims["sub"], claims["room"], claims["device"]) == (alice.user_id, room, "PHONE")
    assert claims["exp"] - claims["iat"] == 120  # the configured ttl
    assert body["expires_at_ms"] == claims["exp"] * 1000
    async with voice.sfu.session.ws_connect("/ws", params={"token": body["jwt"]}) as ws:
        assert await ws.receive_json() == {"user_id": alice.user_id, "room_id": room}


async def test_the_websocket_refuses_a_bad_or_expired_token(
    voice: VoiceSetup, clock: FakeClock
) -> None:
    alice = await voice.server.register("alice")
    room = await voice_room(alice, BOT)
    _, body = await voice.sfu.token_for(alice, room)
    access = voice.sfu.services.access
    assert access.verify(body["jwt"]).user_id == alice.user_id
    forged = jwt.encode(
        {"sub": "@mallory:x", "room": room, "device": "D", "aud": AUDIENCE, "exp": 2**40},
        "another-secret-of-enough-length-for-hs256",
    )
    for bad in (forged, "not-a-jwt", body["jwt"][:-3]):
        with pytest.raises(AccessDenied) as refused:
            access.verify(bad)
        assert (refused.value.status, refused.value.errcode) == (401, "M_UNKNOWN_TOKEN")
    clock.advance(121_000)
    with pytest.raises(AccessDenied, match="expired"):
        access.verify(body["jwt"])
    async with voice.sfu.session.get("/ws", params={"token": body["jwt"]}) as resp:
        assert resp.status == 401
        assert (await resp.json())["errcode"] == "M_UNKNOWN_TOKEN"


async def test_users_not_joined_are_refused(voice: VoiceSetup) -> None:
    alice = await voice.server.register("alice")
    bob = await voice.server.register("bob")
    room = await voice_room(alice, BOT)
    status, body = await voice.sfu.token_for(bob, room)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN"), body
    assert "not joined" in body["error"]
    (await alice.invite(room, bob.user_id)).ok()  # invited is not joined
    status, body = await voice.sfu.token_for(bob, room)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    (await bob.join(room)).ok()
    status, body = await voice.sfu.token_for(bob, room)
    assert status == 200, body
    # A token issued before leaving is refused at signaling join (check_member).
    grant = voice.sfu.services.access.verify(body["jwt"])
    (await bob.leave(room)).ok()
    with pytest.raises(AccessDenied, match="not joined"):
        await voice.sfu.services.access.check_member(grant)


async def test_banned_users_are_refused_as_banned(voice: VoiceSetup) -> None:
    alice = await voice.server.register("alice")
    bob = await voice.server.register("bob")
    room = await voice_room(alice, BOT)
    (await bob.join(room)).ok()
    (await alice.act("ban", room, bob.user_id)).ok()
    status, body = await voice.sfu.token_for(bob, room)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    assert "banned" in body["error"]


async def test_a_room_without_the_bot_names_the_bot_to_invite(voice: VoiceSetup) -> None:
    alice = await voice.server.register("alice")
    room = await alice.create_room()
    status, body = await voice.sfu.token_for(alice, room)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    assert BOT in body["error"] and "invite" in body["error"]
    status, body = await voice.sfu.token_for(alice, f"!nosuchroom:{SERVER}")
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")
    assert BOT in body["error"]


async def test_unknown_or_expired_openid_tokens_are_refused(
    voice: VoiceSetup, clock: FakeClock
) -> None:
    alice = await voice.server.register("alice")
    room = await voice_room(alice, BOT)
    status, body = await voice.sfu.post_token(
        {
            "room_id": room,
            "device_id": "D",
            "openid_token": {"access_token": "guessed", "matrix_server_name": SERVER},
        }
    )
    assert (status, body["errcode"]) == (401, "M_UNKNOWN_TOKEN"), body
    openid = (await alice.call("POST", f"/user/{q(alice.user_id)}/openid/request_token", {})).ok()
    clock.advance(openid["expires_in"] * 1000 + 1)
    status, body = await voice.sfu.post_token(
        {"room_id": room, "device_id": "D", "openid_token": openid}
    )
    assert (status, body["errcode"]) == (401, "M_UNKNOWN_TOKEN"), body


@pytest.mark.parametrize(
    ("body", "status", "errcode"),
    [
        ([], 400, "M_BAD_JSON"),
        ({"device_id": "D", "openid_token": {}}, 400, "M_MISSING_PARAM"),
        ({"room_id": "!r:x", "openid_token": {}}, 400, "M_MISSING_PARAM"),
        ({"room_id": "!r:x", "device_id": "D"}, 400, "M_MISSING_PARAM"),
        ({"room_id": "!r:x", "device_id": "D", "openid_token": "t"}, 400, "M_BAD_JSON"),
        ({"room_id": 5, "device_id": "D", "openid_token": {}}, 400, "M_BAD_JSON"),
        ({"room_id": "#alias:x", "device_id": "D", "openid_token": {}}, 400, "M_INVALID_PARAM"),
        (
            {"room_id": "!r:x", "device_id": "D", "openid_token": {"access_token": "t"}},
            400,
            "M_MISSING_PARAM",
        ),
        (
            {
                "room_id": "!r:x",
                "device_id": "D",
                "openid_token": {"access_token": "t", "matrix_server_name": "evil/path"},
            },
            400,
            "M_INVALID_PARAM",
        ),
    ],
)
async def test_malformed_bodies_get_matrix_errors(
    voice: VoiceSetup, body: object, status: int, errcode: str
) -> None:
    got_status, got = await voice.sfu.post_token(body)
    assert (got_status, got["errcode"]) == (status, errcode), got


async def test_a_body_that_is_not_json(voice: VoiceSetup) -> None:
    async with voice.sfu.session.post("/token", data=b"{nope") as resp:
        assert resp.status == 400
        assert (await resp.json())["errcode"] == "M_NOT_JSON"
    async with voice.sfu.session.post("/token", data=b"[" * 70_000) as resp:
        assert resp.status == 413
        assert (await resp.json())["errcode"] == "M_TOO_LARGE"


async def test_a_server_cannot_vouch_for_another_servers_user(voice: VoiceSetup) -> None:
    """A homeserver answering userinfo with someone else's user id is not believed."""
    alice = await voice.server.register("alice")
    room = await voice_room(alice, BOT)

    async def userinfo(request: web.Request) -> web.Response:
        return web.json_response({"sub": alice.user_id})

    evil = web.Application()
    evil.router.add_get("/_matrix/federation/v1/openid/userinfo", userinfo)
    runner = web.AppRunner(evil)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        voice.sfu.services.access.openid.resolver.servers["evil.test"] = f"http://127.0.0.1:{port}"
        status, body = await voice.sfu.post_token(
            {
                "room_id": room,
                "device_id": "D",
                "openid_token": {"access_token": "t", "matrix_server_name": "evil.test"},
            }
        )
        assert (status, body["errcode"]) == (401, "M_UNKNOWN_TOKEN"), body
        assert "not its own" in body["error"]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("room_version", ["11", "12"])  # 12: the creator outranks all
async def test_moderation_follows_power_levels(voice: VoiceSetup, room_version: str) -> None:
    alice = await voice.server.register("alice")
    bob = await voice.server.register("bob")
    carol = await voice.server.register("carol")
    room = await voice_room(alice, BOT, room_version=room_version)
    for user in (bob, carol):
        (await user.join(room)).ok()
    access = voice.sfu.services.access
    assert await access.may_moderate(room, alice.user_id, bob.user_id)
    assert not await access.may_moderate(room, bob.user_id, alice.user_id)
    assert not await access.may_moderate(room, bob.user_id, carol.user_id)  # below kick
    levels = (await alice.call("GET", f"/rooms/{q(room)}/state/m.room.power_levels/")).ok()
    levels.setdefault("users", {})[bob.user_id] = 50
    (await alice.put_state(room, "m.room.power_levels", levels)).ok()
    assert await access.may_moderate(room, bob.user_id, carol.user_id)
    assert not await access.may_moderate(room, bob.user_id, alice.user_id)


@pytest.mark.parametrize("name", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
async def test_discovered_servers_at_private_addresses_are_not_contacted(
    voice: VoiceSetup, name: str
) -> None:
    """``/token`` is open to anyone: it must not reach into the SFU's network."""
    alice = await voice.server.register("alice")
    room = await voice_room(alice, BOT)
    hits = []

    async def userinfo(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.json_response({"sub": "@x:y"})

    app = web.Application()
    app.router.add_get("/_matrix/federation/v1/openid/userinfo", userinfo)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "localhost", 0).start()
        port = runner.addresses[0][1]
        server_name = name.format(port=port)
        status, body = await voice.sfu.post_token(
            {
                "room_id": room,
                "device_id": "D",
                "openid_token": {"access_token": "t", "matrix_server_name": server_name},
            }
        )
        assert (status, body["errcode"]) == (403, "M_FORBIDDEN"), body
        assert "private address" in body["error"]
        assert hits == []
    finally:
        await runner.cleanup()
