"""Other servers' keys and key documents (migration 0014), on both engines."""

from __future__ import annotations

from homeserver.storage.database import Database
from homeserver.storage.server_keys_store import ServerKeysStore, StoredKey, StoredKeyResponse


async def test_keys_are_upserted_per_server_and_key_id(database: Database) -> None:
    store = ServerKeysStore(database)
    assert await store.keys_of("a.example") == []
    await store.store_keys(
        [
            StoredKey("a.example", "ed25519:1", "AAAA", 100, 10),
            StoredKey("b.example", "ed25519:1", "BBBB", 5, 1),
        ]
    )
    await store.store_keys([StoredKey("a.example", "ed25519:1", "AAAA", 200, 20)])
    await store.store_keys([StoredKey("a.example", "ed25519:2", "CCCC", 300, 30)])
    got = sorted(await store.keys_of("a.example"), key=lambda k: k.key_id)
    assert got == [
        StoredKey("a.example", "ed25519:1", "AAAA", 200, 20),
        StoredKey("a.example", "ed25519:2", "CCCC", 300, 30),
    ]


async def test_an_older_document_does_not_replace_a_newer_one(database: Database) -> None:
    store = ServerKeysStore(database)
    assert await store.key_response("a.example") is None
    await store.store_keys([], StoredKeyResponse("a.example", 500, 1, '{"v": 1}'))
    await store.store_keys([], StoredKeyResponse("a.example", 400, 2, '{"v": 0}'))
    assert await store.key_response("a.example") == StoredKeyResponse(
        "a.example", 500, 1, '{"v": 1}'
    )
    await store.store_keys([], StoredKeyResponse("a.example", 600, 3, '{"v": 2}'))
    assert await store.key_response("a.example") == StoredKeyResponse(
        "a.example", 600, 3, '{"v": 2}'
    )
