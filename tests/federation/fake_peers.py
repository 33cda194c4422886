"""Concord apps that answer each other's federation requests in one process, without
TLS or discovery, on any database engine.

The ``RemoteCaller`` of each app sends X-Matrix signed requests over plain HTTP to the
peer app's federation routes (each app knows the others' verify keys beforehand, so
no key fetch is needed); the servers' own inbound authentication checks them. EDUs
queued with the ``EduSender`` are held until the test delivers them, so tests can drop
or reorder them. ``tests.support.federation`` is the real thing over TLS (SQLite).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from yarl import URL

from federation import queries_setup
from federation.client import encode_query
from homeserver.appkeys import STORE_KEY
from homeserver.http import web
from homeserver.protocol.signing import SigningKey
from homeserver.protocol.x_matrix import sign_request
from homeserver.remote import RemoteError
from homeserver.storage.server_keys_store import StoredKey

from ..support.http_client import TestClient

JsonDict = dict[str, Any]


@dataclass
class Network:
    """Peers by server name; a name missing here is a server that cannot be reached."""

    peers: dict[str, TestClient] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (origin, dest, path)
    edus: list[tuple[str, str, str, JsonDict]] = field(default_factory=list)
    registries: dict[str, EduRegistry] = field(default_factory=dict)

    async def deliver(self, *, only: Callable[[str, str, JsonDict], bool] | None = None) -> int:
        """Hand the queued EDUs to their destinations, in order; returns how many.
        ``only(destination, edu_type, content)`` false: the EDU is lost."""
        queued, self.edus = self.edus, []
        count = 0
        for origin, destination, edu_type, content in queued:
            if only is not None and not only(destination, edu_type, content):
                continue
            registry = self.registries.get(destination)
            if registry is not None:
                await registry.handle(origin, {"edu_type": edu_type, "content": content})
                count += 1
        return count


async def signed(
    network: Network,
    key: SigningKey,
    method: str,
    destination: str,
    path: str,
    query: Mapping[str, Any] | None = None,
    body: Any = None,
) -> tuple[int, Any]:
    """One X-Matrix signed request from ``key``'s server: ``(status, JSON body)``."""
    network.requests.append((key.server_name, destination, path))
    peer = network.peers.get(destination)
    if peer is None:
        raise RemoteError(None, None, f"cannot connect to {destination}")
    uri = path + encode_query(query)
    auth = sign_request(key, method, uri, destination, body)
    resp = await peer.request(
        method, URL(uri, encoded=True), json=body, headers={"Authorization": auth}
    )
    return resp.status, await resp.json()


class Caller:
    """``homeserver.remote.RemoteCaller`` over ``signed``."""

    def __init__(self, network: Network, key: SigningKey) -> None:
        self.network = network
        self.key = key

    async def _request(
        self, method: str, destination: str, path: str, query: Mapping[str, Any] | None, body: Any
    ) -> Any:
        status, answer = await signed(
            self.network, self.key, method, destination, path, query, body
        )
        if status != 200:
            raise RemoteError(status, answer.get("errcode"), answer.get("error", ""))
        return answer

    async def get_json(
        self,
        destination: str,
        path: str,
        query: Mapping[str, Any] | None = None,
        *,
        timeout: float = 60.0,
    ) -> Any:
        return await self._request("GET", destination, path, query, None)

    async def post_json(
        self,
        destination: str,
        path: str,
        body: Any,
        query: Mapping[str, Any] | None = None,
        *,
        timeout: float = 60.0,
    ) -> Any:
        return await self._request("POST", destination, path, query, body)


class Sender:
    def __init__(self, network: Network, origin: str) -> None:
        self.network = network
        self.origin = origin

    def send_edu(
        self, destination: str, edu_type: str, content: JsonDict, *, key: Hashable | None = None
    ) -> None:
        self.network.edus.append((self.origin, destination, edu_type, content))


class EduRegistry:
    """The ``federation.edus.EduRegistry`` contract: register + handle."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[str, Mapping[str, Any]], Awaitable[None]]] = {}

    def register(
        self, edu_type: str, handler: Callable[[str, Mapping[str, Any]], Awaitable[None]]
    ) -> None:
        self.handlers[edu_type] = handler

    async def handle(self, origin: str, edu: Mapping[str, Any]) -> None:
        handler = self.handlers.get(edu["edu_type"])
        if handler is not None:
            await handler(origin, edu["content"])


def federate(app: web.Application, network: Network, key: SigningKey) -> None:
    """Point ``app``'s federation edges at ``network`` (``homeserver/app.py`` set them
    up with the real client; the sender and EDU registry are the test's)."""
    registry = network.registries[key.server_name] = EduRegistry()
    queries_setup.connect(
        app, remote=Caller(network, key), sender=Sender(network, key.server_name), edus=registry
    )


async def trust(app: web.Application, keys: Sequence[SigningKey]) -> None:
    """Give ``app`` the verify keys of its peers, as a key fetch would have."""
    await app[STORE_KEY].server_keys.store_keys(
        [StoredKey(k.server_name, k.key_id, k.verify_key_base64, 2**53, 0) for k in keys]
    )


async def remote_user_joins(app: web.Application, room_id: str, user_ids: Sequence[str]) -> None:
    """Put remote users in a local room's state as a federated join would (the joins
    themselves are the lead's; here the pipeline writes their member events)."""
    from homeserver.appkeys import PIPELINE_KEY

    for user_id in user_ids:
        await app[PIPELINE_KEY].send(
            room_id, user_id, "m.room.member", {"membership": "join"}, state_key=user_id
        )
