"""Model layer: XGBoost trained on the features, tracked in MLflow, promoted only when better."""

import dagster as dg

from footcast.models import features as feature_builder
from footcast.models import training
from footcast.pipelines import tracking
from footcast.pipelines.resources import MlflowResource, WarehouseResource


class ModelConfig(dg.Config):
    seed: int = 0
    validation_seasons: int = 1
    # The new model must beat the champion's validation RPS by at least this much.
    promotion_margin: float = 0.0
    market_features: bool = True


@dg.asset(
    group_name="model",
    kinds={"xgboost", "mlflow"},
    deps=["features"],
    description="XGBoost home/draw/away model fitted on seasons before the validation season, logged and "
    "registered in MLflow; the `champion` alias moves only when it beats the champion on the same data.",
)
def model(
    context: dg.AssetExecutionContext,
    config: ModelConfig,
    warehouse: WarehouseResource,
    mlflow_tracking: MlflowResource,
) -> dg.MaterializeResult:
    frame = warehouse.get().read_features()
    columns = list(
        feature_builder.MODEL_FEATURES if config.market_features else feature_builder.NO_MARKET_FEATURES
    )
    trained = training.train_model(
        frame, columns, seed=config.seed, validation_seasons=config.validation_seasons
    )
    new_rps = trained.validation_metrics["rps"]

    # The champion's recipe (parameters and features) refitted on exactly the same training
    # seasons and scored on the same validation season: a like-for-like comparison.
    champion = mlflow_tracking.champion()
    champion_rps = None
    if champion is not None and set(champion.feature_columns) <= set(frame.columns):
        refit = training.train_model(
            frame,
            champion.feature_columns,
            params=champion.params,
            seed=config.seed,
            validation_seasons=config.validation_seasons,
        )
        champion_rps = refit.validation_metrics["rps"]
    promote = champion_rps is None or new_rps < champion_rps - config.promotion_margin
    decision = (
        "promoted: no comparable champion"
        if champion_rps is None
        else f"{'promoted' if promote else 'kept champion'}: new RPS {new_rps:.5f} vs champion "
        f"{champion_rps:.5f} (margin {config.promotion_margin})"
    )
    example = frame[columns].to_numpy(dtype="float64")[:50]
    logged = tracking.log_training(
        mlflow_tracking,
        trained,
        feature_builder.FEATURE_SET_VERSION,
        example,
        extra_metrics={"champion_validation_rps": champion_rps} if champion_rps is not None else None,
        tags={"footcast.promotion_decision": decision},
    )
    if promote:
        mlflow_tracking.set_champion(logged.version)
    context.log.info(f"model version {logged.version}: {decision}")
    return dg.MaterializeResult(
        metadata={
            "mlflow_run_id": logged.run_id,
            "mlflow_run": dg.MetadataValue.url(logged.url),
            "model_version": logged.version,
            "promoted": promote,
            "promotion_decision": decision,
            "champion_version": logged.version if promote else (champion.version if champion else ""),
            **{f"validation_{k}": round(v, 5) for k, v in trained.validation_metrics.items()},
            "validation_seasons": ", ".join(map(str, trained.validation_seasons)),
            "train_rows": trained.train_rows,
            "validation_rows": trained.validation_rows,
        }
    )
