"""The simulator source: canonical partitions, calendar, promotion/relegation, market, history."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, time

import numpy as np
import pandas as pd
import pytest

from footcast.data import schema
from footcast.data.simulator.leagues import FIRST_SEASON, SIMULATED_LEAGUES, simulated_league
from footcast.data.simulator.odds import SIMULATED_BOOKS
from footcast.data.simulator.partitions import HISTORY_LAST_SEASON, simulate_history, simulate_partition

KICKOFF_TIMES = {"12:30", "15:00", "17:30", "19:45", "20:00"}


def _assert_canonical_dtypes(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """Dtypes of schema.conform; kickoff as documented in schema (datetime64[ns, UTC]).

    (schema.empty_frame infers a seconds unit for the empty kickoff column, so it is compared
    separately.)"""
    expected = schema.empty_frame(columns).dtypes
    assert str(frame["kickoff"].dtype) == "datetime64[ns, UTC]"
    others = [c for c in columns if c != "kickoff"]
    assert frame[others].dtypes.equals(expected[others])


def _season(league: str, season: int, seed: int = 0) -> pd.DataFrame:
    played, upcoming = simulate_partition(league, season, seed=seed)
    assert upcoming.empty
    return played


def _points_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Points, goal difference and goals scored per team, computed here from the rows."""
    home = pd.DataFrame(
        {
            "team": frame["home_team"],
            "points": np.select([frame["fthg"] > frame["ftag"], frame["fthg"] == frame["ftag"]], [3, 1], 0),
            "gd": frame["fthg"] - frame["ftag"],
            "gf": frame["fthg"],
        }
    )
    away = pd.DataFrame(
        {
            "team": frame["away_team"],
            "points": np.select([frame["ftag"] > frame["fthg"], frame["fthg"] == frame["ftag"]], [3, 1], 0),
            "gd": frame["ftag"] - frame["fthg"],
            "gf": frame["ftag"],
        }
    )
    table = pd.concat([home, away]).astype({"points": int, "gd": int, "gf": int}).groupby("team").sum()
    return table


def _key(row: pd.Series) -> tuple[int, int, int]:
    return (int(row["points"]), int(row["gd"]), int(row["gf"]))


def _probabilities(frame: pd.DataFrame, book: str, timing: str) -> np.ndarray:
    odds = frame[[f"odds_{book}_{timing}_{o}" for o in schema.OUTCOMES]].to_numpy(dtype=float)
    implied = 1.0 / odds
    return implied / implied.sum(axis=1, keepdims=True)


def _outcomes(frame: pd.DataFrame) -> np.ndarray:
    return np.stack([(frame["ftr"] == r).to_numpy() for r in ("H", "D", "A")], axis=1).astype(float)


def _rps(probs: np.ndarray, outcomes: np.ndarray) -> float:
    cum_p, cum_o = np.cumsum(probs, axis=1)[:, :2], np.cumsum(outcomes, axis=1)[:, :2]
    return float(((cum_p - cum_o) ** 2).sum(axis=1).mean() / 2)


def _log_loss(probs: np.ndarray, outcomes: np.ndarray) -> float:
    return float(-np.log((probs * outcomes).sum(axis=1)).mean())


@pytest.fixture(scope="module")
def decade() -> pd.DataFrame:
    """Ten played seasons of both leagues of the first country."""
    return pd.concat(
        [_season(league, season) for league in ("SIM1", "SIM2") for season in range(2010, 2020)],
        ignore_index=True,
    )


def test_league_registry():
    first, second = SIMULATED_LEAGUES["SIM1"], SIMULATED_LEAGUES["SIM2"]
    assert (first.tier, second.tier) == (1, 2)
    assert first.country == second.country
    assert first.n_teams == second.n_teams == 20
    assert first.partner == "SIM2" and second.partner == "SIM1"
    assert FIRST_SEASON == 1993
    extra = simulated_league("SIM7")
    assert (extra.tier, extra.partner) == (1, "SIM8")
    assert extra.country != first.country
    for bad in ("E0", "SIM0", "SIM", "SIM01", "sim1"):
        with pytest.raises(ValueError):
            simulate_partition(bad, 2020)


def test_invalid_season_and_seed():
    with pytest.raises(ValueError, match="1993"):
        simulate_partition("SIM1", 1992)
    with pytest.raises(ValueError, match="seed"):
        simulate_partition("SIM1", 2020, seed=-1)
    with pytest.raises(ValueError):
        simulate_history(-5)


