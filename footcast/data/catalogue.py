"""The league catalogue: every league the project knows, its source, its seasons and their keys.

Pure data (no Dagster): the partitions of the raw and validated layers are built from it in
``footcast.assets.partitions``. This module is the project's source of truth for what
football-data.co.uk publishes; a backfill never asks the site for a season listed here as
missing.

football-data.co.uk publishes two layouts:

- "main": one file per league-season at ``mmz4281/<SEASON4>/<DIV>.csv`` (split seasons, July
  to June). ``first_season`` is the oldest season file the site has for the division, as its
  per-country data pages list them: the English top four divisions, the two German, Italian
  and Spanish top flights, France's Ligue 1 and the Eredivisie from 1993/94; Portugal, Turkey,
  Greece and the Scottish top two from 1994/95; Belgium from 1995/96; Segunda, Ligue 2 from
  1996/97; Serie B and the Scottish third and fourth tiers from 1997/98; the National League
  (EC) from 2005/06.
- "extra": one file per league at ``new/<CODE>.csv`` holding every season since 2012 (results
  and closing prices only). Its ``Season`` column names each row's season, ``2012`` in the
  calendar-year leagues (Norway: March to December) and ``2012/2013`` in the split ones
  (Switzerland: July to May), as the two real files in ../shared show. Styles of the leagues
  with no file at hand follow their competition's calendar: Brazil, China, Finland, Ireland,
  Japan, Norway, Sweden and the USA play within a year; Austria, Denmark, Mexico (Apertura +
  Clausura), Poland, Romania, Russia and Switzerland across two. Argentina is a calendar-year
  league since 2021; its older seasons ran August to June and their ``2016/2017`` labels map
  to their start year like every label (the season integer is always the start year).

The simulator's leagues (``SIMn``) are split-season leagues from 1993.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from footcast import config
from footcast.data import schema
from footcast.data.simulator.leagues import FIRST_SEASON as SIMULATED_FIRST_SEASON
from footcast.data.simulator.leagues import SIMULATED_LEAGUES

# League.layout values
MAIN = "main"
EXTRA = "extra"
SIMULATED = "simulated"

# League.source values (the names of the sources in footcast.services.sources)
FOOTBALL_DATA = "football-data"
FOOTBALL_DATA_EXTRA = "football-data-extra"
SIMULATOR = "simulator"


@dataclass(frozen=True)
class League:
    code: str
    name: str
    country: str
    tier: int
    first_season: int  # start year of the oldest season the source has
    season_style: str  # schema.SPLIT ("2023-24") | schema.CALENDAR ("2024")
    layout: str  # MAIN | EXTRA | SIMULATED
    source: str  # FOOTBALL_DATA | FOOTBALL_DATA_EXTRA | SIMULATOR

    def season_key(self, season: int) -> str:
        return schema.season_key(season, self.season_style)


# code: (country, name, tier, first season) of the main layout (see the module docstring).
_MAIN: dict[str, tuple[str, str, int, int]] = {
    "E0": ("England", "Premier League", 1, 1993),
    "E1": ("England", "Championship", 2, 1993),
    "E2": ("England", "League One", 3, 1993),
    "E3": ("England", "League Two", 4, 1993),
    "EC": ("England", "National League", 5, 2005),
    "SC0": ("Scotland", "Premiership", 1, 1994),
    "SC1": ("Scotland", "Championship", 2, 1994),
    "SC2": ("Scotland", "League One", 3, 1997),
    "SC3": ("Scotland", "League Two", 4, 1997),
    "D1": ("Germany", "Bundesliga", 1, 1993),
    "D2": ("Germany", "2. Bundesliga", 2, 1993),
    "I1": ("Italy", "Serie A", 1, 1993),
    "I2": ("Italy", "Serie B", 2, 1997),
    "SP1": ("Spain", "La Liga", 1, 1993),
    "SP2": ("Spain", "Segunda Division", 2, 1996),
    "F1": ("France", "Ligue 1", 1, 1993),
    "F2": ("France", "Ligue 2", 2, 1996),
    "N1": ("Netherlands", "Eredivisie", 1, 1993),
    "B1": ("Belgium", "Pro League", 1, 1995),
    "P1": ("Portugal", "Primeira Liga", 1, 1994),
    "T1": ("Turkey", "Super Lig", 1, 1994),
    "G1": ("Greece", "Super League", 1, 1994),
}

# code: (country, name, season style) of the extra layout, every one from 2012 (2012/13).
_EXTRA_FIRST_SEASON = 2012
_EXTRA: dict[str, tuple[str, str, str]] = {
    "ARG": ("Argentina", "Liga Profesional", schema.CALENDAR),
    "AUT": ("Austria", "Bundesliga", schema.SPLIT),
    "BRA": ("Brazil", "Serie A", schema.CALENDAR),
    "CHN": ("China", "Super League", schema.CALENDAR),
    "DNK": ("Denmark", "Superliga", schema.SPLIT),
    "FIN": ("Finland", "Veikkausliiga", schema.CALENDAR),
    "IRL": ("Ireland", "Premier Division", schema.CALENDAR),
    "JPN": ("Japan", "J1 League", schema.CALENDAR),
    "MEX": ("Mexico", "Liga MX", schema.SPLIT),
    "NOR": ("Norway", "Eliteserien", schema.CALENDAR),
    "POL": ("Poland", "Ekstraklasa", schema.SPLIT),
    "ROU": ("Romania", "Liga 1", schema.SPLIT),
    "RUS": ("Russia", "Premier League", schema.SPLIT),
    "SWE": ("Sweden", "Allsvenskan", schema.CALENDAR),
    "SWZ": ("Switzerland", "Super League", schema.SPLIT),
    "USA": ("USA", "MLS", schema.CALENDAR),
}

LEAGUES: dict[str, League] = {
    **{
        code: League(code, name, country, tier, first, schema.SPLIT, MAIN, FOOTBALL_DATA)
        for code, (country, name, tier, first) in _MAIN.items()
    },
    **{
        code: League(code, name, country, 1, _EXTRA_FIRST_SEASON, style, EXTRA, FOOTBALL_DATA_EXTRA)
        for code, (country, name, style) in _EXTRA.items()
    },
    **{
        code: League(
            code,
            spec.name,
            spec.country,
            spec.tier,
            SIMULATED_FIRST_SEASON,
            schema.SPLIT,
            SIMULATED,
            SIMULATOR,
        )
        for code, spec in SIMULATED_LEAGUES.items()
    },
}

# The oldest season of any league (the main layout's 1993/94).
FIRST_SEASON = min(league.first_season for league in LEAGUES.values())


def league(code: str) -> League:
    try:
        return LEAGUES[code]
    except KeyError:
        raise ValueError(f"unknown league {code!r}; known: {', '.join(LEAGUES)}") from None


def season_style(league_code: str | None) -> str:
    """The league's season style; split when no league is named."""
    return schema.SPLIT if league_code is None else league(league_code).season_style


