"""Operational endpoints: ``/health`` and Prometheus ``/metrics``."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from homeserver.http import web
from homeserver.metrics import Metrics

METRICS_KEY = web.AppKey("metrics", Metrics)


async def health(request: web.Request) -> web.Response:
    return web.Response(text="OK", content_type="text/plain")


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS_KEY].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def routes() -> list[web.RouteDef]:
    return [web.get("/health", health), web.get("/metrics", metrics)]
