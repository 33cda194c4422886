"""PDUs as this server sends them to other servers.

spec: server-server "PDUs" — a PDU is the event as its origin signed it; ``unsigned``
is "additional data added by the origin server but not covered by the signatures",
and the federation format defines only ``age`` in it. What we keep in ``unsigned``
for our own clients (transaction ids, relations, previous content) is not sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .canonical import JsonDict


def pdu_for_federation(pdu: Mapping[str, Any], now_ms: int | None = None) -> JsonDict:
    """``pdu`` (as stored: redacted events in their redacted form) without local
    ``unsigned`` data; with ``now_ms``, ``unsigned.age`` says how old the event is."""
    out: JsonDict = {key: value for key, value in pdu.items() if key != "unsigned"}
    sent = pdu.get("origin_server_ts")
    if now_ms is not None and isinstance(sent, int) and not isinstance(sent, bool):
        out["unsigned"] = {"age": max(0, now_ms - sent)}
    return out
