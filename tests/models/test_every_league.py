"""Every league: a closing price is never a feature nor a prior, and the market recipe serves the
matches without opening prices (a league with closing prices only) with its no-market fallback."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from footcast.data import schema
from footcast.data.simulator.partitions import simulate_partition
from footcast.models import metrics, training
from footcast.models.features.builder import build_features
from footcast.models.features.columns import FEATURE_COLUMNS, MARKET_CLOSE_COLUMNS

FAST = {"n_estimators": 40, "max_depth": 2, "learning_rate": 0.1}
OPENING = [c for c in schema.ODDS_COLUMNS if "_open_" in c]
CLOSING = [c for c in schema.ODDS_COLUMNS if "_close_" in c]


def closing_only(frame: pd.DataFrame) -> pd.DataFrame:
    """A league as the site's extra layout publishes it: closing prices only."""
    return frame.assign(**{column: np.nan for column in OPENING})


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    """SIM1 with opening and closing prices, SIM3 with closing prices only, 2022-2024."""
    parts = [simulate_partition("SIM1", season)[0] for season in (2022, 2023, 2024)]
    parts += [closing_only(simulate_partition("SIM3", season)[0]) for season in (2022, 2023, 2024)]
    return pd.concat(parts, ignore_index=True)


def _recipes() -> list[training.Recipe]:
    return [training.MARKET_RECIPE, training.NO_MARKET_RECIPE]


def test_no_closing_price_is_a_feature_or_a_prior(history):
    for recipe in _recipes():
        used = set(recipe.feature_columns) | set(recipe.required_columns)
        used |= {c for triple in recipe.prior_columns or () for c in triple}
        assert not used & set(MARKET_CLOSE_COLUMNS), recipe.name
        assert not [c for c in used if "close" in c], recipe.name
    # Any other closing prices (here: random ones, and none at all) change no model input.
    rng = np.random.default_rng(0)
    scrambled = history.assign(**{c: rng.uniform(1.05, 15.0, len(history)) for c in CLOSING})
    erased = history.assign(**{c: np.nan for c in CLOSING})
    frames = [build_features(frame) for frame in (history, scrambled, erased)]
    inputs = sorted(
        set(training.MARKET_RECIPE.feature_columns)
        | set(training.NO_MARKET_RECIPE.feature_columns)
        | {c for triple in training.MARKET_PRIOR for c in triple}
    )
    for other in frames[1:]:
        pd.testing.assert_frame_equal(frames[0][inputs], other[inputs])
        assert not np.allclose(
            frames[0]["market_close_p_home"].fillna(-1), other["market_close_p_home"].fillna(-1)
        )
    assert set(inputs) < set(FEATURE_COLUMNS)


def test_the_market_recipe_serves_rows_without_opening_prices_its_no_market_fallback(history):
    frame = build_features(history)
    recipe = dataclasses.replace(
        training.MARKET_RECIPE,
        params=FAST,
        fallback=dataclasses.replace(training.NO_MARKET_RECIPE, params=FAST),
    )
    trained = training.train_recipe(frame, recipe)
    assert trained.fallback is not None and trained.required_columns == recipe.required_columns
    held = trained.validation_predictions
    # The validation season's SIM3 matches (no opening prices) were scored by the fallback.
    assert (held.loc[held["league"] == "SIM3", "recipe"] == "no_market").all()
    assert (held.loc[held["league"] == "SIM1", "recipe"] == "market").all()
    assert trained.validation_metrics["rps"] == pytest.approx(
        metrics.ranked_probability_score(
            held[["p_home", "p_draw", "p_away"]].to_numpy(), metrics.encode_results(held["result"])
        )
    )
    sim1, sim3 = frame[frame["league"] == "SIM1"].head(50), frame[frame["league"] == "SIM3"].head(50)
    own = training.predict_proba(trained.classifier, sim1, trained.feature_columns)
    np.testing.assert_allclose(trained.predict_proba(sim1), own)
    np.testing.assert_allclose(trained.predict_proba(sim3), trained.fallback.predict_proba(sim3))
    both = pd.concat([sim1, sim3])
    np.testing.assert_allclose(trained.predict_proba(both), np.vstack([own, trained.predict_proba(sim3)]))
    # Without a fallback (the no-market recipe) one model serves every row.
    alone = training.train_recipe(frame, recipe.fallback)
    assert alone.fallback is None and "recipe" not in alone.validation_predictions
