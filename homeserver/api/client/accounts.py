"""Serves the accounts API: registration, login, logout, refresh, account, devices.

``setup`` builds the handlers, publishes the ``Authenticator`` under ``AUTH_KEY`` (for
``homeserver.api.auth.require_user``) and the handlers under ``ACCOUNTS_KEY``.
"""

from __future__ import annotations

from homeserver.accounts.service import Accounts, build_accounts
from homeserver.api.auth import AUTH_KEY
from homeserver.clock import Clock
from homeserver.config import Config
from homeserver.http import web
from homeserver.storage.store import Store

from . import account, devices, login, logout, refresh, register
from .accounts_common import ACCOUNTS_KEY

__all__ = ["ACCOUNTS_KEY", "setup"]


def setup(app: web.Application, config: Config, store: Store, clock: Clock) -> Accounts:
    built = build_accounts(config, store.accounts, clock)
    app[AUTH_KEY] = built.authenticator
    app[ACCOUNTS_KEY] = built
    for module in (register, login, logout, refresh, account, devices):
        app.add_routes(module.routes())
    return built
