"""Walk-forward backtest: the model against the market, Elo and base rates, on the same matches.

For each test season S (played matches of ``leagues`` only):

- everything fitted for S is fitted on played matches of seasons < S that kicked off before
  S's first test match only (asserted): the model and the no-market model
  (``training.train_model``: early stopping / optional tuning on season S-1, then refitted on
  every season < S), the Elo logistic baseline and the base rates. Features are point-in-time
  (``footcast.models.features``), so a test row's features use nothing from its kickoff or later;
- every predictor then predicts every played match of season S.

A test season without played matches, with fewer than two earlier seasons, or whose fits fail
is skipped with its reason (``BacktestReport.skipped_seasons``). Predictors (``PREDICTORS``):

- ``model``: XGBoost on ``feature_columns`` (default ``MODEL_FEATURES``: opening prices
  included), boosting from the market prior (``training.MARKET_PRIOR``) by default; with a
  ``recipe`` that has a fallback (``training.MARKET_RECIPE``), the matches without its required
  columns (opening prices) get the no-market model's probabilities, as predictions serve them;
- ``model_no_market``: XGBoost on ``no_market_feature_columns`` (default
  ``NO_MARKET_FEATURES``), boosting from a constant by default;
- ``model_without_xg`` / ``model_no_market_without_xg`` (the xG ablations): the same two
  models fitted without the xG features and without prior triples reading them, on the same
  history; present only when the models read xG features and some played match of the data
  has xG (``walk_forward(xg_ablations=False)`` leaves them out);
- ``market_open`` / ``market_close``: the margin-free opening (pre-closing) and closing
  probabilities of the features (Shin's method), where the source has them (references only:
  a closing price is never a feature);
- ``elo``: the Elo-implied probabilities of the features (``elo_p_*``, nothing fitted);
- ``elo_logit``: a multinomial logistic regression on ``elo_diff`` alone, fitted on the
  training seasons (Elo with its draw rate and home advantage fitted to the data);
- ``base_rate``: home/draw/away frequencies of the training seasons in the match's league.

Comparisons (``COMPARISONS``) are each scored on exactly the same matches: the matches where
every predictor of the comparison has probabilities. ``all``: the predictors available for
every match (models, Elo, base rates). ``market``: those plus both market baselines, on the
matches with opening and closing prices; ``close``: those plus the closing market, on the
matches with closing prices (the reference of leagues with closing prices only). Per (test
season or ``all``) x (league or ``all``): n, RPS, log loss, Brier, accuracy for each predictor,
and paired per-match RPS differences against the opening market, the closing market and Elo
with bootstrap 95% intervals (percentile, fixed seed, ``bootstrap_resamples`` resamples); for
``model`` and ``model_no_market`` also against their ablation without xG
(``diff_vs_without_xg_rps``: the xG gain when negative). The table is built by
:mod:`footcast.models.backtest_summary`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from footcast.models import metrics, training, tuning
from footcast.models.backtest_summary import (  # noqa: F401 (the backtest's public names)
    ALL,
    BASELINES,
    COMPARISONS,
    MARKETS,
    MODELS,
    ORDER,
    OUTCOME_SUFFIXES,
    PREDICTORS,
    REFERENCES,
    TABLE_COLUMNS,
    XG_ABLATION_OF,
    XG_ABLATIONS,
    bootstrap_mean_ci,
    jsonable,
    probability_columns,
    records,
    summarise,
)
from footcast.models.features.columns import (
    ELO_BASELINE_COLUMNS,
    MARKET_BASELINE_COLUMNS,
    MODEL_FEATURES,
    NO_MARKET_FEATURES,
    XG_COLUMNS,
)


@dataclass
class SeasonFit:
    """What was fitted for one test season, on which data."""

    test_season: int
    training_seasons: list[int]  # every season any fit for this test season saw
    validation_season: int  # early stopping / tuning season (the last training season)
    train_rows: int
    test_rows: int
    model_params: dict[str, Any]
    no_market_params: dict[str, Any]
    model_best_iteration: int
    no_market_best_iteration: int
    model_validation_rps: float
    no_market_validation_rps: float
    model_temperature: float | None = None
    no_market_temperature: float | None = None
    tuning: dict[str, Any] = field(default_factory=dict)  # predictor -> TuningResult.to_dict()
    # predictor without xG -> its params, best iteration and validation RPS (with the ablations)
    xg_ablations: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class BacktestReport:
    run_id: str
    created_at: str  # ISO 8601, UTC
    test_seasons: list[int]
    leagues: list[str]
    config: dict[str, Any]
    seasons: list[SeasonFit]
    table: pd.DataFrame  # the flat summary, see to_frame()
    predictions: pd.DataFrame  # one row per test match: keys, result, <predictor>_p_home/draw/away
    skipped_seasons: dict[int, str] = field(default_factory=dict)  # test season -> why it was skipped

    def to_frame(self) -> pd.DataFrame:
        """One row per (comparison, test_season, league, predictor); ``test_season`` and
        ``league`` are strings, ``all`` for the pooled rows. Suitable for the ``backtests`` table."""
        frame = self.table.copy()
        frame.insert(0, "created_at", pd.Timestamp(self.created_at))
        frame.insert(0, "run_id", self.run_id)
        return frame

    def to_dict(self, include_predictions: bool = False) -> dict[str, Any]:
        """JSON-serialisable (NaN as None)."""
        out = {
            "run_id": self.run_id,
            "created_at": self.created_at,
            "test_seasons": list(self.test_seasons),
            "leagues": list(self.leagues),
            "config": jsonable(self.config),
            "seasons": [jsonable(asdict(s)) for s in self.seasons],
            "skipped_seasons": {str(k): v for k, v in self.skipped_seasons.items()},
            "table": records(self.table),
        }
        if include_predictions:
            preds = self.predictions.copy()
            preds["kickoff"] = preds["kickoff"].astype(str)
            out["predictions"] = records(preds)
        return out

    def row(self, predictor: str, comparison: str = "market", test_season="all", league="all") -> dict:
        """One summary row as a dict (KeyError if absent)."""
        t = self.table
        hit = t[
            (t["comparison"] == comparison)
            & (t["test_season"] == str(test_season))
            & (t["league"] == league)
            & (t["predictor"] == predictor)
        ]
        if hit.empty:
            raise KeyError((predictor, comparison, test_season, league))
        return hit.iloc[0].to_dict()


# --- helpers -------------------------------------------------------------------------------------


def _check_before(seasons, test_season: int, what: str) -> None:
    """Raise (also under ``python -O``) if any fitted season is not before the test season."""
    late = sorted(int(s) for s in seasons if int(s) >= test_season)
    if late:
        raise AssertionError(f"{what} reaches test season {test_season}: seasons {late}")


def _elo_logit(history: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    x_train = (history[["elo_diff"]].to_numpy(dtype=np.float64)) / 400.0
    model = LogisticRegression(C=1e4, max_iter=1000)
    model.fit(x_train, metrics.encode_results(history["result"]))
    if list(model.classes_) != [0, 1, 2]:
        raise training.TrainingError("elo_logit: training seasons lack an outcome")
    return model.predict_proba(test[["elo_diff"]].to_numpy(dtype=np.float64) / 400.0)


def _base_rates(history: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    outcomes = metrics.encode_results(history["result"])
    overall = np.bincount(outcomes, minlength=3) / len(outcomes)
    rates = {}
    for league, rows in history.groupby("league", sort=False).indices.items():
        rates[league] = np.bincount(outcomes[rows], minlength=3) / len(rows)
    return np.array([rates.get(league, overall) for league in test["league"]], dtype=np.float64)


def _fit_model(
    history: pd.DataFrame,
    columns: list[str],
    params: dict[str, Any] | None,
    *,
    name: str,
    test_season: int,
    seed: int,
    prior_columns,
    calibrate: bool,
    stopping_metric: str,
    n_trials: int,
    timeout_seconds: float | None,
    storage: str | None,
    study_prefix: str,
    storage_engine_kwargs: dict[str, Any] | None,
    space: dict[str, Any] | None = None,
    first_trial: dict[str, Any] | None = None,
    tuning_validation_seasons: int = 1,
    min_improvement: float = 0.0,
) -> tuple[training.TrainedModel, dict[str, Any] | None]:
    tuned = None
    if n_trials > 0:
        seasons = sorted(int(s) for s in history["season"].unique())
        study = tuning.study_name_for(
            f"{study_prefix}-{name}-test{test_season}",
            columns,
            seasons[-tuning_validation_seasons:],
            prior_columns,
        )
        result = tuning.tune(
            history,
            columns,
            n_trials=n_trials,
            timeout_seconds=timeout_seconds,
            storage=storage,
            study_name=study,
            seed=seed,
            validation_seasons=tuning_validation_seasons,
            prior_columns=prior_columns,
            stopping_metric=stopping_metric,
            storage_engine_kwargs=storage_engine_kwargs,
            space=space,
            first_trial=first_trial,
            min_improvement=min_improvement,
        )
        params = result.best_params
        tuned = result.to_dict()
    model = training.train_model(
        history,
        columns,
        params=params,
        seed=seed,
        validation_seasons=1,
        prior_columns=prior_columns,
        calibrate=calibrate,
        stopping_metric=stopping_metric,
    )
    return model, tuned


def _search(recipe: training.Recipe) -> dict[str, Any]:
    """_fit_model's tuning arguments of a recipe."""
    return {
        "space": recipe.search_space,
        "first_trial": dict(recipe.params),
        "tuning_validation_seasons": recipe.tuning_validation_seasons,
        "min_improvement": recipe.tuning_min_improvement,
    }


