"""Point-in-time feature builder (footcast.models.features) and rating systems (ratings).

The central property is the leakage guarantee: whatever happens at or after a time T
(results, statistics and odds changed, matches deleted or added), every feature row with a
kickoff before T is bit-for-bit unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from footcast.data import schema
from footcast.models import ratings as R
from footcast.models.features import columns as F
from footcast.models.features.builder import build_features
from tests.support import SHARED_DATA

KEYS = ["match_id", "league", "season", "kickoff", "home_team", "away_team"]
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


# --- synthetic canonical data ---------------------------------------------------------------------


def _round_robin(teams: list[str]) -> list[list[tuple[str, str]]]:
    """Double round robin (circle method); each ordered pair once."""
    teams = list(teams)
    if len(teams) % 2:
        teams.append("")
    n = len(teams)
    rounds = []
    for r in range(n - 1):
        pairs = []
        for i in range(n // 2):
            a, b = teams[i], teams[n - 1 - i]
            if a and b:
                pairs.append((a, b) if (r + i) % 2 else (b, a))
        rounds.append(pairs)
        teams = [teams[0], teams[-1], *teams[1:-1]]
    return rounds + [[(b, a) for a, b in pairs] for pairs in rounds]


def make_matches(*args, **kwargs) -> pd.DataFrame:
    return _make_matches(*args, **kwargs).copy()


def _random_match(
    rng: np.random.Generator, league: str, season: int, home: str, away: str, kickoff, shots_known: bool
) -> dict:
    """One played match: a Poisson score, statistics when ``shots_known`` (mostly), and each
    bookmaker's opening and closing prices (a quarter of them missing)."""
    fthg, ftag = (int(x) for x in rng.poisson([1.5, 1.1]))
    hthg, htag = int(rng.integers(0, fthg + 1)), int(rng.integers(0, ftag + 1))
    row = {
        "match_id": schema.make_match_id(league, season, home, away),
        "league": league,
        "season": season,
        "kickoff": kickoff,
        "kickoff_time_known": bool(rng.random() < 0.8),
        "home_team": home,
        "away_team": away,
        "fthg": fthg,
        "ftag": ftag,
        "ftr": "H" if fthg > ftag else ("D" if fthg == ftag else "A"),
        "hthg": hthg,
        "htag": htag,
        "htr": "H" if hthg > htag else ("D" if hthg == htag else "A"),
        "source": "test",
    }
    if shots_known and rng.random() < 0.9:
        row["home_shots"] = int(rng.integers(3, 25))
        row["away_shots"] = int(rng.integers(2, 20))
        row["home_shots_on_target"] = int(rng.integers(0, row["home_shots"] + 1))
        row["away_shots_on_target"] = int(rng.integers(0, row["away_shots"] + 1))
        row["home_corners"] = int(rng.integers(0, 12))
    for book in ("b365", "ps", "avg", "max"):
        for timing in ("open", "close"):
            if rng.random() < 0.25:
                continue
            fair = rng.dirichlet([4.5, 2.8, 3.0])
            prices = 1.0 / (fair * (1.0 + rng.uniform(-0.01, 0.09)))
            for outcome, price in zip(schema.OUTCOMES, prices, strict=True):
                row[f"odds_{book}_{timing}_{outcome}"] = round(max(float(price), 1.01), 2)
    return row


def _next_season_members(
    rng: np.random.Generator, members: dict[str, list[str]], leagues: list[str], spare: list[str]
) -> None:
    """Promotion/relegation: the last team of league k swaps with the first of league k+1, one
    team of the last league is replaced by a team never seen before; then each league is shuffled."""
    for upper, lower in zip(leagues, leagues[1:], strict=False):
        down, up = members[upper][-1], members[lower][0]
        members[upper] = [up, *members[upper][:-1]]
        members[lower] = [*members[lower][1:], down]
    if spare:
        members[leagues[-1]] = [*members[leagues[-1]][:-1], spare.pop(0)]
    for lg in leagues:
        members[lg] = list(rng.permutation(members[lg]))


