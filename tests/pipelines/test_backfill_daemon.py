"""`footcast backfill --submit`: the daemon runs the backfill (results and xG, one backfill) range by
range against a PostgreSQL instance and warehouse, while a scheduled run of the current season
writes the same partition; afterwards every league-season holds exactly its rows, once, and its
xG matches are linked to them (the xG run waits for the results).

Real PostgreSQL (instance from deploy/dagster.production.yaml on a scratch database, warehouse in
a scratch schema), `dagster-daemon run` as a subprocess, the `footcast` command as a user runs it.
The simulated league needs no network.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.support import Daemon, production_instance, require_service, unique_name, wait_for

NOW = "2026-11-29T12:00:00+00:00"
LEAGUE = "SIM1"
SEASONS = (2022, 2023, 2024, 2025, 2026)  # 2026/27 is the current season at NOW
UNDERSTAT_ASSETS = ("raw_understat_matches", "validated_understat_matches", "understat_links")


@pytest.fixture
def postgres_env(footcast_home, scratch_database, monkeypatch):
    from footcast.adapters.warehouse import Warehouse

    pg_url = require_service("FOOTCAST_TEST_POSTGRES_URL")
    schema_name = unique_name("footcast_backfill")
    settings = {
        **production_instance(footcast_home / "dagster", scratch_database),
        "FOOTCAST_WAREHOUSE_URL": pg_url,
        "FOOTCAST_WAREHOUSE_SCHEMA": schema_name,
        "FOOTCAST_NOW": NOW,
        "FOOTCAST_SCHEDULE_LEAGUES": LEAGUE,
        "FOOTCAST_FOOTBALL_DATA_URL": "http://127.0.0.1:9",  # offline: nothing may be scraped
        # One process per run rather than one per step: the same code path, less start-up.
        "FOOTCAST_RUN_EXECUTION": "in_process",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    # Schedules and sensors stay stopped: the scheduled run is launched by the test, below.
    monkeypatch.delenv("FOOTCAST_AUTOMATION", raising=False)
    yield
    Warehouse(pg_url, schema_name).drop_schema()


@pytest.mark.slow
def test_a_submitted_backfill_runs_in_the_daemon_beside_the_daily_schedule(postgres_env, tmp_path):
    import dagster as dg
    from dagster import DagsterRunStatus, RunsFilter

    from footcast.adapters.warehouse import matches, raw_matches
    from footcast.data import catalogue
    from footcast.data.simulator.partitions import simulate_partition
    from footcast.pipelines.dagster_private import BulkActionStatus
    from footcast.pipelines.definitions import build_definitions
    from footcast.services.linking import links_report

    submitted = subprocess.run(
        [sys.executable, "-m", "footcast.cli.main", "backfill", "--leagues", LEAGUE,
         "--seasons", f"{SEASONS[0]}-{SEASONS[-1]}", "--submit"],
        env=dict(os.environ), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    backfill_id = re.search(r"submitted backfill (\w+)", submitted.stdout).group(1)
    assert (
        "football-data: 5 partitions of raw_matches + validated_matches in 1 partition range"
        in submitted.stdout
    )
    assert (
        f"understat: 5 partitions of {' + '.join(UNDERSTAT_ASSETS)} in 1 partition range" in submitted.stdout
    )
    assert "no dagster-daemon is running" in submitted.stderr  # said, since none runs yet

    defs = build_definitions()
    with dg.DagsterInstance.get() as instance:
        assert instance.get_backfill(backfill_id).status == BulkActionStatus.REQUESTED
        daemon = Daemon(tmp_path / "daemon.log")
        try:
            wait_for(daemon, instance, "the backfill's run to start", lambda: instance.get_run_records(
                RunsFilter(tags={"dagster/backfill": backfill_id}, statuses=[DagsterRunStatus.STARTED])
            ), timeout=180)  # fmt: skip

            # Meanwhile the daily schedule's run of the current season, as its tick requests it.
            resources = {"warehouse": defs.resources["warehouse"]}
            with dg.build_schedule_context(instance=instance, resources=resources) as context:
                (request,) = defs.resolve_schedule_def("current_season_ingest")(context)
            assert request.partition_key == catalogue.partition_key(LEAGUE, SEASONS[-1])
            scheduled = defs.resolve_job_def("ingest").execute_in_process(
                instance=instance,
                partition_key=request.partition_key,
                run_config=request.run_config,
                tags={**request.tags, "dagster/schedule_name": "current_season_ingest"},
            )
            assert scheduled.success

            def finished():
                status = instance.get_backfill(backfill_id).status
                return status if status != BulkActionStatus.REQUESTED else None

            status = wait_for(daemon, instance, "the backfill to finish", finished, timeout=300)
            assert status == BulkActionStatus.COMPLETED_SUCCESS, daemon.log_tail()
        finally:
            daemon.stop()

        runs = instance.get_run_records(RunsFilter(tags={"dagster/backfill": backfill_id}))
        # One range of consecutive seasons: one run per step, not one per partition: results,
        # xG (fetched and validated beside them) and links, which wait for both.
        by_assets = {
            tuple(sorted(k.to_user_string() for k in r.dagster_run.asset_selection)): r for r in runs
        }
        assert sorted(by_assets) == [
            ("raw_matches", "validated_matches"),
            ("raw_understat_matches", "validated_understat_matches"),
            ("understat_links",),
        ]
        assert {r.dagster_run.status for r in runs} == {DagsterRunStatus.SUCCESS}
        links_run = by_assets[("understat_links",)]
        assert all(links_run.start_time >= r.end_time for r in runs if r is not links_run)
        keys = {catalogue.partition_key(LEAGUE, season) for season in SEASONS}
        for asset in ("raw_matches", "validated_matches", *UNDERSTAT_ASSETS):
            assert instance.get_materialized_partitions(dg.AssetKey(asset)) == keys

    warehouse = defs.resources["warehouse"].process_config_and_initialize().get()
    for season in SEASONS:
        played, _upcoming = simulate_partition(LEAGUE, season, as_of=pd_now())
        where = {"league": LEAGUE, "season": season}
        for table in (raw_matches, matches):
            stored = warehouse.read(table, where, columns=["match_id"])["match_id"]
            assert stored.is_unique, (table.name, season)
            assert set(stored) == set(played["match_id"]), (table.name, season)
    # Every played xG match found its result: none was linked before the results were in.
    report = {(row["league"], row["season"]): row for row in links_report(warehouse)["links"]}
    for season in SEASONS:
        row = report[(LEAGUE, season)]
        assert row["played"] > 0 and row["linked"] == row["played"], row


def pd_now():
    from footcast import config

    return config.now()
