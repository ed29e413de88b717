"""Production orchestration: the daemon runs the schedules and sensors against a PostgreSQL
instance (the production template, deploy/dagster.production.yaml, on a scratch database), and
the run-failure sensor records failures and posts them to a webhook.

Everything is real: PostgreSQL, Redis, `dagster-daemon run` as a subprocess, football-data.co.uk
played by a loopback HTTP server, Dagster runs launched by the daemon's run queue.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import (
    GOOD_E0,
    REPO,
    Daemon,
    WebhookReceiver,
    production_instance,
    require_service,
    understat_league_data,
    unique_name,
    wait_for,
)

NOW = "2026-11-29T12:00:00+00:00"
ARSENAL_ODDS = "1.30,5.50,9.50,1.32,5.60,10.0"


def _uk_date(days_from_now: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days_from_now)).strftime("%d/%m/%Y")


def source_files() -> tuple[bytes, bytes]:
    """(E0 results of the current season, fixtures.csv), dated around the real clock: the daemon
    test runs on the real clock (a pinned clock gives every publish the same version prefix)."""
    results = (
        "Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HTHG,HTAG,HTR,B365H,B365D,B365A\r\n"
        f"E0,{_uk_date(-3)},15:00,Man United,Fulham,1,0,H,0,0,D,1.60,4.20,5.25\r\n"
        f"E0,{_uk_date(-2)},12:30,Ipswich,Liverpool,0,2,A,0,0,D,8.00,5.25,1.33\r\n"
        f"E0,{_uk_date(-1)},15:00,Arsenal,Wolves,2,0,H,1,0,H,1.20,7.00,13.00\r\n"
    )
    fixtures = (
        "Div,Date,Time,HomeTeam,AwayTeam,B365H,B365D,B365A,PSH,PSD,PSA\r\n"
        f"E0,{_uk_date(-3)},15:00,Man United,Fulham,1.60,4.20,5.25,1.62,4.30,5.40\r\n"  # played
        f"E0,{_uk_date(6)},15:00,Arsenal,Nott'm Forest,{ARSENAL_ODDS}\r\n"
        f"E0,{_uk_date(7)},16:30,Liverpool,Man United,1.70,4.00,4.50,1.72,4.10,4.70\r\n"
    )
    return results.encode(), fixtures.encode()


# -- the run-failure sensor -------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, alert", [(204, "sent"), (500, "failed: HTTP 500"), (None, "not configured")]
)
def test_a_failed_run_is_recorded_and_posted_to_the_webhook(
    site, footcast_home, monkeypatch, caplog, answer, alert
):
    """A real failing partition run (the source has no such season) goes through the sensor."""
    import dagster as dg

    from footcast.adapters.warehouse import run_failures
    from footcast.data import catalogue
    from footcast.pipelines.definitions import build_definitions

    receiver = WebhookReceiver(answer) if answer else None
    monkeypatch.setenv("FOOTCAST_FOOTBALL_DATA_URL", site.url)
    monkeypatch.setenv("FOOTCAST_NOW", NOW)
    if receiver:
        monkeypatch.setenv("FOOTCAST_ALERT_WEBHOOK_URL", receiver.url)
    else:
        monkeypatch.delenv("FOOTCAST_ALERT_WEBHOOK_URL", raising=False)
    defs = build_definitions()
    instance = dg.DagsterInstance.ephemeral()
    key = catalogue.partition_key("E0", 2026)
    result = defs.resolve_job_def("ingest").execute_in_process(
        instance=instance, partition_key=key, raise_on_error=False
    )
    assert not result.success

    sensor_context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alerts",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
        resources=defs.resources,
    ).for_run_failure()
    with sensor_context as context, caplog.at_level("DEBUG"):
        defs.resolve_sensor_def("run_failure_alerts")(context)
        # Evaluating the same failure again (a retried sensor tick) keeps one row per run.
        defs.resolve_sensor_def("run_failure_alerts")(context)

    warehouse = defs.resources["warehouse"].process_config_and_initialize().get()
    [row] = warehouse.read(run_failures).to_dict("records")
    assert row["run_id"] == result.run_id
    assert row["job_name"] == "ingest"
    assert row["partition_key"] == str(key)
    assert row["failed_steps"] == "raw_matches"
    assert row["assets"] == "raw_matches"
    assert "no such season" in row["error"] and f"{site.url}/mmz4281/2627/E0.csv" in row["error"]
    assert row["alert"] == alert
    if receiver:
        body = receiver.bodies[0]
        assert len(receiver.bodies) == 2  # one post per evaluation
        assert receiver.paths == ["/hooks/T0KEN-s3cret"] * 2
        assert body["event"] == "footcast.run_failure"
        assert (body["run_id"], body["job"], body["partition"]) == (result.run_id, "ingest", str(key))
        assert body["failed_steps"] == ["raw_matches"]
        assert "no such season" in body["error"]
        receiver.close()
    # The webhook URL is a secret: not in the record, not in any log line.
    assert "T0KEN" not in json.dumps(row, default=str)
    assert "T0KEN" not in caplog.text


# -- schedules -------------------------------------------------------------------------


def test_the_ingest_schedule_requests_the_current_season_of_each_scheduled_league(footcast_home, monkeypatch):
    import dagster as dg

    from footcast.data import catalogue
    from footcast.pipelines.definitions import build_definitions

    monkeypatch.setenv("FOOTCAST_NOW", NOW)
    defs = build_definitions()
    # Nothing backfilled yet and no leagues pinned: nothing to refresh.
    with dg.build_schedule_context(
        resources=defs.resources, repository_def=defs.get_repository_def()
    ) as context:
        skipped = defs.resolve_schedule_def("current_season_ingest").evaluate_tick(context)
    assert not skipped.run_requests and "backfill" in skipped.skip_message

    monkeypatch.setenv("FOOTCAST_SCHEDULE_LEAGUES", "E0, SIM1")
    with dg.build_schedule_context(
        resources=defs.resources, repository_def=defs.get_repository_def()
    ) as context:
        result = defs.resolve_schedule_def("current_season_ingest").evaluate_tick(context)
    keys = [request.partition_key for request in result.run_requests]
    assert keys == [str(catalogue.partition_key("E0", 2026)), str(catalogue.partition_key("SIM1", 2026))]
    ingest = defs.resolve_job_def("ingest")
    assert all(ingest.partitions_def.has_partition_key(key) for key in keys)
    assert defs.resolve_schedule_def("current_season_ingest").execution_timezone == "Europe/London"

    # In July the split-season main-layout leagues are between seasons (their next file is not
    # published yet) while the calendar-year extra leagues play: only those are refreshed.
    monkeypatch.setenv("FOOTCAST_NOW", "2026-07-15T12:00:00+00:00")
    monkeypatch.setenv("FOOTCAST_SCHEDULE_LEAGUES", "E0, NOR, SWZ")
    with dg.build_schedule_context(
        resources=defs.resources, repository_def=defs.get_repository_def()
    ) as context:
        summer = defs.resolve_schedule_def("current_season_ingest").evaluate_tick(context)
    assert [request.partition_key for request in summer.run_requests] == ["NOR|2026", "SWZ|2026-27"]
    monkeypatch.setenv("FOOTCAST_SCHEDULE_LEAGUES", "E0")
    with dg.build_schedule_context(
        resources=defs.resources, repository_def=defs.get_repository_def()
    ) as context:
        skipped = defs.resolve_schedule_def("current_season_ingest").evaluate_tick(context)
    assert not skipped.run_requests and "between seasons: E0" in skipped.skip_message


def test_the_current_season_xg_follows_each_daily_ingest_run_of_a_league_with_an_xg_feed(
    site, footcast_home, monkeypatch
):
    """After a successful daily ingest run of a league with an xG feed, the sensor requests that
    league-season's xG (then its links to the results the run loaded); not after a league
    without one, nor after an ingest run the schedule did not launch."""
    import dagster as dg

    from footcast.adapters.warehouse import understat_links, understat_matches
    from footcast.data import catalogue
    from footcast.pipelines.definitions import build_definitions

    e1 = GOOD_E0.replace(b"E0,", b"E1,").replace(b"/2024", b"/2026")
    site.routes["/mmz4281/2627/E1.csv"] = (200, e1)
    monkeypatch.setenv("FOOTCAST_FOOTBALL_DATA_URL", site.url)
    monkeypatch.setenv("FOOTCAST_NOW", NOW)
    monkeypatch.setenv("FOOTCAST_SCHEDULE_LEAGUES", "E1, SIM1")
    defs = build_definitions()
    instance = dg.DagsterInstance.ephemeral()
    with dg.build_schedule_context(
        instance=instance, resources=defs.resources, repository_def=defs.get_repository_def()
    ) as context:
        requests = defs.resolve_schedule_def("current_season_ingest").evaluate_tick(context).run_requests
    sensor = defs.resolve_sensor_def("current_season_xg")

    def after(request, scheduled=True):
        # (the tick tags its requests with the schedule's name; a run launched by hand has none)
        tags = {k: v for k, v in request.tags.items() if scheduled or k != "dagster/schedule_name"}
        assert tags.get("dagster/schedule_name") == ("current_season_ingest" if scheduled else None)
        result = defs.resolve_job_def("ingest").execute_in_process(
            instance=instance, partition_key=request.partition_key, run_config=request.run_config, tags=tags
        )
        assert result.success
        context = dg.build_run_status_sensor_context(
            sensor_name="current_season_xg",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_success_event(),
        )
        return sensor(context)

    e1_request, sim_request = requests
    assert isinstance(after(e1_request), dg.SkipReason)  # E1: no xG feed
    assert isinstance(after(sim_request, scheduled=False), dg.SkipReason)  # not the daily ingest
    xg_request = after(sim_request)
    key = catalogue.partition_key("SIM1", 2026)
    assert isinstance(xg_request, dg.RunRequest) and xg_request.partition_key == key
    assert sensor.targets[0].job_name == "ingest_understat"

    xg = defs.resolve_job_def("ingest_understat").execute_in_process(
        instance=instance,
        partition_key=xg_request.partition_key,
        run_config=xg_request.run_config,
        tags=xg_request.tags,
    )
    assert xg.success
    warehouse = defs.resources["warehouse"].process_config_and_initialize().get()
    where = {"league": "SIM1", "season": 2026}
    stored = warehouse.read(understat_matches, where)
    played = int(stored["is_result"].sum())
    assert len(stored) == 380 and 0 < played < 380  # the season in progress, its xG to date
    links = warehouse.read(understat_links, {**where, "is_result": True})
    assert len(links) == played and links["match_id"].notna().all()


def test_the_current_season_freshness_check_names_the_stale_partitions(footcast_home, monkeypatch):
    import dagster as dg

    from footcast.data import catalogue
    from footcast.pipelines.definitions import build_definitions

    monkeypatch.setenv("FOOTCAST_NOW", NOW)
    defs = build_definitions()
    instance = dg.DagsterInstance.ephemeral()
    sim1 = catalogue.partition_key("SIM1", 2026)
    assert defs.resolve_job_def("ingest").execute_in_process(instance=instance, partition_key=sim1).success

    def evaluate(leagues: str):
        monkeypatch.setenv("FOOTCAST_SCHEDULE_LEAGUES", leagues)
        result = defs.resolve_job_def("freshness_checks").execute_in_process(instance=instance)
        [check] = [
            c
            for c in result.get_asset_check_evaluations()
            if c.check_name == "validated_current_season_fresh"
        ]
        return check

    fresh = evaluate("SIM1")
    assert fresh.passed
    stale = evaluate("SIM1,SIM2")  # SIM2's current season was never validated
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
    assert stale.metadata["stale_partitions"].value == str(catalogue.partition_key("SIM2", 2026))
    # Between seasons (a split-season league in July) the ingest schedule leaves the league out
    # and the check does not ask for a season that has not begun; it names the league instead.
    monkeypatch.setenv("FOOTCAST_NOW", "2027-07-15T12:00:00+00:00")
    summer = evaluate("SIM1,SIM2")
    assert summer.passed and summer.metadata["between_seasons"].value == "SIM1, SIM2"
    assert summer.metadata["last_scheduled_ingest"].value.startswith("2027-07-15T06:00")


# -- the daemon against a PostgreSQL instance --------------------------------------------


@pytest.fixture
def production_env(footcast_home, scratch_database, site, understat_site, monkeypatch) -> Iterator[dict]:
    """Environment of a production deployment: Postgres instance, real warehouse and Redis."""
    import redis

    from footcast.adapters.warehouse import Warehouse

    pg_url = require_service("FOOTCAST_TEST_POSTGRES_URL")
    redis_url = require_service("FOOTCAST_TEST_REDIS_URL")
    schema_name, prefix = unique_name("footcast_orch"), unique_name("footcast-orch")
    settings = {
        **production_instance(footcast_home / "dagster", scratch_database),
        "FOOTCAST_WAREHOUSE_URL": pg_url,
        "FOOTCAST_WAREHOUSE_SCHEMA": schema_name,
        "FOOTCAST_REDIS_URL": redis_url,
        "FOOTCAST_REDIS_PREFIX": prefix,
        "FOOTCAST_FOOTBALL_DATA_URL": site.url,
        "FOOTCAST_UNDERSTAT_URL": understat_site.url,
        "FOOTCAST_HTTP_RATE": "100",
        # Automation on, as in production; the ingest schedule ticks every minute, the fixtures
        # sensor polls every 3 s, the other schedules never tick during the test.
        "FOOTCAST_AUTOMATION": "running",
        "FOOTCAST_INGEST_CRON": "* * * * *",
        "FOOTCAST_PREDICTIONS_CRON": "0 0 1 1 *",
        "FOOTCAST_RETRAIN_CRON": "0 0 1 1 *",
        "FOOTCAST_FRESHNESS_CRON": "0 0 1 1 *",
        "FOOTCAST_TRACK_RECORD_CRON": "0 0 1 1 *",
        "FOOTCAST_FIXTURES_SENSOR_SECONDS": "3",
        # One process per run rather than one per step: the same code path, less start-up.
        "FOOTCAST_RUN_EXECUTION": "in_process",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FOOTCAST_SCHEDULE_LEAGUES", raising=False)
    monkeypatch.delenv("FOOTCAST_NOW", raising=False)
    monkeypatch.delenv("FOOTCAST_ALERT_WEBHOOK_URL", raising=False)
    yield {
        "instance_db": scratch_database,
        "redis_url": redis_url,
        "prefix": prefix,
        "training_warehouse": f"sqlite:///{footcast_home / 'training.sqlite'}",
    }
    Warehouse(pg_url, schema_name).drop_schema()
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def _seed_history(instance, monkeypatch, training_warehouse: str) -> None:
    """Before automation is switched on: a champion model in MLflow (trained here on two
    simulated seasons kept in a separate warehouse, so they are not a tracked league of the
    serving one) and the current E0 season backfilled from the loopback site."""
    import dagster as dg

    from footcast.data import catalogue
    from footcast.pipelines.definitions import build_definitions

    season = catalogue.current_season()
    serving = {name: os.environ[name] for name in ("FOOTCAST_WAREHOUSE_URL", "FOOTCAST_WAREHOUSE_SCHEMA")}
    monkeypatch.setenv("FOOTCAST_WAREHOUSE_URL", training_warehouse)
    monkeypatch.delenv("FOOTCAST_WAREHOUSE_SCHEMA")
    defs = build_definitions()
    ingest = defs.resolve_job_def("ingest")
    for year in (season - 1, season):
        key = catalogue.partition_key("SIM1", year)
        assert ingest.execute_in_process(instance=instance, partition_key=key).success
    assets = [a for a in defs.assets if a.key.to_user_string() in ("features", "model")]
    no_tuning = {"ops": {"model": {"config": {"n_trials": 0}}}}
    assert dg.materialize(assets, resources=defs.resources, instance=instance, run_config=no_tuning).success

    for name, value in serving.items():
        monkeypatch.setenv(name, value)
    ingest = build_definitions().resolve_job_def("ingest")
    key = catalogue.partition_key("E0", season)
    assert ingest.execute_in_process(instance=instance, partition_key=key).success


def _instigator(instance, name: str):
    for state in instance.all_instigator_state():
        if state.instigator_name == name:
            return state
    return None


def _ticks(instance, name: str) -> list:
    state = _instigator(instance, name)
    if state is None:
        return []
    return instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=100)


def _runs(instance, tag: str, name: str, *statuses) -> list:
    from dagster import RunsFilter

    return instance.get_run_records(
        RunsFilter(tags={tag: name}, statuses=list(statuses) or None), ascending=True
    )


@pytest.mark.slow
def test_the_daemon_keeps_predictions_current(production_env, site, understat_site, tmp_path, monkeypatch):
    import dagster as dg
    import sqlalchemy as sa
    from dagster import DagsterRunStatus

    from footcast.assets.resources import RedisResource
    from footcast.data import catalogue, schema

    SUCCESS = DagsterRunStatus.SUCCESS  # noqa: N806
    season = catalogue.current_season()
    results, fixtures = source_files()
    site.routes[f"/mmz4281/{schema.season_code(season)}/E0.csv"] = (200, results)
    site.routes["/fixtures.csv"] = (200, fixtures)
    # E0 has an xG feed: each daily ingest run is followed by the current season's xG (Understat).
    understat_site.data[f"EPL/{season}"] = understat_league_data(season, played=10, not_played=10)
    instance = dg.DagsterInstance.get()
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    _seed_history(instance, monkeypatch, production_env["training_warehouse"])
    seeded = {r.dagster_run.run_id for r in instance.get_run_records()}
    store = RedisResource(url=production_env["redis_url"], prefix=production_env["prefix"]).store()
    assert store.current_version() is None
    arsenal = schema.make_match_id("E0", season, "Arsenal", "Nott'm Forest")
    sensor_runs = lambda *statuses: _runs(instance, "dagster/sensor_name", "fixtures_changed", *statuses)  # noqa: E731

    def skipped_since(timestamp: float) -> list:
        ticks = _ticks(instance, "fixtures_changed")
        return [t for t in ticks if t.timestamp > timestamp and t.status.value == "SKIPPED"]

    expected = {str(catalogue.partition_key("E0", season))}

    def first_tick_runs() -> list:
        runs = _runs(instance, "dagster/schedule_name", "current_season_ingest")
        first_tick = min((int(r.dagster_run.tags["dagster/tick"]) for r in runs), default=None)
        return [r for r in runs if int(r.dagster_run.tags["dagster/tick"]) == first_tick]

    daemon = Daemon(tmp_path / "daemon.log")
    try:
        # 1. At start the fixtures sensor sees the fixtures for the first time (one prediction
        # refresh), and the ingest schedule (every minute here) ticks at the next minute: one
        # run per tracked league's current-season partition. The schedule is stopped after that
        # tick, and the runs finish.
        wait_for(daemon, instance, "the schedule's first tick", lambda: first_tick_runs(), 150)
        state = _instigator(instance, "current_season_ingest")
        instance.stop_schedule(state.instigator_origin_id, state.selector_id)
        assert {r.dagster_run.tags["dagster/partition"] for r in first_tick_runs()} == expected
        # NOT_STARTED: created by a tick, not yet handed to the queue.
        in_flight = [
            DagsterRunStatus.NOT_STARTED,
            DagsterRunStatus.QUEUED,
            DagsterRunStatus.STARTING,
            DagsterRunStatus.STARTED,
            DagsterRunStatus.CANCELING,
        ]
        xg_runs = lambda *statuses: _runs(instance, "dagster/sensor_name", "current_season_xg", *statuses)  # noqa: E731
        wait_for(
            daemon,
            instance,
            "the first runs to finish (the ingest, its xG refresh, the prediction refresh)",
            lambda: (
                sensor_runs(SUCCESS)
                and xg_runs(SUCCESS)
                and not instance.get_run_records(dg.RunsFilter(statuses=in_flight))
            ),
            240,
        )
        assert all(r.dagster_run.status == SUCCESS for r in first_tick_runs())
        [xg] = xg_runs()
        assert xg.dagster_run.job_name == "ingest_understat"
        assert xg.dagster_run.tags["dagster/partition"] in expected
        [first] = sensor_runs()
        assert first.dagster_run.status == SUCCESS
        assert first.dagster_run.tags["footcast/stage"] == "predict"
        published = store.current_version()
        before = store.get(arsenal)
        assert before is not None and before["home_team"] == "Arsenal"

        # 2. Unchanged fixtures: the next tick skips and launches nothing.
        [skip, *_] = wait_for(daemon, instance, "a skipped tick", lambda: skipped_since(first.end_time), 60)
        assert "unchanged" in skip.skip_reason and not skip.run_ids
        assert len(sensor_runs()) == 1

        # 3. The odds of one fixture move at the source: a new batch reaches Redis.
        changed = fixtures.replace(ARSENAL_ODDS.encode(), b"3.10,3.40,2.30,3.20,3.50,2.35")
        site.routes["/fixtures.csv"] = (200, changed)
        wait_for(daemon, instance, "the run on changed odds", lambda: len(sensor_runs(SUCCESS)) == 2, 180)
        assert store.current_version() != published
        after = store.get(arsenal)
        assert after["p_home"] != before["p_home"]
        last = sensor_runs()[-1]
        [skip, *_] = wait_for(daemon, instance, "a skipped tick", lambda: skipped_since(last.end_time), 60)
        assert not skip.run_ids and len(sensor_runs()) == 2
    finally:
        daemon.stop()

    # 5. Every launched run succeeded, and its events are in the PostgreSQL instance database.
    launched = [r for r in instance.get_run_records() if r.dagster_run.run_id not in seeded]
    assert all(r.dagster_run.status == SUCCESS for r in launched)
    scheduled = [
        r for r in launched if r.dagster_run.tags.get("dagster/schedule_name") == "current_season_ingest"
    ]
    assert {r.dagster_run.tags["dagster/partition"] for r in scheduled} == expected
    engine = sa.create_engine(production_env["instance_db"])
    with engine.connect() as conn:
        successes = dict(
            conn.execute(
                sa.text(
                    "SELECT run_id, count(*) FROM event_logs"
                    " WHERE dagster_event_type = :success GROUP BY run_id"
                ),
                {"success": dg.DagsterEventType.RUN_SUCCESS.value},  # stored as "PIPELINE_SUCCESS"
            ).all()
        )
    engine.dispose()
    assert len(launched) >= 3  # two sensor runs, one scheduled run per tracked league (E0)
    assert {r.dagster_run.run_id: successes.get(r.dagster_run.run_id) for r in launched} == {
        r.dagster_run.run_id: 1 for r in launched
    }


# -- deployment configuration ------------------------------------------------------------


def test_helm_values_deploy_this_code_location_with_the_production_limits():
    """No helm binary here: the values are checked structurally, and against the production
    instance template and the Dockerfile so the three deployments say the same thing."""
    import yaml

    values = yaml.safe_load((REPO / "deploy" / "helm" / "values.yaml").read_text())
    instance = yaml.safe_load((REPO / "deploy" / "dagster.production.yaml").read_text())
    dockerfile = (REPO / "Dockerfile").read_text()

    # External PostgreSQL through a secret; the chart deploys no database.
    assert values["postgresql"]["enabled"] is False and values["postgresql"]["postgresqlHost"]
    assert values["generatePostgresqlPasswordSecret"] is False and values["global"]["postgresqlSecretName"]
    assert (
        values["postgresql"]["postgresqlScheme"] == instance["storage"]["postgres"]["postgres_db"]["scheme"]
    )

    # The user code deployment serves this repository's Definitions, with the runtime secrets.
    [deployment] = values["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    module = args[args.index("--module-name") + 1]
    assert f'"{module}"' in dockerfile
    assert "COPY deploy/dagster.production.yaml ${DAGSTER_HOME}/dagster.yaml" in dockerfile
    assert {"name": "footcast-runtime"} in deployment["envSecrets"]
    assert {"name": "FOOTCAST_AUTOMATION", "value": "running"} in deployment["env"]
    assert deployment["podSecurityContext"]["runAsNonRoot"] is True
    assert "USER 10001:10001" in dockerfile and deployment["podSecurityContext"]["runAsUser"] == 10001
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert {"name": "footcast-runtime"} in launcher["config"]["k8sRunLauncher"]["envSecrets"]

    # Daemon: queue, monitoring (slots freed after a dead run), retries, retention.
    daemon = values["dagsterDaemon"]
    assert daemon["runCoordinator"]["type"] == "QueuedRunCoordinator"
    monitoring = daemon["runMonitoring"]
    assert (
        monitoring["freeSlotsAfterRunEndSeconds"]
        == instance["run_monitoring"]["free_slots_after_run_end_seconds"]
    )
    assert daemon["runRetries"]["maxRetries"] == instance["run_retries"]["max_retries"]
    assert (
        daemon["runRetries"]["retryOnAssetOrOpFailure"]
        == instance["run_retries"]["retry_on_asset_or_op_failure"]
    )
    assert (
        values["retention"]["sensor"]["purgeAfterDays"] == instance["retention"]["sensor"]["purge_after_days"]
    )
    assert (
        values["retention"]["schedule"]["purgeAfterDays"]
        == instance["retention"]["schedule"]["purge_after_days"]
    )

    # The same pool and tag limits as the single-machine template.
    concurrency = values["concurrency"]
    assert concurrency["enabled"] is True
    assert concurrency["pools"]["defaultLimit"] == instance["concurrency"]["pools"]["default_limit"]
    assert (
        concurrency["runs"]["tagConcurrencyLimits"]
        == instance["concurrency"]["runs"]["tag_concurrency_limits"]
    )
