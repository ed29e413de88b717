"""The endpoints: their handlers, and the table of what each is (path, summary, body, errors)
that the app routes and the OpenAPI document describes."""

import logging
from datetime import date, datetime, timedelta

import orjson
import redis
from starlette.requests import Request
from starlette.responses import Response

from footcast import config
from footcast.adapters.redis import layout
from footcast.api.envelope import ApiError, ErrorCode, json_response
from footcast.api.metrics import Metrics, track_record_exposition
from footcast.api.openapi import API_VERSION, Endpoint
from footcast.api.parameters import ListQuery, MatchPath, TrackRecordQuery, validated
from footcast.api.reader import Page, PredictionReader, TrackRecordRead, Window, parse_cursor
from footcast.api.responses import (
    HealthEnvelope,
    LeaguesEnvelope,
    PredictionEnvelope,
    PredictionListEnvelope,
    TrackRecordEnvelope,
)
from footcast.data import schema, teams
from footcast.models import track_record_report

log = logging.getLogger("footcast.serve")


class RedisStatus:
    """Whether Redis was unavailable at the last request that failed on it: an outage is logged
    when it starts and when it ends."""

    def __init__(self) -> None:
        self.down = False

    def unavailable(self, exc: Exception) -> None:
        if not self.down:
            self.down = True  # log once per outage, not once per request
            log.warning("Redis is unavailable: %s: %s", type(exc).__name__, exc)

    def reachable(self) -> None:
        if self.down:
            self.down = False
            log.warning("Redis is reachable again")


class Handlers:
    """The handlers of one worker's app (their names are the OpenAPI operation ids)."""

    def __init__(self, metrics: Metrics, redis_status: RedisStatus):
        self.metrics = metrics
        self.redis_status = redis_status
        self.reader: PredictionReader | None = None  # created by the lifespan, in each worker

    async def get_prediction(self, request: Request) -> Response:
        match_id = validated(MatchPath, request.path_params).match_id
        version, record = await self.reader.get(match_id)
        self.redis_status.reachable()
        if record is None:
            raise ApiError(
                404, ErrorCode.not_found, f"no prediction for match id {match_id} in version {version}"
            )
        return json_response(record, {"version": version})

    async def list_predictions(self, request: Request) -> Response:
        query: ListQuery = validated(ListQuery, request.query_params)
        page = await _query_page(self.reader, query)
        self.redis_status.reachable()
        meta = {
            "version": page.version,
            "count": len(page.records),
            "limit": query.limit,
            "next_cursor": page.next_cursor,
        }
        return json_response(page.records, meta)

    async def list_leagues(self, _request: Request) -> Response:
        version, leagues = await self.reader.leagues()
        self.redis_status.reachable()
        return json_response(leagues, {"version": version})

    async def health(self, _request: Request) -> Response:
        meta = await self.reader.meta()
        self.redis_status.reachable()
        version = meta.get("version")
        if not version:
            raise layout.NotPublishedError("nothing has been published yet")
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

    async def get_track_record(self, request: Request) -> Response:
        """The published predictions scored after their matches (the track record's report),
        read from the version the `published_track_record` asset last published."""
        query: TrackRecordQuery = validated(TrackRecordQuery, request.query_params)
        leagues = query.league_list()
        since = track_record_report.since_moment(query.since)
        # One more than the limit per league: whether the limit cut any off.
        read = await self.reader.track_record(leagues, since.timestamp() if since else None, query.limit + 1)
        self.redis_status.reachable()
        if read is None:
            raise ApiError(
                503,
                ErrorCode.not_published,
                "no track record is published yet (the update_track_record job publishes it)",
                {"Retry-After": "60"},
            )
        unknown = [league for league in leagues if league not in read.leagues]
        if unknown:
            raise ApiError(
                404,
                ErrorCode.unknown_league,
                f"league {unknown[0]} has no scored match in the track record; leagues: "
                + (", ".join(read.leagues) or "none"),
            )
        data, truncated = track_record_report.select(_report(read), leagues, since, query.limit)
        meta = {
            "version": read.version,
            "updated_at": read.updated_at,
            "count": len(data["matches"]),
            "limit": query.limit,
            "truncated": truncated,
        }
        return json_response(data, meta)

    async def prometheus_metrics(self, _request: Request) -> Response:
        body, content_type = self.metrics.exposition()
        return Response(body + await self._track_record_gauges(), media_type=content_type)

    async def _track_record_gauges(self) -> bytes:
        """The published track record's rolling figures as gauges; none when Redis is down or
        nothing is published (the latency metrics are still served)."""
        try:
            read = await self.reader.track_record([], None, 0)
        except redis.RedisError as exc:
            self.redis_status.unavailable(exc)
            return b""
        if read is None:
            return b""
        return track_record_exposition(orjson.loads(read.summary), read.updated_at)


