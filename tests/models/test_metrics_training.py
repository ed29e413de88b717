"""Scoring rules and the training contract (time-ordered, reproducible, clear errors)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from footcast.models import metrics, training


def test_rps_known_values():
    outcomes = np.array([0, 1, 2])
    perfect = np.eye(3)
    assert metrics.ranked_probability_score(perfect, outcomes) == 0.0
    # Certain "away" for a home win is the worst ordinal miss: RPS 1.
    assert metrics.rps_per_match(np.array([[0.0, 0.0, 1.0]]), np.array([0]))[0] == pytest.approx(1.0)
    # A draw forecast is penalised less for a home win than an away forecast is (ordinal).
    draw, away = np.array([[0, 1.0, 0]]), np.array([[0, 0, 1.0]])
    assert metrics.rps_per_match(draw, np.array([0]))[0] < metrics.rps_per_match(away, np.array([0]))[0]
    uniform = np.full((1, 3), 1 / 3)
    assert metrics.rps_per_match(uniform, np.array([1]))[0] == pytest.approx((1 / 9 + 1 / 9) / 2)


def test_log_loss_and_brier():
    probs = np.array([[0.5, 0.3, 0.2]])
    assert metrics.log_loss(probs, np.array([0])) == pytest.approx(-np.log(0.5))
    assert metrics.brier_score(probs, np.array([0])) == pytest.approx(0.25 + 0.09 + 0.04)
    with pytest.raises(ValueError, match="empty"):
        metrics.log_loss(np.zeros((0, 3)), np.zeros(0))


def synthetic_features(n_seasons: int = 4, per_season: int = 300, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for season in range(2018, 2018 + n_seasons):
        strength = rng.normal(size=per_season)
        u = rng.random(per_season)
        p_home = 1 / (1 + np.exp(-(0.3 + strength)))
        result = np.where(u < p_home * 0.8, "H", np.where(u < p_home * 0.8 + 0.25, "D", "A"))
        for i in range(per_season):
            rows.append(
                {
                    "match_id": f"{season}-{i}",
                    "league": "SIM1",
                    "season": season,
                    "kickoff": pd.Timestamp(f"{season}-09-01", tz="UTC") + pd.Timedelta(hours=i),
                    "played": True,
                    "result": result[i],
                    "x1": strength[i],
                    "x2": rng.normal(),
                }
            )
    return pd.DataFrame(rows)


def test_training_is_time_ordered_and_reproducible():
    frame = synthetic_features()
    first = training.train_model(frame, ["x1", "x2"], params={"n_estimators": 60}, seed=7)
    second = training.train_model(frame, ["x1", "x2"], params={"n_estimators": 60}, seed=7)
    assert first.validation_seasons == [2021]
    assert first.train_rows == 900 and first.validation_rows == 300
    assert first.validation_metrics == second.validation_metrics
    probs = first.predict_proba(frame.head(20))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-9) and (probs >= 0).all()
    # The informative feature must help: better than base rates on the validation season.
    valid = frame[frame["season"] == 2021]
    base = np.tile(
        np.bincount(metrics.encode_results(frame[frame["season"] < 2021]["result"]), minlength=3) / 900,
        (len(valid), 1),
    )
    assert first.validation_metrics["rps"] < metrics.ranked_probability_score(
        base, metrics.encode_results(valid["result"])
    )


def test_empty_and_single_class_sets_fail_clearly():
    frame = synthetic_features()
    with pytest.raises(training.TrainingError, match="need more than 1 season"):
        training.train_model(frame.iloc[0:0], ["x1"])
    one_class = frame.assign(result="H")
    with pytest.raises(training.TrainingError, match=r"only outcome\(s\) \['H'\]"):
        training.train_model(one_class, ["x1"])


def test_broken_probabilities_are_rejected():
    with pytest.raises(ValueError, match="non-finite"):
        metrics.check_probabilities(np.array([[np.nan, 0.5, 0.5]]))
    with pytest.raises(ValueError, match="do not sum to 1"):
        metrics.check_probabilities(np.array([[0.5, 0.5, 0.5]]))
