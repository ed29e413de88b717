"""Leagues, seasons and the season x league partitions of the raw and validated layers."""

from __future__ import annotations

import os
from dataclasses import dataclass

import dagster as dg

from footcast import config
from footcast.models import schema, simulator


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
    **{code: League(code, spec.name, "simulator") for code, spec in simulator.SIMULATED_LEAGUES.items()},
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


# Partitions per run of a backfill: a league's whole history (33 seasons) fits in one run.
MAX_PARTITIONS_PER_RUN = 40


def season_league_partitions() -> dg.StaticPartitionsDefinition:
    """One partition per league-season, keyed ``"E0|2023-24"``, ordered league by league.

    One dimension rather than a season x league grid: a Dagster backfill runs a contiguous
    range of keys in one run (``BackfillPolicy``), and "all of D1 from 2005" is one range here,
    while a MultiPartitionsDefinition falls back to one run per partition unless every key of
    the inner dimension is selected (dagster#18852), which made backfills pay Dagster's run
    overhead per league-season.
    """
    return dg.StaticPartitionsDefinition([partition_key(code, s) for code in LEAGUES for s in seasons()])


def partition_key(league_code: str, season: int) -> str:
    return f"{league_code}|{schema.season_key(season)}"


def parse_partition_key(key: str) -> tuple[str, int]:
    """(league, season) of a league-season partition key such as ``"E0|2023-24"``."""
    league_code, sep, season_part = str(key).partition("|")
    if not sep or league_code not in LEAGUES:
        raise ValueError(f"expected a league-season partition key like 'E0|2023-24', got {key!r}")
    return league_code, schema.season_from_key(season_part)


def key_ranges(keys: list[str]) -> list[list[str]]:
    """The keys as ranges of consecutive partitions (in the partitions' order), each range the
    list of its keys, for running each range as one Dagster run."""
    order = {key: i for i, key in enumerate(season_league_partitions().get_partition_keys())}
    unknown = [k for k in keys if k not in order]
    if unknown:
        raise ValueError(f"not league-season partitions: {', '.join(unknown[:5])}")
    ranges: list[list[str]] = []
    for key in sorted(set(keys), key=order.__getitem__):
        if ranges and order[key] == order[ranges[-1][-1]] + 1:
            ranges[-1].append(key)
        else:
            ranges.append([key])
    return ranges


def is_completed(season: int) -> bool:
    """A season is complete once the next one has started (results no longer change, bar corrections)."""
    return season < current_season()
