"""JSON responses encoded with orjson (several times faster than the stdlib encoder)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from homeserver.http import web


def json_response(
    data: Any,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, headers=headers, content_type="application/json"
    )
