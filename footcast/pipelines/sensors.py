"""The sensors, built from the settings when the definitions are.

- `fixtures_changed`: requests job `refresh_predictions` when the fixtures of the tracked
  leagues change; polls every 15 min (FOOTCAST_FIXTURES_SENSOR_SECONDS).
- `run_failure_alerts`: records each failed run to `run_failures` and POSTs it to
  FOOTCAST_ALERT_WEBHOOK_URL.

Like the schedules, they start running with FOOTCAST_AUTOMATION=running, stopped otherwise.

No ``from __future__ import annotations`` here: Dagster reads the resource annotations.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from footcast import config
from footcast.assets.resources import AlertWebhookResource, FootballDataResource, WarehouseResource
from footcast.pipelines.jobs import execution_config, refresh_predictions_job
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


def build_sensors() -> list[dg.SensorDefinition]:
    """The sensors, with the interval and default status the settings give now."""
    return [fixtures_changed(), run_failure_alerts()]
