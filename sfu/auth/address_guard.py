"""Keeps ``POST /token`` from being a way into the SFU's private network.

Anyone may call ``/token`` with any ``matrix_server_name``, and the SFU then connects
there; without a guard that is a port scanner of the SFU's own network (server-side
request forgery). Discovered servers must therefore resolve to public addresses only;
servers named in ``discovery.servers`` (our own homeserver among them) are trusted, and
``discovery.allow_private_addresses`` lifts the guard for private deployments and tests.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver


class PrivateAddress(OSError):
    """A host that resolved to (or is) a non-public address only."""


def is_public(host: str) -> bool:
    address = ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global


class PublicOnlyResolver(AbstractResolver):
    """aiohttp's resolver, keeping only public addresses."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        public = [r for r in found if is_public(r["host"])]
        if not public:
            raise PrivateAddress(f"{host} resolves to private addresses only")
        return public

    async def close(self) -> None:
        await self._inner.close()


def private_cause(exc: BaseException) -> bool:
    """Whether a client error came from ``PublicOnlyResolver`` refusing the host."""
    cause: Any = getattr(exc, "os_error", None) or exc.__cause__
    return isinstance(cause, PrivateAddress)
