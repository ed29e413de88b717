"""The xG features (footcast.models.features.xg) on small hand-made histories: their values by
hand, missing (never zero) without xG, a match's own xG never in its own features, input checks.
The property-based leakage and train/serve tests of tests/models/test_features.py cover them too.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from footcast.data import schema
from footcast.models import ratings as R
from footcast.models.features import columns as F
from footcast.models.features import xg as X
from footcast.models.features.builder import build_features


def history(rows: list[tuple]) -> pd.DataFrame:
    """Canonical played rows from (league, season, 'YYYY-MM-DD HH:MM', home, away, fthg, ftag)."""
    records = [
        {
            "match_id": schema.make_match_id(league, season, home, away),
            "league": league,
            "season": season,
            "kickoff": pd.Timestamp(when, tz="UTC"),
            "kickoff_time_known": True,
            "home_team": home,
            "away_team": away,
            "fthg": fthg,
            "ftag": ftag,
            "ftr": "H" if fthg > ftag else ("D" if fthg == ftag else "A"),
        }
        for league, season, when, home, away, fthg, ftag in rows
    ]
    return schema.conform(pd.DataFrame(records), schema.MATCH_COLUMNS)


def xg_of(matches: pd.DataFrame, values: list[tuple[float, float] | None]) -> pd.DataFrame:
    """The ``xg`` input: one row per match with values (None: the source has no xG for it)."""
    rows = [
        {"match_id": match_id, "home_xg": pair[0], "away_xg": pair[1]}
        for match_id, pair in zip(matches["match_id"], values, strict=True)
        if pair is not None
    ]
    return pd.DataFrame(rows, columns=list(X.XG_INPUT_COLUMNS))


ROWS = [
    ("E0", 2014, "2014-08-16 14:00", "A", "B", 2, 0),
    ("E0", 2014, "2014-08-23 14:00", "C", "A", 1, 1),
    ("E0", 2014, "2014-08-30 14:00", "A", "C", 3, 1),
]


def test_values_by_hand():
    matches = history(ROWS)
    out = build_features(matches, xg=xg_of(matches, [(2.0, 0.5), (1.0, 1.5), (2.5, 0.25)]))
    first, second, third = (out.iloc[i] for i in range(3))
    # Nobody has xG before the first match; C has none before the second.
    assert first[list(F.XG_COLUMNS)].isna().all()
    assert math.isnan(second["home_xg_for"]) and math.isnan(second["xg_rating_home_goals"])
    assert (second["away_xg_for"], second["away_xg_against"]) == (2.0, 0.5)
    assert math.isnan(second["away_away_xg_for"])  # A has played at home only
    # A at the third match: exponentially weighted over its two matches (latest weight 1).
    keep = 1.0 - X.XG_FORM_EW_ALPHA
    assert third["home_xg_for"] == pytest.approx((keep * 2.0 + 1.5) / (keep + 1.0))
    assert third["home_xg_against"] == pytest.approx((keep * 0.5 + 1.0) / (keep + 1.0))
    assert third["home_home_xg_for"] == 2.0 and third["home_home_xg_against"] == 0.5
    assert (third["away_xg_for"], third["away_xg_against"]) == (1.0, 1.5)
    assert math.isnan(third["away_away_xg_for"])

    # The xG rating, replayed: league means with the goals model's prior, targets 0.7 xG + 0.3 goals.
    w, mu_h, mu_a = R.LEAGUE_PRIOR_WEIGHT, R.LEAGUE_PRIOR_HOME_GOALS, R.LEAGUE_PRIOR_AWAY_GOALS
    den, sum_h, sum_a = w, mu_h * w, mu_a * w
    att = dict.fromkeys("ABC", 0.0)
    dfn = dict.fromkeys("ABC", 0.0)
    share, eta, league_keep = X.XG_RATING_XG_SHARE, X.XG_RATING_LEARNING_RATE, 1.0 - X.XG_LEAGUE_EW_ALPHA
    for (_, _, _, home, away, gh, ga), (xh, xa) in zip(ROWS[:2], [(2.0, 0.5), (1.0, 1.5)], strict=True):
        lam_h = sum_h / den * math.exp(att[home] - dfn[away])
        lam_a = sum_a / den * math.exp(att[away] - dfn[home])
        err_h = eta * (share * xh + (1 - share) * gh - lam_h)
        err_a = eta * (share * xa + (1 - share) * ga - lam_a)
        att[home], dfn[away], att[away], dfn[home] = (
            att[home] + err_h,
            dfn[away] - err_h,
            att[away] + err_a,
            dfn[home] - err_a,
        )
        den, sum_h, sum_a = den * league_keep + 1.0, sum_h * league_keep + xh, sum_a * league_keep + xa
    expected_home = sum_h / den * math.exp(att["A"] - dfn["C"])
    expected_away = sum_a / den * math.exp(att["C"] - dfn["A"])
    assert third["xg_rating_home_goals"] == pytest.approx(expected_home, rel=1e-12)
    assert third["xg_rating_away_goals"] == pytest.approx(expected_away, rel=1e-12)
    probs = R.poisson_outcome_probabilities(np.array([expected_home]), np.array([expected_away]))[0]
    np.testing.assert_allclose(third[list(F.XG_RATING_COLUMNS)].to_numpy(dtype=float), probs, rtol=1e-12)


def test_a_matchs_own_xg_never_reaches_its_features():
    matches = history(ROWS)
    base = build_features(matches, xg=xg_of(matches, [(2.0, 0.5), (1.0, 1.5), (2.5, 0.25)]))
    for changed in ([(2.0, 0.5), (3.0, 0.1), (2.5, 0.25)], [(2.0, 0.5), None, (2.5, 0.25)]):
        other = build_features(matches, xg=xg_of(matches, changed))
        # the second match's own row is unchanged, bit for bit; the next one of its teams is not
        pd.testing.assert_frame_equal(base.iloc[:2], other.iloc[:2], check_exact=True)
        assert not base.iloc[2][list(F.XG_COLUMNS)].equals(other.iloc[2][list(F.XG_COLUMNS)])


def test_without_xg_the_features_are_missing_never_zero():
    matches = history(ROWS + [("E1", 2014, "2014-08-30 14:00", "D", "E", 1, 0)])
    for xg in (None, xg_of(matches, [None] * 4), pd.DataFrame(columns=list(X.XG_INPUT_COLUMNS))):
        assert build_features(matches, xg=xg)[list(F.XG_COLUMNS)].isna().all().all()
    # A league the source does not cover: its rows have none, whatever the other league has.
    out = build_features(matches, xg=xg_of(matches, [(2.0, 0.5), (1.0, 1.5), (2.5, 0.25), None]))
    assert out.loc[out["league"] == "E1", list(F.XG_COLUMNS)].isna().all().all()
    assert out.loc[out["league"] == "E0", "home_xg_for"].notna().any()


def test_a_gap_in_the_source_makes_the_rolling_means_missing_and_the_rating_learns_the_goals():
    rows = ROWS + [
        ("E0", 2014, "2014-09-06 14:00", "B", "A", 0, 5),  # no xG for this one
        ("E0", 2015, "2015-08-15 14:00", "A", "B", 1, 1),
        ("E0", 2015, "2015-08-22 14:00", "C", "A", 1, 1),
    ]
    matches = history(rows)
    values = [(2.0, 0.5), (1.0, 1.5), (2.5, 0.25), None, (1.2, 1.1), (0.9, 1.4)]
    out = build_features(matches, xg=xg_of(matches, values))
    # B's and A's latest match (the fourth) has no xG: the fifth match has no rolling xG means,
    # but the rating, which learnt the gap's goals, still rates both teams...
    rolling = [c for c in F.XG_COLUMNS if not c.startswith("xg_rating_")]
    assert out.iloc[4][rolling].isna().all()
    assert out.iloc[4][["xg_rating_home_goals", *F.XG_RATING_COLUMNS]].notna().all()
    # ...the fourth itself has them (from before it), and they return once A has xG again.
    assert out.iloc[3][["away_xg_for", "home_xg_for"]].notna().all()
    assert out.iloc[5][["away_xg_for", "xg_rating_away_goals"]].notna().all()
    # The gap match taught the rating its goals: A's 5-0 away win counts for A afterwards.
    lost = history(rows[:3] + [("E0", 2014, "2014-09-06 14:00", "B", "A", 5, 0)] + rows[4:])
    out_lost = build_features(lost, xg=xg_of(lost, values))
    assert out.iloc[5]["xg_rating_away_goals"] > out_lost.iloc[5]["xg_rating_away_goals"]
    # The rolling means learn from xG only: the same in both.
    assert out.iloc[5]["away_xg_for"] == out_lost.iloc[5]["away_xg_for"]


def test_xg_input_checks():
    matches = history(ROWS)
    xg = xg_of(matches, [(2.0, 0.5), (1.0, 1.5), (2.5, 0.25)])
    with pytest.raises(ValueError, match="match_id .* twice"):
        build_features(matches, xg=pd.concat([xg, xg.iloc[:1]], ignore_index=True))
    with pytest.raises(ValueError, match="lacks column"):
        build_features(matches, xg=xg.drop(columns=["away_xg"]))
    # Rows of other matches, and of fixtures (not played yet), are ignored.
    fixture = history([("E0", 2014, "2014-09-06 14:00", "B", "C", 0, 0)])
    extra = pd.DataFrame(
        {"match_id": ["unknown", fixture["match_id"].iloc[0]], "home_xg": 9.0, "away_xg": 9.0}
    )
    fixtures = schema.conform(fixture, schema.FIXTURE_COLUMNS)
    base = build_features(matches, fixtures, xg=xg)
    pd.testing.assert_frame_equal(
        base, build_features(matches, fixtures, xg=pd.concat([xg, extra])), check_exact=True
    )
    # Values that are not numbers count as missing.
    text = xg.astype({"home_xg": object})
    text.loc[0, "home_xg"] = "n/a"
    assert build_features(matches, xg=text).iloc[1][["away_xg_for"]].isna().all()


def test_the_rating_forgets_a_team_after_a_season_without_xg_and_stays_out_of_leagues_without_it():
    rows = ROWS + [
        # A and C go down to a league the source does not cover and meet there...
        ("E1", 2015, "2015-08-15 14:00", "A", "C", 1, 0),
        # ...and A comes back two seasons after its last match with xG.
        ("E0", 2016, "2016-08-13 14:00", "A", "B", 2, 2),
        ("E0", 2016, "2016-08-20 14:00", "B", "A", 0, 1),
    ]
    matches = history(rows)
    out = build_features(
        matches, xg=xg_of(matches, [(2.0, 0.5), (1.0, 1.5), (2.5, 0.25), None, (1.2, 1.1), (0.9, 1.4)])
    )
    rating = ["xg_rating_home_goals", "xg_rating_away_goals", *F.XG_RATING_COLUMNS]
    # Both rated last season, but E1 has no xG history: nothing there.
    assert out.iloc[3][rating].isna().all()
    # A's latest match with xG is two seasons old: not rated until it has xG again.
    assert out.iloc[4][rating].isna().all()
    assert out.iloc[5][rating].notna().all()
