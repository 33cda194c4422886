"""Operational endpoints: ``/health`` and Prometheus ``/metrics``."""

from __future__ import annotations

from homeserver.http import web
from homeserver.metrics import CONTENT_TYPE, Metrics

METRICS_KEY = web.AppKey("metrics", Metrics)


async def health(request: web.Request) -> web.Response:
    return web.Response(text="OK", content_type="text/plain")


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS_KEY].registry.exposition()
    return web.Response(body=body, content_type=CONTENT_TYPE)


def routes() -> list[web.RouteDef]:
    return [web.get("/health", health), web.get("/metrics", metrics)]
