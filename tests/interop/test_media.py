"""Media across servers: an image uploaded on one side is downloaded, byte for byte, by a
user of the other side through its own server (spec: server-server "Content Repository",
client-server ``/_matrix/client/v1/media/download``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.support.media_samples import png

from .client import MxUser
from .conftest import Pair


def _raw(user: MxUser, method: str, path: str, data: bytes | None = None) -> tuple[int, bytes, str]:
    req = urllib.request.Request(user.base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + user.token)
    if data is not None:
        req.add_header("Content-Type", "image/png")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def test_image_uploaded_on_one_side_downloads_on_the_other(pair: Pair) -> None:
    alice = MxUser.register(pair.a, "alice")
    bob = MxUser.register(pair.b, "bob")
    image = png(40, 30)
    status, body, _ = _raw(alice, "POST", "/_matrix/media/v3/upload?filename=pic.png", image)
    assert status == 200, body
    mxc = json.loads(body)["content_uri"]
    server_name, media_id = mxc.removeprefix("mxc://").split("/")
    download = f"/_matrix/client/v1/media/download/{server_name}/{media_id}"
    status, got, content_type = _raw(bob, "GET", download)
    assert status == 200, got[:200]
    assert got == image
    assert content_type.startswith("image/png")
    thumbnail = f"/_matrix/client/v1/media/thumbnail/{server_name}/{media_id}?width=16&height=16"
    status, thumb, content_type = _raw(bob, "GET", thumbnail)
    assert status == 200, thumb[:200]
    assert content_type.startswith("image/")
