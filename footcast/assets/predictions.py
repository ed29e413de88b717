"""Predictions layer: the champion scores upcoming fixtures; a batch is kept and published to Redis."""

import dagster as dg
import pandas as pd

from footcast.adapters.redis.store import new_version
from footcast.adapters.warehouse import predictions as predictions_table
from footcast.assets.resources import MlflowResource, RedisResource, WarehouseResource
from footcast.config import now as current_time
from footcast.services import predicting


@dg.asset(
    group_name="predictions",
    kinds={"python", "sql"},
    deps=["model", "features"],
    description="Home/draw/away probabilities of every upcoming fixture from the champion model. Each "
    "materialization appends a new batch (publish version) to the `predictions` table.",
)
def predictions(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    mlflow_tracking: MlflowResource,
) -> dg.MaterializeResult:
    store = warehouse.get()
    # The version orders batches (the newest is published), so it takes the wall clock even
    # when FOOTCAST_NOW pins the predictions' as-of time (generated_at).
    version = new_version()
    try:
        champion, batch = predicting.champion_batch(
            mlflow_tracking.registry(), store, now=current_time(), publish_version=version
        )
    except predicting.NoChampionError as exc:
        raise dg.Failure(str(exc)) from exc
    with store.engine.begin() as conn:
        rows = store.replace_partition(predictions_table, {"publish_version": version}, batch, conn)
    context.log.info(f"batch {version}: {rows} predictions from model version {champion.version}")
    return dg.MaterializeResult(
        metadata={
            "publish_version": version,
            "rows": rows,
            "model_version": champion.version,
            "leagues": ", ".join(sorted(batch["league"].unique())),
            "first_kickoff": str(batch["kickoff"].min()) if rows else "",
            "preview": dg.MetadataValue.json(
                batch.head(10)[["home_team", "away_team", "kickoff", "p_home", "p_draw", "p_away"]]
                .astype({"kickoff": "string"})
                .round(3)
                .to_dict("records")
            ),
        }
    )


class PublishConfig(dg.Config):
    # Empty: the newest batch in the warehouse.
    publish_version: str = ""


@dg.asset(
    group_name="predictions",
    kinds={"redis"},
    deps=[predictions],
    description="The newest prediction batch published to Redis: keys written first, then the current "
    "pointer switched atomically, so readers never see a half-written batch.",
)
def published_predictions(
    context: dg.AssetExecutionContext,
    config: PublishConfig,
    warehouse: WarehouseResource,
    redis: RedisResource,
) -> dg.MaterializeResult:
    store = warehouse.get()
    version = config.publish_version or predicting.latest_version(store)
    if not version:
        raise dg.Failure("no prediction batch in the warehouse: materialize `predictions` first")
    batch = predicting.read_batch(store, version)
    if batch.empty and config.publish_version:
        # (publishing it would switch readers to a version with no predictions)
        raise dg.Failure(
            f"no prediction batch {version!r} in the warehouse (newest: "
            f"{predicting.latest_version(store) or 'none'}); nothing was published"
        )
    result = redis.store().publish(batch, version=version)
    context.log.info(
        f"published {result.count} predictions as {version} (previous {result.previous_version})"
    )
    return dg.MaterializeResult(
        metadata={
            "publish_version": result.version,
            "rows": result.count,
            "previous_version": result.previous_version or "",
            "chunks": result.chunks,
            "expired_versions": ", ".join(result.expired_versions),
        }
    )


class FreshnessConfig(dg.Config):
    max_age_hours: float = 24.0


@dg.asset_check(
    asset=published_predictions,
    description="The published batch is fresh: generated within max_age_hours, and no published "
    "prediction is for a fixture whose kickoff has passed (re-run `predict` after matchdays).",
)
def predictions_fresh(
    config: FreshnessConfig, warehouse: WarehouseResource, redis: RedisResource
) -> dg.AssetCheckResult:
    store = redis.store()
    version = store.current_version()
    if version is None:
        return dg.AssetCheckResult(passed=False, metadata={"reason": "nothing published yet"})
    batch = predicting.read_batch(warehouse.get(), version)
    now = pd.Timestamp(current_time())
    age_hours = (now - batch["generated_at"].max()).total_seconds() / 3600 if len(batch) else float("inf")
    started = int((batch["kickoff"] <= now).sum())
    stale = age_hours > config.max_age_hours
    return dg.AssetCheckResult(
        passed=not stale and started == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "publish_version": version,
            "age_hours": round(age_hours, 2),
            "max_age_hours": config.max_age_hours,
            "kicked_off_predictions": started,
            "published_predictions": len(batch),
        },
    )
