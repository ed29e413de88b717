"""The MLflow model registry and tracking server: the champion model, and logging a trained model
(parameters, metrics, data, plots, the model and its registry version).

Plain Python (no Dagster): ``assets.resources.MlflowResource`` is the Dagster handle that builds
a :class:`ModelRegistry` from its configuration.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from footcast import config
from footcast.models import metrics, plots, training
from footcast.models.features.columns import MARKET_BASELINE_COLUMNS
from footcast.models.training import TrainedModel

DEFAULT_EXPERIMENT = "footcast"
DEFAULT_MODEL_NAME = "footcast-1x2"


@dataclass
class Champion:
    version: str
    run_id: str
    params: dict[str, Any]
    feature_columns: list[str]
    feature_set_version: str
    # training.Recipe.to_dict() of its recipe (prior_columns, calibrate, ..., fallback).
    recipe: dict[str, Any] = field(default_factory=dict)
    # The fallback model trained with it ({"feature_columns", "params"}; empty: none): it
    # predicts the rows without the recipe's required columns (``fallback_model`` of the run).
    fallback: dict[str, Any] = field(default_factory=dict)

    def trained_recipe(self) -> training.Recipe:
        """The champion's recipe with its trained parameters (and its fallback's): refitting it
        with ``training.train_recipe`` reproduces the champion on other data."""
        fallback = None
        if self.fallback:
            stored = self.recipe.get("fallback") or {}
            fallback = _recipe(stored, self.fallback["feature_columns"], self.fallback["params"])
        return _recipe(self.recipe, self.feature_columns, self.params, fallback)


def _recipe(stored: dict[str, Any], feature_columns, params, fallback=None) -> training.Recipe:
    return training.Recipe(
        name=stored.get("name", "champion"),
        feature_columns=tuple(feature_columns),
        prior_columns=stored.get("prior_columns"),
        calibrate=bool(stored.get("calibrate", False)),
        stopping_metric=stored.get("stopping_metric", "mlogloss"),
        params=dict(params),
        required_columns=tuple(stored.get("required_columns") or ()) if fallback else (),
        fallback=fallback,
    )


@dataclass(frozen=True)
class ModelRegistry:
    """MLflow tracking and model registry at ``tracking_uri``: runs go to ``experiment_name``
    (created with ``artifact_location``, default under FOOTCAST_HOME), models are versions of
    ``registered_model_name``, the champion is its ``champion`` alias."""

    tracking_uri: str
    experiment_name: str = DEFAULT_EXPERIMENT
    registered_model_name: str = DEFAULT_MODEL_NAME
    artifact_location: str = ""

    def client(self):
        import mlflow

        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        return mlflow.MlflowClient(self.tracking_uri, self.tracking_uri)

    def experiment_id(self) -> str:
        client = self.client()
        experiment = client.get_experiment_by_name(self.experiment_name)
        if experiment is not None:
            return experiment.experiment_id
        location = self.artifact_location or config.mlflow_artifact_root().as_uri()
        return client.create_experiment(self.experiment_name, artifact_location=location)

    def champion(self) -> Champion | None:
        import mlflow

        client = self.client()
        try:
            version = client.get_model_version_by_alias(self.registered_model_name, "champion")
        except mlflow.exceptions.MlflowException:
            return None
        run = client.get_run(version.run_id)
        params = json.loads(run.data.tags.get("footcast.xgb_params", "{}"))
        features = json.loads(run.data.tags.get("footcast.feature_columns", "[]"))
        return Champion(
            version=str(version.version),
            run_id=version.run_id,
            params=params,
            feature_columns=features,
            feature_set_version=run.data.tags.get("footcast.feature_set_version", ""),
            recipe=json.loads(run.data.tags.get("footcast.recipe", "{}")),
            fallback=json.loads(run.data.tags.get("footcast.fallback", "{}")),
        )

    def set_champion(self, version: str) -> None:
        self.client().set_registered_model_alias(self.registered_model_name, "champion", version)

    def load_model(self, version: str):
        import mlflow

        self.client()
        return mlflow.xgboost.load_model(f"models:/{self.registered_model_name}/{version}")

    def load_fallback(self, champion: Champion):
        """The champion's fallback classifier, or None when it has none."""
        import mlflow

        if not champion.fallback:
            return None
        self.client()
        return mlflow.xgboost.load_model(f"runs:/{champion.run_id}/{FALLBACK_MODEL}")

    def run_url(self, run_id: str) -> str:
        base = config.mlflow_ui_url()
        return f"{base.rstrip('/')}/#/experiments/{self.experiment_id()}/runs/{run_id}"


FALLBACK_MODEL = "fallback_model"
PLOTS = ("reliability.png", "feature_importance.png", "rps_by_season.png")


