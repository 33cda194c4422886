"""Other servers' signing keys and their key documents (migration 0014).

The keyring (``federation.keyring``) keeps them in memory too; this is what survives a
restart and what our notary endpoint (``/_matrix/key/v2/query``) answers from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .database import Database, Txn


@dataclass(frozen=True, slots=True)
class StoredKey:
    server_name: str
    key_id: str
    verify_key: str  # unpadded base64
    valid_until_ts: int
    fetched_ts: int


@dataclass(frozen=True, slots=True)
class StoredKeyResponse:
    server_name: str
    valid_until_ts: int  # as the server published it
    fetched_ts: int
    response: str  # the self-signed key document, JSON


def store_keys(
    txn: Txn, keys: Iterable[StoredKey], response: StoredKeyResponse | None = None
) -> None:
    txn.executemany(
        "INSERT INTO server_signing_keys"
        " (server_name, key_id, verify_key, valid_until_ts, fetched_ts) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (server_name, key_id) DO UPDATE SET verify_key = excluded.verify_key,"
        " valid_until_ts = excluded.valid_until_ts, fetched_ts = excluded.fetched_ts",
        [(k.server_name, k.key_id, k.verify_key, k.valid_until_ts, k.fetched_ts) for k in keys],
    )
    if response is not None:
        # A document older than the one we hold (a notary's stale copy) does not replace it.
        txn.execute(
            "INSERT INTO server_key_responses"
            " (server_name, valid_until_ts, fetched_ts, response) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (server_name) DO UPDATE SET valid_until_ts = excluded.valid_until_ts,"
            " fetched_ts = excluded.fetched_ts, response = excluded.response"
            " WHERE excluded.valid_until_ts >= server_key_responses.valid_until_ts",
            (response.server_name, response.valid_until_ts, response.fetched_ts, response.response),
        )


def keys_of(txn: Txn, server_name: str) -> list[StoredKey]:
    rows = txn.fetchall(
        "SELECT key_id, verify_key, valid_until_ts, fetched_ts FROM server_signing_keys"
        " WHERE server_name = ?",
        (server_name,),
    )
    return [StoredKey(server_name, row[0], row[1], int(row[2]), int(row[3])) for row in rows]


def key_response(txn: Txn, server_name: str) -> StoredKeyResponse | None:
    row = txn.fetchone(
        "SELECT valid_until_ts, fetched_ts, response FROM server_key_responses"
        " WHERE server_name = ?",
        (server_name,),
    )
    if row is None:
        return None
    return StoredKeyResponse(server_name, int(row[0]), int(row[1]), str(row[2]))


class ServerKeysStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def store_keys(
        self, keys: Iterable[StoredKey], response: StoredKeyResponse | None = None
    ) -> None:
        await self.db.write(store_keys, list(keys), response)

    async def keys_of(self, server_name: str) -> list[StoredKey]:
        return await self.db.read(keys_of, server_name)

    async def key_response(self, server_name: str) -> StoredKeyResponse | None:
        return await self.db.read(key_response, server_name)
