"""XGBoost home/draw/away model: time-ordered validation, reproducible training, scoring.

Validation is always by time: the model is fitted on seasons before the validation season(s)
and scored on them, never on a random split. The final model is refitted on every played
match with the number of boosting rounds found on the validation seasons.

Options (all off by default, so the plain model is unchanged):

- ``prior_columns``: boosting starts from a prior instead of from a constant. The prior is a
  list of probability column triples (home, draw, away); each row takes the first triple it
  has complete (e.g. the opening market, else the Elo probabilities, ``MARKET_PRIOR``) and
  its log-probabilities are the XGBoost ``base_margin``, so the trees learn corrections to
  the prior. Predicting needs the same columns (``TrainedModel.predict_proba`` does it).
- ``calibrate``: temperature scaling fitted on the validation predictions (one parameter,
  minimising log loss), applied to every prediction of the refitted model.
- ``stopping_metric``: early stopping on ``"mlogloss"`` (default) or ``"rps"``.

A recipe may name ``required_columns`` and a ``fallback`` recipe (:func:`train_recipe`): rows
without every required column (the market recipe: matches without opening prices, e.g. of
leagues the source publishes closing prices only for) are predicted by the fallback's model.
Closing prices are never features nor priors: they do not exist when predictions are published.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.optimize import minimize_scalar

from footcast.models import metrics
from footcast.models.features.columns import (
    ELO_BASELINE_COLUMNS,
    MARKET_OPEN_COLUMNS,
    MODEL_FEATURES,
    NO_MARKET_FEATURES,
    XG_COLUMNS,
    XG_RATING_COLUMNS,
)

DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 400,
    "learning_rate": 0.03,
    "max_depth": 3,
    "min_child_weight": 5.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
}


# Priors for ``prior_columns``: the first complete triple of a row is its prior.
ELO_PRIOR: tuple[tuple[str, ...], ...] = (tuple(ELO_BASELINE_COLUMNS),)
MARKET_PRIOR: tuple[tuple[str, ...], ...] = (tuple(MARKET_OPEN_COLUMNS[:3]), *ELO_PRIOR)
GOALS_PRIOR: tuple[tuple[str, ...], ...] = (("goals_p_home", "goals_p_draw", "goals_p_away"),)
# The xG rating's probabilities where the match has them, else the goals model's.
XG_PRIOR: tuple[tuple[str, ...], ...] = (tuple(XG_RATING_COLUMNS), *GOALS_PRIOR)
STOPPING_METRICS = ("mlogloss", "rps")
_PRIOR_FLOOR = 1e-6


@dataclass(frozen=True)
class Recipe:
    """How a model is fitted and applied: the one definition that ``footcast evaluate`` backtests,
    the ``model`` asset trains and predictions apply (the prior and the temperature travel in the
    booster, see :func:`stored_recipe`). ``params`` are the fixed XGBoost parameters, used when
    the recipe is not tuned (Optuna trials replace them)."""

    name: str
    feature_columns: tuple[str, ...]
    prior_columns: tuple[tuple[str, ...], ...] | None
    calibrate: bool
    stopping_metric: str
    params: dict[str, Any] = field(default_factory=dict)
    # Optuna search space (tuning.SEARCH_SPACE format); None: tuning.SEARCH_SPACE.
    search_space: dict[str, tuple[float, float, str]] | None = None
    # Seasons the tuning scores trials on (the last ones before the data's end); early stopping
    # of the fit itself uses train_model's validation_seasons.
    tuning_validation_seasons: int = 1
    # A tuned trial replaces the fixed parameters only when its validation RPS is lower by this.
    tuning_min_improvement: float = 0.0
    # Rows lacking any of these columns are predicted by the fallback recipe's model.
    required_columns: tuple[str, ...] = ()
    fallback: Recipe | None = None

    def tune_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`footcast.models.tuning.tune`: the recipe's prior, stopping
        metric and search space, starting from its fixed parameters."""
        return {
            "prior_columns": self.prior_columns,
            "stopping_metric": self.stopping_metric,
            "space": self.search_space,
            "first_trial": dict(self.params),
            "validation_seasons": self.tuning_validation_seasons,
            "min_improvement": self.tuning_min_improvement,
        }

    def train_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`train_model` (``params`` apart: tuning may replace them)."""
        return {
            "prior_columns": self.prior_columns,
            "calibrate": self.calibrate,
            "stopping_metric": self.stopping_metric,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_features": len(self.feature_columns),
            "prior_columns": [list(t) for t in self.prior_columns] if self.prior_columns else None,
            "calibrate": self.calibrate,
            "stopping_metric": self.stopping_metric,
            "params": dict(self.params),
            "search_space": {k: list(v) for k, v in self.search_space.items()} if self.search_space else None,
            "tuning_validation_seasons": self.tuning_validation_seasons,
            "tuning_min_improvement": self.tuning_min_improvement,
            "required_columns": list(self.required_columns),
            "fallback": self.fallback.to_dict() if self.fallback else None,
        }


# The evaluated recipes (`footcast evaluate`, the `model` asset), chosen on the walk-forward
# backtest of E0+D1 2021/22-2024/25 (2,739 matches; RPS, opening market 0.19521):
# - market: the opening (pre-closing) prices among the features and as the prior, so the
#   trees learn small, heavily regularised corrections to the market (0.19521, no better than
#   the market it starts from); early stopping on RPS.
#   Temperature scaling made it worse (+0.0003), so it is off.
# - no market: for leagues without odds; boosting from a constant (the Elo prior made it
#   worse), early stopping on RPS (0.19945; on mlogloss about +0.0002).
# Tuning each test season on the season before it picked worse parameters than these fixed
# ones (20 trials: 0.19558 / 0.20050; scored on the three seasons before: 0.19528 / 0.20010):
# the best of 20 trials on one validation set is mostly luck. Hence tuning.DEFAULT_TRIALS = 0
# and, when tuning is asked for, a trial replaces the fixed parameters only when it is better
# by 0.0005 RPS on the validation season (20 trials with it: 0.19568 / 0.19966).
# xG (issue 16; E0+D1 2021/22-2024/25 on the files, 2,744 matches, Understat xG linked to 2,573
# of them; the design was chosen on the test seasons 2016/17-2020/21): the no-market model
# boosts from the xG rating's probabilities (``XG_PRIOR``; the goals model's where a match has
# no xG rating) with the market recipe's regularised parameters: 0.19820 against 0.19969 for
# the same recipe without xG (-0.00149 [-0.00283, -0.00019]; feature set fs-2: -0.00145) and
# 0.19937 for the constant-prior recipe used before (fs-2: -0.00115 [-0.00253, +0.00019]); xG
# features as plain features of the constant-prior model gained little (a first feature set:
# -0.00041 [-0.00092, +0.00005]): the prior is what carries them. The market model with the xG
# features: 0.19519 against 0.19520 without (-0.00001 [-0.00016, +0.00015]), i.e. no change, as
# expected on top of the price.
_REGULARISED = {
    "max_depth": 2,
    "min_child_weight": 200.0,
    "learning_rate": 0.01,
    "colsample_bytree": 0.5,
    "reg_lambda": 10.0,
}
NO_MARKET_RECIPE = Recipe(
    name="no_market",
    feature_columns=NO_MARKET_FEATURES,
    prior_columns=XG_PRIOR,
    calibrate=False,
    stopping_metric="rps",
    params=dict(_REGULARISED),
    tuning_min_improvement=0.0005,
)
MARKET_RECIPE = Recipe(
    name="market",
    feature_columns=MODEL_FEATURES,
    prior_columns=MARKET_PRIOR,
    calibrate=False,
    stopping_metric="rps",
    params=dict(_REGULARISED),
    tuning_min_improvement=0.0005,
    # Matches without opening prices (a league with closing prices only, old seasons) are
    # predicted by the no-market model: the market model would boost from the Elo prior there.
    required_columns=MARKET_OPEN_COLUMNS[:3],
    fallback=NO_MARKET_RECIPE,
)


def uses_xg(recipe: Recipe) -> bool:
    """Does the recipe (or its fallback) read any xG feature?"""
    columns = set(recipe.feature_columns).union(*(recipe.prior_columns or ()))
    return bool(columns & set(XG_COLUMNS)) or (recipe.fallback is not None and uses_xg(recipe.fallback))


def without_xg(recipe: Recipe) -> Recipe:
    """The recipe without any xG feature (its fallback too): its xG ablation, which is also what
    it amounts to where no match has xG. Prior triples reading xG columns are dropped, so a
    row's prior is the next triple (``XG_PRIOR`` -> the goals model's probabilities)."""
    xg = set(XG_COLUMNS)
    prior = tuple(triple for triple in recipe.prior_columns or () if not set(triple) & xg)
    return dataclasses.replace(
        recipe,
        name=f"{recipe.name}_without_xg",
        feature_columns=tuple(c for c in recipe.feature_columns if c not in xg),
        prior_columns=prior or None,
        fallback=without_xg(recipe.fallback) if recipe.fallback is not None else None,
    )


NO_MARKET_RECIPE_WITHOUT_XG = without_xg(NO_MARKET_RECIPE)
MARKET_RECIPE_WITHOUT_XG = without_xg(MARKET_RECIPE)


class TrainingError(ValueError):
    """The data cannot produce a model (empty, single class, no validation season...)."""


@dataclass
class TrainedModel:
    classifier: xgb.XGBClassifier
    feature_columns: list[str]
    params: dict[str, Any]
    validation_seasons: list[int]
    validation_metrics: dict[str, float]
    train_rows: int
    validation_rows: int
    best_iteration: int
    data_summary: dict[str, Any] = field(default_factory=dict)
    prior_columns: tuple[tuple[str, ...], ...] | None = None
    temperature: float | None = None  # temperature scaling, when trained with calibrate=True
    # Held-out probabilities of the validation seasons (keys, result, p_home/p_draw/p_away): what
    # validation_metrics scored, by the model fitted before the validation seasons.
    validation_predictions: pd.DataFrame | None = None
    # train_recipe: the fallback's model predicts the rows lacking a required column; then
    # validation_metrics / validation_predictions are those of the pair as served.
    fallback: TrainedModel | None = None
    required_columns: tuple[str, ...] = ()

    def validation_metrics_by_league(self) -> dict[str, dict[str, float]]:
        if self.validation_predictions is None:
            return {}
        out = {}
        for league, rows in self.validation_predictions.groupby("league", sort=True):
            out[str(league)] = metrics.score_all(
                rows[["p_home", "p_draw", "p_away"]].to_numpy(), metrics.encode_results(rows["result"])
            )
        return out

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        fallback = (self.fallback.classifier, self.fallback.feature_columns) if self.fallback else None
        return served_proba(frame, (self.classifier, self.feature_columns), fallback, self.required_columns)


def played(features: pd.DataFrame) -> pd.DataFrame:
    return features[features["played"].astype(bool) & features["result"].notna()]


def time_split(features: pd.DataFrame, validation_seasons: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, validation): the last ``validation_seasons`` seasons with results are validation."""
    history = played(features)
    seasons = sorted(history["season"].unique())
    if len(seasons) <= validation_seasons:
        raise TrainingError(
            f"need more than {validation_seasons} season(s) of played matches for a time-ordered "
            f"validation, found {len(seasons)}"
        )
    cut = seasons[-validation_seasons]
    return history[history["season"] < cut], history[history["season"] >= cut]


