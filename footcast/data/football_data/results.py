"""Parser for football-data.co.uk CSV files: season results and the upcoming fixtures list.

Turns the site's bytes into frames conformed to :mod:`footcast.data.schema`. One code path
serves every league of the site (``mmz4281/<SEASON4>/<DIV>.csv``) and ``/fixtures.csv``: the
header says which columns a file has, nothing depends on the league code.

Quirks handled (all occur in real files): UTF-8 with or without BOM, cp1252 bytes, CRLF/LF,
``dd/mm/yy`` and ``dd/mm/yyyy`` dates, a ``Time`` column only from 2019/20, trailing empty
header columns, all-comma rows, rows with more or fewer fields than the header (extra fields
must be empty, missing ones are trailing empties), and odds column sets that change over the
years (``BbAv``/``BbMx`` before 2019/20, ``Avg``/``Max`` and closing ``<book>C<H|D|A>`` after).

Nothing is dropped silently: rows without any value are not data and are skipped; every other
row becomes a canonical row or the whole file fails with :class:`SourceFormatError` naming the
source, the partition and the first offending physical line.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache

import numpy as np
import pandas as pd

from footcast.data import schema
from footcast.data.teams import canonical_team

SOURCE = "football-data"


class SourceFormatError(ValueError):
    """A source file that cannot be turned into canonical rows without losing or inventing data."""

    def __init__(self, source_url: str, line: int | None, cause: str, partition: str | None = None) -> None:
        self.source_url = source_url
        self.line = line
        self.cause = " ".join(str(cause).split())  # always one line
        self.partition = partition
        where = f" [{partition}]" if partition else ""
        at = f" line {line}" if line is not None else ""
        super().__init__(f"{source_url}{where}{at}: {self.cause}")

    def __reduce__(self):  # keep it picklable (multiprocess executors ship exceptions around)
        return (type(self), (self.source_url, self.line, self.cause, self.partition))


# --- column names --------------------------------------------------------------------------

# canonical field -> header names, preferred first (older/other spellings after).
_DIV = ("Div",)
_DATE = ("Date",)
_TIME = ("Time",)
_HOME = ("HomeTeam", "HT", "Home")
_AWAY = ("AwayTeam", "AT", "Away")
_GOALS = {"fthg": ("FTHG", "HG"), "ftag": ("FTAG", "AG"), "hthg": ("HTHG",), "htag": ("HTAG",)}
_LETTERS = {"ftr": ("FTR", "Res"), "htr": ("HTR",)}
_STATS = dict(
    zip(
        schema.STAT_COLUMNS,
        [(n,) for n in ("HS", "AS", "HST", "AST", "HC", "AC", "HF", "AF", "HY", "AY", "HR", "AR")],
        strict=True,
    )
)

# <prefix><C?><H|D|A>: opening price, or closing price with "C". Market-wide Avg/Max replaced
# Betbrain's BbAv/BbMx in 2019/20; when a file has both, Avg/Max win (rank 0 before rank 1).
_ODDS_PREFIXES: dict[str, tuple[str, int]] = {
    "B365": ("b365", 0),
    "BW": ("bw", 0),
    "IW": ("iw", 0),
    "LB": ("lb", 0),
    "PS": ("ps", 0),
    "WH": ("wh", 0),
    "SJ": ("sj", 0),
    "VC": ("vc", 0),
    "Avg": ("avg", 0),
    "Max": ("max", 0),
    "BbAv": ("avg", 1),
    "BbMx": ("max", 1),
}
_ODDS_HEADER = re.compile(r"^(" + "|".join(sorted(_ODDS_PREFIXES, key=len, reverse=True)) + r")(C?)([HDA])$")

_DATE_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME_RE = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")
_HTML_MARKERS = ("<!doctype", "<html", "<head", "<body", "<?xml", "<script", "<title")


def odds_columns_of(header: Sequence[str]) -> dict[str, list[str]]:
    """Canonical odds column -> the header names feeding it, preferred first."""
    found: dict[str, list[tuple[int, int, str]]] = {}
    for position, name in enumerate(header):
        match = _ODDS_HEADER.match(name)
        if match is None:
            continue
        prefix, closing, outcome = match.groups()
        book, rank = _ODDS_PREFIXES[prefix]
        column = f"odds_{book}_{'close' if closing else 'open'}_{outcome.lower()}"
        found.setdefault(column, []).append((rank, position, name))
    return {column: [name for _r, _p, name in sorted(sources)] for column, sources in found.items()}


# --- reading the CSV -----------------------------------------------------------------------


@dataclass
class _Table:
    source_url: str
    partition: str | None
    header: list[str]  # stripped names, trailing unnamed columns removed
    header_line: int
    positions: dict[str, int]  # header name -> first position
    rows: list[list[str]]  # data rows, each exactly len(header) fields
    lines: list[int]  # physical line number where each row starts

    def error(self, line: int | None, cause: str) -> SourceFormatError:
        return SourceFormatError(self.source_url, line, cause, self.partition)

    def first(self, names: Sequence[str]) -> str | None:
        return next((n for n in names if n in self.positions), None)

    def column(self, name: str) -> list[str]:
        position = self.positions[name]
        return [row[position].strip() for row in self.rows]


def _decode(content: bytes, fail: Callable[[int | None, str], SourceFormatError]) -> str:
    if content is None or not content.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise fail(None, "empty body (no header, no rows)")
    if content[:2] == b"\x1f\x8b" or content[:4] == b"PK\x03\x04":
        raise fail(None, "compressed/binary body (gzip or zip), not a CSV file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        body = content.removeprefix(codecs.BOM_UTF8)  # a BOM in front of cp1252 bytes says nothing
        try:
            text = body.decode("cp1252")
        except UnicodeDecodeError as exc:
            line = body.count(b"\n", 0, exc.start) + 1
            sample = body[exc.start : exc.start + 8]
            raise fail(line, f"undecodable bytes (neither UTF-8 nor cp1252): {sample!r}") from None
    head = text.lstrip("\ufeff \t\r\n")[:4096].lower()
    if head.startswith("<") or any(marker in head for marker in _HTML_MARKERS):
        raise fail(None, "an HTML/XML page was served instead of a CSV file")
    nul = text.find("\x00")
    if nul >= 0:
        raise fail(text.count("\n", 0, nul) + 1, "binary content (NUL byte), not a CSV file")
    return text


_Fail = Callable[[int | None, str], SourceFormatError]


def _header_names(fields: list[str]) -> list[str]:
    """Stripped header names without the trailing unnamed columns."""
    names = [field.strip().lstrip("\ufeff").strip() for field in fields]
    while names and not names[-1]:
        names.pop()
    return names


def _fit_row(fields: list[str], width: int, line: int, fail: _Fail) -> list[str]:
    """A data row cut or padded to the header's width: only empty fields may be cut."""
    count = len(fields)
    if count > width:
        extra = [field for field in fields[width:] if field.strip()]
        if extra:
            raise fail(
                line,
                f"row has {count} fields but the header names {width} columns; "
                f"values beyond the header: {extra[:3]!r}",
            )
        return fields[:width]
    if count < width:
        return fields + [""] * (width - count)  # missing trailing fields are empty
    return fields


