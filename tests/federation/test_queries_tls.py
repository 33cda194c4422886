"""Queries between two real Concord servers over TLS with X-Matrix signed requests
(``tests.support.federation``): profiles, aliases, room directories, keys, device
lists and space hierarchies, asked by a client of one server about the other.

spec: server-server "Querying for information", "Published Room Directory",
"Device Management", "End-to-End Encryption", "Spaces".
"""

from __future__ import annotations

from federation.client import FederationRequestError, fed_path

from ..e2ee.crypto import CrossSigning, Device
from ..support.federation import StartFederation
from ..support.matrix_client import q

SPACE = {"creation_content": {"type": "m.space"}}


async def test_client_queries_reach_the_other_server(federation: StartFederation) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    (await bob.call("PUT", f"/profile/{q(bob.user_id)}/displayname", {"displayname": "Bob"})).ok()
    assert (await alice.call("GET", f"/profile/{q(bob.user_id)}")).ok() == {"displayname": "Bob"}
    missing = await alice.call("GET", f"/profile/{q('@ghost:' + b.name)}")
    assert (missing.status, missing.errcode) == (404, "M_NOT_FOUND")
    # Aliases.
    room = await bob.create_room(preset="public_chat", name="Lobby")
    alias = f"#lobby:{b.name}"
    (await bob.call("PUT", f"/directory/room/{q(alias)}", {"room_id": room})).ok()
    resolved = (await alice.call("GET", f"/directory/room/{q(alias)}")).ok()
    assert resolved == {"room_id": room, "servers": [b.name]}
    # The room directory.
    (await bob.call("PUT", f"/directory/list/room/{q(room)}", {"visibility": "public"})).ok()
    listing = (await alice.call("GET", "/publicRooms", params={"server": b.name})).ok()
    assert [c["room_id"] for c in listing["chunk"]] == [room]
    found = (
        await alice.call(
            "POST",
            "/publicRooms",
            {"filter": {"generic_search_term": "lob"}},
            params={"server": b.name},
        )
    ).ok()
    assert [c["name"] for c in found["chunk"]] == ["Lobby"]


async def test_keys_and_devices_over_tls(federation: StartFederation) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    device = Device(bob)
    (
        await device.upload(device_keys=device.device_keys(), one_time_keys=device.one_time_keys(1))
    ).ok()
    cross = CrossSigning(bob.user_id)
    (await bob.call("POST", "/keys/device_signing/upload", cross.upload_body())).ok()
    body = (await alice.call("POST", "/keys/query", {"device_keys": {bob.user_id: []}})).ok()
    assert list(body["device_keys"][bob.user_id]) == [bob.device_id]
    assert body["master_keys"][bob.user_id]["keys"] == cross.master_key()["keys"]
    assert body["failures"] == {}
    claim = {"one_time_keys": {bob.user_id: {bob.device_id: "signed_curve25519"}}}
    claimed = (await alice.call("POST", "/keys/claim", claim)).ok()
    assert list(claimed["one_time_keys"][bob.user_id][bob.device_id]) == [
        "signed_curve25519:AAAA0001"
    ]
    # What a peer resyncs a device list from, signed request and all.
    devices = await a.fed_client.get_json(
        b.name, fed_path("/_matrix/federation/v1/user/devices/{}", bob.user_id)
    )
    assert devices["user_id"] == bob.user_id and devices["stream_id"] >= 1
    assert [d["device_id"] for d in devices["devices"]] == [bob.device_id]
    assert devices["self_signing_key"]["keys"] == cross.self_signing_key()["keys"]
    try:
        await a.fed_client.get_json(
            b.name, fed_path("/_matrix/federation/v1/user/devices/{}", alice.user_id)
        )
    except FederationRequestError as exc:
        assert (exc.status, exc.errcode) == (404, "M_NOT_FOUND")
    else:
        raise AssertionError("a user of another server was answered")


async def test_space_children_on_the_other_server(federation: StartFederation) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    sub = await bob.create_room(preset="public_chat", name="B space", **SPACE)
    lobby = await bob.create_room(preset="public_chat", name="lobby")
    staff = await bob.create_room(preset="private_chat", name="staff")
    for child in (lobby, staff):
        (await bob.put_state(sub, "m.space.child", {"via": [b.name]}, state_key=child)).ok()
    space = await alice.create_room(preset="public_chat", name="A space", **SPACE)
    (await alice.put_state(space, "m.space.child", {"via": [b.name]}, state_key=sub)).ok()
    body = (await alice.call("GET", f"/_matrix/client/v1/rooms/{q(space)}/hierarchy")).ok()
    assert [r.get("name") for r in body["rooms"]] == ["A space", "B space", "lobby"]
    answer = await a.fed_client.get_json(
        b.name, fed_path("/_matrix/federation/v1/hierarchy/{}", sub)
    )
    assert answer["inaccessible_children"] == [staff]
    # Once a user of a is invited to the private room, a may see it, and so may she.
    (await bob.invite(staff, alice.user_id)).ok()
    answer = await a.fed_client.get_json(
        b.name, fed_path("/_matrix/federation/v1/hierarchy/{}", sub)
    )
    assert staff in [c["room_id"] for c in answer["children"]]
    assert answer["inaccessible_children"] == []
