"""`footcast serve`: a read-only HTTP API over the predictions published to Redis.

An ASGI app (Starlette) served by uvicorn (uvloop + httptools), one or more worker processes.
Requests read only from Redis, through the lookup scripts and key layout of
:mod:`footcast.adapters.redis_store` (run here on a ``redis.asyncio`` client), so every
response comes from one complete published version, in one round trip for a match.

Every JSON response has the same shape: ``{"data": ..., "error": null | {"code", "message"},
"meta": {...}}``; error codes are stable (``ERROR_CODES``). 404: unknown match id, team,
league or path; 422: bad parameters; 503: Redis unreachable or nothing published; never a
500 with a traceback. Inputs are validated (charset, length) before they reach a Redis key.

Settings (environment, read by every worker): FOOTCAST_REDIS_URL, FOOTCAST_REDIS_PREFIX,
FOOTCAST_API_KEYS (comma-separated; when set every endpoint but /health needs one, as
``X-API-Key: KEY`` or ``Authorization: Bearer KEY``), FOOTCAST_CORS_ORIGINS (comma-separated;
CORS is off when unset), PROMETHEUS_MULTIPROC_DIR (set by :func:`run`: /metrics adds up the
counts of all worker processes).
"""

import gc
import hmac
import ipaddress
import logging
import os
import re
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
import redis
import redis.asyncio as aioredis
from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from pydantic.json_schema import models_json_schema
from redis.backoff import NoBackoff
from redis.retry import Retry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from footcast import config
from footcast.adapters import redis_store
from footcast.data import schema, teams

log = logging.getLogger("footcast.serve")

API_VERSION = "1"
MAX_URL_BYTES = 2048
DEFAULT_LIMIT, MAX_LIMIT = 50, 500
# Records read from Redis for one page when a filter (league on a team or time index) drops
# some: bounds the work of one request; the page then ends early with a cursor to go on.
MAX_SCANNED_PER_PAGE = 20_000
MATCH_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
LEAGUE_PATTERN = r"^[A-Za-z0-9_-]{1,16}$"
# At least one ASCII letter or digit (team_key keeps only those), no control characters.
TEAM_PATTERN = r"^[^\x00-\x1f\x7f]*[0-9A-Za-z][^\x00-\x1f\x7f]*$"
CURSOR_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,6})?~[A-Za-z0-9_-]{1,64}$"


def _only(pattern: str, what: str) -> BeforeValidator:
    """Accept only text of this form (pydantic alone would also take e.g. epoch numbers)."""
    regex = re.compile(pattern)

    def check(value: Any) -> Any:
        if isinstance(value, str) and not regex.fullmatch(value):
            raise ValueError(f"should be {what}")
        return value

    return BeforeValidator(check)


