"""The sensors, built from the settings when the definitions are.

- `fixtures_changed`: requests job `refresh_predictions` when the fixtures of the tracked
  leagues change; polls every 15 min (FOOTCAST_FIXTURES_SENSOR_SECONDS).
- `current_season_xg`: after each successful run of the daily ingest (the `current_season_ingest`
  schedule), requests job `ingest_understat` for the same league-season when the league has an
  xG feed (``catalogue.XG_SOURCES``): the current season's xG, then its links to the results
  just loaded. The leagues between seasons have no ingest run, so no xG refresh either.
- `run_failure_alerts`: records each failed run to `run_failures` and POSTs it to
  FOOTCAST_ALERT_WEBHOOK_URL.
- `asset_check_alerts`: records each failed evaluation of the alerting checks (ALERTED_CHECKS:
  the track record's market warning and calibration error) to `check_failures` and POSTs it to
  the same webhook. A check that fails does not fail its run, so the run-failure sensor never
  sees it; this sensor reads the checks' evaluations instead (every minute).

Like the schedules, they start running with FOOTCAST_AUTOMATION=running, stopped otherwise.

No ``from __future__ import annotations`` here: Dagster reads the resource annotations.
"""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from footcast import config
from footcast.assets import track_record
from footcast.assets.resources import AlertWebhookResource, FootballDataResource, WarehouseResource
from footcast.pipelines.jobs import (
    STAGE_TAG,
    execution_config,
    ingest_job,
    ingest_understat_job,
    refresh_predictions_job,
)
from footcast.services import alerts
from footcast.services.leagues import tracked_leagues
from footcast.services.sources.fixtures import fixtures_digest


def default_status() -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if config.automation_running() else dg.DefaultSensorStatus.STOPPED


def fixtures_changed() -> dg.SensorDefinition:
    @dg.sensor(
        job=refresh_predictions_job,
        minimum_interval_seconds=config.fixtures_sensor_seconds(),
        default_status=default_status(),
        description="Re-checks the fixtures (and their odds) of the tracked leagues at the source; "
        "requests fixtures -> features -> predictions -> Redis only when their content hash changed.",
    )
    def fixtures_changed(
        context: dg.SensorEvaluationContext,
        warehouse: WarehouseResource,
        football_data_source: FootballDataResource,
    ):
        return fixtures_run_request(context, warehouse, football_data_source)

    return fixtures_changed


def fixtures_run_request(
    context: dg.SensorEvaluationContext,
    warehouse: WarehouseResource,
    football_data_source: FootballDataResource,
) -> dg.SkipReason | dg.SensorResult:
    """A run when the tracked leagues' fixtures differ from those of the last run (the cursor)."""
    leagues = tracked_leagues(warehouse.get())
    if not leagues:
        return dg.SkipReason("no league has validated matches yet")
    # max_age 0: a conditional request every poll; the run then reads the refreshed archive.
    fetched = football_data_source.sources().fetch_fixtures(leagues, max_age=timedelta(0))
    digest = fixtures_digest(fetched.frame)
    if digest == context.cursor:
        return dg.SkipReason(f"{len(fetched.frame)} fixtures unchanged (sha256 {digest[:12]})")
    context.log.info(f"{len(fetched.frame)} fixtures of {', '.join(leagues)} changed: sha256 {digest[:12]}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_config=execution_config(), tags={"footcast/fixtures_sha256": digest[:16]})
        ],
        cursor=digest,
    )


# The schedule whose ingest runs the xG refresh follows, and the tag Dagster puts on its runs.
DAILY_INGEST_SCHEDULE = "current_season_ingest"
SCHEDULE_TAG = "dagster/schedule_name"


def xg_refresh_request(run: dg.DagsterRun) -> dg.RunRequest | dg.SkipReason:
    """The `ingest_understat` run for the partition of a successful daily ingest run, when the
    league has an xG feed; one per ingest run (its id is the run key)."""
    key = run.tags.get("dagster/partition", "")
    if run.tags.get(SCHEDULE_TAG) != DAILY_INGEST_SCHEDULE:
        return dg.SkipReason(f"run {run.run_id} ({key or 'no partition'}) is not a daily ingest run")
    if not key or not ingest_understat_job.partitions_def.has_partition_key(key):
        return dg.SkipReason(f"{key or 'no partition'}: the league has no xG feed")
    return dg.RunRequest(
        run_key=f"xg-after-{run.run_id}",
        partition_key=key,
        run_config=execution_config(),
        tags={STAGE_TAG: "ingest"},
    )


def current_season_xg() -> dg.SensorDefinition:
    @dg.run_status_sensor(
        name="current_season_xg",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[ingest_job],
        request_job=ingest_understat_job,
        default_status=default_status(),
        description="After each successful daily ingest run (schedule current_season_ingest) of a "
        "league with an xG feed: Understat's xG of the same league-season -> validated -> links to "
        "the results that run loaded.",
    )
    def current_season_xg(context: dg.RunStatusSensorContext):
        return xg_refresh_request(context.dagster_run)

    return current_season_xg


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