def _matrix(frame: pd.DataFrame, feature_columns: list[str]) -> np.ndarray:
    missing = [c for c in feature_columns if c not in frame.columns]
    if missing:
        raise TrainingError(f"feature columns missing from the data: {missing[:5]}")
    return frame[feature_columns].to_numpy(dtype=np.float64)


def _labels(frame: pd.DataFrame, what: str) -> np.ndarray:
    if frame.empty:
        raise TrainingError(f"cannot train on an empty {what} set")
    y = metrics.encode_results(frame["result"])
    if len(np.unique(y)) < 3:
        found = sorted({metrics.OUTCOME_LABELS[i] for i in np.unique(y)})
        raise TrainingError(f"the {what} set has only outcome(s) {found}; all of H, D and A are needed")
    return y


def prior_margin(frame: pd.DataFrame, prior_columns) -> np.ndarray | None:
    """(n, 3) log-probabilities of the prior (see the module docstring), or None without a prior.

    Rows without any complete triple get a uniform prior (zero margin)."""
    if not prior_columns:
        return None
    probs = np.full((len(frame), 3), np.nan)
    for triple in prior_columns:
        values = _matrix(frame, list(triple))
        take = np.isnan(probs).any(axis=1) & np.isfinite(values).all(axis=1) & (values >= 0).all(axis=1)
        probs[take] = values[take]
    missing = np.isnan(probs).any(axis=1)
    probs[missing] = 1.0 / 3.0
    probs = np.clip(probs, _PRIOR_FLOOR, 1.0)
    return np.log(probs / probs.sum(axis=1, keepdims=True))


