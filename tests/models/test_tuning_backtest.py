"""Optuna tuning and the walk-forward backtest on a small simulated history (no mocks)."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pytest
import xgboost as xgb

from footcast.data.simulator.partitions import simulate_history
from footcast.models import backtest, training, tuning
from footcast.models.features import columns as features
from footcast.models.features.builder import build_features

FAST = {"n_estimators": 40, "max_depth": 2, "learning_rate": 0.1}

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def frame():
    """Two simulated leagues, seasons 2021-2024 (about 3000 matches), with market prices."""
    return build_features(simulate_history(3000, seed=1))


def _tune(frame, **kwargs):
    args = dict(
        n_trials=3,
        timeout_seconds=None,
        storage=None,
        study_name="test",
        seed=3,
        max_rounds=60,
        early_stopping_rounds=10,
        n_jobs=1,
    )
    args.update(kwargs)
    return tuning.tune(frame, list(features.NO_MARKET_FEATURES), **args)


def test_identical_seeds_give_identical_tuning_and_training(frame):
    first, second = _tune(frame), _tune(frame)
    assert first.best_params == second.best_params
    assert first.best_rps == second.best_rps
    assert first.n_trials_done == 3 and first.validation_seasons == [2024]
    # The best parameters refitted by train_model score what the tuning trial scored.
    model = training.train_model(
        frame, list(features.NO_MARKET_FEATURES), params=first.best_params, seed=3, early_stopping_rounds=10
    )
    again = training.train_model(
        frame, list(features.NO_MARKET_FEATURES), params=first.best_params, seed=3, early_stopping_rounds=10
    )
    assert model.validation_metrics == again.validation_metrics
    assert model.validation_metrics["rps"] == pytest.approx(first.best_rps, abs=2e-4)


def test_study_in_rdb_storage_resumes(frame, tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.sqlite'}"
    first = _tune(frame, storage=url, study_name="resume", n_trials=2)
    assert (first.n_trials_done, first.n_trials_run) == (2, 2)
    second = _tune(frame, storage=url, study_name="resume", n_trials=2)
    assert (second.n_trials_done, second.n_trials_run) == (4, 2)
    assert second.best_rps <= first.best_rps
    stored = optuna.load_study(study_name="resume", storage=url)
    assert len(stored.trials) == 4
    # The same study on another problem (here: other validation seasons) is refused.
    with pytest.raises(ValueError, match="tunes a different problem"):
        _tune(frame, storage=url, study_name="resume", n_trials=1, validation_seasons=2)


def test_walk_forward_never_fits_on_the_test_season(frame):
    report = backtest.walk_forward(
        frame, [2023, 2024], params=FAST, no_market_params=FAST, bootstrap_resamples=200
    )
    assert [fit.test_season for fit in report.seasons] == [2023, 2024]
    for fit in report.seasons:
        assert fit.training_seasons == list(range(2021, fit.test_season))
        assert fit.validation_season == fit.test_season - 1
    assert sorted(report.predictions["season"].unique().tolist()) == [2023, 2024]
    # Changing every result of the test season changes no prediction: nothing was fitted on it.
    shuffled = frame.copy()
    test_rows = shuffled["season"] == 2024
    shuffled.loc[test_rows, "result"] = (
        shuffled.loc[test_rows, "result"].sample(frac=1.0, random_state=0).values
    )
    other = backtest.walk_forward(
        shuffled, [2024], params=FAST, no_market_params=FAST, bootstrap_resamples=200
    )
    columns = [c for c in report.predictions.columns if c.endswith(("_p_home", "_p_draw", "_p_away"))]
    mine = report.predictions[report.predictions["season"] == 2024].reset_index(drop=True)
    assert np.array_equal(mine[columns].to_numpy(), other.predictions[columns].to_numpy(), equal_nan=True)


def test_walk_forward_with_tuning_records_its_studies(frame, tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.sqlite'}"
    report = backtest.walk_forward(
        frame, [2024], leagues=["SIM1"], n_trials=2, storage=url, bootstrap_resamples=100
    )
    fit = report.seasons[0]
    assert fit.training_seasons == [2021, 2022, 2023]
    assert set(fit.tuning) == {"model", "model_no_market"}
    for tuned in fit.tuning.values():
        assert tuned["validation_seasons"] == [2023] and tuned["n_trials_done"] == 2
    assert report.leagues == ["SIM1"] and set(report.predictions["league"]) == {"SIM1"}


def test_comparisons_share_their_matches_and_serialise(frame):
    data = frame.copy()
    # No closing prices for some test matches: the market comparison drops exactly those.
    gone = data.index[(data["season"] == 2024) & (data["league"] == "SIM2")][:50]
    data.loc[gone, list(features.MARKET_BASELINE_COLUMNS[3:])] = np.nan
    report = backtest.walk_forward(data, [2024], params=FAST, no_market_params=FAST, bootstrap_resamples=300)
    table = report.to_frame()
    assert set(table.groupby(["comparison", "test_season", "league"])["n"].nunique()) == {1}
    n_all = report.row("model", "all", 2024, "SIM2")["n"]
    assert report.row("model", "market", 2024, "SIM2")["n"] == n_all - 50
    assert set(table[table["comparison"] == "market"]["predictor"]) == set(backtest.PREDICTORS)
    assert "market_open" not in set(table[table["comparison"] == "all"]["predictor"])
    assert report.row("model", "market")["n"] == report.row("market_open", "market")["n"]
    for column in (
        "run_id",
        "created_at",
        "test_season",
        "league",
        "predictor",
        "n",
        "rps",
        "log_loss",
        "brier",
    ):
        assert column in table.columns
    # Every interval contains its point estimate.
    paired = table.dropna(subset=["diff_vs_market_rps"])
    assert (
        len(paired)
        and (
            (paired["ci_low"] <= paired["diff_vs_market_rps"])
            & (paired["diff_vs_market_rps"] <= paired["ci_high"])
        ).all()
    )
    loaded = json.loads(json.dumps(report.to_dict(include_predictions=True), allow_nan=False))
    assert loaded["run_id"] == report.run_id and len(loaded["table"]) == len(table)
    assert loaded["seasons"][0]["training_seasons"] == [2021, 2022, 2023]
    assert len(loaded["predictions"]) == report.row("model", "all")["n"]


def test_bootstrap_interval_is_deterministic_and_contains_the_mean():
    rng = np.random.default_rng(5)
    diffs = rng.normal(0.001, 0.05, size=(2, 700))
    low, high = backtest.bootstrap_mean_ci(diffs, resamples=2000, seed=0)
    again_low, again_high = backtest.bootstrap_mean_ci(diffs, resamples=2000, seed=0)
    assert np.array_equal(low, again_low) and np.array_equal(high, again_high)
    means = diffs.mean(axis=1)
    assert (low < means).all() and (means < high).all()
    # About +-1.96 standard errors.
    assert high[0] - low[0] == pytest.approx(2 * 1.96 * 0.05 / np.sqrt(700), rel=0.15)
    other_low, _ = backtest.bootstrap_mean_ci(diffs, resamples=2000, seed=1)
    assert not np.array_equal(low, other_low)


def test_prior_and_temperature_travel_with_the_saved_model(frame, tmp_path):
    columns = list(features.MODEL_FEATURES)
    trained = training.train_model(
        frame, columns, params=FAST, prior_columns=training.MARKET_PRIOR, calibrate=True
    )
    assert trained.prior_columns == training.MARKET_PRIOR and trained.temperature is not None
    rows = frame[frame["season"] == 2024].head(100)
    expected = trained.predict_proba(rows)
    # Boosting starts at the opening market: with few rounds the model stays close to it.
    market = rows[list(features.MARKET_BASELINE_COLUMNS[:3])].to_numpy()
    assert np.abs(expected - market).max() < 0.15
    path = tmp_path / "model.json"
    trained.classifier.save_model(path)
    loaded = xgb.XGBClassifier()
    loaded.load_model(path)
    assert training.stored_recipe(loaded) == (training.MARKET_PRIOR, pytest.approx(trained.temperature))
    np.testing.assert_allclose(training.predict_proba(loaded, rows, columns), expected, atol=1e-6)
