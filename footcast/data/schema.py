"""The canonical match schema shared by every source (football-data.co.uk, the simulator, ...).

Every source turns its own format into a pandas DataFrame with exactly the columns of
``MATCH_COLUMNS`` (in that order); everything downstream relies only on this module.

Conventions
-----------
- ``season`` is the start year of the season as an int, whatever the league's season style:
  2023 means 2023/24 in a split-season league (July 1st to June 30th, UK local time; key
  ``"2023-24"``) and the year 2023 in a calendar-year league (key ``"2023"``). Each league's
  style is in :mod:`footcast.data.catalogue`; the helpers here take it as ``style``.
- ``kickoff`` is a timezone-aware UTC timestamp (pandas ``datetime64[ns, UTC]``). Sources
  that only publish a date (football-data.co.uk before 2019/20) get the nominal 15:00 UK
  local kickoff and ``kickoff_time_known = False``.
- ``match_id`` is deterministic: a hash of league, season, home and away team. In a league
  season each ordered pair of teams meets once, so the id survives re-scrapes, postponements
  (the date changes, the id does not) and a fixture turning into a result.
- Odds are decimal prices in wide form: ``odds_<book>_<open|close>_<h|d|a>``. "open" is any
  price published before the closing snapshot (what exists when predictions are published);
  "close" is the closing price. ``BOOKMAKERS`` lists the books kept.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pandas as pd

UK = ZoneInfo("Europe/London")
NOMINAL_KICKOFF_UK = time(15, 0)

# Bookmakers kept in canonical form. "avg" and "max" are market-wide aggregates
# (football-data's Avg/Max, and BbAv/BbMx for 2005/06-2018/19).
BOOKMAKERS: tuple[str, ...] = ("b365", "bw", "iw", "lb", "ps", "wh", "sj", "vc", "avg", "max")
ODDS_TIMINGS: tuple[str, ...] = ("open", "close")
OUTCOMES: tuple[str, ...] = ("h", "d", "a")

ODDS_COLUMNS: tuple[str, ...] = tuple(
    f"odds_{book}_{timing}_{outcome}"
    for book in BOOKMAKERS
    for timing in ODDS_TIMINGS
    for outcome in OUTCOMES
)

# Match statistics, where the source has them (home_ / away_ pairs).
STAT_COLUMNS: tuple[str, ...] = (
    "home_shots",
    "away_shots",
    "home_shots_on_target",
    "away_shots_on_target",
    "home_corners",
    "away_corners",
    "home_fouls",
    "away_fouls",
    "home_yellow",
    "away_yellow",
    "home_red",
    "away_red",
)

# What identifies a match everywhere (features, predictions, Redis records).
IDENTITY_COLUMNS: tuple[str, ...] = ("match_id", "league", "season", "kickoff", "home_team", "away_team")
KEY_COLUMNS: tuple[str, ...] = (
    "match_id",
    "league",
    "season",
    "kickoff",
    "kickoff_time_known",
    "home_team",
    "away_team",
)
RESULT_COLUMNS: tuple[str, ...] = ("fthg", "ftag", "ftr", "hthg", "htag", "htr")
# What a match is part of: the league's regular season, or a play-off after it (promotion or
# relegation play-offs that some files list with the league's matches).
REGULAR = "regular"
PLAY_OFF = "play-off"
STAGES: tuple[str, ...] = (REGULAR, PLAY_OFF)
STAGE_COLUMNS: tuple[str, ...] = ("stage",)
LINEAGE_COLUMNS: tuple[str, ...] = ("source", "source_url", "content_hash", "source_line")

# Cells of the row the source published but that could not be read (their canonical column is
# null), as JSON text of a list of {"column", "raw", "reason"}; null when the row has none.
FINDINGS_COLUMNS: tuple[str, ...] = ("findings",)

MATCH_COLUMNS: tuple[str, ...] = (
    KEY_COLUMNS
    + RESULT_COLUMNS
    + STAGE_COLUMNS
    + STAT_COLUMNS
    + ODDS_COLUMNS
    + LINEAGE_COLUMNS
    + FINDINGS_COLUMNS
)
# Upcoming fixtures: no results or statistics yet.
FIXTURE_COLUMNS: tuple[str, ...] = KEY_COLUMNS + ODDS_COLUMNS + LINEAGE_COLUMNS + FINDINGS_COLUMNS
# A source row that cannot be kept: the canonical fields that parsed (the others null), the
# kind of rejection (e.g. "unparseable", "duplicate"), why, and the row's text in the file.
REJECTED_COLUMNS: tuple[str, ...] = (*MATCH_COLUMNS, "rejection", "reason", "raw_text")

INT_COLUMNS: tuple[str, ...] = ("season", "fthg", "ftag", "hthg", "htag", "source_line") + STAT_COLUMNS
FLOAT_COLUMNS: tuple[str, ...] = ODDS_COLUMNS
STR_COLUMNS: tuple[str, ...] = (
    "match_id",
    "league",
    "home_team",
    "away_team",
    "ftr",
    "htr",
    "stage",
    "source",
    "source_url",
    "content_hash",
    "findings",
    "rejection",
    "reason",
    "raw_text",
)


SPLIT = "split"  # a season across two years, July to June: key "2023-24"
CALENDAR = "calendar"  # a season within one calendar year: key "2024"
SEASON_STYLES: tuple[str, ...] = (SPLIT, CALENDAR)


def _check_style(style: str) -> None:
    if style not in SEASON_STYLES:
        raise ValueError(f"unknown season style {style!r}; known: {', '.join(SEASON_STYLES)}")


def season_of(moment: date | datetime, style: str = SPLIT) -> int:
    """Start year of the season a date falls in: July to June (split) or the year (calendar)."""
    _check_style(style)
    if style == CALENDAR:
        return moment.year
    return moment.year if moment.month >= 7 else moment.year - 1


def season_key(season: int, style: str = SPLIT) -> str:
    """Partition key of a season: 2023 -> "2023-24" (split) or "2023" (calendar)."""
    _check_style(style)
    if style == CALENDAR:
        return f"{season}"
    return f"{season}-{(season + 1) % 100:02d}"


def season_from_key(key: str, style: str = SPLIT) -> int:
    """Inverse of :func:`season_key`."""
    start = key.partition("-")[0]
    example = "'2023-24'" if style == SPLIT else "'2024'"
    if len(start) != 4 or not start.isdigit() or season_key(int(start), style) != key:
        raise ValueError(f"not a {style} season key: {key!r} (expected e.g. {example})")
    return int(start)


def season_code(season: int) -> str:
    """football-data.co.uk's four-digit season code: 2023 -> "2324", 1999 -> "9900"."""
    return f"{season % 100:02d}{(season + 1) % 100:02d}"