def rps_metric(y_true: np.ndarray, probs: np.ndarray) -> float:
    """XGBoost (scikit-learn interface) evaluation metric: the ranked probability score."""
    return metrics.ranked_probability_score(np.asarray(probs).reshape(len(y_true), 3), y_true)


def _eval_metric(stopping_metric: str):
    if stopping_metric not in STOPPING_METRICS:
        raise ValueError(f"stopping_metric must be one of {STOPPING_METRICS}, got {stopping_metric!r}")
    # With a callable, XGBoost reports mlogloss and the callable; early stopping uses the last.
    return "mlogloss" if stopping_metric == "mlogloss" else rps_metric


def _classifier(
    params: dict[str, Any], seed: int, n_estimators: int | None = None, **overrides: Any
) -> xgb.XGBClassifier:
    merged = {**DEFAULT_PARAMS, **params}
    if n_estimators is not None:
        merged["n_estimators"] = n_estimators
    settings: dict[str, Any] = {
        "objective": "multi:softprob",
        "num_class": 3,
        "tree_method": "hist",
        "random_state": seed,
        "n_jobs": 2,
        "eval_metric": "mlogloss",
        **merged,
    }
    settings.update(overrides)
    return xgb.XGBClassifier(**settings)


def native_params(params: dict[str, Any], seed: int, n_jobs: int = 2) -> tuple[dict[str, Any], int]:
    """(``xgboost.train`` parameters, maximum rounds) equivalent to ``_classifier(params, seed)``."""
    merged = {**DEFAULT_PARAMS, **params}
    rounds = int(merged.pop("n_estimators"))
    native = {
        "objective": "multi:softprob",
        "num_class": 3,
        "tree_method": "hist",
        "seed": seed,
        "nthread": n_jobs,
        "eval_metric": "mlogloss",
        **merged,
    }
    return native, rounds


