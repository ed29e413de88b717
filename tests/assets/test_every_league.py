"""Every league of the warehouse through the model layer: a league with closing prices only (as
the site's extra layout publishes them) and a league with few seasons, through `footcast
evaluate`'s service and the real Dagster assets features -> model -> predictions -> published."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from footcast.adapters.warehouse import Warehouse, backtests, fixtures, matches
from footcast.adapters.warehouse import predictions as predictions_table
from footcast.data import schema
from footcast.data.simulator.partitions import simulate_partition
from footcast.services import evaluation
from tests.support import require_service, unique_name

NOW = "2025-12-15T12:00:00+00:00"
OPENING = [c for c in schema.ODDS_COLUMNS if "_open_" in c]
CLOSING = [c for c in schema.ODDS_COLUMNS if "_close_" in c]
# SIM1: opening and closing prices; SIM3: closing prices only; SIM5: a league with few seasons.
LEAGUES = {"SIM1": False, "SIM3": True, "SIM5": False}


def _partition(league: str, season: int, as_of=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    played, upcoming = simulate_partition(league, season, as_of=as_of)
    if LEAGUES[league]:  # closing prices only: no opening price, in results nor fixtures
        played = played.assign(**{c: np.nan for c in OPENING})
        upcoming = upcoming.assign(**{c: np.nan for c in OPENING})
    return played, upcoming


def fill(store: Warehouse, seasons: dict[str, range], upcoming_season: int | None = None) -> None:
    for league, league_seasons in seasons.items():
        for season in league_seasons:
            played, _ = _partition(league, season)
            store.replace_partition(matches, {"league": league, "season": season}, played)
        if upcoming_season is not None:
            played, upcoming = _partition(league, upcoming_season, as_of=pd.Timestamp(NOW))
            store.replace_partition(matches, {"league": league, "season": upcoming_season}, played)
            store.replace_partition(fixtures, {"league": league}, upcoming)


def test_evaluate_any_league_list_closing_market_reference_and_seasons_without_history(tmp_path):
    store = Warehouse(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    store.create_all()
    fill(store, {"SIM1": range(2021, 2025), "SIM3": range(2021, 2025), "SIM5": range(2023, 2025)})
    result = evaluation.evaluate(store, [2022, 2023, 2024], n_trials=0, bootstrap_resamples=100)
    report = result.report
    # 2022 has one earlier season (2021): nothing to validate on, skipped with its reason.
    assert report.test_seasons == [2023, 2024] and list(report.skipped_seasons) == [2022]
    assert "1 earlier season(s)" in report.skipped_seasons[2022]
    assert report.leagues == ["SIM1", "SIM3", "SIM5"]
    preds = report.predictions
    # SIM5 (first season 2023) is predicted from its first season on, by models fitted on the others.
    assert set(preds.loc[preds["league"] == "SIM5", "season"]) == {2023, 2024}
    sim3, others = preds[preds["league"] == "SIM3"], preds[preds["league"] != "SIM3"]
    # The closing-only league: no opening market (not faked from closing prices), the closing
    # market as the reference, and the model as served there is the no-market model.
    assert sim3["market_open_p_home"].isna().all() and sim3["market_close_p_home"].notna().all()
    columns = ["p_home", "p_draw", "p_away"]
    np.testing.assert_array_equal(
        sim3[[f"model_{c}" for c in columns]].to_numpy(), sim3[[f"model_no_market_{c}" for c in columns]]
    )
    assert (others["model_p_home"] != others["model_no_market_p_home"]).all()
    probs = preds[[f"model_{c}" for c in columns]].to_numpy()
    assert np.isfinite(probs).all() and np.allclose(probs.sum(axis=1), 1.0)

    summary = evaluation.overall(report).groupby("league")["comparison"].first().to_dict()
    assert summary == {"all": "market", "SIM1": "market", "SIM3": "close", "SIM5": "market"}
    close = report.row("model", "close", "all", "SIM3")
    assert close["n"] == len(sim3) and np.isfinite(close["diff_vs_close_rps"])
    assert close["diff_vs_close_rps"] == pytest.approx(
        close["rps"] - report.row("market_close", "close", "all", "SIM3")["rps"]
    )
    with pytest.raises(KeyError):
        report.row("model", "market", "all", "SIM3")
    text = evaluation.format_table(result)
    block = text.split("\nSIM3: ")[1].split("\n\n")[0]
    assert block.startswith(f"{len(sim3)} matches (with closing prices)")
    assert "\n  closing market" in block and "\n  opening market" not in block
    assert "test season 2022 skipped: 1 earlier season(s)" in text
    assert "SIM1: " in text and "(with opening and closing prices)" in text
    stored = store.read(backtests, {"run_id": report.run_id})
    assert len(stored) == result.rows_written
    assert set(stored.loc[stored["league"] == "SIM3", "comparison"]) == {"all", "close"}

    # A single league with two seasons: nothing to evaluate, one line saying why.
    with pytest.raises(evaluation.EvaluationError, match="no test season can be evaluated"):
        evaluation.evaluate(store, [2023, 2024], leagues=["SIM5"], n_trials=0, bootstrap_resamples=10)


@pytest.fixture
def code_location(tmp_path, monkeypatch):
    """Resources of the code location: SQLite warehouse, MLflow under tmp_path, the real Redis."""
    import mlflow

    from footcast.assets.resources import MlflowResource, RedisResource, WarehouseResource

    monkeypatch.setenv("FOOTCAST_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FOOTCAST_NOW", NOW)
    warehouse = WarehouseResource(url=f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    tracking = MlflowResource(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.sqlite'}",
        artifact_location=(tmp_path / "artifacts").as_uri(),
    )
    redis = RedisResource(url=require_service("FOOTCAST_TEST_REDIS_URL"), prefix=unique_name("fc_leagues"))
    seasons = {"SIM1": range(2022, 2025), "SIM3": range(2022, 2025), "SIM5": range(2024, 2025)}
    fill(warehouse.get(), seasons, upcoming_season=2025)
    yield {"warehouse": warehouse, "mlflow_tracking": tracking, "redis": redis}
    mlflow.set_tracking_uri(None)


def _materialize(resources, *selection):
    import dagster as dg

    from footcast.assets import features, model, predictions

    assets = {
        "features": features.features,
        "model": model.model,
        "predictions": predictions.predictions,
        "published_predictions": predictions.published_predictions,
    }
    result = dg.materialize(
        [assets[name] for name in selection],
        resources=resources,
        run_config={"ops": {"model": {"config": {"n_trials": 0}}}} if "model" in selection else None,
    )
    assert result.success
    return {
        name: {k: v.value for k, v in result.asset_materializations_for_node(name)[0].metadata.items()}
        for name in selection
    }


def test_every_league_gets_predictions_published_without_a_closing_price(code_location):
    from footcast.models import training

    meta = _materialize(code_location, "features", "model", "predictions", "published_predictions")
    assert meta["model"]["recipe"] == "market" and meta["model"]["promoted"]
    assert meta["model"]["fallback_validation_rows"] > 0  # SIM3's validation matches
    warehouse = code_location["warehouse"].get()
    batch = warehouse.read(predictions_table, {"publish_version": meta["predictions"]["publish_version"]})
    upcoming = warehouse.read(fixtures)
    # Every fixture of every league, SIM5's (one season before this one) and SIM3's included.
    assert sorted(batch["match_id"]) == sorted(upcoming["match_id"])
    assert set(batch["league"]) == set(LEAGUES)
    probs = batch[["p_home", "p_draw", "p_away"]].to_numpy()
    assert ((probs > 0) & (probs < 1)).all() and np.allclose(probs.sum(axis=1), 1.0)

    # SIM3's fixtures come from the champion's no-market fallback, the others from its market model.
    registry = code_location["mlflow_tracking"].registry()
    champion = registry.champion()
    features = warehouse.read_features().set_index("match_id").loc[batch["match_id"]].reset_index()
    fallback = registry.load_fallback(champion)
    closing_only = (batch["league"] == "SIM3").to_numpy()
    np.testing.assert_allclose(
        probs[closing_only],
        training.predict_proba(fallback, features[closing_only], champion.fallback["feature_columns"]),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        probs[~closing_only],
        training.predict_proba(
            registry.load_model(champion.version), features[~closing_only], champion.feature_columns
        ),
        atol=1e-6,
    )
    store = code_location["redis"].store()
    assert store.current_version() == meta["published_predictions"]["publish_version"]
    assert set(store.leagues()) >= set(LEAGUES)
    first = batch[closing_only].iloc[0]
    assert store.get(first["match_id"])["p_home"] == pytest.approx(first["p_home"])

    # Closing prices on SIM3's fixtures (the extra layout's fixtures list has them) change nothing.
    with_closing = upcoming.assign(**{c: 2.5 for c in CLOSING})
    warehouse.replace_partition(fixtures, {"league": "SIM3"}, with_closing[with_closing["league"] == "SIM3"])
    again = _materialize(code_location, "features", "predictions")["predictions"]
    rerun = warehouse.read(predictions_table, {"publish_version": again["publish_version"]})
    pd.testing.assert_frame_equal(
        rerun.set_index("match_id").sort_index()[["p_home", "p_draw", "p_away"]],
        batch.set_index("match_id").sort_index()[["p_home", "p_draw", "p_away"]],
    )
