"""The ASGI app of one worker: routes, the guard middleware (URL length, metrics), CORS, the
exception handlers that turn every failure into the one JSON shape, and the Redis client."""

import gc
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

import orjson
import redis
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from footcast.adapters.redis import layout
from footcast.api import routes
from footcast.api.auth import key_check, require_key
from footcast.api.envelope import ApiError, ErrorCode, error_response
from footcast.api.metrics import Metrics
from footcast.api.openapi import openapi_document
from footcast.api.reader import PredictionReader
from footcast.api.settings import Settings

log = logging.getLogger("footcast.serve")

MAX_URL_BYTES = 2048


class GuardMiddleware:
    """Outermost layer: times every request into the metrics (by route template, so arbitrary
    paths cannot blow up the label set), and refuses over-long URLs before any parsing."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") > MAX_URL_BYTES:
                response = error_response(
                    414, ErrorCode.uri_too_long, f"the URL is longer than {MAX_URL_BYTES} bytes"
                )
                await response(scope, receive, send_and_record)
            else:
                await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(template, scope["method"], status, time.perf_counter() - started)


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app (uvicorn calls this in every worker: ``--factory``). Plain Starlette: FastAPI's
    request handling cost 1.6-1.9x the CPU of this per request (BENCHMARKS.md); parameters are
    still validated by pydantic models, which also give the OpenAPI schema."""
    settings = settings or Settings.from_env()
    metrics = Metrics()
    redis_status = routes.RedisStatus()
    handlers = routes.Handlers(metrics, redis_status)
    endpoints = routes.endpoints(handlers, bool(settings.api_keys))
    document = orjson.dumps(openapi_document(endpoints, bool(settings.api_keys)))

    async def openapi(_request: Request) -> Response:
        return Response(document, media_type="application/json")

    check_key = key_check(settings.api_keys) if settings.api_keys else None
    app_routes = [
        _route(e.path, require_key(e.handler, check_key) if e.needs_key else e.handler) for e in endpoints
    ]
    app_routes.append(_route("/openapi.json", openapi))
    return Starlette(
        routes=app_routes,
        middleware=_middleware(settings, metrics),
        lifespan=_lifespan(settings, handlers),
        exception_handlers=_exception_handlers(redis_status),
    )


def _route(path: str, handler: Callable[[Request], Awaitable[Response]]) -> Route:
    route = Route(path, handler, methods=["GET"])
    route.methods.discard("HEAD")  # GET only, as documented
    return route


def _lifespan(settings: Settings, handlers: routes.Handlers):
    """Each worker's Redis client, and the reader the handlers look up with."""

    @asynccontextmanager
    async def lifespan(_app: Starlette):
        client = aioredis.Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_connect_timeout=1,
            socket_timeout=2,
            # One immediate retry on a fresh connection: after a Redis restart the pooled
            # connections are dead; while Redis is down, fail fast with a 503.
            retry=Retry(NoBackoff(), 1),
        )
        handlers.reader = PredictionReader(client, settings.prefix)
        # The worker starts with ~95,000 long-lived objects (pandas and the rest of the imports);
        # every full garbage collection scanned them all, 30-100 ms with requests waiting: the
        # p99 latency. Frozen, they are never scanned again (collections still run).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await client.aclose()

    return lifespan


def _middleware(settings: Settings, metrics: Metrics) -> list[Middleware]:
    """The guard outermost, then CORS when FOOTCAST_CORS_ORIGINS is set."""
    middleware = [Middleware(GuardMiddleware, metrics=metrics)]
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET"],
                allow_headers=["X-API-Key", "Authorization"],
                max_age=600,
            )
        )
    return middleware


async def api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def not_published(_request: Request, _exc: Exception) -> Response:
    return error_response(
        503, ErrorCode.not_published, "no predictions are published yet", {"Retry-After": "60"}
    )


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code, message = {
        404: (ErrorCode.not_found, "no such path"),
        405: (ErrorCode.method_not_allowed, "method not allowed: this API is read-only (GET)"),
    }.get(exc.status_code, (ErrorCode.invalid_parameter, str(exc.detail)))
    return error_response(exc.status_code, code, message, dict(exc.headers or {}))


async def internal_error(_request: Request, exc: Exception) -> Response:
    log.error("unexpected error: %s: %s", type(exc).__name__, exc)
    return error_response(500, ErrorCode.internal_error, "internal error")


def _exception_handlers(redis_status: routes.RedisStatus) -> dict:
    """Every failure as the one JSON shape: never a 500 with a traceback."""

    async def redis_error(_request: Request, exc: Exception) -> Response:
        redis_status.unavailable(exc)
        return error_response(
            503,
            ErrorCode.redis_unavailable,
            "the prediction store (Redis) is unavailable",
            {"Retry-After": "1"},
        )

    return {
        ApiError: api_error,
        layout.NotPublishedError: not_published,
        redis.RedisError: redis_error,
        HTTPException: http_error,
        Exception: internal_error,
    }
