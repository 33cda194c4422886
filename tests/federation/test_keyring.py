"""The keyring: fetching, checking, caching and using other servers' keys.

The remote servers here are a small fake of ``FederationClient`` serving key documents
(the edge of the machine), so that each rule can be driven exactly; the storage is real
(both engines). test_keys_between_servers.py does the same over real servers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from federation.client import FederationRequestError
from federation.keyring import REFETCH_INTERVAL_S, Keyring
from homeserver.config import TrustedKeyServer
from homeserver.protocol.builder import build_event
from homeserver.protocol.errors import SignatureError
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import room_version
from homeserver.protocol.signing import (
    MAX_KEY_VALIDITY_MS,
    OldVerifyKey,
    SigningKey,
    make_server_keys_response,
    sign_json,
)
from homeserver.storage.database import Database
from homeserver.storage.server_keys_store import ServerKeysStore

from ..conftest import FakeClock

DAY = 24 * 3600 * 1000
US = SigningKey.from_seed("us.example", "us", b"\x01" * 32)
REMOTE = SigningKey.from_seed("remote.example", "new", b"\x02" * 32)
REMOTE_OLD = SigningKey.from_seed("remote.example", "old", b"\x03" * 32)
NOTARY = SigningKey.from_seed("notary.example", "n1", b"\x04" * 32)


class FakePeers:
    """What the network answers: key documents by server, notary answers, failures."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.notary_answers: dict[str, Any] = {}
        self.calls: list[tuple[str, str, str]] = []
        self.delay = 0.0

    async def get_json(self, destination: str, path: str, query: Any = None, **_: Any) -> Any:
        self.calls.append(("GET", destination, path))
        await asyncio.sleep(self.delay)
        if destination not in self.documents:
            raise FederationRequestError(None, None, f"cannot connect to {destination}")
        return self.documents[destination]

    async def post_json(
        self, destination: str, path: str, body: Any, query: Any = None, **_: Any
    ) -> Any:
        self.calls.append(("POST", destination, path))
        if destination not in self.notary_answers:
            raise FederationRequestError(502, "M_UNKNOWN", "notary down")
        return self.notary_answers[destination]

    def fetches(self, destination: str) -> int:
        return sum(1 for _, d, _ in self.calls if d == destination)


@pytest.fixture
def peers() -> FakePeers:
    return FakePeers()


def make_keyring(
    database: Database,
    peers: FakePeers,
    clock: FakeClock,
    notaries: tuple[TrustedKeyServer, ...] = (),
) -> Keyring:
    return Keyring(US, ServerKeysStore(database), peers, clock, notaries)  # type: ignore[arg-type]


def remote_document(
    clock: FakeClock, *, valid_for: int = DAY, old_expired: int | None = None
) -> Any:
    old = (
        []
        if old_expired is None
        else [OldVerifyKey(REMOTE_OLD.key_id, REMOTE_OLD.verify_key_base64, old_expired)]
    )
    return make_server_keys_response(REMOTE, old, valid_until_ts=clock.now_ms + valid_for)


def signed_event(
    key: SigningKey, version: str, ts: int, sender: str = "@bob:remote.example"
) -> Event:
    return build_event(
        version=room_version(version),
        room_id="!room:remote.example",
        sender=sender,
        event_type="m.room.message",
        content={"body": "hi", "msgtype": "m.text"},
        prev_events=["$prev"] if version != "1" else [],
        auth_events=[],
        depth=5,
        origin_server_ts=ts,
        key=key,
        event_id_localpart="abc",
    )


async def test_keys_come_from_the_origin_and_are_kept(
    database: Database, peers: FakePeers, clock: FakeClock
) -> None:
    peers.documents["remote.example"] = remote_document(clock)
    keyring = make_keyring(database, peers, clock)
    await keyring.verify_json("remote.example", sign_json({"a": 1}, REMOTE))
    await keyring.verify_json("remote.example", sign_json({"a": 2}, REMOTE))
    assert peers.fetches("remote.example") == 1
    # A new keyring (a restart) finds them in the database.
    again = make_keyring(database, peers, clock)
    await again.verify_json("remote.example", sign_json({"a": 3}, REMOTE))
    assert peers.fetches("remote.example") == 1
    with pytest.raises(SignatureError):
        await again.verify_json("remote.example", {**sign_json({"a": 3}, REMOTE), "a": 4})


async def test_our_own_key_needs_no_request(
    database: Database, peers: FakePeers, clock: FakeClock
) -> None:
    keyring = make_keyring(database, peers, clock)
    await keyring.verify_json("us.example", sign_json({"x": 1}, US))
    await keyring.verify_event(signed_event(US, "10", clock.now_ms, "@a:us.example"))
    assert peers.calls == []


async def test_a_document_must_be_self_signed_and_for_the_server_asked(
    database: Database, peers: FakePeers, clock: FakeClock
) -> None:
    impostor = SigningKey.from_seed("remote.example", "new", b"\x09" * 32)
    doc = make_server_keys_response(REMOTE, valid_until_ts=clock.now_ms + DAY)
    doc["verify_keys"][REMOTE.key_id]["key"] = impostor.verify_key_base64  # not self-signed now
    peers.documents["remote.example"] = doc
    peers.documents["other.example"] = make_server_keys_response(
        SigningKey.from_seed("evil.example", "e", b"\x05" * 32), valid_until_ts=clock.now_ms + DAY
    )
    keyring = make_keyring(database, peers, clock)
    with pytest.raises(SignatureError, match=r"no key of remote\.example"):
        await keyring.verify_json("remote.example", sign_json({"a": 1}, impostor))
    with pytest.raises(SignatureError):
        await keyring.verify_json(
            "other.example", {"signatures": {"other.example": {"ed25519:e": "x"}}}
        )
    assert await ServerKeysStore(database).keys_of("remote.example") == []


