"""``homeserver.remote.RemoteCaller`` over the ``FederationClient``: the client API's way
to ask other servers, with the transport's errors turned into ``RemoteError``."""

from __future__ import annotations

from typing import Any

from homeserver.remote import QueryArgs, RemoteError

from .client import FederationClient, FederationRequestError


class ClientCaller:
    def __init__(self, client: FederationClient) -> None:
        self.client = client

    async def get_json(
        self, destination: str, path: str, query: QueryArgs | None = None, *, timeout: float = 60.0
    ) -> Any:
        try:
            return await self.client.get_json(destination, path, query, timeout=timeout)
        except FederationRequestError as exc:
            raise RemoteError(exc.status, exc.errcode, exc.message) from exc

    async def post_json(
        self,
        destination: str,
        path: str,
        body: Any,
        query: QueryArgs | None = None,
        *,
        timeout: float = 60.0,
    ) -> Any:
        try:
            return await self.client.post_json(destination, path, body, query, timeout=timeout)
        except FederationRequestError as exc:
            raise RemoteError(exc.status, exc.errcode, exc.message) from exc
