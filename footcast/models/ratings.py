"""Rating systems and probability helpers used by :mod:`footcast.models.features`.

Plain Python/numpy, no dagster. The scalar functions (Elo, pi-ratings, the goals model) are
what the feature builder's single time-ordered pass calls for every match, so the unit tests
of this module test exactly the arithmetic the features use.

Determinism note: every function here is *row-local*: the value for one match depends only on
that match's inputs, never on other rows of an array (no early stopping over a whole array,
no reductions across rows). Transcendental functions are evaluated with :mod:`math` (scalar
libm) rather than numpy's SIMD kernels, so a row's bits do not depend on where it sits in an
array. The leakage tests of the feature builder compare features bit for bit and rely on this.

Elo
---
Classic Elo with home advantage ``ELO_HOME_ADV`` (rating points added to the home side),
K factor ``ELO_K`` and the goal-difference multiplier of the World Football Elo Ratings
(eloratings.net): 1 for a draw or a one-goal margin, 1.5 for two goals, (11 + margin) / 8 for
three or more. Updates are zero-sum. Between seasons a rating is pulled toward the mean of
its league by ``ELO_SEASON_REGRESSION`` (see :func:`elo_regress`).

Elo-implied 1X2 probabilities use Davidson's (1970) extension of the Bradley-Terry model
to ties, on the Elo scale (:func:`elo_probabilities`): with ``x = 10 ** (diff / (2 * s))``,
``p_home = x / (x + 1/x + nu)``, ``p_draw = nu / (...)``, ``p_away = (1/x) / (...)``, where
``diff`` includes home advantage. ``nu`` and ``s`` are fixed constants (fitted once by
maximum likelihood on football-data E0+D1 1993/94-2024/25 Elo differences and then frozen),
so the mapping never looks at the data it is applied to. The Elo constants (K, home
advantage, regression, newcomer offset) were chosen by a coarse grid search on the same data
(log loss of these probabilities, seasons from 1996/97); the surface is flat around them.

pi-ratings (Constantinou & Fenton 2013)
---------------------------------------
Each team has a home rating ``R_H`` and an away rating ``R_A`` (0 for a new team). For home
team ``h`` and away team ``a``:

- expected goal difference against an average team: ``g(R) = sign(R) * (b ** (|R| / c) - 1)``
  with ``b = 10``, ``c = 3``; the match's expected goal difference is
  ``g(R_H[h]) - g(R_A[a])``;
- error ``e = |observed_gd - expected_gd|``, weighted by ``psi(e) = c * log10(1 + e)``;
- ``psi_H = +psi`` if the home side did better than expected, else ``-psi``; ``psi_A = -psi_H``;
- ``R_H[h] += lambda * psi_H``, ``R_A[h] += gamma * lambda * psi_H``,
  ``R_A[a] += lambda * psi_A``, ``R_H[a] += gamma * lambda * psi_A``,

with the paper's optimal learning rates ``lambda = 0.035`` and ``gamma = 0.7``.

Goals model
-----------
An online (stochastic-gradient) log-linear Poisson model, equivalent to exponentially
weighted attack and defence strengths:
``lambda_home = mu_home[league] * exp(att[h] - def[a])``,
``lambda_away = mu_away[league] * exp(att[a] - def[h])``. After a match, with learning rate
``GOALS_LEARNING_RATE``: ``att[h] += eta * (goals_h - lambda_home)``,
``def[a] -= eta * (goals_h - lambda_home)`` and symmetrically for the away goals. The league
means ``mu`` are exponentially weighted means (``LEAGUE_EW_ALPHA`` per match, with a prior of
``LEAGUE_PRIOR_WEIGHT`` pseudo-matches). Outcome probabilities assume independent Poisson
scores truncated at ``POISSON_MAX_GOALS`` goals each (renormalised).

Market margin removal: Shin's method
------------------------------------
Bookmaker prices ``o_i`` imply ``pi_i = 1 / o_i`` with booksum ``B = sum(pi_i) > 1`` (the
overround is ``B - 1``). Shin (1993) models the margin as protection against insider trading:
the true probabilities are
``p_i = (sqrt(z**2 + 4 * (1 - z) * pi_i**2 / B) - z) / (2 * (1 - z))``
with the insider share ``z`` chosen so that ``sum(p_i) = 1``. ``z`` solves
``g(z) = sum_i sqrt(z**2 + 4 * (1 - z) * pi_i**2 / B) - 2 - (n - 2) * z = 0`` (the
Jullien & Salanie 1994 fixed-point form). ``g`` is convex with ``g(0) > 0`` and ``g'(0) < 0``,
so Newton's method from ``z = 0`` rises monotonically to the root; it runs a fixed number of
steps (``SHIN_ITERATIONS``, far more than needed for machine precision) so that every row gets
the same computation. Unlike proportional
normalisation, Shin's method removes more margin from longshots than from favourites, which
corrects most of the favourite-longshot bias (Strumbelj 2014). Prices whose booksum is not
above 1 (no margin; e.g. best-price aggregates) are normalised proportionally.
"""

