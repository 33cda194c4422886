"""Media across servers: a user of one server downloads (and thumbnails) what a user of
another uploaded, through the federation media endpoints (spec: server-server "Content
Repository"); the bytes are fetched once and kept."""

from __future__ import annotations

from homeserver.api.ops import METRICS_KEY

from ..support.federation import StartFederation
from ..support.media_samples import png


def _served(server, endpoint: str) -> float:  # type: ignore[no-untyped-def]
    lines = server.app[METRICS_KEY].registry.exposition().decode().splitlines()
    counts = [line for line in lines if endpoint in line and "_count{" in line]
    return sum(float(line.rpartition(" ")[2]) for line in counts)


async def test_remote_media_is_fetched_once_and_served(federation: StartFederation) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    image = png(64, 48)
    uploaded = await alice.http.post(
        "/_matrix/media/v3/upload",
        data=image,
        params={"filename": "cat.png"},
        headers={"Authorization": f"Bearer {alice.token}", "Content-Type": "image/png"},
    )
    mxc = (await uploaded.json())["content_uri"]
    server_name, media_id = mxc.removeprefix("mxc://").split("/")
    assert server_name == a.name
    path = f"/_matrix/client/v1/media/download/{server_name}/{media_id}"
    for _ in range(2):
        response = await bob.http.get(path, headers={"Authorization": f"Bearer {bob.token}"})
        assert response.status == 200
        assert await response.read() == image
        assert response.headers["Content-Type"] == "image/png"
    # Fetched from A once; the second download came from B's copy.
    assert _served(a, "/_matrix/federation/v1/media/download/") == 1
    thumb = await bob.http.get(
        f"/_matrix/client/v1/media/thumbnail/{server_name}/{media_id}",
        params={"width": "32", "height": "32", "method": "scale"},
        headers={"Authorization": f"Bearer {bob.token}"},
    )
    assert thumb.status == 200
    assert thumb.headers["Content-Type"].startswith("image/")
    # Unknown remote media is 404, and allow_remote=false never asks the other server.
    missing = await bob.http.get(
        f"/_matrix/client/v1/media/download/{server_name}/nosuchmedia",
        headers={"Authorization": f"Bearer {bob.token}"},
    )
    assert missing.status == 404
    legacy = await bob.http.get(
        f"/_matrix/media/v3/download/{server_name}/{media_id}x",
        params={"allow_remote": "false"},
    )
    assert legacy.status == 404
