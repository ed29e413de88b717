"""Production automation: the schedules, sensors and freshness checks that keep footcast current.

| what | kind | default cadence (FOOTCAST_SCHEDULE_TIMEZONE, default Europe/London) |
|---|---|---|
| `current_season_ingest` | schedule -> job `ingest` | 06:00 daily, Aug-May (FOOTCAST_INGEST_CRON) |
| `daily_predictions` | schedule -> `refresh_predictions` | 06:45 daily, Aug-May (FOOTCAST_PREDICTIONS_CRON) |
| `weekly_retrain` | schedule -> job `retrain` | Monday 04:00 (FOOTCAST_RETRAIN_CRON) |
| `hourly_freshness` | schedule -> job `freshness_checks` | hourly at :20 (FOOTCAST_FRESHNESS_CRON) |
| `fixtures_changed` | sensor -> job `refresh_predictions` | every 15 min (FOOTCAST_FIXTURES_SENSOR_SECONDS) |
| `run_failure_alerts` | run-failure sensor | records to `run_failures`, POSTs FOOTCAST_ALERT_WEBHOOK_URL |

The daily ingest refreshes the current season's partition of every scheduled league
(FOOTCAST_SCHEDULE_LEAGUES, comma-separated; default: every league that has validated
matches, i.e. whatever has been backfilled). Its partition keys come from ``partitions``'
public helpers, so the schedule follows any change to how partitions are keyed.

With FOOTCAST_AUTOMATION=running (the production image sets it) schedules and sensors run as
soon as the code location loads; otherwise they start stopped and are switched on in the UI.
FOOTCAST_RUN_EXECUTION=in_process|multiprocess picks how automated runs execute their steps
(default: the job's executor, one process per step).

No ``from __future__ import annotations`` here: Dagster reads the resource annotations.
"""

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from footcast import config as footcast_config
from footcast.adapters.warehouse import matches as matches_table
from footcast.assets.predictions import predictions_fresh
from footcast.assets.resources import AlertWebhookResource, FootballDataResource, WarehouseResource
from footcast.data import catalogue, schema
from footcast.services import alerts, sources

TIMEZONE = os.environ.get("FOOTCAST_SCHEDULE_TIMEZONE") or "Europe/London"
# Cron month field 1-5,8-12: football seasons run August to May; nothing to refresh in summer.
INGEST_CRON = os.environ.get("FOOTCAST_INGEST_CRON") or "0 6 * 1-5,8-12 *"
PREDICTIONS_CRON = os.environ.get("FOOTCAST_PREDICTIONS_CRON") or "45 6 * 1-5,8-12 *"
RETRAIN_CRON = os.environ.get("FOOTCAST_RETRAIN_CRON") or "0 4 * * 1"
FRESHNESS_CRON = os.environ.get("FOOTCAST_FRESHNESS_CRON") or "20 * * * *"
FIXTURES_SENSOR_SECONDS = int(os.environ.get("FOOTCAST_FIXTURES_SENSOR_SECONDS") or 900)

# What kind of work a run does, as a run tag: the production instance's run queue limits
# runs by it (one training at a time, one prediction refresh at a time).
STAGE_TAG = "footcast/stage"


def _running_by_default() -> bool:
    return os.environ.get("FOOTCAST_AUTOMATION", "").lower() == "running"


_RUNNING = _running_by_default()
SCHEDULE_STATUS = dg.DefaultScheduleStatus.RUNNING if _RUNNING else dg.DefaultScheduleStatus.STOPPED
SENSOR_STATUS = dg.DefaultSensorStatus.RUNNING if _RUNNING else dg.DefaultSensorStatus.STOPPED


def execution_config() -> dict[str, Any]:
    """Run config choosing the step executor mode of automated runs (FOOTCAST_RUN_EXECUTION)."""
    mode = os.environ.get("FOOTCAST_RUN_EXECUTION", "")
    if not mode:
        return {}
    if mode not in ("in_process", "multiprocess"):
        raise ValueError(f"FOOTCAST_RUN_EXECUTION must be in_process or multiprocess, got {mode!r}")
    return {"execution": {"config": {mode: {}}}}


def tracked_leagues(warehouse: WarehouseResource) -> list[str]:
    """Leagues with validated matches: the ones fixtures are fetched and predicted for."""
    return warehouse.get().distinct(matches_table, "league")


def scheduled_leagues(warehouse: WarehouseResource) -> list[str]:
    """Leagues whose current season is refreshed daily (FOOTCAST_SCHEDULE_LEAGUES or the tracked ones)."""
    pinned = os.environ.get("FOOTCAST_SCHEDULE_LEAGUES", "")
    if pinned:
        return [catalogue.league(code.strip()).code for code in pinned.split(",") if code.strip()]
    return tracked_leagues(warehouse)


