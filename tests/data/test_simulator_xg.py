"""The simulator's xG feed: Understat's frame for the SIM leagues, its xG tied to the simulated
goals, its naming quirks, and what a season in progress looks like."""

from __future__ import annotations

import numpy as np
import pandas as pd

from footcast.data import understat
from footcast.data.simulator.partitions import simulate_partition
from footcast.data.simulator.xg import simulate_understat_partition, understat_name

MID_SEASON = pd.Timestamp("2025-12-01", tz="UTC")


def test_a_played_season_has_xg_correlated_with_its_goals_and_never_negative():
    frame = simulate_understat_partition("SIM1", 2024)
    assert list(frame.columns) == list(understat.UNDERSTAT_COLUMNS)
    assert frame.dtypes.to_dict() == understat.empty_frame().dtypes.to_dict()
    assert len(frame) == 380 and frame["is_result"].all() and frame["understat_id"].is_unique
    xg = np.concatenate([frame["home_xg"], frame["away_xg"]]).astype(float)
    goals = np.concatenate([frame["home_goals"], frame["away_goals"]]).astype(float)
    assert np.corrcoef(xg, goals)[0, 1] > 0.5
    assert (xg > 0).all() and (xg < 10).all()
    assert np.array_equal(np.round(xg, 2), xg)  # two decimals
    # About as many expected goals as goals over a season (xG measures chances, not luck).
    assert abs(xg.mean() - goals.mean()) < 0.15
    # The same matches, with the same goals, as the simulator's results.
    played, _upcoming = simulate_partition("SIM1", 2024)
    results = played.set_index("kickoff")[["fthg", "ftag"]].sort_index()
    listed = frame.set_index("kickoff")[["home_goals", "away_goals"]].sort_index()
    assert (results.to_numpy() == listed.to_numpy().astype(int)).all()


def _halves(frame: pd.DataFrame) -> pd.DataFrame:
    """Per team: mean xG and goal difference per match in the season's first and second half."""
    first = frame["kickoff"] < frame["kickoff"].iloc[len(frame) // 2]
    sides = [
        pd.DataFrame(
            {
                "team": team,
                "first": first,
                "xgd": sign * (frame["home_xg"] - frame["away_xg"]).astype(float),
                "gd": sign * (frame["home_goals"] - frame["away_goals"]).astype(float),
            }
        )
        for team, sign in ((frame["home_team"], 1), (frame["away_team"], -1))
    ]
    return pd.concat(sides).groupby(["team", "first"])[["xgd", "gd"]].mean().unstack("first")


def test_the_xg_carries_team_strength_beyond_the_goals():
    """Over ten seasons, a team's xG difference in the first half of a season predicts its goal
    difference in the second half better than its goal difference does (what makes xG worth a
    feature)."""
    by_xg, by_goals = [], []
    for season in range(2015, 2025):
        halves = _halves(simulate_understat_partition("SIM1", season))
        later = halves[("gd", False)]
        by_xg.append(np.corrcoef(halves[("xgd", True)], later)[0, 1])
        by_goals.append(np.corrcoef(halves[("gd", True)], later)[0, 1])
    assert np.mean(by_xg) > 0.6 and np.mean(by_xg) > np.mean(by_goals) + 0.02


def test_a_season_in_progress_lists_its_unplayed_matches_with_null_goals_and_xg():
    frame = simulate_understat_partition("SIM2", 2025, as_of=MID_SEASON)
    full = simulate_understat_partition("SIM2", 2025)
    assert len(frame) == len(full) == 380  # Understat lists the season's every match
    played, upcoming = frame[frame["is_result"]], frame[~frame["is_result"]]
    assert 0 < len(played) < 380
    assert (played["kickoff"] < MID_SEASON).all() and (upcoming["kickoff"] >= MID_SEASON).all()
    for column in (*understat.GOAL_COLUMNS, *understat.XG_COLUMNS):
        assert upcoming[column].isna().all() and played[column].notna().all()
    # A played match has the same xG whenever the feed is read.
    columns = ["understat_id", "home_xg", "away_xg", "home_team", "away_team"]
    pd.testing.assert_frame_equal(played[columns], full.loc[played.index, columns])
    # A new result changes the content hash (the raw layer's lineage).
    later = simulate_understat_partition("SIM2", 2025, as_of=MID_SEASON + pd.Timedelta(days=14))
    assert later["content_hash"].iloc[0] != frame["content_hash"].iloc[0]


def test_some_teams_are_named_as_understat_spells_them_not_as_in_the_results():
    frame = simulate_understat_partition("SIM1", 2024)
    played, _upcoming = simulate_partition("SIM1", 2024)
    results_names = set(played["home_team"])
    feed_names = set(frame["home_team"])
    renamed = feed_names - results_names
    assert 3 <= len(renamed) <= 12 and len(feed_names) == 20
    assert {understat_name(team) for team in results_names} == feed_names
    # Long forms of the results' names, as Understat's "Manchester United" is "Man United".
    assert all(name.endswith((" FC", " Football Club")) or name.startswith("AFC ") for name in renamed)
    # One id per team, the same whatever the spelling.
    ids = frame.groupby("home_team")["home_team_understat_id"].nunique()
    assert (ids == 1).all() and frame["home_team_understat_id"].nunique() == 20
