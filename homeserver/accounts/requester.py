"""Who is making an authenticated request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Requester:
    user_id: str
    device_id: str
    token_id: str  # sha256 hex of the access token: names the token without revealing it
    is_admin: bool = False
    # Set when an application service's ``as_token`` authenticated the request; then
    # ``device_id`` is "" unless the service named one (spec: application-service-api
    # "Identity assertion").
    appservice_id: str | None = None
