"""Composition root: builds the aiohttp application and wires every part.

Only this module imports ``federation`` and ``appservice`` (DESIGN.md "Layout").
"""

from __future__ import annotations

from aiohttp import web

from federation import keys_server
from homeserver.api import ops
from homeserver.api.client import versions
from homeserver.api.middleware import matrix_errors, metrics_middleware
from homeserver.clock import Clock, SystemClock
from homeserver.config import Config
from homeserver.metrics import Metrics
from homeserver.protocol.signing import SigningKey
from homeserver.storage.database import Database
from homeserver.storage.store import Store

CONFIG_KEY = web.AppKey("config", Config)
CLOCK_KEY = web.AppKey("clock", Clock)
STORE_KEY = web.AppKey("store", Store)


def build_app(
    config: Config, signing_key: SigningKey, db: Database, *, clock: Clock | None = None
) -> web.Application:
    """The whole server as one aiohttp application over an open, migrated ``db``.

    The app owns ``db`` from here on and closes it on cleanup.
    """
    metrics = Metrics()
    app = web.Application(
        middlewares=[metrics_middleware(metrics), matrix_errors],
        client_max_size=64 * 1024 * 1024,
    )
    app[CONFIG_KEY] = config
    app[CLOCK_KEY] = clock or SystemClock()
    app[ops.METRICS_KEY] = metrics
    store = Store(db)
    app[STORE_KEY] = store

    async def close_store(app: web.Application) -> None:
        await store.close()

    app.on_cleanup.append(close_store)
    app.add_routes(ops.routes())
    app.add_routes(versions.routes())
    keys_server.setup(
        app,
        keys_server.KeyServer(
            server_name=config.server_name,
            signing_key=signing_key,
            valid_for_ms=config.key_valid_for_ms,
            clock=app[CLOCK_KEY],
        ),
    )
    return app
