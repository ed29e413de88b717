"""The track record's scoring (footcast.models.track_record), pure: which prediction a match is
scored against, the scores against a hand computation, the rolling figures and the checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from footcast.models import metrics
from footcast.models import track_record as model
from footcast.models import track_record_report as shape
from tests.support import hand_rps

T = pd.Timestamp


def batch(version: str, published: str, rows: list[tuple[str, str, tuple]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "publish_version": version,
            "match_id": [r[0] for r in rows],
            "generated_at": T(published, tz="UTC"),
            "kickoff": [T(r[1], tz="UTC") for r in rows],
            "model_version": "7",
            "p_home": [r[2][0] for r in rows],
            "p_draw": [r[2][1] for r in rows],
            "p_away": [r[2][2] for r in rows],
            "market_open_p_home": 0.5,
            "market_open_p_draw": 0.25,
            "market_open_p_away": 0.25,
            "market_open_available": 1.0,
        }
    )


def played(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "match_id": [r[0] for r in rows],
            "league": "SIM1",
            "season": 2026,
            "kickoff": [T(r[1], tz="UTC") for r in rows],
            "home_team": [f"{r[0]} home" for r in rows],
            "away_team": [f"{r[0]} away" for r in rows],
            "result": [r[2] for r in rows],
        }
    )
    for prefix in ("opening_", "close_", "elo_"):
        for column, value in zip(shape.prob_columns(prefix), (0.45, 0.3, 0.25), strict=True):
            frame[column] = value
    return frame


def test_each_match_is_scored_once_against_the_batch_live_at_its_kickoff():
    v1, v2, v3 = (0.5, 0.3, 0.2), (0.4, 0.3, 0.3), (0.2, 0.3, 0.5)
    sat, sun = "2026-11-28", "2026-11-29"
    predictions = pd.concat(
        [
            batch("v1", "2026-11-26 10:00", [("M1", f"{sat} 12:30", v1), ("M2", f"{sat} 15:00", v1)]),
            batch("v2", f"{sat} 13:00", [("M2", f"{sat} 15:00", v2), ("M3", f"{sun} 14:00", v2)]),
            # published after M3 kicked off, yet still holding it (a lagging fixtures list)
            batch("v3", f"{sun} 15:00", [("M3", f"{sun} 14:00", v3), ("P", "2026-12-02 19:45", v3)]),
        ]
    )
    results = played(
        [
            ("M1", f"{sat} 12:30", "H"),
            ("M2", f"{sat} 15:00", "D"),
            ("M3", f"{sun} 14:00", "A"),
            ("P", "2026-12-02 19:45", "H"),  # postponed, in v3 with its new kickoff
            ("X", "2026-11-20 15:00", "H"),  # never predicted before kickoff
        ]
    )
    track = model.score(predictions, results)
    assert track["match_id"].tolist() == ["M1", "M2", "M3", "P"]
    assert not track["match_id"].duplicated().any()
    live = dict(zip(track["match_id"], track["publish_version"], strict=True))
    assert live == {"M1": "v1", "M2": "v2", "M3": "v2", "P": "v3"}
    expected = {
        "M1": hand_rps(v1, "H"),
        "M2": hand_rps(v2, "D"),
        "M3": hand_rps(v2, "A"),
        "P": hand_rps(v3, "H"),
    }
    assert dict(zip(track["match_id"], track["rps"], strict=True)) == pytest.approx(expected, abs=1e-12)
    m1 = track.iloc[0]
    assert m1["log_loss"] == pytest.approx(-np.log(0.5)) and m1["brier"] == pytest.approx(0.25 + 0.09 + 0.04)
    assert (track["market_source"] == "publish").all()
    assert m1["market_rps"] == pytest.approx(hand_rps((0.5, 0.25, 0.25), "H"))
    assert m1["elo_rps"] == pytest.approx(hand_rps((0.45, 0.3, 0.25), "H"))
    assert track.set_index("match_id").loc["P", "kickoff_at_publish"] == T("2026-12-02 19:45", tz="UTC")


def test_a_postponed_match_missing_from_the_live_batch_is_excluded_with_the_reason():
    predictions = pd.concat(
        [
            batch("v1", "2026-11-26 10:00", [("Q", "2026-11-29 14:00", (0.5, 0.3, 0.2))]),
            batch("v2", "2026-11-29 10:00", [("R", "2026-11-30 20:00", (0.4, 0.3, 0.3))]),
        ]
    )
    track = model.score(predictions, played([("Q", "2026-12-09 19:45", "H"), ("R", "2026-11-30 20:00", "A")]))
    q = track.set_index("match_id").loc["Q"]
    assert q["status"] == "excluded" and np.isnan(q["rps"]) and q["publish_version"] == "v1"
    assert "not in batch v2" in q["reason"] and "last predicted by v1" in q["reason"]
    assert track.set_index("match_id").loc["R", "status"] == "scored"
    # The figures count scored matches only.
    summary = model.summarise(track, resamples=200)
    assert summary.set_index(["league", "span"]).loc[("all", "season"), "n"] == 1


def test_the_market_falls_back_to_the_results_file_for_batches_that_did_not_record_it():
    old = batch("v0", "2026-11-26 10:00", [("A1", "2026-11-28 15:00", (0.5, 0.3, 0.2))])
    old[["market_open_p_home", "market_open_p_draw", "market_open_p_away", "market_open_available"]] = np.nan
    none = batch("v1", "2026-11-28 16:00", [("A2", "2026-11-28 20:00", (0.5, 0.3, 0.2))])
    none[["market_open_p_home", "market_open_p_draw", "market_open_p_away"]] = np.nan
    none["market_open_available"] = 0.0
    track = model.score(
        pd.concat([old, none]), played([("A1", "2026-11-28 15:00", "D"), ("A2", "2026-11-28 20:00", "D")])
    )
    assert track["market_source"].tolist() == ["results", "none"]
    assert track["market_rps"].iloc[0] == pytest.approx(hand_rps((0.45, 0.3, 0.25), "D"))
    assert np.isnan(track["market_rps"].iloc[1])


def test_ece_of_many_outcome_draws_is_the_calibration_error_of_each():
    rng = np.random.default_rng(3)
    probs = rng.dirichlet([4, 3, 3], size=300)
    outcomes = rng.integers(0, 3, size=(5, 300))
    many = model.ece_many(probs, outcomes)
    assert many == pytest.approx([metrics.calibration_error(probs, o) for o in outcomes], abs=1e-12)


def synthetic_track(n: int, model_probs, seed: int = 0) -> pd.DataFrame:
    """n scored matches: outcomes drawn from a sharp market, the model's forecasts given."""
    rng = np.random.default_rng(seed)
    home = rng.uniform(0.15, 0.75, n)
    draw = np.minimum(0.28, 1 - home - 0.05)
    market = np.column_stack([home, draw, 1 - home - draw])
    outcomes = (rng.random(n)[:, None] > np.cumsum(market, axis=1)[:, :2]).sum(axis=1)
    forecasts = model_probs(market)
    frame = pd.DataFrame(
        {
            "match_id": [f"m{i}" for i in range(n)],
            "league": "SIM1",
            "season": 2026,
            "kickoff": pd.date_range("2026-08-01", periods=n, freq="6h", tz="UTC"),
            "status": "scored",
            "result": np.array(["H", "D", "A"])[outcomes],
        }
    )
    for prefix, probs in (("", forecasts), ("market_", market)):
        for column, values in zip(shape.prob_columns(prefix), probs.T, strict=True):
            frame[column] = values
        frame[f"{prefix}rps"] = metrics.rps_per_match(probs, outcomes)
    frame["log_loss"] = metrics.log_loss_per_match(forecasts, outcomes)
    frame["brier"] = metrics.brier_per_match(forecasts, outcomes)
    frame["close_rps"] = frame["elo_rps"] = np.nan
    return frame


