"""Publishing to Redis while the server goes down, restarts, or the publisher is killed.

Every test starts its own ``redis-server`` on a free loopback port with its data in the test's
temp dir, and stops, kills or restarts it (the shared Redis on 6379 is never touched). Without
the redis-server binary the tests skip, except under CI=true where they fail.

What they show:
- Redis down mid-publish: the publish retries with backoff, then raises PublishError naming
  the step, the server and the attempts; after a restart readers get the previous complete
  version, and rerunning the publish alone (same batch, same version id) completes it.
- Redis restarting mid-publish within the retry budget: the publish completes and every key of
  the version is there. If the restart lost the writes already made (no persistence), the
  publish fails clearly instead of switching readers to an incomplete version.
- A publisher process SIGKILLed midway while reader threads loop over get / by_team /
  by_league_date: every read is a complete A or a complete B record, current stays A, and a
  fresh publish of B then succeeds and readers see B.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import redis

from footcast.adapters.redis.layout import decode_record
from footcast.adapters.redis.store import PredictionStore, PublishError, PublishResult
from tests.support import N_LEAGUES, P_HOME, REPO, Expected, RedisServer, make_batch

# --- servers the test owns (tests.support.RedisServer) ---------------------------------------------


def _server(binary: str, tmp_path: Path, persistent: bool):
    server = RedisServer(binary, tmp_path / ("redis-aof" if persistent else "redis-volatile"), persistent)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def persistent_server(redis_server_binary, tmp_path):
    yield from _server(redis_server_binary, tmp_path, persistent=True)


@pytest.fixture
def volatile_server(redis_server_binary, tmp_path):
    yield from _server(redis_server_binary, tmp_path, persistent=False)


def _store(server: RedisServer, **options) -> PredictionStore:
    return PredictionStore(server.client(), prefix="faults", description=f"test {server.url}", **options)


# --- checks of a complete version (tests.support.make_batch, Expected) ------------------------------


def assert_version_complete(client: redis.Redis, prefix: str, version: str, expected: Expected) -> None:
    """Every key of ``version`` is in Redis with the right content, and nothing else is."""
    base = f"{prefix}:v:{version}"
    meta = client.hgetall(f"{base}:meta")
    assert meta["version"] == version and meta["count"] == str(expected.n)
    ids = list(expected.rows)
    pipe = client.pipeline(transaction=False)
    for match_id in ids:
        pipe.hgetall(f"{base}:match:{match_id}")
    stored = pipe.execute()
    problems = [
        expected.record_problem(decode_record(_flatten(flat)) if flat else None, match_id)
        for match_id, flat in zip(ids, stored, strict=True)
    ]
    problems = [p for p in problems if p]
    assert not problems, f"{len(problems)} bad match records, e.g. {problems[:3]}"
    assert {r["publish_version"] for r in map(dict, stored)} == {version}
    assert client.zcard(f"{base}:kickoff") == expected.n
    for key, want in expected.team.items():
        assert client.zrange(f"{base}:team:{key}", 0, -1) == want, key
    for (league, day), want in expected.league_date.items():
        assert client.zrange(f"{base}:league:{league}:{day}", 0, -1) == want, (league, day)
    assert client.smembers(f"{base}:leagues") == {f"L{i:02d}" for i in range(min(N_LEAGUES, expected.n))}
    index_keys = {f"team:{key}" for key in expected.team} | {
        f"league:{league}:{day}" for league, day in expected.league_date
    }
    assert client.smembers(f"{base}:indexes") == index_keys | {"kickoff"}
    n_keys = sum(1 for _ in client.scan_iter(match=f"{base}:*", count=5000))
    assert n_keys == 1 + expected.n + len(index_keys) + 3  # kickoff, meta, leagues, indexes
    assert client.ttl(f"{base}:kickoff") == -1 and client.ttl(f"{base}:match:{ids[-1]}") == -1


def _flatten(mapping: dict[str, str]) -> list[str]:
    return [item for pair in mapping.items() for item in pair]


def _key_of_row(prefix: str, version: str, row: int) -> str:
    return f"{prefix}:v:{version}:match:m{row:06d}"


def _wait_for_key(client: redis.Redis, key: str, timeout: float = 120) -> None:
    """Wait until the publisher has written ``key`` (chunks are written in batch order)."""
    deadline = time.monotonic() + timeout
    while not client.exists(key):
        if time.monotonic() > deadline:
            raise AssertionError(f"the publisher never wrote {key}")
        time.sleep(0.002)


class PublishThread(threading.Thread):
    """Publishes in a thread. With ``pause_after=k`` the publish stops after its k-th chunk is
    stored (at most one more chunk is in flight) until ``resume`` is set: the test acts on Redis
    at a known point of the publish instead of racing it."""

    def __init__(
        self,
        store: PredictionStore,
        batch: pd.DataFrame,
        version: str,
        pause_after: int | None = None,
    ):
        super().__init__(daemon=True)
        self.store, self.batch, self.version, self.pause_after = store, batch, version, pause_after
        self.paused, self.resume = threading.Event(), threading.Event()
        self.result: PublishResult | None = None
        self.error: BaseException | None = None
        self.finished_at: float | None = None

    def _progress(self, written: int, _chunks: int) -> None:
        if written == self.pause_after:
            self.paused.set()
            assert self.resume.wait(timeout=60), "the test never resumed the publish"

    def run(self) -> None:
        try:
            self.result = self.store.publish(self.batch, version=self.version, progress=self._progress)
        except BaseException as exc:  # handed to the test thread
            self.error = exc
        finally:
            self.finished_at = time.monotonic()
            self.paused.set()  # (a publish that failed before the pause point)

    def wait_paused(self) -> None:
        assert self.paused.wait(timeout=120), "the publish never reached its pause point"
        assert self.error is None, repr(self.error)


# --- Redis down / restarting during publish --------------------------------------------------------


def test_redis_down_mid_publish_retries_then_fails_clearly_and_a_rerun_completes(persistent_server):
    n = 6000
    expected = Expected.of(n)
    store = _store(persistent_server, chunk_size=100, max_attempts=3, backoff_max=0.3)
    store.publish(make_batch("A", n), version="A")
    # A reader that was reading before Redis went down (its connection dies with the server).
    early_reader = _store(persistent_server)
    assert early_reader.get("m000001")["publish_version"] == "A"

    publisher = PublishThread(store, make_batch("B", n), "B", pause_after=n // 100 // 4)
    publisher.start()
    publisher.wait_paused()
    down_at = time.monotonic()
    persistent_server.stop()
    publisher.resume.set()
    publisher.join(timeout=60)
    assert not publisher.is_alive()

    error = publisher.error
    assert isinstance(error, PublishError), repr(error)
    message = str(error)
    assert "of version B" in message and f"test {persistent_server.url}" in message, message
    assert "failed after 3 attempts" in message, message
    assert isinstance(error.__cause__, redis.ConnectionError), repr(error.__cause__)
    # Two backoff waits of at least 0.2 s and min(0.4, backoff_max) s separate the 3 attempts.
    assert publisher.finished_at - down_at >= 0.2 + 0.3 - 0.01

    persistent_server.start()
    # The publisher's own client, the early reader and a fresh one reconnect and get the complete A
    # (the restarted server has no scripts cached either).
    for reader in (store, early_reader, _store(persistent_server)):
        assert reader.current_version() == "A"
        assert expected.record_problem(reader.get("m000001"), "m000001") is None
        assert reader.get("m000001")["publish_version"] == "A"
        assert [r["match_id"] for r in reader.by_team("team 001")] == expected.team["team 001"]
    assert_version_complete(store.client, "faults", "A", expected)
    assert store.client.smembers(store.pending_key) == {"B"}
    assert store.client.exists(_key_of_row("faults", "B", 0))  # B is half written
    assert not store.client.exists(_key_of_row("faults", "B", n - 1))

    # Rerunning the publish alone (same batch, same version id) completes it.
    result = store.publish(make_batch("B", n), version="B")
    assert (result.version, result.count, result.previous_version) == ("B", n, "A")
    assert store.current_version() == "B"
    assert store.client.lrange(store.versions_key, 0, -1) == ["B", "A"]
    assert store.client.smembers(store.pending_key) == set()
    assert_version_complete(store.client, "faults", "B", expected)
    assert store.get("m000001")["p_home"] == P_HOME["B"]


def test_redis_restarting_mid_publish_within_the_retry_budget_completes_the_publish(persistent_server):
    n = 6000
    expected = Expected.of(n)
    store = _store(persistent_server, chunk_size=100, max_attempts=10, backoff_max=1.0)
    store.publish(make_batch("A", n), version="A")

    publisher = PublishThread(store, make_batch("B", n), "B", pause_after=n // 100 // 3)
    publisher.start()
    publisher.wait_paused()
    persistent_server.stop()
    publisher.resume.set()
    time.sleep(0.3)
    assert publisher.is_alive(), "the publish gave up while Redis was restarting"
    persistent_server.start()
    publisher.join(timeout=60)

    assert publisher.error is None, repr(publisher.error)
    assert publisher.result is not None and publisher.result.previous_version == "A"
    assert store.current_version() == "B"
    assert store.client.lrange(store.versions_key, 0, -1) == ["B", "A"]
    assert store.client.smembers(store.pending_key) == set()
    assert_version_complete(store.client, "faults", "B", expected)
    assert_version_complete(store.client, "faults", "A", expected)  # kept for rollback


def test_a_restart_that_loses_the_written_keys_fails_the_publish_instead_of_serving_a_partial_version(
    volatile_server,
):
    """Without persistence a restart empties Redis: the chunks written before it are gone, so
    switching to the version afterwards would serve a partial batch. The publish must fail
    clearly instead, and a rerun must complete the version."""
    n = 4000
    expected = Expected.of(n)
    store = _store(volatile_server, chunk_size=100, max_attempts=10, backoff_max=1.0)
    store.publish(make_batch("A", n), version="A")

    publisher = PublishThread(store, make_batch("B", n), "B", pause_after=n // 100 // 3)
    publisher.start()
    publisher.wait_paused()
    volatile_server.stop()
    volatile_server.start()
    publisher.resume.set()
    publisher.join(timeout=60)

    assert isinstance(publisher.error, PublishError), repr(publisher.error)
    assert "B" in str(publisher.error) and f"of {n}" in str(publisher.error), str(publisher.error)
    assert store.current_version() != "B"  # (None: the restart lost A as well)
    assert store.client.exists(_key_of_row("faults", "B", n - 1))  # the tail was written

    result = store.publish(make_batch("B", n), version="B")
    assert result.count == n and store.current_version() == "B"
    assert_version_complete(store.client, "faults", "B", expected)


# --- the publisher killed midway while readers loop ------------------------------------------------

_PUBLISHER = """
import sys
import time
import redis
from footcast.adapters.redis.store import PredictionStore
from tests.support import make_batch

