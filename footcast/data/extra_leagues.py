"""Parser for football-data.co.uk's extra-league layout: one file per league (``new/<CODE>.csv``)
holding every season since 2012, and their fixtures list (``new_league_fixtures.csv``).

Columns: ``Country,League,Season,Date,Time,Home,Away,HG,AG,Res``, then closing prices only:
Pinnacle ``PSC*``, market ``MaxC*``/``AvgC*``, Betfair exchange ``BFEC*`` (no canonical column:
not kept) and Bet365 ``B365C*`` whose away price is spelled ``B36CA`` (read as ``B365CA``);
some leagues have no Bet365 columns. A UTF-8 BOM is common. Results' prices go to the
canonical closing-price columns only; a price in the fixtures list is published before kickoff,
so it is an opening price there (see :mod:`footcast.data.schema`).

The rows are read, and their cells parsed, by the main layout's parser
(:mod:`footcast.data.football_data`), with the same row-level tolerance: a row whose essential
fields (season, date, teams, goals) parse is kept, its other unreadable cells become findings;
the others are rejected with their reason and text. The ``Season`` column (``2012`` or
``2012/2013``) is each row's season: its start year.

Play-offs: a season's rows may end with promotion/relegation play-off matches between a club
of the league and one of the division below (Norway's Eliteserien: 14th v the OBOS-ligaen
play-off winner; Switzerland's Super League: 9th v the Challenge League runner-up). A match is
marked ``stage = "play-off"`` when one of its teams plays at most a quarter as many of the
season's matches as the season's median team: a club outside the league (1-2 matches against
30-38). Every other match is ``"regular"``. A play-off between two clubs of the league (a
European-place play-off) cannot be told from a late league match in this layout and stays
``"regular"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from footcast.data import catalogue, schema
from footcast.data.football_data import cells, parsing
from footcast.data.football_data.columns import AWAY, DATE, HOME
from footcast.data.football_data.frames import canonical_frame, findings_text, lineage, match_ids
from footcast.data.football_data.lines import RowShape
from footcast.data.football_data.reading import Table, read_table
from footcast.data.football_data.results import ParsedResults, split_rows

SEASON = ("Season",)
COUNTRY = ("Country",)
HOME_GOALS, AWAY_GOALS, RESULT = "HG", "AG", ("Res",)
REQUIRED = (SEASON, DATE, HOME, AWAY, (HOME_GOALS,), (AWAY_GOALS,))
FIXTURES_REQUIRED = (COUNTRY, DATE, HOME, AWAY)
# Header spellings of the real files -> the names the main layout's odds columns use.
HEADER_SPELLINGS = {"B36CA": "B365CA"}
# A team playing at most this share of the median team's matches of a season is not in the
# league: its matches are play-offs (see the module docstring).
PLAY_OFF_MAX_SHARE = 0.25

_SEASON_LABEL = re.compile(r"^(\d{4})(?:/(\d{4}))?$")


@dataclass
class LeagueFile:
    """One league's file, parsed: kept and rejected rows per season (start year)."""

    seasons: dict[int, ParsedResults]

    def season(self, season: int) -> ParsedResults:
        return self.seasons[season]


def season_of_label(text: str) -> int | None:
    """Start year of a ``Season`` cell: ``2012`` -> 2012, ``2012/2013`` -> 2012; None otherwise."""
    match = _SEASON_LABEL.match(text.strip())
    if match is None:
        return None
    start = int(match[1])
    if match[2] is not None and int(match[2]) != start + 1:
        return None
    return start


def _spelled(table: Table) -> Table:
    """The table with the site's misspelt header names corrected."""
    header = [HEADER_SPELLINGS.get(name, name) for name in table.header]
    positions: dict[str, int] = {}
    for position, name in enumerate(header):
        if name:
            positions.setdefault(name, position)
    return Table(table.source_url, table.partition, header, table.header_line, positions, table.rows)


def _shape(header: list[str], positions: dict[str, int]) -> RowShape:
    def problem(fields: list[str]) -> str | None:
        season_text = fields[positions["Season"]].strip()
        if season_of_label(season_text) is None:
            return f"unparseable Season {season_text!r} (want 2012 or 2012/2013)"
        return parsing.essential_problem(fields, positions, None) or _goals_problem(fields, positions)

    return RowShape(len(header), problem, positions["Date"])


def _goals_problem(fields: list[str], positions: dict[str, int]) -> str | None:
    for name in (HOME_GOALS, AWAY_GOALS):
        text = fields[positions[name]].strip()
        if not text or cells.parse_whole_number(text) is None:
            return cells.whole_number_problem(name, text)
    return None


def _row_seasons(table: Table) -> list[int | None]:
    """Each row's season; a row whose Season cell is unreadable takes the previous row's (its
    rejection is then filed with the season it sits in)."""
    out: list[int | None] = []
    previous: int | None = None
    for text in table.column("Season"):
        season = season_of_label(text)
        out.append(season if season is not None else previous)
        previous = season if season is not None else previous
    return out


def _closing_prices(table: Table, faults: parsing.Faults) -> dict[str, np.ndarray]:
    return {column: values for column, values in parsing.odds(table, faults).items() if "_close_" in column}


