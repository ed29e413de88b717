"""The xG ablations of the walk-forward backtest and `footcast evaluate`'s service: the model and
the no-market model each with and without the xG features, on the same matches, with the xG
gain and its bootstrap interval; omitted when no match has xG (simulated history, no mocks)."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pandas as pd
import pytest

from footcast.adapters.warehouse import Warehouse, backtests
from footcast.data.simulator.partitions import simulate_history
from footcast.models import backtest, training
from footcast.models.features import columns as features
from footcast.models.features.builder import build_features
from footcast.services import evaluation

FAST = {"n_estimators": 40, "max_depth": 2, "learning_rate": 0.1}
optuna.logging.set_verbosity(optuna.logging.WARNING)


def simulated_xg(matches: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """xG of every played match: Gamma-distributed around its goals, a few missing."""
    rng = np.random.default_rng(seed)
    values = {
        side: rng.gamma(3.0 + matches[goals].to_numpy(dtype=float), 1.0 / 4.0)
        for side, goals in (("home_xg", "fthg"), ("away_xg", "ftag"))
    }
    xg = pd.DataFrame({"match_id": matches["match_id"].to_numpy(), **values})
    return xg[rng.random(len(xg)) < 0.95].reset_index(drop=True)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    """Two simulated leagues, seasons 2021-2024 (about 3000 matches), with market prices."""
    return simulate_history(3000, seed=1)


@pytest.fixture(scope="module")
def with_xg(history) -> pd.DataFrame:
    return build_features(history, xg=simulated_xg(history))


@pytest.fixture(scope="module")
def without_xg(history) -> pd.DataFrame:
    return build_features(history)


def _recipes(market=training.MARKET_RECIPE, no_market=training.NO_MARKET_RECIPE) -> dict:
    return {"recipe": market, "no_market_recipe": no_market, "params": FAST, "no_market_params": FAST}


def test_ablations_are_the_recipes_without_xg_on_the_same_matches(with_xg, without_xg):
    report = backtest.walk_forward(with_xg, [2024], bootstrap_resamples=300, **_recipes())
    table = report.to_frame()
    assert report.config["xg_ablations"] is True
    assert set(table["predictor"]) == set(backtest.PREDICTORS) | set(backtest.XG_ABLATIONS)
    assert set(table.groupby(["comparison", "test_season", "league"])["n"].nunique()) == {1}
    assert set(report.seasons[0].xg_ablations) == set(backtest.XG_ABLATIONS)
    # The xG gain of each model: its paired RPS difference to its ablation, with an interval.
    for model, ablation in backtest.XG_ABLATION_OF.items():
        row, other = report.row(model), report.row(ablation)
        assert row["diff_vs_without_xg_rps"] == pytest.approx(row["rps"] - other["rps"], abs=1e-12)
        assert row["without_xg_ci_low"] <= row["diff_vs_without_xg_rps"] <= row["without_xg_ci_high"]
        assert np.isnan(other["diff_vs_without_xg_rps"])
    predictions = report.predictions
    columns = backtest.probability_columns
    # the no-market model reads xG (its prior, the xG rating); its ablation does not
    assert not np.allclose(
        predictions[columns("model_no_market")], predictions[columns("model_no_market_without_xg")]
    )
    # The ablations are exactly the recipes without xG, fitted on data that has none.
    plain = backtest.walk_forward(
        without_xg,
        [2024],
        bootstrap_resamples=300,
        **_recipes(training.MARKET_RECIPE_WITHOUT_XG, training.NO_MARKET_RECIPE_WITHOUT_XG),
    )
    for model, ablation in backtest.XG_ABLATION_OF.items():
        np.testing.assert_array_equal(predictions[columns(ablation)], plain.predictions[columns(model)])
    loaded = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert {r["predictor"] for r in loaded["table"]} >= set(backtest.XG_ABLATIONS)


def test_without_any_xg_the_ablations_are_omitted(without_xg):
    report = backtest.walk_forward(without_xg, [2024], bootstrap_resamples=200, **_recipes())
    assert report.config["xg_ablations"] is False
    assert set(report.table["predictor"]) == set(backtest.PREDICTORS)
    assert report.table["diff_vs_without_xg_rps"].isna().all()
    assert report.seasons[0].xg_ablations == {}
    # nor when the models read no xG feature, or when asked not to fit them
    for kwargs in (
        _recipes(training.MARKET_RECIPE_WITHOUT_XG, training.NO_MARKET_RECIPE_WITHOUT_XG),
        {**_recipes(), "xg_ablations": False},
    ):
        other = backtest.walk_forward(without_xg, [2024], bootstrap_resamples=100, **kwargs)
        assert set(other.table["predictor"]) == set(backtest.PREDICTORS)


def test_recipes_without_xg():
    assert training.uses_xg(training.MARKET_RECIPE) and training.uses_xg(training.NO_MARKET_RECIPE)
    for recipe in (training.MARKET_RECIPE_WITHOUT_XG, training.NO_MARKET_RECIPE_WITHOUT_XG):
        assert not training.uses_xg(recipe)
        assert not set(recipe.feature_columns) & set(features.XG_COLUMNS)
    assert training.NO_MARKET_RECIPE.prior_columns == training.XG_PRIOR
    assert training.NO_MARKET_RECIPE_WITHOUT_XG.prior_columns == training.GOALS_PRIOR
    assert training.MARKET_RECIPE_WITHOUT_XG.fallback == training.NO_MARKET_RECIPE_WITHOUT_XG
    assert training.MARKET_RECIPE_WITHOUT_XG.name == "market_without_xg"


def test_evaluate_stores_and_prints_the_xg_gain(with_xg, tmp_path):
    store = Warehouse(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    store.create_all()
    result = evaluation.evaluate(store, [2024], frame=with_xg, n_trials=0, bootstrap_resamples=200)
    rows = store.read(backtests, {"run_id": result.report.run_id})
    assert len(rows) == result.rows_written > 0
    assert set(backtest.XG_ABLATIONS) <= set(rows["predictor"])
    gains = rows[rows["predictor"].isin(backtest.MODELS)]["diff_vs_without_xg_rps"]
    assert gains.notna().all()
    text = evaluation.format_table(result)
    assert "xG gain" in text and "no market, no xG" in text
    assert set(result.report.config["recipes"]) == set(backtest.MODELS) | set(backtest.XG_ABLATIONS)
    report = evaluation.to_json(result)
    model = next(
        r
        for r in report["table"]
        if (r["predictor"], r["comparison"], r["test_season"], r["league"])
        == ("model_no_market", "market", "all", "all")
    )
    assert model["without_xg_ci_low"] <= model["diff_vs_without_xg_rps"] <= model["without_xg_ci_high"]
