"""Inbound transactions: ``PUT /_matrix/federation/v1/send/{txnId}``.

spec: server-server "Transactions" — a transaction carries up to 50 PDUs and 100 EDUs
from one origin; the answer maps each PDU's event id to ``{}`` or ``{"error": ...}``,
and a transaction id seen before from the same origin gets the same answer without
being processed twice. Rooms whose ACL bans the origin ignore its PDUs and EDUs (spec:
"Server Access Control Lists (ACLs)").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.protocol.canonical import JsonDict
from homeserver.storage import received_txns_store
from homeserver.storage.store import Store

from .inbound_pdus import PduHandler

log = logging.getLogger(__name__)

MAX_PDUS = 50
MAX_EDUS = 100

# ``(origin, edu)``: handles one EDU (typing, receipts, presence, device lists, ...).
EduHandler = Callable[[str, Mapping[str, Any]], Awaitable[None]]
# ``(origin, room_id)``: whether the room's server ACL lets ``origin`` in.
AclCheck = Callable[[str, str], Awaitable[bool]]


class TransactionHandler:
    def __init__(
        self,
        store: Store,
        pdus: PduHandler,
        clock: Clock,
        *,
        on_edu: EduHandler | None = None,
        acl_allows: AclCheck | None = None,
    ) -> None:
        self.store = store
        self.pdus = pdus
        self.clock = clock
        self.on_edu = on_edu
        self.acl_allows = acl_allows
        # A retry arriving while the first attempt runs waits for it.
        self._running: dict[tuple[str, str], asyncio.Future[JsonDict]] = {}

    async def on_send(self, origin: str, txn_id: str, body: object) -> JsonDict:
        if not isinstance(body, dict):
            raise MatrixError(400, "M_BAD_JSON", "a transaction is a JSON object")
        pdus = body.get("pdus", [])
        edus = body.get("edus", [])
        if not isinstance(pdus, list) or not isinstance(edus, list):
            raise MatrixError(400, "M_BAD_JSON", "`pdus` and `edus` must be lists")
        if len(pdus) > MAX_PDUS or len(edus) > MAX_EDUS:
            raise MatrixError(
                400, "M_BAD_JSON", f"at most {MAX_PDUS} PDUs and {MAX_EDUS} EDUs per transaction"
            )
        key = (origin, txn_id)
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        seen = await self.store.db.read(received_txns_store.seen_response, origin, txn_id)
        if seen is not None:
            return seen
        future: asyncio.Future[JsonDict] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            result = await self._process(origin, pdus, edus)
            await self.store.db.write(
                received_txns_store.remember, origin, txn_id, result, self.clock.time_ms()
            )
            future.set_result(result)
            return result
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            del self._running[key]

    async def _process(self, origin: str, pdus: list[Any], edus: list[Any]) -> JsonDict:
        allowed_pdus: list[dict[str, Any]] = []
        results: dict[str, Any] = {}
        for pdu in pdus:
            if not isinstance(pdu, dict):
                continue
            room_id = pdu.get("room_id")
            if isinstance(room_id, str) and not await self._acl(origin, room_id):
                log.info("PDU refused by server ACL", extra=fields(origin=origin, room_id=room_id))
                continue
            allowed_pdus.append(pdu)
        results.update(await self.pdus.on_pdus(origin, allowed_pdus))
        if self.on_edu is not None:
            for edu in edus:
                if not isinstance(edu, dict):
                    continue
                allowed = await self._acl_filtered(origin, edu)
                if allowed is None:
                    continue
                try:
                    await self.on_edu(origin, allowed)
                except Exception:  # one bad EDU must not cost the transaction
                    log.exception(
                        "EDU failed", extra=fields(origin=origin, edu=edu.get("edu_type"))
                    )
        return {"pdus": results}

    async def _acl_filtered(self, origin: str, edu: dict[str, Any]) -> dict[str, Any] | None:
        """spec: "Server Access Control Lists" — typing notifications and receipts for a
        room whose ACL bans the origin are ignored (the rest of the EDU is kept)."""
        content = edu.get("content")
        if not isinstance(content, dict) or self.acl_allows is None:
            return edu
        if edu.get("edu_type") == "m.typing":
            room_id = content.get("room_id")
            if isinstance(room_id, str) and not await self._acl(origin, room_id):
                return None
        elif edu.get("edu_type") == "m.receipt":
            kept = {r: v for r, v in content.items() if await self._acl(origin, r)}
            if len(kept) != len(content):
                return {**edu, "content": kept} if kept else None
        return edu

    async def _acl(self, origin: str, room_id: str) -> bool:
        return self.acl_allows is None or await self.acl_allows(origin, room_id)