# --- the backtest --------------------------------------------------------------------------------


def _check_columns(
    features: pd.DataFrame, feature_columns: list[str], no_market_feature_columns: list[str]
) -> None:
    needed = {"season", "league", "result", "played", "elo_diff"} | set(feature_columns)
    needed |= set(no_market_feature_columns) | set(MARKET_BASELINE_COLUMNS) | set(ELO_BASELINE_COLUMNS)
    missing = sorted(needed - set(features.columns))
    if missing:
        raise ValueError(f"walk_forward: features lack column(s) {', '.join(missing[:8])}")


def _prediction_rows(test: pd.DataFrame, probs: dict[str, np.ndarray]) -> pd.DataFrame:
    """The test matches with every predictor's probabilities (NaN where a predictor has no
    complete triple)."""
    part = test[["match_id", "league", "season", "kickoff", "home_team", "away_team", "result"]].copy()
    part = part.reset_index(drop=True)
    for predictor, values in probs.items():
        values = np.array(values, dtype=np.float64)  # a copy
        incomplete = ~np.isfinite(values).all(axis=1)
        values[incomplete] = np.nan
        for j, column in enumerate(probability_columns(predictor)):
            part[column] = values[:, j]
    return part


class SkippedSeason(Exception):
    """A test season the backtest cannot evaluate (the message is the reason)."""


