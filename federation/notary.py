"""Our notary endpoints: other servers' keys, as we fetched them, signed by us too.

spec: server-server "Querying Keys Through Another Server" — ``GET
/_matrix/key/v2/query/{serverName}`` and ``POST /_matrix/key/v2/query`` answer the
servers' own self-signed key documents with our signature added. A cached document that
is not valid until ``minimum_valid_until_ts`` (default: now) is fetched again; a server
that cannot be reached is answered from the cache when we have one, and left out when not.
These endpoints need no authentication.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from homeserver.api.responses import json_response
from homeserver.clock import Clock
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.protocol.canonical import JsonDict
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_server_name
from homeserver.protocol.signing import SigningKey, sign_json
from homeserver.storage.server_keys_store import ServerKeysStore

from .keyring import Keyring
from .keys_server import KeyServer

MAX_SERVERS_PER_QUERY = 100


class Notary:
    def __init__(
        self,
        signing_key: SigningKey,
        key_server: KeyServer,
        keyring: Keyring,
        store: ServerKeysStore,
        clock: Clock,
    ) -> None:
        self.signing_key = signing_key
        self.key_server = key_server
        self.keyring = keyring
        self.store = store
        self.clock = clock

    async def document(
        self, server_name: str, minimum_valid_until_ts: int | None
    ) -> JsonDict | None:
        """``server_name``'s key document signed by us too, or None when we have none."""
        if server_name == self.signing_key.server_name:
            return self.key_server.response()
        minimum = self.clock.time_ms() if minimum_valid_until_ts is None else minimum_valid_until_ts
        stored = await self.store.key_response(server_name)
        if stored is None or stored.valid_until_ts < minimum:
            await self.keyring.refresh(server_name)
            stored = await self.store.key_response(server_name)
        if stored is None:
            return None
        return sign_json(orjson.loads(stored.response), self.signing_key, strict=False)

    async def query(self, wanted: dict[str, int | None]) -> list[JsonDict]:
        found = await asyncio.gather(*(self.document(s, ts) for s, ts in wanted.items()))
        return [document for document in found if document is not None]


NOTARY_KEY = web.AppKey("notary", Notary)


def _server_name(value: object) -> str:
    if not isinstance(value, str):
        raise MatrixError(400, "M_INVALID_PARAM", "server names must be strings")
    try:
        parse_server_name(value)
    except InvalidIdentifier as exc:
        raise MatrixError(400, "M_INVALID_PARAM", f"not a server name: {exc}") from None
    return value


def _timestamp(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MatrixError(400, "M_INVALID_PARAM", f"`{what}` must be an integer")
    return value


async def query_one(request: web.Request) -> web.Response:
    server_name = _server_name(request.match_info["serverName"])
    raw = request.query.get("minimum_valid_until_ts")
    if raw is not None and not raw.lstrip("-").isdigit():
        raise MatrixError(400, "M_INVALID_PARAM", "`minimum_valid_until_ts` must be an integer")
    minimum = None if raw is None else int(raw)
    keys = await request.app[NOTARY_KEY].query({server_name: minimum})
    return json_response({"server_keys": keys})


async def query_many(request: web.Request) -> web.Response:
    body: Any = await request.json()
    server_keys = body.get("server_keys") if isinstance(body, dict) else None
    if not isinstance(server_keys, dict):
        raise MatrixError(400, "M_BAD_JSON", "`server_keys` must be an object")
    if len(server_keys) > MAX_SERVERS_PER_QUERY:
        raise MatrixError(400, "M_INVALID_PARAM", f"at most {MAX_SERVERS_PER_QUERY} servers")
    wanted: dict[str, int | None] = {}
    for name, criteria in server_keys.items():
        server_name = _server_name(name)
        if not isinstance(criteria, dict):
            raise MatrixError(400, "M_BAD_JSON", f"`server_keys.{name}` must be an object")
        minimum: int | None = None
        for key_id, criterion in criteria.items():
            if not isinstance(criterion, dict):
                raise MatrixError(
                    400, "M_BAD_JSON", f"`server_keys.{name}.{key_id}` must be an object"
                )
            ts = _timestamp(criterion.get("minimum_valid_until_ts"), "minimum_valid_until_ts")
            if ts is not None:
                minimum = ts if minimum is None else max(minimum, ts)
        wanted[server_name] = minimum
    keys = await request.app[NOTARY_KEY].query(wanted)
    return json_response({"server_keys": keys})


def setup(app: web.Application, notary: Notary) -> None:
    app[NOTARY_KEY] = notary
    app.add_routes(
        [
            web.get("/_matrix/key/v2/query/{serverName}", query_one),
            web.post("/_matrix/key/v2/query", query_many),
        ]
    )
