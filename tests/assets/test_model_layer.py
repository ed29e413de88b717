"""The model layer as users meet it: `footcast evaluate` on a simulated warehouse, the test season
leaking into nothing, and the `model` -> `predictions` assets (real Dagster runs, MLflow in SQLite)
publishing exactly the evaluated recipe and keeping a better champion."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from footcast.adapters.warehouse import Warehouse, backtests, fixtures, matches
from footcast.adapters.warehouse import predictions as predictions_table
from footcast.data.simulator.partitions import simulate_partition
from footcast.models import backtest, metrics, training
from footcast.models.features import builder as feature_builder
from footcast.models.features.columns import MODEL_FEATURES
from footcast.services import evaluation
from tests.support import footcast, require_service, unique_name

NOW = "2025-12-15T12:00:00+00:00"


def fill(store: Warehouse, seasons=range(2021, 2025), leagues=("SIM1",), upcoming_season: int | None = None):
    """Simulated validated matches (and fixtures of ``upcoming_season`` after NOW) in ``store``."""
    for league in leagues:
        for season in seasons:
            played, _ = simulate_partition(league, season)
            store.replace_partition(matches, {"league": league, "season": season}, played)
        if upcoming_season is not None:
            played, upcoming = simulate_partition(league, upcoming_season, as_of=pd.Timestamp(NOW))
            store.replace_partition(matches, {"league": league, "season": upcoming_season}, played)
            store.replace_partition(fixtures, {"league": league}, upcoming)


@pytest.fixture
def evaluate_env(footcast_home) -> tuple[dict[str, str], Warehouse]:
    """A simulated warehouse on the real PostgreSQL (the embedded SQLite default is covered by
    test_evaluate_cli_table_and_errors)."""
    url, schema = require_service("FOOTCAST_TEST_POSTGRES_URL"), unique_name("footcast_eval")
    store = Warehouse(url, schema)
    store.create_all()
    fill(store)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "MLFLOW_", "DAGSTER_"))}
    env.update(
        {
            "FOOTCAST_HOME": str(footcast_home),
            "FOOTCAST_WAREHOUSE_URL": url,
            "FOOTCAST_WAREHOUSE_SCHEMA": schema or "",
            "FOOTCAST_FOOTBALL_DATA_URL": "http://127.0.0.1:9",
        }
    )
    yield env, store
    store.drop_schema()
    store.engine.dispose()


def test_evaluate_cli_writes_backtests_rows_and_json(evaluate_env):
    env, store = evaluate_env
    result = footcast(
        "evaluate", "--test-seasons", "2024", "--leagues", "SIM1", "--trials", "1", "--json", env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["test_seasons"] == [2024] and report["leagues"] == ["SIM1"]
    assert [s["training_seasons"] for s in report["seasons"]] == [[2021, 2022, 2023]]
    assert all(s["tuning"]["model"]["n_trials_done"] == 1 for s in report["seasons"])
    rows = store.read(backtests, {"run_id": report["run_id"]})
    assert len(rows) == len(report["table"]) > 0
    assert set(rows["predictor"]) == set(backtest.PREDICTORS)
    assert set(rows["test_season"]) == {"2024", "all"}
    assert (rows["mlflow_run_id"] == report["mlflow_run_id"]).all() and report["mlflow_run_id"]
    assert json.loads(rows["params"].iloc[0])["n_trials"] == 1
    # One row per comparison x test season x league x predictor, every predictor on the same matches.
    key = ["comparison", "test_season", "league", "predictor"]
    assert not rows.duplicated(key).any()
    assert (rows.groupby(["comparison", "test_season", "league"])["n"].nunique() == 1).all()
    model = rows[
        (rows["comparison"] == "market") & (rows["test_season"] == "all") & (rows["predictor"] == "model")
    ]
    market = rows[
        (rows["comparison"] == "market")
        & (rows["test_season"] == "all")
        & (rows["predictor"] == "market_open")
    ]
    assert model["diff_vs_market_rps"].iloc[0] == pytest.approx(model["rps"].iloc[0] - market["rps"].iloc[0])
    low, high = model["ci_low"].iloc[0], model["ci_high"].iloc[0]
    assert low <= model["diff_vs_market_rps"].iloc[0] <= high

    # The MLflow run of the evaluation: its experiment, scores, per-season steps and artifacts.
    import mlflow

    from footcast import config

    client = mlflow.MlflowClient(config.mlflow_tracking_uri())
    run = client.get_run(report["mlflow_run_id"])
    assert client.get_experiment(run.info.experiment_id).name == evaluation.EXPERIMENT
    assert run.data.metrics["SIM1/model/rps"] == pytest.approx(model["rps"].iloc[0])
    assert [m.step for m in client.get_metric_history(run.info.run_id, "season_rps/model")] == [2024]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"backtest_table.csv", "backtest_report.json", "rps_by_season.png"} <= artifacts


def test_evaluate_cli_table_and_errors(footcast_home):
    store = Warehouse(f"sqlite:///{footcast_home / 'warehouse.sqlite'}")
    store.create_all()
    fill(store, seasons=range(2022, 2025))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "MLFLOW_", "DAGSTER_"))}
    env["FOOTCAST_HOME"] = str(footcast_home)
    table = footcast("evaluate", "--test-seasons", "2024", "--trials", "0", env=env)
    assert table.returncode == 0, table.stderr[-2000:]
    for text in ("SIM1: 380 matches", "opening market", "closing market", "minus opening market [95% CI]"):
        assert text in table.stdout
    run_id = re.search(r"(\d+) rows -> warehouse table backtests \(run_id (\w+)\)", table.stdout)
    assert store.count(backtests, {"run_id": run_id.group(2)}) == int(run_id.group(1)) > 0
    # The evaluation is a run of the `evaluate` job in the Dagster instance the UI reads, which
    # materialized `backtests`.
    import dagster as dg

    with dg.DagsterInstance.get() as instance:  # DAGSTER_HOME: footcast_home/dagster
        event = instance.get_latest_materialization_event(dg.AssetKey("backtests"))
        run = instance.get_run_by_id(event.run_id)
    assert run.job_name == "evaluate" and run.is_success
    assert run.run_config["ops"]["backtests"]["config"]["test_seasons"] == [2024]
    metadata = event.asset_materialization.metadata
    assert metadata["backtest_run_id"].value == run_id.group(2)
    assert "opening market" in metadata["results"].value
    missing = footcast("evaluate", "--test-seasons", "2030", env=env)
    # Progress lines, then the error in one line: no Dagster event log, no stack trace.
    assert missing.returncode == 1 and "Stack Trace" not in missing.stderr and "STEP_" not in missing.stderr
    assert missing.stderr.splitlines()[-1].startswith("footcast evaluate: ")
    assert "no test season can be evaluated (test season 2030: no played match of SIM1)" in missing.stderr
    assert footcast("evaluate", "--test-seasons", "2024", "--trials", "-1", env=env).returncode == 2


def test_test_season_leaks_into_no_fit_and_no_earlier_feature(tmp_path):
    store = Warehouse(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    store.create_all()
    fill(store, seasons=range(2021, 2025))
    before = evaluation.load_features(store)
    first = evaluation.evaluate(store, [2024], n_trials=2, bootstrap_resamples=100)

    # Every result of the test season turned around (home and away goals swapped).
    played, _ = simulate_partition("SIM1", 2024)
    swapped = played.assign(
        fthg=played["ftag"], ftag=played["fthg"], hthg=played["htag"], htag=played["hthg"]
    )
    store.replace_partition(matches, {"league": "SIM1", "season": 2024}, swapped)
    after = evaluation.load_features(store)
    second = evaluation.evaluate(store, [2024], n_trials=2, bootstrap_resamples=100)

    earlier = before["season"] < 2024
    assert (after.loc[earlier, "result"] == before.loc[earlier, "result"]).all()
    pd.testing.assert_frame_equal(after[earlier], before[earlier])
    assert (after.loc[~earlier, "result"] != before.loc[~earlier, "result"]).any()
    a, b = first.report.seasons[0], second.report.seasons[0]
    for name in (
        "model_params",
        "no_market_params",
        "model_best_iteration",
        "model_validation_rps",
    ):
        assert getattr(a, name) == getattr(b, name), name
    for model in ("model", "model_no_market"):
        assert a.tuning[model]["best_params"] == b.tuning[model]["best_params"]
        assert a.tuning[model]["best_rps"] == b.tuning[model]["best_rps"]
    # Test matches whose features did not move (nothing of the season played before them) get
    # exactly the same probabilities: the fitted models are the same.
    columns = list(MODEL_FEATURES)
    same_inputs = (
        before.loc[~earlier, columns].fillna(-1).to_numpy()
        == after.loc[~earlier, columns].fillna(-1).to_numpy()
    ).all(axis=1)
    ids = set(before.loc[~earlier].loc[same_inputs, "match_id"])
    assert len(ids) >= 5
    p1, p2 = (
        r.report.predictions.set_index("match_id").loc[
            sorted(ids), ["model_p_home", "model_no_market_p_home"]
        ]
        for r in (first, second)
    )
    np.testing.assert_array_equal(p1.to_numpy(), p2.to_numpy())
    # Identical seeds, identical data: identical metrics (the earlier seasons' fits above too).
    assert a.model_validation_rps == b.model_validation_rps


@pytest.fixture
def code_location(tmp_path, monkeypatch):
    """Resources of the code location on a fresh SQLite warehouse and MLflow under tmp_path."""
    import mlflow

    from footcast.assets.resources import MlflowResource, WarehouseResource

    monkeypatch.setenv("FOOTCAST_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FOOTCAST_NOW", NOW)
    warehouse = WarehouseResource(url=f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    tracking = MlflowResource(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.sqlite'}",
        artifact_location=(tmp_path / "artifacts").as_uri(),
    )
    fill(warehouse.get(), seasons=range(2022, 2025), upcoming_season=2025)
    yield {"warehouse": warehouse, "mlflow_tracking": tracking}
    mlflow.set_tracking_uri(None)


def _materialize(resources, *selection, model_config=None):
    import dagster as dg

    from footcast.assets import features, model, predictions

    assets = {"features": features.features, "model": model.model, "predictions": predictions.predictions}
    run_config = {"ops": {"model": {"config": model_config}}} if model_config else None
    result = dg.materialize([assets[name] for name in selection], resources=resources, run_config=run_config)
    assert result.success
    return {
        name: {k: v.value for k, v in result.asset_materializations_for_node(name)[0].metadata.items()}
        for name in selection
    }


def test_a_better_model_takes_over_predictions_apply_its_recipe_and_a_worse_one_stays_out(code_location):
    no_odds = {"n_trials": 0, "market_features": False}
    # A first champion without odds features...
    initial = _materialize(code_location, "features", "model", model_config=no_odds)["model"]
    assert initial["promoted"] and initial["model_version"] == "1" and initial["recipe"] == "no_market"
    # ...which the market recipe beats on the same validation season (the champion's recipe is
    # refitted there for the comparison): the better model becomes the champion.
    first = _materialize(code_location, "features", "model", "predictions", model_config={"n_trials": 2})
    meta = first["model"]
    assert meta["promoted"] and meta["model_version"] == "2" and meta["recipe"] == "market"
    assert meta["new_validation_rps"] < meta["champion_validation_rps"]
    assert meta["promotion_decision"].startswith("promoted: new RPS ")
    assert meta["tuning_trials"] == 2
    assert "| SIM1 |" in meta["validation_metrics"] and "calibration_error" in meta["validation_metrics"]
    for name in ("plot_reliability", "plot_feature_importance", "plot_rps_by_season"):
        assert Path(meta[name]).stat().st_size > 1000, name
    # ...and as images the UI shows inline (markdown with data URIs).
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", meta["plots"])
    assert len(images) == 3 and all(base64.b64decode(i).startswith(b"\x89PNG\r\n\x1a\n") for i in images)

    warehouse = code_location["warehouse"].get()
    tracking = code_location["mlflow_tracking"].registry()
    frame = warehouse.read_features()
    champion = tracking.champion()
    assert champion.version == "2" and champion.recipe["prior_columns"] == [
        list(t) for t in training.MARKET_RECIPE.prior_columns
    ]
    # The held-out probabilities logged with the run are what its validation RPS scored.
    import mlflow

    held = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{champion.run_id}/validation_predictions.csv")
    )
    logged = mlflow.get_run(champion.run_id).data.metrics
    assert metrics.ranked_probability_score(
        held[["p_home", "p_draw", "p_away"]].to_numpy(), metrics.encode_results(held["result"])
    ) == pytest.approx(logged["validation_rps"], abs=1e-12)
    assert "validation_SIM1_rps" in logged

    # Published probabilities = the evaluated recipe (features + market prior + calibration)
    # refitted here with the champion's parameters: nothing lost between training and serving.
    batch = warehouse.read(predictions_table)
    assert len(batch) > 50
    recipe = training.MARKET_RECIPE
    refit = training.train_model(
        frame, list(recipe.feature_columns), params=champion.params, **recipe.train_kwargs()
    )
    upcoming = frame.set_index("match_id").loc[batch["match_id"]].reset_index()
    expected = refit.predict_proba(upcoming)
    served = batch[["p_home", "p_draw", "p_away"]].to_numpy()
    np.testing.assert_allclose(served, expected, atol=1e-6)
    loaded = tracking.load_model(champion.version)
    np.testing.assert_allclose(
        training.predict_proba(loaded, upcoming, champion.feature_columns), expected, atol=1e-6
    )
    # Without the prior the same trees give other probabilities: the prior matters.
    bare = loaded.predict_proba(upcoming[champion.feature_columns].to_numpy(dtype=np.float64))
    assert np.abs(bare - expected).max() > 0.02

    # A worse model (no market information) is logged but does not become the champion.
    second = _materialize(code_location, "model", "predictions", model_config=no_odds)
    assert not second["model"]["promoted"] and second["model"]["model_version"] == "3"
    assert second["model"]["new_validation_rps"] > second["model"]["champion_validation_rps"]
    assert second["model"]["promotion_decision"].startswith("kept champion: new RPS ")
    assert f"{second['model']['champion_validation_rps']:.5f}" in second["model"]["promotion_decision"]
    assert tracking.champion().version == "2"
    # The next batch still comes from the champion, with the same probabilities.
    assert second["predictions"]["model_version"] == "2"
    newest = warehouse.read(predictions_table, {"publish_version": second["predictions"]["publish_version"]})
    pd.testing.assert_frame_equal(
        newest.set_index("match_id")[["p_home", "p_draw", "p_away"]].sort_index(),
        batch.set_index("match_id")[["p_home", "p_draw", "p_away"]].sort_index(),
    )


def test_tuning_keeps_the_recipes_parameters_unless_a_trial_is_clearly_better():
    from footcast.models import tuning

    frame = feature_builder.build_features(
        pd.concat([simulate_partition("SIM1", season)[0] for season in (2022, 2023, 2024)])
    )
    recipe = training.MARKET_RECIPE
    args = dict(n_trials=4, timeout_seconds=None, storage=None, seed=1, max_rounds=80, n_jobs=1)
    free = tuning.tune(frame, list(recipe.feature_columns), study_name="free", **args, **recipe.tune_kwargs())
    kwargs = {**recipe.tune_kwargs(), "min_improvement": 1.0}  # no trial can be better by a whole RPS
    kept = tuning.tune(frame, list(recipe.feature_columns), study_name="kept", **args, **kwargs)
    assert {k: kept.best_params[k] for k in recipe.params} == recipe.params
    assert kept.best_rps >= free.best_rps
