"""The Matrix errors the accounts handlers raise (spec: client-server "Common error codes")."""

from __future__ import annotations

from homeserver.errors import MatrixError
from homeserver.errors import forbidden as forbidden  # the accounts handlers import it here


def unknown_token(
    message: str = "Unknown access token", *, soft_logout: bool = False
) -> MatrixError:
    return MatrixError(401, "M_UNKNOWN_TOKEN", message, soft_logout=soft_logout)


def missing_token() -> MatrixError:
    return MatrixError(401, "M_MISSING_TOKEN", "Missing access token", soft_logout=False)


def invalid_param(message: str) -> MatrixError:
    return MatrixError(400, "M_INVALID_PARAM", message)


def missing_param(message: str) -> MatrixError:
    return MatrixError(400, "M_MISSING_PARAM", message)


def invalid_username(message: str) -> MatrixError:
    return MatrixError(400, "M_INVALID_USERNAME", message)


def user_in_use() -> MatrixError:
    return MatrixError(400, "M_USER_IN_USE", "User ID already taken")


def bad_login() -> MatrixError:
    # One message for unknown users and wrong passwords: no user enumeration.
    return forbidden("Invalid username or password")