def play_off_stages(home: pd.Series, away: pd.Series) -> np.ndarray:
    """``stage`` of one season's matches (see the module docstring)."""
    counts = pd.concat([home, away], ignore_index=True).value_counts()
    if counts.empty:
        return np.array([], dtype=object)
    outsiders = set(counts[counts <= PLAY_OFF_MAX_SHARE * counts.median()].index)
    play_off = home.isin(outsiders).to_numpy() | away.isin(outsiders).to_numpy()
    return np.where(play_off, schema.PLAY_OFF, schema.REGULAR).astype(object)


def _season_results(
    table: Table, league: str, season: int, content_hash: str, season_texts: Sequence[str]
) -> ParsedResults:
    faults = parsing.Faults(table)
    for index, text in enumerate(season_texts):
        if season_of_label(text) is None:
            faults.reject(index, f"unparseable Season {text!r} (want 2012 or 2012/2013)")
    keys = parsing.key_fields(table, faults, None)
    keys.pop("day")
    count = len(table.rows)
    goals = (
        parsing.whole_numbers(table, faults, HOME_GOALS, essential=True),
        parsing.whole_numbers(table, faults, AWAY_GOALS, essential=True),
    )
    frame: dict[str, object] = {
        "league": league,
        "season": season,
        **keys,
        "fthg": goals[0],
        "ftag": goals[1],
    }
    frame["ftr"] = parsing.result_letters(table, faults, RESULT, goals, essential=True)
    frame.update(_closing_prices(table, faults))
    frame["match_id"] = match_ids([league] * count, [season] * count, keys["home_team"], keys["away_team"])
    frame.update(lineage(table.source_url, content_hash, table.lines))
    frame["findings"] = findings_text(faults.findings)
    parsed = split_rows(canonical_frame(frame, schema.MATCH_COLUMNS, count), faults, table)
    kept = parsed.matches
    kept["stage"] = pd.array(play_off_stages(kept["home_team"], kept["away_team"]), dtype="string")
    return parsed


def parse_league_file(
    content: bytes, *, league: str, source_url: str, content_hash: str, partition: str | None = None
) -> LeagueFile:
    """Every season of one extra league's file (``new/<league>.csv``).

    Raises :class:`SourceFormatError` only for whole-file problems (an HTML page, an empty,
    binary, undecodable or truncated body, a header without the required columns), naming
    ``partition`` (the partition that asked for the file) when given.
    """
    table = _spelled(read_table(content, source_url, partition, REQUIRED, _shape))
    seasons = _row_seasons(table)
    texts = table.column("Season")
    by_season: dict[int, list[int]] = {}
    for index, season in enumerate(seasons):
        if season is not None:
            by_season.setdefault(season, []).append(index)
    out: dict[int, ParsedResults] = {}
    for season, indexes in sorted(by_season.items()):
        part = Table(
            table.source_url,
            table.partition,
            table.header,
            table.header_line,
            table.positions,
            [table.rows[i] for i in indexes],
        )
        out[season] = _season_results(part, league, season, content_hash, [texts[i] for i in indexes])
    return LeagueFile(out)


def parse_league_fixtures(
    content: bytes, *, leagues_by_country: dict[str, str], source_url: str, content_hash: str
) -> pd.DataFrame:
    """Upcoming matches of the extra leagues (``new_league_fixtures.csv``), conformed to
    ``schema.FIXTURE_COLUMNS``.

    The file names each row's league by its ``Country`` (one extra league per country):
    ``leagues_by_country`` maps it to the league code; rows of other countries are left out.
    ``season`` is the season of the row's ``Season`` cell when the file has one, else that of
    its date in the league's season style. The first row whose key
    fields do not parse fails the list (a fixtures list has no quarantine).
    """
    table = _spelled(read_table(content, source_url, "fixtures", FIXTURES_REQUIRED, _fixture_shape))
    countries = table.column("Country")
    wanted = [index for index, country in enumerate(countries) if country in leagues_by_country]
    table = Table(
        table.source_url,
        table.partition,
        table.header,
        table.header_line,
        table.positions,
        [table.rows[i] for i in wanted],
    )
    faults = parsing.Faults(table)
    leagues = [leagues_by_country[country] for country in table.column("Country")]
    keys = parsing.key_fields(table, faults, None)
    days = keys.pop("day")
    faults.raise_first_rejection()
    labels = table.column("Season") if "Season" in table.positions else [""] * len(table.rows)
    seasons = [
        _fixture_season(league, label, day) for league, label, day in zip(leagues, labels, days, strict=True)
    ]
    frame: dict[str, object] = {"league": leagues, "season": seasons, **keys}
    for column, values in parsing.odds(table, faults).items():  # every price is published before kickoff
        frame.setdefault(column.replace("_close_", "_open_"), values)
    frame["match_id"] = match_ids(leagues, seasons, keys["home_team"], keys["away_team"])
    frame.update(lineage(table.source_url, content_hash, table.lines))
    frame["findings"] = findings_text(faults.findings)
    return canonical_frame(frame, schema.FIXTURE_COLUMNS, len(table.rows))


def _fixture_shape(header: list[str], positions: dict[str, int]) -> RowShape:
    return RowShape(
        len(header), lambda fields: parsing.essential_problem(fields, positions, None), positions["Date"]
    )


def _fixture_season(league: str, label: str, day) -> int:
    season = season_of_label(label) if label else None
    return season if season is not None else catalogue.season_of(league, day)
