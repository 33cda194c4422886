"""``org.matrix.login.jwt``: valid, forged, expired, wrong issuer or audience."""

from __future__ import annotations

from typing import Any

import jwt

from ..conftest import FakeClock
from ..support.matrix_client import Server
from .conftest import JWT_SECRET


def token(secret: str = JWT_SECRET, **claims: Any) -> str:
    body = {"sub": "carol", "iss": "https://id.test", "aud": "concord", **claims}
    return jwt.encode(body, secret, algorithm="HS256")


async def jwt_login(server: Server, value: str, **extra: Any) -> Any:
    return await server.call(
        "POST", "/login", {"type": "org.matrix.login.jwt", "token": value, **extra}
    )


async def test_jwt_login(server: Server, clock: FakeClock) -> None:
    first = await jwt_login(server, token(exp=clock.now_ms // 1000 + 60), device_id="WEB")
    assert first.status == 200, first
    assert first.body["user_id"] == "@carol:test.local"
    assert first.body["device_id"] == "WEB"
    # The second login finds the account the first one created.
    again = await jwt_login(server, token(sub="Carol"))
    assert again.status == 200, again
    assert again.body["user_id"] == "@carol:test.local"
    full_id = await jwt_login(server, token(sub="@carol:test.local"))
    assert full_id.body["user_id"] == "@carol:test.local"
    assert (await server.whoami(first.body["access_token"])).status == 200

    now = clock.now_ms // 1000
    rejected = {
        "bad signature": token(secret="someone else's secret with enough length"),
        "expired": token(exp=now),
        "not yet valid": token(nbf=now + 60),
        "wrong issuer": token(iss="https://evil.test"),
        "no issuer": jwt.encode({"sub": "carol", "aud": "concord"}, JWT_SECRET),
        "wrong audience": token(aud="other-app"),
        "no subject": jwt.encode({"iss": "https://id.test", "aud": "concord"}, JWT_SECRET),
        "bad subject": token(sub="has space"),
        "other server": token(sub="@carol:elsewhere.org"),
        "not a jwt": "garbage",
        "alg none": jwt.encode(
            {"sub": "carol", "iss": "https://id.test", "aud": "concord"}, "", algorithm="none"
        ),
    }
    for why, value in rejected.items():
        reply = await jwt_login(server, value)
        assert reply.status == 403, (why, reply)
        assert reply.errcode == "M_FORBIDDEN", (why, reply)

    # A JWT account has no password; it confirms its identity with a fresh JWT.
    access = first.body["access_token"]
    challenge = await server.call("DELETE", "/devices/WEB", {}, token=access)
    assert challenge.body["flows"] == [{"stages": ["org.matrix.login.jwt"]}]
    session = challenge.body["session"]
    someone_else = await server.call(
        "DELETE",
        "/devices/WEB",
        {"auth": {"type": "org.matrix.login.jwt", "token": token(sub="dave"), "session": session}},
        token=access,
    )
    assert someone_else.status == 401
    assert someone_else.errcode == "M_FORBIDDEN"
    deleted = await server.call(
        "DELETE",
        "/devices/WEB",
        {"auth": {"type": "org.matrix.login.jwt", "token": token(), "session": session}},
        token=access,
    )
    assert deleted.status == 200, deleted
    assert (await server.whoami(access)).errcode == "M_UNKNOWN_TOKEN"