def season_of(league_code: str | None, moment: date | datetime) -> int:
    """The season of ``league_code`` that a date falls in."""
    return schema.season_of(moment, season_style(league_code))


def season_window(league_code: str | None, season: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC bounds [start, end) of a season of ``league_code`` (see :func:`schema.season_window`)."""
    return schema.season_window(season, season_style(league_code))


# Months a main-layout league is between seasons: its ended season's file is complete and the
# next season's file is not published yet (the site adds it around the first matchday in August).
MAIN_LAYOUT_OFF_SEASON_MONTHS = (6, 7)


def off_season(league_code: str, moment: date | datetime) -> bool:
    """Whether the daily refresh has nothing to fetch for the league at ``moment``: a main-layout
    (or simulated) league in June or July. Extra-layout leagues have no off-season: the
    calendar-year ones play through the summer, and their source answers a season not yet begun
    with no rows rather than a missing file."""
    return league(league_code).layout != EXTRA and moment.month in MAIN_LAYOUT_OFF_SEASON_MONTHS


def current_season(league_code: str | None = None) -> int:
    """The season of ``league_code`` now (split-style when no league is named)."""
    return season_of(league_code, config.now())


def last_season(league_code: str | None = None) -> int:
    """Newest season partition: the current one, or FOOTCAST_LAST_SEASON when set."""
    pinned = os.environ.get("FOOTCAST_LAST_SEASON")
    return int(pinned) if pinned else current_season(league_code)


def seasons(league_code: str | None = None) -> list[int]:
    """The league's seasons, from its first season to the last season (every league's when none)."""
    if league_code is None:
        return list(range(FIRST_SEASON, max(last_season(code) for code in LEAGUES) + 1))
    return list(range(league(league_code).first_season, last_season(league_code) + 1))


def partition_key(league_code: str, season: int) -> str:
    """``"E0|2023-24"`` (split) or ``"NOR|2024"`` (calendar)."""
    return f"{league_code}|{league(league_code).season_key(season)}"


def parse_partition_key(key: str) -> tuple[str, int]:
    """(league, season) of a league-season partition key such as ``"E0|2023-24"`` or ``"NOR|2024"``."""
    league_code, sep, season_part = str(key).partition("|")
    if not sep or league_code not in LEAGUES:
        raise ValueError(f"expected a league-season partition key like 'E0|2023-24', got {key!r}")
    return league_code, schema.season_from_key(season_part, LEAGUES[league_code].season_style)


def is_completed(season: int, league_code: str | None = None) -> bool:
    """A season is complete once the league's next one has started (results no longer change,
    bar corrections)."""
    return season < current_season(league_code)


def select(text: str) -> list[str]:
    """League codes of a selection: ``all``, ``country:<Country>``, ``tier:<n>``, ``layout:<main|extra>``,
    a league code, or several of these separated by commas (in catalogue order, each once).

    Raises ValueError naming what matches nothing.
    """
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ValueError(f"no leagues in {text!r}")
    chosen: set[str] = set()
    for part in parts:
        found = _matching(part)
        if not found:
            raise ValueError(
                f"{part!r} names no league; use a code ({', '.join(LEAGUES)}), all, country:<name>, "
                f"tier:<n> or layout:<main|extra>"
            )
        chosen.update(found)
    return [code for code in LEAGUES if code in chosen]


def _matching(part: str) -> list[str]:
    kind, sep, value = part.partition(":")
    value = value.strip().casefold()
    if not sep:
        if part.casefold() == "all":  # every real league; the simulator's only by code
            return [code for code, lg in LEAGUES.items() if lg.layout != SIMULATED]
        return [part] if part in LEAGUES else []
    fields = {"country": "country", "tier": "tier", "layout": "layout"}
    field = fields.get(kind.strip().casefold())
    if field is None:
        return []
    return [
        code
        for code, lg in LEAGUES.items()
        if lg.layout != SIMULATED and str(getattr(lg, field)).casefold() == value
    ]


# -- Understat: a second source (match expected goals) for some of the leagues above ---------------

# football-data code -> Understat's league name (its URLs: /league/<NAME>/<YEAR>). Understat
# publishes per-match xG for these leagues from 2014/15; its seasons are the same split seasons
# (``<YEAR>`` is the start year, as everywhere in the catalogue).
UNDERSTAT_LEAGUES: dict[str, str] = {
    "E0": "EPL",
    "SP1": "La_liga",
    "D1": "Bundesliga",
    "I1": "Serie_A",
    "F1": "Ligue_1",
    "RUS": "RFPL",
}
UNDERSTAT_FIRST_SEASON = 2014
UNDERSTAT = "understat"  # (a source name, as FOOTBALL_DATA)

# The leagues with an Understat-shaped xG feed (the Understat partitions' leagues), and the
# source serving each: Understat for its leagues, the simulator's xG feed for the simulated ones
# (so the xG path runs offline). Picked by league, never by an if on the league's name.
XG_SOURCES: dict[str, str] = {
    **dict.fromkeys(UNDERSTAT_LEAGUES, UNDERSTAT),
    **dict.fromkeys(SIMULATED_LEAGUES, SIMULATOR),
}


def understat_league(code_or_name: str) -> tuple[str, str]:
    """(football-data code, Understat name) of an Understat league given either of them:
    ``understat_league("E0") == understat_league("EPL") == ("E0", "EPL")``."""
    if code_or_name in UNDERSTAT_LEAGUES:
        return code_or_name, UNDERSTAT_LEAGUES[code_or_name]
    for code, name in UNDERSTAT_LEAGUES.items():
        if name == code_or_name:
            return code, name
    known = ", ".join(f"{code}/{name}" for code, name in UNDERSTAT_LEAGUES.items())
    raise ValueError(f"{code_or_name!r} is not a league Understat covers; known: {known}")


def xg_source(league_code: str) -> str:
    """The source of the league's match xG (:data:`XG_SOURCES`); ValueError for a league without."""
    try:
        return XG_SOURCES[league_code]
    except KeyError:
        raise ValueError(
            f"{league_code!r} has no xG feed; the leagues with one: {', '.join(XG_SOURCES)}"
        ) from None


def understat_seasons(league_code: str) -> list[int]:
    """The seasons of the league's xG feed (Understat has its leagues from 2014/15; the simulated
    leagues' feed starts then too): 2014 to the league's last season."""
    xg_source(league_code)
    return list(range(UNDERSTAT_FIRST_SEASON, last_season(league_code) + 1))
