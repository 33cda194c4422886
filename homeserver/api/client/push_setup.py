"""Serves push notifications: the push rule evaluator (subscribed to the event bus),
the pusher pool, and the routes of ``push_rules`` and ``pushers``.

``setup(app)`` runs in ``build_app`` after ``sync_setup`` (rule changes reach ``/sync``
through the notifier's account-data stream, and an initial sync makes sure the user's
``m.push_rules`` exists). At start-up, after the pipeline knows its position, the
evaluator resumes from its stored position and the pushers from theirs; at shutdown
both stop, storing where they are.
"""

from __future__ import annotations

from homeserver.appkeys import (
    BUS_KEY,
    CLOCK_KEY,
    CONFIG_KEY,
    NOTIFIER_KEY,
    PIPELINE_KEY,
    PUSH_KEY,
    ROOMS_KEY,
    STORE_KEY,
    SYNC_HANDLER_KEY,
)
from homeserver.http import web
from homeserver.push.evaluator import PushEvaluator
from homeserver.push.notifications import NotificationsHandler
from homeserver.push.pushers import PusherPool
from homeserver.push.rules import PushRulesHandler, RulesetCache
from homeserver.push.service import PushService
from homeserver.push.unread import PRELOAD, UnreadCounts
from homeserver.rooms.events_view import EventRenderer

from . import push_rules, pushers


def setup(app: web.Application) -> PushService:
    store, rooms, clock = app[STORE_KEY], app[ROOMS_KEY], app[CLOCK_KEY]
    pipeline = app[PIPELINE_KEY]
    cache = RulesetCache()
    rules = PushRulesHandler(store, app[NOTIFIER_KEY].on_account_data, cache)
    pool = PusherPool(store, rooms, clock, lambda: pipeline.persisted_upto)
    evaluator = PushEvaluator(
        store, rooms, cache, clock, app[CONFIG_KEY].server_name, on_notified=pool.poke_users
    )
    service = app[PUSH_KEY] = PushService(
        rules, evaluator, NotificationsHandler(store, EventRenderer(store, clock)), pool
    )
    app[BUS_KEY].subscribe(evaluator.on_event)
    pipeline.persist_hooks.append(evaluator.in_transaction)
    app[SYNC_HANDLER_KEY].initial_sync_hooks.append(rules.ensure_account_data)
    # Counts start after each user's read position (receipt or own latest event).
    pool.receipts = service.notifications.receipts = store.receipts.read_upto
    unread = UnreadCounts(store, evaluator, lambda: pipeline.persisted_upto)
    app[SYNC_HANDLER_KEY].add_extension(unread)
    app[SYNC_HANDLER_KEY].request_hooks.append(unread.before_sync)
    app[SYNC_HANDLER_KEY].room_load_hooks[PRELOAD] = unread.with_rooms

    async def start_push(app: web.Application) -> None:
        await evaluator.start(pipeline.persisted_upto)
        await pool.start()

    async def stop_push(app: web.Application) -> None:
        await evaluator.stop()
        await pool.stop()

    app.on_startup.append(start_push)
    app.on_shutdown.append(stop_push)
    for module in (push_rules, pushers):
        app.add_routes(module.routes())
    return service
