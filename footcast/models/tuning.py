"""Optuna tuning of the XGBoost parameters on the ranked probability score (RPS).

Time-ordered like all training: :func:`footcast.models.training.time_split` holds out the last
``validation_seasons`` seasons, every trial fits on the seasons before them and is scored by
the RPS of the validation seasons at its early-stopping round. TPE sampler with a fixed seed;
a median pruner stops trials whose best RPS so far is worse than the median of earlier trials
at the same boosting round (reported every ``report_every`` rounds).

The study can live in RDB storage (an SQLAlchemy URL, e.g. the warehouse database): a second
call with the same ``study_name`` resumes it and adds ``n_trials`` more trials, and
optuna-dashboard can open it (``optuna-dashboard <url>``). A study records what it tunes (the
feature list, validation seasons, prior and stopping metric); resuming it on anything else is
an error, so trials scored on different data never mix (:func:`study_name_for` builds a name
that changes with those).

The data matrices are built once per call and shared by every trial (``xgboost.train`` on a
``QuantileDMatrix``), so a trial costs only its boosting rounds. Plain Python, no dagster.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd
import xgboost as xgb

from footcast.models import metrics, training

MAX_BIN = 128
MAX_ROUNDS = 1000
# Trials per tuning of a recipe, in `footcast evaluate` and the `model` asset alike. 0: the
# recipes' fixed parameters, which backtest better than per-season tuning on E0+D1 (see
# training.MARKET_RECIPE); `--trials N` / ModelConfig.n_trials tune.
DEFAULT_TRIALS = 0
# The first trial of a new study: the training defaults, so tuning never ends worse than them
# on the validation seasons.
BASELINE_TRIAL: dict[str, Any] = {
    k: v for k, v in training.DEFAULT_PARAMS.items() if k not in ("n_estimators",)
}


@dataclass
class TuningResult:
    best_params: dict[str, Any]  # scikit-learn names, ready for training.train_model(params=...)
    best_rps: float
    n_trials_done: int  # finished trials (complete or pruned) in the study, all calls together
    study_name: str
    best_iteration: int = 0
    n_trials_run: int = 0  # trials run by this call
    n_pruned: int = 0  # pruned trials in the study
    elapsed_seconds: float = 0.0
    validation_seasons: list[int] = field(default_factory=list)
    train_rows: int = 0
    validation_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The tuned XGBoost parameters (scikit-learn names): (low, high, kind), kind "log" (float on a
# log scale), "float" or "int". A recipe may narrow it (``training.Recipe.search_space``).
SEARCH_SPACE: dict[str, tuple[float, float, str]] = {
    "learning_rate": (0.005, 0.2, "log"),
    "max_depth": (1, 6, "int"),
    "min_child_weight": (1.0, 1000.0, "log"),
    "subsample": (0.5, 1.0, "float"),
    "colsample_bytree": (0.2, 1.0, "float"),
    "reg_lambda": (0.01, 100.0, "log"),
    "reg_alpha": (0.001, 10.0, "log"),
}


def search_space(
    trial: optuna.Trial, space: dict[str, tuple[float, float, str]] | None = None
) -> dict[str, Any]:
    """One trial's parameters from ``space`` (default ``SEARCH_SPACE``)."""
    params: dict[str, Any] = {}
    for name, (low, high, kind) in (space or SEARCH_SPACE).items():
        if kind == "int":
            params[name] = trial.suggest_int(name, int(low), int(high))
        else:
            params[name] = trial.suggest_float(name, float(low), float(high), log=kind == "log")
    return params


def study_name_for(
    prefix: str,
    feature_columns: list[str],
    validation_seasons: list[int] | None = None,
    prior_columns=None,
) -> str:
    """A study name that changes whenever the tuned problem does (features, validation, prior)."""
    digest = hashlib.sha256(
        json.dumps([list(feature_columns), prior_columns and [list(t) for t in prior_columns]]).encode()
    ).hexdigest()[:10]
    seasons = "-".join(map(str, validation_seasons or []))
    return f"{prefix}-{digest}" + (f"-v{seasons}" if seasons else "")