def endpoints(handlers: Handlers, api_keys: bool) -> list[Endpoint]:
    """Every GET route; 401 is among the errors only when API keys are on."""
    keys = (401,) if api_keys else ()
    return [
        Endpoint(
            "/predictions/{match_id}", handlers.get_prediction, "One prediction by match id", "predictions",
            PredictionEnvelope, (*keys, 404, 414, 422, 503), path_parameters=MatchPath,
        ),
        Endpoint(
            "/predictions", handlers.list_predictions,
            "Predictions by team, league, UK-local date and kickoff window, in kickoff order",
            "predictions", PredictionListEnvelope, (*keys, 404, 414, 422, 503), query=ListQuery,
        ),
        Endpoint(
            "/leagues", handlers.list_leagues, "League codes in the published version", "predictions",
            LeaguesEnvelope, (*keys, 414, 503),
        ),
        Endpoint(
            "/health", handlers.health,
            "Redis reachable, the published version and its age (no API key needed)",
            "operations", HealthEnvelope, (414, 503), needs_key=False,
        ),
        Endpoint(
            "/track-record", handlers.get_track_record,
            "Published predictions scored after their matches, against the market and Elo, with "
            "rolling figures per league", "track record", TrackRecordEnvelope, (*keys, 404, 414, 422, 503),
            query=TrackRecordQuery,
        ),
        Endpoint(
            "/metrics", handlers.prometheus_metrics,
            "Prometheus metrics: latency histograms (and so request counts) by route and status, and "
            "the track record's rolling figures as gauges",
            "operations", None, (*keys, 414),
        ),
    ]  # fmt: skip


def _report(read: TrackRecordRead) -> dict[str, list]:
    """The report of a track record read: the leagues' matches merged in kickoff order."""
    matches = [orjson.loads(text) for records in read.matches.values() for text in records]
    matches.sort(key=lambda record: (record["kickoff"], record["match_id"]))
    summary, excluded = orjson.loads(read.summary), orjson.loads(read.excluded)
    return {"matches": matches, "summary": summary, "excluded": excluded}


def _uk_day_window(day: date) -> Window:
    start = datetime.combine(day, datetime.min.time(), schema.UK)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), schema.UK)
    return Window(start.timestamp(), end.timestamp())


def _intersect(*windows: Window) -> Window:
    starts = [w.start for w in windows if w.start is not None]
    ends = [w.end for w in windows if w.end is not None]
    return Window(max(starts) if starts else None, min(ends) if ends else None)


def _query_window(query: ListQuery) -> Window:
    """The kickoff window of the date, from and to parameters together."""
    windows = [Window()]
    if query.day is not None:
        windows.append(_uk_day_window(query.day))
    if query.start is not None:
        windows.append(Window(start=query.start.timestamp()))
    if query.end is not None:
        windows.append(Window(end=query.end.timestamp()))
    return _intersect(*windows)


async def _query_page(lookups: PredictionReader, query: ListQuery) -> Page:
    """The page ``query`` asks for, from the narrowest index that answers it: the team's, the
    league's on one date, or the kickoff index."""
    window = _query_window(query)
    after = parse_cursor(query.cursor) if query.cursor else None
    league, limit = query.league, query.limit
    if query.team is not None:
        return await _team_page(lookups, query.team, window, limit, after, league)
    if league is not None and query.day is not None:
        index = layout.league_date_index(league, query.day.isoformat())
        page = await lookups.page(index, window, limit, after)
        if not page.records and after is None:
            await _require_league(lookups, league)
        return page
    if league is not None:
        await _require_league(lookups, league)
    return await lookups.page(layout.KICKOFF_INDEX, window, limit, after, league)


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
    indexes = dict.fromkeys(layout.team_index(name) for name in (team, *teams.aliases_of(team)))
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
