"""Where to connect for a server name.

spec: server-server "Resolving server names": an IP literal or an explicit port is used
as is; otherwise ``https://<hostname>/.well-known/matrix/server`` may delegate to another
host (cached, 24 h by default and at most 48 h; errors cached for a while, longer after
repeated failures), then SRV ``_matrix-fed._tcp`` and the deprecated ``_matrix._tcp``,
then the hostname on port 8448. Each step says which ``Host`` header and which
certificate name (also sent as SNI) go with the address. ``federation.server_overrides``
answers first, without any look-up.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from homeserver.clock import Clock
from homeserver.http.client import HttpClient, HttpClientError
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_server_name

log = logging.getLogger(__name__)

DEFAULT_PORT = 8448
WELL_KNOWN_DEFAULT_S = 24 * 3600
WELL_KNOWN_MAX_S = 48 * 3600
WELL_KNOWN_MIN_S = 5 * 60
WELL_KNOWN_ERROR_FIRST_S = 5 * 60  # then doubling, up to WELL_KNOWN_ERROR_MAX_S
WELL_KNOWN_ERROR_MAX_S = 3600
WELL_KNOWN_TIMEOUT_S = 10.0
WELL_KNOWN_MAX_BYTES = 50 * 1024
WELL_KNOWN_REDIRECTS = 5
SRV_TIMEOUT_S = 5.0

SrvLookup = Callable[[str], Awaitable[list[tuple[str, int]]]]


@dataclass(frozen=True, slots=True)
class Target:
    """One place to send a server's requests."""

    host: str  # a hostname (resolved by the HTTP client) or an IP address
    port: int
    host_header: str
    tls_name: str  # the certificate must be valid for this; sent as SNI unless an IP


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


async def dns_srv_lookup(name: str) -> list[tuple[str, int]]:
    """SRV targets of ``name`` in the order to try them (RFC 2782: by priority, then
    weight); empty when there is no record or the look-up fails."""
    import dns.asyncresolver  # only when a server is found through DNS
    import dns.exception
    import dns.resolver

    try:
        answer = await dns.asyncresolver.resolve(name, "SRV", lifetime=SRV_TIMEOUT_S)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        log.info("SRV look-up of %s failed: %s", name, exc)
        return []
    records = sorted(answer, key=lambda r: (r.priority, -r.weight))
    found = []
    for record in records:
        target = str(record.target).rstrip(".")
        if target:  # "." means: the service is not available here
            found.append((target, int(record.port)))
    return found


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def _cache_seconds(cache_control: str | None) -> int:
    """How long to keep a valid ``.well-known`` answer, from its ``Cache-Control``."""
    if cache_control is None:
        return WELL_KNOWN_DEFAULT_S
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return WELL_KNOWN_MIN_S
    found = _MAX_AGE.search(cache_control)
    if found is None:
        return WELL_KNOWN_DEFAULT_S
    return max(WELL_KNOWN_MIN_S, min(int(found.group(1)), WELL_KNOWN_MAX_S))


@dataclass(slots=True)
class _WellKnown:
    delegated: str | None  # m.server, None after an error
    expires: float  # clock.monotonic()
    failures: int = 0


