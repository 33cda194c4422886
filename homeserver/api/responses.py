"""JSON responses encoded with orjson (several times faster than the stdlib encoder)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def json_response(
    data: Any,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)
