"""What happens on the pitch: team strength, the score model, the season chain of a country
(promotion and relegation) and match statistics."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from footcast.data.simulator.leagues import FIRST_SEASON
from footcast.data.simulator.schedule import round_robin
from footcast.data.simulator.streams import (
    S_DRIFT,
    S_EVOLVE,
    S_FIXTURES,
    S_GOALS,
    S_INIT,
    S_TABLE,
    random_stream,
)

MAX_GOALS = 15

_MU = {1: 0.11, 2: 0.05}  # log of the base scoring rate per side, by tier
_RHO = -0.10  # Dixon-Coles low-score dependence (more 0-0 and 1-1)
_SIGMA_CLUB = 0.55  # sd of the long-run club level (quality scale)
_SIGMA_FORM = 0.32  # stationary sd of the season-to-season deviation
_PHI = 0.72  # AR(1) persistence of the deviation between seasons
_TOP_FLIGHT_BONUS = 0.12  # long-run pull of top-flight money on the deviation
_SIGMA_ROUND = 0.012  # within-season drift of quality per round
_SIGMA_STYLE = 0.07  # sd of the style (open vs. cagey)
_PHI_STYLE = 0.8
_HT_SHARE = 0.44  # share of goals scored before half-time
_MAX_LOG_LAMBDA = math.log(4.0)  # no side expects more than 4 goals, however lopsided the match

# The market's error on each team's quality (log expected goals), drawn with the season.
_MARKET_TEAM_SD = 0.06  # per team-season, shared by opening and closing prices


def _home_advantage(season: int) -> float:
    """Log home advantage: slowly declining, near zero behind closed doors (2020/21)."""
    if season == 2020:
        return 0.08
    return 0.345 - 0.002 * (min(season, 2030) - FIRST_SEASON)


_GOALS = np.arange(MAX_GOALS + 1)
_LOG_FACTORIAL = np.array([math.lgamma(k + 1) for k in _GOALS])


def _poisson_pmf(lam: np.ndarray) -> np.ndarray:
    """(n, MAX_GOALS + 1) Poisson probabilities of 0..MAX_GOALS goals."""
    return np.exp(_GOALS * np.log(lam)[:, None] - lam[:, None] - _LOG_FACTORIAL)


def outcome_probs(lam_h: np.ndarray, lam_a: np.ndarray) -> np.ndarray:
    """(n, 3) probabilities of home win, draw, away win under the score model.

    Exact for the Dixon-Coles matrix truncated at MAX_GOALS, in O(n * MAX_GOALS): the independent
    double Poisson through cumulative sums, then the four corrected low-score cells."""
    ph, pa = _poisson_pmf(lam_h), _poisson_pmf(lam_a)
    cum_h, cum_a = np.cumsum(ph, axis=1), np.cumsum(pa, axis=1)
    home = (ph[:, 1:] * cum_a[:, :-1]).sum(axis=1)
    away = (pa[:, 1:] * cum_h[:, :-1]).sum(axis=1)
    draw = (ph * pa).sum(axis=1)
    p00, p01, p10, p11 = ph[:, 0] * pa[:, 0], ph[:, 0] * pa[:, 1], ph[:, 1] * pa[:, 0], ph[:, 1] * pa[:, 1]
    draw = draw - p00 * lam_h * lam_a * _RHO - p11 * _RHO
    away = away + p01 * lam_h * _RHO
    home = home + p10 * lam_a * _RHO
    probs = np.stack([home, draw, away], axis=1)
    return probs / probs.sum(axis=1, keepdims=True)


def _dixon_coles_tau(hg: np.ndarray, ag: np.ndarray, lam_h: np.ndarray, lam_a: np.ndarray) -> np.ndarray:
    tau = np.ones(len(hg))
    low = (hg <= 1) & (ag <= 1)
    tau = np.where(low & (hg == 0) & (ag == 0), 1.0 - lam_h * lam_a * _RHO, tau)
    tau = np.where(low & (hg == 0) & (ag == 1), 1.0 + lam_h * _RHO, tau)
    tau = np.where(low & (hg == 1) & (ag == 0), 1.0 + lam_a * _RHO, tau)
    return np.where(low & (hg == 1) & (ag == 1), 1.0 - _RHO, tau)


def _sample_scores(
    lam_h: np.ndarray, lam_a: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Exact draws from the truncated Dixon-Coles model, by rejection from two Poisson draws."""
    n = len(lam_h)
    home, away = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    bound = np.maximum.reduce([1.0 - lam_h * lam_a * _RHO, 1.0 + lam_h * _RHO, 1.0 + lam_a * _RHO])
    bound = np.maximum(bound, 1.0 - _RHO)
    todo = np.arange(n)
    while todo.size:
        hg, ag = rng.poisson(lam_h[todo]), rng.poisson(lam_a[todo])
        tau = _dixon_coles_tau(hg, ag, lam_h[todo], lam_a[todo])
        accept = (rng.random(todo.size) * bound[todo] < tau) & (hg <= MAX_GOALS) & (ag <= MAX_GOALS)
        home[todo[accept]], away[todo[accept]] = hg[accept], ag[accept]
        todo = todo[~accept]
    return home, away