def _split(data: pd.DataFrame, season: int, leagues: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, test) of a test season. The history is the seasons before it that kicked off
    before its first test match: with calendar-year and split seasons together, the season
    before may end after the test season starts."""
    test = data[data["season"] == season]
    if test.empty:
        raise SkippedSeason(f"no played match of {', '.join(leagues) or 'the leagues'}")
    history = data[(data["season"] < season) & (data["kickoff"] < test["kickoff"].min())]
    earlier = history["season"].nunique()
    if earlier < 2:
        raise SkippedSeason(f"{earlier} earlier season(s) of matches, 2 needed (one to fit, one to validate)")
    return history, test


def _predictor(key: str) -> str:
    """The predictor a ``fitting`` key's model serves ("no_market" -> "model_no_market")."""
    return key if key.startswith("model") else f"model_{key}"


def _fit_all(
    history: pd.DataFrame, season: int, fitting: dict[str, dict[str, Any]]
) -> dict[str, tuple[training.TrainedModel, dict[str, Any] | None]]:
    keys = [key for key in fitting if key != "common"]
    try:
        return {
            key: _fit_model(history, **fitting[key], test_season=season, **fitting["common"]) for key in keys
        }
    except training.TrainingError as exc:
        raise SkippedSeason(f"training failed: {exc}") from exc