@dataclass
class _RawRows:
    header: list[str]
    header_line: int
    rows: list[list[str]]
    lengths: list[int]  # field count of each row as read, before fitting it to the header
    lines: list[int]


def _read_rows(text: str, fail: _Fail) -> _RawRows:
    """The header and the data rows (blank and all-comma rows skipped), with their line numbers."""
    reader = csv.reader(io.StringIO(text, newline=""))
    raw: _RawRows | None = None
    previous = 0
    try:
        for fields in reader:
            start, previous = previous + 1, reader.line_num
            if not any(field.strip() for field in fields):
                continue  # blank or all-comma row: not data
            if raw is None:
                raw = _RawRows(_header_names(fields), start, [], [], [])
                continue
            raw.rows.append(_fit_row(fields, len(raw.header), start, fail))
            raw.lengths.append(len(fields))
            raw.lines.append(start)
    except csv.Error as exc:
        raise fail(previous + 1, f"malformed CSV: {exc}") from None
    if raw is None:
        raise fail(None, "empty body (no header, no rows)")
    return raw


def _header_positions(raw: _RawRows, required: Sequence[tuple[str, ...]], fail: _Fail) -> dict[str, int]:
    """Header name -> first position; every required column (one of its names) must be there."""
    positions: dict[str, int] = {}
    for position, name in enumerate(raw.header):
        if name:
            positions.setdefault(name, position)
    missing = [names for names in required if not any(n in positions for n in names)]
    if missing:
        wanted = ", ".join(" or ".join(names) for names in missing)
        shown = ",".join(raw.header[:12]) + (",..." if len(raw.header) > 12 else "")
        raise fail(raw.header_line, f"header lacks required column(s) {wanted} (header: {shown[:200]})")
    return positions


