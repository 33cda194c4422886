"""OpenID: a token from ``/user/{userId}/openid/request_token`` identifies its owner at
``/_matrix/federation/v1/openid/userinfo`` for an hour, and is good for nothing else."""

from __future__ import annotations

from ...support.matrix_client import Server, User, q

USERINFO = "/_matrix/federation/v1/openid/userinfo"


async def request_token(user: User) -> dict[str, object]:
    path = f"/user/{q(user.user_id)}/openid/request_token"
    body: dict[str, object] = (await user.call("POST", path, {})).ok()
    return body


async def test_round_trip(server: Server, alice: User, bob: User) -> None:
    token = await request_token(alice)
    assert set(token) == {"access_token", "token_type", "matrix_server_name", "expires_in"}
    assert token["token_type"] == "Bearer"
    assert token["matrix_server_name"] == "test.local"
    assert token["expires_in"] == 3600
    assert isinstance(token["access_token"], str) and len(token["access_token"]) > 20
    reply = await server.call("GET", USERINFO, params={"access_token": str(token["access_token"])})
    assert reply.ok() == {"sub": alice.user_id}
    # Each request gives a new token; bob's names bob.
    other = await request_token(bob)
    assert other["access_token"] != token["access_token"]
    reply = await server.call("GET", USERINFO, params={"access_token": str(other["access_token"])})
    assert reply.ok() == {"sub": bob.user_id}
    # An empty body is accepted too (the object is reserved for future use).
    path = f"/user/{q(alice.user_id)}/openid/request_token"
    reply = await alice.call("POST", path, raw=b"")
    assert reply.ok()["token_type"] == "Bearer"


async def test_tokens_expire_after_an_hour(server: Server, alice: User) -> None:
    token = str((await request_token(alice))["access_token"])
    server.clock.advance(3600 * 1000 - 1)
    assert (await server.call("GET", USERINFO, params={"access_token": token})).ok() == {
        "sub": alice.user_id
    }
    server.clock.advance(1)
    reply = await server.call("GET", USERINFO, params={"access_token": token})
    assert (reply.status, reply.errcode) == (401, "M_UNKNOWN_TOKEN")


async def test_unknown_tokens_and_misuse(server: Server, alice: User, bob: User) -> None:
    for params in ({"access_token": "nope"}, {"access_token": ""}, None):
        reply = await server.call("GET", USERINFO, params=params)
        assert (reply.status, reply.errcode) == (401, "M_UNKNOWN_TOKEN"), params
    # Only for yourself.
    path = f"/user/{q(bob.user_id)}/openid/request_token"
    reply = await alice.call("POST", path, {})
    assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN")
    reply = await alice.call("POST", path, {}, auth=False)
    assert (reply.status, reply.errcode) == (401, "M_MISSING_TOKEN")
    reply = await alice.call("POST", f"/user/{q(alice.user_id)}/openid/request_token", [1])
    assert (reply.status, reply.errcode) == (400, "M_BAD_JSON")
    # An OpenID token is not an access token; an access token is not an OpenID token.
    token = str((await request_token(alice))["access_token"])
    reply = await server.call("GET", "/account/whoami", token=token)
    assert (reply.status, reply.errcode) == (401, "M_UNKNOWN_TOKEN")
    reply = await server.call("GET", USERINFO, params={"access_token": alice.token})
    assert (reply.status, reply.errcode) == (401, "M_UNKNOWN_TOKEN")