def fit_temperature(probs: np.ndarray, outcomes: np.ndarray) -> float:
    """Temperature T minimising the log loss of softmax(log(probs) / T)."""
    logs = np.log(np.clip(probs, 1e-12, 1.0))

    def loss(t: float) -> float:
        return metrics.log_loss(apply_temperature_logs(logs, t), outcomes)

    return float(minimize_scalar(loss, bounds=(0.25, 4.0), method="bounded").x)


def apply_temperature_logs(logs: np.ndarray, temperature: float) -> np.ndarray:
    scaled = logs / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    out = np.exp(scaled)
    return out / out.sum(axis=1, keepdims=True)


def apply_temperature(probs: np.ndarray, temperature: float | None) -> np.ndarray:
    if temperature is None or len(probs) == 0:
        return probs
    return apply_temperature_logs(np.log(np.clip(probs, 1e-12, 1.0)), temperature)


def train_model(
    features: pd.DataFrame,
    feature_columns: list[str],
    params: dict[str, Any] | None = None,
    seed: int = 0,
    validation_seasons: int = 1,
    early_stopping_rounds: int = 50,
    *,
    prior_columns=None,
    calibrate: bool = False,
    stopping_metric: str = "mlogloss",
) -> TrainedModel:
    """Fit on earlier seasons, score the validation seasons, refit on all played matches.

    ``prior_columns``, ``calibrate`` and ``stopping_metric``: see the module docstring."""
    params = dict(params or {})
    prior_columns = tuple(tuple(t) for t in prior_columns) if prior_columns else None
    train, valid = time_split(features, validation_seasons)
    y_train, y_valid = _labels(train, "training"), _labels(valid, "validation")
    x_train, x_valid = _matrix(train, feature_columns), _matrix(valid, feature_columns)
    margin_train, margin_valid = prior_margin(train, prior_columns), prior_margin(valid, prior_columns)

    probe = _classifier(params, seed, eval_metric=_eval_metric(stopping_metric))
    probe.set_params(early_stopping_rounds=early_stopping_rounds)
    probe.fit(
        x_train,
        y_train,
        base_margin=margin_train,
        eval_set=[(x_valid, y_valid)],
        base_margin_eval_set=None if margin_valid is None else [margin_valid],
        verbose=False,
    )
    best_iteration = int(probe.best_iteration) + 1
    validation_probs = predict_proba(probe, valid, feature_columns, prior_columns=prior_columns)
    temperature = fit_temperature(validation_probs, y_valid) if calibrate else None
    validation_probs = apply_temperature(validation_probs, temperature)
    validation_metrics = metrics.score_all(validation_probs, y_valid)
    held_out = valid[["match_id", "league", "season", "result"]].reset_index(drop=True)
    held_out[["p_home", "p_draw", "p_away"]] = validation_probs

    history = pd.concat([train, valid])
    final = _classifier(params, seed, n_estimators=best_iteration)
    final.fit(
        _matrix(history, feature_columns),
        _labels(history, "training"),
        base_margin=prior_margin(history, prior_columns),
        verbose=False,
    )
    _store_recipe(final, prior_columns, temperature)
    return TrainedModel(
        classifier=final,
        feature_columns=list(feature_columns),
        params={**DEFAULT_PARAMS, **params, "n_estimators": best_iteration},
        validation_seasons=sorted(int(s) for s in valid["season"].unique()),
        validation_metrics=validation_metrics,
        train_rows=len(train),
        validation_rows=len(valid),
        best_iteration=best_iteration,
        data_summary={
            "leagues": sorted(history["league"].unique().tolist()),
            "seasons": sorted(int(s) for s in history["season"].unique()),
            "rows": len(history),
        },
        prior_columns=prior_columns,
        temperature=temperature,
        validation_predictions=held_out,
    )


