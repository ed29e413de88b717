"""The league catalogue and seasons: which leagues exist, their sources, their partition keys.

Pure data (no Dagster): the partitions of the raw and validated layers are built from it in
``footcast.assets.partitions``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from footcast import config
from footcast.data import schema
from footcast.data.simulator.leagues import SIMULATED_LEAGUES


@dataclass(frozen=True)
class League:
    code: str
    name: str
    source: str  # "football-data" | "simulator"


# Main-league division codes football-data.co.uk publishes (results and fixtures).
FOOTBALL_DATA_LEAGUES: dict[str, str] = {
    "E0": "England Premier League",
    "E1": "England Championship",
    "E2": "England League One",
    "E3": "England League Two",
    "EC": "England National League",
    "SC0": "Scotland Premiership",
    "SC1": "Scotland Championship",
    "SC2": "Scotland League One",
    "SC3": "Scotland League Two",
    "D1": "Germany Bundesliga",
    "D2": "Germany 2. Bundesliga",
    "I1": "Italy Serie A",
    "I2": "Italy Serie B",
    "SP1": "Spain La Liga",
    "SP2": "Spain Segunda",
    "F1": "France Ligue 1",
    "F2": "France Ligue 2",
    "N1": "Netherlands Eredivisie",
    "B1": "Belgium Pro League",
    "P1": "Portugal Primeira Liga",
    "T1": "Turkey Super Lig",
    "G1": "Greece Super League",
}

LEAGUES: dict[str, League] = {
    **{code: League(code, name, "football-data") for code, name in FOOTBALL_DATA_LEAGUES.items()},
    **{code: League(code, spec.name, "simulator") for code, spec in SIMULATED_LEAGUES.items()},
}

FIRST_SEASON = 1993


def league(code: str) -> League:
    try:
        return LEAGUES[code]
    except KeyError:
        raise ValueError(f"unknown league {code!r}; known: {', '.join(LEAGUES)}") from None


def current_season() -> int:
    return schema.season_of(config.now())


def last_season() -> int:
    """Newest season partition: the current one, or FOOTCAST_LAST_SEASON when set."""
    pinned = os.environ.get("FOOTCAST_LAST_SEASON")
    return int(pinned) if pinned else current_season()


def seasons() -> list[int]:
    return list(range(FIRST_SEASON, last_season() + 1))


def partition_key(league_code: str, season: int) -> str:
    return f"{league_code}|{schema.season_key(season)}"


def parse_partition_key(key: str) -> tuple[str, int]:
    """(league, season) of a league-season partition key such as ``"E0|2023-24"``."""
    league_code, sep, season_part = str(key).partition("|")
    if not sep or league_code not in LEAGUES:
        raise ValueError(f"expected a league-season partition key like 'E0|2023-24', got {key!r}")
    return league_code, schema.season_from_key(season_part)


def is_completed(season: int) -> bool:
    """A season is complete once the next one has started (results no longer change, bar corrections)."""
    return season < current_season()
