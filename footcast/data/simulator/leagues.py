"""The simulated leagues (``SIMn`` codes, countries, tiers) and their teams' names."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

FIRST_SEASON: int = 1993


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
def country_teams(country_index: int, n_teams: int) -> np.ndarray:
    """Names of the country's teams (unique across all countries), indexed by local team id."""
    start = country_index * n_teams
    return np.array([_team_name(start + i) for i in range(n_teams)], dtype=object)
