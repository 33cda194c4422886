"""Uploading and fetching media over HTTP as a client does (bytes in, bytes and headers
out), for the media tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from multidict import CIMultiDictProxy

from tests.support.matrix_client import Http, Reply, User

UPLOAD = "/_matrix/media/v3/upload"
CREATE = "/_matrix/media/v1/create"
CLIENT_MEDIA = "/_matrix/client/v1/media"
LEGACY_MEDIA = "/_matrix/media/v3"


@dataclass
class Fetched:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def errcode(self) -> str | None:
        try:
            body = self.json()
        except ValueError:
            return None
        return body.get("errcode") if isinstance(body, dict) else None


def _auth(token: str | None, headers: dict[str, str] | None = None) -> dict[str, str]:
    out = dict(headers or {})
    if token:
        out["Authorization"] = f"Bearer {token}"
    return out


async def send(
    http: Http,
    method: str,
    path: str,
    data: Any = b"",
    *,
    token: str | None = None,
    content_type: str | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Fetched:
    """A request with a raw body (``content_type`` None: no Content-Type at all)."""
    sent = _auth(token, headers)
    skip: tuple[str, ...] = ()
    if content_type is None:
        skip = ("Content-Type",)
    else:
        sent["Content-Type"] = content_type
    resp = await http.request(
        method, path, data=data, headers=sent, params=params, skip_auto_headers=skip
    )
    return Fetched(resp.status, resp.headers, await resp.read())


async def fetch(
    http: Http,
    path: str,
    *,
    token: str | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> Fetched:
    resp = await http.request(method, path, headers=_auth(token, headers), params=params)
    return Fetched(resp.status, resp.headers, await resp.read())


async def upload(
    user: User,
    data: Any,
    content_type: str | None = "image/png",
    *,
    filename: str | None = None,
    auth: bool = True,
) -> Fetched:
    params = {"filename": filename} if filename is not None else None
    token = user.token if auth else None
    return await send(
        user.http, "POST", UPLOAD, data, token=token, content_type=content_type, params=params
    )


async def upload_ok(
    user: User, data: Any, content_type: str | None = "image/png", **kw: Any
) -> str:
    """Upload; returns the ``mxc://`` URI."""
    reply = await upload(user, data, content_type, **kw)
    assert reply.status == 200, (reply.status, reply.body)
    uri = reply.json()["content_uri"]
    assert isinstance(uri, str) and uri.startswith("mxc://")
    return uri


def split_mxc(uri: str) -> tuple[str, str]:
    server, _, media_id = uri.removeprefix("mxc://").partition("/")
    return server, media_id


def download_path(uri: str, prefix: str = CLIENT_MEDIA, filename: str | None = None) -> str:
    server, media_id = split_mxc(uri)
    path = f"{prefix}/download/{quote(server, safe='')}/{media_id}"
    return path if filename is None else f"{path}/{quote(filename, safe='')}"


def thumbnail_path(uri: str, prefix: str = CLIENT_MEDIA) -> str:
    server, media_id = split_mxc(uri)
    return f"{prefix}/thumbnail/{quote(server, safe='')}/{media_id}"


async def download(user: User, uri: str, **kw: Any) -> Fetched:
    return await fetch(user.http, download_path(uri), token=user.token, **kw)


async def thumbnail(user: User, uri: str, **params: Any) -> Fetched:
    query = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
    return await fetch(user.http, thumbnail_path(uri), token=user.token, params=query)


def reply_of(fetched: Fetched) -> Reply:
    return Reply(fetched.status, fetched.json())
