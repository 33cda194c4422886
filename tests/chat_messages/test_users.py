"""A Concord user's status, avatar and description, as another user sees them:
status is presence (online / unavailable = Away / busy / offline, which a connected
user chooses to be invisible), the avatar is an uploaded image or GIF set as
``avatar_url``, the description is the profile field ``im.concord.description``."""

from __future__ import annotations

from typing import Any

from ..media.media_client import download, upload_ok
from ..support.matrix_client import Server, User, q
from ..support.media_samples import animated_gif, image_info, png

DESCRIPTION = "im.concord.description"


async def set_status(user: User, state: str) -> None:
    path = f"/presence/{q(user.user_id)}/status"
    (await user.call("PUT", path, {"presence": state})).ok()


def seen_in_sync(body: dict[str, Any], user_id: str) -> str | None:
    found = [e["content"] for e in body["presence"]["events"] if e["sender"] == user_id]
    return str(found[-1]["presence"]) if found else None


async def test_each_status_as_a_room_mate_sees_it(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    since = (await alice.sync())["next_batch"]
    for chosen, seen in [
        ("online", "online"),
        ("unavailable", "unavailable"),  # Away
        ("busy", "busy"),
        ("offline", "offline"),  # invisible: connected, yet offline to others
        ("online", "online"),
    ]:
        await set_status(bob, chosen)
        await bob.sync()  # Bob is connected all along
        body = await alice.sync(since, timeout=0)
        since = body["next_batch"]
        assert seen_in_sync(body, bob.user_id) == seen, chosen
        got = (await alice.call("GET", f"/presence/{q(bob.user_id)}/status")).ok()
        assert got["presence"] == seen, chosen
    bad = await bob.call("PUT", f"/presence/{q(bob.user_id)}/status", {"presence": "asleep"})
    assert (bad.status, bad.errcode) == (400, "M_INVALID_PARAM")


async def test_avatar_image_then_gif_and_description(
    server: Server, alice: User, bob: User
) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    profile = f"/profile/{q(alice.user_id)}"
    for data, mime in [(png(), "image/png"), (animated_gif(frames=4), "image/gif")]:
        uri = await upload_ok(alice, data, mime)
        (await alice.call("PUT", f"{profile}/avatar_url", {"avatar_url": uri})).ok()
        # Bob reads the avatar from the profile and from Alice's member event.
        assert (await bob.call("GET", f"{profile}/avatar_url")).ok() == {"avatar_url": uri}
        state = await bob.call("GET", f"/rooms/{q(room)}/state/m.room.member/{q(alice.user_id)}")
        assert state.ok()["avatar_url"] == uri
        served = await download(bob, uri)
        assert served.status == 200
        assert served.body == data  # byte for byte: a GIF keeps all its frames
        assert served.headers["Content-Type"] == mime
    kind, size, frames = image_info(served.body)
    assert (kind, size, frames) == ("GIF", (64, 48), 4)
    text = "Builds synths. Ask me about filters."
    (await alice.call("PUT", f"{profile}/{DESCRIPTION}", {DESCRIPTION: text})).ok()
    assert (await bob.call("GET", f"{profile}/{DESCRIPTION}")).ok() == {DESCRIPTION: text}
    assert (await server.call("GET", profile)).ok()[DESCRIPTION] == text
    # Only Alice may change her description.
    refused = await bob.call("PUT", f"{profile}/{DESCRIPTION}", {DESCRIPTION: "hacked"})
    assert (refused.status, refused.errcode) == (403, "M_FORBIDDEN")
    assert (await bob.call("GET", f"{profile}/{DESCRIPTION}")).ok() == {DESCRIPTION: text}