def _test_season(
    data: pd.DataFrame, season: int, fitting: dict[str, dict[str, Any]], required, leagues: list[str]
) -> tuple[SeasonFit, pd.DataFrame]:
    """Fit everything on the seasons before ``season`` and predict its matches. ``required``: the
    columns a test match needs for the model's own prediction (else the no-market model's).
    ``fitting``: the models' ``_fit_model`` arguments ("model", "no_market" and, with the xG
    ablations, "model_without_xg", "no_market_without_xg") and "common" ones."""
    t0 = time.perf_counter()
    history, test = _split(data, season, leagues)
    # The test season leaks into nothing: every fit below sees `history` only.
    _check_before(history["season"].unique(), season, "the training data")
    fitted = _fit_all(history, season, fitting)
    models = {key: trained for key, (trained, _) in fitted.items()}
    fitted_seasons = sorted(set().union(*(set(m.data_summary["seasons"]) for m in models.values())))
    _check_before(fitted_seasons, season, "a model's fitted data")
    probs = {}
    for suffix in ("", "_without_xg"):
        if f"model{suffix}" not in models:
            continue
        model, no_market = models[f"model{suffix}"], models[f"no_market{suffix}"]
        fallback = (no_market.classifier, no_market.feature_columns) if required else None
        primary = (model.classifier, model.feature_columns)
        probs[f"model{suffix}"] = training.served_proba(test, primary, fallback, required)
        probs[f"model_no_market{suffix}"] = no_market.predict_proba(test)
    probs.update(
        {
            "market_open": test[list(MARKET_BASELINE_COLUMNS[:3])].to_numpy(dtype=np.float64),
            "market_close": test[list(MARKET_BASELINE_COLUMNS[3:])].to_numpy(dtype=np.float64),
            "elo": test[list(ELO_BASELINE_COLUMNS)].to_numpy(dtype=np.float64),
            "elo_logit": _elo_logit(history, test),
            "base_rate": _base_rates(history, test),
        }
    )
    model, no_market = models["model"], models["no_market"]
    fit = SeasonFit(
        test_season=season,
        training_seasons=fitted_seasons,
        validation_season=int(model.validation_seasons[-1]),
        train_rows=len(history),
        test_rows=len(test),
        model_params=model.params,
        no_market_params=no_market.params,
        model_best_iteration=model.best_iteration,
        no_market_best_iteration=no_market.best_iteration,
        model_validation_rps=model.validation_metrics["rps"],
        no_market_validation_rps=no_market.validation_metrics["rps"],
        model_temperature=model.temperature,
        no_market_temperature=no_market.temperature,
        tuning={_predictor(key): tuned for key, (_, tuned) in fitted.items() if tuned},
        xg_ablations={
            _predictor(key): {
                "params": trained.params,
                "best_iteration": trained.best_iteration,
                "validation_rps": trained.validation_metrics["rps"],
            }
            for key, trained in models.items()
            if key.endswith("_without_xg")
        },
        seconds=time.perf_counter() - t0,
    )
    return fit, _prediction_rows(test, probs)