async def test_validity_is_capped_at_seven_days_and_enforced_from_v5(
    database: Database, peers: FakePeers, clock: FakeClock
) -> None:
    peers.documents["remote.example"] = remote_document(clock, valid_for=365 * DAY)
    keyring = make_keyring(database, peers, clock)
    await keyring.verify_json("remote.example", sign_json({"a": 1}, REMOTE))
    (stored,) = await ServerKeysStore(database).keys_of("remote.example")
    assert stored.valid_until_ts == clock.now_ms + MAX_KEY_VALIDITY_MS
    later = clock.now_ms + 8 * DAY
    with pytest.raises(SignatureError):  # v10: the key is not known valid that late
        await keyring.verify_event(signed_event(REMOTE, "10", later))
    await keyring.verify_event(signed_event(REMOTE, "4", later))  # v4: no validity rule
    await keyring.verify_event(signed_event(REMOTE, "10", clock.now_ms + DAY))
    # Requests are checked against now: once the cache runs out, a fresh fetch renews it.
    clock.advance(8 * DAY)
    await keyring.verify_json("remote.example", sign_json({"a": 1}, REMOTE))
    assert peers.fetches("remote.example") == 2


async def test_old_verify_keys_sign_events_before_they_expired(
    database: Database, peers: FakePeers, clock: FakeClock
) -> None:
    expired = clock.now_ms - DAY
    peers.documents["remote.example"] = remote_document(clock, old_expired=expired)
    keyring = make_keyring(database, peers, clock)
    await keyring.verify_event(signed_event(REMOTE_OLD, "10", expired - DAY))
    with pytest.raises(SignatureError):
        await keyring.verify_event(signed_event(REMOTE_OLD, "10", expired + 1))
    with pytest.raises(SignatureError):  # never valid for a request now
        await keyring.verify_json("remote.example", sign_json({"a": 1}, REMOTE_OLD))


async def test_concurrent_fetches_share_one_request(
    database: Database, peers: FakePeers, clock: FakeClock
) -> None:
    peers.documents["remote.example"] = remote_document(clock)
    peers.delay = 0.05
    keyring = make_keyring(database, peers, clock)
    await asyncio.gather(
        *(keyring.verify_json("remote.example", sign_json({"n": n}, REMOTE)) for n in range(10))
    )
    assert peers.fetches("remote.example") == 1


async def test_failures_are_not_retried_within_a_minute(
    database: Database, peers: FakePeers, clock: FakeClock
) -> None:
    keyring = make_keyring(database, peers, clock)
    for _ in range(3):
        with pytest.raises(SignatureError):
            await keyring.verify_json("remote.example", sign_json({"a": 1}, REMOTE))
    assert peers.fetches("remote.example") == 1
    peers.documents["remote.example"] = remote_document(clock)
    clock.advance(int(REFETCH_INTERVAL_S * 1000) + 1)
    await keyring.verify_json("remote.example", sign_json({"a": 1}, REMOTE))
    assert peers.fetches("remote.example") == 2


async def test_notaries_answer_when_the_origin_cannot(
    database: Database, peers: FakePeers, clock: FakeClock
) -> None:
    notary = TrustedKeyServer("notary.example", {NOTARY.key_id: NOTARY.verify_key_base64})
    unsigned_by_notary = remote_document(clock)
    peers.notary_answers["notary.example"] = {"server_keys": [unsigned_by_notary]}
    keyring = make_keyring(database, peers, clock, (notary,))
    with pytest.raises(SignatureError):
        await keyring.verify_json("remote.example", sign_json({"a": 1}, REMOTE))

    peers.notary_answers["notary.example"] = {
        "server_keys": [sign_json(unsigned_by_notary, NOTARY)]
    }
    clock.advance(int(REFETCH_INTERVAL_S * 1000) + 1)
    await keyring.verify_json("remote.example", sign_json({"a": 1}, REMOTE))
    assert ("POST", "notary.example", "/_matrix/key/v2/query") in peers.calls
    # The document stored is the server's own (our notary endpoint serves it on).
    stored = await ServerKeysStore(database).key_response("remote.example")
    assert stored is not None and '"server_name":"remote.example"' in stored.response


async def test_verify_events_batches_and_reports_each_failure(
    database: Database, peers: FakePeers, clock: FakeClock
) -> None:
    peers.documents["remote.example"] = remote_document(clock)
    keyring = make_keyring(database, peers, clock)
    good = [signed_event(REMOTE, "10", clock.now_ms + i) for i in range(5)]
    forged = signed_event(
        SigningKey.from_seed("remote.example", "new", b"\x08" * 32), "10", clock.now_ms
    )
    unknown_server = signed_event(REMOTE, "10", clock.now_ms, "@x:gone.example")
    errors = await keyring.verify_events([*good, forged, unknown_server])
    assert set(errors) == {forged.event_id, unknown_server.event_id}
    assert peers.fetches("remote.example") == 1
    assert peers.fetches("gone.example") == 0  # it did not sign: nothing to fetch