def season_window(season: int, style: str = SPLIT) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC bounds [start, end) a season's matches may fall in, UK local.

    Split: July 1st to September 1st of the next year. Seasons overrun into the summer (the
    COVID season 2019/20 finished in late July 2020 in England and with play-offs on 10 August
    2020 in Switzerland), so windows of consecutive seasons overlap by two months.
    Calendar: January 1st to July 1st of the next year. Play-offs run into December, Brazil's
    COVID season 2020 ended in late February 2021, and a league that moved to calendar years
    keeps its older August-to-June seasons under their start year (Argentina until 2020).
    Which season a row belongs to comes from its source, never from the window.
    """
    _check_style(style)
    if style == CALENDAR:
        start, end = datetime(season, 1, 1, tzinfo=UK), datetime(season + 1, 7, 1, tzinfo=UK)
    else:
        start, end = datetime(season, 7, 1, tzinfo=UK), datetime(season + 1, 9, 1, tzinfo=UK)
    return pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC")


def make_match_id(league: str, season: int, home_team: str, away_team: str, leg: int = 1) -> str:
    """Deterministic id of a league match (see module docstring).

    ``leg`` numbers the meetings of the same home/away pair in one league season, in kickoff
    order (Scottish leagues play each pair up to four times); the first keeps the plain id.
    """
    raw = f"{league}|{season}|{home_team}|{away_team}" + (f"|{leg}" if leg > 1 else "")
    raw = raw.encode()
    return hashlib.sha1(raw).hexdigest()[:16]


def uk_kickoff_to_utc(day: date, at: time | None) -> tuple[pd.Timestamp, bool]:
    """Kickoff in UTC from a UK-local date and optional time; returns (kickoff, time_known)."""
    known = at is not None
    local = datetime.combine(day, at if known else NOMINAL_KICKOFF_UK).replace(tzinfo=UK)
    return pd.Timestamp(local).tz_convert("UTC"), known


def empty_frame(columns: tuple[str, ...] = MATCH_COLUMNS) -> pd.DataFrame:
    """An empty frame with the canonical columns and dtypes."""
    return conform(pd.DataFrame({c: [] for c in columns}), columns)


def conform(frame: pd.DataFrame, columns: tuple[str, ...] = MATCH_COLUMNS) -> pd.DataFrame:
    """Return ``frame`` with exactly ``columns`` (missing ones added as nulls) and canonical dtypes."""
    frame = frame.reset_index(drop=True)
    missing = pd.Series(pd.NA, index=frame.index, dtype="object")
    data = {}
    for column in columns:
        values = frame[column] if column in frame.columns else missing
        if column == "kickoff":
            data[column] = pd.to_datetime(values, utc=True)
        elif column == "kickoff_time_known":
            data[column] = values.astype("boolean")
        elif column in INT_COLUMNS:
            data[column] = pd.to_numeric(values, errors="coerce").astype("Int64")
        elif column in FLOAT_COLUMNS:
            data[column] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            data[column] = values.astype("string")
    # Build the frame once: inserting columns one at a time is slow for ~90 columns.
    return pd.DataFrame(data, index=frame.index)


def legs(frame: pd.DataFrame, prior_meetings: pd.Series | None = None) -> pd.Series:
    """Leg number of each row: the rank of its kickoff date among the distinct dates on which
    the same home and away team meet in that league season, plus ``prior_meetings`` (meetings
    already played, for fixtures). Two rows of a pair on the same date share a leg, so a
    duplicated row keeps a duplicated id (and is caught as a duplicate, not taken as a new leg).
    """
    keys = ["league", "season", "home_team", "away_team"]
    day = frame["kickoff"].dt.tz_convert(UK).dt.normalize()
    rank = frame[keys].assign(_day=day).groupby(keys, dropna=False)["_day"].rank(method="dense")
    rank = rank.fillna(1).astype(int)
    if prior_meetings is not None:
        rank = rank + prior_meetings.reindex(frame.index).fillna(0).astype(int)
    return rank


def assign_match_ids(frame: pd.DataFrame, prior_meetings: pd.Series | None = None) -> pd.Series:
    """Deterministic match ids of canonical rows (see :func:`make_match_id` and :func:`legs`)."""
    leg = legs(frame, prior_meetings)
    return pd.Series(
        [
            make_match_id(str(lg), int(s), str(h), str(a), int(n))
            for lg, s, h, a, n in zip(
                frame["league"], frame["season"], frame["home_team"], frame["away_team"], leg, strict=True
            )
        ],
        index=frame.index,
        dtype="string",
    )
