"""Wiring of the federation transport: HTTP client, discovery, signed requests, keyring,
key endpoints. ``homeserver.app`` calls ``setup`` once; the other federation parts take
what they need from the returned ``FederationServices`` (or ``app[FED_CLIENT_KEY]``,
``app[KEYRING_KEY]``).
"""

from __future__ import annotations

from dataclasses import dataclass

from homeserver.clock import Clock
from homeserver.config import Config
from homeserver.http import web
from homeserver.http.client import HttpClient
from homeserver.protocol.signing import SigningKey
from homeserver.storage.store import Store

from . import keys_server, notary
from .address_guard import AddressGuard
from .appkeys import FED_CLIENT_KEY, KEYRING_KEY
from .client import FederationClient
from .discovery import Discovery
from .keyring import Keyring


@dataclass(frozen=True)
class FederationServices:
    http: HttpClient
    discovery: Discovery
    client: FederationClient
    keyring: Keyring
    key_server: keys_server.KeyServer


def setup(
    app: web.Application, config: Config, signing_key: SigningKey, store: Store, clock: Clock
) -> FederationServices:
    fed = config.federation
    http = HttpClient(
        verify_tls=fed.verify_certificates,
        allow_address=AddressGuard(fed.ip_range_whitelist),
    )
    discovery = Discovery(http, clock, overrides=fed.server_overrides)
    client = FederationClient(signing_key, http, discovery, fed)
    keyring = Keyring(signing_key, store.server_keys, client, clock, fed.trusted_key_servers)
    key_server = keys_server.KeyServer(
        server_name=config.server_name,
        signing_key=signing_key,
        valid_for_ms=config.key_valid_for_ms,
        clock=clock,
    )
    app[FED_CLIENT_KEY] = client
    app[KEYRING_KEY] = keyring
    keys_server.setup(app, key_server)
    notary.setup(app, notary.Notary(signing_key, key_server, keyring, store.server_keys, clock))

    async def close_http(app: web.Application) -> None:
        await http.close()

    app.on_cleanup.append(close_http)
    return FederationServices(http, discovery, client, keyring, key_server)
