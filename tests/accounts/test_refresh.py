"""Refresh tokens and expiring access tokens. spec: client-server "Refreshing access
tokens", "Soft logout", ``POST /refresh``."""

from __future__ import annotations

from ..conftest import FakeClock
from ..support.matrix_client import Server


async def test_refresh_rotation_and_expiry(server: Server, clock: FakeClock) -> None:
    await server.register("alice")
    login = await server.login("alice", refresh_token=True)
    assert login.status == 200
    access1, refresh1 = login.body["access_token"], login.body["refresh_token"]
    assert login.body["expires_in_ms"] == 300_000
    assert (await server.whoami(access1)).status == 200

    # An expired access token is a soft logout: refresh, don't throw the session away.
    clock.advance(300_000)
    expired = await server.whoami(access1)
    assert expired.status == 401
    assert expired.body["errcode"] == "M_UNKNOWN_TOKEN"
    assert expired.body["soft_logout"] is True

    first = await server.call("POST", "/refresh", {"refresh_token": refresh1})
    assert first.status == 200, first
    assert set(first.body) == {"access_token", "refresh_token", "expires_in_ms"}
    access2, refresh2 = first.body["access_token"], first.body["refresh_token"]

    # The old refresh token stays valid until the new tokens are used, so a client that
    # lost the response can retry; the retry revokes what the lost response carried.
    retry = await server.call("POST", "/refresh", {"refresh_token": refresh1})
    assert retry.status == 200, retry
    access3, refresh3 = retry.body["access_token"], retry.body["refresh_token"]
    assert (await server.whoami(access2)).errcode == "M_UNKNOWN_TOKEN"
    assert (await server.call("POST", "/refresh", {"refresh_token": refresh2})).status == 401

    # Using the new access token retires the old refresh token for good.
    me = await server.whoami(access3)
    assert me.body["device_id"] == login.body["device_id"]
    used = await server.call("POST", "/refresh", {"refresh_token": refresh1})
    assert used.status == 401
    assert used.body["errcode"] == "M_UNKNOWN_TOKEN"

    # The v1 path works too, and rotation continues on the same device.
    again = await server.call("POST", "/_matrix/client/v1/refresh", {"refresh_token": refresh3})
    assert again.status == 200, again
    assert (await server.whoami(access3)).errcode == "M_UNKNOWN_TOKEN"
    me = await server.whoami(again.body["access_token"])
    assert me.body["device_id"] == login.body["device_id"]

    assert (await server.call("POST", "/refresh", {"refresh_token": "crt_nope"})).status == 401
    assert (await server.call("POST", "/refresh", {})).errcode == "M_MISSING_PARAM"

    # Logging out revokes the refresh token too.
    await server.call("POST", "/logout", {}, token=again.body["access_token"])
    gone = await server.call("POST", "/refresh", {"refresh_token": again.body["refresh_token"]})
    assert gone.status == 401