url, prefix, tag, n, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
pause = float(sys.argv[6])
batch = make_batch(tag, n)
client = redis.Redis.from_url(url, decode_responses=True)
store = PredictionStore(client, prefix=prefix, chunk_size=chunk)
store.publish(batch, version=tag, progress=lambda written, chunks: time.sleep(pause))
"""


def _publisher(url: str, tag: str, n: int, chunk: int, pause: float = 0.0) -> subprocess.Popen:
    """Publish ``make_batch(tag, n)`` as version ``tag`` in a separate process, sleeping ``pause``
    seconds after each chunk (so that it is still writing when the test kills it)."""
    return subprocess.Popen(
        [sys.executable, "-c", _PUBLISHER, url, "faults", tag, str(n), str(chunk), str(pause)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Read:
    started: float
    kind: str
    version: str | None
    problem: str | None


class Reader(threading.Thread):
    """Loops over get / by_team / by_league_date on its own connection and checks every reply."""

    def __init__(self, store: PredictionStore, expected: Expected, seed: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.store, self.expected, self.stop = store, expected, stop
        self.random = random.Random(seed)
        self.reads: list[Read] = []
        self.team_keys = sorted(expected.team)
        self.league_days = sorted(expected.league_date)
        self.ids = list(expected.rows)

    def run(self) -> None:
        kinds = ("get", "by_team", "by_league_date")
        while not self.stop.is_set():
            kind = kinds[len(self.reads) % 3]
            started = time.monotonic()
            try:
                if kind == "get":
                    match_id = self.random.choice(self.ids)
                    record = self.store.get(match_id)
                    problem = self.expected.record_problem(record, match_id)
                    version = record.get("publish_version") if record else None
                elif kind == "by_team":
                    key = self.random.choice(self.team_keys)
                    version, problem = self.expected.index_problem(
                        self.store.by_team(key), self.expected.team[key]
                    )
                else:
                    league, day = self.random.choice(self.league_days)
                    version, problem = self.expected.index_problem(
                        self.store.by_league_date(league, day), self.expected.league_date[(league, day)]
                    )
            except Exception as exc:  # any failure is a finding, reported by the test
                version, problem = None, f"{kind} raised {exc!r}"
            self.reads.append(Read(started, kind, version, problem))
            time.sleep(0.001)  # leave the GIL and a core to the publisher and the server


@pytest.mark.slow
def test_publisher_killed_midway_readers_only_ever_see_a_complete_version(persistent_server):
    n, chunk = 20_000, 100
    url = persistent_server.url
    expected = Expected.of(n)
    assert all(len(ids) <= 1000 for ids in expected.team.values())  # replies are never truncated
    store = _store(persistent_server)
    first = _publisher(url, "A", n, 5000)
    assert first.wait(timeout=300) == 0, first.communicate()[1]
    assert store.current_version() == "A"

    stop = threading.Event()
    # The readers are threads sharing one store, as the threads of an API process would.
    reading_store = _store(persistent_server)
    readers = [Reader(reading_store, expected, seed, stop) for seed in range(3)]
    for reader in readers:
        reader.start()
    try:
        # B in a separate process, SIGKILLed once a quarter of its match keys are written, while
        # it is writing: its 200 chunks take 2 s at least.
        doomed = _publisher(url, "B", n, chunk, pause=0.01)
        try:
            _wait_for_key(store.client, _key_of_row("faults", "B", n // 4))
        finally:
            doomed.send_signal(signal.SIGKILL)
            _out, err = doomed.communicate(timeout=30)
        killed_at = time.monotonic()
        assert doomed.returncode == -signal.SIGKILL, err
        # Killed midway: B is partly written, still pending, and readers stay on A.
        assert not store.client.exists(_key_of_row("faults", "B", n - 1))
        assert store.client.smembers(store.pending_key) == {"B"}
        assert store.current_version() == "A"
        time.sleep(0.5)

        # A fresh publish of B (a new process, as a rerun would be) while the readers read on.
        fresh = _publisher(url, "B", n, 5000)
        assert fresh.wait(timeout=300) == 0, fresh.communicate()[1]
        published_at = time.monotonic()
        deadline = published_at + 30
        while sum(1 for r in readers for read in r.reads if read.started > published_at) < 150:
            assert time.monotonic() < deadline, "readers stalled"
            time.sleep(0.05)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=30)

    reads = [read for reader in readers for read in reader.reads]
    problems = [read.problem for read in reads if read.problem]
    assert not problems, (
        f"{len(problems)} of {len(reads)} reads were not one complete version: {problems[:5]}"
    )
    seen = Counter((read.kind, read.version) for read in reads)
    assert all(seen[(kind, "A")] > 0 for kind in ("get", "by_team", "by_league_date")), seen
    assert all(seen[(kind, "B")] > 0 for kind in ("get", "by_team", "by_league_date")), seen
    assert {read.version for read in reads if read.started < killed_at + 0.5} == {"A"}
    assert {read.version for read in reads if read.started > published_at} == {"B"}
    assert store.current_version() == "B"
    assert store.client.lrange(store.versions_key, 0, -1) == ["B", "A"]
    assert store.client.smembers(store.pending_key) == set()
    assert_version_complete(store.client, "faults", "B", expected)
    print(f"{len(reads)} reads checked: {dict(seen)}")


# --- leftovers of a version that had been expired ---------------------------------------------------


def test_republishing_an_expired_version_or_rolling_back_leaves_no_ttl_on_what_is_served(volatile_server):
    n = 300
    expected = Expected.of(n)
    store = _store(volatile_server, chunk_size=100, keep_versions=2, expire_seconds=600)
    for tag in ("A", "B", "C"):
        store.publish(make_batch(tag, n), version=tag)
    assert store.client.ttl(_key_of_row("faults", "A", 0)) > 0  # A is beyond the kept versions

    # Re-publishing A from the warehouse serves it again: none of its keys may still expire.
    store.publish(make_batch("A", n), version="A")
    assert store.current_version() == "A"
    assert_version_complete(store.client, "faults", "A", expected)

    # Rolling back drops A from the versions: its keys expire like any dropped version's.
    assert store.rollback() == ("A", "C")
    assert store.get("m000000")["publish_version"] == "C"
    assert 0 < store.client.ttl(_key_of_row("faults", "A", 0)) <= 600
    assert 0 < store.client.ttl("faults:v:A:kickoff") <= 600
    assert store.client.ttl(_key_of_row("faults", "C", 0)) == -1


def test_lookups_recover_when_the_server_forgets_the_scripts_or_drops_the_connections(volatile_server):
    """Each reading thread keeps a connection for its lookups; a flushed script cache and
    connections the server dropped are each recovered within the lookup that meets them."""
    n = 300
    expected = Expected.of(n)
    store = _store(volatile_server, chunk_size=100)
    store.publish(make_batch("A", n), version="A")
    assert expected.record_problem(store.get("m000007"), "m000007") is None

    store.client.script_flush()
    assert expected.record_problem(store.get("m000008"), "m000008") is None
    assert [r["match_id"] for r in store.by_team("team 001")] == expected.team["team 001"]

    admin = volatile_server.client()
    assert admin.client_kill_filter(_type="normal", skipme=True) >= 1
    assert expected.record_problem(store.get("m000009"), "m000009") is None
    assert [r["match_id"] for r in store.by_team("team 002")] == expected.team["team 002"]