def test_deterministic_within_and_across_processes():
    as_of = datetime(2024, 12, 1, tzinfo=UTC)
    first = simulate_partition("SIM2", 2024, as_of=as_of, seed=7)
    again = simulate_partition("SIM2", 2024, as_of=as_of, seed=7)
    for a, b in zip(first, again, strict=True):
        pd.testing.assert_frame_equal(a, b)

    # A fresh interpreter that simulates nothing else first gets the very same partition
    # (no dependence on caches, on the order partitions are built in, or on hash seeds).
    code = (
        "from datetime import datetime, UTC\n"
        "from footcast.data.simulator.partitions import simulate_partition\n"
        "p, u = simulate_partition('SIM2', 2024, as_of=datetime(2024, 12, 1, tzinfo=UTC), seed=7)\n"
        "print(p['content_hash'].iloc[0], u['content_hash'].iloc[0],\n"
        "      p['fthg'].sum(), p['odds_ps_close_h'].sum())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    played, upcoming = first
    assert out == [
        played["content_hash"].iloc[0],
        upcoming["content_hash"].iloc[0],
        str(played["fthg"].sum()),
        str(played["odds_ps_close_h"].sum()),
    ]

    other_seed, _ = simulate_partition("SIM2", 2024, as_of=as_of, seed=8)
    assert not other_seed["fthg"].equals(played["fthg"]) or not other_seed["home_team"].equals(
        played["home_team"]
    )


def test_partition_shape_and_canonical_form():
    frame = _season("SIM1", 2024)
    assert list(frame.columns) == list(schema.MATCH_COLUMNS)
    _assert_canonical_dtypes(frame, schema.MATCH_COLUMNS)
    n_teams = SIMULATED_LEAGUES["SIM1"].n_teams
    assert len(frame) == n_teams * (n_teams - 1)
    assert frame["home_team"].nunique() == frame["away_team"].nunique() == n_teams
    assert (frame["home_team"].value_counts() == n_teams - 1).all()
    assert (frame["away_team"].value_counts() == n_teams - 1).all()
    pairs = frame[["home_team", "away_team"]].apply(tuple, axis=1)
    assert pairs.is_unique and (frame["home_team"] != frame["away_team"]).all()

    assert (frame["league"] == "SIM1").all() and (frame["season"] == 2024).all()
    expected_ids = [
        schema.make_match_id("SIM1", 2024, h, a)
        for h, a in zip(frame["home_team"], frame["away_team"], strict=True)
    ]
    assert frame["match_id"].tolist() == expected_ids
    assert frame["match_id"].is_unique
    ordered = frame.sort_values(["kickoff", "match_id"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, ordered)

    assert (frame["source"] == "simulator").all()
    assert (frame["source_url"] == "simulator://SIM1/2024-25").all()
    assert frame["source_line"].tolist() == list(range(1, len(frame) + 1))
    assert frame["content_hash"].nunique() == 1 and len(frame["content_hash"].iloc[0]) == 64
    assert frame["kickoff_time_known"].all()
    # Other books of the canonical schema are not quoted by the simulator.
    assert frame["odds_wh_close_h"].isna().all()
    for book in SIMULATED_BOOKS:
        assert frame[[c for c in schema.ODDS_COLUMNS if c.startswith(f"odds_{book}_")]].notna().all().all()
    # A different season has a different digest and source_url.
    other = _season("SIM1", 2023)
    assert other["content_hash"].iloc[0] != frame["content_hash"].iloc[0]


def test_as_of_splits_the_season():
    full = _season("SIM1", 2025)
    as_of = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    played, upcoming = simulate_partition("SIM1", 2025, as_of=as_of)

    assert list(played.columns) == list(schema.MATCH_COLUMNS)
    assert list(upcoming.columns) == list(schema.FIXTURE_COLUMNS)
    _assert_canonical_dtypes(upcoming, schema.FIXTURE_COLUMNS)
    assert 0 < len(played) < len(full) and len(played) + len(upcoming) == len(full)
    assert set(played["match_id"]).isdisjoint(upcoming["match_id"])
    assert set(played["match_id"]) | set(upcoming["match_id"]) == set(full["match_id"])
    cutoff = pd.Timestamp(as_of)
    assert (played["kickoff"] < cutoff).all() and (upcoming["kickoff"] >= cutoff).all()

    # The same match keeps its id, teams, kickoff, result and opening odds whatever as_of is.
    by_id = full.set_index("match_id")
    shared = ["kickoff", "home_team", "away_team", "fthg", "ftag", "odds_b365_open_h", "odds_ps_close_a"]
    pd.testing.assert_frame_equal(played.set_index("match_id")[shared], by_id.loc[played["match_id"], shared])
    opening = [c for c in schema.ODDS_COLUMNS if "_open_" in c]
    pd.testing.assert_frame_equal(
        upcoming.set_index("match_id")[["kickoff", "home_team", *opening]],
        by_id.loc[upcoming["match_id"], ["kickoff", "home_team", *opening]],
    )
    closing = [c for c in schema.ODDS_COLUMNS if "_close_" in c]
    assert upcoming[closing].isna().all().all()
    assert upcoming[[f"odds_b365_open_{o}" for o in schema.OUTCOMES]].notna().all().all()
    assert upcoming["source_line"].tolist() == list(range(1, len(upcoming) + 1))
    assert (upcoming["source_url"] == "simulator://SIM1/2025-26").all()

    # A naive as_of is UTC; before the season nothing is played, after it everything is.
    naive_played, _ = simulate_partition("SIM1", 2025, as_of=as_of.replace(tzinfo=None))
    pd.testing.assert_frame_equal(naive_played, played)
    before, all_upcoming = simulate_partition("SIM1", 2025, as_of=datetime(2025, 7, 1, tzinfo=UTC))
    assert before.empty and len(all_upcoming) == len(full)
    _assert_canonical_dtypes(before, schema.MATCH_COLUMNS)
    after, none_left = simulate_partition("SIM1", 2025, as_of=datetime(2026, 7, 1, tzinfo=UTC))
    assert none_left.empty
    pd.testing.assert_frame_equal(after, full)


def test_statistically_plausible(decade: pd.DataFrame):
    results = decade["ftr"].value_counts(normalize=True)
    assert 0.41 <= results["H"] <= 0.50
    assert 0.22 <= results["D"] <= 0.30
    goals = (decade["fthg"] + decade["ftag"]).mean()
    assert 2.4 <= goals <= 3.0
    assert decade["fthg"].mean() > decade["ftag"].mean()
    assert 0.35 <= decade["hthg"].sum() / decade["fthg"].sum() <= 0.55

    assert 11 <= decade["home_shots"].mean() <= 17 and 9 <= decade["away_shots"].mean() <= 15
    assert 3.5 <= decade["home_shots_on_target"].mean() <= 7
    assert 4 <= decade["home_corners"].mean() <= 7
    assert 8 <= decade["home_fouls"].mean() <= 13
    assert 1 <= decade["away_yellow"].mean() <= 2.5 and decade["away_red"].mean() < 0.2
    # Statistics follow strength: the side the market favours shoots more and scores more.
    favourite = _probabilities(decade, "ps", "close")
    edge = favourite[:, 0] - favourite[:, 2]
    assert np.corrcoef(edge, decade["home_shots"] - decade["away_shots"])[0, 1] > 0.3
    assert np.corrcoef(edge, decade["fthg"] - decade["ftag"])[0, 1] > 0.3

    # Seasons have a realistic spread of points.
    for _partition, rows in decade.groupby(["league", "season"]):
        points = _points_table(rows)["points"].sort_values(ascending=False).to_numpy()
        assert 60 <= points[0] <= 110 and points[-1] <= 45


def test_market_is_informative_and_closing_beats_opening(decade: pd.DataFrame):
    outcomes = _outcomes(decade)
    base = np.tile(outcomes.mean(axis=0), (len(outcomes), 1))
    for book in ("b365", "ps", "avg", "max"):
        opening = _probabilities(decade, book, "open")
        closing = _probabilities(decade, book, "close")
        assert _rps(closing, outcomes) < _rps(opening, outcomes) < _rps(base, outcomes) - 0.01
        assert _log_loss(closing, outcomes) < _log_loss(opening, outcomes)

    def overround(book: str, timing: str) -> np.ndarray:
        return (1.0 / decade[[f"odds_{book}_{timing}_{o}" for o in schema.OUTCOMES]].to_numpy(float)).sum(
            axis=1
        )

    for timing in schema.ODDS_TIMINGS:
        assert 1.03 <= np.median(overround("b365", timing)) <= 1.08
        assert 1.015 <= np.median(overround("ps", timing)) <= 1.035
        assert 1.03 <= np.median(overround("avg", timing)) <= 1.08
        best = overround("max", timing)
        assert -0.015 <= np.median(best) - 1 <= 0.015 and np.percentile(best, 99) < 1.03


def test_promotion_and_relegation_follow_the_table():
    seasons = range(2005, 2013)
    tables = {
        (lg, s): _points_table(_season(lg, s)) for lg in ("SIM1", "SIM2") for s in [*seasons, seasons[-1] + 1]
    }
    country = set(tables["SIM1", 2005].index) | set(tables["SIM2", 2005].index)
    assert len(country) == 40
    moved = 0
    for season in seasons:
        top, second = tables["SIM1", season], tables["SIM2", season]
        next_top, next_second = tables["SIM1", season + 1], tables["SIM2", season + 1]
        assert set(next_top.index) | set(next_second.index) == country
        relegated = set(top.index) - set(next_top.index)
        promoted = set(second.index) & set(next_top.index)
        assert len(relegated) == len(promoted) == 3
        assert relegated <= set(next_second.index)
        moved += len(relegated)
        survivors = top.drop(index=list(relegated))
        for team in relegated:
            assert all(_key(top.loc[team]) <= _key(row) for _name, row in survivors.iterrows())
        stayed_down = second.drop(index=list(promoted))
        for team in promoted:
            assert all(_key(second.loc[team]) >= _key(row) for _name, row in stayed_down.iterrows())
    assert moved == 3 * len(seasons)


def test_team_names_unique_across_leagues():
    names = {league: set(_season(league, 2020)["home_team"]) for league in ("SIM1", "SIM2", "SIM3", "SIM4")}
    everything = set().union(*names.values())
    assert len(everything) == 80
    assert all(name.strip() == name and " " in name for name in everything)


@pytest.mark.parametrize("league", ["SIM1", "SIM2", "SIM3"])
def test_constraints_hold(league: str):
    for season in (1993, 2019, 2020, 2024, 2026):
        frame = _season(league, season, seed=3)
        for column in ("fthg", "ftag", "hthg", "htag"):
            assert frame[column].between(0, 15).all()
        assert (frame["hthg"] <= frame["fthg"]).all() and (frame["htag"] <= frame["ftag"]).all()
        for goals, result in ((("fthg", "ftag"), "ftr"), (("hthg", "htag"), "htr")):
            home, away = frame[goals[0]], frame[goals[1]]
            expected = np.where(home > away, "H", np.where(home == away, "D", "A"))
            assert (frame[result].to_numpy() == expected).all()
        for side in ("home", "away"):
            goals = frame["fthg" if side == "home" else "ftag"]
            assert (frame[f"{side}_shots"] >= frame[f"{side}_shots_on_target"]).all()
            assert (frame[f"{side}_shots_on_target"] >= goals).all()
            for stat in ("corners", "fouls", "yellow", "red"):
                assert (frame[f"{side}_{stat}"] >= 0).all()

        quoted = [c for c in schema.ODDS_COLUMNS if c.split("_")[1] in SIMULATED_BOOKS]
        assert (frame[quoted] > 1.01).all().all()
        for timing in schema.ODDS_TIMINGS:
            for outcome in schema.OUTCOMES:
                best = frame[f"odds_max_{timing}_{outcome}"]
                for book in ("b365", "ps", "avg"):
                    assert (best >= frame[f"odds_{book}_{timing}_{outcome}"]).all()

        start, end = schema.season_window(season)
        assert ((frame["kickoff"] >= start) & (frame["kickoff"] < end)).all()
        local = frame["kickoff"].dt.tz_convert(schema.UK)
        assert set(local.dt.strftime("%H:%M")) <= KICKOFF_TIMES
        assert local.min().month == 8 and local.max().month == 5
        assert local.dt.weekday.isin([5, 6]).mean() > 0.7  # mostly weekends
        assert local.dt.weekday.isin([1, 2]).sum() >= 2 * 10  # some midweek rounds
        days = pd.concat(
            [
                pd.DataFrame({"team": frame["home_team"], "day": local.dt.date}),
                pd.DataFrame({"team": frame["away_team"], "day": local.dt.date}),
            ]
        )
        assert not days.duplicated().any()
        # Converted with the UK clock: a 15:00 kickoff is 14:00 UTC in summer time, 15:00 in winter.
        row = frame.iloc[0]
        local_row = row["kickoff"].tz_convert(schema.UK)
        expected, known = schema.uk_kickoff_to_utc(local_row.date(), time(local_row.hour, local_row.minute))
        assert row["kickoff"] == expected and known


def test_simulate_history_size_and_uniqueness():
    n = 30_000
    history = simulate_history(n, seed=5)
    assert abs(len(history) - n) <= 190  # whole league-seasons of 380 matches
    assert list(history.columns) == list(schema.MATCH_COLUMNS)
    _assert_canonical_dtypes(history, schema.MATCH_COLUMNS)
    assert history["match_id"].is_unique
    # 79 league-seasons, at most 64 (two tiers x 32 seasons) per country: two countries.
    assert set(history["league"]) == {"SIM1", "SIM2", "SIM3", "SIM4"}
    assert history["season"].max() == HISTORY_LAST_SEASON
    assert history["kickoff"].is_monotonic_increasing
    ordered = history.sort_values(["kickoff", "match_id"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(history, ordered)
    per_partition = history.groupby(["league", "season"]).size()
    assert (per_partition == 380).all()

    # The rows of a league-season are exactly what simulate_partition gives (lineage included).
    partition = _season("SIM3", 2020, seed=5)
    rows = history[(history["league"] == "SIM3") & (history["season"] == 2020)].reset_index(drop=True)
    pd.testing.assert_frame_equal(rows, partition)

    small = simulate_history(1_000)
    assert abs(len(small) - 1_000) <= 190 and small["match_id"].is_unique
    empty = simulate_history(0)
    assert empty.empty
    _assert_canonical_dtypes(empty, schema.MATCH_COLUMNS)