def _without_xg(spec: dict[str, Any]) -> dict[str, Any]:
    """``_fit_model`` arguments of the same model without the xG features (``XG_COLUMNS``) and
    without the prior triples that read them (as ``training.without_xg`` does for a recipe)."""
    xg = set(XG_COLUMNS)
    prior = tuple(triple for triple in spec["prior_columns"] or () if not set(triple) & xg)
    return {
        **spec,
        "columns": [c for c in spec["columns"] if c not in xg],
        "prior_columns": prior or None,
        "name": f"{spec['name']}-without-xg",
    }


def _add_xg_ablations(fitting: dict[str, dict[str, Any]], data: pd.DataFrame, enabled: bool) -> None:
    if enabled and _has_xg(data, fitting):
        fitting["model_without_xg"] = _without_xg(fitting["model"])
        fitting["no_market_without_xg"] = _without_xg(fitting["no_market"])


def _has_xg(data: pd.DataFrame, fitting: dict[str, dict[str, Any]]) -> bool:
    """Do the models read an xG feature that some played match of ``data`` has?"""
    used = set()
    for key in ("model", "no_market"):
        used |= set(fitting[key]["columns"]).union(*(fitting[key]["prior_columns"] or ()))
    columns = [c for c in XG_COLUMNS if c in used and c in data.columns]
    return bool(columns) and bool(np.isfinite(data[columns].to_numpy(dtype=np.float64)).any())


