"""The sequential pass: Elo, pi-ratings, the goals model and league averages, in time order.

The one part of the features that is a loop over the rows: every played result moves the state
that later rows are rated from. The state lives in Python lists (per team, per league) because
the pass is scalar work, where lists beat numpy element access.
"""

from __future__ import annotations

import math

import numpy as np

from footcast.models import ratings
from footcast.models.features.columns import ELO_COLUMNS, LEAGUE_COLUMNS, PI_COLUMNS

SEQUENTIAL_COLUMNS: tuple[str, ...] = (
    ELO_COLUMNS + PI_COLUMNS + ("xg_home_model", "xg_away_model") + LEAGUE_COLUMNS
)
_NAN = math.nan


class _SequentialPass:
    """The rows (as lists) and the state of every rating system while the pass runs."""

    def __init__(
        self,
        league: np.ndarray,
        season: np.ndarray,
        home: np.ndarray,
        away: np.ndarray,
        played: np.ndarray,
        home_goals: np.ndarray,
        away_goals: np.ndarray,
        n_teams: int,
        n_leagues: int,
    ) -> None:
        self.league_l = league.tolist()
        self.season_l = season.tolist()
        self.home_l = home.tolist()
        self.away_l = away.tolist()
        self.played_l = played.tolist()
        self.hg_l = home_goals.tolist()
        self.ag_l = away_goals.tolist()

        # Elo state. A team's league is the league of its latest played match; the per-league
        # rating sums give a league's mean rating in O(1).
        self.elo = [ratings.ELO_INIT] * n_teams
        self.team_season = [-(10**9)] * n_teams  # season of the team's latest played match
        self.team_league = [-1] * n_teams
        self.lg_sum = [0.0] * n_leagues
        self.lg_cnt = [0] * n_leagues
        self.lg_first_season: list[int | None] = [None] * n_leagues
        # pi-ratings, goals model, league averages (exponentially weighted, with a prior).
        self.pi_home = [0.0] * n_teams
        self.pi_away = [0.0] * n_teams
        self.att = [0.0] * n_teams
        self.dfn = [0.0] * n_teams
        prior_w = ratings.LEAGUE_PRIOR_WEIGHT
        self.lg_den = [prior_w] * n_leagues
        self.lg_hg = [ratings.LEAGUE_PRIOR_HOME_GOALS * prior_w] * n_leagues
        self.lg_ag = [ratings.LEAGUE_PRIOR_AWAY_GOALS * prior_w] * n_leagues
        self.lg_hw = [ratings.LEAGUE_PRIOR_HOME_WIN * prior_w] * n_leagues
        self.lg_dr = [ratings.LEAGUE_PRIOR_DRAW * prior_w] * n_leagues

    def elo_pre(self, t: int, lg: int, s: int) -> float:
        """Rating of team t entering a match of league lg, season s (pure: no state change)."""
        lg_sum, lg_cnt = self.lg_sum, self.lg_cnt
        if self.team_league[t] < 0:  # never played: default, or below the mean of an established league
            first = self.lg_first_season[lg]
            if first is not None and first < s and lg_cnt[lg] > 0:
                return lg_sum[lg] / lg_cnt[lg] - ratings.ELO_NEWCOMER_OFFSET
            return ratings.ELO_INIT
        rating = self.elo[t]
        if s > self.team_season[t]:  # first match of a new season: regress toward the league mean
            if self.team_league[t] == lg:
                count = lg_cnt[lg] - 1
                total = lg_sum[lg] - rating
            else:
                count = lg_cnt[lg]
                total = lg_sum[lg]
            mean = total / count if count > 0 else ratings.ELO_INIT
            return ratings.elo_regress(rating, mean, ratings.ELO_SEASON_REGRESSION)
        return rating

    def elo_commit(self, t: int, rating: float, lg: int, s: int) -> None:
        """Store a regressed/initial rating and move the team into league lg."""
        elo, lg_sum, lg_cnt = self.elo, self.lg_sum, self.lg_cnt
        old = self.team_league[t]
        if old == lg:
            lg_sum[lg] += rating - elo[t]
        else:
            if old >= 0:
                lg_sum[old] -= elo[t]
                lg_cnt[old] -= 1
            lg_sum[lg] += rating
            lg_cnt[lg] += 1
            self.team_league[t] = lg
        elo[t] = rating
        if s > self.team_season[t]:
            self.team_season[t] = s

    def update(self, i: int, rh: float, ra: float, lam_h: float, lam_a: float, expected_gd: float) -> None:
        """Apply the result of played row i, given its pre-match values."""
        h = self.home_l[i]
        a = self.away_l[i]
        lg = self.league_l[i]
        s = self.season_l[i]
        gh = self.hg_l[i]
        ga = self.ag_l[i]
        team_season, team_league = self.team_season, self.team_league

        if team_season[h] < s or team_league[h] != lg:
            self.elo_commit(h, rh, lg, s)
        if team_season[a] < s or team_league[a] != lg:
            self.elo_commit(a, ra, lg, s)
        delta = ratings.elo_update(rh, ra, gh, ga)
        elo = self.elo
        elo[h] = rh + delta  # zero-sum within the league: its rating sum is unchanged
        elo[a] = ra - delta
        first = self.lg_first_season[lg]
        if first is None or s < first:
            self.lg_first_season[lg] = s

        pi_home, pi_away = self.pi_home, self.pi_away
        pi_home[h], pi_away[h], pi_home[a], pi_away[a] = ratings.pi_update(
            pi_home[h], pi_away[h], pi_home[a], pi_away[a], gh, ga, expected=expected_gd
        )

        eta = ratings.GOALS_LEARNING_RATE
        err_h = eta * (gh - lam_h)
        err_a = eta * (ga - lam_a)
        att, dfn = self.att, self.dfn
        att[h] += err_h
        dfn[a] -= err_h
        att[a] += err_a
        dfn[h] -= err_a
        keep = 1.0 - ratings.LEAGUE_EW_ALPHA
        self.lg_den[lg] = self.lg_den[lg] * keep + 1.0
        self.lg_hg[lg] = self.lg_hg[lg] * keep + gh
        self.lg_ag[lg] = self.lg_ag[lg] * keep + ga
        self.lg_hw[lg] = self.lg_hw[lg] * keep + (1.0 if gh > ga else 0.0)
        self.lg_dr[lg] = self.lg_dr[lg] * keep + (1.0 if gh == ga else 0.0)

    def apply_results(
        self, start: int, stop: int, pre: list[tuple[float, float, float, float, float]]
    ) -> None:
        """Phase 2: the results of the group of rows [start, stop) update the state, in match_id
        order. When no team plays twice in the group (the normal case) each update starts from
        the values its features were computed from (``pre``). Otherwise (a data error) every
        update recomputes them from the current state, so a team's second result builds on its
        first."""
        home_l, away_l = self.home_l, self.away_l
        size = stop - start
        clean = size == 1 or len(set(home_l[start:stop]) | set(away_l[start:stop])) == 2 * size
        for i in range(start, stop):
            if not self.played_l[i]:
                continue
            if clean:
                self.update(i, *pre[i - start])
                continue
            h = home_l[i]
            a = away_l[i]
            lg = self.league_l[i]
            s = self.season_l[i]
            den = self.lg_den[lg]
            lam_h, lam_a = ratings.goals_expected(
                self.lg_hg[lg] / den, self.lg_ag[lg] / den, self.att[h], self.dfn[h], self.att[a], self.dfn[a]
            )
            expected_gd = ratings.pi_expected_goal_diff(self.pi_home[h]) - ratings.pi_expected_goal_diff(
                self.pi_away[a]
            )
            self.update(i, self.elo_pre(h, lg, s), self.elo_pre(a, lg, s), lam_h, lam_a, expected_gd)

    def run(self, kick: np.ndarray) -> dict[str, np.ndarray]:
        """Features of every row, group of simultaneous rows (same kickoff) by group."""
        n = len(kick)
        home_l, away_l, league_l, season_l = self.home_l, self.away_l, self.league_l, self.season_l
        elo, team_season, elo_pre = self.elo, self.team_season, self.elo_pre
        pi_home, pi_away, att, dfn = self.pi_home, self.pi_away, self.att, self.dfn
        lg_den, lg_hg, lg_ag, lg_hw, lg_dr = self.lg_den, self.lg_hg, self.lg_ag, self.lg_hw, self.lg_dr
        elo_adv = ratings.ELO_HOME_ADV
        elo_probabilities = ratings.elo_probabilities
        pi_gd = ratings.pi_expected_goal_diff
        goals_expected = ratings.goals_expected

        cols = {name: [_NAN] * n for name in SEQUENTIAL_COLUMNS}
        (o_elo_h, o_elo_a, o_elo_d, o_elo_ph, o_elo_pd, o_elo_pa) = (cols[c] for c in ELO_COLUMNS)
        (o_pi_hh, o_pi_ha, o_pi_ah, o_pi_aa, o_pi_diff, o_pi_gd) = (cols[c] for c in PI_COLUMNS)
        o_xg_h, o_xg_a = cols["xg_home_model"], cols["xg_away_model"]
        (o_lg_hg, o_lg_ag, o_lg_hw, o_lg_dr) = (cols[c] for c in LEAGUE_COLUMNS)

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
            self.apply_results(start, stop, pre)

        return {name: np.asarray(values, dtype=np.float64) for name, values in cols.items()}


def sequential_features(
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
    state = _SequentialPass(league, season, home, away, played, home_goals, away_goals, n_teams, n_leagues)
    return state.run(kick)