_PRIOR_ATTR = "footcast_prior_columns"
_TEMPERATURE_ATTR = "footcast_temperature"


def _store_recipe(classifier: xgb.XGBClassifier, prior_columns, temperature: float | None) -> None:
    """Record the prior and temperature in the booster's attributes: they travel with the saved
    model (XGBoost JSON/UBJSON, the MLflow xgboost flavour), so predicting cannot forget them."""
    attrs = {}
    if prior_columns:
        attrs[_PRIOR_ATTR] = json.dumps([list(t) for t in prior_columns])
    if temperature is not None:
        attrs[_TEMPERATURE_ATTR] = repr(float(temperature))
    if attrs:
        classifier.get_booster().set_attr(**attrs)


def stored_recipe(classifier: Any) -> tuple[tuple[tuple[str, ...], ...] | None, float | None]:
    """(prior columns, temperature) recorded in an XGBoost classifier by train_model."""
    if not hasattr(classifier, "get_booster"):
        return None, None
    booster = classifier.get_booster()
    prior = booster.attr(_PRIOR_ATTR)
    temperature = booster.attr(_TEMPERATURE_ATTR)
    return (
        tuple(tuple(t) for t in json.loads(prior)) if prior else None,
        float(temperature) if temperature else None,
    )


def predict_proba(
    classifier: Any,
    frame: pd.DataFrame,
    feature_columns: list[str],
    *,
    prior_columns=None,
    temperature: float | None = None,
) -> np.ndarray:
    """Probabilities (n, 3) home/draw/away; raises if any row is not a probability distribution.

    A model trained with ``prior_columns`` / ``calibrate`` records them in its booster, and
    they are applied when not given here. It needs the classifier itself (e.g. from
    ``mlflow.xgboost.load_model``): an MLflow pyfunc model cannot take the prior's base margin."""
    if frame.empty:
        return np.zeros((0, 3))
    stored_prior, stored_temperature = stored_recipe(classifier)
    prior_columns = prior_columns or stored_prior
    temperature = temperature if temperature is not None else stored_temperature
    margin = prior_margin(frame, prior_columns)
    if hasattr(classifier, "predict_proba"):
        probs = classifier.predict_proba(_matrix(frame, feature_columns), base_margin=margin)
    elif margin is not None:
        raise ValueError(
            "this model boosts from a prior (base margin) and needs the XGBoost classifier, "
            "not an MLflow pyfunc model"
        )
    else:  # an MLflow pyfunc model
        probs = classifier.predict(frame[feature_columns].astype("float64"))
    probs = np.asarray(probs, dtype=np.float64)
    # XGBoost computes in float32: rows sum to 1 only within ~1e-7. Anything further off is a
    # broken model and fails here; float32 rounding is renormalised away in float64.
    metrics.check_probabilities(probs, tolerance=1e-4)
    return apply_temperature(probs / probs.sum(axis=1, keepdims=True), temperature)


