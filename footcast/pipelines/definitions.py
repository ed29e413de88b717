"""The footcast code location: one Definitions object with every asset, check, job, schedule,
sensor and resource.

The settings (resource addresses, crons, timezone, intervals, default statuses) are read when
:func:`build_definitions` runs, not when a module is imported.
"""

from __future__ import annotations

import dagster as dg

from footcast import config
from footcast.assets import backtests, links, predictions, understat
from footcast.assets.freshness import validated_current_season_fresh_check
from footcast.assets.resources import (
    AlertWebhookResource,
    FootballDataResource,
    MlflowResource,
    RedisResource,
    UnderstatResource,
    WarehouseResource,
    env_or,
)
from footcast.pipelines import jobs, logs, schedules, sensors


def resources() -> dict[str, dg.ConfigurableResource]:
    """Resources from the environment (EnvVar when set), embedded defaults otherwise."""
    warehouse = WarehouseResource(
        url=env_or("FOOTCAST_WAREHOUSE_URL", config.warehouse_url()),
        db_schema=env_or("FOOTCAST_WAREHOUSE_SCHEMA", ""),
    )
    return {
        "warehouse": warehouse,
        "redis": RedisResource(
            url=env_or("FOOTCAST_REDIS_URL", ""), prefix=env_or("FOOTCAST_REDIS_PREFIX", "footcast")
        ),
        "mlflow_tracking": MlflowResource(
            tracking_uri=env_or("MLFLOW_TRACKING_URI", config.mlflow_tracking_uri())
        ),
        "football_data_source": FootballDataResource(
            base_url=env_or("FOOTCAST_FOOTBALL_DATA_URL", config.football_data_url()),
            warehouse=warehouse,
        ),
        "understat_source": UnderstatResource(
            base_url=env_or("FOOTCAST_UNDERSTAT_URL", config.understat_url()), warehouse=warehouse
        ),
        "alert_webhook": AlertWebhookResource(url=env_or("FOOTCAST_ALERT_WEBHOOK_URL", "")),
    }


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[
            *jobs.INGEST_ASSETS,
            *jobs.PREDICT_ASSETS,
            *jobs.TRACK_RECORD_ASSETS,
            backtests.backtests,
            *understat.UNDERSTAT_ASSETS,
            *links.LINK_ASSETS,
        ],
        asset_checks=[
            predictions.predictions_fresh,
            validated_current_season_fresh_check(schedules.last_ingest_tick),
        ],
        jobs=jobs.JOBS,
        schedules=schedules.build_schedules(),
        sensors=sensors.build_sensors(),
        resources=resources(),
        loggers=logs.LOGGERS,
    )


defs = build_definitions()