# RFC 3339, as the OpenAPI formats "date-time" and "date" say.
DateTime = Annotated[
    datetime,
    _only(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})",
        "an RFC 3339 date-time with offset, e.g. 2026-08-01T15:00:00Z",
    ),
]
Day = Annotated[date, _only(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a date YYYY-MM-DD")]


class ErrorCode(StrEnum):
    not_found = "not_found"
    unknown_team = "unknown_team"
    unknown_league = "unknown_league"
    invalid_parameter = "invalid_parameter"
    unauthorized = "unauthorized"
    method_not_allowed = "method_not_allowed"
    uri_too_long = "uri_too_long"
    not_published = "not_published"
    redis_unavailable = "redis_unavailable"
    internal_error = "internal_error"


ERROR_CODES = tuple(code.value for code in ErrorCode)


# --- settings --------------------------------------------------------------------------------------


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    redis_url: str
    prefix: str
    api_keys: tuple[str, ...]
    cors_origins: tuple[str, ...]

    @classmethod
    def from_env(cls) -> "Settings":
        url = config.redis_url()
        if not url:
            raise ServeConfigError(
                "FOOTCAST_REDIS_URL is not set (footcast serve starts the embedded server and sets it)"
            )
        return cls(
            redis_url=url,
            prefix=os.environ.get("FOOTCAST_REDIS_PREFIX") or "footcast",
            api_keys=_split(os.environ.get("FOOTCAST_API_KEYS")),
            cors_origins=_split(os.environ.get("FOOTCAST_CORS_ORIGINS")),
        )


class ServeConfigError(ValueError):
    """The server cannot start with these settings (bad usage)."""


# --- errors ------------------------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def json_response(
    data: Any, meta: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = orjson.dumps({"data": data, "error": None, "meta": meta})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(
    status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
) -> Response:
    body = orjson.dumps({"data": None, "error": {"code": code.value, "message": message}, "meta": {}})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


# --- reading Redis -----------------------------------------------------------------------------------


def _score(record: dict[str, Any]) -> float:
    """The index score of a record: its kickoff in epoch seconds, as the publish wrote it."""
    return datetime.fromisoformat(record["kickoff"]).timestamp()


@dataclass(frozen=True)
class Window:
    """Kickoffs with ``start <= kickoff < end`` (epoch seconds; None: unbounded)."""

    start: float | None = None
    end: float | None = None

    def bounds(self, after: float | None = None) -> tuple[str, str]:
        """ZRANGEBYSCORE bounds, starting at the cursor's kickoff ``after`` if it is later."""
        lows = [v for v in (self.start, after) if v is not None]
        lower = repr(max(lows)) if lows else "-inf"
        return lower, ("+inf" if self.end is None else f"({self.end!r}")


@dataclass
class Page:
    version: str
    records: list[dict[str, Any]]
    next_cursor: str | None


class VersionChanged(Exception):
    """A publish switched the current version between the reads of one page."""


class PredictionReader:
    """Lookups of the current published version over redis.asyncio, with redis_store's scripts."""

    def __init__(self, client: aioredis.Redis, prefix: str):
        self.client = client
        self.prefix = prefix
        self._lookup_match = client.register_script(redis_store.LOOKUP_MATCH_SCRIPT)
        self._lookup_index = client.register_script(redis_store.LOOKUP_INDEX_SCRIPT)

    async def get(self, match_id: str) -> tuple[str, dict[str, Any] | None]:
        keys, args = redis_store.match_lookup_args(self.prefix, match_id)
        reply = await self._lookup_match(keys=keys, args=args)
        if not reply:
            raise redis_store.NotPublishedError("nothing has been published yet")
        return reply[0], (redis_store.decode_record(reply[1]) if reply[1] else None)

    async def index(self, index: str, start: str, end: str, limit: int) -> tuple[str, list[dict[str, Any]]]:
        keys, args = redis_store.index_lookup_args(self.prefix, index, start, end, limit)
        reply = await self._lookup_index(keys=keys, args=args)
        if not reply:
            raise redis_store.NotPublishedError("nothing has been published yet")
        return reply[0], [redis_store.decode_record(flat) for flat in reply[1:] if flat]

    async def current_version(self) -> str:
        version = await self.client.get(redis_store.current_key(self.prefix))
        if version is None:
            raise redis_store.NotPublishedError("nothing has been published yet")
        return version

    async def meta(self) -> dict[str, str]:
        version = await self.current_version()
        return await self.client.hgetall(f"{redis_store.version_base(self.prefix, version)}:meta")

    async def leagues(self) -> tuple[str, list[str]]:
        version = await self.current_version()
        members = await self.client.smembers(f"{redis_store.version_base(self.prefix, version)}:leagues")
        return version, sorted(members)

    async def exists(self, index: str) -> bool:
        """Whether the current version has any entry in ``index``."""
        _version, records = await self.index(index, "-inf", "+inf", 1)
        return bool(records)

    async def page(
        self,
        index: str,
        window: Window,
        limit: int,
        after: tuple[float, str] | None = None,
        league: str | None = None,
    ) -> Page:
        """Up to ``limit`` records of ``index`` in ``window`` after the cursor position ``after``
        (kickoff score, match id: the index order), of ``league`` only if given; all from one
        version. A page may hold fewer than ``limit`` records and still have a next cursor when
        the league filter dropped many (MAX_SCANNED_PER_PAGE)."""
        for _attempt in range(3):
            try:
                return await self._page(index, window, limit, after, league)
            except VersionChanged:
                continue
        raise ApiError(503, ErrorCode.redis_unavailable, "predictions are being republished; retry")

    async def _page(
        self, index: str, window: Window, limit: int, after: tuple[float, str] | None, league: str | None
    ) -> Page:
        version: str | None = None
        found: list[dict[str, Any]] = []
        position = after
        batch = limit + 1 if league is None else max(4 * (limit + 1), 200)
        scanned = 0
        while True:
            start, end = window.bounds(position[0] if position else None)
            reply_version, records = await self.index(index, start, end, batch)
            if version is None:
                version = reply_version
            elif reply_version != version:
                raise VersionChanged()
            last_seen = None
            for record in records:
                key = (_score(record), record["match_id"])
                if position is not None and key <= position:
                    continue  # at or before the cursor: ties at the cursor's kickoff come first
                last_seen = key
                if league is not None and record["league"] != league:
                    continue
                found.append(record)
                if len(found) == limit + 1:
                    return Page(version, found[:limit], _cursor(found[limit - 1]))
            scanned += len(records)
            if len(records) < batch:
                return Page(version, found, None)  # the index is exhausted
            if last_seen is None:
                batch *= 2  # a whole batch of ties at the cursor's kickoff: read further
                continue
            position = last_seen
            if scanned >= MAX_SCANNED_PER_PAGE:
                return Page(version, found, _format_cursor(last_seen))


def _format_cursor(key: tuple[float, str]) -> str:
    score, match_id = key
    text = f"{score:.6f}".rstrip("0").rstrip(".")
    return f"{text}~{match_id}"


def _cursor(record: dict[str, Any]) -> str:
    return _format_cursor((_score(record), record["match_id"]))


def _parse_cursor(cursor: str) -> tuple[float, str]:
    score, _, match_id = cursor.partition("~")
    return float(score), match_id


# --- response models (the OpenAPI schema; bodies are built with orjson) --------------------------


class Prediction(BaseModel):
    match_id: str = Field(description="deterministic match id")
    league: str
    season: int = Field(description="start year of the season (2025 is 2025/26)")
    kickoff: datetime = Field(description="kickoff, UTC")
    home_team: str
    away_team: str
    p_home: float
    p_draw: float
    p_away: float
    fair_odds_home: float
    fair_odds_draw: float
    fair_odds_away: float
    model_name: str
    model_version: str
    feature_set_version: str
    generated_at: str = Field(description="when the prediction was made (ISO 8601)")
    publish_version: str = Field(description="the published version this record belongs to")


class ErrorBody(BaseModel):
    code: ErrorCode
    message: str


class EmptyMeta(BaseModel):
    pass


class ErrorEnvelope(BaseModel):
    data: None
    error: ErrorBody
    meta: EmptyMeta


class VersionMeta(BaseModel):
    version: str = Field(description="the published version the data comes from")


class ListMeta(VersionMeta):
    count: int
    limit: int
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class PredictionEnvelope(BaseModel):
    data: Prediction
    error: None
    meta: VersionMeta


class PredictionListEnvelope(BaseModel):
    data: list[Prediction]
    error: None
    meta: ListMeta


class LeaguesEnvelope(BaseModel):
    data: list[str]
    error: None
    meta: VersionMeta


class Health(BaseModel):
    status: Literal["ok"]
    redis: Literal["reachable"]
    version: str
    published_at: str | None
    age_seconds: float | None = Field(description="seconds since the version was published")
    predictions: int | None
    model_version: str | None
    api_version: str


class HealthEnvelope(BaseModel):
    data: Health
    error: None
    meta: VersionMeta


ERROR_DESCRIPTIONS = {
    401: "no or wrong API key (only when FOOTCAST_API_KEYS is set)",
    404: "not found",
    414: "URL too long",
    422: "invalid parameters",
    503: "Redis unreachable, or nothing published yet",
}


# --- parameters (validated with pydantic; the OpenAPI parameters are their JSON schema) -----------


class MatchPath(BaseModel):
    match_id: str = Field(pattern=MATCH_ID_PATTERN, max_length=64, description="match id")


class ListQuery(BaseModel):
    team: str | None = Field(
        None,
        max_length=64,
        pattern=TEAM_PATTERN,
        description="a team's fixtures: any alias, case, accent and punctuation insensitive",
    )
    league: str | None = Field(
        None, max_length=16, pattern=LEAGUE_PATTERN, description="league code, e.g. E0"
    )
    day: Day | None = Field(None, alias="date", description="kickoff on this UK-local date")
    start: DateTime | None = Field(None, alias="from", description="kickoff at or after (RFC 3339)")
    end: DateTime | None = Field(None, alias="to", description="kickoff before (RFC 3339)")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="page size")
    cursor: str | None = Field(
        None, max_length=80, pattern=CURSOR_PATTERN, description="`meta.next_cursor` of the page before"
    )


def _validated(model: type[BaseModel], values: Any) -> Any:
    """``values`` parsed by ``model``, or a 422 naming each bad parameter (never echoing it)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]]
        raise ApiError(422, ErrorCode.invalid_parameter, "; ".join(problems)) from None


# --- metrics -----------------------------------------------------------------------------------------


class Metrics:
    """Latency histograms by route template, method and status; their ``_count`` series are the
    request counts (a separate counter would cost another shared-memory write per request). With
    PROMETHEUS_MULTIPROC_DIR set (footcast serve sets it) every worker writes its own files and
    /metrics adds all workers up."""

    def __init__(self) -> None:
        # prometheus_client picks its multi-process storage at import, from the environment.
        import prometheus_client as prom

        self._prom = prom
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = prom.CollectorRegistry()
        labels = ("route", "method", "status")
        self.latency = prom.Histogram(
            "footcast_http_request_duration_seconds",
            "Time from request to the end of the response",
            labels,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.latency.labels(route, method, str(status)).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        prom = self._prom
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = prom.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = self.registry
        return prom.generate_latest(registry), prom.CONTENT_TYPE_LATEST


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


# --- the app -----------------------------------------------------------------------------------------


def _uk_day_window(day: date) -> Window:
    start = datetime.combine(day, datetime.min.time(), schema.UK)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), schema.UK)
    return Window(start.timestamp(), end.timestamp())


def _intersect(*windows: Window) -> Window:
    starts = [w.start for w in windows if w.start is not None]
    ends = [w.end for w in windows if w.end is not None]
    return Window(max(starts) if starts else None, min(ends) if ends else None)


@dataclass(frozen=True)
class Endpoint:
    """One GET route: its handler, and what the OpenAPI document says about it."""

    path: str
    handler: Callable[[Request], Awaitable[Response]]
    summary: str
    tag: str
    response: type[BaseModel] | None  # the 200 body; None: Prometheus text
    errors: tuple[int, ...]
    query: type[BaseModel] | None = None
    path_parameters: type[BaseModel] | None = None
    needs_key: bool = True


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app (uvicorn calls this in every worker: ``--factory``). Plain Starlette: FastAPI's
    request handling cost 1.6-1.9x the CPU of this per request (BENCHMARKS.md); parameters are
    still validated by pydantic models, which also give the OpenAPI schema."""
    settings = settings or Settings.from_env()
    metrics = Metrics()
    state: dict[str, Any] = {"redis_down": False}

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
        state["reader"] = PredictionReader(client, settings.prefix)
        # The worker starts with ~95,000 long-lived objects (pandas and the rest of the imports);
        # every full garbage collection scanned them all, 30-100 ms with requests waiting: the
        # p99 latency. Frozen, they are never scanned again (collections still run).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await client.aclose()

    def reader() -> PredictionReader:
        return state["reader"]  # created by the lifespan, in each worker

    def redis_up() -> None:
        if state["redis_down"]:
            state["redis_down"] = False
            log.warning("Redis is reachable again")

    async def get_prediction(request: Request) -> Response:
        match_id = _validated(MatchPath, request.path_params).match_id
        version, record = await reader().get(match_id)
        redis_up()
        if record is None:
            raise ApiError(
                404, ErrorCode.not_found, f"no prediction for match id {match_id} in version {version}"
            )
        return json_response(record, {"version": version})

    async def list_predictions(request: Request) -> Response:
        query: ListQuery = _validated(ListQuery, request.query_params)
        windows = [Window()]
        if query.day is not None:
            windows.append(_uk_day_window(query.day))
        if query.start is not None:
            windows.append(Window(start=query.start.timestamp()))
        if query.end is not None:
            windows.append(Window(end=query.end.timestamp()))
        window = _intersect(*windows)
        after = _parse_cursor(query.cursor) if query.cursor else None
        lookups, league, limit = reader(), query.league, query.limit
        if query.team is not None:
            page = await _team_page(lookups, query.team, window, limit, after, league)
        elif league is not None and query.day is not None:
            index = redis_store.league_date_index(league, query.day.isoformat())
            page = await lookups.page(index, window, limit, after)
            if not page.records and after is None:
                await _require_league(lookups, league)
        else:
            if league is not None:
                await _require_league(lookups, league)
            page = await lookups.page(redis_store.KICKOFF_INDEX, window, limit, after, league)
        redis_up()
        meta = {
            "version": page.version,
            "count": len(page.records),
            "limit": limit,
            "next_cursor": page.next_cursor,
        }
        return json_response(page.records, meta)

    async def list_leagues(_request: Request) -> Response:
        version, leagues = await reader().leagues()
        redis_up()
        return json_response(leagues, {"version": version})

    async def health(_request: Request) -> Response:
        meta = await reader().meta()
        redis_up()
        version = meta.get("version")
        if not version:
            raise redis_store.NotPublishedError("nothing has been published yet")
        published_at = meta.get("published_at") or None
        age = None
        if published_at:
            age = round((config.now() - datetime.fromisoformat(published_at)).total_seconds(), 3)
        count = meta.get("count")
        data = {
            "status": "ok",
            "redis": "reachable",
            "version": version,
            "published_at": published_at,
            "age_seconds": age,
            "predictions": int(count) if count and count.isdigit() else None,
            "model_version": meta.get("model_version") or None,
            "api_version": API_VERSION,
        }
        return json_response(data, {"version": version})

    async def prometheus_metrics(_request: Request) -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    keys = (401,) if settings.api_keys else ()
    endpoints = [
        Endpoint(
            "/predictions/{match_id}", get_prediction, "One prediction by match id", "predictions",
            PredictionEnvelope, (*keys, 404, 414, 422, 503), path_parameters=MatchPath,
        ),
        Endpoint(
            "/predictions", list_predictions,
            "Predictions by team, league, UK-local date and kickoff window, in kickoff order",
            "predictions", PredictionListEnvelope, (*keys, 404, 414, 422, 503), query=ListQuery,
        ),
        Endpoint(
            "/leagues", list_leagues, "League codes in the published version", "predictions",
            LeaguesEnvelope, (*keys, 414, 503),
        ),
        Endpoint(
            "/health", health, "Redis reachable, the published version and its age (no API key needed)",
            "operations", HealthEnvelope, (414, 503), needs_key=False,
        ),
        Endpoint(
            "/metrics", prometheus_metrics,
            "Prometheus metrics: latency histograms (and so request counts) by route and status",
            "operations", None, (*keys, 414),
        ),
    ]  # fmt: skip
    document = orjson.dumps(openapi_document(endpoints, bool(settings.api_keys)))

    async def openapi(_request: Request) -> Response:
        return Response(document, media_type="application/json")

    check_key = _key_check(settings.api_keys) if settings.api_keys else None
    routes = [_route(e.path, _guarded(e.handler, check_key) if e.needs_key else e.handler) for e in endpoints]
    routes.append(_route("/openapi.json", openapi))

    async def api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    async def not_published(_request: Request, _exc: Exception) -> Response:
        return error_response(
            503, ErrorCode.not_published, "no predictions are published yet", {"Retry-After": "60"}
        )

    async def redis_error(_request: Request, exc: Exception) -> Response:
        if not state["redis_down"]:
            state["redis_down"] = True  # log once per outage, not once per request
            log.warning("Redis is unavailable: %s: %s", type(exc).__name__, exc)
        return error_response(
            503,
            ErrorCode.redis_unavailable,
            "the prediction store (Redis) is unavailable",
            {"Retry-After": "1"},
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
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            ApiError: api_error,
            redis_store.NotPublishedError: not_published,
            redis.RedisError: redis_error,
            HTTPException: http_error,
            Exception: internal_error,
        },
    )