class Discovery:
    def __init__(
        self,
        http: HttpClient,
        clock: Clock,
        *,
        overrides: Mapping[str, tuple[str, int]] | None = None,
        srv_lookup: SrvLookup | None = None,
    ) -> None:
        self.http = http
        self.clock = clock
        self.overrides = dict(overrides or {})
        self.srv_lookup = srv_lookup or dns_srv_lookup
        self._well_known: dict[str, _WellKnown] = {}
        self._well_known_inflight: dict[str, asyncio.Future[str | None]] = {}

    async def resolve(self, server_name: str) -> list[Target]:
        """Where to send requests for ``server_name``, in the order to try them.

        Raises ``InvalidIdentifier`` when ``server_name`` is not a server name.
        """
        host, port = parse_server_name(server_name)
        bare = host.strip("[]")
        override = self.overrides.get(server_name)
        if override is not None:
            return [Target(override[0], override[1], server_name, bare)]
        if _is_ip(host):  # step 1
            return [Target(bare, port or DEFAULT_PORT, server_name, bare)]
        if port is not None:  # step 2
            return [Target(host, port, server_name, host)]
        delegated = await self.well_known(host)  # step 3
        if delegated is not None:
            return await self._delegated(delegated)
        return await self._srv_or_default(host, host)  # steps 4 to 6

    async def _delegated(self, delegated: str) -> list[Target]:
        host, port = parse_server_name(delegated)
        bare = host.strip("[]")
        if _is_ip(host):  # 3.1
            return [Target(bare, port or DEFAULT_PORT, delegated, bare)]
        if port is not None:  # 3.2
            return [Target(host, port, delegated, host)]
        return await self._srv_or_default(host, host)  # 3.3 to 3.5

    async def _srv_or_default(self, hostname: str, host_header: str) -> list[Target]:
        for service in ("_matrix-fed._tcp.", "_matrix._tcp."):
            records = await self.srv_lookup(service + hostname)
            if records:
                return [Target(target, port, host_header, hostname) for target, port in records]
        return [Target(hostname, DEFAULT_PORT, host_header, hostname)]

    # -- .well-known ---------------------------------------------------------------------

    async def well_known(self, hostname: str) -> str | None:
        """The delegated server name from ``/.well-known/matrix/server``, or None."""
        now = self.clock.monotonic()
        cached = self._well_known.get(hostname)
        if cached is not None and cached.expires > now:
            return cached.delegated
        inflight = self._well_known_inflight.get(hostname)
        if inflight is not None:
            return await asyncio.shield(inflight)
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._well_known_inflight[hostname] = future
        try:
            delegated, seconds = await self._fetch_well_known(hostname)
            if delegated is None:
                failures = (cached.failures if cached is not None else 0) + 1
                seconds = min(
                    WELL_KNOWN_ERROR_MAX_S, WELL_KNOWN_ERROR_FIRST_S * 2 ** (failures - 1)
                )
            else:
                failures = 0
            self._well_known[hostname] = _WellKnown(
                delegated, self.clock.monotonic() + seconds, failures
            )
            future.set_result(delegated)
            return delegated
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            del self._well_known_inflight[hostname]

    async def _fetch_well_known(self, hostname: str) -> tuple[str | None, int]:
        url = f"https://{hostname}/.well-known/matrix/server"
        seen = {url}
        for _ in range(WELL_KNOWN_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                log.info("well-known of %s: refusing redirect to %s", hostname, url)
                return None, 0
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            try:
                response = await self.http.request(
                    "GET",
                    parts.hostname,
                    parts.port or 443,
                    target,
                    host_header=parts.netloc.rpartition("@")[2],
                    timeout=WELL_KNOWN_TIMEOUT_S,
                    max_body=WELL_KNOWN_MAX_BYTES,
                )
            except (HttpClientError, ValueError) as exc:
                log.info("well-known of %s: %s", hostname, exc)
                return None, 0
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    return None, 0
                url = urljoin(url, location)
                if url in seen:
                    log.info("well-known of %s: redirect loop", hostname)
                    return None, 0
                seen.add(url)
                continue
            if response.status != 200:
                return None, 0
            try:
                body = response.json()
            except HttpClientError:
                return None, 0
            delegated = body.get("m.server") if isinstance(body, dict) else None
            if not isinstance(delegated, str):
                return None, 0
            try:
                parse_server_name(delegated)
            except InvalidIdentifier:
                return None, 0
            return delegated, _cache_seconds(response.headers.get("Cache-Control"))
        log.info("well-known of %s: too many redirects", hostname)
        return None, 0