def _step_errors(step_failures: list) -> list[str]:
    """ "<step>: <class>: <message>" of each failed step's root error."""
    errors = []
    for event in step_failures:
        error = event.event_specific_data.error if event.event_specific_data else None
        # Dagster wraps the user's exception; the innermost message is the one that says why.
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            errors.append(f"{event.step_key}: {error.cls_name}: {error.message.strip()}")
    return errors


def _partition(tags: dict[str, str]) -> str:
    """The run's partition, or its partition range "first...last"; "" when unpartitioned."""
    return tags.get("dagster/partition") or (
        f"{tags['dagster/asset_partition_range_start']}...{tags['dagster/asset_partition_range_end']}"
        if "dagster/asset_partition_range_start" in tags
        else ""
    )


def run_failure(context: dg.RunFailureSensorContext) -> alerts.RunFailure:
    """What failed: the run's job, failed assets, partition, failed steps and the root error."""
    run = context.dagster_run
    step_failures = context.get_step_failure_events()
    failed_steps = [event.step_key for event in step_failures if event.step_key]
    errors = _step_errors(step_failures)
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
        partition_key=_partition(run.tags),
        failed_steps=tuple(failed_steps),
        error="\n".join(errors) or (context.failure_event.message or "run failed"),
        failed_at=datetime.fromtimestamp(record.end_time, UTC)
        if record and record.end_time
        else datetime.now(UTC),
    )


def run_failure_alerts() -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="run_failure_alerts",
        default_status=default_status(),
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
            f"run {failure.run_id} of {failure.job_name} failed "
            f"({failure.partition_key or 'unpartitioned'}); alert {alert}"
        )

    return run_failure_alerts


ALERTED_CHECKS = [
    dg.AssetCheckKey(dg.AssetKey(spec.asset_key.path), spec.name) for spec in track_record.CHECK_SPECS
]
# Evaluations read per check and tick: more than any schedule makes between two ticks.
CHECK_HISTORY = 50


def _check_failure(record) -> alerts.CheckFailure:
    evaluation = record.event.dagster_event.event_specific_data
    return alerts.CheckFailure(
        run_id=record.run_id,
        asset=record.key.asset_key.to_user_string(),
        check_name=record.key.name,
        severity=evaluation.severity.value,
        description=evaluation.description or "",
        evaluated_at=datetime.fromtimestamp(record.event.timestamp, UTC),
    )


def new_check_failures(
    instance: dg.DagsterInstance, cursor: str | None
) -> tuple[list[alerts.CheckFailure], str]:
    """The failed evaluations of ALERTED_CHECKS since the cursor (JSON: check -> last record id
    seen), oldest first, and the new cursor. A check the cursor does not know yet (the sensor's
    first tick) contributes its latest evaluation only: an old instance is not replayed."""
    seen = json.loads(cursor) if cursor else {}
    failures = []
    for key in ALERTED_CHECKS:
        name = key.to_user_string()
        history = instance.event_log_storage.get_asset_check_execution_history(key, limit=CHECK_HISTORY)
        fresh = [r for r in history if r.id > seen[name]] if name in seen else history[:1]
        failures += [_check_failure(r) for r in reversed(fresh) if r.status.value == "FAILED" and r.event]
        if history:
            seen[name] = max(seen.get(name, 0), history[0].id)
    return sorted(failures, key=lambda f: f.evaluated_at), json.dumps(seen, sort_keys=True)


def asset_check_alerts() -> dg.SensorDefinition:
    @dg.sensor(
        name="asset_check_alerts",
        minimum_interval_seconds=60,
        default_status=default_status(),
        description="Records every failed evaluation of the track record's checks (market warning, "
        "calibration error) in the warehouse table `check_failures` and POSTs it as JSON to "
        "FOOTCAST_ALERT_WEBHOOK_URL when that is set.",
    )
    def asset_check_alerts(
        context: dg.SensorEvaluationContext, warehouse: WarehouseResource, alert_webhook: AlertWebhookResource
    ):
        failures, cursor = new_check_failures(context.instance, context.cursor)
        for failure in failures:
            alert = alert_webhook.notify(failure.payload())
            alerts.record_check_failure(warehouse.get(), failure, alert)
            context.log.info(
                f"{failure.asset} check {failure.check_name} failed ({failure.severity}); alert {alert}"
            )
        context.update_cursor(cursor)
        if not failures:
            return dg.SkipReason("no failed check evaluation since the last tick")
        return None

    return asset_check_alerts


def build_sensors() -> list[dg.SensorDefinition]:
    """The sensors, with the interval and default status the settings give now."""
    return [fixtures_changed(), run_failure_alerts(), asset_check_alerts(), current_season_xg()]
