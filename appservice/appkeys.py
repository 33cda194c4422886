"""Typed keys for what the application service part keeps in the application."""

from __future__ import annotations

from homeserver.http import web

from .client import AppServiceClient
from .queries import AppServiceQueries
from .registration import Registration

__all__ = ["CLIENT_KEY", "QUERIES_KEY", "REGISTRATIONS_KEY"]

# Every configured registration, in the order of ``app_service_config_files``.
REGISTRATIONS_KEY: web.AppKey[tuple[Registration, ...]] = web.AppKey("appservice_registrations")
# The HTTP client for requests to the services (Authorization: Bearer hs_token).
CLIENT_KEY = web.AppKey("appservice_client", AppServiceClient)
# User, alias and third-party queries to the services.
QUERIES_KEY = web.AppKey("appservice_queries", AppServiceQueries)
