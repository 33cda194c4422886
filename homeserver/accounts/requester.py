"""Who is making an authenticated request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Requester:
    user_id: str
    device_id: str
    token_id: str  # sha256 hex of the access token: names the token without revealing it
    is_admin: bool = False
