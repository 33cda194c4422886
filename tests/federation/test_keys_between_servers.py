"""Keys between real servers: events verified with keys fetched over TLS, and the notary
endpoints (spec: server-server "Querying Keys Through Another Server")."""

from __future__ import annotations

from typing import Any

import pytest

from federation.client import FederationClient, fed_path
from federation.discovery import Discovery
from federation.keyring import Keyring
from homeserver.config import FederationConfig, TrustedKeyServer
from homeserver.http.client import HttpClient
from homeserver.protocol.builder import build_event
from homeserver.protocol.errors import SignatureError
from homeserver.protocol.room_versions import room_version
from homeserver.protocol.signing import SigningKey, verify_json

from ..support.federation import FederatedServer, StartFederation


def event_by(server: FederatedServer, ts: int, version: str = "10") -> Any:
    return build_event(
        version=room_version(version),
        room_id=f"!room:{server.name}",
        sender=f"@alice:{server.name}",
        event_type="m.room.message",
        content={"body": "hello", "msgtype": "m.text"},
        prev_events=["$prev"],
        auth_events=[],
        depth=3,
        origin_server_ts=ts,
        key=server.signing_key,
    )


async def test_events_are_verified_with_keys_fetched_from_their_origin(
    federation: StartFederation,
) -> None:
    a, b = await federation(2)
    event = event_by(a, a.clock.now_ms)
    await b.keyring.verify_event(event)
    forged = event_by(a, a.clock.now_ms)
    forged.pdu["depth"] = 4  # changed after signing
    errors = await b.keyring.verify_events([event, forged])
    assert list(errors) == [forged.event_id]
    assert isinstance(errors[forged.event_id], SignatureError)


async def test_the_notary_serves_keys_signed_by_both(federation: StartFederation) -> None:
    a, notary = await federation(2)
    got = await a.fed_client.get_json(
        notary.name, fed_path("/_matrix/key/v2/query/{}", a.name)
    )  # the notary fetches A's keys from A, then signs them
    (document,) = got["server_keys"]
    assert document["server_name"] == a.name
    verify_json(document, a.name, a.signing_key.key_id, a.signing_key.verify_key_base64)
    verify_json(
        document, notary.name, notary.signing_key.key_id, notary.signing_key.verify_key_base64
    )
    both = await a.fed_client.post_json(
        notary.name,
        "/_matrix/key/v2/query",
        {
            "server_keys": {
                a.name: {a.signing_key.key_id: {"minimum_valid_until_ts": 0}},
                notary.name: {},
                "localhost:1": {},  # unreachable, never cached: left out
            }
        },
    )
    assert sorted(d["server_name"] for d in both["server_keys"]) == sorted([a.name, notary.name])


async def test_a_keyring_falls_back_to_a_trusted_notary(federation: StartFederation) -> None:
    a, b, notary = await federation(3)
    await notary.keyring.refresh(a.name)  # the notary has learnt A's keys
    # B cannot reach A (its address points nowhere) but trusts the notary.
    overrides = {**b.config.federation.server_overrides, a.name: ("127.0.0.1", 1)}
    config = FederationConfig(verify_certificates=False, server_overrides=overrides)
    http = HttpClient(verify_tls=False, allow_address=lambda ip: ip.is_loopback)
    client = FederationClient(
        b.signing_key, http, Discovery(http, b.clock, overrides=overrides), config
    )
    notary_key = {notary.signing_key.key_id: notary.signing_key.verify_key_base64}
    try:
        keyring = Keyring(
            b.signing_key,
            _EmptyStore(),  # type: ignore[arg-type]
            client,
            b.clock,
            [TrustedKeyServer(notary.name, notary_key)],
        )
        await keyring.verify_event(event_by(a, a.clock.now_ms))
        # Answers not signed with the key we trust the notary with are not believed.
        other_key = {"ed25519:other": SigningKey.generate("x").verify_key_base64}
        doubtful = Keyring(
            b.signing_key,
            _EmptyStore(),  # type: ignore[arg-type]
            client,
            b.clock,
            [TrustedKeyServer(notary.name, other_key)],
        )
        with pytest.raises(SignatureError):
            await doubtful.verify_event(event_by(a, a.clock.now_ms))
    finally:
        await http.close()


class _EmptyStore:
    """A key store that keeps nothing (each keyring starts from scratch)."""

    async def store_keys(self, keys: Any, response: Any = None) -> None:
        return None

    async def keys_of(self, server_name: str) -> list[Any]:
        return []

    async def key_response(self, server_name: str) -> None:
        return None