@dataclass(frozen=True)
class LeagueSeason:
    """The simulated core of one league-season (team ids are country-local)."""

    teams: np.ndarray
    round: np.ndarray
    home: np.ndarray
    away: np.ndarray
    lam_h: np.ndarray
    lam_a: np.ndarray
    fthg: np.ndarray
    ftag: np.ndarray
    ranking: np.ndarray  # teams ordered by final table position


@dataclass(frozen=True)
class _CountrySeason:
    season: int
    club: np.ndarray  # long-run club level (constant over seasons)
    form: np.ndarray  # deviation from the club level at season start
    style: np.ndarray
    tiers: tuple[np.ndarray, np.ndarray]  # team ids of tier 1 and tier 2, sorted
    leagues: tuple[LeagueSeason, LeagueSeason]
    market_error: np.ndarray  # the market's error on each team's quality this season


_CHAINS: dict[tuple[int, int, int, int], list[_CountrySeason]] = {}
_CHAIN_LOCK = threading.Lock()


def _table_ranking(
    teams: np.ndarray,
    home: np.ndarray,
    away: np.ndarray,
    hg: np.ndarray,
    ag: np.ndarray,
    tiebreak: np.ndarray,
) -> np.ndarray:
    """Teams ordered by points, goal difference, goals scored (then a random tie-break)."""
    size = int(teams.max()) + 1
    home_points = np.where(hg > ag, 3, np.where(hg == ag, 1, 0))
    away_points = np.where(ag > hg, 3, np.where(hg == ag, 1, 0))
    points = np.bincount(home, home_points, size) + np.bincount(away, away_points, size)
    scored = np.bincount(home, hg, size) + np.bincount(away, ag, size)
    conceded = np.bincount(home, ag, size) + np.bincount(away, hg, size)
    order = np.lexsort((tiebreak, -scored[teams], -(scored - conceded)[teams], -points[teams]))
    return teams[order]


def _drift(country: int, season: int, seed: int, n_rounds: int, size: int) -> np.ndarray:
    """Within-season drift of quality: (n_rounds + 1, size), zero at the first round."""
    rng = random_stream(seed, S_DRIFT, country, season)
    steps = rng.normal(0.0, _SIGMA_ROUND, (n_rounds, size))
    return np.vstack([np.zeros((1, size)), np.cumsum(steps, axis=0)])


def _simulate_league_season(
    teams: np.ndarray, tier: int, season: int, quality: np.ndarray, style: np.ndarray, keys: tuple[int, ...]
) -> LeagueSeason:
    n = len(teams)
    rng_fixtures = random_stream(*keys[:1], S_FIXTURES, *keys[1:])
    slots = teams[rng_fixtures.permutation(n)]
    rnd, home_slot, away_slot = round_robin(n, rng_fixtures)
    home, away = slots[home_slot], slots[away_slot]
    q_home, q_away = quality[rnd, home], quality[rnd, away]
    openness = style[home] + style[away]
    log_h = _MU[tier] + _home_advantage(season) + (q_home - q_away) / 2 + openness
    log_a = _MU[tier] + (q_away - q_home) / 2 + openness
    lam_h, lam_a = np.exp(np.minimum(log_h, _MAX_LOG_LAMBDA)), np.exp(np.minimum(log_a, _MAX_LOG_LAMBDA))
    fthg, ftag = _sample_scores(lam_h, lam_a, random_stream(*keys[:1], S_GOALS, *keys[1:]))
    tiebreak = random_stream(*keys[:1], S_TABLE, *keys[1:]).random(n)
    ranking = _table_ranking(teams, home, away, fthg, ftag, tiebreak)
    return LeagueSeason(teams, rnd, home, away, lam_h, lam_a, fthg, ftag, ranking)


