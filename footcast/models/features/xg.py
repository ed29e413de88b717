"""Expected-goals (xG) features: one pass in time order, like :mod:`.sequential`.

xG comes from a second source (Understat), joined to the rows by ``match_id``
(:func:`xg_arrays`). The state moves only with played matches; a row's features are read from
the state before its group of simultaneous rows (same kickoff) updates it, so a match's own xG,
and anything at or after its kickoff, never reaches its features. Which features exist, what
they mean and when they are missing: :mod:`footcast.models.features.columns`.

The xG rating is the goals model of :mod:`footcast.models.ratings` (online log-linear Poisson
attack/defence strengths) learning from a blend of xG and goals instead of goals alone:
``target = XG_RATING_XG_SHARE * xG + (1 - XG_RATING_XG_SHARE) * goals`` per side, with league
means of xG instead of goals. A played match without xG (a gap in the source) teaches it the
goals alone, once both teams have xG history, so a gap leaves it current rather than stale: it
is read for a match of a league with xG history whose teams both had a match with xG this
season or the last, while the rolling means, which only xG moves, are missing after a gap.
Reading the rating through a gap instead of dropping it to missing was checked on a simulated
gap (Bundesliga 2018/19 without xG after 12 December, as in the development copy's 2021/22): the
no-market model's xG gain on that league-season -0.0004 instead of +0.0005, and the prior's RPS
-0.0011 (xG rating through the gap rather than the goals model's probabilities).

Constants, chosen on the walk-forward of E0+D1 test seasons 2016/17-2020/21 (not the
2021/22-2024/25 seasons ``footcast evaluate`` reports; BENCHMARKS.md): learning rate 0.03 and
xG share 0.7 (RPS of the rating's own probabilities; 0.02-0.045 and 0.5-0.85 are within
0.0003), no regression between seasons (any made it worse), newcomers to a league with xG
history starting 0.1 below average in attack and defence (-0.0001). The rolling means weight
the latest match 0.05 (half-life about 14 matches): their difference predicts the next match's
xG difference better than 0.1-0.3 and than last-N means (N = 5-38); venue-only means predict
worse than the overall ones but are kept beside them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from footcast.models import ratings
from footcast.models.features.columns import XG_COLUMNS

XG_FORM_EW_ALPHA = 0.05
XG_RATING_LEARNING_RATE = 0.03
XG_RATING_XG_SHARE = 0.7
XG_LEAGUE_EW_ALPHA = 0.005
XG_NEWCOMER_OFFSET = 0.1
XG_INPUT_COLUMNS = ("match_id", "home_xg", "away_xg")

_NAN = math.nan
_NEVER = -(10**9)  # team_season of a team without a match with xG


def xg_arrays(frame: pd.DataFrame, xg: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """(home xG, away xG) of the frame's rows: NaN where the row is not played, has no row in
    ``xg``, or either value is missing or not finite. ``xg``: ``XG_INPUT_COLUMNS``, one row per
    match_id (ValueError otherwise); rows of matches not in ``frame`` are ignored."""
    n = len(frame)
    if xg is None or len(xg) == 0:
        return np.full(n, np.nan), np.full(n, np.nan)
    missing = [c for c in XG_INPUT_COLUMNS if c not in xg.columns]
    if missing:
        raise ValueError(f"build_features: xg lacks column(s) {', '.join(missing)}")
    ids = xg["match_id"]
    if ids.isna().any():
        raise ValueError("build_features: xg has rows without match_id")
    twice = ids.duplicated()
    if twice.any():
        raise ValueError(f"build_features: xg has match_id {ids[twice].iloc[0]!r} twice")
    values = pd.DataFrame(
        {side: pd.to_numeric(xg[side], errors="coerce").astype("float64") for side in ("home_xg", "away_xg")}
    )
    values.index = ids.to_numpy(dtype=object)
    aligned = values.reindex(frame["match_id"].to_numpy(dtype=object)).to_numpy(dtype=np.float64)
    home, away = aligned[:, 0].copy(), aligned[:, 1].copy()
    unusable = ~frame["played"].to_numpy(dtype=bool) | ~np.isfinite(home) | ~np.isfinite(away)
    home[unusable] = np.nan
    away[unusable] = np.nan
    return home, away


class _XgPass:
    """The rows (as lists) and the xG state of every team and league while the pass runs."""

    def __init__(
        self,
        league: np.ndarray,
        season: np.ndarray,
        home: np.ndarray,
        away: np.ndarray,
        played: np.ndarray,
        goals: tuple[np.ndarray, np.ndarray],
        xg: tuple[np.ndarray, np.ndarray],
        n_teams: int,
        n_leagues: int,
    ) -> None:
        self.league_l, self.season_l = league.tolist(), season.tolist()
        self.home_l, self.away_l = home.tolist(), away.tolist()
        self.played_l = played.tolist()
        self.hg_l, self.ag_l = goals[0].tolist(), goals[1].tolist()
        self.xh_l, self.xa_l = xg[0].tolist(), xg[1].tolist()
        self.has_xg_l = (np.isfinite(xg[0]) & np.isfinite(xg[1]) & played).tolist()
        # Exponentially weighted sums (weight, xG for, xG against): any venue, home, away.
        self.form = [[0.0] * n_teams for _ in range(3)]
        self.home_form = [[0.0] * n_teams for _ in range(3)]
        self.away_form = [[0.0] * n_teams for _ in range(3)]
        # Did the team's latest played match have xG? (False: none yet, or a gap in the source.)
        self.current = [False] * n_teams
        self.team_season = [_NEVER] * n_teams  # season of the team's latest match with xG
        self.att = [0.0] * n_teams
        self.dfn = [0.0] * n_teams
        prior_w = ratings.LEAGUE_PRIOR_WEIGHT
        self.lg_den = [prior_w] * n_leagues
        self.lg_home = [ratings.LEAGUE_PRIOR_HOME_GOALS * prior_w] * n_leagues
        self.lg_away = [ratings.LEAGUE_PRIOR_AWAY_GOALS * prior_w] * n_leagues
        self.lg_first_season: list[int | None] = [None] * n_leagues

    def expected(self, h: int, a: int, lg: int) -> tuple[float, float]:
        den = self.lg_den[lg]
        return ratings.goals_expected(
            self.lg_home[lg] / den, self.lg_away[lg] / den, self.att[h], self.dfn[h], self.att[a], self.dfn[a]
        )

    def read(self, i: int, out: dict[str, list[float]]) -> None:
        """The features of row i from the current state (no change to it)."""
        h, a = self.home_l[i], self.away_l[i]
        current = self.current
        sides = (("home", h, self.home_form, "home_home"), ("away", a, self.away_form, "away_away"))
        for side, t, venue, scope in sides:
            if not current[t]:
                continue
            weight = self.form[0][t]
            out[f"{side}_xg_for"][i] = self.form[1][t] / weight
            out[f"{side}_xg_against"][i] = self.form[2][t] / weight
            if venue[0][t] > 0.0:
                out[f"{scope}_xg_for"][i] = venue[1][t] / venue[0][t]
                out[f"{scope}_xg_against"][i] = venue[2][t] / venue[0][t]
        if self.rated(h, i) and self.rated(a, i) and self.lg_first_season[self.league_l[i]] is not None:
            lam_h, lam_a = self.expected(h, a, self.league_l[i])
            out["xg_rating_home_goals"][i] = lam_h
            out["xg_rating_away_goals"][i] = lam_a

    def rated(self, t: int, i: int) -> bool:
        """Does the xG rating know team t at row i: a match with xG this season or the last?
        (A gap in the source keeps it rated: the rating learns the gap's goals meanwhile.)"""
        return self.team_season[t] >= self.season_l[i] - 1

    def enter_season(self, t: int, lg: int, s: int) -> None:
        """A team's first match with xG of season s: a newcomer to a league with xG history
        starts below average."""
        if self.team_season[t] == _NEVER:
            first = self.lg_first_season[lg]
            if first is not None and first < s:
                self.att[t] = -XG_NEWCOMER_OFFSET
                self.dfn[t] = -XG_NEWCOMER_OFFSET
        self.team_season[t] = s

    def learn(self, h: int, a: int, lg: int, target_home: float, target_away: float) -> None:
        lam_h, lam_a = self.expected(h, a, lg)
        err_h = XG_RATING_LEARNING_RATE * (target_home - lam_h)
        err_a = XG_RATING_LEARNING_RATE * (target_away - lam_a)
        self.att[h] += err_h
        self.dfn[a] -= err_h
        self.att[a] += err_a
        self.dfn[h] -= err_a

    def update(self, i: int) -> None:
        """Apply played row i."""
        h, a, lg, s = self.home_l[i], self.away_l[i], self.league_l[i], self.season_l[i]
        gh, ga = self.hg_l[i], self.ag_l[i]
        if not self.has_xg_l[i]:
            self.current[h] = self.current[a] = False
            if self.team_season[h] != _NEVER and self.team_season[a] != _NEVER:
                self.learn(h, a, lg, gh, ga)
            return
        xh, xa = self.xh_l[i], self.xa_l[i]
        if self.lg_first_season[lg] is None:
            self.lg_first_season[lg] = s
        for t in (h, a):
            if self.team_season[t] < s:
                self.enter_season(t, lg, s)
        share = XG_RATING_XG_SHARE
        self.learn(h, a, lg, share * xh + (1.0 - share) * gh, share * xa + (1.0 - share) * ga)
        keep = 1.0 - XG_LEAGUE_EW_ALPHA
        self.lg_den[lg] = self.lg_den[lg] * keep + 1.0
        self.lg_home[lg] = self.lg_home[lg] * keep + xh
        self.lg_away[lg] = self.lg_away[lg] * keep + xa
        keep = 1.0 - XG_FORM_EW_ALPHA
        for t, venue, xg_for, xg_against in ((h, self.home_form, xh, xa), (a, self.away_form, xa, xh)):
            for sums in (self.form, venue):
                sums[0][t] = sums[0][t] * keep + 1.0
                sums[1][t] = sums[1][t] * keep + xg_for
                sums[2][t] = sums[2][t] * keep + xg_against
            self.current[t] = True

    def run(self, kick: np.ndarray) -> dict[str, np.ndarray]:
        n = len(kick)
        out = {name: [_NAN] * n for name in XG_COLUMNS}
        bounds = [0, *(np.flatnonzero(np.diff(kick)) + 1).tolist(), n]
        played_l = self.played_l
        for g in range(len(bounds) - 1):
            start, stop = bounds[g], bounds[g + 1]
            # Phase 1: the whole group of simultaneous rows; phase 2: their results, in
            # match_id order (a team twice in one group, a data error, updates twice in order).
            for i in range(start, stop):
                self.read(i, out)
            for i in range(start, stop):
                if played_l[i]:
                    self.update(i)
        columns = {name: np.asarray(values, dtype=np.float64) for name, values in out.items()}
        probs = ratings.poisson_outcome_probabilities(
            columns["xg_rating_home_goals"], columns["xg_rating_away_goals"]
        )
        for j, outcome in enumerate(("home", "draw", "away")):
            columns[f"xg_rating_p_{outcome}"] = probs[:, j].copy()
        return columns


def xg_features(
    kick: np.ndarray,
    league: np.ndarray,
    season: np.ndarray,
    home: np.ndarray,
    away: np.ndarray,
    played: np.ndarray,
    goals: tuple[np.ndarray, np.ndarray],
    xg: tuple[np.ndarray, np.ndarray],
    n_teams: int,
    n_leagues: int,
) -> dict[str, np.ndarray]:
    """``XG_COLUMNS`` of every row (rows in (kickoff, match_id) order; ``goals`` and ``xg`` are
    the (home, away) arrays, xG NaN where a row has none)."""
    state = _XgPass(league, season, home, away, played, goals, xg, n_teams, n_leagues)
    return state.run(kick)
