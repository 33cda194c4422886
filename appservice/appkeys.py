"""Typed keys for what the application service part keeps in the application."""

from __future__ import annotations

from homeserver.http import web

from .registration import Registration

__all__ = ["REGISTRATIONS_KEY"]

# Every configured registration, in the order of ``app_service_config_files``.
REGISTRATIONS_KEY: web.AppKey[tuple[Registration, ...]] = web.AppKey("appservice_registrations")
