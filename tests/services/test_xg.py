"""xG by football-data match: what the features read, through the stored match links."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from footcast.adapters.warehouse import understat_matches
from footcast.services import linking
from footcast.services.xg import linked_xg
from tests.support import league_season_pair, store_league_season

E0_TEAMS = ["Man United", "Wolves", "Arsenal", "Tottenham", "Leeds", "Fulham"]


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch):
    monkeypatch.setenv("FOOTCAST_NOW", "2026-11-29T12:00:00+00:00")


def test_linked_played_matches_give_their_xg_by_football_data_match_id(warehouse):
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS, {"Man United": "Manchester United"})
    xg["home_xg"] = np.round(np.linspace(0.1, 3.0, len(xg)), 2)
    xg["away_xg"] = np.round(np.linspace(2.0, 0.2, len(xg)), 2)
    # Understat's row 3 lacks xG (a gap in the source), row 4 is not played yet, and row 5's
    # score disagrees with football-data's (an awarded match): none of them gives xG.
    xg.loc[3, ["home_xg", "away_xg"]] = None
    xg.loc[4, "is_result"] = False
    xg.loc[4, ["home_goals", "away_goals", "home_xg", "away_xg"]] = None
    xg.loc[5, "home_goals"] = int(xg.loc[5, "home_goals"]) + 3
    store_league_season(warehouse, fd, xg)
    assert linked_xg(warehouse).empty  # nothing linked yet: no xG, not an error

    linking.link_partition(warehouse, "E0", 2023)
    got = linked_xg(warehouse).set_index("match_id").sort_index()
    expected = (
        fd.assign(home_xg=xg["home_xg"], away_xg=xg["away_xg"])
        .drop(index=[3, 4, 5])
        .set_index("match_id")[["home_xg", "away_xg"]]
        .astype(float)
        .sort_index()
    )
    pd.testing.assert_frame_equal(got, expected, check_names=False, check_index_type=False)
    # the home side's xG is the football-data home team's: row 0 as stored
    assert got.loc[fd.loc[0, "match_id"], "home_xg"] == pytest.approx(0.1)
    stored = warehouse.read(understat_matches)
    assert "post_match_forecast_home" in stored.columns  # stored, but never read as xG
