"""Device management. spec: client-server "Device management"."""

from __future__ import annotations

from ..conftest import FakeClock
from ..support.matrix_client import Server

ALICE = "@alice:test.local"


async def test_list_get_rename_and_last_seen(server: Server, clock: FakeClock) -> None:
    await server.register("alice", device_id="PHONE", initial_device_display_name="Phone")
    laptop = await server.login("alice", device_id="LAPTOP")
    token = laptop.body["access_token"]
    start = clock.now_ms

    devices = await server.call("GET", "/devices", token=token)
    assert devices.status == 200
    by_id = {d["device_id"]: d for d in devices.body["devices"]}
    assert set(by_id) == {"PHONE", "LAPTOP"}
    assert by_id["PHONE"]["display_name"] == "Phone"
    # The request itself counts as the laptop being seen.
    assert by_id["LAPTOP"]["last_seen_ts"] == start
    assert by_id["LAPTOP"]["last_seen_ip"] == "127.0.0.1"
    assert "last_seen_ts" not in by_id["PHONE"]

    renamed = await server.call("PUT", "/devices/PHONE", {"display_name": "Old phone"}, token=token)
    assert renamed.status == 200
    assert renamed.body == {}
    phone = await server.call("GET", "/devices/PHONE", token=token)
    assert phone.body == {"device_id": "PHONE", "display_name": "Old phone"}
    # No display_name: unchanged.
    assert (await server.call("PUT", "/devices/PHONE", {}, token=token)).status == 200
    assert (await server.call("GET", "/devices/PHONE", token=token)).body["display_name"] == (
        "Old phone"
    )

    for method, body in (("GET", None), ("PUT", {"display_name": "x"}), ("DELETE", {})):
        missing = await server.call(method, "/devices/NOPE", body, token=token)
        assert missing.status == 404, (method, missing)
        assert missing.errcode == "M_NOT_FOUND"
    # Another user's device is not ours to see.
    bob = await server.register("bob")
    other = await server.call("GET", "/devices/PHONE", token=bob.token)
    assert other.status == 404

    # last_seen is written at most once a minute per device.
    clock.advance(30_000)
    await server.whoami(token)
    laptop_seen = await server.call("GET", "/devices/LAPTOP", token=token)
    assert laptop_seen.body["last_seen_ts"] == start
    clock.advance(31_000)
    await server.whoami(token)
    laptop_seen = await server.call("GET", "/devices/LAPTOP", token=token)
    assert laptop_seen.body["last_seen_ts"] == start + 61_000


async def test_delete_devices_needs_interactive_auth(server: Server) -> None:
    await server.register("alice", device_id="PHONE")
    token = (await server.login("alice", device_id="LAPTOP")).body["access_token"]
    tablet = (await server.login("alice", device_id="TABLET")).body["access_token"]
    watch = (await server.login("alice", device_id="WATCH")).body["access_token"]

    challenge = await server.call("DELETE", "/devices/PHONE", {}, token=token)
    assert challenge.status == 401
    assert challenge.body["flows"] == [
        {"stages": ["m.login.password"]},
        {"stages": ["org.matrix.login.jwt"]},
    ]
    session = challenge.body["session"]
    wrong = await server.call(
        "DELETE",
        "/devices/PHONE",
        {
            "auth": {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": "alice"},
                "password": "wrong",
                "session": session,
            }
        },
        token=token,
    )
    assert wrong.status == 401
    assert wrong.errcode == "M_FORBIDDEN"
    assert wrong.body["session"] == session
    # The session was started for PHONE: it cannot delete another device.
    hijack = await server.call(
        "DELETE",
        "/devices/TABLET",
        {"auth": {"type": "m.login.dummy", "session": session}},
        token=token,
    )
    assert hijack.status == 403

    deleted = await server.with_password("DELETE", "/devices/PHONE", {}, token=token, user=ALICE)
    assert deleted.status == 200, deleted
    devices = await server.call("GET", "/devices", token=token)
    assert {d["device_id"] for d in devices.body["devices"]} == {"LAPTOP", "TABLET", "WATCH"}

    bulk = {"devices": ["TABLET", "WATCH", "NEVER_EXISTED"]}
    challenge = await server.call("POST", "/delete_devices", bulk, token=token)
    assert challenge.status == 401
    deleted = await server.with_password("POST", "/delete_devices", bulk, token=token, user="alice")
    assert deleted.status == 200, deleted
    for gone in (tablet, watch):
        assert (await server.whoami(gone)).errcode == "M_UNKNOWN_TOKEN"
    devices = await server.call("GET", "/devices", token=token)
    assert [d["device_id"] for d in devices.body["devices"]] == ["LAPTOP"]
    bad = await server.call("POST", "/delete_devices", {"devices": "TABLET"}, token=token)
    assert bad.errcode == "M_BAD_JSON"