def served_by_primary(frame: pd.DataFrame, required_columns) -> np.ndarray:
    """Rows the recipe's own model predicts: those with every required column (finite)."""
    if not required_columns:
        return np.ones(len(frame), dtype=bool)
    return np.isfinite(_matrix(frame, list(required_columns))).all(axis=1)


def served_proba(frame: pd.DataFrame, primary, fallback=None, required_columns=()) -> np.ndarray:
    """Probabilities (n, 3) as served: ``primary`` = (classifier, feature columns) for the rows
    with every required column, ``fallback`` (the same, or None: primary everywhere) elsewhere."""
    probs = np.zeros((len(frame), 3))
    use = served_by_primary(frame, required_columns) if fallback else np.ones(len(frame), dtype=bool)
    for model, rows in ((primary, use), (fallback, ~use)):
        if rows.any():
            probs[rows] = predict_proba(model[0], frame[rows], model[1])
    return probs


def train_recipe(
    features: pd.DataFrame,
    recipe: Recipe,
    *,
    params: dict[str, Any] | None = None,
    fallback_params: dict[str, Any] | None = None,
    seed: int = 0,
    validation_seasons: int = 1,
) -> TrainedModel:
    """:func:`train_model` of the recipe (its fixed parameters unless ``params``), and of its
    fallback recipe on the same rows; the held-out predictions and metrics are the pair's as
    served (each validation row scored by the model that would predict it)."""
    trained = train_model(
        features,
        list(recipe.feature_columns),
        params=recipe.params if params is None else params,
        seed=seed,
        validation_seasons=validation_seasons,
        **recipe.train_kwargs(),
    )
    if recipe.fallback is None:
        return trained
    fallback = train_model(
        features,
        list(recipe.fallback.feature_columns),
        params=recipe.fallback.params if fallback_params is None else fallback_params,
        seed=seed,
        validation_seasons=validation_seasons,
        **recipe.fallback.train_kwargs(),
    )
    _, valid = time_split(features, validation_seasons)
    use = served_by_primary(valid, recipe.required_columns)
    held = trained.validation_predictions.copy()
    columns = ["p_home", "p_draw", "p_away"]
    held.loc[~use, columns] = fallback.validation_predictions.loc[~use, columns].to_numpy()
    held["recipe"] = np.where(use, recipe.name, recipe.fallback.name)
    trained.fallback, trained.required_columns = fallback, tuple(recipe.required_columns)
    trained.validation_predictions = held
    trained.validation_metrics = metrics.score_all(
        held[columns].to_numpy(), metrics.encode_results(held["result"])
    )
    return trained
