"""Simulated football leagues in the canonical match schema (offline demo, tests, benchmarks).

The simulator is a source like football-data.co.uk: it writes one league x season partition at a
time, as canonical rows (:mod:`footcast.data.schema`), with lineage
(``source="simulator"``, ``source_url="simulator://SIM1/2024-25"``, a sha256 of the partition's
content, 1-based ``source_line``).

Model
-----
- A *country* holds a pair of leagues: ``SIM1`` (tier 1) and ``SIM2`` (tier 2) form country 0,
  ``SIM3``/``SIM4`` country 1, and so on (:func:`simulated_league` knows every ``SIMn``). The 40
  teams of a country have a latent quality ``q`` (goal-supremacy scale, log of expected goals)
  and a style ``s`` (open vs. cagey): attack = q/2 + s, defence = q/2 - s. Quality is a
  long-run club level plus a deviation that follows an AR(1) between seasons (a mean-reverting
  random walk, with a small pull up for top-flight money) and drifts round by round within a
  season.
- Scores come from a Dixon-Coles corrected double Poisson truncated at 15 goals, drawn exactly
  (rejection from two Poisson draws):
  ``log lambda_home = mu_tier + home_adv + att_home - def_away``,
  ``log lambda_away = mu_tier + att_away - def_home``; the home advantage declines slowly over the
  years and nearly vanishes in 2020/21 (closed doors). Half-time goals are a binomial split of
  full-time goals; shots, shots on target, corners, fouls and cards are over-dispersed counts
  driven by the expected goals (so by strength).
- Season ``s`` is simulated for both leagues of a country; its final table (points, goal
  difference, goals scored, then a random draw) sends the bottom 3 of tier 1 down and the top 3
  of tier 2 up for ``s + 1``. The chain starts at :data:`FIRST_SEASON` and is cached per
  (country, seed).
- Fixtures: a double round robin (circle method with alternating home/away, second half
  mirrored) on a calendar from early August to May: weekend rounds (Friday to Monday),
  international and cup breaks, Boxing Day, and midweek rounds (Tuesday/Wednesday) where needed;
  UK local kickoffs at 12:30/15:00/17:30/19:45/20:00 converted with
  :func:`schema.uk_kickoff_to_utc`. Rounds never share or touch a day, so no team plays twice on
  a day (nor on consecutive days).
- Odds: the market believes a noisy version of the true expected goals (a per team-season error
  that opening and closing prices share, plus per-match noise that is larger for opening
  prices). Books add their own noise and a margin with a power-method shape (longshots carry
  more of it): "b365" (~8% in 1993 down to ~5%), "ps" (~2.5-3%), "avg" (~8% down to ~5.5%) and
  "max" (the best price over those books and a low-margin one: overround about -1%..+1%).
  Prices are rounded to 2 decimals and never below 1.02. Other books of the schema stay null.

Every random draw comes from a stream keyed by (seed, country, season[, tier], purpose), so a
partition does not depend on what was simulated before it, or in which order.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from footcast.data import schema

FIRST_SEASON: int = 1993
# Last season of the played history written by :func:`simulate_history` (fixed, so that the
# history does not depend on the day it is generated).
HISTORY_LAST_SEASON: int = 2024
SOURCE = "simulator"

MAX_GOALS = 15
KICKOFF_TIMES: tuple[time, ...] = (time(12, 30), time(15, 0), time(17, 30), time(19, 45), time(20, 0))
SIMULATED_BOOKS: tuple[str, ...] = ("b365", "ps", "avg", "max")


@dataclass(frozen=True)
class SimulatedLeague:
    """One simulated league; leagues ``2k+1`` (tier 1) and ``2k+2`` (tier 2) share country ``k``."""

    code: str
    name: str
    country: str
    country_index: int
    tier: int
    n_teams: int = 20
    exchange: int = 3  # teams promoted / relegated between the two tiers each season

    @property
    def partner(self) -> str:
        """Code of the other league of the same country (promotion/relegation partner)."""
        number = 2 * self.country_index + (2 if self.tier == 1 else 1)
        return f"SIM{number}"


_COUNTRY_NAMES: tuple[str, ...] = (
    "Simland",
    "Norvania",
    "Castoria",
    "Valmora",
    "Estria",
    "Lunaria",
    "Brevonia",
    "Ostmark",
    "Pellucia",
    "Rendalia",
    "Tarvosia",
    "Kelmark",
)
_TIER_NAMES = {1: "Premier Division", 2: "First Division"}


def _country_name(index: int) -> str:
    if index < len(_COUNTRY_NAMES):
        return _COUNTRY_NAMES[index]
    return f"Simland {index + 1}"


@cache
def simulated_league(code: str) -> SimulatedLeague:
    """The league behind a code ``SIMn`` (n >= 1): odd n is tier 1, even n tier 2 of country (n-1)//2."""
    digits = code[3:] if code.startswith("SIM") else ""
    if not digits.isdigit() or digits.startswith("0") or int(digits) < 1:
        raise ValueError(f"not a simulated league code: {code!r} (expected 'SIM1', 'SIM2', ...)")
    number = int(digits)
    country_index, tier = (number - 1) // 2, 1 if number % 2 == 1 else 2
    country = _country_name(country_index)
    return SimulatedLeague(
        code=code,
        name=f"{country} {_TIER_NAMES[tier]}",
        country=country,
        country_index=country_index,
        tier=tier,
    )