def _signature(
    feature_columns: list[str],
    validation_seasons: list[int],
    prior_columns,
    stopping_metric: str,
    max_rounds: int,
) -> dict[str, Any]:
    return {
        "features_sha256": hashlib.sha256(json.dumps(list(feature_columns)).encode()).hexdigest(),
        "n_features": len(feature_columns),
        "validation_seasons": [int(s) for s in validation_seasons],
        "prior_columns": [list(t) for t in prior_columns] if prior_columns else None,
        "stopping_metric": stopping_metric,
        "max_rounds": int(max_rounds),
        "max_bin": MAX_BIN,
    }


class _Pruning(xgb.callback.TrainingCallback):
    """Reports the best validation RPS so far every ``every`` rounds; prunes when told to."""

    def __init__(self, trial: optuna.Trial, every: int):
        super().__init__()
        self.trial = trial
        self.every = max(int(every), 1)
        self.best = np.inf

    def after_iteration(self, model, epoch: int, evals_log) -> bool:
        self.best = min(self.best, float(evals_log["validation"]["rps"][-1]))
        if (epoch + 1) % self.every == 0:
            self.trial.report(self.best, epoch + 1)
            if self.trial.should_prune():
                raise optuna.TrialPruned(f"validation RPS {self.best:.5f} at round {epoch + 1}")
        return False


def _rps_metric(predt: np.ndarray, data: xgb.DMatrix) -> tuple[str, float]:
    labels = data.get_label().astype(np.int64)
    return "rps", metrics.ranked_probability_score(predt.reshape(len(labels), 3), labels)


def _storage(storage: str | None, engine_kwargs: dict[str, Any] | None):
    if storage is None:
        return None  # in memory
    return optuna.storages.RDBStorage(storage, engine_kwargs=engine_kwargs)