# -- jobs the automation launches (besides `ingest` from definitions.py) ------------------

refresh_predictions_job = dg.define_asset_job(
    "refresh_predictions",
    selection=dg.AssetSelection.assets("raw_fixtures", "features", "predictions", "published_predictions"),
    tags={STAGE_TAG: "predict"},
    description="fixtures -> features -> predictions -> Redis with the current champion (no training)",
)
retrain_job = dg.define_asset_job(
    "retrain",
    selection=dg.AssetSelection.assets("features", "model", "predictions", "published_predictions"),
    tags={STAGE_TAG: "train"},
    description="features -> model (promoted only if it beats the champion) -> predictions -> Redis",
)


class ValidatedFreshnessConfig(dg.Config):
    # A daily refresh plus slack for a late or retried run.
    max_age_hours: float = 36.0


def last_ingest_tick(now: datetime) -> datetime:
    """When the `current_season_ingest` schedule was last due, at or before ``now``."""
    from footcast.pipelines.dagster_private import get_latest_completed_cron_tick

    return get_latest_completed_cron_tick(INGEST_CRON, now, TIMEZONE)


@dg.asset_check(
    asset="validated_matches",
    description="The partition of every scheduled league that the daily `current_season_ingest` "
    "schedule last refreshed was validated since that tick, or within max_age_hours. Out of season "
    "(no ticks in June and July) that is the ended season: no warnings for a season not yet begun.",
)
def validated_current_season_fresh(
    context: dg.AssetCheckExecutionContext, config: ValidatedFreshnessConfig, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    tick = last_ingest_tick(footcast_config.now())
    season = schema.season_of(tick)
    leagues = scheduled_leagues(warehouse)
    now = datetime.now(UTC).timestamp()  # materialization times are wall-clock times
    ages: dict[str, float | None] = {}
    stale = []
    for league in leagues:
        key = str(catalogue.partition_key(league, season))
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("validated_matches"), asset_partitions=[key]), limit=1
        ).records
        ages[key] = round((now - records[0].timestamp) / 3600, 2) if records else None
        if not records or (ages[key] > config.max_age_hours and records[0].timestamp < tick.timestamp()):
            stale.append(key)
    return dg.AssetCheckResult(
        passed=bool(leagues) and not stale,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "season": season,
            "last_scheduled_ingest": tick.isoformat(),
            "max_age_hours": config.max_age_hours,
            "stale_partitions": ", ".join(stale) if leagues else "no scheduled leagues",
            "age_hours": dg.MetadataValue.json(ages),
        },
    )


freshness_job = dg.define_asset_job(
    "freshness_checks",
    selection=dg.AssetSelection.checks(predictions_fresh, validated_current_season_fresh),
    tags={STAGE_TAG: "check"},
    description="freshness of the published predictions and of the current season's validated data",
)


# -- schedules --------------------------------------------------------------------------