SIMULATED_LEAGUES: dict[str, SimulatedLeague] = {code: simulated_league(code) for code in ("SIM1", "SIM2")}

# --------------------------------------------------------------------------------------------
# Model parameters
# --------------------------------------------------------------------------------------------

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

# Market: log expected-goals errors of the market's belief.
_MARKET_TEAM_SD = 0.06  # per team-season, shared by opening and closing prices
_MARKET_CLOSE_SD = 0.07  # per match, closing
_MARKET_OPEN_EXTRA_SD = 0.10  # per match, added on top for opening prices
_BOOK_NOISE = {"b365": 0.03, "ps": 0.015, "avg": 0.012, "max": 0.015}  # log-probability noise
_OPEN_NOISE_FACTOR = 1.5

# Random stream ids.
_S_INIT, _S_EVOLVE, _S_DRIFT, _S_FIXTURES, _S_GOALS, _S_TABLE, _S_CALENDAR, _S_OUTPUT = range(8)


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def _home_advantage(season: int) -> float:
    """Log home advantage: slowly declining, near zero behind closed doors (2020/21)."""
    if season == 2020:
        return 0.08
    return 0.345 - 0.002 * (min(season, 2030) - FIRST_SEASON)


def _margin(book: str, season: int) -> float:
    """Typical overround - 1 of a book in a season (margins shrink over the years)."""
    progress = min(max((season - FIRST_SEASON) / 22.0, 0.0), 1.0)  # 1993 -> 2015
    start, end = {"b365": (0.080, 0.050), "ps": (0.032, 0.025), "avg": (0.078, 0.055)}[book]
    return start + (end - start) * progress


# --------------------------------------------------------------------------------------------
# Team names
# --------------------------------------------------------------------------------------------

_PREFIXES = (
    "Alder", "Amble", "Ash", "Bar", "Bex", "Birch", "Bram", "Brent", "Brook", "Calder", "Carn",
    "Castle", "Cole", "Craven", "Dun", "Elm", "Fal", "Fen", "Glen", "Gold", "Hal", "Hart", "Hazel",
    "Heath", "Holm", "Kings", "Lang", "Lark", "Lin", "Marl", "Mill", "Nor", "Oak", "Pen", "Quarry",
    "Ravens", "Red", "Rush", "Salt", "Shep", "Stan", "Stone", "Thorn", "Wal", "Whit", "Wil", "Wyn",
    "Yar", "Ember", "Farn",
)  # fmt: skip
_SUFFIXES = (
    "ford", "ley", "ton", "bury", "field", "ham", "wick", "mouth", "port", "by", "stow", "worth",
    "borough", "gate", "minster", "well", "combe", "dale", "hurst", "cester", "bridge", "moor",
    "stead", "thorpe", "holme", "chester", "haven", "wood", "mere", "ington",
)  # fmt: skip
_CLUB_WORDS = (
    "United", "City", "Town", "Rovers", "Athletic", "Albion", "Wanderers", "County", "Rangers",
    "FC", "Borough", "Villa", "Orient", "Argyle", "Harriers", "Dynamo",
)  # fmt: skip
_AREAS = ("", "North ", "South ", "East ", "West ", "Upper ", "Lower ", "Port ", "New ")


@lru_cache(maxsize=1)
def _town_pool() -> tuple[str, ...]:
    towns = list(dict.fromkeys(p + s for p in _PREFIXES for s in _SUFFIXES))
    order = np.random.default_rng(19930801).permutation(len(towns))
    return tuple(towns[i] for i in order)