def _next_country_season(
    previous: _CountrySeason | None, country: int, seed: int, n_teams: int, exchange: int
) -> _CountrySeason:
    size, n_rounds = 2 * n_teams, 2 * (n_teams - 1)
    if previous is None:
        season = FIRST_SEASON
        rng = random_stream(seed, S_INIT, country)
        club = rng.normal(0.0, _SIGMA_CLUB, size)
        form = rng.normal(0.0, _SIGMA_FORM, size)
        style = rng.normal(0.0, _SIGMA_STYLE, size)
        order = np.argsort(-(club + form + rng.normal(0.0, 0.25, size)), kind="stable")
        tiers = (np.sort(order[:n_teams]), np.sort(order[n_teams:]))
        market_error = rng.normal(0.0, _MARKET_TEAM_SD, size)
    else:
        season = previous.season + 1
        rng = random_stream(seed, S_EVOLVE, country, season)
        end_form = previous.form + _drift(country, previous.season, seed, n_rounds, size)[-1]
        top_flight = np.zeros(size)
        top_flight[previous.tiers[0]] = 1.0
        form = (
            _PHI * end_form
            + (1 - _PHI) * _TOP_FLIGHT_BONUS * top_flight
            + rng.normal(0.0, _SIGMA_FORM * math.sqrt(1 - _PHI**2), size)
        )
        style = _PHI_STYLE * previous.style + rng.normal(
            0.0, _SIGMA_STYLE * math.sqrt(1 - _PHI_STYLE**2), size
        )
        club = previous.club
        market_error = rng.normal(0.0, _MARKET_TEAM_SD, size)
        down = previous.leagues[0].ranking[n_teams - exchange :]
        up = previous.leagues[1].ranking[:exchange]
        tiers = (
            np.sort(np.concatenate([np.setdiff1d(previous.tiers[0], down), up])),
            np.sort(np.concatenate([np.setdiff1d(previous.tiers[1], up), down])),
        )
    quality = club + form + _drift(country, season, seed, n_rounds, size)
    first, second = (
        _simulate_league_season(tiers[t], t + 1, season, quality, style, (seed, country, season, t + 1))
        for t in range(2)
    )
    return _CountrySeason(season, club, form, style, tiers, (first, second), market_error)


def country_season(
    country: int, season: int, seed: int, n_teams: int = 20, exchange: int = 3
) -> _CountrySeason:
    """State and results of both leagues of a country in a season (chain from FIRST_SEASON, cached)."""
    key = (country, seed, n_teams, exchange)
    index = season - FIRST_SEASON
    with _CHAIN_LOCK:
        chain = _CHAINS.setdefault(key, [])
        while len(chain) <= index:
            chain.append(_next_country_season(chain[-1] if chain else None, country, seed, n_teams, exchange))
        return chain[index]


def match_statistics(ls: LeagueSeason, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Half-time goals and match statistics, driven by the expected goals of both sides."""
    n = len(ls.home)
    goals = np.stack([ls.fthg, ls.ftag], axis=1)  # (n, 2): home, away
    lam = np.stack([ls.lam_h, ls.lam_a], axis=1)
    edge = np.log(lam) - np.log(lam[:, ::-1])  # how much stronger than the opponent
    away = np.array([0.0, 1.0])
    noise = rng.gamma(8.0, 1.0 / 8.0, (4, n, 2))  # over-dispersion: team-match form
    half_time = rng.binomial(goals, _HT_SHARE)
    on_target = goals + rng.poisson(noise[0] * (1.5 + 1.5 * lam))
    shots = on_target + rng.poisson(noise[1] * (4.5 + 3.0 * lam))
    fouls = rng.poisson(noise[2] * 10.4 * np.exp(-0.12 * edge))
    corners = rng.poisson(noise[3] * (1.6 + 0.28 * shots))
    yellow = rng.poisson(0.1 + 0.15 * fouls + 0.2 * away)
    red = np.minimum(rng.poisson(np.broadcast_to(0.05 + 0.015 * away, (n, 2))), 3)
    out = {"hthg": half_time[:, 0], "htag": half_time[:, 1]}
    for name, values in (
        ("shots", shots),
        ("shots_on_target", on_target),
        ("corners", corners),
        ("fouls", fouls),
        ("yellow", yellow),
        ("red", red),
    ):
        out[f"home_{name}"], out[f"away_{name}"] = values[:, 0], values[:, 1]
    return out