def test_the_checks_flag_a_model_worse_than_the_market_and_a_broken_calibration():
    def flat(market):  # calibrated on average, but knows nothing of the match
        return np.tile(market.mean(axis=0), (len(market), 1))

    def overconfident(market):  # says home 85% whatever the match
        return np.tile([0.85, 0.1, 0.05], (len(market), 1))

    good = model.summarise(synthetic_track(240, lambda m: m))
    assert model.market_check(good).passed and model.calibration_check(good).passed
    worse = model.summarise(synthetic_track(240, flat))
    market = model.market_check(worse)
    assert not market.passed and "all: model minus market RPS +" in market.description
    assert model.calibration_check(worse).passed
    broken = model.calibration_check(model.summarise(synthetic_track(240, overconfident)))
    assert not broken.passed and broken.judged == ["all", "SIM1"]
    # Fewer matches than the checks judge: nothing to say yet, and no false alarm.
    early = model.summarise(synthetic_track(60, overconfident))
    assert (
        model.calibration_check(early).passed
        and "not judged yet" in model.calibration_check(early).description
    )


def test_rolling_windows_and_season_to_date():
    track = synthetic_track(260, lambda m: m)
    track.loc[:99, "season"] = 2025
    summary = model.summarise(track, resamples=200).set_index(["league", "span"])
    assert summary.loc[("all", "last_50"), "n"] == 50 and summary.loc[("all", "last_200"), "n"] == 200
    assert summary.loc[("all", "season"), "n"] == 160
    last = track.tail(50)
    assert summary.loc[("all", "last_50"), "rps"] == pytest.approx(last["rps"].mean())
    assert summary.loc[("all", "last_50"), "diff_vs_market_rps"] == pytest.approx(
        (last["rps"] - last["market_rps"]).mean()
    )
    assert summary.loc[("all", "last_50"), "calibration_error"] == pytest.approx(
        metrics.calibration_error(
            last[shape.prob_columns()].to_numpy(), metrics.encode_results(last["result"])
        )
    )
    assert np.isnan(summary.loc[("all", "last_50"), "calibration_limit"])  # judged on last_200 only
    assert (
        summary.loc[("all", "last_200"), "calibration_limit"]
        > summary.loc[("all", "last_200"), "calibration_error"]
    )
