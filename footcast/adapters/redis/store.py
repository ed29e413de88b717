"""Predictions in Redis: atomic versioned publish and one-round-trip lookups.

The keys are those of :mod:`footcast.adapters.redis.layout`. Publishing writes every key of
the new version first, then switches ``P:current`` in one MULTI/EXEC. The keys go in chunks
(default 5,000 predictions), each one non-transactional pipeline encoded by
:func:`footcast.adapters.redis.resp.chunk_commands`: a SADD of its index keys to the version's
catalogue, one ZADD per index key, a SADD of its leagues, then a HSET per prediction (records
after their index entries, so a killed publisher leaves nothing the catalogue and the kickoff
index miss). Redis serves other clients between the 16 KB reads of a pipeline, so a chunk never
blocks it for long; two chunks are in flight, one being encoded while Redis stores the other.
Readers resolve the pointer and read the version inside one Lua script, so a lookup is one
round trip and always sees one complete version (each reading thread keeps one pool connection
for its lookups). Versions beyond the newest ``keep_versions`` (and a version rolled back from)
get a TTL. Before the switch the publish checks that the batch is probabilities and, after the
writes, that every prediction is stored (a Redis restart without persistence loses earlier
chunks); rewriting a version that is not current first deletes what an earlier write of it left
(a killed publisher, a TTL).
"""

from __future__ import annotations

import functools
import os
import secrets
import threading
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import hiredis
import pandas as pd
import redis
from redis.commands.core import Script
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from footcast.adapters.redis.layout import (
    INDEXES,
    KICKOFF_INDEX,
    LOOKUP_INDEX_SCRIPT,
    LOOKUP_MATCH_SCRIPT,
    PREDICTION_FIELDS,
    NotPublishedError,
    current_key,
    decode_record,
    index_lookup_args,
    league_date_index,
    match_lookup_args,
    pending_key,
    team_index,
    version_base,
    versions_key,
)
from footcast.adapters.redis.resp import chunk_commands, send_pipelined
from footcast.data import teams
from footcast.models import metrics

T = TypeVar("T")


class PublishError(RuntimeError):
    """Publishing to Redis failed; the previously published version is still served."""