@dataclass
class LoggedModel:
    run_id: str
    version: str
    url: str
    plots: dict[str, Path] = field(default_factory=dict)  # name -> local copy of the plot
    images: dict[str, bytes] = field(default_factory=dict)  # name -> the plot's PNG


def season_rps(trained: TrainedModel, history: pd.DataFrame) -> pd.DataFrame:
    """RPS by season of the opening market and of the model, on the matches with opening prices.

    The validation seasons are held out (the model fitted before them, as scored in
    ``validation_metrics``); the final model is fitted on every season, so its RPS on them is
    in-sample and shown as such."""
    data = history[history["played"].astype(bool) & history["result"].notna()]
    market_columns = list(MARKET_BASELINE_COLUMNS[:3])
    data = data[data[market_columns].notna().all(axis=1)]
    out = pd.DataFrame(
        index=sorted(int(s) for s in data["season"].unique()),
        columns=["opening market", "model (in-sample)", "model (held out)"],
        dtype=float,
    )
    if data.empty:
        return out
    outcomes = metrics.encode_results(data["result"])
    seasons = data["season"].astype(int).to_numpy()
    model_rps = metrics.rps_per_match(trained.predict_proba(data), outcomes)
    market_rps = metrics.rps_per_match(data[market_columns].to_numpy(dtype=np.float64), outcomes)
    held = trained.validation_predictions
    held_rps = {}
    if held is not None:
        held = held.set_index("match_id").reindex(data["match_id"])
        have = held["p_home"].notna().to_numpy()
        if have.any():
            per = metrics.rps_per_match(
                held.loc[have, ["p_home", "p_draw", "p_away"]].to_numpy(), outcomes[have]
            )
            held_rps = pd.Series(per).groupby(seasons[have]).mean().to_dict()
    for season in out.index:
        mask = seasons == season
        out.loc[season, "opening market"] = market_rps[mask].mean()
        if season in held_rps:
            out.loc[season, "model (held out)"] = held_rps[season]
        else:
            out.loc[season, "model (in-sample)"] = model_rps[mask].mean()
    return out


