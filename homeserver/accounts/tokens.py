"""Access tokens, refresh tokens and device ids: generation and hashing."""

from __future__ import annotations

import hashlib
import secrets
import string

# Prefixes make a leaked token recognizable to secret scanners and in logs.
ACCESS_PREFIX = "cat_"
REFRESH_PREFIX = "crt_"

_DEVICE_ALPHABET = string.ascii_uppercase


def token_hash(token: str) -> str:
    """What the database stores for a token: its sha256 hex digest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_access_token() -> str:
    return ACCESS_PREFIX + secrets.token_urlsafe(32)


def new_refresh_token() -> str:
    return REFRESH_PREFIX + secrets.token_urlsafe(32)


def new_device_id() -> str:
    return "".join(secrets.choice(_DEVICE_ALPHABET) for _ in range(10))


def new_localpart() -> str:
    """A localpart for a registration that gave no username."""
    return "u" + secrets.token_hex(6)
