"""Inbound federation transactions already answered, per origin (spec: server-server
"Transactions": a retried transaction id gets the first answer again)."""

from __future__ import annotations

from typing import Any

import orjson

from .database import Txn


def seen_response(txn: Txn, origin: str, txn_id: str) -> dict[str, Any] | None:
    text = txn.fetchval(
        "SELECT response FROM received_transactions WHERE origin = ? AND txn_id = ?",
        (origin, txn_id),
    )
    if text is None:
        return None
    value = orjson.loads(text)
    return value if isinstance(value, dict) else None


def remember(txn: Txn, origin: str, txn_id: str, response: dict[str, Any], ts: int) -> None:
    txn.execute(
        "INSERT INTO received_transactions (origin, txn_id, response, received_ts)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (origin, txn_id) DO NOTHING",
        (origin, txn_id, orjson.dumps(response).decode("utf-8"), ts),
    )
