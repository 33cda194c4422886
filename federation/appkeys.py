"""Typed keys for what federation keeps in the application (``app[KEY]``)."""

from __future__ import annotations

from homeserver.http import web

from .edus import EduRegistry
from .sender.sender import FederationSender

FEDERATION_SENDER_KEY = web.AppKey("federation_sender", FederationSender)
EDU_REGISTRY_KEY = web.AppKey("edu_registry", EduRegistry)
