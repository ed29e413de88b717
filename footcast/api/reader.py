"""Lookups of the current published version in Redis (redis.asyncio), by match and by index page.

Pages are in index order (kickoff score, then match id) and resume after a cursor, the position
of the last record of the page before: ``{kickoff epoch seconds}~{match id}``.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from footcast.adapters.redis import layout
from footcast.adapters.redis import track_record as track_layout
from footcast.api.envelope import ApiError, ErrorCode

# Records read from Redis for one page when a filter (league on a team or time index) drops
# some: bounds the work of one request; the page then ends early with a cursor to go on.
MAX_SCANNED_PER_PAGE = 20_000


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


@dataclass
class TrackRecordRead:
    """The track record version read from Redis, as JSON text (decoded by the handler)."""

    version: str
    updated_at: str
    summary: str  # JSON list
    excluded: str  # JSON list
    leagues: list[str]  # leagues of the version
    matches: dict[str, list[str]]  # league -> JSON of its matches, newest first


class VersionChanged(Exception):
    """A publish switched the current version between the reads of one page."""


class PredictionReader:
    """Lookups of the current published version over redis.asyncio, with the store's scripts."""

    def __init__(self, client: aioredis.Redis, prefix: str):
        self.client = client
        self.prefix = prefix
        self._lookup_match = client.register_script(layout.LOOKUP_MATCH_SCRIPT)
        self._lookup_index = client.register_script(layout.LOOKUP_INDEX_SCRIPT)
        self._read_track_record = client.register_script(track_layout.READ_SCRIPT)

    async def get(self, match_id: str) -> tuple[str, dict[str, Any] | None]:
        keys, args = layout.match_lookup_args(self.prefix, match_id)
        reply = await self._lookup_match(keys=keys, args=args)
        if not reply:
            raise layout.NotPublishedError("nothing has been published yet")
        return reply[0], (layout.decode_record(reply[1]) if reply[1] else None)

    async def index(self, index: str, start: str, end: str, limit: int) -> tuple[str, list[dict[str, Any]]]:
        keys, args = layout.index_lookup_args(self.prefix, index, start, end, limit)
        reply = await self._lookup_index(keys=keys, args=args)
        if not reply:
            raise layout.NotPublishedError("nothing has been published yet")
        return reply[0], [layout.decode_record(flat) for flat in reply[1:] if flat]

    async def current_version(self) -> str:
        version = await self.client.get(layout.current_key(self.prefix))
        if version is None:
            raise layout.NotPublishedError("nothing has been published yet")
        return version

    async def meta(self) -> dict[str, str]:
        version = await self.current_version()
        return await self.client.hgetall(f"{layout.version_base(self.prefix, version)}:meta")

    async def leagues(self) -> tuple[str, list[str]]:
        version = await self.current_version()
        members = await self.client.smembers(f"{layout.version_base(self.prefix, version)}:leagues")
        return version, sorted(members)

    async def track_record(
        self, leagues: list[str], since_epoch: float | None, per_league: int
    ) -> TrackRecordRead | None:
        """The published track record (every league's or ``leagues``' matches kicked off at or
        after ``since_epoch``, at most ``per_league`` of each, newest first), or None when none
        is published."""
        keys, args = track_layout.read_args(self.prefix, leagues, since_epoch, per_league)
        reply = await self._read_track_record(keys=keys, args=args)
        if not reply:
            return None
        version, summary, excluded, updated_at, known, *pairs = reply
        matches = {league: records for league, records in zip(pairs[0::2], pairs[1::2], strict=True)}
        return TrackRecordRead(version, updated_at, summary, excluded, sorted(known), matches)

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
            last_seen = _take_after(records, position, league, found, limit + 1)
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


def _take_after(
    records: list[dict[str, Any]],
    position: tuple[float, str] | None,
    league: str | None,
    found: list[dict[str, Any]],
    wanted: int,
) -> tuple[float, str] | None:
    """Append to ``found`` the records after ``position`` (of ``league`` only, if given) until it
    holds ``wanted``; return the index position of the last record read past ``position`` (None
    if all were at or before it)."""
    last_seen = None
    for record in records:
        key = (_score(record), record["match_id"])
        if position is not None and key <= position:
            continue  # at or before the cursor: ties at the cursor's kickoff come first
        last_seen = key
        if league is not None and record["league"] != league:
            continue
        found.append(record)
        if len(found) == wanted:
            break
    return last_seen


def _format_cursor(key: tuple[float, str]) -> str:
    score, match_id = key
    text = f"{score:.6f}".rstrip("0").rstrip(".")
    return f"{text}~{match_id}"


def _cursor(record: dict[str, Any]) -> str:
    return _format_cursor((_score(record), record["match_id"]))


def parse_cursor(cursor: str) -> tuple[float, str]:
    score, _, match_id = cursor.partition("~")
    return float(score), match_id
