"""The schedules that keep footcast current, built from the settings when the definitions are.

| schedule | job | default cadence (FOOTCAST_SCHEDULE_TIMEZONE, default Europe/London) |
|---|---|---|
| `current_season_ingest` | `ingest` | 06:00 daily (FOOTCAST_INGEST_CRON) |
| `daily_predictions` | `refresh_predictions` | 06:45 daily (FOOTCAST_PREDICTIONS_CRON) |
| `weekly_retrain` | `retrain` | Monday 04:00 (FOOTCAST_RETRAIN_CRON) |
| `hourly_freshness` | `freshness_checks` | hourly at :20 (FOOTCAST_FRESHNESS_CRON) |
| `daily_track_record` | `update_track_record` | 07:30 daily (FOOTCAST_TRACK_RECORD_CRON) |

The daily ingest refreshes the current season's partition of every scheduled league
(FOOTCAST_SCHEDULE_LEAGUES, comma-separated; default: every league that has validated
matches, i.e. whatever has been backfilled), except the leagues between seasons
(``catalogue.off_season``: the main-layout leagues in June and July; the calendar-year
leagues play then). Its partition keys come from the catalogue's
public helpers, so the schedule follows any change to how partitions are keyed. Each of its
runs that succeeds for a league with an xG feed is followed by that league-season's Understat
xG and links (the sensor `current_season_xg`, in sensors.py): the xG after its results.

With FOOTCAST_AUTOMATION=running (the production image sets it) schedules and sensors run as
soon as the code location loads; otherwise they start stopped and are switched on in the UI.
FOOTCAST_RUN_EXECUTION=in_process|multiprocess picks how automated runs execute their steps
(default: the job's executor, one process per step).

No ``from __future__ import annotations`` here: Dagster reads the resource annotations.
"""

from datetime import datetime
from typing import Any

import dagster as dg

from footcast import config
from footcast.assets.resources import WarehouseResource
from footcast.data import catalogue
from footcast.pipelines.dagster_private import get_latest_completed_cron_tick
from footcast.pipelines.jobs import (
    STAGE_TAG,
    execution_config,
    freshness_job,
    refresh_predictions_job,
    retrain_job,
    track_record_job,
)
from footcast.services.leagues import scheduled_leagues


def default_status() -> dg.DefaultScheduleStatus:
    return (
        dg.DefaultScheduleStatus.RUNNING if config.automation_running() else dg.DefaultScheduleStatus.STOPPED
    )


def last_ingest_tick(now: datetime) -> datetime:
    """When the `current_season_ingest` schedule was last due, at or before ``now``."""
    return get_latest_completed_cron_tick(config.ingest_cron(), now, config.schedule_timezone())


def ingest_requests(warehouse: WarehouseResource) -> dg.SkipReason | list[dg.RunRequest]:
    """One run of the current season's partition per scheduled league."""
    leagues = scheduled_leagues(warehouse.get())
    if not leagues:
        return dg.SkipReason("no league has validated matches yet: backfill a league first")
    now = config.now()
    in_season = [league for league in leagues if not catalogue.off_season(league, now)]
    if not in_season:
        return dg.SkipReason(f"every scheduled league is between seasons: {', '.join(leagues)}")
    keys = [str(catalogue.partition_key(league, catalogue.current_season(league))) for league in in_season]
    # run_key: one run per partition per tick, also when a tick is retried after a crash.
    return [
        dg.RunRequest(
            run_key=key, partition_key=key, run_config=execution_config(), tags={STAGE_TAG: "ingest"}
        )
        for key in keys
    ]


def current_season_ingest() -> dg.ScheduleDefinition:
    @dg.schedule(
        job_name="ingest",
        cron_schedule=config.ingest_cron(),
        execution_timezone=config.schedule_timezone(),
        default_status=default_status(),
        description="raw + validated for the current season of every scheduled league, one run each",
    )
    def current_season_ingest(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
        return ingest_requests(warehouse)

    return current_season_ingest


def job_schedule(name: str, job: Any, cron: str, description: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone=config.schedule_timezone(),
        default_status=default_status(),
        description=description,
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        return dg.RunRequest(run_config=execution_config())

    return _schedule


def build_schedules() -> list[dg.ScheduleDefinition]:
    """The schedules, with the crons, timezone and default status the settings give now."""
    return [
        current_season_ingest(),
        job_schedule(
            "daily_predictions",
            refresh_predictions_job,
            config.predictions_cron(),
            "after the daily ingest: played fixtures drop out, new results reach the features",
        ),
        job_schedule(
            "weekly_retrain",
            retrain_job,
            config.retrain_cron(),
            "retrain; the promotion gate decides the champion",
        ),
        job_schedule("hourly_freshness", freshness_job, config.freshness_cron(), "run the freshness checks"),
        job_schedule(
            "daily_track_record",
            track_record_job,
            config.track_record_cron(),
            "after the day's results and predictions: score the published predictions, check for drift",
        ),
    ]