def make_plots(trained: TrainedModel, history: pd.DataFrame, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    held = trained.validation_predictions
    seasons = ", ".join(map(str, trained.validation_seasons))
    if held is not None and len(held):
        made["reliability.png"] = plots.reliability_diagram(
            held[["p_home", "p_draw", "p_away"]].to_numpy(),
            metrics.encode_results(held["result"]),
            folder / "reliability.png",
            f"Reliability on the held-out validation season(s) {seasons}",
        )
    gain = trained.classifier.get_booster().get_score(importance_type="total_gain")
    importance = pd.Series(
        {trained.feature_columns[int(k[1:])]: v for k, v in gain.items() if k.startswith("f")}, dtype=float
    )
    if len(importance):
        made["feature_importance.png"] = plots.feature_importance(
            importance, folder / "feature_importance.png", "Feature importance (XGBoost total gain)"
        )
    by_season = season_rps(trained, history).dropna(how="all")
    if len(by_season):
        made["rps_by_season.png"] = plots.rps_by_season(
            by_season.dropna(axis=1, how="all"),
            folder / "rps_by_season.png",
            "RPS by season against the opening market",
        )
    return made


def log_training(
    registry: ModelRegistry,
    trained: TrainedModel,
    feature_set_version: str,
    history: pd.DataFrame,
    extra_metrics: dict[str, float] | None = None,
    tags: dict[str, Any] | None = None,
    recipe: dict[str, Any] | None = None,
) -> LoggedModel:
    """One MLflow run for a training: parameters, validation metrics overall and per league
    (``validation_<score>``, ``validation_<league>_<score>``), the data it saw, the feature list,
    plots, and the model (XGBoost flavour, signature and input example) registered as a new
    version. ``history``: the features it was trained on (for the input example and plots).
    ``LoggedModel.plots``: the plots' paths in the artifact store when it is a local folder."""
    import mlflow
    from mlflow.models import infer_signature

    registry.client()
    experiment_id = registry.experiment_id()
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params({k: v for k, v in trained.params.items()})
        mlflow.log_params(
            {
                "validation_seasons": ",".join(map(str, trained.validation_seasons)),
                "train_rows": trained.train_rows,
                "validation_rows": trained.validation_rows,
                "rows": trained.data_summary.get("rows"),
                "leagues": ",".join(trained.data_summary.get("leagues", [])),
                "seasons": _season_span(trained.data_summary.get("seasons", [])),
                "n_features": len(trained.feature_columns),
                "feature_set_version": feature_set_version,
                "prior": ";".join("/".join(t) for t in trained.prior_columns)
                if trained.prior_columns
                else "none",
                "temperature": trained.temperature if trained.temperature is not None else "none",
            }
        )
        mlflow.log_metrics({f"validation_{k}": v for k, v in trained.validation_metrics.items()})
        for league, scores in trained.validation_metrics_by_league().items():
            mlflow.log_metrics({f"validation_{league}_{k}": v for k, v in scores.items()})
        if extra_metrics:
            mlflow.log_metrics(extra_metrics)
        mlflow.set_tags(
            {
                "footcast.xgb_params": json.dumps(trained.params, sort_keys=True),
                "footcast.feature_columns": json.dumps(trained.feature_columns),
                "footcast.feature_set_version": feature_set_version,
                "footcast.data": json.dumps(trained.data_summary, sort_keys=True),
                "footcast.recipe": json.dumps(recipe or {}, sort_keys=True),
                **_fallback_tag(trained),
                **{k: str(v) for k, v in (tags or {}).items()},
            }
        )
        mlflow.log_dict(
            {"feature_set_version": feature_set_version, "features": trained.feature_columns},
            "feature_list.json",
        )
        mlflow.log_dict(trained.data_summary, "data.json")
        with tempfile.TemporaryDirectory() as tmp:
            made = make_plots(trained, history, Path(tmp) / "plots")
            images = {name: path.read_bytes() for name, path in made.items()}
            for path in made.values():
                mlflow.log_artifact(str(path), artifact_path="plots")
            if trained.validation_predictions is not None:
                held_out = Path(tmp) / "validation_predictions.csv"
                trained.validation_predictions.to_csv(held_out, index=False)
                mlflow.log_artifact(str(held_out))
            # Named float64 columns: the signature documents what the model reads. The prior
            # (base margin) and temperature travel in the booster's attributes: load the model
            # with mlflow.xgboost.load_model and predict with training.predict_proba.
            example = history[trained.feature_columns].head(5).astype("float64")
            info = mlflow.xgboost.log_model(
                trained.classifier,
                name="model",
                signature=infer_signature(example, trained.predict_proba(history.head(5))),
                input_example=example,
            )
            if trained.fallback is not None:
                mlflow.xgboost.log_model(trained.fallback.classifier, name=FALLBACK_MODEL)
        run_id = run.info.run_id
        artifacts = run.info.artifact_uri
    version = _register(registry, info, run_id)
    stored = {}
    if artifacts.startswith("file:"):
        from urllib.parse import urlparse
        from urllib.request import url2pathname

        root = Path(url2pathname(urlparse(artifacts).path))
        stored = {name: root / "plots" / name for name in made}
    return LoggedModel(
        run_id=run_id, version=version, url=registry.run_url(run_id), plots=stored, images=images
    )


def log_figures(
    registry: ModelRegistry,
    *,
    run_name: str,
    params: dict[str, Any],
    figures: dict[str, float],
    images: dict[str, bytes],
    tables: dict[str, str] | None = None,
) -> tuple[str, str]:
    """One MLflow run in the registry's experiment: ``params``, ``figures`` (metrics), the PNG ``images``
    under plots/ and the text ``tables`` (name -> content) as artifacts. Returns (run id, URL)."""
    import mlflow

    registry.client()
    with mlflow.start_run(experiment_id=registry.experiment_id(), run_name=run_name) as run:
        mlflow.log_params(params)
        if figures:
            mlflow.log_metrics(figures)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for name, png in images.items():
                (folder / name).write_bytes(png)
                mlflow.log_artifact(str(folder / name), artifact_path="plots")
            for name, text in (tables or {}).items():
                (folder / name).write_text(text)
                mlflow.log_artifact(str(folder / name))
        run_id = run.info.run_id
    return run_id, registry.run_url(run_id)


def _fallback_tag(trained: TrainedModel) -> dict[str, str]:
    if trained.fallback is None:
        return {}
    fallback = {"feature_columns": trained.fallback.feature_columns, "params": trained.fallback.params}
    return {"footcast.fallback": json.dumps(fallback, sort_keys=True)}


def _register(registry: ModelRegistry, info, run_id: str) -> str:
    """Register the logged model as a new version of the registered model; its version number.
    (Through the client: `log_model(registered_model_name=...)` does the same but prints its
    progress to stderr, into the command line's output.)"""
    import mlflow

    client = registry.client()
    try:
        client.create_registered_model(registry.registered_model_name)
    except mlflow.exceptions.MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(
        registry.registered_model_name, source=info.model_uri, run_id=run_id, model_id=info.model_id
    )
    return str(version.version)


def _season_span(seasons: list[int]) -> str:
    return f"{min(seasons)}-{max(seasons)}" if seasons else ""