def _route(path: str, handler: Callable[[Request], Awaitable[Response]]) -> Route:
    route = Route(path, handler, methods=["GET"])
    route.methods.discard("HEAD")  # GET only, as documented
    return route


def _guarded(
    handler: Callable[[Request], Awaitable[Response]], check_key: Callable[[Request], None] | None
) -> Callable[[Request], Awaitable[Response]]:
    if check_key is None:
        return handler

    async def guarded(request: Request) -> Response:
        check_key(request)
        return await handler(request)

    return guarded


async def _team_page(
    lookups: PredictionReader,
    team: str,
    window: Window,
    limit: int,
    after: tuple[float, str] | None,
    league: str | None,
) -> Page:
    """The page of the first spelling of ``team`` the published version knows (the query as
    given, then its canonical name and aliases from the shared alias table)."""
    indexes = dict.fromkeys(redis_store.team_index(name) for name in (team, *teams.aliases_of(team)))
    for index in indexes:
        page = await lookups.page(index, window, limit, after, league)
        if page.records or after is not None or await lookups.exists(index):
            return page
    raise ApiError(404, ErrorCode.unknown_team, f"no published prediction involves a team called {team!r}")


async def _require_league(lookups: PredictionReader, league: str) -> None:
    _version, leagues = await lookups.leagues()
    if league not in leagues:
        raise ApiError(
            404, ErrorCode.unknown_league, f"league {league} is not in the published version; see /leagues"
        )


