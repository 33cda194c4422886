"""PDUs sent to other servers carry no local ``unsigned`` data (spec: PDU ``unsigned``)."""

from __future__ import annotations

from homeserver.protocol.federation_pdu import pdu_for_federation

PDU = {
    "type": "m.room.message",
    "origin_server_ts": 1000,
    "content": {"body": "x"},
    "hashes": {"sha256": "h"},
    "signatures": {"hs": {"ed25519:a": "s"}},
    "unsigned": {"transaction_id": "t1", "m.relations": {}, "age": 3, "prev_content": {}},
}


def test_local_unsigned_is_dropped_and_age_is_fresh() -> None:
    out = pdu_for_federation(PDU, now_ms=1500)
    assert out["unsigned"] == {"age": 500}
    assert {k: v for k, v in out.items() if k != "unsigned"} == {
        k: v for k, v in PDU.items() if k != "unsigned"
    }
    assert PDU["unsigned"]["transaction_id"] == "t1"  # the input is left alone


def test_without_a_clock_there_is_no_unsigned() -> None:
    assert "unsigned" not in pdu_for_federation(PDU)
    assert pdu_for_federation({**PDU, "origin_server_ts": 9999}, now_ms=1)["unsigned"] == {"age": 0}
