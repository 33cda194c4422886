"""Inbound EDUs: each type's handler, called by the inbound ``/send`` for every EDU.

spec: server-server "EDUs" — ephemeral data (typing, receipts, presence, to-device
messages, device lists) carried in transactions next to PDUs. A transaction succeeds
whatever its EDUs hold: an unknown type is ignored, a malformed or refused one is
logged and dropped, and neither fails the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from homeserver.logs import fields

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
EduHandler = Callable[[str, JsonDict], Awaitable[None]]


class BadEdu(Exception):
    """An EDU's content is malformed or not acceptable from its origin (dropped)."""


class EduRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, EduHandler] = {}

    def register(self, edu_type: str, handler: EduHandler) -> None:
        """``handler(origin, content)`` handles every inbound EDU of ``edu_type``."""
        if edu_type in self._handlers:
            raise ValueError(f"a handler for {edu_type} is already registered")
        self._handlers[edu_type] = handler

    def handles(self, edu_type: str) -> bool:
        return edu_type in self._handlers

    async def handle(self, origin: str, edu: Mapping[str, Any]) -> None:
        """Handle one EDU of a transaction from ``origin``; never raises."""
        edu_type = edu.get("edu_type") if isinstance(edu, Mapping) else None
        if not isinstance(edu_type, str):
            log.info("EDU without a type dropped", extra=fields(origin=origin))
            return
        handler = self._handlers.get(edu_type)
        if handler is None:
            log.debug("EDU of unknown type ignored", extra=fields(origin=origin, type=edu_type))
            return
        content = edu.get("content")
        if not isinstance(content, dict):
            log.info("EDU without content dropped", extra=fields(origin=origin, type=edu_type))
            return
        try:
            await handler(origin, content)
        except BadEdu as exc:
            log.info(
                "EDU dropped", extra=fields(origin=origin, type=edu_type, reason=str(exc)[:300])
            )
        except Exception:
            log.exception("EDU handler failed", extra=fields(origin=origin, type=edu_type))
