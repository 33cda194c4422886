"""Which user a login or ``m.login.password`` stage names.

spec: client-server "Identifier types" (``m.id.user``; the deprecated top-level ``user``).
We hold no third-party identifiers, so those answer 403 as the spec asks for unknown ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeserver.errors import MatrixError
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_user_id

from .errors import forbidden, invalid_param, missing_param


def identified_user(body: Mapping[str, Any], server_name: str) -> str | None:
    """The user id to check the password of; None when it cannot be one of ours (the
    caller still spends the time of a password check)."""
    identifier = body.get("identifier")
    if identifier is not None:
        if not isinstance(identifier, dict):
            raise invalid_param("`identifier` must be an object")
        kind = identifier.get("type")
        if kind in ("m.id.thirdparty", "m.id.phone"):
            raise forbidden("Unknown third-party identifier")
        if kind != "m.id.user":
            raise MatrixError(400, "M_UNKNOWN", f"Unknown identifier type {kind!r}")
        user = identifier.get("user")
    else:
        if "medium" in body or "address" in body:
            raise forbidden("Unknown third-party identifier")
        user = body.get("user")
        if user is None:
            raise missing_param("`identifier` is required")
    if not isinstance(user, str) or not user:
        raise invalid_param("The user must be a non-empty string")
    if user.startswith("@"):
        try:
            localpart, server = parse_user_id(user)
        except InvalidIdentifier:
            return None
        if server != server_name:
            return None
    else:
        localpart = user
    # Local accounts are created lowercase; clients often keep the user's capitals.
    return f"@{localpart.lower()}:{server_name}"
