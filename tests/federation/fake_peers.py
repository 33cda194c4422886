"""Two (or more) Concord apps that answer each other's federation queries in-process.

A stand-in for ``federation.client.FederationClient`` at the edge of the machine: the
``RemoteCaller`` of each app sends its requests over real HTTP to the peer app's
federation routes, naming itself in an ``X-Test-Origin`` header that a test
``authenticated`` wrapper reads instead of verifying X-Matrix (that is H1's, tested
there). EDUs queued with the ``EduSender`` are held until the test delivers them,
so tests can also drop or reorder them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from federation import queries_setup
from federation.query_routes import OriginHandler
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.remote import RemoteError

from ..support.http_client import TestClient

JsonDict = dict[str, Any]
ORIGIN_HEADER = "X-Test-Origin"


def authenticated(handler: OriginHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        origin = request.headers.get(ORIGIN_HEADER)
        if not origin:
            raise MatrixError(401, "M_UNAUTHORIZED", "Missing X-Matrix authorization")
        return await handler(request, origin)

    return wrapped


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


class Caller:
    def __init__(self, network: Network, origin: str) -> None:
        self.network = network
        self.origin = origin

    async def _request(
        self, method: str, destination: str, path: str, query: Mapping[str, Any] | None, body: Any
    ) -> Any:
        self.network.requests.append((self.origin, destination, path))
        peer = self.network.peers.get(destination)
        if peer is None:
            raise RemoteError(None, None, f"cannot connect to {destination}")
        url = path + ("?" + urlencode(query or {}, doseq=True) if query else "")
        resp = await peer.request(method, url, json=body, headers={ORIGIN_HEADER: self.origin})
        answer = await resp.json()
        if resp.status != 200:
            raise RemoteError(resp.status, answer.get("errcode"), answer.get("error", ""))
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


def federate(app: web.Application, network: Network, server_name: str) -> None:
    """Set up ``app``'s federation queries on ``network``, as ``homeserver/app.py`` does
    with the real client, sender and registry."""
    registry = network.registries[server_name] = EduRegistry()
    queries_setup.setup(
        app,
        remote=Caller(network, server_name),
        sender=Sender(network, server_name),
        edus=registry,
        authenticated=authenticated,
    )


async def remote_user_joins(app: web.Application, room_id: str, user_ids: Sequence[str]) -> None:
    """Put remote users in a local room's state as a federated join would (the joins
    themselves are the lead's; here the pipeline writes their member events)."""
    from homeserver.appkeys import PIPELINE_KEY

    for user_id in user_ids:
        await app[PIPELINE_KEY].send(
            room_id, user_id, "m.room.member", {"membership": "join"}, state_key=user_id
        )