from __future__ import annotations

import math

import numpy as np

# --- Elo -------------------------------------------------------------------------------------

ELO_INIT = 1500.0
ELO_K = 15.0
ELO_HOME_ADV = 75.0
ELO_SEASON_REGRESSION = 0.1  # share of the distance to the league mean removed between seasons
ELO_NEWCOMER_OFFSET = 50.0  # a team new to an established league starts this far below its mean
ELO_DRAW_NU = 0.76  # Davidson tie parameter (draw share at equal strength: nu / (2 + nu))
ELO_PROB_SCALE = 324.0  # Elo points per factor of 10 in the Davidson odds (ML fit)


def elo_expected(diff: float) -> float:
    """Expected score of the side whose rating advantage (incl. home advantage) is ``diff``."""
    return 1.0 / (1.0 + math.pow(10.0, -diff / 400.0))


def elo_goal_multiplier(goal_difference: int) -> float:
    """World Football Elo margin multiplier: 1 (draw / 1 goal), 1.5 (2 goals), (11 + m) / 8."""
    margin = abs(goal_difference)
    if margin <= 1:
        return 1.0
    if margin == 2:
        return 1.5
    return (11.0 + margin) / 8.0


def elo_update(
    home_rating: float,
    away_rating: float,
    home_goals: int,
    away_goals: int,
    k: float = ELO_K,
    home_adv: float = ELO_HOME_ADV,
) -> float:
    """Rating change of the home team; the away team changes by the negative (zero-sum)."""
    if home_goals > away_goals:
        score = 1.0
    elif home_goals == away_goals:
        score = 0.5
    else:
        score = 0.0
    expected = elo_expected(home_rating + home_adv - away_rating)
    return k * elo_goal_multiplier(home_goals - away_goals) * (score - expected)


def elo_regress(rating: float, mean: float, fraction: float = ELO_SEASON_REGRESSION) -> float:
    """Between-season regression: move ``rating`` a ``fraction`` of the way toward ``mean``."""
    return rating + fraction * (mean - rating)


def elo_probabilities(
    diff: float, nu: float = ELO_DRAW_NU, scale: float = ELO_PROB_SCALE
) -> tuple[float, float, float]:
    """Davidson home/draw/away probabilities from an Elo difference incl. home advantage."""
    x = math.pow(10.0, diff / (2.0 * scale))
    y = 1.0 / x
    total = x + y + nu
    return x / total, nu / total, y / total


# --- pi-ratings ------------------------------------------------------------------------------

PI_LAMBDA = 0.035
PI_GAMMA = 0.7
PI_B = 10.0
PI_C = 3.0


def pi_expected_goal_diff(rating: float) -> float:
    """Expected goal difference against an average team of a pi-rating: sign(R)(b^(|R|/c) - 1)."""
    value = math.pow(PI_B, abs(rating) / PI_C) - 1.0
    return value if rating >= 0.0 else -value


def pi_update(
    home_home: float,
    home_away: float,
    away_home: float,
    away_away: float,
    home_goals: int,
    away_goals: int,
    lam: float = PI_LAMBDA,
    gamma: float = PI_GAMMA,
    expected: float | None = None,
) -> tuple[float, float, float, float]:
    """One pi-rating update; returns the new (home team's R_H, R_A, away team's R_H, R_A).

    ``expected`` is the match's expected goal difference if the caller already has it
    (it must equal ``g(home_home) - g(away_away)``).
    """
    if expected is None:
        expected = pi_expected_goal_diff(home_home) - pi_expected_goal_diff(away_away)
    observed = home_goals - away_goals
    weighted = PI_C * math.log10(1.0 + abs(observed - expected))
    psi_home = weighted if expected < observed else -weighted
    psi_away = -psi_home
    return (
        home_home + psi_home * lam,
        home_away + psi_home * lam * gamma,
        away_home + psi_away * lam * gamma,
        away_away + psi_away * lam,
    )


# --- goals model -----------------------------------------------------------------------------

GOALS_LEARNING_RATE = 0.016
LEAGUE_EW_ALPHA = 0.002
LEAGUE_PRIOR_WEIGHT = 20.0
LEAGUE_PRIOR_HOME_GOALS = 1.5
LEAGUE_PRIOR_AWAY_GOALS = 1.15
LEAGUE_PRIOR_HOME_WIN = 0.45
LEAGUE_PRIOR_DRAW = 0.27
POISSON_MAX_GOALS = 15


