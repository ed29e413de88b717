"""Model layer: XGBoost trained on the features, tracked in MLflow, promoted only when better."""

import dagster as dg

from footcast.adapters.model_registry import log_training
from footcast.assets.resources import MlflowResource, WarehouseResource
from footcast.models import training, tuning
from footcast.models.features.columns import FEATURE_SET_VERSION
from footcast.models.plots import markdown_images


class ModelConfig(dg.Config):
    seed: int = 0
    validation_seasons: int = 1
    # The new model must beat the champion's validation RPS by at least this much.
    promotion_margin: float = 0.0
    # The recipe `footcast evaluate` backtests: training.MARKET_RECIPE (with its no-market fallback
    # for matches without opening prices), else NO_MARKET_RECIPE for every match.
    market_features: bool = True
    # Optuna trials on the recipe's tuning season(s) before the fit (0: its fixed parameters).
    n_trials: int = tuning.DEFAULT_TRIALS
    tuning_timeout_seconds: float = 0.0  # 0: no time budget


def _champion_rps(frame, champion, config: ModelConfig):
    """The champion's recipe (parameters, features, prior, calibration, and its fallback model for
    the rows without the recipe's required columns) refitted on exactly the same training seasons
    and scored as served on the same validation season: a like-for-like comparison. None when
    the champion cannot be refitted on these features."""
    if champion is None:
        return None
    recipe = champion.trained_recipe()
    needed = set(recipe.feature_columns) | set(recipe.fallback.feature_columns if recipe.fallback else ())
    if not needed <= set(frame.columns):
        return None
    refit = training.train_recipe(
        frame, recipe, seed=config.seed, validation_seasons=config.validation_seasons
    )
    return refit.validation_metrics["rps"]


def _tuned_params(context, store, frame, recipe: training.Recipe, config: ModelConfig):
    """(the recipe's parameters, the tuning result or None): Optuna with ``config.n_trials``."""
    if config.n_trials <= 0:
        return recipe.params, None
    columns = list(recipe.feature_columns)
    search = recipe.tune_kwargs()
    _, valid = training.time_split(frame, search["validation_seasons"])
    url, engine_kwargs = store.optuna_storage()
    tuned = tuning.tune(
        frame,
        columns,
        n_trials=config.n_trials,
        timeout_seconds=config.tuning_timeout_seconds or None,
        storage=url,
        storage_engine_kwargs=engine_kwargs,
        study_name=tuning.study_name_for(
            f"footcast-model-{recipe.name}",
            columns,
            sorted(int(s) for s in valid["season"].unique()),
            recipe.prior_columns,
        ),
        seed=config.seed,
        **search,
    )
    context.log.info(
        f"tuning {tuned.study_name}: {tuned.n_trials_run} trials run ({tuned.n_trials_done} in the "
        f"study), best validation RPS {tuned.best_rps:.5f}"
    )
    return tuned.best_params, tuned


def promotion(new_rps: float, champion_rps, margin: float) -> tuple[bool, str]:
    """(promote, decision): promote only when the new model beats the champion by ``margin``."""
    if champion_rps is None:
        return True, f"promoted: no comparable champion (new RPS {new_rps:.5f})"
    promote = new_rps < champion_rps - margin
    verdict = "promoted" if promote else "kept champion"
    return promote, f"{verdict}: new RPS {new_rps:.5f} vs champion {champion_rps:.5f} (margin {margin})"


def _metrics_table(trained: training.TrainedModel) -> str:
    """Markdown: validation scores overall and per league."""
    scores = ("rps", "log_loss", "brier", "accuracy", "calibration_error")
    rows = [("all", trained.validation_metrics), *trained.validation_metrics_by_league().items()]
    n = trained.validation_predictions.groupby("league").size().to_dict()
    lines = [
        "| league | n | " + " | ".join(scores) + " |",
        "|---|---|" + "---|" * len(scores),
    ]
    for league, values in rows:
        count = trained.validation_rows if league == "all" else n.get(league, 0)
        lines.append(f"| {league} | {count} | " + " | ".join(f"{values[s]:.5f}" for s in scores) + " |")
    return "\n".join(lines)


