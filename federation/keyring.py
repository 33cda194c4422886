"""Other servers' signing keys: fetched, cached, and used to verify what they signed.

spec: server-server "Retrieving server keys" — a server's keys come from its own
``/_matrix/key/v2/server`` (self-signed, for the server name we asked) or, when that
fails, from the notaries in ``federation.trusted_key_servers`` (``/_matrix/key/v2/query``,
each answer also signed by the notary with a key from our config). Keys are kept in memory
and in the database (``server_keys_store``) with their validity: ``valid_until_ts`` capped
at 7 days after the fetch, ``expired_ts`` for old keys (rooms v5 "Signing key validity
period"). Our own key needs no request. Concurrent fetches for one server share one
request; a server fetched in the last minute is not asked again (a flood of requests
signed with made-up key ids costs one fetch per minute per server).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import orjson

from homeserver.clock import Clock
from homeserver.config import TrustedKeyServer
from homeserver.lru import LruCache
from homeserver.protocol.canonical import unpadded_base64
from homeserver.protocol.errors import InvalidEvent, SignatureError
from homeserver.protocol.events import Event
from homeserver.protocol.signing import (
    ED25519,
    SigningKey,
    VerifyKeyInfo,
    parse_server_keys_response,
    required_signers,
    verify_event_signatures,
    verify_json,
)
from homeserver.storage.server_keys_store import ServerKeysStore, StoredKey, StoredKeyResponse

from .client import FederationClient, FederationRequestError

log = logging.getLogger(__name__)

REFETCH_INTERVAL_S = 60.0
FETCH_TIMEOUT_S = 15.0
CACHED_SERVERS = 10_000

KeyMap = dict[str, VerifyKeyInfo]  # key id -> key


def _usable(
    known: Mapping[str, VerifyKeyInfo], key_ids: Iterable[str], at_ts: int | None
) -> KeyMap:
    """The keys among ``key_ids`` we know that are valid at ``at_ts`` (None: any)."""
    found: KeyMap = {}
    for key_id in key_ids:
        info = known.get(key_id)
        if info is None:
            continue
        if at_ts is not None and info.valid_until_ts is not None and info.valid_until_ts < at_ts:
            continue
        found[key_id] = info
    return found


def _signing_key_ids(obj: Mapping[str, Any], server_name: str) -> list[str]:
    signatures = obj.get("signatures")
    by_server = signatures.get(server_name) if isinstance(signatures, Mapping) else None
    if not isinstance(by_server, Mapping):
        return []
    return [k for k in by_server if isinstance(k, str) and k.startswith(ED25519 + ":")]


class Keyring:
    def __init__(
        self,
        signing_key: SigningKey,
        store: ServerKeysStore,
        client: FederationClient,
        clock: Clock,
        notaries: Sequence[TrustedKeyServer] = (),
    ) -> None:
        self.server_name = signing_key.server_name
        self.store = store
        self.client = client
        self.clock = clock
        self.notaries = tuple(notaries)
        self._own: KeyMap = {signing_key.key_id: VerifyKeyInfo(signing_key.verify_key, None)}
        self._cache: LruCache[str, KeyMap] = LruCache(CACHED_SERVERS)
        self._last_fetch: LruCache[str, float] = LruCache(CACHED_SERVERS)
        self._inflight: dict[str, asyncio.Task[None]] = {}

    # -- verification --------------------------------------------------------------------

    async def verify_json(
        self, server_name: str, obj: Mapping[str, Any], *, at_ts: int | None = None
    ) -> None:
        """Check ``server_name``'s signatures on ``obj`` with keys valid at ``at_ts``
        (default: now). Every signature by a key we know must verify, and there must be
        one. Raises ``SignatureError``."""
        at = self.clock.time_ms() if at_ts is None else at_ts
        key_ids = _signing_key_ids(obj, server_name)
        if not key_ids:
            raise SignatureError(f"not signed by {server_name} with an ed25519 key")
        keys = await self.keys_for(server_name, key_ids, at)
        if not keys:
            raise SignatureError(
                f"no key of {server_name} valid at {at} is known for {', '.join(key_ids)}"
            )
        for key_id, info in keys.items():
            verify_json(obj, server_name, key_id, info)

    async def verify_event(self, event: Event) -> None:
        """Check the signatures of every server that must have signed ``event``
        (``required_signers``), from room version 5 with keys valid at its
        ``origin_server_ts``. Raises ``SignatureError``."""
        errors = await self.verify_events([event])
        if errors:
            raise errors[event.event_id]

    async def verify_events(self, events: Sequence[Event]) -> dict[str, SignatureError]:
        """Verify many events, fetching each missing server's keys once; returns the
        failures by event id."""
        errors: dict[str, SignatureError] = {}
        needs: list[tuple[Event, list[tuple[str, list[str], int | None]]]] = []
        missing: dict[str, set[str]] = {}
        for event in events:
            try:
                signers = required_signers(event)
            except InvalidEvent as exc:
                errors[event.event_id] = SignatureError(str(exc))
                continue
            at_ts = event.origin_server_ts if event.room_version.enforce_key_validity else None
            wanted = [(s, _signing_key_ids(event.pdu, s), at_ts) for s in sorted(signers)]
            needs.append((event, wanted))
            for server, key_ids, at in wanted:
                known = await self._known(server)
                if key_ids and not _usable(known, key_ids, at):
                    missing.setdefault(server, set()).update(key_ids)
        if missing:
            await asyncio.gather(*(self._refresh(s, ids) for s, ids in missing.items()))
        for event, wanted in needs:
            keys: dict[tuple[str, str], VerifyKeyInfo] = {}
            for server, key_ids, at in wanted:
                usable = _usable(await self._known(server), key_ids, at)
                keys.update(((server, key_id), info) for key_id, info in usable.items())
            try:
                verify_event_signatures(event, keys)
            except SignatureError as exc:
                errors[event.event_id] = exc
            except InvalidEvent as exc:
                errors[event.event_id] = SignatureError(str(exc))
        return errors

    # -- keys ------------------------------------------------------------------------------

    async def keys_for(
        self, server_name: str, key_ids: Collection[str], at_ts: int | None
    ) -> KeyMap:
        """The keys among ``key_ids`` of ``server_name`` valid at ``at_ts`` (None: at
        any time), fetching the server's keys when none of them is known."""
        usable = _usable(await self._known(server_name), key_ids, at_ts)
        if usable or server_name == self.server_name:
            return usable
        await self._refresh(server_name, key_ids)
        return _usable(await self._known(server_name), key_ids, at_ts)

    async def refresh(self, server_name: str) -> None:
        """Fetch ``server_name``'s keys now unless that was tried in the last minute
        (our notary endpoint, for a document that has expired)."""
        if server_name != self.server_name:
            await self._refresh(server_name, ())

    async def _known(self, server_name: str) -> KeyMap:
        if server_name == self.server_name:
            return self._own
        known = self._cache.get(server_name)
        if known is None:
            stored = await self.store.keys_of(server_name)
            known = {k.key_id: VerifyKeyInfo.decode(k.verify_key, k.valid_until_ts) for k in stored}
            self._cache.set(server_name, known)
        return known

    async def _refresh(self, server_name: str, key_ids: Collection[str]) -> None:
        task = self._inflight.get(server_name)
        if task is None:
            last = self._last_fetch.get(server_name)
            if last is not None and self.clock.monotonic() - last < REFETCH_INTERVAL_S:
                return
            self._last_fetch.set(server_name, self.clock.monotonic())
            task = asyncio.get_running_loop().create_task(self._fetch(server_name, set(key_ids)))
            self._inflight[server_name] = task
            task.add_done_callback(lambda _: self._inflight.pop(server_name, None))
        await asyncio.shield(task)

    async def _fetch(self, server_name: str, key_ids: set[str]) -> None:
        """From the server itself; from the notaries when that fails or lacks a key."""
        found = await self._fetch_from_origin(server_name)
        if self.notaries and (found is None or not key_ids <= found):
            for notary in self.notaries:
                got = await self._fetch_from_notary(notary, server_name)
                if got and key_ids <= got | (found or set()):
                    break

    async def _fetch_from_origin(self, server_name: str) -> set[str] | None:
        try:
            body = await self.client.get_json(
                server_name, "/_matrix/key/v2/server", timeout=FETCH_TIMEOUT_S
            )
            return await self._accept(server_name, body)
        except (FederationRequestError, SignatureError) as exc:
            log.info("keys of %s: %s", server_name, exc)
            return None

    async def _fetch_from_notary(self, notary: TrustedKeyServer, server_name: str) -> set[str]:
        try:
            answer = await self.client.post_json(
                notary.server_name,
                "/_matrix/key/v2/query",
                {"server_keys": {server_name: {}}},
                timeout=FETCH_TIMEOUT_S,
            )
        except FederationRequestError as exc:
            log.info("keys of %s from notary %s: %s", server_name, notary.server_name, exc)
            return set()
        documents = answer.get("server_keys") if isinstance(answer, dict) else None
        if not isinstance(documents, list):
            log.info("keys of %s from notary %s: no server_keys", server_name, notary.server_name)
            return set()
        got: set[str] = set()
        for document in documents:
            if not isinstance(document, dict) or document.get("server_name") != server_name:
                continue
            try:
                self._check_notary_signature(notary, document)
                got |= await self._accept(server_name, document)
            except SignatureError as exc:
                log.info("keys of %s from notary %s: %s", server_name, notary.server_name, exc)
        return got

    @staticmethod
    def _check_notary_signature(notary: TrustedKeyServer, document: Mapping[str, Any]) -> None:
        signed_with = set(_signing_key_ids(document, notary.server_name))
        usable = [key_id for key_id in notary.verify_keys if key_id in signed_with]
        if not usable:
            raise SignatureError(f"not signed by the notary {notary.server_name}")
        for key_id in usable:
            verify_json(document, notary.server_name, key_id, notary.verify_keys[key_id])

    async def _accept(self, server_name: str, document: Any) -> set[str]:
        """Check a key document (self-signed, for ``server_name``); keep its keys."""
        if not isinstance(document, dict):
            raise SignatureError("a key document must be a JSON object")
        now = self.clock.time_ms()
        keys = parse_server_keys_response(document, server_name, now_ms=now)
        stored = [
            StoredKey(
                server_name,
                key_id,
                unpadded_base64(bytes(info.key)),
                info.valid_until_ts if info.valid_until_ts is not None else now,
                now,
            )
            for (_, key_id), info in keys.items()
        ]
        response = StoredKeyResponse(
            server_name,
            int(document["valid_until_ts"]),
            now,
            orjson.dumps(document).decode(),
        )
        await self.store.store_keys(stored, response)
        known = dict(await self._known(server_name))
        known.update((key_id, info) for (_, key_id), info in keys.items())
        self._cache.set(server_name, known)
        return {key_id for _, key_id in keys}
