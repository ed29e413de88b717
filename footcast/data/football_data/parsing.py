"""Reading the table column by column: essential cells reject their row, the others become
findings (the canonical cell is null).

Columns are parsed whole (with per-text caches and a numpy fast path for prices): a season
file has hundreds of rows and a backfill hundreds of files.
"""

from __future__ import annotations

from datetime import date, time
from functools import lru_cache

import numpy as np
import pandas as pd

from footcast.data import schema
from footcast.data.football_data import cells
from footcast.data.football_data.columns import AWAY, DATE, HOME, TIME, odds_columns_of
from footcast.data.football_data.lines import UNPARSEABLE, finding
from footcast.data.football_data.reading import Table
from footcast.data.teams import canonical_team


class Faults:
    """Per row: the findings (cells that could not be read) and the rejection, if any."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.findings = [list(row.findings) for row in table.rows]
        self.rejections: dict[int, tuple[str, str]] = {
            index: row.rejection for index, row in enumerate(table.rows) if row.rejection is not None
        }

    def note(self, index: int, name: str, text: str, reason: str) -> None:
        self.findings[index].append(finding(name, text, reason))

    def reject(self, index: int, reason: str) -> None:
        self.rejections.setdefault(index, (UNPARSEABLE, reason))  # the first reason found is kept

    def cell(self, index: int, name: str, text: str, reason: str, essential: bool) -> None:
        if essential:
            self.reject(index, reason)
        else:
            self.note(index, name, text, reason)

    def raise_first_rejection(self) -> None:
        """For files with no quarantine (the fixtures list): the first rejected row fails the file."""
        if self.rejections:
            index = min(self.rejections, key=lambda i: self.table.rows[i].line)
            raise self.table.error(self.table.rows[index].line, self.rejections[index][1])


@lru_cache(maxsize=131072)
def _kickoff(day: date, at: time | None) -> tuple[pd.Timestamp, bool]:
    return schema.uk_kickoff_to_utc(day, at)


def dates(table: Table, faults: Faults, season: int | None) -> list[date | None]:
    name = table.first(DATE)
    assert name is not None
    cache: dict[str, date | None] = {}
    out: list[date | None] = []
    for index, text in enumerate(table.column(name)):
        if text not in cache:
            cache[text] = cells.parse_date(text, season) if text else None
        value = cache[text]
        if value is None:
            faults.reject(index, cells.date_problem(name, text))
        out.append(value)
    return out


def times(table: Table, faults: Faults) -> list[time | None]:
    """Kickoff times; an unreadable one is a finding (the kickoff falls back to the nominal time)."""
    name = table.first(TIME)
    if name is None:
        return [None] * len(table.rows)
    cache: dict[str, time | None] = {"": None}
    out: list[time | None] = []
    for index, text in enumerate(table.column(name)):
        if text not in cache:
            cache[text] = cells.parse_time(text)
        if cache[text] is None and text:
            faults.note(index, name, text, f"unparseable {name} {text!r} (want hh:mm)")
        out.append(cache[text])
    return out


def teams(table: Table, faults: Faults, names: tuple[str, ...]) -> list[str]:
    name = table.first(names)
    assert name is not None
    cache: dict[str, str] = {}
    out: list[str] = []
    for index, text in enumerate(table.column(name)):
        if not text:
            faults.reject(index, f"missing {name}")
        elif text not in cache:
            cache[text] = canonical_team(text)
        out.append(cache.get(text, ""))
    return out


def whole_numbers(table: Table, faults: Faults, name: str, essential: bool) -> list[int | None]:
    cache: dict[str, int | None] = {"": None}
    out: list[int | None] = []
    for index, text in enumerate(table.column(name)):
        if text not in cache:
            cache[text] = cells.parse_whole_number(text)
        value = cache[text]
        if value is None and (text or essential):
            faults.cell(index, name, text, cells.whole_number_problem(name, text), essential)
        out.append(value)
    return out


def prices(table: Table, faults: Faults, name: str) -> np.ndarray:
    position = table.positions[name]
    texts = [row.fields[position] for row in table.rows]
    try:  # fast path: numpy parses the strings (surrounding whitespace allowed)
        out = np.array([text if text and not text.isspace() else "nan" for text in texts], dtype="float64")
    except ValueError:
        out = np.array([cells.parse_price(text) if text.strip() else None for text in texts], dtype="float64")
    for index in np.flatnonzero(~np.isfinite(out)):
        text = texts[index].strip()
        if text:  # unreadable, or a literal "nan"/"inf" in the file
            faults.note(int(index), name, text, cells.price_problem(name, text))
            out[index] = np.nan
    return out


def odds(table: Table, faults: Faults) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for column, names in odds_columns_of(table.header).items():
        merged = prices(table, faults, names[0])
        for fallback in names[1:]:
            more = prices(table, faults, fallback)
            gaps = np.isnan(merged)
            merged[gaps] = more[gaps]
        out[column] = merged
    return out


def result_letters(
    table: Table,
    faults: Faults,
    names: tuple[str, ...],
    goals: tuple[list[int | None], list[int | None]],
    essential: bool,
) -> list[str | None]:
    """H/D/A as published; derived from the goals where the file has no letter."""
    name = table.first(names)
    given = table.column(name) if name else [""] * len(table.rows)
    out: list[str | None] = []
    for index, (letter, h, a) in enumerate(zip(given, *goals, strict=True)):
        if letter:
            value = letter.upper() if letter.upper() in cells.RESULT_LETTERS else None
            if value is None:
                faults.cell(index, str(name), letter, cells.letter_problem(str(name), letter), essential)
            out.append(value)
        elif h is not None and a is not None:
            out.append("H" if h > a else "A" if h < a else "D")
        else:
            out.append(None)
    return out


def key_fields(table: Table, faults: Faults, season: int | None) -> dict[str, list]:
    """kickoff, kickoff_time_known, home_team and away_team of every row, plus its ``day``."""
    days = dates(table, faults, season)
    at = times(table, faults)
    home = teams(table, faults, HOME)
    away = teams(table, faults, AWAY)
    # A row whose home and away team are the same parses fine: it is a data error that the
    # validated layer quarantines with its reason.
    kickoffs: list[pd.Timestamp | None] = []
    known: list[bool | None] = []
    for day, moment in zip(days, at, strict=True):
        kickoff, is_known = _kickoff(day, moment) if day is not None else (None, None)
        kickoffs.append(kickoff)
        known.append(is_known)
    return {
        "kickoff": kickoffs,
        "kickoff_time_known": known,
        "home_team": home,
        "away_team": away,
        "day": days,
    }


def essential_problem(fields: list[str], positions: dict[str, int], season: int | None) -> str | None:
    """Why one row's key fields (date, teams) do not parse, None when they do (row by row, for
    telling a match that follows another on one line)."""
    date_name = next(n for n in DATE if n in positions)
    text = fields[positions[date_name]].strip()
    if cells.parse_date(text, season) is None:
        return cells.date_problem(date_name, text)
    for names in (HOME, AWAY):
        name = next(n for n in names if n in positions)
        if not fields[positions[name]].strip():
            return f"missing {name}"
    return None