def _check_not_truncated(text: str, raw: _RawRows, fail: _Fail) -> None:
    """A body cut mid-row: no final newline and a last row shorter than any other row."""
    lengths, width = raw.lengths, len(raw.header)
    if raw.rows and not text.endswith(("\n", "\r")) and lengths[-1] < width:
        if len(lengths) == 1 or lengths[-1] < min(lengths[:-1]):
            raise fail(
                raw.lines[-1],
                f"truncated file: the last row has {lengths[-1]} of {width} fields and no line end",
            )


def _read_table(
    content: bytes, source_url: str, partition: str | None, required: Sequence[tuple[str, ...]]
) -> _Table:
    def fail(line: int | None, cause: str) -> SourceFormatError:
        return SourceFormatError(source_url, line, cause, partition)

    text = _decode(content, fail)
    raw = _read_rows(text, fail)
    positions = _header_positions(raw, required, fail)
    _check_not_truncated(text, raw, fail)
    return _Table(source_url, partition, raw.header, raw.header_line, positions, raw.rows, raw.lines)


# --- value parsing -------------------------------------------------------------------------


class _Problems:
    """Keeps the first (lowest line) problem found by column-wise checks."""

    def __init__(self, table: _Table) -> None:
        self.table = table
        self.first: tuple[int, str] | None = None

    def add(self, index: int, cause: str) -> None:
        line = self.table.lines[index]
        if self.first is None or line < self.first[0]:
            self.first = (line, cause)

    def raise_first(self) -> None:
        if self.first is not None:
            raise self.table.error(*self.first)


