"""Finding a user's homeserver from its server name, to verify their OpenID token there.

spec: server-server "Resolving server names". Implemented: an explicit map (config
``discovery.servers``: loopback, tests, private deployments) first; then IP literals and
explicit ports as given; otherwise ``/.well-known/matrix/server`` delegation, then port
8448. SRV records (steps 4 and 5 of the spec) are not looked up: a server that relies on
them alone needs an entry in the map.
"""

from __future__ import annotations

import json
import logging

import aiohttp
import yarl

from .address_guard import is_public
from .bodies import read_limited
from .clock import Clock
from .ids import is_ip_literal, split_server_name

log = logging.getLogger("sfu.discovery")

DEFAULT_PORT = 8448
# spec: "Servers SHOULD respect the cache control headers [...] a sensible default of 24
# hours is recommended"; errors are cached for an hour. We keep it simple: one hour.
CACHE_MS = 3600 * 1000
WELL_KNOWN_MAX_BYTES = 64 * 1024
WELL_KNOWN_TIMEOUT_S = 10.0


class ServerResolver:
    """``session`` reaches the servers of the map; ``public_session`` (a
    ``PublicOnlyResolver`` one, see ``address_guard.py``) every discovered server. Without
    it, discovered servers are reached with ``session`` too: private addresses allowed."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        clock: Clock,
        servers: dict[str, str] | None = None,
        *,
        verify_tls: bool = True,
        public_session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.session = session
        self.public_session = public_session
        self.clock = clock
        self.servers = dict(servers or {})
        self.verify_tls = verify_tls
        self._cache: dict[str, tuple[int, str]] = {}
        # Where ``.well-known`` is asked: HTTPS's port; tests serve it elsewhere.
        self.well_known_port = 443

    def session_for(self, server_name: str) -> aiohttp.ClientSession:
        if server_name in self.servers or self.public_session is None:
            return self.session
        return self.public_session

    def refuses(self, server_name: str, url: str) -> bool:
        """Whether the address guard refuses ``url`` found for ``server_name`` outright:
        an IP literal that is not public (host names are checked as they resolve)."""
        if self.session_for(server_name) is self.session:
            return False
        host = yarl.URL(url).host or ""
        return is_ip_literal(host) and not is_public(host)

    async def base_url(self, server_name: str) -> str | None:
        """The base URL of ``server_name``'s server-server API (None: not a server name)."""
        if server_name in self.servers:
            return self.servers[server_name]
        parts = split_server_name(server_name)
        if parts is None:
            return None
        host, port = parts
        if port is not None or is_ip_literal(host):
            return _url(host, port)
        cached = self._cache.get(server_name)
        now = self.clock.time_ms()
        if cached is not None and cached[0] > now:
            return cached[1]
        delegated = await self._well_known(host)
        url = _url(host, None)
        if delegated is not None and (found := split_server_name(delegated)) is not None:
            url = _url(*found)
        self._cache[server_name] = (now + CACHE_MS, url)
        return url

    async def _well_known(self, host: str) -> str | None:
        """``m.server`` of ``https://host/.well-known/matrix/server``, None on any failure
        (spec: errors mean "no delegation")."""
        try:
            async with (self.public_session or self.session).get(
                f"https://{host}:{self.well_known_port}/.well-known/matrix/server",
                ssl=self.verify_tls,
                timeout=aiohttp.ClientTimeout(total=WELL_KNOWN_TIMEOUT_S),
                allow_redirects=True,
            ) as resp:
                if resp.status != 200:
                    return None
                body = await read_limited(resp, WELL_KNOWN_MAX_BYTES)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.debug("no .well-known for %s: %s", host, exc)
            return None
        return None if body is None else parse_well_known(body)


def parse_well_known(body: bytes) -> str | None:
    """The delegated server name of a ``.well-known/matrix/server`` body, or None."""
    if len(body) > WELL_KNOWN_MAX_BYTES:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    server = data.get("m.server") if isinstance(data, dict) else None
    if not isinstance(server, str) or split_server_name(server) is None:
        return None
    return server


def _url(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"https://{shown}:{port or DEFAULT_PORT}"