def tune(
    features: pd.DataFrame,
    feature_columns: list[str],
    *,
    n_trials: int,
    timeout_seconds: float | None,
    storage: str | None,
    study_name: str,
    seed: int = 0,
    validation_seasons: int = 1,
    prior_columns=None,
    stopping_metric: str = "mlogloss",
    early_stopping_rounds: int = 50,
    max_rounds: int = MAX_ROUNDS,
    n_jobs: int = 2,
    report_every: int = 10,
    storage_engine_kwargs: dict[str, Any] | None = None,
    space: dict[str, tuple[float, float, str]] | None = None,
    first_trial: dict[str, Any] | None = None,
    min_improvement: float = 0.0,
) -> TuningResult:
    """Tune the XGBoost parameters on the validation seasons' RPS; returns the best found.

    ``n_trials`` trials are added to the study (fewer if ``timeout_seconds`` runs out first;
    a timeout makes the number of trials, hence the result, depend on the machine).
    ``storage``: an SQLAlchemy URL for optuna's RDB storage, or None for an in-memory study.
    ``prior_columns``, ``stopping_metric``, ``early_stopping_rounds``: as in
    :func:`footcast.models.training.train_model`, so ``train_model(params=result.best_params,
    ...)`` with the same arguments reproduces the best trial's validation fit.
    """
    if n_trials < 0:
        raise ValueError(f"n_trials must be >= 0, got {n_trials}")
    training._eval_metric(stopping_metric)  # validates the name
    started = time.perf_counter()
    prior_columns = tuple(tuple(t) for t in prior_columns) if prior_columns else None
    train, valid = training.time_split(features, validation_seasons)
    y_train = training._labels(train, "training")
    y_valid = training._labels(valid, "validation")
    seasons = sorted(int(s) for s in valid["season"].unique())
    # Built once, shared by every trial: the validation matrix reuses the training bin edges.
    dtrain = xgb.QuantileDMatrix(
        training._matrix(train, feature_columns),
        label=y_train,
        base_margin=training.prior_margin(train, prior_columns),
        max_bin=MAX_BIN,
        nthread=n_jobs,
    )
    dvalid = xgb.QuantileDMatrix(
        training._matrix(valid, feature_columns),
        label=y_valid,
        base_margin=training.prior_margin(valid, prior_columns),
        ref=dtrain,
        max_bin=MAX_BIN,
        nthread=n_jobs,
    )
    metric_name = "rps" if stopping_metric == "rps" else "mlogloss"

    def objective(trial: optuna.Trial) -> float:
        params = {**search_space(trial, space), "n_estimators": max_rounds, "max_bin": MAX_BIN}
        native, rounds = training.native_params(params, seed, n_jobs)
        booster = xgb.train(
            native,
            dtrain,
            num_boost_round=rounds,
            evals=[(dvalid, "validation")],
            custom_metric=_rps_metric,
            callbacks=[
                xgb.callback.EarlyStopping(
                    rounds=early_stopping_rounds,
                    metric_name=metric_name,
                    data_name="validation",
                    save_best=False,
                ),
                _Pruning(trial, report_every),
            ],
            verbose_eval=False,
        )
        best = int(booster.best_iteration) + 1
        probs = booster.predict(dvalid, iteration_range=(0, best))
        trial.set_user_attr("best_iteration", best)
        return metrics.ranked_probability_score(probs, y_valid)

    signature = _signature(feature_columns, seasons, prior_columns, stopping_metric, max_rounds)
    if space is not None:
        signature["space"] = {k: list(v) for k, v in sorted(space.items())}
    study = optuna.create_study(
        storage=_storage(storage, storage_engine_kwargs),
        study_name=study_name,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=report_every),
        load_if_exists=True,
    )
    recorded = study.user_attrs.get("footcast")
    if recorded is None:
        study.set_user_attr("footcast", signature)
        study.enqueue_trial(_first_trial(first_trial, space))
    elif recorded != signature:
        changed = sorted(k for k in signature if recorded.get(k) != signature[k])
        raise ValueError(
            f"optuna study {study_name!r} tunes a different problem (differs in {', '.join(changed)}); "
            "use another study_name (see tuning.study_name_for)"
        )
    finished_before = _finished(study)
    if n_trials:
        study.optimize(objective, n_trials=n_trials, timeout=timeout_seconds, gc_after_trial=False)
    finished = _finished(study)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise training.TrainingError(f"optuna study {study_name!r} has no completed trial")
    best = study.best_trial
    # The best of many trials on one validation set is partly luck: another trial replaces the
    # first (the recipe's fixed parameters) only when it beats it by at least min_improvement.
    first = complete[0] if complete[0].number == 0 else None
    if first is not None and best.value > first.value - min_improvement:
        best = first
    return TuningResult(
        best_params={**best.params, "n_estimators": max_rounds, "max_bin": MAX_BIN},
        best_rps=float(best.value),
        n_trials_done=len(finished),
        study_name=study_name,
        best_iteration=int(best.user_attrs.get("best_iteration", 0)),
        n_trials_run=len(finished) - len(finished_before),
        n_pruned=sum(t.state == optuna.trial.TrialState.PRUNED for t in finished),
        elapsed_seconds=time.perf_counter() - started,
        validation_seasons=seasons,
        train_rows=len(train),
        validation_rows=len(valid),
    )


def _first_trial(params: dict[str, Any] | None, space) -> dict[str, Any]:
    """The first trial of a new study (default ``BASELINE_TRIAL``), clipped into ``space`` and
    restricted to its parameters, so tuning never ends worse than it on the validation seasons."""
    space = space or SEARCH_SPACE
    # XGBoost's own default for what neither gives (reg_alpha 0: clipped to the space's floor).
    chosen = {"reg_alpha": 0.0, **BASELINE_TRIAL, **(params or {})}
    out = {}
    for name, (low, high, kind) in space.items():
        if name in chosen:  # others are sampled
            value = min(max(chosen[name], low), high)
            out[name] = int(value) if kind == "int" else float(value)
    return out


def _finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return [t for t in study.trials if t.state in done]
