"""The WebSocket sync transport (``/_matrix/client/unstable/im.concord/sync/ws``)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType

from homeserver.appkeys import PIPELINE_KEY

from ..support.matrix_client import Server, User
from .conftest import WS_PATH


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> dict[str, Any]:
    message = await ws.receive(timeout=timeout)
    assert message.type == WSMsgType.TEXT, message
    body: dict[str, Any] = json.loads(message.data)
    return body


def bodies(body: dict[str, Any], room_id: str) -> list[str]:
    room = body["rooms"]["join"].get(room_id)
    if room is None:
        return []
    return [e["content"]["body"] for e in room["timeline"]["events"] if "body" in e["content"]]


async def test_push_then_switch_to_long_poll(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    ws = await bob.http.ws_connect(WS_PATH, params={"access_token": bob.token})
    await ws.send_json({"type": "sync"})
    initial = await receive(ws)
    assert initial["type"] == "sync"
    assert room in initial["rooms"]["join"]
    # Same body as /sync: every top-level field is there.
    for key in ("next_batch", "account_data", "presence", "to_device", "device_lists"):
        assert key in initial

    await alice.send(room, "pushed")
    delta = await receive(ws)
    assert bodies(delta, room) == ["pushed"]
    assert delta["next_batch"] != initial["next_batch"]

    # The client switches to long-polling with the last next_batch it received.
    await ws.close()
    again = await bob.sync(delta["next_batch"])
    assert again["rooms"]["join"] == {}  # nothing delivered twice
    await alice.send(room, "after the switch")
    later = await bob.sync(delta["next_batch"])
    assert bodies(later, room) == ["after the switch"]  # nothing missed


async def test_catch_up_from_a_long_poll_token(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    since = (await bob.sync())["next_batch"]
    await alice.send(room, "while offline")
    ws = await bob.http.ws_connect(WS_PATH, headers={"Authorization": f"Bearer {bob.token}"})
    await ws.send_json({"type": "sync", "since": since})
    catch_up = await receive(ws)
    assert bodies(catch_up, room) == ["while offline"]
    # Nothing is pushed while nothing changes; the next change arrives alone.
    await alice.send(room, "live")
    live = await receive(ws)
    assert bodies(live, room) == ["live"]
    await ws.close()


async def test_changing_parameters_and_errors(alice: User) -> None:
    room = await alice.create_room()
    ws = await alice.http.ws_connect(WS_PATH, params={"access_token": alice.token})
    await ws.send_str("not json")
    error = await receive(ws)
    assert (error["type"], error["errcode"]) == ("error", "M_NOT_JSON")
    await ws.send_json({"type": "dance"})
    assert (await receive(ws))["errcode"] == "M_UNRECOGNIZED"
    await ws.send_json({"type": "sync", "since": "garbage"})
    assert (await receive(ws))["errcode"] == "M_INVALID_PARAM"
    await ws.send_json({"type": "sync", "filter": {"room": {"timeline": {"limit": 0}}}})
    assert (await receive(ws))["errcode"] == "M_INVALID_PARAM"
    # Still open: a valid request is answered, with an object filter.
    await ws.send_json(
        {"type": "sync", "filter": {"room": {"timeline": {"limit": 1}}}, "set_presence": "offline"}
    )
    first = await receive(ws)
    assert len(first["rooms"]["join"][room]["timeline"]["events"]) == 1
    # New parameters replace the old ones and are answered at once.
    await ws.send_json({"type": "sync", "filter": '{"room": {"timeline": {"limit": 2}}}'})
    second = await receive(ws)
    assert len(second["rooms"]["join"][room]["timeline"]["events"]) == 2
    await ws.send_json({"type": "sync", "since": second["next_batch"]})
    third = await receive(ws)
    assert third["rooms"]["join"] == {}
    await alice.send(room, "x")
    assert bodies(await receive(ws), room) == ["x"]
    await ws.close()


async def test_refused_without_a_valid_token(server: Server) -> None:
    for params in ({}, {"access_token": "nope"}):
        with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
            await server.http.ws_connect(WS_PATH, params=params)
        assert caught.value.status == 401


async def test_logout_closes_the_socket(server: Server, alice: User) -> None:
    room = await alice.create_room()
    ws = await alice.http.ws_connect(WS_PATH, params={"access_token": alice.token})
    await ws.send_json({"type": "sync"})
    await receive(ws)
    (await alice.call("POST", "/logout", {})).ok()
    # The next push finds the token revoked: an error, then the close.
    pipeline = server.app[PIPELINE_KEY]
    await pipeline.send(room, alice.user_id, "m.room.message", {"msgtype": "m.text", "body": "x"})
    error = await receive(ws)
    assert (error["type"], error["errcode"]) == ("error", "M_UNKNOWN_TOKEN")
    closing = await ws.receive(timeout=5)
    assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert ws.close_code == 4401