def goals_expected(
    mu_home: float, mu_away: float, att_home: float, def_home: float, att_away: float, def_away: float
) -> tuple[float, float]:
    """Expected goals (home, away) of the goals model."""
    return mu_home * math.exp(att_home - def_away), mu_away * math.exp(att_away - def_home)


def poisson_outcome_probabilities(
    lam_home: np.ndarray, lam_away: np.ndarray, max_goals: int = POISSON_MAX_GOALS
) -> np.ndarray:
    """(N, 3) home/draw/away probabilities of independent Poisson scores (row-local, exact)."""
    lam_home = np.asarray(lam_home, dtype=np.float64)
    lam_away = np.asarray(lam_away, dtype=np.float64)
    n = lam_home.shape[0]
    out = np.full((n, 3), np.nan)
    ok = np.isfinite(lam_home) & np.isfinite(lam_away) & (lam_home > 0) & (lam_away > 0)
    if not ok.any():
        return out
    lh, la = lam_home[ok], lam_away[ok]
    ph = np.fromiter(map(math.exp, (-lh).tolist()), dtype=np.float64, count=lh.shape[0])
    pa = np.fromiter(map(math.exp, (-la).tolist()), dtype=np.float64, count=la.shape[0])
    cdf_h = np.zeros_like(lh)
    cdf_a = np.zeros_like(la)
    p_home = np.zeros_like(lh)
    p_draw = np.zeros_like(lh)
    p_away = np.zeros_like(lh)
    for goals in range(max_goals + 1):
        if goals:
            ph = ph * lh / goals
            pa = pa * la / goals
        p_home += ph * cdf_a  # home scores `goals`, away fewer
        p_away += pa * cdf_h
        p_draw += ph * pa
        cdf_h = cdf_h + ph
        cdf_a = cdf_a + pa
    total = p_home + p_draw + p_away
    out[ok, 0] = p_home / total
    out[ok, 1] = p_draw / total
    out[ok, 2] = p_away / total
    return out


# --- market ----------------------------------------------------------------------------------

SHIN_ITERATIONS = 12


def implied_probabilities(odds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw implied probabilities ``1 / odds`` (N, k) and the booksum (N,), row-local."""
    odds = np.asarray(odds, dtype=np.float64)
    raw = 1.0 / odds
    booksum = raw[:, 0].copy()
    for j in range(1, raw.shape[1]):
        booksum = booksum + raw[:, j]
    return raw, booksum


def remove_margin_proportional(odds: np.ndarray) -> np.ndarray:
    """Margin-free probabilities by proportional normalisation ``(1/o_i) / sum(1/o_j)``."""
    raw, booksum = implied_probabilities(odds)
    return raw / booksum[:, None]


def remove_margin_shin(odds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Margin-free probabilities by Shin's method; returns (probs (N, k), z (N,)).

    ``odds`` is (N, k) with k >= 3 decimal prices > 1. Rows with a booksum <= 1 are
    normalised proportionally (z = 0). Rows containing NaN give NaN.
    """
    odds = np.asarray(odds, dtype=np.float64)
    if odds.ndim != 2 or odds.shape[1] < 3:
        raise ValueError("remove_margin_shin needs an (N, k) array of prices with k >= 3 outcomes")
    k = odds.shape[1]
    raw, booksum = implied_probabilities(odds)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = raw * raw / booksum[:, None]
        # Newton's method on g(z) = sum_i sqrt(z^2 + 4 (1 - z) s_i) - 2 - (k - 2) z, which is
        # convex with g(0) > 0 and g'(0) < 0: from z = 0 the iterates increase monotonically
        # to the root in (0, 1) (quadratic convergence; later steps change nothing).
        z = np.zeros(odds.shape[0])
        for _ in range(SHIN_ITERATIONS):
            g = -2.0 - (k - 2) * z
            slope = -(k - 2) + 0.0 * z
            for j in range(k):
                root = np.sqrt(z * z + 4.0 * (1.0 - z) * share[:, j])
                g = g + root
                slope = slope + (z - 2.0 * share[:, j]) / root
            z = z - g / slope
        probs = (np.sqrt(z[:, None] * z[:, None] + 4.0 * (1.0 - z[:, None]) * share) - z[:, None]) / (
            2.0 * (1.0 - z[:, None])
        )
        total = probs[:, 0].copy()
        for j in range(1, k):
            total = total + probs[:, j]
        probs = probs / total[:, None]
        flat = booksum <= 1.0
        if flat.any():
            probs[flat] = raw[flat] / booksum[flat, None]
            z[flat] = 0.0
    return probs, z
