"""Composition root: builds the HTTP application and wires every part.

Only this module imports ``federation`` and ``appservice`` (DESIGN.md "Layout").
"""

from __future__ import annotations

from appservice.registration import load_registrations
from federation import inbound_auth, openid_userinfo, queries_setup
from federation import media as federation_media
from federation import room_reads_routes as federation_reads
from federation import rooms_setup as federation_rooms
from federation import setup as federation_setup
from federation.remote_caller import ClientCaller
from federation.sender import setup as sender_setup
from homeserver.api import ops, web_client
from homeserver.api.client import accounts as accounts_routes
from homeserver.api.client import concord_dm as dm_routes
from homeserver.api.client import concord_setup as concord_routes
from homeserver.api.client import hierarchy as hierarchy_routes
from homeserver.api.client import media as media_routes
from homeserver.api.client import profiles_setup as profiles_routes
from homeserver.api.client import push_setup as push_routes
from homeserver.api.client import relations as relations_routes
from homeserver.api.client import rooms_setup as rooms_routes
from homeserver.api.client import search as search_routes
from homeserver.api.client import sync_setup as sync_routes
from homeserver.api.client import versions, well_known
from homeserver.api.limits import (
    LIMITERS_KEY,
    RateLimiters,
    body_size_middleware,
    rate_limit_middleware,
)
from homeserver.api.middleware import matrix_errors, metrics_middleware
from homeserver.appkeys import (
    ALIASES_KEY,
    BUS_KEY,
    CLOCK_KEY,
    CONFIG_KEY,
    PIPELINE_KEY,
    ROOM_CREATOR_KEY,
    ROOMS_KEY,
    SIGNING_KEY,
    STORE_KEY,
)
from homeserver.clock import Clock, SystemClock
from homeserver.config import Config
from homeserver.http import web
from homeserver.media.remote import RemoteMedia
from homeserver.metrics import Metrics
from homeserver.protocol.signing import SigningKey
from homeserver.ratelimit import TokenBucketLimiter
from homeserver.rooms.aliases import AliasDirectory
from homeserver.rooms.bus import EventBus
from homeserver.rooms.creation import RoomCreator
from homeserver.rooms.pipeline import EventPipeline
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage.database import Database
from homeserver.storage.store import Store


def check_config(config: Config) -> None:
    """What ``build_app`` would refuse, checked before the database is opened: the
    application service registration files (one ``ConfigError`` line)."""
    load_registrations(config.app_service_config_files, config.server_name)


def build_app(
    config: Config, signing_key: SigningKey, db: Database, *, clock: Clock | None = None
) -> web.Application:
    """The whole server as one HTTP application over an open, migrated ``db``.

    The app owns ``db`` from here on and closes it on cleanup. A bad application
    service registration file raises ``ConfigError``.
    """
    registrations = load_registrations(config.app_service_config_files, config.server_name)
    metrics = Metrics()
    clock = clock or SystemClock()
    limits = config.rate_limits
    limiters = RateLimiters(
        actions=TokenBucketLimiter(limits.actions_per_second, limits.actions_burst, clock)
        if limits.enabled
        else None,
        accounts=TokenBucketLimiter(limits.account_per_second, limits.account_burst, clock)
        if limits.enabled
        else None,
    )
    app = web.Application(
        middlewares=[
            metrics_middleware(metrics),
            matrix_errors,
            body_size_middleware(config.max_request_body_bytes),
            rate_limit_middleware(limiters),
        ],
        client_max_size=config.max_request_body_bytes,
    )
    app[CONFIG_KEY] = config
    app[LIMITERS_KEY] = limiters
    app[SIGNING_KEY] = signing_key
    app[CLOCK_KEY] = clock
    app[ops.METRICS_KEY] = metrics
    store = Store(db)
    app[STORE_KEY] = store

    async def close_store(app: web.Application) -> None:
        await store.close()

    app.on_cleanup.append(close_store)

    clock_ = app[CLOCK_KEY]
    bus = app[BUS_KEY] = EventBus()
    rooms = app[ROOMS_KEY] = RoomStateCache(store)
    pipeline = app[PIPELINE_KEY] = EventPipeline(
        store, rooms, bus, signing_key, clock_, config.server_name
    )
    aliases = app[ALIASES_KEY] = AliasDirectory(store, clock_)
    app[ROOM_CREATOR_KEY] = RoomCreator(pipeline, aliases)

    async def start_pipeline(app: web.Application) -> None:
        await pipeline.start()

    app.on_startup.append(start_pipeline)
    app.add_routes(ops.routes())
    app.add_routes(versions.routes())
    app.add_routes(well_known.routes())
    accounts_routes.setup(app, config, store, app[CLOCK_KEY])
    room_handlers = rooms_routes.setup(app)
    hierarchy_routes.setup(app)
    search_routes.setup(app)
    relations_routes.setup(app)
    sync_routes.setup(app)
    users = profiles_routes.setup(app)
    openid_userinfo.setup(app, users.openid)
    media_repository = media_routes.setup(app)
    push_routes.setup(app)
    dm_routes.setup(app)
    concord_routes.setup(app)  # the steward and the im.concord guild routes
    services = federation_setup.setup(app, config, signing_key, store, clock_)
    federation_media.setup(app, media_repository)
    media_repository.remote = RemoteMedia(
        store.remote_media,
        media_repository.files,
        clock_,
        federation_media.MediaFetcher(services.client),
        max_bytes=config.max_upload_size,
    )
    acl = federation_reads.setup(app, store, rooms, clock_, config.server_name)
    outbound = None
    if config.federation.enabled:
        # After sync_routes: it hooks into typing, receipts, presence and to-device.
        outbound = sender_setup.setup(
            app, services.client, domain_whitelist=config.federation.domain_whitelist
        )
    federation_rooms.setup(
        app,
        services,
        store=store,
        rooms=rooms,
        pipeline=pipeline,
        handlers=room_handlers,
        signing_key=signing_key,
        clock=clock_,
        on_edu=None if outbound is None else outbound.edus.handle,
        acl_allows=acl.allowed,
        broadcast=None if outbound is None else outbound.sender.broadcast,
    )
    # Queries, remote keys and device lists, space hierarchies over federation.
    queries_setup.setup(
        app,
        remote=ClientCaller(services.client),
        sender=None if outbound is None else outbound.sender,
        edus=None if outbound is None else outbound.edus,
        authenticated=inbound_auth.authenticated,
    )
    if registrations:
        from appservice import setup as appservice_setup
        from appservice.pusher import setup as appservice_pusher

        appservice_setup.setup(app, registrations)
        appservice_pusher.setup(app, registrations)
    else:
        # No service: its routes answer without the services' machinery loaded.
        from appservice import without_services

        without_services.setup(app)
    web_client.setup(app, config.web_client_dir)  # last: its SPA fallback is a catch-all
    return app