def _fallback_rows(trained: training.TrainedModel, recipe: training.Recipe) -> int:
    """Validation rows the fallback model predicted (for the market recipe: no opening prices)."""
    held = trained.validation_predictions
    if recipe.fallback is None or held is None:
        return 0
    return int((held["recipe"] == recipe.fallback.name).sum())


@dg.asset(
    group_name="model",
    kinds={"xgboost", "mlflow"},
    deps=["features"],
    description="XGBoost home/draw/away model (the recipe `footcast evaluate` backtests: optionally tuned "
    "by Optuna, fitted on seasons before the validation season, boosting from the opening-market prior; "
    "with the no-market model it falls back to for matches without opening prices), logged and "
    "registered in MLflow; the `champion` alias moves only when it beats the champion on the same data.",
)
def model(
    context: dg.AssetExecutionContext,
    config: ModelConfig,
    warehouse: WarehouseResource,
    mlflow_tracking: MlflowResource,
) -> dg.MaterializeResult:
    store = warehouse.get()
    frame = store.read_features()
    recipe = training.MARKET_RECIPE if config.market_features else training.NO_MARKET_RECIPE
    params, tuned = _tuned_params(context, store, frame, recipe, config)
    fallback_params, fallback_tuned = (
        _tuned_params(context, store, frame, recipe.fallback, config) if recipe.fallback else (None, None)
    )
    trained = training.train_recipe(
        frame,
        recipe,
        params=params,
        fallback_params=fallback_params,
        seed=config.seed,
        validation_seasons=config.validation_seasons,
    )
    new_rps = trained.validation_metrics["rps"]
    registry = mlflow_tracking.registry()
    champion = registry.champion()
    champion_rps = _champion_rps(frame, champion, config)
    promote, decision = promotion(new_rps, champion_rps, config.promotion_margin)
    logged = log_training(
        registry,
        trained,
        FEATURE_SET_VERSION,
        frame,
        extra_metrics={"champion_validation_rps": champion_rps} if champion_rps is not None else None,
        tags={"footcast.promotion_decision": decision, "footcast.promoted": promote},
        recipe={
            **recipe.to_dict(),
            "tuning": tuned.to_dict() if tuned else None,
            "fallback_tuning": fallback_tuned.to_dict() if fallback_tuned else None,
        },
    )
    if promote:
        registry.set_champion(logged.version)
    context.log.info(f"model version {logged.version}: {decision}")
    # The plots as images the UI shows (data URIs), and where MLflow keeps them when local.
    plots = {
        f"plot_{name.removesuffix('.png')}": dg.MetadataValue.path(str(path))
        for name, path in logged.plots.items()
    }
    if logged.images:
        plots["plots"] = dg.MetadataValue.md(markdown_images(logged.images))
    return dg.MaterializeResult(
        metadata={
            "mlflow_run_id": logged.run_id,
            "mlflow_run": dg.MetadataValue.url(logged.url),
            "model_version": logged.version,
            "recipe": recipe.name,
            "promoted": promote,
            "promotion_decision": decision,
            "new_validation_rps": round(new_rps, 5),
            "champion_validation_rps": round(champion_rps, 5) if champion_rps is not None else None,
            "champion_version": logged.version if promote else (champion.version if champion else ""),
            "validation_metrics": dg.MetadataValue.md(_metrics_table(trained)),
            **{f"validation_{k}": round(v, 5) for k, v in trained.validation_metrics.items()},
            "validation_seasons": ", ".join(map(str, trained.validation_seasons)),
            "train_rows": trained.train_rows,
            "validation_rows": trained.validation_rows,
            "tuning_trials": tuned.n_trials_run if tuned else 0,
            "fallback_validation_rows": _fallback_rows(trained, recipe),
            **plots,
        }
    )
