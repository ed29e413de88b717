"""XGBoost home/draw/away model: time-ordered validation, reproducible training, scoring.

Validation is always by time: the model is fitted on seasons before the validation season(s)
and scored on them, never on a random split. The final model is refitted on every played
match with the number of boosting rounds found on the validation seasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from footcast.models import metrics

DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 400,
    "learning_rate": 0.03,
    "max_depth": 3,
    "min_child_weight": 5.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
}


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

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return predict_proba(self.classifier, frame, self.feature_columns)


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


def _classifier(params: dict[str, Any], seed: int, n_estimators: int | None = None) -> xgb.XGBClassifier:
    merged = {**DEFAULT_PARAMS, **params}
    if n_estimators is not None:
        merged["n_estimators"] = n_estimators
    return xgb.XGBClassifier(
        objective="multi:softprob",
        num_class=3,
        tree_method="hist",
        random_state=seed,
        n_jobs=2,
        eval_metric="mlogloss",
        **merged,
    )


def train_model(
    features: pd.DataFrame,
    feature_columns: list[str],
    params: dict[str, Any] | None = None,
    seed: int = 0,
    validation_seasons: int = 1,
    early_stopping_rounds: int = 50,
) -> TrainedModel:
    """Fit on earlier seasons, score the validation seasons, refit on all played matches."""
    params = dict(params or {})
    train, valid = time_split(features, validation_seasons)
    y_train, y_valid = _labels(train, "training"), _labels(valid, "validation")
    x_train, x_valid = _matrix(train, feature_columns), _matrix(valid, feature_columns)

    probe = _classifier(params, seed)
    probe.set_params(early_stopping_rounds=early_stopping_rounds)
    probe.fit(x_train, y_train, eval_set=[(x_valid, y_valid)], verbose=False)
    best_iteration = int(probe.best_iteration) + 1
    validation_probs = predict_proba(probe, valid, feature_columns)
    validation_metrics = metrics.score_all(validation_probs, y_valid)

    history = pd.concat([train, valid])
    final = _classifier(params, seed, n_estimators=best_iteration)
    final.fit(_matrix(history, feature_columns), _labels(history, "training"), verbose=False)
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
    )


def predict_proba(classifier: Any, frame: pd.DataFrame, feature_columns: list[str]) -> np.ndarray:
    """Probabilities (n, 3) home/draw/away; raises if any row is not a probability distribution."""
    if frame.empty:
        return np.zeros((0, 3))
    if hasattr(classifier, "predict_proba"):
        probs = classifier.predict_proba(_matrix(frame, feature_columns))
    else:  # an MLflow pyfunc model
        probs = classifier.predict(frame[feature_columns].astype("float64"))
    probs = np.asarray(probs, dtype=np.float64)
    # XGBoost computes in float32: rows sum to 1 only within ~1e-7. Anything further off is a
    # broken model and fails here; float32 rounding is renormalised away in float64.
    check_probabilities(probs, tolerance=1e-4)
    return probs / probs.sum(axis=1, keepdims=True)


def check_probabilities(probs: np.ndarray, tolerance: float = 1e-6) -> None:
    if probs.ndim != 2 or probs.shape[1] != 3:
        raise ValueError(f"model returned shape {probs.shape}, expected (n, 3)")
    if not np.isfinite(probs).all():
        raise ValueError(
            f"model returned non-finite probabilities for {int((~np.isfinite(probs)).any(axis=1).sum())} rows"
        )
    if (probs < 0).any() or (probs > 1).any():
        raise ValueError("model returned probabilities outside [0, 1]")
    worst = float(np.abs(probs.sum(axis=1) - 1.0).max())
    if worst > tolerance:
        raise ValueError(f"model probabilities do not sum to 1 (worst row off by {worst:.2e})")
