"""Point-in-time features of every played match and upcoming fixture.

:func:`build_features` turns canonical rows (:mod:`footcast.data.schema`) into one feature
row per match/fixture. Plain Python/numpy/pandas; no dagster.

Point-in-time rules
-------------------
- Rows are put in a total order ``(kickoff, match_id)``; input row order never matters.
- Every feature of a row uses only matches with a kickoff strictly before the row's kickoff.
  Rows with the same kickoff timestamp are simultaneous: features are computed for the whole
  group first, then the group's results update the state, so none sees another's result.
- Only *played* rows (a row of ``matches`` with both full-time goals) change any state.
  Fixtures (and played-file rows without a score) are rows with no result: they get features
  by the same code path and change nothing, so a fixture's features equal the features the
  same match gets once it is in the history, provided every match kicking off before it has
  been played by then (features of fixtures further ahead change as results come in). A
  fixture whose ``match_id`` is also among the played matches is dropped. ``(kickoff,
  match_id)`` must be unique; the same ``match_id`` at two kickoffs is accepted.
- The bookmaker prices of a match are published before its kickoff, so the match's own
  *opening* prices are legitimate inputs. Closing prices are stored only as an evaluation
  baseline (``MARKET_BASELINE_COLUMNS``) and never enter ``MODEL_FEATURES``.
- Teams are keyed by name; all ratings carry across seasons and leagues.
- Every value of a row is computed row-locally (no cross-row float reductions, fixed-iteration
  solvers, integer cumulative sums for the rolling windows), so rows before a time T are
  bit-for-bit unchanged by anything at or after T (tested in ``tests/test_features.py``).

Features (all float64)
----------------------
Ratings (formulas and constants in :mod:`footcast.models.ratings`):

- ``elo_home``, ``elo_away``: Elo ratings (start 1500) before the match; ``elo_diff`` =
  home - away + home advantage; ``elo_p_home/draw/away``: Elo-implied probabilities
  (Davidson mapping of ``elo_diff``) = ``ELO_BASELINE_COLUMNS``. A team's first match of a
  new season is rated after regressing 10% toward the mean of its (new) league; a team never
  seen before starts at 1500, or, joining a league that already has an earlier season of
  history, 50 points below that league's current mean (promoted sides are weaker).
- ``pi_home_home`` (home team's home rating), ``pi_home_away`` (its away rating),
  ``pi_away_home``, ``pi_away_away``; ``pi_diff`` = pi_home_home - pi_away_away;
  ``pi_exp_gd``: the pi-rating expected goal difference. New teams start at 0.
- ``xg_home_model``, ``xg_away_model``: expected goals of the dynamic goals model;
  ``goals_p_home/draw/away``: its Poisson outcome probabilities.
- ``league_home_goals``, ``league_away_goals``, ``league_home_win_rate``,
  ``league_draw_rate``: exponentially weighted league averages (with a prior; never NaN).

Schedule and table (per league-season unless noted):

- ``home_rest_days``/``away_rest_days``: days since the team's previous played match in any
  league (NaN for its first match in the data).
- ``*_season_played``: matches played in this league-season (0 before the first).
- ``*_season_ppg``, ``*_season_gdpg``: points and goal difference per game this
  league-season (NaN before the team's first match of the league-season).
- ``*_table_pos``: position in the league-season table (points, goal difference, goals
  scored) as of before the match, ties sharing their average rank, normalised to [0, 1]
  (0 = top, 1 = bottom, 0.5 when everyone is level or the table has a single team). A team
  without a match yet is ranked with zero points among the teams that have played.
- ``*_promoted``: 1 if the team did not play in this league the previous season, 0 if it did,
  NaN when the league has no played match in the previous season.

Recent form over the team's last N played matches, N in ``FORM_WINDOWS`` (3, 5, 10), any
league: ``home_form{N}_{stat}`` and ``away_form{N}_{stat}``; and venue-specific form over the
home team's last N home matches (``home_home_form{N}_{stat}``) and the away team's last N away
matches (``away_away_form{N}_{stat}``). Stats (means per match): ``ppg`` (points), ``gf``,
``ga`` (goals for/against), ``shots_f``, ``shots_a``, ``sot_f``, ``sot_a`` (shots and shots on
target for/against). NaN when the team has no earlier match in that scope; the shot means
average the matches of the window that have the statistic and are NaN when none has.

Market (``market_open_*`` from opening = pre-closing prices; ``market_close_*`` from closing
prices). The first bookmaker of ``BOOK_PREFERENCE`` (ps, avg, b365, bw, iw, wh, vc, lb, sj;
"max" is never used: best prices across books are not one book's coherent price set) with a
complete triple of prices > 1 supplies the prices. Margin removal: Shin's method
(:func:`footcast.models.ratings.remove_margin_shin`; proportional normalisation when a
booksum is not above 1).

- ``market_{open,close}_p_home/draw/away``: margin-free probabilities (NaN if unavailable);
- ``market_{open,close}_overround``: booksum - 1 of the chosen book (NaN if unavailable);
- ``market_{open,close}_available``: 1.0 / 0.0.

``MODEL_FEATURES`` = every feature except ``market_close_*``; ``NO_MARKET_FEATURES`` =
``MODEL_FEATURES`` without ``market_open_*``; ``MARKET_BASELINE_COLUMNS`` = the open and
close margin-free probabilities.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from footcast.data import schema
from footcast.models import ratings

FEATURE_SET_VERSION = "fs-1"

FORM_WINDOWS: tuple[int, ...] = (3, 5, 10)
FORM_STATS: tuple[str, ...] = ("ppg", "gf", "ga", "shots_f", "shots_a", "sot_f", "sot_a")
BOOK_PREFERENCE: tuple[str, ...] = ("ps", "avg", "b365", "bw", "iw", "wh", "vc", "lb", "sj")

ELO_BASELINE_COLUMNS: tuple[str, ...] = ("elo_p_home", "elo_p_draw", "elo_p_away")
ELO_COLUMNS: tuple[str, ...] = ("elo_home", "elo_away", "elo_diff") + ELO_BASELINE_COLUMNS
PI_COLUMNS: tuple[str, ...] = (
    "pi_home_home",
    "pi_home_away",
    "pi_away_home",
    "pi_away_away",
    "pi_diff",
    "pi_exp_gd",
)
GOALS_MODEL_COLUMNS: tuple[str, ...] = (
    "xg_home_model",
    "xg_away_model",
    "goals_p_home",
    "goals_p_draw",
    "goals_p_away",
)
LEAGUE_COLUMNS: tuple[str, ...] = (
    "league_home_goals",
    "league_away_goals",
    "league_home_win_rate",
    "league_draw_rate",
)
SCHEDULE_COLUMNS: tuple[str, ...] = tuple(
    f"{side}_{name}"
    for name in ("rest_days", "season_played", "season_ppg", "season_gdpg", "table_pos", "promoted")
    for side in ("home", "away")
)
FORM_COLUMNS: tuple[str, ...] = tuple(
    f"{side}_{scope}form{window}_{stat}"
    for side in ("home", "away")
    for scope in ("", f"{side}_")
    for window in FORM_WINDOWS
    for stat in FORM_STATS
)
MARKET_OPEN_COLUMNS: tuple[str, ...] = (
    "market_open_p_home",
    "market_open_p_draw",
    "market_open_p_away",
    "market_open_overround",
    "market_open_available",
)
MARKET_CLOSE_COLUMNS: tuple[str, ...] = tuple(c.replace("_open_", "_close_") for c in MARKET_OPEN_COLUMNS)
MARKET_BASELINE_COLUMNS: tuple[str, ...] = MARKET_OPEN_COLUMNS[:3] + MARKET_CLOSE_COLUMNS[:3]

FEATURE_COLUMNS: tuple[str, ...] = (
    ELO_COLUMNS
    + PI_COLUMNS
    + GOALS_MODEL_COLUMNS
    + LEAGUE_COLUMNS
    + SCHEDULE_COLUMNS
    + FORM_COLUMNS
    + MARKET_OPEN_COLUMNS
    + MARKET_CLOSE_COLUMNS
)
MODEL_FEATURES: tuple[str, ...] = tuple(c for c in FEATURE_COLUMNS if c not in MARKET_CLOSE_COLUMNS)
NO_MARKET_FEATURES: tuple[str, ...] = tuple(c for c in MODEL_FEATURES if c not in MARKET_OPEN_COLUMNS)

OUTPUT_KEY_COLUMNS: tuple[str, ...] = (*schema.IDENTITY_COLUMNS, "played", "result")

_SHOT_COLUMNS = ("home_shots", "away_shots", "home_shots_on_target", "away_shots_on_target")
_ROW_COLUMNS: tuple[str, ...] = (*schema.IDENTITY_COLUMNS, "fthg", "ftag", *_SHOT_COLUMNS)
_NS_PER_DAY = 86_400 * 10**9
_NAN = math.nan
# Table sort key: points, then goal difference, then goals scored, packed in one int64
# (exact while |goal difference| and goals scored stay below 10**5 in a league-season).
_KEY_PTS = 10**11
_KEY_GD = 10**5
_KEY_BASE = _KEY_GD * _KEY_GD  # zero points, zero goal difference, zero goals
_KEY_ABSENT = -1  # a team of the league-season without a played match yet
_TABLE_BATCH_CELLS = 1_000_000


# --- input preparation -------------------------------------------------------------------------


def _canonical(frame: pd.DataFrame | None, what: str) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """(the row columns conformed to the schema, the odds columns present as float64 arrays)."""
    if frame is None:
        frame = pd.DataFrame()
    required = ("match_id", "league", "kickoff", "home_team", "away_team")
    missing = [c for c in required if c not in frame.columns]
    if missing and len(frame):
        raise ValueError(f"build_features: {what} lack required column(s) {', '.join(missing)}")
    rows = schema.conform(frame[[c for c in _ROW_COLUMNS if c in frame.columns]], _ROW_COLUMNS)
    odds = {}
    for column in schema.ODDS_COLUMNS:
        if column in frame.columns:
            values = frame[column]
            if not pd.api.types.is_float_dtype(values.dtype):
                values = pd.to_numeric(values, errors="coerce")
            odds[column] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return rows, odds


def _prepare(
    matches: pd.DataFrame | None, fixtures: pd.DataFrame | None
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Played rows and fixtures in one frame sorted by (kickoff, match_id), with ``played``,
    and their odds columns in the same order."""
    history, odds = _canonical(matches, "matches")
    history["played"] = (history["fthg"].notna() & history["ftag"].notna()).to_numpy(dtype=bool)
    upcoming, upcoming_odds = _canonical(fixtures, "fixtures")
    if len(upcoming):
        keep = ~upcoming["match_id"].isin(history["match_id"][history["played"]]).to_numpy(dtype=bool)
        upcoming = upcoming[keep]
        for column in ("fthg", "ftag") + _SHOT_COLUMNS:
            upcoming[column] = pd.array([pd.NA] * len(upcoming), dtype="Int64")
        upcoming["played"] = False
        n_history, n_upcoming = len(history), len(upcoming)
        odds = {
            column: np.concatenate(
                [
                    odds.get(column, np.full(n_history, np.nan)),
                    upcoming_odds[column][keep] if column in upcoming_odds else np.full(n_upcoming, np.nan),
                ]
            )
            for column in schema.ODDS_COLUMNS
            if column in odds or column in upcoming_odds
        }
        frame = pd.concat([history, upcoming], ignore_index=True) if n_history else upcoming
        frame = frame.reset_index(drop=True)
    else:
        frame = history
    for column in ("match_id", "league", "kickoff", "home_team", "away_team"):
        bad = frame[column].isna()
        if bad.any():
            first = frame.loc[bad.idxmax(), "match_id"]
            raise ValueError(
                f"build_features: {int(bad.sum())} row(s) without {column} (e.g. match_id {first!r})"
            )
    frame = frame.sort_values(["kickoff", "match_id"], kind="mergesort")
    order = frame.index.to_numpy()
    frame = frame.reset_index(drop=True)
    odds = {column: values[order] for column, values in odds.items()}
    ids = frame["match_id"].to_numpy(dtype=object)
    kick = _kickoff_ns(frame["kickoff"])
    duplicated = np.flatnonzero((kick[1:] == kick[:-1]) & (ids[1:] == ids[:-1]))
    if len(duplicated):
        raise ValueError(
            f"build_features: duplicate rows for match_id {ids[duplicated[0]]!r} at the same kickoff"
        )
    if frame["season"].isna().any():
        local = frame["kickoff"].dt.tz_convert(schema.UK)
        derived = local.dt.year - (local.dt.month < 7).astype("int64")
        frame["season"] = frame["season"].fillna(derived.astype("Int64"))
    return frame, odds