def _team_name(global_index: int) -> str:
    towns = _town_pool()
    area, position = divmod(global_index, len(towns))
    if area >= len(_AREAS):
        raise ValueError("too many simulated teams for the name pool")
    town = towns[position]
    word = _CLUB_WORDS[int(hashlib.sha1(town.encode()).hexdigest(), 16) % len(_CLUB_WORDS)]
    return f"{_AREAS[area]}{town} {word}"


@cache
def _country_teams(country_index: int, n_teams: int) -> np.ndarray:
    """Names of the country's teams (unique across all countries), indexed by local team id."""
    start = country_index * n_teams
    return np.array([_team_name(start + i) for i in range(n_teams)], dtype=object)


# --------------------------------------------------------------------------------------------
# Score model
# --------------------------------------------------------------------------------------------

_GOALS = np.arange(MAX_GOALS + 1)
_LOG_FACTORIAL = np.array([math.lgamma(k + 1) for k in _GOALS])


def _poisson_pmf(lam: np.ndarray) -> np.ndarray:
    """(n, MAX_GOALS + 1) Poisson probabilities of 0..MAX_GOALS goals."""
    return np.exp(_GOALS * np.log(lam)[:, None] - lam[:, None] - _LOG_FACTORIAL)


def _outcome_probs(lam_h: np.ndarray, lam_a: np.ndarray) -> np.ndarray:
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


# --------------------------------------------------------------------------------------------
# Fixtures and calendar
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _single_round_robin(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Circle method over slots 0..n-1: (round, home_slot, away_slot) for rounds 0..n-2."""
    if n % 2 or n < 2:
        raise ValueError("simulated leagues need an even number of teams")
    rounds, homes, aways = [], [], []
    others = list(range(1, n))
    for r in range(n - 1):
        arrangement = [0] + others[r:] + others[:r]
        for k in range(n // 2):
            a, b = arrangement[k], arrangement[n - 1 - k]
            # Teams move one position per round, so flipping the orientation with the pair index
            # (and with the round for the fixed team) makes every team alternate home and away.
            if (k == 0 and r % 2) or (k > 0 and k % 2 == 0):
                a, b = b, a
            rounds.append(r)
            homes.append(a)
            aways.append(b)
    arrays = np.array(rounds), np.array(homes), np.array(aways)
    for array in arrays:
        array.flags.writeable = False
    return arrays


def _round_robin(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Double round robin over slots 0..n-1: (round, home_slot, away_slot), rounds 0..2(n-1)-1.

    The second half replays the first with home and away swapped, in a rotated order."""
    rounds, homes, aways = _single_round_robin(n)
    second = (n - 1) + (rounds - int(rng.integers(n - 1))) % (n - 1)
    return np.concatenate([rounds, second]), np.concatenate([homes, aways]), np.concatenate([aways, homes])


def _saturday_on_or_after(day: date) -> date:
    return day + timedelta(days=(5 - day.weekday()) % 7)


@lru_cache(maxsize=16384)
def _uk_noon_ns(day: int) -> int:
    """UTC (int64 ns) of 12:00 UK time on a day (ordinal), via schema.uk_kickoff_to_utc."""
    kickoff, _known = schema.uk_kickoff_to_utc(date.fromordinal(day), time(12, 0))
    return kickoff.as_unit("ns").value


def _uk_kickoff_ns(day: int, at: time) -> int:
    """UTC (int64 ns) of a UK kickoff at or after noon: clocks change at 01:00 UTC, so the
    day's offset at noon holds for every kickoff time of the day."""
    return _uk_noon_ns(day) + ((at.hour - 12) * 3600 + at.minute * 60) * 1_000_000_000


def _round_days(tier: int, n_rounds: int, season: int, rng: np.random.Generator) -> list[dict]:
    """The rounds of a season: kind ("weekend", "midweek", "holiday") and core/extra day ordinals."""
    y, y1 = season, season + 1
    first = _saturday_on_or_after(date(y, 8, 8 if tier == 1 else 1))
    last_limit = date(y1, 5, 24) if tier == 1 else date(y1, 5, 10)
    blocked = {date(y, 12, 24).toordinal(), date(y, 12, 25).toordinal(), date(y, 7, 31).toordinal()}

    breaks = [(y, 9, 5), (y1, 3, 21)]
    if tier == 1:
        breaks += [(y, 10, 10), (y, 11, 14), (y1, 1, 5), (y1, 1, 26)]
    break_saturdays = {_saturday_on_or_after(date(*b)).toordinal() for b in breaks}

    rounds: list[dict] = []
    saturday = first
    while saturday <= last_limit:
        sat = saturday.toordinal()
        core = [d for d in (sat, sat + 1) if d not in blocked]
        if sat not in break_saturdays and core:
            rounds.append({"kind": "weekend", "core": core})
        saturday += timedelta(days=7)

    boxing_day = date(y, 12, 26)
    if boxing_day.weekday() < 5:
        bd = boxing_day.toordinal()
        rounds = [r for r in rounds if min(abs(d - bd) for d in r["core"]) > 1]
        rounds.append({"kind": "holiday", "core": [bd]})
    rounds.sort(key=lambda r: r["core"][0])

    # At least three midweek rounds; drop random weekends (not the first or last two) if needed.
    min_midweek = 3
    excess = len(rounds) - (n_rounds - min_midweek)
    if excess > 0:
        droppable = [i for i, r in enumerate(rounds) if r["kind"] == "weekend" and 2 <= i < len(rounds) - 2]
        drop = set(rng.choice(droppable, size=excess, replace=False).tolist())
        rounds = [r for i, r in enumerate(rounds) if i not in drop]

    need = n_rounds - len(rounds)
    if need > 0:
        taken = np.array(sorted(d for r in rounds for d in r["core"]))
        candidates = []
        tuesday = date.fromordinal(taken[0]) + timedelta(days=(1 - date.fromordinal(taken[0]).weekday()) % 7)
        while tuesday.toordinal() < taken[-1]:
            core = [tuesday.toordinal(), tuesday.toordinal() + 1]
            if not blocked.intersection(core) and all(np.abs(taken - d).min() >= 2 for d in core):
                candidates.append(core)
            tuesday += timedelta(days=7)
        if len(candidates) < need:
            raise RuntimeError(f"cannot fit {n_rounds} rounds into season {season}")
        for i in sorted(rng.choice(len(candidates), size=need, replace=False).tolist()):
            rounds.append({"kind": "midweek", "core": candidates[i]})
        rounds.sort(key=lambda r: r["core"][0])

    # Optional extra days (Friday / Monday for weekends, the 27th after Boxing Day): only when the
    # neighbouring rounds play no closer than three days (two for their own extra days), so that
    # rounds never share or touch a day.
    assigned = [list(r["core"]) for r in rounds]
    for i, r in enumerate(rounds):
        if r["kind"] == "weekend":
            options = [r["core"][0] - 1, r["core"][-1] + 1] if len(r["core"]) == 2 else [r["core"][-1] + 1]
        elif r["kind"] == "holiday":
            options = [r["core"][0] + 1]
        else:
            options = []
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(rounds)]
        extras = []
        for day in options:
            if day in blocked:
                continue
            if all(abs(day - d) >= 3 for j in neighbours for d in rounds[j]["core"]) and all(
                abs(day - d) >= 2 for j in neighbours for d in assigned[j]
            ):
                extras.append(day)
                assigned[i].append(day)
        r["extra"] = extras
    return rounds


