"""What the accounts route modules share: the handlers' app key and the path prefixes."""

from __future__ import annotations

from homeserver.accounts.service import Accounts
from homeserver.http import web

ACCOUNTS_KEY = web.AppKey("accounts", Accounts)

# r0 is what older clients and bots still call; the endpoints behave the same.
CLIENT_VERSIONS = ("v3", "r0")


def paths(suffix: str, versions: tuple[str, ...] = CLIENT_VERSIONS) -> list[str]:
    return [f"/_matrix/client/{version}{suffix}" for version in versions]


def accounts(request: web.Request) -> Accounts:
    return request.config_dict[ACCOUNTS_KEY]
