"""HTTP middlewares: Matrix error rendering and request metrics.

spec: client-server "Standard error response"; unknown endpoints answer 404
``M_UNRECOGNIZED`` and unsupported methods 405 ``M_UNRECOGNIZED``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from homeserver.api.responses import json_response
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.http.web import Middleware
from homeserver.logs import fields
from homeserver.metrics import Metrics

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CORS_HEADERS = {
    # spec: client-server "Web Browser Clients" — every response carries these.
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "X-Requested-With, Content-Type, Authorization",
}


def error_response(error: MatrixError) -> web.Response:
    return json_response(error.to_json(), status=error.status, headers=CORS_HEADERS)


@web.middleware
async def matrix_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=CORS_HEADERS)
    try:
        response = await handler(request)
    except MatrixError as exc:
        return error_response(exc)
    except web.HTTPRequestEntityTooLarge:
        return error_response(MatrixError(413, "M_TOO_LARGE", "Request body is too large"))
    except web.HTTPMethodNotAllowed as exc:
        response = error_response(MatrixError(405, "M_UNRECOGNIZED", "Method not allowed"))
        response.headers.update(exc.headers)  # RFC 9110 §15.5.6: Allow
        return response
    except web.HTTPNotFound:
        return error_response(MatrixError(404, "M_UNRECOGNIZED", "Unrecognized request"))
    except web.HTTPException:
        raise
    except Exception:
        # The detail goes to the log, never to the client.
        log.exception("unhandled error", extra=fields(path=request.path, method=request.method))
        return error_response(MatrixError(500, "M_UNKNOWN", "Internal server error"))
    response.headers.update(CORS_HEADERS)
    return response


def metrics_middleware(metrics: Metrics) -> Middleware:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            endpoint = request.route or "unmatched"
            metrics.request_latency.observe(
                time.perf_counter() - start, (request.method, endpoint, str(status))
            )

    return record