@functools.lru_cache(maxsize=256)
def _make_matches(
    seed: int,
    n_leagues: int = 2,
    teams_per_league: int = 6,
    n_seasons: int = 3,
    rounds_per_season: int | None = 6,
    first_season: int = 2000,
) -> pd.DataFrame:
    """Canonical played rows: leagues with promotion/relegation, shared kickoffs across and
    within leagues, missing statistics and odds, some unknown kickoff times."""
    rng = np.random.default_rng(seed)
    pool = [f"Team {chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(n_leagues * teams_per_league + 4)]
    leagues = [f"L{i + 1}" for i in range(n_leagues)]
    members = {lg: pool[i * teams_per_league : (i + 1) * teams_per_league] for i, lg in enumerate(leagues)}
    spare = pool[n_leagues * teams_per_league :]
    rows = []
    slots = [(15, 0), (15, 0), (17, 30), (19, 45)]
    for season in range(first_season, first_season + n_seasons):
        start = pd.Timestamp(f"{season}-08-05 00:00", tz="UTC")
        shots_known = rng.random() < 0.7
        for lg in leagues:
            schedule = _round_robin(members[lg])
            if rounds_per_season is not None:
                schedule = schedule[:rounds_per_season]
            for r, pairs in enumerate(schedule):
                day = start + timedelta(days=7 * r + int(rng.integers(0, 2)))
                for home, away in pairs:
                    hour, minute = slots[int(rng.integers(0, len(slots)))]
                    kickoff = day + timedelta(hours=hour, minutes=minute)
                    rows.append(_random_match(rng, lg, season, home, away, kickoff, shots_known))
        _next_season_members(rng, members, leagues, spare)
    return schema.conform(pd.DataFrame(rows), schema.MATCH_COLUMNS)


def as_fixtures(frame: pd.DataFrame, keep_close: bool = True) -> pd.DataFrame:
    out = schema.conform(frame, schema.FIXTURE_COLUMNS)
    if not keep_close:
        for column in schema.ODDS_COLUMNS:
            if "_close_" in column:
                out[column] = np.nan
    return out


def make_xg(matches: pd.DataFrame, seed: int, coverage: float = 0.85) -> pd.DataFrame:
    """xG of the played matches (``build_features``'s ``xg`` input): noisy around the goals, and
    missing (no row, or a NaN) for about 1 - ``coverage`` of them, as gaps in the source."""
    rng = np.random.default_rng(seed)
    played = matches[matches["fthg"].notna()]
    values = {
        side: rng.gamma(4.0, (played[goals].to_numpy(dtype=float) + 0.4) / 4.0)
        for side, goals in (("home_xg", "fthg"), ("away_xg", "ftag"))
    }
    xg = pd.DataFrame({"match_id": played["match_id"].to_numpy(), **values})
    covered = rng.random(len(xg))
    xg.loc[covered > coverage, "home_xg"] = np.nan
    return xg[covered < coverage + (1.0 - coverage) / 2].reset_index(drop=True)


def _mutate_xg_from(xg: pd.DataFrame, matches: pd.DataFrame, cut: pd.Timestamp, seed: int) -> pd.DataFrame:
    """Change, remove and add xG of matches kicking off at or after ``cut``."""
    rng = np.random.default_rng(seed)
    late_ids = set(matches.loc[matches["kickoff"] >= cut, "match_id"])
    out = xg.copy()
    late = out["match_id"].isin(late_ids).to_numpy()
    k = int(late.sum())
    out.loc[late, "home_xg"] = np.where(rng.random(k) < 0.2, np.nan, rng.uniform(0.0, 4.0, k))
    out.loc[late, "away_xg"] = rng.uniform(0.0, 4.0, k)
    out = out[~late | (rng.random(len(out)) < 0.8)]
    added = sorted(late_ids - set(out["match_id"]))
    extra = pd.DataFrame(
        {
            "match_id": added,
            "home_xg": rng.uniform(0, 3, len(added)),
            "away_xg": rng.uniform(0, 3, len(added)),
        }
    )
    return pd.concat([out, extra], ignore_index=True)


def assert_same_rows(left: pd.DataFrame, right: pd.DataFrame, columns=None) -> None:
    """Bit-for-bit equality of the given rows (NaN positions included)."""
    columns = list(columns or left.columns)
    pd.testing.assert_frame_equal(
        left[columns].reset_index(drop=True), right[columns].reset_index(drop=True), check_exact=True
    )


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("match_id", drop=False)


# --- output contract ------------------------------------------------------------------------------


def test_feature_column_sets():
    assert F.FEATURE_SET_VERSION
    assert len(set(F.FEATURE_COLUMNS)) == len(F.FEATURE_COLUMNS)
    assert set(F.MODEL_FEATURES) <= set(F.FEATURE_COLUMNS)
    assert set(F.NO_MARKET_FEATURES) <= set(F.MODEL_FEATURES)
    assert not [c for c in F.MODEL_FEATURES if "close" in c]
    assert not [c for c in F.NO_MARKET_FEATURES if c.startswith("market_")]
    assert set(F.MARKET_BASELINE_COLUMNS) <= set(F.FEATURE_COLUMNS)
    assert set(F.ELO_BASELINE_COLUMNS) <= set(F.FEATURE_COLUMNS)
    assert {"market_open_p_home", "market_close_p_away"} <= set(F.MARKET_BASELINE_COLUMNS)
    assert {"market_open_available", "market_close_available", "market_open_overround"} <= set(
        F.FEATURE_COLUMNS
    )
    assert set(F.XG_RATING_COLUMNS) <= set(F.XG_COLUMNS) <= set(F.NO_MARKET_FEATURES)


def test_output_shape_dtypes_and_order():
    matches = make_matches(1)
    fixtures = as_fixtures(make_matches(1, first_season=2003, n_seasons=1, rounds_per_season=1))
    out = build_features(matches, fixtures)
    assert list(out.columns) == list(F.OUTPUT_KEY_COLUMNS) + list(F.FEATURE_COLUMNS)
    assert len(out) == len(matches) + len(fixtures)
    assert out["played"].dtype == bool
    assert out["played"].sum() == len(matches)
    for column in F.FEATURE_COLUMNS:
        assert out[column].dtype == np.float64, column
    assert str(out["kickoff"].dt.tz) == "UTC"
    order = out.sort_values(["kickoff", "match_id"], kind="mergesort").index
    assert (order == out.index).all()
    played = out[out["played"]]
    assert set(played["result"]) <= {"H", "D", "A"}
    assert out.loc[~out["played"], "result"].isna().all()
    expected = by_id(matches).loc[played["match_id"], "ftr"].to_numpy()
    assert (played["result"].to_numpy() == expected).all()


def test_empty_inputs():
    out = build_features(schema.empty_frame(), None)
    assert len(out) == 0
    assert list(out.columns) == list(F.OUTPUT_KEY_COLUMNS) + list(F.FEATURE_COLUMNS)
    only_fixtures = build_features(schema.empty_frame(), as_fixtures(make_matches(2, rounds_per_season=1)))
    assert not only_fixtures["played"].any()
    assert (only_fixtures["elo_home"] == R.ELO_INIT).all()


def test_first_match_of_a_team_is_defined():
    out = build_features(make_matches(3))
    first = out.iloc[0]
    never_nan = F.ELO_COLUMNS + F.PI_COLUMNS + F.GOALS_MODEL_COLUMNS + F.LEAGUE_COLUMNS
    never_nan += ("home_season_played", "home_table_pos", "market_open_available", "market_close_available")
    assert not out[list(never_nan)].isna().any().any()
    assert first["elo_home"] == R.ELO_INIT and first["elo_away"] == R.ELO_INIT
    assert first["elo_diff"] == R.ELO_HOME_ADV
    assert first["pi_home_home"] == 0.0 and first["pi_exp_gd"] == 0.0
    assert first["home_season_played"] == 0.0 and first["home_table_pos"] == 0.5
    # documented NaNs: no previous match, no previous season of the league
    for column in (
        "home_rest_days",
        "home_season_ppg",
        "home_form5_ppg",
        "home_home_form3_gf",
        "home_promoted",
    ):
        assert math.isnan(first[column]), column
    probs = out[list(F.ELO_BASELINE_COLUMNS)].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    probs = out[["goals_p_home", "goals_p_draw", "goals_p_away"]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_nan_only_where_documented():
    out = build_features(make_matches(9, n_seasons=4), as_fixtures(make_matches(10, first_season=2004)))
    may_be_nan = ("_rest_days", "_season_ppg", "_season_gdpg", "_promoted", "_p_home", "_p_draw", "_p_away")
    for column in F.FEATURE_COLUMNS:
        if out[column].isna().any():
            documented = "form" in column or column.endswith(may_be_nan) or column.endswith("_overround")
            documented |= column in F.XG_COLUMNS  # no xG given: all NaN
            assert documented and not column.startswith(("elo_", "goals_")), column
    assert not out[list(F.ELO_BASELINE_COLUMNS + F.GOALS_MODEL_COLUMNS)].isna().any().any()


def test_bad_input_is_rejected():
    matches = make_matches(4)
    with pytest.raises(ValueError, match="duplicate"):
        build_features(pd.concat([matches, matches.iloc[:1]], ignore_index=True))
    broken = matches.copy()
    broken.loc[3, "home_team"] = pd.NA
    with pytest.raises(ValueError, match="home_team"):
        build_features(broken)


def test_fixture_already_played_is_dropped():
    matches = make_matches(5)
    fixtures = as_fixtures(matches.iloc[-3:])
    out = build_features(matches, fixtures)
    assert len(out) == len(matches) and out["played"].all()


# --- the leakage guarantee ------------------------------------------------------------------------


def _mutate_from(frame: pd.DataFrame, cut: pd.Timestamp, seed: int) -> pd.DataFrame:
    """Change results, half-times, statistics and odds of rows with kickoff >= cut."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    late = np.flatnonzero((out["kickoff"] >= cut).to_numpy())
    if len(late) == 0:
        return out
    chosen = late[rng.random(len(late)) < 0.7]
    k = len(chosen)
    for column in ("fthg", "ftag", "hthg", "htag") + schema.STAT_COLUMNS:
        values = pd.array(rng.integers(0, 9, k), dtype="Int64")
        values[rng.random(k) < 0.15] = pd.NA  # statistics may disappear too
        if column in ("fthg", "ftag"):
            values = pd.array(rng.integers(0, 9, k), dtype="Int64")
        out.loc[chosen, column] = values
    out.loc[chosen, "ftr"] = np.where(
        out.loc[chosen, "fthg"] > out.loc[chosen, "ftag"],
        "H",
        np.where(out.loc[chosen, "fthg"] == out.loc[chosen, "ftag"], "D", "A"),
    )
    for column in schema.ODDS_COLUMNS:
        prices = rng.uniform(1.05, 12.0, k)
        prices[rng.random(k) < 0.3] = np.nan
        out.loc[chosen, column] = prices
    return out


def _cut(frame: pd.DataFrame, where: float, exact: bool) -> pd.Timestamp:
    """A time T: one of the kickoffs (ties on T are the interesting case) or in between."""
    kickoffs = np.sort(frame["kickoff"].unique())
    index = min(int(where * len(kickoffs)), len(kickoffs) - 1)
    t = pd.Timestamp(kickoffs[index])
    return t if exact else t - pd.Timedelta(minutes=1)


def _before(out: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    return out[out["kickoff"] < cut]


def _at(out: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    return out[out["kickoff"] == cut]


NON_MARKET = [c for c in F.FEATURE_COLUMNS if not c.startswith("market_")]


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 60),
    where=st.floats(0.0, 1.0),
    exact=st.booleans(),
    mutation=st.integers(0, 10_000),
)
def test_leakage_changing_the_future_changes_no_earlier_feature(seed, where, exact, mutation):
    matches = make_matches(seed)
    xg = make_xg(matches, seed)
    cut = _cut(matches, where, exact)
    base = build_features(matches, xg=xg)
    assert base[list(F.XG_COLUMNS)].notna().any().all()
    changed = build_features(
        _mutate_from(matches, cut, mutation), xg=_mutate_xg_from(xg, matches, cut, mutation)
    )
    assert_same_rows(_before(base, cut), _before(changed, cut))
    # rows kicking off exactly at T do not see results or xG at T either (simultaneous
    # matches, their own xG included); only their market features, computed from their own
    # (changed) prices, may differ
    assert_same_rows(_at(base, cut), _at(changed, cut), KEYS + list(NON_MARKET))


@PROPERTY_SETTINGS
@given(
    seed=st.integers(0, 60),
    where=st.floats(0.0, 1.0),
    exact=st.booleans(),
    drop_share=st.floats(0.0, 1.0),
    add=st.integers(0, 30),
    extra_seed=st.integers(0, 60),
)
def test_leakage_deleting_or_adding_future_matches_changes_no_earlier_feature(
    seed, where, exact, drop_share, add, extra_seed
):
    matches = make_matches(seed)
    cut = _cut(matches, where, exact)
    rng = np.random.default_rng(extra_seed)
    late = (matches["kickoff"] >= cut).to_numpy()
    dropped = late & (rng.random(len(matches)) < drop_share)
    kept = matches[~dropped]
    # new rows at or after T: known and unknown teams, a new league, seasons old and new
    extra = make_matches(extra_seed, n_leagues=3, n_seasons=2, rounds_per_season=2, first_season=1999)
    extra = extra.sample(n=min(add, len(extra)), random_state=extra_seed).copy()
    offsets = pd.to_timedelta(rng.integers(0, 40 * 24, len(extra)), unit="h")
    offsets = offsets.where(rng.random(len(extra)) > 0.2, pd.Timedelta(0))  # some exactly at T
    extra["kickoff"] = pd.Series(cut + offsets, index=extra.index)
    extra["match_id"] = [
        hashlib.sha1(f"x{i}{extra_seed}".encode()).hexdigest()[:16] for i in range(len(extra))
    ]
    teams = pd.unique(matches[["home_team", "away_team"]].to_numpy().ravel())
    swap = rng.random(len(extra)) < 0.5
    extra.loc[swap, "home_team"] = rng.choice(teams, int(swap.sum()))
    extra = extra[extra["home_team"] != extra["away_team"]]
    edited = pd.concat([kept, extra], ignore_index=True)
    # some of the rows from T on are not played yet: upcoming fixtures
    upcoming = edited[edited["kickoff"] >= cut].sample(frac=0.3, random_state=extra_seed)
    edited = edited.drop(index=upcoming.index)
    fixtures = as_fixtures(upcoming)

    xg = make_xg(matches, seed)
    base = build_features(matches, xg=xg)
    # the edited history's xG: the kept rows' as before (the dropped rows' and the rows turned
    # into fixtures are ignored), the new rows' made up
    new_xg = make_xg(extra, extra_seed)
    changed = build_features(edited, fixtures, xg=pd.concat([xg, new_xg], ignore_index=True))
    assert_same_rows(_before(base, cut), _before(changed, cut))
    at_t = _at(changed, cut)
    kept_at_t = by_id(_at(base, cut)).reindex(at_t["match_id"]).dropna(subset=["match_id"])
    assert_same_rows(kept_at_t, by_id(at_t).loc[kept_at_t["match_id"]], KEYS + list(F.FEATURE_COLUMNS))


@PROPERTY_SETTINGS
@given(seed=st.integers(0, 60), permutation=st.integers(0, 10_000))
def test_input_row_order_does_not_matter(seed, permutation):
    matches = make_matches(seed)
    fixtures = as_fixtures(make_matches(seed + 1, first_season=2003, n_seasons=1, rounds_per_season=2))
    xg = make_xg(matches, seed)
    base = build_features(matches, fixtures, xg=xg)
    shuffled = build_features(
        matches.sample(frac=1.0, random_state=permutation),
        fixtures.sample(frac=1.0, random_state=permutation),
        xg=xg.sample(frac=1.0, random_state=permutation),
    )
    assert_same_rows(base, shuffled)


# --- one code path for history and fixtures -------------------------------------------------------


def _single_kickoff_last_matchday(matches: pd.DataFrame) -> pd.DataFrame:
    """Put the last round of the data at one kickoff: a matchday whose matches are simultaneous."""
    matches = matches.copy()
    last_round = matches["kickoff"] >= matches["kickoff"].max() - pd.Timedelta(days=2)
    matches.loc[last_round, "kickoff"] = matches["kickoff"].max() + pd.Timedelta(days=3)
    return matches


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_train_serve_equality_last_matchday(seed):
    matches = _single_kickoff_last_matchday(make_matches(seed))
    last = matches["kickoff"] == matches["kickoff"].max()
    assert last.sum() >= 2
    xg = make_xg(matches, seed, coverage=1.0)
    history = build_features(matches, xg=xg)
    served = build_features(matches[~last], as_fixtures(matches[last]), xg=xg)
    ids = matches.loc[last, "match_id"]
    left, right = by_id(history).loc[ids], by_id(served).loc[ids]
    assert left["played"].all() and not right["played"].any()
    assert_same_rows(left, right, KEYS + list(F.FEATURE_COLUMNS))
    # full coverage: every team has xG (venue means may lack a match at that venue)
    any_venue = [c for c in F.XG_COLUMNS if "home_home" not in c and "away_away" not in c]
    assert left[any_venue].notna().all().all()
    # fixtures published without closing prices: every model feature is still identical
    served_open = build_features(matches[~last], as_fixtures(matches[last], keep_close=False), xg=xg)
    right = by_id(served_open).loc[ids]
    assert_same_rows(left, right, KEYS + list(F.MODEL_FEATURES))
    assert (right["market_close_available"] == 0.0).all()


@PROPERTY_SETTINGS
@given(seed=st.integers(0, 60), where=st.floats(0.0, 1.0))
def test_train_serve_equality_from_any_time(seed, where):
    """Everything from T on becomes a fixture: the first kickoff at or after T (whose rows see
    exactly the same played history either way) has identical features."""
    matches = make_matches(seed)
    xg = make_xg(matches, seed)
    cut = _cut(matches, where, exact=True)
    late = matches["kickoff"] >= cut
    history = build_features(matches, xg=xg)
    served = build_features(matches[~late], as_fixtures(matches[late]), xg=xg)
    ids = matches.loc[matches["kickoff"] == cut, "match_id"]
    assert_same_rows(by_id(history).loc[ids], by_id(served).loc[ids], KEYS + list(F.FEATURE_COLUMNS))
    assert_same_rows(_before(history, cut), _before(served, cut))


def test_simultaneous_matches_do_not_see_each_other():
    matches = make_matches(7)
    first_kickoff = matches["kickoff"].min()
    # everything on the first day kicks off together: all of them are first matches
    day = matches["kickoff"] < first_kickoff + pd.Timedelta(days=1)
    matches.loc[day, "kickoff"] = first_kickoff
    out = build_features(matches)
    group = out[out["kickoff"] == first_kickoff]
    assert len(group) > 1
    assert (group["elo_home"] == R.ELO_INIT).all() and group["home_rest_days"].isna().all()


# --- ratings: Elo ----------------------------------------------------------------------------------


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """Canonical rows from (league, season, 'YYYY-MM-DD HH:MM', home, away, fthg, ftag)."""
    records = []
    for league, season, when, home, away, fthg, ftag in rows:
        records.append(
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
        )
    return schema.conform(pd.DataFrame(records), schema.MATCH_COLUMNS)


def test_elo_update_is_zero_sum_with_home_advantage():
    delta = R.elo_update(1500.0, 1500.0, 1, 1)
    assert delta < 0  # a home draw between equals is below expectation for the home side
    expected = R.elo_expected(R.ELO_HOME_ADV)
    assert delta == pytest.approx(R.ELO_K * (0.5 - expected))
    assert R.elo_update(1500.0, 1500.0, 1, 0) > 0 > R.elo_update(1500.0, 1500.0, 0, 1)
    assert R.elo_goal_multiplier(0) == 1.0 and R.elo_goal_multiplier(-2) == 1.5
    assert R.elo_goal_multiplier(3) == 14 / 8 and R.elo_goal_multiplier(5) > R.elo_goal_multiplier(4)

    out = build_features(
        _frame(
            [
                ("E0", 2000, "2000-08-12 14:00", "A", "B", 3, 0),
                ("E0", 2000, "2000-08-19 14:00", "A", "C", 0, 0),
                ("E0", 2000, "2000-08-26 14:00", "B", "C", 1, 2),
                ("E0", 2000, "2000-09-02 14:00", "C", "A", 0, 0),
            ]
        )
    )
    d1 = R.elo_update(1500.0, 1500.0, 3, 0)
    assert d1 == pytest.approx(R.ELO_K * 1.75 * (1 - R.elo_expected(R.ELO_HOME_ADV)))
    assert out.loc[1, "elo_home"] == 1500.0 + d1
    assert out.loc[2, "elo_home"] == 1500.0 - d1
    d2 = R.elo_update(1500.0 + d1, 1500.0, 0, 0)
    d3 = R.elo_update(1500.0 - d1, 1500.0 - d2, 1, 2)
    assert out.loc[3, "elo_home"] == pytest.approx(1500.0 - d2 - d3)
    assert out.loc[3, "elo_away"] == pytest.approx(1500.0 + d1 + d2)
    # zero-sum: the three ratings still sum to 3 x 1500
    assert out.loc[3, "elo_home"] + out.loc[3, "elo_away"] + (1500.0 - d1 + d3) == pytest.approx(4500.0)
    assert out.loc[0, "elo_diff"] == R.ELO_HOME_ADV
    assert out.loc[0, "elo_p_home"] > out.loc[0, "elo_p_away"]


def test_elo_probabilities_mapping():
    home, draw, away = R.elo_probabilities(0.0)
    assert home == pytest.approx(away) and draw == pytest.approx(R.ELO_DRAW_NU / (2 + R.ELO_DRAW_NU))
    strong = R.elo_probabilities(300.0)
    assert strong[0] > home and strong[2] < away and sum(strong) == pytest.approx(1.0)
    assert R.elo_probabilities(-300.0) == pytest.approx(strong[::-1])


def test_elo_season_regression_and_newcomers():
    rows = [
        ("E0", 2000, "2001-03-03 15:00", "A", "B", 4, 0),
        ("E0", 2000, "2001-03-10 15:00", "C", "D", 0, 0),
        ("E0", 2001, "2001-08-18 15:00", "A", "C", 1, 1),
        ("E0", 2001, "2001-08-25 15:00", "N", "D", 1, 1),
    ]
    out = build_features(_frame(rows))
    d = R.elo_update(1500.0, 1500.0, 4, 0)
    ratings_2000 = {"A": 1500.0 + d, "B": 1500.0 - d, "C": 1500.0, "D": 1500.0}
    # A's first match of 2001: regressed 20% toward the mean of the other E0 teams
    mean_others = (ratings_2000["B"] + ratings_2000["C"] + ratings_2000["D"]) / 3
    assert out.loc[2, "elo_home"] == pytest.approx(R.elo_regress(ratings_2000["A"], mean_others))
    assert out.loc[2, "elo_home"] < ratings_2000["A"]
    assert R.elo_regress(1600.0, 1500.0, 0.2) == pytest.approx(1580.0)
    # N is new to an established league: it starts below the league's mean
    assert out.loc[3, "elo_home"] < 1500.0
    assert out.loc[3, "home_promoted"] == 1.0 and out.loc[3, "away_promoted"] == 0.0
    assert out.loc[2, "home_promoted"] == 0.0
    assert math.isnan(out.loc[0, "home_promoted"])


def test_ratings_carry_across_leagues():
    rows = [
        ("E1", 2000, "2001-03-03 15:00", "A", "B", 5, 0),
        ("E0", 2001, "2001-08-18 15:00", "A", "C", 0, 0),
    ]
    out = build_features(_frame(rows))
    assert out.loc[1, "elo_home"] > 1500.0
    assert out.loc[1, "pi_home_home"] > 0.0
    assert out.loc[1, "home_rest_days"] == pytest.approx(168.0)
    assert out.loc[1, "home_form3_gf"] == 5.0


# --- ratings: pi-ratings ---------------------------------------------------------------------------


def test_pi_rating_update_matches_the_papers_formulas_by_hand():
    # Home team: R_H = 1.6, R_A = 0.4; away team: R_H = 0.5, R_A = -0.2; result 1-0.
    # g(1.6) = 10^(1.6/3) - 1 = 2.414548874; g(-0.2) = -(10^(0.2/3) - 1) = -0.165914401
    # expected gd = 2.580463275; error e = |1 - 2.580463275| = 1.580463275
    # psi = 3 * log10(1 + e) = 3 * log10(2.580463275) = 1.235093048; the home side
    # under-performed (expected 2.58, scored 1): psi_H = -psi, psi_A = +psi
    # R_H(home) = 1.6 - 0.035 * 1.235093048 = 1.556771743
    # R_A(home) = 0.4 - 0.7 * 0.035 * 1.235093048 = 0.369740220
    # R_A(away) = -0.2 + 0.035 * 1.235093048 = -0.156771743
    # R_H(away) = 0.5 + 0.7 * 0.035 * 1.235093048 = 0.530259780
    assert R.pi_expected_goal_diff(1.6) == pytest.approx(2.414548874)
    assert R.pi_expected_goal_diff(-0.2) == pytest.approx(-0.165914401)
    new = R.pi_update(1.6, 0.4, 0.5, -0.2, 1, 0)
    assert new == pytest.approx((1.556771743, 0.369740220, 0.530259780, -0.156771743))
    # a big win over expectation raises the home ratings, less than linearly in the margin
    up2 = R.pi_update(0.0, 0.0, 0.0, 0.0, 2, 0)
    up6 = R.pi_update(0.0, 0.0, 0.0, 0.0, 6, 0)
    assert up2[0] > 0 and up2[3] < 0 and up6[0] < 3 * up2[0]
    assert up2[1] == pytest.approx(R.PI_GAMMA * up2[0])


def test_pi_ratings_in_features():
    out = build_features(
        _frame(
            [
                ("E0", 2000, "2000-08-12 14:00", "A", "B", 2, 0),
                ("E0", 2000, "2000-08-19 14:00", "B", "A", 1, 1),
            ]
        )
    )
    hh, ha, ah, aa = R.pi_update(0.0, 0.0, 0.0, 0.0, 2, 0)
    row = out.loc[1]  # B at home (B's home rating = ah), A away (A's away rating = ha)
    assert (row["pi_home_home"], row["pi_home_away"]) == (ah, aa)
    assert (row["pi_away_home"], row["pi_away_away"]) == (hh, ha)
    assert row["pi_diff"] == ah - ha
    assert row["pi_exp_gd"] == R.pi_expected_goal_diff(ah) - R.pi_expected_goal_diff(ha)


# --- goals model and market -----------------------------------------------------------------------


def test_poisson_outcome_probabilities_match_a_direct_sum():
    lam_h = np.array([1.5, 0.3, 2.8, 1.0])
    lam_a = np.array([1.1, 2.0, 0.4, 1.0])
    probs = R.poisson_outcome_probabilities(lam_h, lam_a)
    for i in range(len(lam_h)):
        ph = [math.exp(-lam_h[i]) * lam_h[i] ** k / math.factorial(k) for k in range(30)]
        pa = [math.exp(-lam_a[i]) * lam_a[i] ** k / math.factorial(k) for k in range(30)]
        home = sum(ph[x] * pa[y] for x in range(30) for y in range(30) if x > y)
        draw = sum(ph[x] * pa[x] for x in range(30))
        np.testing.assert_allclose(probs[i], [home, draw, 1 - home - draw], atol=1e-6)
    assert probs[3, 0] == pytest.approx(probs[3, 2])


def test_goals_model_learns_from_goals():
    rows = [("E0", 2000, f"2000-08-{d:02d} 14:00", "A", "B", 4, 0) for d in (5,)]
    rows += [
        ("E0", 2000, "2000-08-12 14:00", "C", "A", 0, 3),
        ("E0", 2000, "2000-08-19 14:00", "A", "C", 0, 0),
    ]
    out = build_features(_frame(rows))
    assert out.loc[2, "xg_home_model"] > out.loc[0, "xg_home_model"]  # A scores a lot
    assert out.loc[2, "xg_away_model"] < out.loc[0, "xg_away_model"]  # and concedes little
    assert out.loc[2, "goals_p_home"] > out.loc[0, "goals_p_home"]


@given(
    st.lists(
        st.tuples(st.floats(1.01, 40.0), st.floats(1.01, 40.0), st.floats(1.01, 40.0)),
        min_size=1,
        max_size=20,
    )
)
@settings(max_examples=200, deadline=None)
def test_shin_margin_removal_sums_to_one_and_keeps_order(prices):
    odds = np.array(prices)
    probs, z = R.remove_margin_shin(odds)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    assert (probs > 0).all() and (z >= 0).all() and (z < 1).all()
    implied = 1.0 / odds
    for row in range(len(odds)):
        for j in range(3):
            for k in range(3):
                if implied[row, j] > implied[row, k]:
                    assert probs[row, j] >= probs[row, k]
                if implied[row, j] > implied[row, k] * (1 + 1e-9):
                    assert probs[row, j] > probs[row, k]
                if implied[row, j] == implied[row, k]:
                    assert probs[row, j] == pytest.approx(probs[row, k])


def test_shin_removes_more_margin_from_longshots():
    odds = np.array([[1.40, 4.50, 8.00], [2.50, 3.20, 2.90], [3.0, 3.0, 3.0]])
    shin, z = R.remove_margin_shin(odds)
    proportional = R.remove_margin_proportional(odds)
    assert shin[0, 0] > proportional[0, 0] and shin[0, 2] < proportional[0, 2]
    np.testing.assert_allclose(shin[2], [1 / 3] * 3)
    assert z[2] == 0.0  # booksum exactly 1: nothing to remove
    # z solves Shin's equation
    implied, booksum = R.implied_probabilities(odds[:1])
    root = np.sqrt(z[0] ** 2 + 4 * (1 - z[0]) * implied[0] ** 2 / booksum[0])
    assert root.sum() - 2 - z[0] == pytest.approx(0.0, abs=1e-12)


def test_market_features_book_preference_and_flags():
    frame = make_matches(8, n_seasons=1, rounds_per_season=2)
    for column in schema.ODDS_COLUMNS:
        frame[column] = np.nan
    frame.loc[0, ["odds_b365_open_h", "odds_b365_open_d", "odds_b365_open_a"]] = [2.0, 3.4, 3.6]
    frame.loc[0, ["odds_ps_open_h", "odds_ps_open_d", "odds_ps_open_a"]] = [2.1, 3.5, 3.8]
    frame.loc[0, ["odds_max_close_h", "odds_max_close_d", "odds_max_close_a"]] = [2.3, 3.9, 4.2]
    frame.loc[1, ["odds_avg_close_h", "odds_avg_close_d", "odds_avg_close_a"]] = [1.5, 4.0, 7.0]
    frame.loc[1, ["odds_ps_open_h", "odds_ps_open_d"]] = [1.5, 4.0]  # incomplete triple
    out = by_id(build_features(frame))
    first, second = out.loc[frame.loc[0, "match_id"]], out.loc[frame.loc[1, "match_id"]]
    expected, _ = R.remove_margin_shin(np.array([[2.1, 3.5, 3.8]]))  # ps before b365
    np.testing.assert_array_equal(
        first[["market_open_p_home", "market_open_p_draw", "market_open_p_away"]].to_numpy(float), expected[0]
    )
    assert first["market_open_overround"] == pytest.approx(1 / 2.1 + 1 / 3.5 + 1 / 3.8 - 1)
    assert first["market_open_available"] == 1.0
    assert first["market_close_available"] == 0.0 and math.isnan(first["market_close_p_home"])  # max unused
    assert second["market_open_available"] == 0.0 and math.isnan(second["market_open_p_home"])
    assert second["market_close_available"] == 1.0


# --- schedule, table and form against a naive reference --------------------------------------------


def _reference_team_features(matches: pd.DataFrame) -> pd.DataFrame:
    """Straightforward per-row recomputation from all strictly earlier played matches."""
    m = matches.sort_values(["kickoff", "match_id"], kind="mergesort").reset_index(drop=True)
    rows = []
    for _, row in m.iterrows():
        past = m[m["kickoff"] < row["kickoff"]]
        out = {"match_id": row["match_id"]}
        for side in ("home", "away"):
            team = row[f"{side}_team"]
            mine = past[(past["home_team"] == team) | (past["away_team"] == team)]
            is_home = mine["home_team"] == team
            gf = np.where(is_home, mine["fthg"], mine["ftag"]).astype(int)
            ga = np.where(is_home, mine["ftag"], mine["fthg"]).astype(int)
            pts = np.where(gf > ga, 3, np.where(gf == ga, 1, 0))
            shots_f = np.where(is_home, mine["home_shots"], mine["away_shots"])
            out[f"{side}_rest_days"] = (
                (row["kickoff"] - mine["kickoff"].iloc[-1]) / pd.Timedelta(days=1) if len(mine) else np.nan
            )
            for window in F.FORM_WINDOWS:
                out[f"{side}_form{window}_ppg"] = pts[-window:].mean() if len(pts) else np.nan
                out[f"{side}_form{window}_ga"] = ga[-window:].mean() if len(ga) else np.nan
                shots = pd.array(shots_f[-window:], dtype="Int64")
                out[f"{side}_form{window}_shots_f"] = (
                    int(shots.sum()) / int((~shots.isna()).sum()) if (~shots.isna()).any() else np.nan
                )
            venue = mine[is_home] if side == "home" else mine[~is_home]
            vgf = (venue["fthg"] if side == "home" else venue["ftag"]).astype(int).to_numpy()
            out[f"{side}_{side}_form5_gf"] = vgf[-5:].mean() if len(vgf) else np.nan
            ls = past[(past["league"] == row["league"]) & (past["season"] == row["season"])]
            table = {}
            for _, p in ls.iterrows():
                for t, f, a in (
                    (p["home_team"], p["fthg"], p["ftag"]),
                    (p["away_team"], p["ftag"], p["fthg"]),
                ):
                    e = table.setdefault(t, [0, 0, 0, 0])
                    e[0] += 1
                    e[1] += 3 if f > a else (1 if f == a else 0)
                    e[2] += f - a
                    e[3] += f
            entry = table.get(team)
            out[f"{side}_season_played"] = float(entry[0]) if entry else 0.0
            out[f"{side}_season_ppg"] = entry[1] / entry[0] if entry else np.nan
            out[f"{side}_season_gdpg"] = entry[2] / entry[0] if entry else np.nan
            keys = {t: (e[1], e[2], e[3]) for t, e in table.items()}
            mine_key = keys.get(team, (0, 0, 0))
            others = [k for t, k in keys.items() if t != team]
            n = len(others) + 1
            greater = sum(k > mine_key for k in others)
            equal = sum(k == mine_key for k in others) + 1
            out[f"{side}_table_pos"] = (greater + (equal + 1) / 2 - 1) / (n - 1) if n > 1 else 0.5
            previous = past[(past["league"] == row["league"]) & (past["season"] == row["season"] - 1)]
            if len(previous):
                was = ((previous["home_team"] == team) | (previous["away_team"] == team)).any()
                out[f"{side}_promoted"] = 0.0 if was else 1.0
            else:
                out[f"{side}_promoted"] = np.nan
        rows.append(out)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [11, 12])
def test_schedule_table_and_form_match_a_naive_reference(seed):
    matches = make_matches(seed, n_leagues=2, teams_per_league=5, n_seasons=3, rounds_per_season=5)
    reference = _reference_team_features(matches)
    out = build_features(matches)
    columns = [c for c in reference.columns if c != "match_id"]
    assert set(columns) <= set(F.FEATURE_COLUMNS)
    got = by_id(out).loc[reference["match_id"], columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, reference[columns].astype(float), check_exact=False, rtol=1e-12)


def test_same_team_twice_at_one_kickoff_is_deterministic():
    rows = [
        ("E0", 2000, "2000-08-12 14:00", "A", "B", 2, 0),
        ("E0", 2000, "2000-08-19 14:00", "A", "C", 1, 0),
        ("E1", 2000, "2000-08-19 14:00", "D", "A", 0, 0),  # A twice at one kickoff (a data error)
        ("E0", 2000, "2000-08-26 14:00", "A", "B", 0, 1),
    ]
    frame = _frame(rows)
    frame.loc[3, "match_id"] = "second-meeting"
    out = build_features(frame)
    again = build_features(frame.iloc[::-1])
    assert_same_rows(out, again)
    group = out[out["kickoff"] == pd.Timestamp("2000-08-19 14:00", tz="UTC")]
    assert (group.loc[group["home_team"] == "A", "home_rest_days"] == 7.0).all()
    assert (group.loc[group["away_team"] == "A", "away_rest_days"] == 7.0).all()
    assert out.loc[3, "home_form3_gf"] == pytest.approx(3 / 3)  # 2, then 1 and 0 at one kickoff


# --- real football-data files (skipped when ../shared/football-data is absent) ---------------------


def _real_matches(leagues=("E0", "D1"), seasons=range(2009, 2016)) -> pd.DataFrame:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} not present")
    from footcast.data import football_data as parser

    frames = []
    for season in seasons:
        for league in leagues:
            path = SHARED_DATA / "mmz4281" / schema.season_code(season) / f"{league}.csv"
            if not path.exists():
                continue
            content = path.read_bytes()
            frames.append(
                parser.parse_results(
                    content,
                    league=league,
                    season=season,
                    source_url=f"file://{path}",
                    content_hash=hashlib.sha256(content).hexdigest(),
                ).matches
            )
    if not frames:
        pytest.skip("no football-data files found")
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def real_matches():
    return _real_matches()


def test_real_data_features(real_matches):
    out = build_features(real_matches)
    assert len(out) == len(real_matches)
    core = F.ELO_COLUMNS + F.PI_COLUMNS + F.GOALS_MODEL_COLUMNS
    assert not out[list(core)].isna().any().any()
    assert out["market_open_available"].mean() > 0.95  # B365 / BbAv / PS exist in these seasons
    assert out.loc[out["season"] >= 2012, "market_close_available"].mean() > 0.95  # PSC from 2012/13
    late = out[out["season"] >= 2012]
    outcome = late["result"].map({"H": 0, "D": 1, "A": 2}).to_numpy()

    def log_loss(columns):
        probs = late[list(columns)].to_numpy()
        return float(-np.log(probs[np.arange(len(late)), outcome]).mean())

    elo = log_loss(F.ELO_BASELINE_COLUMNS)
    market = log_loss(F.MARKET_BASELINE_COLUMNS[:3])
    closing = log_loss(F.MARKET_BASELINE_COLUMNS[3:])
    goals = log_loss(("goals_p_home", "goals_p_draw", "goals_p_away"))
    uniform = math.log(3)
    assert closing <= market + 0.002  # closing prices are the sharpest
    assert market < elo < uniform
    assert goals < uniform


def test_real_data_leakage(real_matches):
    cut = pd.Timestamp("2013-01-01", tz="UTC")
    base = build_features(real_matches)
    changed = build_features(_mutate_from(real_matches, cut, seed=5))
    assert_same_rows(_before(base, cut), _before(changed, cut))
    late = real_matches["kickoff"] >= cut
    served = build_features(real_matches[~late], as_fixtures(real_matches[late], keep_close=False))
    assert_same_rows(_before(base, cut), _before(served, cut))