def walk_forward(
    features: pd.DataFrame,
    test_seasons: list[int],
    *,
    leagues: list[str] | None = None,
    feature_columns: list[str] | None = None,
    no_market_feature_columns: list[str] | None = None,
    params: dict[str, Any] | None = None,
    no_market_params: dict[str, Any] | None = None,
    prior_columns=training.MARKET_PRIOR,
    no_market_prior_columns=None,
    calibrate: bool = False,
    stopping_metric: str = "mlogloss",
    n_trials: int = 0,
    timeout_seconds: float | None = None,
    storage: str | None = None,
    study_prefix: str = "footcast-backtest",
    storage_engine_kwargs: dict[str, Any] | None = None,
    seed: int = 0,
    bootstrap_resamples: int = 2000,
    run_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    recipe: training.Recipe | None = None,
    no_market_recipe: training.Recipe | None = None,
    xg_ablations: bool = True,
) -> BacktestReport:
    """Walk-forward backtest over ``test_seasons`` (see the module docstring).

    ``leagues`` restricts training and test data (None: every league in ``features``).
    ``params`` / ``no_market_params``: XGBoost parameters (scikit-learn names) of the two
    models; with ``n_trials`` > 0 they are tuned instead, per test season, on season S-1
    (Optuna, ``n_trials`` trials and ``timeout_seconds`` per model and test season; the
    studies go to ``storage`` when given). ``prior_columns`` None boosts from a constant.
    ``recipe`` / ``no_market_recipe`` (``training.Recipe``), when given, set the feature
    columns, prior, calibration, stopping metric and fixed parameters of that model instead.
    ``xg_ablations``: when the models read xG features and some played match of the data has
    them, also fit both models without them (``model_without_xg``,
    ``model_no_market_without_xg``: same recipe, xG columns and xG prior triples removed); the
    report has those predictors only then (with no xG at all they would equal the models).
    """
    started_run = time.perf_counter()
    no_market_calibrate, no_market_stopping = calibrate, stopping_metric
    searches: dict[str, dict[str, Any]] = {"model": {}, "no_market": {}}
    if recipe is not None:
        searches["model"] = _search(recipe)
        feature_columns, prior_columns = list(recipe.feature_columns), recipe.prior_columns
        params = recipe.params if params is None else params
        calibrate, stopping_metric = recipe.calibrate, recipe.stopping_metric
    if recipe is not None and recipe.fallback is not None:
        # The recipe's fallback is the no-market model: one fit serves both predictors.
        if no_market_recipe not in (None, recipe.fallback):
            raise ValueError("walk_forward: no_market_recipe differs from the recipe's fallback")
        no_market_recipe = recipe.fallback
    if no_market_recipe is not None:
        searches["no_market"] = _search(no_market_recipe)
        no_market_feature_columns = list(no_market_recipe.feature_columns)
        no_market_prior_columns = no_market_recipe.prior_columns
        no_market_params = no_market_recipe.params if no_market_params is None else no_market_params
        no_market_calibrate = no_market_recipe.calibrate
        no_market_stopping = no_market_recipe.stopping_metric
    feature_columns = list(feature_columns or MODEL_FEATURES)
    no_market_feature_columns = list(no_market_feature_columns or NO_MARKET_FEATURES)
    test_seasons = sorted({int(s) for s in test_seasons})
    if not test_seasons:
        raise ValueError("walk_forward: no test season given")
    _check_columns(features, feature_columns, no_market_feature_columns)
    data = training.played(features)
    if leagues:
        data = data[data["league"].isin(list(leagues))]
    leagues_seen = sorted(data["league"].unique().tolist())
    say = progress or (lambda message: None)

    required = tuple(recipe.required_columns) if recipe is not None and recipe.fallback else ()
    fitting = {
        "model": dict(
            columns=feature_columns,
            params=params,
            name="model",
            prior_columns=prior_columns,
            calibrate=calibrate,
            stopping_metric=stopping_metric,
            **searches["model"],
        ),
        "no_market": dict(
            columns=no_market_feature_columns,
            params=no_market_params,
            name="no-market",
            prior_columns=no_market_prior_columns,
            calibrate=no_market_calibrate,
            stopping_metric=no_market_stopping,
            **searches["no_market"],
        ),
        "common": dict(
            seed=seed,
            n_trials=n_trials,
            timeout_seconds=timeout_seconds,
            storage=storage,
            study_prefix=study_prefix,
            storage_engine_kwargs=storage_engine_kwargs,
        ),
    }
    _add_xg_ablations(fitting, data, xg_ablations)
    fits: list[SeasonFit] = []
    parts: list[pd.DataFrame] = []
    skipped: dict[int, str] = {}
    for season in test_seasons:
        try:
            fit, part = _test_season(data, season, fitting, required, leagues_seen)
        except SkippedSeason as exc:
            skipped[season] = str(exc)
            say(f"test season {season} skipped: {exc}")
            continue
        fits.append(fit)
        parts.append(part)
        say(
            f"test season {season}: trained on {fit.training_seasons[0]}-{fit.training_seasons[-1]} "
            f"({fit.train_rows} matches), {fit.test_rows} test matches, {fit.seconds:.1f}s"
        )
    if not parts:
        reasons = "; ".join(f"test season {s}: {reason}" for s, reason in skipped.items())
        raise training.TrainingError(f"no test season can be evaluated ({reasons})")

    predictions = pd.concat(parts, ignore_index=True)
    table = summarise(predictions, seed=seed, resamples=bootstrap_resamples)
    config = {
        "feature_columns": feature_columns,
        "no_market_feature_columns": no_market_feature_columns,
        "params": params,
        "no_market_params": no_market_params,
        "prior_columns": prior_columns,
        "no_market_prior_columns": no_market_prior_columns,
        "calibrate": calibrate,
        "stopping_metric": stopping_metric,
        "no_market_calibrate": no_market_calibrate,
        "no_market_stopping_metric": no_market_stopping,
        "n_trials": n_trials,
        "timeout_seconds": timeout_seconds,
        "seed": seed,
        "bootstrap_resamples": bootstrap_resamples,
        "xg_ablations": "model_without_xg" in fitting,
        "seconds": time.perf_counter() - started_run,
    }
    return BacktestReport(
        run_id=run_id or uuid.uuid4().hex,
        created_at=datetime.now(UTC).isoformat(),
        test_seasons=[fit.test_season for fit in fits],
        leagues=leagues_seen,
        config=config,
        seasons=fits,
        table=table,
        predictions=predictions,
        skipped_seasons=skipped,
    )