def _key_check(keys: tuple[str, ...]) -> Callable[[Request], None]:
    encoded = [key.encode() for key in keys]

    def check(request: Request) -> None:
        given = request.headers.get("x-api-key")
        if given is None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            given = token.strip() if scheme.lower() == "bearer" else None
        # Compare with every key in constant time: the reply does not tell how close a guess was.
        if not given or not any(hmac.compare_digest(given.encode(), key) for key in encoded):
            raise ApiError(
                401,
                ErrorCode.unauthorized,
                "an API key is needed: X-API-Key: KEY or Authorization: Bearer KEY",
                {"WWW-Authenticate": "Bearer"},
            )

    return check


# --- the OpenAPI document ----------------------------------------------------------------------------

SCHEMA_REF = "#/components/schemas/{model}"


def _parameters(model: type[BaseModel], where: str) -> list[dict[str, Any]]:
    """OpenAPI parameters from a parameter model's JSON schema (an optional parameter is one a
    client leaves out, so its null alternative is dropped)."""
    described = model.model_json_schema(by_alias=True, ref_template=SCHEMA_REF)
    required = set(described.get("required", ()))
    parameters = []
    for name, property_schema in described["properties"].items():
        value = {k: v for k, v in property_schema.items() if k != "title"}
        description = value.pop("description", None)
        options = value.pop("anyOf", None)
        if options is not None:
            kept = [option for option in options if option != {"type": "null"}]
            value.update(kept[0] if len(kept) == 1 else {"anyOf": kept})
        if value.get("default", 0) is None:
            del value["default"]
        parameter = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": value,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def openapi_document(endpoints: list[Endpoint], api_keys: bool) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``endpoints``: parameters, bodies and error bodies come from
    the same pydantic models the server validates with and answers in."""
    models = [ErrorEnvelope, *(e.response for e in endpoints if e.response is not None)]
    _, definitions = models_json_schema([(m, "serialization") for m in models], ref_template=SCHEMA_REF)
    paths: dict[str, Any] = {}
    for endpoint in endpoints:
        if endpoint.response is None:
            ok = {
                "description": "Prometheus text format",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        else:
            ok = {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": {"$ref": SCHEMA_REF.format(model=endpoint.response.__name__)}
                    }
                },
            }
        errors = {
            str(status): {
                "description": ERROR_DESCRIPTIONS[status],
                "content": {
                    "application/json": {"schema": {"$ref": SCHEMA_REF.format(model="ErrorEnvelope")}}
                },
            }
            for status in endpoint.errors
        }
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "operationId": endpoint.handler.__name__,
            "parameters": [
                *(_parameters(endpoint.path_parameters, "path") if endpoint.path_parameters else []),
                *(_parameters(endpoint.query, "query") if endpoint.query else []),
            ],
            "responses": {"200": ok, **errors},
        }
        if api_keys and endpoint.needs_key:
            operation["security"] = [{"APIKeyHeader": []}, {"BearerAuth": []}]
        paths[endpoint.path] = {"get": operation}
    components: dict[str, Any] = {"schemas": definitions.get("$defs", {})}
    if api_keys:
        components["securitySchemes"] = {
            "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "BearerAuth": {"type": "http", "scheme": "bearer"},
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "footcast predictions API",
            "version": API_VERSION,
            "description": (
                "Read-only API over the football match predictions published to Redis. Every JSON "
                'response is `{"data", "error", "meta"}`; errors carry a stable `code`.'
            ),
        },
        "paths": paths,
        "components": components,
    }


# --- running it ----------------------------------------------------------------------------------------


class ReusePortListener(socket.socket):
    """The port for uvicorn's worker processes, each of which listens on a socket of its own.

    uvicorn's workers share the parent's listening socket, and whichever wakes first accepts a
    burst of new connections: 50 keep-alive connections were measured split 37/13, even 50/0,
    halving throughput. uvicorn hands the parent's sockets to its workers by pickling them; this
    one pickles as its address, so each worker opens its own SO_REUSEPORT listener and the
    kernel spreads connections over the workers. The parent only holds the port (bound, never
    listening, so no connection waits on it)."""

    @classmethod
    def for_workers(cls, host: str, port: int, backlog: int) -> "ReusePortListener":
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = cls(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise ServeConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        sock.address, sock.backlog = (host, port), backlog
        return sock

    def __reduce__(self):
        return _worker_listener, (*self.address, self.backlog)


def _worker_listener(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    access_log: bool = False,
    allow_anonymous: bool = False,
) -> None:
    """Serve until interrupted: ``workers`` uvicorn worker processes on host:port."""
    import uvicorn

    if not is_loopback(host) and not _split(os.environ.get("FOOTCAST_API_KEYS")) and not allow_anonymous:
        raise ServeConfigError(
            f"--host {host} is not loopback: set FOOTCAST_API_KEYS (comma-separated keys) so clients "
            "must authenticate, or pass --allow-anonymous to serve without keys"
        )
    if workers < 1:
        raise ServeConfigError("--workers must be at least 1")
    embedded = None
    description = redis_store.redact_url(config.redis_url() or "")
    if not config.redis_url():
        # The embedded server lives as long as this process; the workers reach it by its socket.
        embedded = redis_store.connect(None, config.embedded_redis_path())
        os.environ["FOOTCAST_REDIS_URL"] = f"unix://{embedded.socket_file}"
        description = f"embedded redis {config.embedded_redis_path()}"
    own_metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_metrics_dir = tempfile.mkdtemp(prefix="footcast-serve-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_metrics_dir
    settings = Settings.from_env()
    # A client that hangs up must cost a write an EPIPE error, not the server its life: the CLI
    # restores SIGPIPE's default action (so `footcast lookup | head` ends quietly), and with
    # one worker uvicorn serves in this very process.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    print(
        f"footcast serve: http://{host}:{port} ({workers} worker{'s' if workers > 1 else ''}), "
        f"predictions from {description} prefix {settings.prefix!r}; "
        f"API keys {'required' if settings.api_keys else 'off'}; "
        f"CORS {', '.join(settings.cors_origins) if settings.cors_origins else 'off'}",
        flush=True,
    )
    server_config = uvicorn.Config(
        "footcast.api.server:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=access_log,
        log_level="info",
        server_header=False,
        proxy_headers=False,
    )
    try:
        if workers == 1:
            uvicorn.Server(server_config).run()
        else:
            from uvicorn.supervisors import Multiprocess

            listener = ReusePortListener.for_workers(host, port, server_config.backlog)
            Multiprocess(server_config, sockets=[listener]).run()
    finally:
        if own_metrics_dir:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
        if embedded is not None:
            embedded.close()