def _round_slots(r: dict, tier: int, per_round: int, rng: np.random.Generator) -> list[tuple[int, time]]:
    """(day ordinal, UK local time) of each match of a round."""
    t1230, t1500, t1730, t1945, t2000 = KICKOFF_TIMES
    core, extra = r["core"], r["extra"]
    special: list[tuple[int, time]] = []
    if r["kind"] == "midweek":
        tue, wed = core
        slots = []
        for k in range(per_round):
            if tier == 1:
                day = tue if k < per_round // 2 else wed
                at = t1945 if rng.random() < 0.6 else t2000
            else:
                day = wed if k < max(1, per_round // 5) else tue
                at = t2000 if rng.random() < 0.15 else t1945
            slots.append((day, at))
        return slots
    if r["kind"] == "holiday":
        day = core[0]
        special = [(day, t1230), (day, t1730), (day, t2000)]
        if extra and rng.random() < 0.6:
            special.append((extra[0], t2000))
        main = (day, t1500)
    else:
        sat = core[0] if len(core) == 2 else None
        sun = core[-1]
        fri = next((d for d in extra if d < core[0]), None)
        mon = next((d for d in extra if d > core[-1]), None)
        if tier == 1:
            if fri is not None and rng.random() < 0.35:
                special.append((fri, t2000))
            if mon is not None and rng.random() < 0.5:
                special.append((mon, t2000))
            if sat is not None:
                special += [(sat, t1230), (sat, t1730)]
            special.append((sun, t1500))
            if rng.random() < 0.6:
                special.append((sun, t1230))
            if rng.random() < 0.3:
                special.append((sun, t1730))
        else:
            if fri is not None and rng.random() < 0.5:
                special.append((fri, t1945))
            if sat is not None and rng.random() < 0.4:
                special.append((sat, t1230))
            if sat is not None and rng.random() < 0.3:
                special.append((sat, t1730))
            if sat is None or rng.random() < 0.3:
                special.append((sun, t1230))
        main = (sat if sat is not None else sun, t1500)
    special = special[: max(0, per_round - 1)]
    return special + [main] * (per_round - len(special))


@lru_cache(maxsize=512)
def _calendar(tier: int, n_teams: int, season: int, seed: int) -> np.ndarray:
    """UTC kickoffs (int64 ns) of each round's match slots: shape (n_rounds, n_teams // 2), read-only."""
    n_rounds, per_round = 2 * (n_teams - 1), n_teams // 2
    rng = _rng(seed, _S_CALENDAR, tier, season, n_teams)
    rounds = _round_days(tier, n_rounds, season, rng)
    out = np.empty((n_rounds, per_round), dtype=np.int64)
    for i, r in enumerate(rounds):
        slots = _round_slots(r, tier, per_round, rng)
        out[i] = sorted(_uk_kickoff_ns(day, at) for day, at in slots)
    out.flags.writeable = False
    return out


# --------------------------------------------------------------------------------------------
# The season chain of a country
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LeagueSeason:
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
    leagues: tuple[_LeagueSeason, _LeagueSeason]
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
    rng = _rng(seed, _S_DRIFT, country, season)
    steps = rng.normal(0.0, _SIGMA_ROUND, (n_rounds, size))
    return np.vstack([np.zeros((1, size)), np.cumsum(steps, axis=0)])


def _simulate_league_season(
    teams: np.ndarray, tier: int, season: int, quality: np.ndarray, style: np.ndarray, keys: tuple[int, ...]
) -> _LeagueSeason:
    n = len(teams)
    rng_fixtures = _rng(*keys[:1], _S_FIXTURES, *keys[1:])
    slots = teams[rng_fixtures.permutation(n)]
    rnd, home_slot, away_slot = _round_robin(n, rng_fixtures)
    home, away = slots[home_slot], slots[away_slot]
    q_home, q_away = quality[rnd, home], quality[rnd, away]
    openness = style[home] + style[away]
    log_h = _MU[tier] + _home_advantage(season) + (q_home - q_away) / 2 + openness
    log_a = _MU[tier] + (q_away - q_home) / 2 + openness
    lam_h, lam_a = np.exp(np.minimum(log_h, _MAX_LOG_LAMBDA)), np.exp(np.minimum(log_a, _MAX_LOG_LAMBDA))
    fthg, ftag = _sample_scores(lam_h, lam_a, _rng(*keys[:1], _S_GOALS, *keys[1:]))
    tiebreak = _rng(*keys[:1], _S_TABLE, *keys[1:]).random(n)
    ranking = _table_ranking(teams, home, away, fthg, ftag, tiebreak)
    return _LeagueSeason(teams, rnd, home, away, lam_h, lam_a, fthg, ftag, ranking)


def _next_country_season(
    previous: _CountrySeason | None, country: int, seed: int, n_teams: int, exchange: int
) -> _CountrySeason:
    size, n_rounds = 2 * n_teams, 2 * (n_teams - 1)
    if previous is None:
        season = FIRST_SEASON
        rng = _rng(seed, _S_INIT, country)
        club = rng.normal(0.0, _SIGMA_CLUB, size)
        form = rng.normal(0.0, _SIGMA_FORM, size)
        style = rng.normal(0.0, _SIGMA_STYLE, size)
        order = np.argsort(-(club + form + rng.normal(0.0, 0.25, size)), kind="stable")
        tiers = (np.sort(order[:n_teams]), np.sort(order[n_teams:]))
        market_error = rng.normal(0.0, _MARKET_TEAM_SD, size)
    else:
        season = previous.season + 1
        rng = _rng(seed, _S_EVOLVE, country, season)
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


def _country_season(
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


# --------------------------------------------------------------------------------------------
# Statistics and odds
# --------------------------------------------------------------------------------------------


def _statistics(ls: _LeagueSeason, rng: np.random.Generator) -> dict[str, np.ndarray]:
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


def _prices_with_margin(log_q: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Decimal prices from fair log-probabilities (..., 3) and margins (...): overround 1 + margin.

    Power-method shape (implied probabilities proportional to q**c, so longshots carry more of
    the margin): c is one Newton step from 1 (c = 1 - margin / entropy), then the powers are
    scaled to the exact total. Rounded to 2 decimals, never below 1.02."""
    entropy = -(np.exp(log_q) * log_q).sum(axis=-1)
    c = np.clip(1.0 - margin / np.maximum(entropy, 1e-3), 0.5, 1.5)
    powered = np.exp(log_q * c[..., None])
    prices = (powered.sum(axis=-1) / (1.0 + margin))[..., None] / powered
    return np.maximum(np.round(prices, 2), 1.02)


# Every quote: (timing, book). "max" is the best price over the books and a low-margin book.
_QUOTES: tuple[tuple[str, str], ...] = tuple((t, b) for t in schema.ODDS_TIMINGS for b in SIMULATED_BOOKS)
_QUOTE_NOISE = np.array([_BOOK_NOISE[b] * (_OPEN_NOISE_FACTOR if t == "open" else 1.0) for t, b in _QUOTES])
_QUOTE_TIMING = np.array([schema.ODDS_TIMINGS.index(t) for t, _b in _QUOTES])


def _quote_margins(season: int, uniforms: np.ndarray) -> np.ndarray:
    """(quotes, n) margins from (quotes, n) uniforms: the book's typical margin +- 0.5%."""
    low = np.array([-0.005 if b == "max" else _margin(b, season) - 0.005 for _t, b in _QUOTES])
    width = np.array([0.015 if b == "max" else 0.01 for _t, b in _QUOTES])
    return low[:, None] + width[:, None] * uniforms


@dataclass(frozen=True)
class _MarketDraws:
    """What the odds of a league-season are made of, before the (batched) pricing arithmetic."""

    log_lam: np.ndarray  # (2, 2, n): timing (open, close) x side (home, away), market belief
    book_noise: np.ndarray  # (quotes, n, 3) standard normals
    margins: np.ndarray  # (quotes, n)


def _market_draws(
    ls: _LeagueSeason, team_error: np.ndarray, season: int, rng: np.random.Generator
) -> _MarketDraws:
    n = len(ls.home)
    bias = (team_error[ls.home] - team_error[ls.away]) / 2
    truth = np.stack([np.log(ls.lam_h) + bias, np.log(ls.lam_a) - bias])
    close = truth + rng.normal(0.0, _MARKET_CLOSE_SD, (2, n))
    opening = close + rng.normal(0.0, _MARKET_OPEN_EXTRA_SD, (2, n))
    noise = rng.standard_normal((len(_QUOTES), n, 3))
    return _MarketDraws(
        np.stack([opening, close]), noise, _quote_margins(season, rng.random((len(_QUOTES), n)))
    )


def _price(draws: list[_MarketDraws]) -> list[dict[str, np.ndarray]]:
    """Odds columns of many league-seasons at once (pure arithmetic on their draws)."""
    sizes = [d.log_lam.shape[2] for d in draws]
    log_lam = np.concatenate([d.log_lam for d in draws], axis=2)  # (2, 2, N)
    total = log_lam.shape[2]
    belief = _outcome_probs(np.exp(log_lam[:, 0].ravel()), np.exp(log_lam[:, 1].ravel())).reshape(2, total, 3)
    log_fair = np.log(belief)[_QUOTE_TIMING]  # (quotes, N, 3)
    log_fair += np.concatenate([d.book_noise for d in draws], axis=1) * _QUOTE_NOISE[:, None, None]
    log_fair -= np.log(np.exp(log_fair).sum(axis=2, keepdims=True))  # each book's fair probabilities
    prices = _prices_with_margin(log_fair, np.concatenate([d.margins for d in draws], axis=1))
    for q, (timing, book) in enumerate(_QUOTES):
        if book == "max":  # the best price on the market: at least every book's price
            prices[q] = prices[[i for i, (t, _b) in enumerate(_QUOTES) if t == timing]].max(axis=0)
    out: list[dict[str, np.ndarray]] = []
    start = 0
    for size in sizes:
        block = prices[:, start : start + size]
        out.append(
            {
                f"odds_{book}_{timing}_{outcome}": block[q, :, k]
                for q, (timing, book) in enumerate(_QUOTES)
                for k, outcome in enumerate(schema.OUTCOMES)
            }
        )
        start += size
    return out


# --------------------------------------------------------------------------------------------
# Partitions
# --------------------------------------------------------------------------------------------

_RESULT_CODES = np.array(["A", "D", "H"], dtype=object)
_HEX_SHIFTS = (4 * np.arange(15, -1, -1)).astype(np.uint64)


def _hex_keys(match_ids: np.ndarray) -> np.ndarray:
    """uint64 of 16-hex-digit match ids: sorts exactly like the ids."""
    digits = np.array(match_ids.tolist(), dtype="S16").view(np.uint8).reshape(-1, 16)
    nibbles = np.where(digits >= ord("a"), digits - (ord("a") - 10), digits - ord("0")).astype(np.uint64)
    return np.bitwise_or.reduce(nibbles << _HEX_SHIFTS, axis=1)


def _validate(league: str, season: int, seed: int) -> SimulatedLeague:
    spec = simulated_league(league)
    if not isinstance(season, int | np.integer) or season < FIRST_SEASON:
        raise ValueError(f"simulated seasons are ints from {FIRST_SEASON}, got {season!r}")
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return spec


def _match_core(league: str, season: int, seed: int) -> tuple[dict[str, np.ndarray], _MarketDraws]:
    """Every match of a league-season (unsorted, no odds yet) and the draws its odds are made of."""
    spec = simulated_league(league)
    state = _country_season(spec.country_index, season, seed, spec.n_teams, spec.exchange)
    ls = state.leagues[spec.tier - 1]
    n, per_round = len(ls.home), spec.n_teams // 2

    calendar = _calendar(spec.tier, spec.n_teams, season, seed)
    rng = _rng(seed, _S_OUTPUT, spec.country_index, season, spec.tier)  # one stream, fixed order
    shuffle = rng.random(n)
    by_round = np.lexsort((shuffle, ls.round))
    kickoff = np.empty(n, dtype=np.int64)
    kickoff[by_round] = calendar[ls.round[by_round], np.arange(n) % per_round]

    names = _country_teams(spec.country_index, 2 * spec.n_teams)
    home_team, away_team = names[ls.home], names[ls.away]
    match_id = np.array(
        [schema.make_match_id(league, season, h, a) for h, a in zip(home_team, away_team, strict=True)],
        dtype=object,
    )
    cols: dict[str, np.ndarray] = {
        "match_id": match_id,
        "kickoff": kickoff,
        "home_team": home_team,
        "away_team": away_team,
        "fthg": ls.fthg,
        "ftag": ls.ftag,
        "ftr": _RESULT_CODES[np.sign(ls.fthg - ls.ftag) + 1],
    }
    cols.update(_statistics(ls, rng))
    cols["htr"] = _RESULT_CODES[np.sign(cols["hthg"] - cols["htag"]) + 1]
    return cols, _market_draws(ls, state.market_error, season, rng)


def _build_partitions(keys: list[tuple[str, int]], seed: int) -> list[dict[str, np.ndarray]]:
    """Full league-seasons as column arrays, each sorted by kickoff then match_id.

    The odds arithmetic runs once over all of them; every random draw still comes from the
    partition's own streams, so a partition is the same whatever it is built with."""
    cores = [_match_core(league, season, seed) for league, season in keys]
    odds = _price([draws for _cols, draws in cores])
    parts = []
    for (cols, _draws), prices in zip(cores, odds, strict=True):
        cols.update(prices)
        cols["_key"] = _hex_keys(cols["match_id"])
        order = np.lexsort((cols["_key"], cols["kickoff"]))
        part = {}
        for name, values in cols.items():
            values = values[order]
            values.flags.writeable = False
            part[name] = values
        parts.append(part)
    return parts


@lru_cache(maxsize=64)
def _partition_arrays(league: str, season: int, seed: int) -> dict[str, np.ndarray]:
    return _build_partitions([(league, season)], seed)[0]


def _digest(cols: dict[str, np.ndarray], columns: tuple[str, ...]) -> str:
    """sha256 over the partition's canonical content (column names and values, in order)."""
    digest = hashlib.sha256()
    for name in columns:
        if name in schema.LINEAGE_COLUMNS or name not in cols:
            continue
        values = cols[name]
        digest.update(name.encode() + b"\x1e")
        if values.dtype == object:
            digest.update("\x1f".join(values.tolist()).encode())
        else:
            digest.update(np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).tobytes())
    return digest.hexdigest()


def _with_lineage(cols: dict[str, np.ndarray], columns: tuple[str, ...], league: str, season: int) -> dict:
    n = len(cols["match_id"])
    out = {name: cols[name] for name in columns if name in cols}
    out["source"] = np.full(n, SOURCE, dtype=object)
    out["source_url"] = np.full(n, f"simulator://{league}/{schema.season_key(season)}", dtype=object)
    out["content_hash"] = np.full(n, _digest(cols, columns), dtype=object)
    out["source_line"] = np.arange(1, n + 1)
    return out


def _to_frame(cols: dict[str, np.ndarray], columns: tuple[str, ...]) -> pd.DataFrame:
    """Canonical frame (through schema.conform) from column arrays; unquoted books are null."""
    n = len(cols["match_id"])
    data: dict[str, object] = {}
    for name in columns:
        values = cols.get(name)
        if name == "kickoff":
            data[name] = pd.DatetimeIndex(np.asarray(values, dtype="datetime64[ns]")).tz_localize("UTC")
        elif name == "kickoff_time_known":
            data[name] = np.ones(n, dtype=bool)
        elif values is not None:
            data[name] = values
        elif name in schema.FLOAT_COLUMNS:  # a float null column beats conform's object default
            data[name] = np.full(n, np.nan)
    return schema.conform(pd.DataFrame(data), columns)


def _utc_ns(moment: datetime | pd.Timestamp) -> int:
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.as_unit("ns").value


def simulate_partition(
    league: str, season: int, as_of: datetime | None = None, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(played, upcoming) of one simulated league-season.

    ``played``: matches with kickoff < ``as_of``, conformed to ``schema.MATCH_COLUMNS``;
    ``upcoming``: matches with kickoff >= ``as_of``, conformed to ``schema.FIXTURE_COLUMNS`` (no
    results; opening odds only, closing odds null). ``as_of`` None means everything is played; a
    naive ``as_of`` is taken as UTC. Deterministic for the same (league, season, seed, as_of);
    a match has the same id, kickoff, result and opening odds whatever ``as_of`` is.
    """
    spec = _validate(league, season, seed)
    cols = _partition_arrays(spec.code, int(season), int(seed))
    if as_of is None:
        played_mask = np.ones(len(cols["kickoff"]), dtype=bool)
    else:
        played_mask = cols["kickoff"] < _utc_ns(as_of)
    played = {name: values[played_mask] for name, values in cols.items()}
    upcoming = {name: values[~played_mask] for name, values in cols.items() if "_close_" not in name}
    frames = []
    for part, columns in ((played, schema.MATCH_COLUMNS), (upcoming, schema.FIXTURE_COLUMNS)):
        part = _with_lineage(part, columns, spec.code, int(season))
        part["league"] = np.full(len(part["match_id"]), spec.code, dtype=object)
        part["season"] = np.full(len(part["match_id"]), int(season))
        frames.append(_to_frame(part, columns))
    return frames[0], frames[1]


def _history_partitions(n_matches: int, last_season: int) -> list[tuple[str, int]]:
    """League-seasons of a history of about n_matches: most recent seasons first, fewest countries."""
    per_league_season = 20 * 19
    wanted = max(1, round(n_matches / per_league_season))
    seasons = last_season - FIRST_SEASON + 1
    countries = math.ceil(wanted / (2 * seasons))
    chosen = [
        (f"SIM{2 * country + tier}", season)
        for season in range(last_season, FIRST_SEASON - 1, -1)
        for country in range(countries)
        for tier in (1, 2)
    ][:wanted]
    return chosen


def simulate_history(
    n_matches: int, seed: int = 0, *, last_season: int = HISTORY_LAST_SEASON
) -> pd.DataFrame:
    """A played history of about ``n_matches`` canonical rows (within half a league-season).

    Whole league-seasons of ``SIM1``, ``SIM2``, then ``SIM3``/``SIM4``... (pairs of tiers of
    further countries, as many as needed), from ``last_season`` backwards. Rows are identical to
    those :func:`simulate_partition` returns for the same league, season and seed (lineage
    included), sorted by kickoff then match_id.
    """
    if n_matches < 0:
        raise ValueError(f"n_matches must be >= 0, got {n_matches}")
    if last_season < FIRST_SEASON:
        raise ValueError(f"last_season must be >= {FIRST_SEASON}, got {last_season}")
    if n_matches == 0:
        empty = {"match_id": np.empty(0, dtype=object), "kickoff": np.empty(0, dtype=np.int64)}
        return _to_frame(empty, schema.MATCH_COLUMNS)
    keys = _history_partitions(n_matches, last_season)
    for league, season in keys:
        _validate(league, season, seed)
    built = [
        part
        for start in range(0, len(keys), 64)
        for part in _build_partitions(keys[start : start + 64], int(seed))
    ]
    parts = []
    for (league, season), cols in zip(keys, built, strict=True):
        part = _with_lineage(cols, schema.MATCH_COLUMNS, league, season)
        part["_key"] = cols["_key"]
        part["league"] = np.full(len(part["match_id"]), league, dtype=object)
        part["season"] = np.full(len(part["match_id"]), season)
        parts.append(part)
    cols = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    order = np.lexsort((cols["_key"], cols["kickoff"]))
    return _to_frame({name: values[order] for name, values in cols.items()}, schema.MATCH_COLUMNS)
