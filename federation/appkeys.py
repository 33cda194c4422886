"""Typed keys for the federation services the application holds (``app[KEY]``).

Each part of ``federation`` adds its own here.
"""

from __future__ import annotations

from homeserver.http import web

from .client import FederationClient
from .keyring import Keyring

FED_CLIENT_KEY = web.AppKey("federation_client", FederationClient)
KEYRING_KEY = web.AppKey("keyring", Keyring)
