"""Typed keys for the federation services the application holds (``app[KEY]``).

Each part of ``federation`` adds its own here.
"""

from __future__ import annotations

from homeserver.http import web

from .client import FederationClient
from .edus import EduRegistry
from .keyring import Keyring
from .sender.sender import FederationSender

FED_CLIENT_KEY = web.AppKey("federation_client", FederationClient)
KEYRING_KEY = web.AppKey("keyring", Keyring)
FEDERATION_SENDER_KEY = web.AppKey("federation_sender", FederationSender)
EDU_REGISTRY_KEY = web.AppKey("edu_registry", EduRegistry)
