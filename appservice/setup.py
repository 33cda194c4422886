"""Wires the application service API into the application.

``setup(app, registrations)`` runs in ``build_app`` (homeserver/app.py) after the client
routes exist.
"""

from __future__ import annotations

from collections.abc import Sequence

from homeserver.http import web

from .appkeys import REGISTRATIONS_KEY
from .registration import Registration

__all__ = ["setup"]


def setup(app: web.Application, registrations: Sequence[Registration]) -> None:
    app[REGISTRATIONS_KEY] = tuple(registrations)