def _int_values(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values with 0 for nulls as int64, availability mask)."""
    available = series.notna().to_numpy(dtype=bool)
    return series.fillna(0).to_numpy(dtype=np.int64), available


def _kickoff_ns(series: pd.Series) -> np.ndarray:
    naive = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return naive.to_numpy().astype("datetime64[ns]").view(np.int64)


# --- the sequential pass: ratings ----------------------------------------------------------------

_SEQUENTIAL_COLUMNS: tuple[str, ...] = (
    ELO_COLUMNS + PI_COLUMNS + ("xg_home_model", "xg_away_model") + LEAGUE_COLUMNS
)


def _sequential_features(
    kick: np.ndarray,
    league: np.ndarray,
    season: np.ndarray,
    home: np.ndarray,
    away: np.ndarray,
    played: np.ndarray,
    home_goals: np.ndarray,
    away_goals: np.ndarray,
    n_teams: int,
    n_leagues: int,
) -> dict[str, np.ndarray]:
    """Elo, pi-ratings, the goals model and league averages: one pass in time order."""
    n = len(kick)
    league_l = league.tolist()
    season_l = season.tolist()
    home_l = home.tolist()
    away_l = away.tolist()
    played_l = played.tolist()
    hg_l = home_goals.tolist()
    ag_l = away_goals.tolist()

    cols = {name: [_NAN] * n for name in _SEQUENTIAL_COLUMNS}
    (o_elo_h, o_elo_a, o_elo_d, o_elo_ph, o_elo_pd, o_elo_pa) = (cols[c] for c in ELO_COLUMNS)
    (o_pi_hh, o_pi_ha, o_pi_ah, o_pi_aa, o_pi_diff, o_pi_gd) = (cols[c] for c in PI_COLUMNS)
    o_xg_h, o_xg_a = cols["xg_home_model"], cols["xg_away_model"]
    (o_lg_hg, o_lg_ag, o_lg_hw, o_lg_dr) = (cols[c] for c in LEAGUE_COLUMNS)

    # Elo state. A team's league is the league of its latest played match; the per-league
    # rating sums give a league's mean rating in O(1).
    elo_init = ratings.ELO_INIT
    elo_newcomer = ratings.ELO_NEWCOMER_OFFSET
    elo_reg = ratings.ELO_SEASON_REGRESSION
    elo_adv = ratings.ELO_HOME_ADV
    elo = [elo_init] * n_teams
    team_season = [-(10**9)] * n_teams  # season of the team's latest played match
    team_league = [-1] * n_teams
    lg_sum = [0.0] * n_leagues
    lg_cnt = [0] * n_leagues
    lg_first_season: list[int | None] = [None] * n_leagues
    # pi-ratings, goals model, league averages (exponentially weighted, with a prior).
    pi_home = [0.0] * n_teams
    pi_away = [0.0] * n_teams
    att = [0.0] * n_teams
    dfn = [0.0] * n_teams
    prior_w = ratings.LEAGUE_PRIOR_WEIGHT
    lg_den = [prior_w] * n_leagues
    lg_hg = [ratings.LEAGUE_PRIOR_HOME_GOALS * prior_w] * n_leagues
    lg_ag = [ratings.LEAGUE_PRIOR_AWAY_GOALS * prior_w] * n_leagues
    lg_hw = [ratings.LEAGUE_PRIOR_HOME_WIN * prior_w] * n_leagues
    lg_dr = [ratings.LEAGUE_PRIOR_DRAW * prior_w] * n_leagues
    keep = 1.0 - ratings.LEAGUE_EW_ALPHA
    eta = ratings.GOALS_LEARNING_RATE

    elo_probabilities = ratings.elo_probabilities
    elo_update = ratings.elo_update
    pi_update = ratings.pi_update
    pi_gd = ratings.pi_expected_goal_diff
    goals_expected = ratings.goals_expected

    def elo_pre(t: int, lg: int, s: int) -> float:
        """Rating of team t entering a match of league lg, season s (pure: no state change)."""
        if team_league[t] < 0:  # never played: default, or below the mean of an established league
            first = lg_first_season[lg]
            if first is not None and first < s and lg_cnt[lg] > 0:
                return lg_sum[lg] / lg_cnt[lg] - elo_newcomer
            return elo_init
        rating = elo[t]
        if s > team_season[t]:  # first match of a new season: regress toward the league mean
            if team_league[t] == lg:
                count = lg_cnt[lg] - 1
                total = lg_sum[lg] - rating
            else:
                count = lg_cnt[lg]
                total = lg_sum[lg]
            mean = total / count if count > 0 else elo_init
            return ratings.elo_regress(rating, mean, elo_reg)
        return rating

    def elo_commit(t: int, rating: float, lg: int, s: int) -> None:
        """Store a regressed/initial rating and move the team into league lg."""
        old = team_league[t]
        if old == lg:
            lg_sum[lg] += rating - elo[t]
        else:
            if old >= 0:
                lg_sum[old] -= elo[t]
                lg_cnt[old] -= 1
            lg_sum[lg] += rating
            lg_cnt[lg] += 1
            team_league[t] = lg
        elo[t] = rating
        if s > team_season[t]:
            team_season[t] = s

    def update(i: int, rh: float, ra: float, lam_h: float, lam_a: float, expected_gd: float) -> None:
        """Apply the result of played row i, given its pre-match values."""
        h = home_l[i]
        a = away_l[i]
        lg = league_l[i]
        s = season_l[i]
        gh = hg_l[i]
        ga = ag_l[i]

        if team_season[h] < s or team_league[h] != lg:
            elo_commit(h, rh, lg, s)
        if team_season[a] < s or team_league[a] != lg:
            elo_commit(a, ra, lg, s)
        delta = elo_update(rh, ra, gh, ga)
        elo[h] = rh + delta  # zero-sum within the league: its rating sum is unchanged
        elo[a] = ra - delta
        first = lg_first_season[lg]
        if first is None or s < first:
            lg_first_season[lg] = s

        pi_home[h], pi_away[h], pi_home[a], pi_away[a] = pi_update(
            pi_home[h], pi_away[h], pi_home[a], pi_away[a], gh, ga, expected=expected_gd
        )

        err_h = eta * (gh - lam_h)
        err_a = eta * (ga - lam_a)
        att[h] += err_h
        dfn[a] -= err_h
        att[a] += err_a
        dfn[h] -= err_a
        lg_den[lg] = lg_den[lg] * keep + 1.0
        lg_hg[lg] = lg_hg[lg] * keep + gh
        lg_ag[lg] = lg_ag[lg] * keep + ga
        lg_hw[lg] = lg_hw[lg] * keep + (1.0 if gh > ga else 0.0)
        lg_dr[lg] = lg_dr[lg] * keep + (1.0 if gh == ga else 0.0)

    bounds = [0, *(np.flatnonzero(np.diff(kick)) + 1).tolist(), n]
    pre: list[tuple[float, float, float, float, float]] = []
    for g in range(len(bounds) - 1):
        start, stop = bounds[g], bounds[g + 1]
        pre.clear()
        # Phase 1: features of the whole group of simultaneous rows from the current state.
        for i in range(start, stop):
            h = home_l[i]
            a = away_l[i]
            lg = league_l[i]
            s = season_l[i]

            rh = elo[h] if team_season[h] >= s else elo_pre(h, lg, s)
            ra = elo[a] if team_season[a] >= s else elo_pre(a, lg, s)
            diff = rh + elo_adv - ra
            o_elo_h[i] = rh
            o_elo_a[i] = ra
            o_elo_d[i] = diff
            o_elo_ph[i], o_elo_pd[i], o_elo_pa[i] = elo_probabilities(diff)

            hh = pi_home[h]
            aa = pi_away[a]
            expected_gd = pi_gd(hh) - pi_gd(aa)
            o_pi_hh[i] = hh
            o_pi_ha[i] = pi_away[h]
            o_pi_ah[i] = pi_home[a]
            o_pi_aa[i] = aa
            o_pi_diff[i] = hh - aa
            o_pi_gd[i] = expected_gd

            den = lg_den[lg]
            mu_h = lg_hg[lg] / den
            mu_a = lg_ag[lg] / den
            o_lg_hg[i] = mu_h
            o_lg_ag[i] = mu_a
            o_lg_hw[i] = lg_hw[lg] / den
            o_lg_dr[i] = lg_dr[lg] / den
            lam_h, lam_a = goals_expected(mu_h, mu_a, att[h], dfn[h], att[a], dfn[a])
            o_xg_h[i] = lam_h
            o_xg_a[i] = lam_a
            pre.append((rh, ra, lam_h, lam_a, expected_gd))

        # Phase 2: the group's results update the state, in match_id order. When no team plays
        # twice in the group (the normal case) each update starts from the values its features
        # were computed from. Otherwise (a data error) every update recomputes them from the
        # current state, so a team's second result builds on its first.
        size = stop - start
        clean = size == 1 or len(set(home_l[start:stop]) | set(away_l[start:stop])) == 2 * size
        for i in range(start, stop):
            if not played_l[i]:
                continue
            if clean:
                update(i, *pre[i - start])
                continue
            h = home_l[i]
            a = away_l[i]
            lg = league_l[i]
            s = season_l[i]
            den = lg_den[lg]
            lam_h, lam_a = goals_expected(lg_hg[lg] / den, lg_ag[lg] / den, att[h], dfn[h], att[a], dfn[a])
            update(
                i, elo_pre(h, lg, s), elo_pre(a, lg, s), lam_h, lam_a, pi_gd(pi_home[h]) - pi_gd(pi_away[a])
            )

    return {name: np.asarray(values, dtype=np.float64) for name, values in cols.items()}


# --- point-in-time lookups over played appearances (vectorised, exact) ----------------------------


class _History:
    """Played appearances grouped by an integer key (a team, a team in a league-season, ...),
    sorted by (key, slot), with exact integer prefix sums of their statistics.

    ``slot`` is the dense rank of the kickoff. A query (key, slot) sees the appearances of its
    key with a strictly smaller slot: never its own kickoff. Sums are differences of int64
    prefix sums, so a query's result does not depend on any other row.
    """

    def __init__(self, key: np.ndarray, slot: np.ndarray, values: np.ndarray, n_slots: int) -> None:
        self.stride = np.int64(n_slots + 1)
        sort_key = key.astype(np.int64) * self.stride + slot
        order = np.argsort(sort_key, kind="stable")
        self.order = order
        self.sort_key = sort_key[order]
        # values: (n_stats, n_appearances); cum[:, p] = sum of the first p sorted appearances
        self.cum = np.zeros((values.shape[0], len(order) + 1), dtype=np.int64)
        np.cumsum(values[:, order], axis=1, dtype=np.int64, out=self.cum[:, 1:])

    def locate(self, key: np.ndarray, slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(end, first): the query's visible appearances are sorted positions [first, end)."""
        key = key.astype(np.int64) * self.stride
        end = np.searchsorted(self.sort_key, key + slot, side="left")
        first = np.searchsorted(self.sort_key, key, side="left")
        return end, first

    def sums(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """(n_stats, n_queries) sums over the sorted positions [lo, hi)."""
        return np.take(self.cum, hi, axis=1) - np.take(self.cum, lo, axis=1)


def _appearance_values(
    rows: np.ndarray,
    goals_for: np.ndarray,
    goals_against: np.ndarray,
    shots: tuple[tuple[np.ndarray, np.ndarray], ...],
) -> np.ndarray:
    """Per-appearance int64 rows: points, gf, ga, shots_f, shots_a, sot_f, sot_a, then the
    availability (0/1) of the four shot statistics."""
    gf = goals_for[rows]
    ga = goals_against[rows]
    points = np.where(gf > ga, 3, np.where(gf == ga, 1, 0))
    stats = [points, gf, ga] + [values[rows] for values, _ in shots]
    stats += [available[rows] for _, available in shots]
    return np.stack(stats).astype(np.int64)


def _form_features(
    frame: pd.DataFrame, home: np.ndarray, away: np.ndarray, slot: np.ndarray, played: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Rolling form (``FORM_COLUMNS``) and rest days."""
    n_slots = int(slot[-1]) + 1 if len(slot) else 1
    kick = _kickoff_ns(frame["kickoff"])
    rows = np.flatnonzero(played)
    hg, _ = _int_values(frame["fthg"])
    ag, _ = _int_values(frame["ftag"])
    sh_h = _int_values(frame["home_shots"])
    sh_a = _int_values(frame["away_shots"])
    sot_h = _int_values(frame["home_shots_on_target"])
    sot_a = _int_values(frame["away_shots_on_target"])
    home_values = _appearance_values(rows, hg, ag, (sh_h, sh_a, sot_h, sot_a))
    away_values = _appearance_values(rows, ag, hg, (sh_a, sh_h, sot_a, sot_h))
    n_stats = len(FORM_STATS)

    def windows(
        history: _History, team: np.ndarray, prefix: str, out: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Window means of every query; returns (query order, end, first) in query order.

        Queries are processed sorted by (team, slot) so that the searches and gathers walk
        memory in order; results are scattered back to row order.
        """
        query_order = np.argsort(team.astype(np.int64) * history.stride + slot, kind="stable")
        end, first = history.locate(team[query_order], slot[query_order])
        for window in FORM_WINDOWS:
            lo = np.maximum(end - window, first)
            sums = history.sums(lo, end)
            matches = end - lo
            for j, stat in enumerate(FORM_STATS):
                count = matches if j < 3 else sums[n_stats + j - 3]  # shots: matches that have them
                mean = np.full(len(team), np.nan)
                np.divide(sums[j], count, out=mean, where=count > 0)
                scattered = np.empty(len(team))
                scattered[query_order] = mean
                out[f"{prefix}form{window}_{stat}"] = scattered
        return query_order, end, first

    form: dict[str, np.ndarray] = {}
    schedule: dict[str, np.ndarray] = {}
    both = _History(
        np.concatenate([home[rows], away[rows]]),
        np.concatenate([slot[rows], slot[rows]]),
        np.concatenate([home_values, away_values], axis=1),
        n_slots,
    )
    both_kick = np.concatenate([kick[rows], kick[rows]])[both.order]  # for the rest days
    for side, team in (("home", home), ("away", away)):
        query_order, end, first = windows(both, team, f"{side}_", form)
        rest = np.full(len(team), np.nan)
        if len(both_kick):
            previous = both_kick[np.maximum(end - 1, 0)]
            np.divide(kick[query_order] - previous, _NS_PER_DAY, out=rest, where=end > first)
        schedule[f"{side}_rest_days"] = np.empty(len(team))
        schedule[f"{side}_rest_days"][query_order] = rest
    windows(_History(home[rows], slot[rows], home_values, n_slots), home, "home_home_", form)
    windows(_History(away[rows], slot[rows], away_values, n_slots), away, "away_away_", form)
    return form, schedule


# --- league-season table (vectorised, exact) --------------------------------------------------------


def _table_features(
    league_season: np.ndarray,
    slot: np.ndarray,
    home: np.ndarray,
    away: np.ndarray,
    played: np.ndarray,
    home_goals: np.ndarray,
    away_goals: np.ndarray,
    n_teams: int,
) -> dict[str, np.ndarray]:
    """Season played/ppg/gdpg and normalised table position of both teams, as of before the row.

    For each league-season a matrix (kickoff slots of the league-season x its teams) holds each
    team's packed table key (points, goal difference, goals for) summed over the played rows
    of strictly earlier slots; a row's position counts the teams above and level with it in
    its slot's matrix row. Integer arithmetic throughout.
    """
    n = len(slot)
    out = {
        f"{side}_{name}": np.full(n, np.nan)
        for name in ("season_played", "season_ppg", "season_gdpg", "table_pos")
        for side in ("home", "away")
    }
    if n == 0:
        return out
    # Rows of each league-season in slot order, and their matrix row (one per distinct slot).
    order = np.argsort(league_season, kind="stable")
    ls_sorted = league_season[order]
    slot_sorted = slot[order]
    new_row = np.ones(n, dtype=bool)
    new_row[1:] = (ls_sorted[1:] != ls_sorted[:-1]) | (slot_sorted[1:] != slot_sorted[:-1])
    matrix_row = np.empty(n, dtype=np.int64)
    matrix_row[order] = np.cumsum(new_row) - 1
    n_matrix_rows = int(matrix_row[order[-1]]) + 1
    ls_first_row = np.full(int(league_season.max()) + 1, -1, dtype=np.int64)
    new_ls = np.ones(n, dtype=bool)
    new_ls[1:] = ls_sorted[1:] != ls_sorted[:-1]
    ls_first_row[ls_sorted[new_ls]] = matrix_row[order[new_ls]]
    # Column of each (league-season, team).
    pair = np.concatenate([league_season * n_teams + home, league_season * n_teams + away])
    unique_pairs, pair_index = np.unique(pair, return_inverse=True)
    pair_ls = unique_pairs // n_teams
    pair_col = np.arange(len(unique_pairs)) - np.searchsorted(pair_ls, pair_ls, side="left")
    col = pair_col[pair_index]
    col_home, col_away = col[:n], col[n:]
    n_cols = int(pair_col.max()) + 1

    # Increments of the packed key and of the match count at (matrix row, column).
    rows = np.flatnonzero(played)
    gh, ga = home_goals[rows], away_goals[rows]
    pts_h = np.where(gh > ga, 3, np.where(gh == ga, 1, 0))
    pts_a = np.where(ga > gh, 3, np.where(gh == ga, 1, 0))
    key_h = pts_h * _KEY_PTS + (gh - ga) * _KEY_GD + gh
    key_a = pts_a * _KEY_PTS + (ga - gh) * _KEY_GD + ga

    # League-seasons are processed in batches of whole league-seasons (consecutive matrix
    # rows) so that the matrices stay small.
    ls_of_row = np.empty(n_matrix_rows, dtype=np.int64)
    ls_of_row[matrix_row] = league_season
    row_p = matrix_row[rows]
    col_home_p, col_away_p = col_home[rows], col_away[rows]
    budget = max(_TABLE_BATCH_CELLS // n_cols, 1)
    start = 0
    while start < n_matrix_rows:
        stop = min(start + budget, n_matrix_rows)
        if stop < n_matrix_rows and ls_first_row[ls_of_row[stop]] > start:
            stop = int(ls_first_row[ls_of_row[stop]])
        elif stop < n_matrix_rows:  # one league-season larger than the budget: take it whole
            stop = int(np.searchsorted(ls_of_row, ls_of_row[stop], side="right"))
        size = stop - start
        keys = np.zeros((size, n_cols), dtype=np.int64)
        counts = np.zeros((size, n_cols), dtype=np.int64)
        sel = (row_p >= start) & (row_p < stop)
        for cols_p, key_p in ((col_home_p, key_h), (col_away_p, key_a)):
            np.add.at(keys, (row_p[sel] - start, cols_p[sel]), key_p[sel])
            np.add.at(counts, (row_p[sel] - start, cols_p[sel]), 1)
        # Exclusive prefix sums down the rows, restarted at each league-season's first row.
        keys = np.cumsum(keys, axis=0) - keys
        counts = np.cumsum(counts, axis=0) - counts
        restart = ls_first_row[ls_of_row[start:stop]] - start
        keys -= keys[restart]
        counts -= counts[restart]
        table = np.where(counts > 0, keys + _KEY_BASE, _KEY_ABSENT)

        query = np.flatnonzero((matrix_row >= start) & (matrix_row < stop))
        at = matrix_row[query] - start
        table_rows = table[at]
        present = (table_rows != _KEY_ABSENT).sum(axis=1)
        for side, team_col in (("home", col_home), ("away", col_away)):
            c = team_col[query]
            played_before = counts[at, c]
            in_table = played_before > 0
            mine = np.where(in_table, table[at, c], _KEY_BASE)
            greater = (table_rows > mine[:, None]).sum(axis=1)
            level = (table_rows == mine[:, None]).sum(axis=1) + ~in_table
            total = present + ~in_table
            with np.errstate(invalid="ignore", divide="ignore"):
                position = np.where(total > 1, (greater + (level + 1) / 2.0 - 1.0) / (total - 1), 0.5)
                points = mine // _KEY_PTS
                goal_diff = (mine % _KEY_PTS) // _KEY_GD - _KEY_GD
                out[f"{side}_season_ppg"][query] = np.where(in_table, points / played_before, np.nan)
                out[f"{side}_season_gdpg"][query] = np.where(in_table, goal_diff / played_before, np.nan)
            out[f"{side}_season_played"][query] = played_before
            out[f"{side}_table_pos"][query] = position
        start = stop
    return out


def _promotion_features(
    league: np.ndarray,
    season: np.ndarray,
    home: np.ndarray,
    away: np.ndarray,
    slot: np.ndarray,
    played: np.ndarray,
    n_teams: int,
) -> dict[str, np.ndarray]:
    """``*_promoted``: did the team play in this league in the previous season (before now)?"""
    n = len(slot)
    if n == 0:
        return {"home_promoted": np.full(0, np.nan), "away_promoted": np.full(0, np.nan)}
    offset = int(season.min()) - 1
    span = int(season.max()) - offset + 1
    ls_key = league.astype(np.int64) * span + (season - offset)
    never = np.iinfo(np.int64).max

    def first_slots(keys: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        unique, inverse = np.unique(keys, return_inverse=True)
        first = np.full(len(unique), never, dtype=np.int64)
        np.minimum.at(first, inverse, slots)
        return unique, first

    def lookup(table: tuple[np.ndarray, np.ndarray], keys: np.ndarray) -> np.ndarray:
        unique, first = table
        if len(unique) == 0:
            return np.full(len(keys), never, dtype=np.int64)
        pos = np.minimum(np.searchsorted(unique, keys), len(unique) - 1)
        return np.where(unique[pos] == keys, first[pos], never)

    rows = np.flatnonzero(played)
    leagues = first_slots(ls_key[rows], slot[rows])
    teams = first_slots(
        np.concatenate([ls_key[rows] * n_teams + home[rows], ls_key[rows] * n_teams + away[rows]]),
        np.concatenate([slot[rows], slot[rows]]),
    )
    previous = ls_key - 1
    league_known = lookup(leagues, previous) < slot
    out = {}
    for side, team in (("home", home), ("away", away)):
        was_there = lookup(teams, previous * n_teams + team) < slot
        out[f"{side}_promoted"] = np.where(league_known, np.where(was_there, 0.0, 1.0), np.nan)
    return out


# --- market ---------------------------------------------------------------------------------------


def _market_features(odds: dict[str, np.ndarray], n: int, timing: str) -> dict[str, np.ndarray]:
    chosen = np.full((n, 3), np.nan)
    have = np.zeros(n, dtype=bool)
    for book in BOOK_PREFERENCE:
        columns = [f"odds_{book}_{timing}_{outcome}" for outcome in schema.OUTCOMES]
        if not all(column in odds for column in columns):
            continue
        prices = np.stack([odds[column] for column in columns], axis=1)
        with np.errstate(invalid="ignore"):
            ok = ~have & (np.isfinite(prices) & (prices > 1.0)).all(axis=1)
        chosen[ok] = prices[ok]
        have |= ok
    probs = np.full((n, 3), np.nan)
    overround = np.full(n, np.nan)
    if have.any():
        probs[have], _ = ratings.remove_margin_shin(chosen[have])
        overround[have] = ratings.implied_probabilities(chosen[have])[1] - 1.0
    return {
        f"market_{timing}_p_home": probs[:, 0].copy(),
        f"market_{timing}_p_draw": probs[:, 1].copy(),
        f"market_{timing}_p_away": probs[:, 2].copy(),
        f"market_{timing}_overround": overround,
        f"market_{timing}_available": have.astype(np.float64),
    }


# --- public API -----------------------------------------------------------------------------------


def build_features(matches: pd.DataFrame | None, fixtures: pd.DataFrame | None = None) -> pd.DataFrame:
    """Point-in-time features of every played match and upcoming fixture.

    ``matches``: canonical played rows (``schema.MATCH_COLUMNS``; extra columns ignored,
    missing optional columns treated as null). ``fixtures``: canonical upcoming rows
    (``schema.FIXTURE_COLUMNS``) or None. Returns one row per match and fixture, sorted by
    (kickoff, match_id), with ``OUTPUT_KEY_COLUMNS`` (``played`` bool; ``result`` 'H'/'D'/'A'
    from the full-time score, null for rows without a score) then ``FEATURE_COLUMNS``
    (float64, NaN where documented in the module docstring).

    Raises ValueError for rows without a key (match_id, league, kickoff, teams) or with the same
    (kickoff, match_id) twice.
    """
    frame, odds = _prepare(matches, fixtures)
    n = len(frame)
    played = frame["played"].to_numpy(dtype=bool)
    kick = _kickoff_ns(frame["kickoff"])
    teams, team_names = pd.factorize(
        np.concatenate([frame["home_team"].to_numpy(dtype=object), frame["away_team"].to_numpy(dtype=object)])
    )
    n_teams = max(len(team_names), 1)
    home, away = teams[:n].astype(np.int64), teams[n:].astype(np.int64)
    league, league_names = pd.factorize(frame["league"].to_numpy(dtype=object))
    league = league.astype(np.int64)
    season = frame["season"].to_numpy(dtype=np.int64)
    league_season, _ = pd.factorize(league * 100_000 + season)
    hg, _ = _int_values(frame["fthg"])
    ag, _ = _int_values(frame["ftag"])
    # Dense rank of the kickoff: rows with the same slot are simultaneous.
    slot = np.concatenate(([0], np.cumsum(np.diff(kick) != 0))).astype(np.int64)[:n]

    features: dict[str, np.ndarray] = {}
    features.update(
        _sequential_features(
            kick, league, season, home, away, played, hg, ag, n_teams, max(len(league_names), 1)
        )
    )
    goals_probs = ratings.poisson_outcome_probabilities(features["xg_home_model"], features["xg_away_model"])
    features["goals_p_home"] = goals_probs[:, 0].copy()
    features["goals_p_draw"] = goals_probs[:, 1].copy()
    features["goals_p_away"] = goals_probs[:, 2].copy()
    form, schedule = _form_features(frame, home, away, slot, played)
    features.update(form)
    features.update(schedule)
    features.update(
        _table_features(league_season.astype(np.int64), slot, home, away, played, hg, ag, n_teams)
    )
    features.update(_promotion_features(league, season, home, away, slot, played, n_teams))
    features.update(_market_features(odds, n, "open"))
    features.update(_market_features(odds, n, "close"))

    result = np.full(n, None, dtype=object)
    result[played & (hg > ag)] = "H"
    result[played & (hg == ag)] = "D"
    result[played & (hg < ag)] = "A"
    out = {
        "match_id": frame["match_id"],
        "league": frame["league"],
        "season": frame["season"],
        "kickoff": frame["kickoff"],
        "home_team": frame["home_team"],
        "away_team": frame["away_team"],
        "played": played,
        "result": pd.array(result, dtype="string"),
    }
    for column in FEATURE_COLUMNS:
        out[column] = features[column]
    return pd.DataFrame(out)