@dg.schedule(
    job_name="ingest",
    cron_schedule=INGEST_CRON,
    execution_timezone=TIMEZONE,
    default_status=SCHEDULE_STATUS,
    description="raw + validated for the current season of every scheduled league, one run each",
)
def current_season_ingest(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
    season = catalogue.current_season()
    leagues = scheduled_leagues(warehouse)
    if not leagues:
        return dg.SkipReason("no league has validated matches yet: backfill a league first")
    keys = [str(catalogue.partition_key(league, season)) for league in leagues]
    # run_key: one run per partition per tick, also when a tick is retried after a crash.
    return [
        dg.RunRequest(
            run_key=key, partition_key=key, run_config=execution_config(), tags={STAGE_TAG: "ingest"}
        )
        for key in keys
    ]


def _job_schedule(name: str, job: Any, cron: str, description: str):
    @dg.schedule(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone=TIMEZONE,
        default_status=SCHEDULE_STATUS,
        description=description,
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        return dg.RunRequest(run_config=execution_config())

    return _schedule


daily_predictions = _job_schedule(
    "daily_predictions",
    refresh_predictions_job,
    PREDICTIONS_CRON,
    "after the daily ingest: played fixtures drop out, new results reach the features",
)
weekly_retrain = _job_schedule(
    "weekly_retrain", retrain_job, RETRAIN_CRON, "retrain; the promotion gate decides the champion"
)
hourly_freshness = _job_schedule(
    "hourly_freshness", freshness_job, FRESHNESS_CRON, "run the freshness checks"
)


# -- sensors ----------------------------------------------------------------------------


@dg.sensor(
    job=refresh_predictions_job,
    minimum_interval_seconds=FIXTURES_SENSOR_SECONDS,
    default_status=SENSOR_STATUS,
    description="Re-checks the fixtures (and their odds) of the tracked leagues at the source; "
    "requests fixtures -> features -> predictions -> Redis only when their content hash changed.",
)
def fixtures_changed(
    context: dg.SensorEvaluationContext,
    warehouse: WarehouseResource,
    football_data_source: FootballDataResource,
):
    leagues = tracked_leagues(warehouse)
    if not leagues:
        return dg.SkipReason("no league has validated matches yet")
    # max_age 0: a conditional request every poll; the run then reads the refreshed archive.
    fetched = sources.fetch_fixtures(leagues, football_data_source, max_age=timedelta(0))
    digest = sources.fixtures_digest(fetched.frame)
    if digest == context.cursor:
        return dg.SkipReason(f"{len(fetched.frame)} fixtures unchanged (sha256 {digest[:12]})")
    context.log.info(f"{len(fetched.frame)} fixtures of {', '.join(leagues)} changed: sha256 {digest[:12]}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_config=execution_config(), tags={"footcast/fixtures_sha256": digest[:16]})
        ],
        cursor=digest,
    )


def _assets_of_steps(instance: dg.DagsterInstance, run: dg.DagsterRun, step_keys: list[str]) -> list[str]:
    """Asset keys the given steps materialize, from the run's execution plan (step keys otherwise)."""
    snapshot = (
        instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
        if run.execution_plan_snapshot_id
        else None
    )
    steps = {step.key: step for step in snapshot.steps} if snapshot else {}
    assets: list[str] = []
    for key in step_keys:
        outputs = steps[key].outputs if key in steps else []
        keys = [o.properties.asset_key for o in outputs if o.properties and o.properties.asset_key]
        assets.extend(k.to_user_string() for k in keys) if keys else assets.append(key)
    return sorted(set(assets))


def run_failure(context: dg.RunFailureSensorContext) -> alerts.RunFailure:
    """What failed: the run's job, failed assets, partition, failed steps and the root error."""
    run = context.dagster_run
    step_failures = context.get_step_failure_events()
    failed_steps = [event.step_key for event in step_failures if event.step_key]
    errors = []
    for event in step_failures:
        error = event.event_specific_data.error if event.event_specific_data else None
        # Dagster wraps the user's exception; the innermost message is the one that says why.
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            errors.append(f"{event.step_key}: {error.cls_name}: {error.message.strip()}")
    tags = run.tags
    partition = tags.get("dagster/partition") or (
        f"{tags['dagster/asset_partition_range_start']}...{tags['dagster/asset_partition_range_end']}"
        if "dagster/asset_partition_range_start" in tags
        else ""
    )
    record = context.instance.get_run_record_by_id(run.run_id)
    return alerts.RunFailure(
        run_id=run.run_id,
        job_name=run.job_name,
        # A run that failed outside any step (worker crash, resource init) names its selection.
        assets=tuple(
            _assets_of_steps(context.instance, run, failed_steps)
            if failed_steps
            else sorted(key.to_user_string() for key in run.asset_selection or ())
        ),
        partition_key=partition,
        failed_steps=tuple(failed_steps),
        error="\n".join(errors) or (context.failure_event.message or "run failed"),
        failed_at=datetime.fromtimestamp(record.end_time, UTC)
        if record and record.end_time
        else datetime.now(UTC),
    )


@dg.run_failure_sensor(
    name="run_failure_alerts",
    default_status=SENSOR_STATUS,
    description="Records every failed run (job, assets, partition, error) in the warehouse table "
    "`run_failures` and POSTs it as JSON to FOOTCAST_ALERT_WEBHOOK_URL when that is set.",
)
def run_failure_alerts(
    context: dg.RunFailureSensorContext, warehouse: WarehouseResource, alert_webhook: AlertWebhookResource
):
    failure = run_failure(context)
    alert = alert_webhook.notify(failure.payload())
    alerts.record(warehouse.get(), failure, alert)
    context.log.info(
        f"run {failure.run_id} of {failure.job_name} failed ({failure.partition_key or 'unpartitioned'}); "
        f"alert {alert}"
    )


JOBS = [refresh_predictions_job, retrain_job, freshness_job]
SCHEDULES = [current_season_ingest, daily_predictions, weekly_retrain, hourly_freshness]
SENSORS = [fixtures_changed, run_failure_alerts]
ASSET_CHECKS = [validated_current_season_fresh]
