"""Reading and validating JSON request bodies at the edge (``M_NOT_JSON``, ``M_BAD_JSON``)."""

from __future__ import annotations

import json
from typing import Any

from homeserver.errors import MatrixError, bad_json
from homeserver.http import web


async def json_object(request: web.Request, *, allow_empty: bool = False) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}`` when ``allow_empty``."""
    raw = await request.read()
    if not raw.strip() and allow_empty:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MatrixError(400, "M_NOT_JSON", "Content not JSON") from None
    if not isinstance(body, dict):
        raise bad_json("The body must be a JSON object")
    return body


def opt_str(body: dict[str, Any], key: str, *, max_length: int | None = None) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_json(f"`{key}` must be a string")
    if max_length is not None and len(value) > max_length:
        raise MatrixError(400, "M_INVALID_PARAM", f"`{key}` is longer than {max_length}")
    return value


def opt_bool(body: dict[str, Any], key: str, default: bool = False) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise bad_json(f"`{key}` must be true or false")
    return value