def new_version(now: datetime | None = None) -> str:
    """A sortable, unique publish version id, e.g. ``20261129T134501Z-3f9a1c``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


class _KeptConnection:
    """A pool connection one thread keeps for its lookups, given back to the pool when the
    thread ends (its thread-local reference is dropped) or the store goes away."""

    def __init__(self, pool: redis.ConnectionPool):
        self.forks = _forks
        self.connection = pool.get_connection()
        weakref.finalize(self, pool.release, self.connection)


# Forks of this process so far, as seen in it: a child's kept connections are its parent's
# sockets (counted rather than compared by pid: os.getpid() is a system call per lookup).
_forks = 0


def _count_fork() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_count_fork)


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
        chunk_size: int = 5000,
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
        self._lookup_match = client.register_script(LOOKUP_MATCH_SCRIPT)
        self._lookup_index = client.register_script(LOOKUP_INDEX_SCRIPT)
        self._kept = threading.local()  # per thread: the pool connection its lookups use

    # -- keys --------------------------------------------------------------------------

    @property
    def current_key(self) -> str:
        return current_key(self.prefix)

    @property
    def versions_key(self) -> str:
        return versions_key(self.prefix)

    @property
    def pending_key(self) -> str:
        return pending_key(self.prefix)

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

    def publish(
        self,
        batch: pd.DataFrame,
        version: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PublishResult:
        """Write ``batch`` (one row per prediction, PREDICTION_FIELDS) as a new version, then switch.

        ``progress(chunks_written, chunks)`` is called after each chunk is stored."""
        version = self._checked_version(batch, version)
        base = self._base(version)
        self._retrying("registering the pending version", lambda: self.client.sadd(self.pending_key, version))
        self._retrying(f"clearing leftovers of version {version}", lambda: self._clear_leftovers(version))
        chunks = self._write_chunks(batch, base, version, progress)
        self._check_stored(batch, base, version)
        meta = {
            "version": version,
            "published_at": datetime.now(UTC).isoformat(),
            "count": str(len(batch)),
            "model_version": str(batch["model_version"].iloc[0]) if len(batch) else "",
        }
        self._retrying("writing version metadata", lambda: self.client.hset(f"{base}:meta", mapping=meta))
        previous = self._retrying("switching the current version", lambda: self._switch(version))
        expired = self._retrying("expiring old versions", self._expire_old_versions)
        return PublishResult(version, len(batch), previous, chunks, expired)

    @staticmethod
    def _checked_version(batch: pd.DataFrame, version: str | None) -> str:
        """The version ``batch`` is published as, once it is known to hold predictions."""
        missing = [f for f in PREDICTION_FIELDS if f not in batch.columns and f != "publish_version"]
        if missing:
            raise ValueError(f"prediction batch lacks columns {missing}")
        version = version or (
            str(batch["publish_version"].iloc[0])
            if "publish_version" in batch and len(batch)
            else new_version()
        )
        # A batch from the warehouse passed this check when it was scored; one edited or loaded
        # since may not have: nothing that is not a probability distribution reaches readers.
        try:
            if len(batch):
                metrics.check_probabilities(batch[["p_home", "p_draw", "p_away"]].to_numpy(dtype="float64"))
        except ValueError as exc:
            raise ValueError(f"prediction batch {version} was not published: {exc}") from exc
        return version

    def _write_chunks(
        self,
        batch: pd.DataFrame,
        base: str,
        version: str,
        progress: Callable[[int, int], None] | None,
    ) -> int:
        """Write every key of ``batch`` in ``version`` (keys below ``base``), chunk by chunk;
        returns the number of chunks."""
        starts = range(0, len(batch), self.chunk_size)
        team_key = functools.lru_cache(maxsize=None)(teams.team_key)  # a team is in many chunks

        def write(number: int, first: int) -> None:
            chunk = batch.iloc[first : first + self.chunk_size]
            packed, replies = chunk_commands(chunk, base, version, team_key)
            self._retrying(
                f"writing chunk {number}/{len(starts)} of version {version}",
                lambda: send_pipelined(self.client, packed, replies),
            )

        # Two chunks in flight: one is converted and encoded while Redis stores the other. A
        # chunk is submitted only once the one two places before it is stored, so chunks land in
        # batch order, give or take one, and a failure stops the publish within a chunk (every
        # command is idempotent: a retried chunk that was partly applied writes the same again).
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="publish") as writers:
            in_flight: deque[tuple[int, Future[None]]] = deque()
            try:
                for number, first in enumerate(starts, start=1):
                    in_flight.append((number, writers.submit(write, number, first)))
                    if len(in_flight) == 2:
                        self._chunk_done(*in_flight.popleft(), len(starts), progress)
                while in_flight:
                    self._chunk_done(*in_flight.popleft(), len(starts), progress)
            finally:
                for _number, chunk in in_flight:
                    chunk.cancel()
        return len(starts)

    def _check_stored(self, batch: pd.DataFrame, base: str, version: str) -> None:
        """Fail unless every prediction of ``batch`` is stored in ``version``.

        A Redis restart without persistence during the writes loses the chunks written before
        it, and the retries cannot tell: never switch readers to a version that lacks records."""
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

    @staticmethod
    def _chunk_done(
        number: int, chunk: Future[None], chunks: int, progress: Callable[[int, int], None] | None
    ) -> None:
        chunk.result()
        if progress is not None:
            progress(number, chunks)

    def _clear_leftovers(self, version: str) -> None:
        """Delete keys left by an earlier write of ``version`` (a killed publisher, or an old
        version re-published): they may carry a garbage TTL, or stale index entries. Not when
        readers are on ``version``, and without a keyspace scan when nothing is left."""
        base = self._base(version)
        if self.client.get(self.current_key) == version:
            return
        if not self.client.exists(f"{base}:kickoff", f"{base}:meta"):
            return
        keys = self._version_keys(version)
        for start in range(0, len(keys), 1000):
            self.client.unlink(*keys[start : start + 1000])

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

    def _version_keys(self, version: str) -> list[str]:
        """Every key of ``version``: its records through the kickoff index, its other indexes
        through their catalogue (no keyspace SCAN, whose cost grows with everything else the
        Redis database holds)."""
        base = self._base(version)
        pipe = self.client.pipeline(transaction=False)
        pipe.smembers(f"{base}:{INDEXES}")
        pipe.zrange(f"{base}:{KICKOFF_INDEX}", 0, -1)
        indexes, match_ids = pipe.execute()
        return [
            f"{base}:meta",
            f"{base}:leagues",
            f"{base}:{INDEXES}",
            *(f"{base}:{index}" for index in indexes),
            *(f"{base}:match:{match_id}" for match_id in match_ids),
        ]

    def _expire_version(self, version: str) -> None:
        keys = self._version_keys(version)
        for start in range(0, len(keys), self.chunk_size):
            part = keys[start : start + self.chunk_size]
            expires = [hiredis.pack_command(("EXPIRE", key, self.expire_seconds)) for key in part]
            send_pipelined(self.client, [b"".join(expires)], len(part))

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

    def _run_script(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """Run a lookup script: EVALSHA packed and parsed by hiredis on the connection this thread
        keeps for its lookups. That is half the client CPU of redis-py's Script call (pool
        checkout and health poll, command dispatch, retry wrapper, reply callbacks), which caps
        the lookups per second of a Python process. Anything but a reply (a dropped connection,
        a server that lost its script cache) is left to the Script call, with redis-py's
        reconnects, retries and SCRIPT LOAD; lookups are reads, so running one again is safe."""
        connection = self._lookup_connection()
        try:
            command = hiredis.pack_command(("EVALSHA", script.sha, len(keys), *keys, *args))
            connection.send_packed_command([command], check_health=False)
            return connection.read_response()
        except redis.exceptions.NoScriptError:
            pass  # the reply was read: the connection is in sync
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            connection.disconnect()  # (redis-py reconnects it on its next command)
        return script(keys=keys, args=args)

    def _lookup_connection(self) -> redis.connection.AbstractConnection:
        kept = getattr(self._kept, "connection", None)
        if kept is None or kept.forks != _forks:  # (a forked child must not share the socket)
            kept = self._kept.connection = _KeptConnection(self.client.connection_pool)
        return kept.connection

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
        reply = self._run_script(self._lookup_match, keys, args)
        if not reply:
            raise NotPublishedError("nothing has been published yet")
        return decode_record(reply[1]) if reply[1] else None

    def _index(
        self, index: str, start: float | str = "-inf", end: float | str = "+inf", limit: int = 1000
    ) -> list[dict[str, Any]]:
        keys, args = index_lookup_args(self.prefix, index, start, end, limit)
        reply = self._run_script(self._lookup_index, keys, args)
        if not reply:
            raise NotPublishedError("nothing has been published yet")
        return [decode_record(flat) for flat in reply[1:] if flat]

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