def _two_digit_year(yy: int, season: int | None) -> int:
    if season is None:
        return 2000 + yy
    centuries = (season // 100 * 100 - 100, season // 100 * 100, season // 100 * 100 + 100)
    return min((c + yy for c in centuries), key=lambda year: abs(year - season - 0.5))


def _parse_date(text: str, season: int | None) -> date | None:
    match = _DATE_DMY.match(text)
    try:
        if match:
            day, month, year = match.groups()
            full = int(year) if len(year) == 4 else _two_digit_year(int(year), season)
            return date(full, int(month), int(day))
        match = _DATE_ISO.match(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return None


def _parse_time(text: str) -> time | None:
    match = _TIME_RE.match(text)
    if match is None:
        return None
    try:
        return time(int(match[1]), int(match[2]), int(match[3] or 0))
    except ValueError:
        return None


@lru_cache(maxsize=131072)
def _kickoff(day: date, at: time | None) -> tuple[pd.Timestamp, bool]:
    return schema.uk_kickoff_to_utc(day, at)


def _dates(table: _Table, problems: _Problems, season: int | None) -> list[date | None]:
    name = table.first(_DATE)
    assert name is not None
    cache: dict[str, date | None] = {}
    out: list[date | None] = []
    for index, text in enumerate(table.column(name)):
        if text not in cache:
            cache[text] = _parse_date(text, season) if text else None
        value = cache[text]
        if value is None:
            cause = f"unparseable {name} {text!r} (want dd/mm/yy[yy])" if text else f"missing {name}"
            problems.add(index, cause)
        out.append(value)
    return out


def _times(table: _Table, problems: _Problems) -> list[time | None]:
    name = table.first(_TIME)
    if name is None:
        return [None] * len(table.rows)
    cache: dict[str, time | None] = {"": None}
    out: list[time | None] = []
    for index, text in enumerate(table.column(name)):
        if text not in cache:
            cache[text] = _parse_time(text)
            if cache[text] is None:
                problems.add(index, f"unparseable {name} {text!r} (want hh:mm)")
        out.append(cache[text])
    return out


def _teams(table: _Table, problems: _Problems, names: tuple[str, ...]) -> list[str]:
    name = table.first(names)
    assert name is not None
    cache: dict[str, str] = {}
    out: list[str] = []
    for index, text in enumerate(table.column(name)):
        if not text:
            problems.add(index, f"missing {name}")
        elif text not in cache:
            cache[text] = canonical_team(text)
        out.append(cache.get(text, ""))
    return out


def _whole_numbers(table: _Table, problems: _Problems, name: str, required: bool) -> list[int | None]:
    out: list[int | None] = []
    for index, text in enumerate(table.column(name)):
        if not text:
            if required:
                problems.add(index, f"missing {name}")
            out.append(None)
        elif text.isascii() and text.isdigit():
            out.append(int(text))
        else:
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if number >= 0 and number.is_integer():
                out.append(int(number))
            else:
                problems.add(index, f"{name} {text!r} is not a non-negative whole number")
                out.append(None)
    return out


def _prices(table: _Table, problems: _Problems, name: str) -> np.ndarray:
    position = table.positions[name]
    texts = [row[position] for row in table.rows]
    try:  # fast path: numpy parses the strings (surrounding whitespace allowed)
        out = np.array([text if text and not text.isspace() else "nan" for text in texts], dtype="float64")
    except ValueError:
        out = np.full(len(texts), np.nan)
        for index, text in enumerate(texts):
            if text.strip():
                try:
                    out[index] = float(text)
                except ValueError:
                    problems.add(index, f"{name} {text.strip()!r} is not a decimal price")
    for index in np.flatnonzero(~np.isfinite(out)):
        text = texts[index].strip()
        if text:  # a literal "nan"/"inf" in the file
            problems.add(int(index), f"{name} {text!r} is not a decimal price")
            out[index] = np.nan
    return out


def _odds(table: _Table, problems: _Problems) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for column, names in odds_columns_of(table.header).items():
        merged = _prices(table, problems, names[0])
        for fallback in names[1:]:
            more = _prices(table, problems, fallback)
            gaps = np.isnan(merged)
            merged[gaps] = more[gaps]
        out[column] = merged
    return out


def _result_letter(
    table: _Table, problems: _Problems, names: tuple[str, ...], home: list[int | None], away: list[int | None]
) -> list[str | None]:
    """H/D/A as published; derived from the goals where the file has no letter."""
    name = table.first(names)
    given = table.column(name) if name else [""] * len(table.rows)
    out: list[str | None] = []
    for index, (letter, h, a) in enumerate(zip(given, home, away, strict=True)):
        if letter:
            letter = letter.upper()
            if letter not in ("H", "D", "A"):
                problems.add(index, f"{name} {letter!r} is not H, D or A")
            out.append(letter)
        elif h is not None and a is not None:
            out.append("H" if h > a else "A" if h < a else "D")
        else:
            out.append(None)
    return out


def _key_fields(
    table: _Table, problems: _Problems, season: int | None
) -> tuple[list[pd.Timestamp | None], list[bool], list[str], list[str], list[date | None]]:
    days = _dates(table, problems, season)
    times = _times(table, problems)
    home = _teams(table, problems, _HOME)
    away = _teams(table, problems, _AWAY)
    # A row whose home and away team are the same parses fine: it is a data error that the
    # validated layer quarantines with its reason, not a reason to reject the whole file.
    kickoffs: list[pd.Timestamp | None] = []
    known: list[bool] = []
    for day, at in zip(days, times, strict=True):
        if day is None:
            kickoffs.append(None)
            known.append(False)
        else:
            moment, is_known = _kickoff(day, at)
            kickoffs.append(moment)
            known.append(is_known)
    return kickoffs, known, home, away, days


def _match_ids(
    leagues: Sequence[str], seasons: Sequence[int | None], home: list[str], away: list[str]
) -> list[str]:
    cache: dict[tuple[str, int | None, str, str], str] = {}
    out: list[str] = []
    for key in zip(leagues, seasons, home, away, strict=True):
        if key not in cache:
            league, season, h, a = key
            cache[key] = schema.make_match_id(league, season, h, a) if season is not None and h and a else ""
        out.append(cache[key])
    return out


def _canonical_frame(data: dict[str, object], columns: tuple[str, ...], count: int) -> pd.DataFrame:
    """The frame ``schema.conform(pd.DataFrame(data), columns)`` returns, built in one go.

    ``data`` holds, per column, a scalar, a list (None for missing values) or a float array.
    Same dtypes as :func:`schema.conform`, but each column is built straight into its final
    array and the frame in one constructor: conform inserts column by column and costs
    ~70 ms per call whatever the row count, more than parsing a whole file. Tests assert the
    result is a fixed point of ``schema.conform``.
    """
    out: dict[str, object] = {}
    for column in columns:
        raw = data.get(column)
        if isinstance(raw, (str, int)):
            raw = [raw] * count
        if column == "kickoff":
            out[column] = pd.to_datetime(
                pd.Series(raw if raw is not None else [None] * count, dtype=object), utc=True
            )
        elif column == "kickoff_time_known":
            out[column] = pd.array(raw if raw is not None else [None] * count, dtype="boolean")
        elif column in schema.INT_COLUMNS:
            values = raw if raw is not None else [None] * count
            mask = np.fromiter((value is None for value in values), dtype=bool, count=count)
            numbers = np.fromiter(
                (0 if value is None else value for value in values), dtype="int64", count=count
            )
            out[column] = pd.arrays.IntegerArray(numbers, mask)
        elif column in schema.FLOAT_COLUMNS:
            out[column] = np.full(count, np.nan) if raw is None else np.asarray(raw, dtype="float64")
        else:
            out[column] = pd.array(raw if raw is not None else [None] * count, dtype="string")
    return pd.DataFrame(out, index=pd.RangeIndex(count), columns=list(columns))


def _lineage(table: _Table, content_hash: str) -> dict[str, object]:
    return {
        "source": SOURCE,
        "source_url": table.source_url,
        "content_hash": content_hash,
        "source_line": table.lines,
    }


# --- public API ----------------------------------------------------------------------------


def parse_results(
    content: bytes, *, league: str, season: int, source_url: str, content_hash: str
) -> pd.DataFrame:
    """Played matches of one league-season file (``mmz4281/<SEASON4>/<league>.csv``).

    Returns a frame conformed to ``schema.MATCH_COLUMNS``, one row per data row of the file in
    file order, ``source_line`` being the row's 1-based physical line. Raises
    :class:`SourceFormatError` for anything that cannot be parsed without losing a row.
    """
    partition = f"{league}|{schema.season_key(season)}"
    table = _read_table(content, source_url, partition, (_DATE, _HOME, _AWAY, _GOALS["fthg"], _GOALS["ftag"]))
    problems = _Problems(table)

    div = table.first(_DIV)
    if div is not None:
        for index, value in enumerate(table.column(div)):
            if value and value != league:
                problems.add(index, f"{div} {value!r} disagrees with the requested league {league!r}")

    kickoffs, known, home, away, _days = _key_fields(table, problems, season)
    frame: dict[str, object] = {
        "league": league,
        "season": season,
        "kickoff": kickoffs,
        "kickoff_time_known": known,
        "home_team": home,
        "away_team": away,
    }
    nothing: list[int | None] = [None] * len(table.rows)
    goals: dict[str, list[int | None]] = {}
    for column, names in _GOALS.items():
        name = table.first(names)
        if name is not None:
            goals[column] = _whole_numbers(table, problems, name, required=column in ("fthg", "ftag"))
    frame.update(goals)
    frame["ftr"] = _result_letter(table, problems, _LETTERS["ftr"], goals["fthg"], goals["ftag"])
    if ("hthg" in goals and "htag" in goals) or table.first(_LETTERS["htr"]):
        half_home, half_away = goals.get("hthg", nothing), goals.get("htag", nothing)
        frame["htr"] = _result_letter(table, problems, _LETTERS["htr"], half_home, half_away)
    for column, names in _STATS.items():
        name = table.first(names)
        if name is not None:
            frame[column] = _whole_numbers(table, problems, name, required=False)
    frame.update(_odds(table, problems))
    problems.raise_first()

    count = len(table.rows)
    frame["match_id"] = _match_ids([league] * count, [season] * count, home, away)
    frame.update(_lineage(table, content_hash))
    result = _canonical_frame(frame, schema.MATCH_COLUMNS, count)
    # A pair that meets more than once in a season (Scottish leagues) needs a leg number.
    repeated = result.duplicated(["home_team", "away_team"], keep=False)
    if repeated.any():
        result.loc[repeated, "match_id"] = schema.assign_match_ids(result[repeated])
    return result


def parse_fixtures(content: bytes, *, source_url: str, content_hash: str) -> pd.DataFrame:
    """Upcoming matches of every league in the site's ``/fixtures.csv``.

    Returns a frame conformed to ``schema.FIXTURE_COLUMNS``; ``league`` is the row's ``Div``
    and ``season`` the season of its UK-local date. A header-only file gives an empty frame.
    """
    table = _read_table(content, source_url, "fixtures", (_DIV, _DATE, _HOME, _AWAY))
    problems = _Problems(table)
    leagues = table.column(table.first(_DIV) or "Div")
    for index, value in enumerate(leagues):
        if not value:
            problems.add(index, "missing Div")
    kickoffs, known, home, away, days = _key_fields(table, problems, None)
    seasons = [schema.season_of(day) if day is not None else None for day in days]
    frame: dict[str, object] = {
        "league": leagues,
        "season": seasons,
        "kickoff": kickoffs,
        "kickoff_time_known": known,
        "home_team": home,
        "away_team": away,
    }
    frame.update(_odds(table, problems))
    problems.raise_first()

    frame["match_id"] = _match_ids(leagues, seasons, home, away)
    frame.update(_lineage(table, content_hash))
    count = len(table.rows)
    return _canonical_frame(frame, schema.FIXTURE_COLUMNS, count)
