"""Walk-forward backtests (`footcast evaluate`, or the `evaluate` job from the UI): the model
recipes against the market, Elo and base rates, stored in the `backtests` table and MLflow."""

import dagster as dg
from pydantic import Field

from footcast.adapters.model_registry import ModelRegistry
from footcast.assets.resources import MlflowResource, WarehouseResource
from footcast.assets.validated import validated_matches
from footcast.data import catalogue
from footcast.services import evaluation


def _last_four_seasons() -> list[int]:
    current = catalogue.current_season()
    return list(range(current - 4, current))


class BacktestConfig(dg.Config):
    test_seasons: list[int] = Field(
        default_factory=_last_four_seasons,
        description="seasons (start years) to predict, each from a model fitted on earlier seasons only",
    )
    leagues: list[str] = Field(default_factory=list, description="leagues to score (empty: every league)")
    n_trials: int = Field(
        default=evaluation.DEFAULT_TRIALS, ge=0, description="Optuna trials per model and test season"
    )
    seed: int = 0


@dg.asset(
    name="backtests",
    group_name="model",
    kinds={"sql", "mlflow"},
    deps=[validated_matches],
    description="Walk-forward backtests of the model recipes against the market, Elo and base rates "
    "(warehouse table `backtests`, one row per evaluation x test season x league x predictor; "
    "one MLflow run per evaluation in the experiment `footcast-evaluate`).",
)
def backtests(
    context: dg.AssetExecutionContext,
    config: BacktestConfig,
    warehouse: WarehouseResource,
    mlflow_tracking: MlflowResource,
) -> dg.MaterializeResult:
    tracking = ModelRegistry(tracking_uri=mlflow_tracking.tracking_uri, experiment_name=evaluation.EXPERIMENT)
    try:
        result = evaluation.evaluate(
            warehouse.get(),
            config.test_seasons,
            leagues=config.leagues or None,
            n_trials=config.n_trials,
            seed=config.seed,
            tracking=tracking,
            progress=context.log.info,
        )
    except evaluation.EvaluationError as exc:
        raise dg.Failure(description=str(exc)) from exc
    seasons = result.report.test_seasons
    return dg.MaterializeResult(
        metadata={
            "backtest_run_id": result.report.run_id,
            "rows": result.rows_written,
            "test_seasons": f"{seasons[0]}-{seasons[-1]}",
            "leagues": ", ".join(result.report.leagues),
            "mlflow_run_id": result.mlflow_run_id or "",
            **({"mlflow_run": dg.MetadataValue.url(result.mlflow_url)} if result.mlflow_url else {}),
            "results": dg.MetadataValue.md(f"```\n{evaluation.format_table(result)}\n```"),
        }
    )
