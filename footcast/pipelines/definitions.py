"""The footcast code location: one Definitions object with every asset, check, job and resource."""

from __future__ import annotations

import dagster as dg

from footcast import config
from footcast.assets import backtests, features, model, predictions, raw, validated
from footcast.assets.resources import (
    AlertWebhookResource,
    FootballDataResource,
    MlflowResource,
    RedisResource,
    WarehouseResource,
    env_or,
)
from footcast.pipelines import automation, logs

INGEST_ASSETS = [raw.raw_matches, validated.validated_matches]
PREDICT_ASSETS = [
    raw.raw_fixtures,
    features.features,
    model.model,
    predictions.predictions,
    predictions.published_predictions,
]

ingest_job = dg.define_asset_job(
    "ingest",
    # The freshness checks run on their own schedule, not once per ingested partition.
    selection=dg.AssetSelection.assets(*INGEST_ASSETS) - dg.AssetSelection.checks(*automation.ASSET_CHECKS),
    partitions_def=raw.SEASON_LEAGUE,
    description="raw -> validated for one league-season partition",
)
publish_job = dg.define_asset_job(
    "publish",
    selection=dg.AssetSelection.assets(predictions.published_predictions),
    description="re-publish a prediction batch from the warehouse to Redis (no recomputation)",
)
predict_job = dg.define_asset_job(
    "predict",
    selection=dg.AssetSelection.assets(*PREDICT_ASSETS),
    description="fixtures -> features -> model -> predictions -> Redis",
)
evaluate_job = dg.define_asset_job(
    "evaluate",
    selection=dg.AssetSelection.assets(backtests.backtests),
    description="walk-forward backtest of the model recipes against the market, Elo and base rates "
    "(`footcast evaluate`; config: test_seasons, leagues, n_trials, seed)",
)


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
        "alert_webhook": AlertWebhookResource(url=env_or("FOOTCAST_ALERT_WEBHOOK_URL", "")),
    }


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[*INGEST_ASSETS, *PREDICT_ASSETS, backtests.backtests],
        asset_checks=[predictions.predictions_fresh, *automation.ASSET_CHECKS],
        jobs=[ingest_job, predict_job, publish_job, evaluate_job, *automation.JOBS],
        schedules=automation.SCHEDULES,
        sensors=automation.SENSORS,
        resources=resources(),
        loggers=logs.LOGGERS,
    )


defs = build_definitions()
