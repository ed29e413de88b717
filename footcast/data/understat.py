"""Parser for Understat's league data: the JSON ``GET /getLeagueData/<LEAGUE>/<YEAR>`` returns.

Pure (no IO). The JSON has ``teams``, ``players`` and ``dates``; each element of ``dates`` is one
match (numbers are strings, ``datetime`` is UTC, goals and xG are null until it is played)::

    {"id": "22275", "isResult": true,
     "h": {"id": "699", "title": "Burnley", "short_title": "BUR"},
     "a": {"id": "284", "title": "Manchester City", "short_title": "MAN"},
     "goals": {"h": "0", "a": "3"}, "xG": {"h": "0.311032", "a": "2.40074"},
     "datetime": "2023-08-11 19:00:00",
     "forecast": {"w": "0.0177", "d": "0.0854", "l": "0.8969"}}

:func:`parse_league_data` turns it into one row per element of ``dates``
(:data:`UNDERSTAT_COLUMNS`). Team names stay Understat's own (``Manchester United``, not
football-data's ``Man United``): linking them to football-data's clubs is the team registry's
job. ``league`` is the football-data code of the league (``catalogue.understat_league``).

``post_match_forecast_*`` is Understat's ``forecast``: despite its name it is *not* a pre-match
forecast. Understat computes it after the match from that match's own xG (its home-minus-away
correlates 0.96 with the match's xG difference; scored as a predictor it reaches an impossible
RPS of 0.163). It is stored for reference under a name that says so and must never be used as
a feature or as a reference predictor.

Tolerance, as for football-data (issue 15): a fault of one match is not a fault of the file.
An element whose identity cannot be read (not an object; no id; no readable ``datetime``; no
team titles; ``isResult`` not true/false) is rejected with its reason and JSON text; an
element repeating an earlier one exactly is rejected as a duplicate. Any other unreadable cell
(goals, xG, forecast, team ids) is null with a finding (column, raw text, reason) in the row's
``findings``; the validated layer then holds a played match without goals or xG back. Only
whole-body problems (an HTML page, an empty, truncated or non-JSON body, no ``dates`` list)
raise :class:`SourceFormatError`, naming the URL, the partition and the cause.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from footcast.data.football_data.errors import SourceFormatError

SOURCE = "understat"

# Rejections of a ``dates`` element (Rejected rows' ``rejection``).
UNPARSEABLE = "unparseable"
DUPLICATE = "duplicate"

# One row per element of ``dates``: column -> pandas dtype. The warehouse tables
# (raw_understat_matches, understat_matches) have exactly these columns plus ``fetched_at``.
UNDERSTAT_DTYPES: dict[str, str] = {
    "understat_id": "string",  # Understat's match id
    "league": "string",  # football-data code (E0, D1, ...)
    "season": "Int64",  # start year
    "kickoff": "datetime64[ns, UTC]",  # Understat's ``datetime`` (UTC)
    "home_team": "string",  # Understat's title, as published
    "away_team": "string",
    "home_team_understat_id": "string",  # Understat's team id
    "away_team_understat_id": "string",
    "is_result": "bool",  # played (goals and xG published)
    "home_goals": "Int64",  # null when not played
    "away_goals": "Int64",
    "home_xg": "Float64",  # null when not played
    "away_xg": "Float64",
    # Understat's ``forecast`` (w/d/l): computed AFTER the match from its own xG. Never a
    # feature, never a predictor (see the module docstring).
    "post_match_forecast_home": "Float64",
    "post_match_forecast_draw": "Float64",
    "post_match_forecast_away": "Float64",
    "source_url": "string",
    "content_hash": "string",
    "source_index": "Int64",  # 1-based position of the match in the JSON's ``dates``
    "findings": "string",  # JSON list of {"column", "raw", "reason"}; null when none
}
UNDERSTAT_COLUMNS: tuple[str, ...] = tuple(UNDERSTAT_DTYPES)
GOAL_COLUMNS: tuple[str, ...] = ("home_goals", "away_goals")
XG_COLUMNS: tuple[str, ...] = ("home_xg", "away_xg")
FORECAST_COLUMNS: tuple[str, ...] = (
    "post_match_forecast_home",
    "post_match_forecast_draw",
    "post_match_forecast_away",
)

# A rejected element: what parsed (``is_result`` may be unknown), the rejection, why, its JSON.
REJECTED_DTYPES: dict[str, str] = {
    **UNDERSTAT_DTYPES,
    "is_result": "boolean",
    "rejection": "string",
    "reason": "string",
    "raw_text": "string",
}
REJECTED_COLUMNS: tuple[str, ...] = tuple(REJECTED_DTYPES)

# Source cell of each numeric column: (key of the element, key inside it).
_CELLS: dict[str, tuple[str, str]] = {
    "home_goals": ("goals", "h"),
    "away_goals": ("goals", "a"),
    "home_xg": ("xG", "h"),
    "away_xg": ("xG", "a"),
    "post_match_forecast_home": ("forecast", "w"),
    "post_match_forecast_draw": ("forecast", "d"),
    "post_match_forecast_away": ("forecast", "l"),
}


@dataclass
class ParsedLeagueData:
    matches: pd.DataFrame  # kept elements, UNDERSTAT_COLUMNS, in ``dates`` order
    rejected: pd.DataFrame  # REJECTED_COLUMNS, in ``dates`` order

    @property
    def played(self) -> int:
        return int(self.matches["is_result"].sum())


def conform(frame: pd.DataFrame, dtypes: Mapping[str, str] = UNDERSTAT_DTYPES) -> pd.DataFrame:
    """``frame`` with exactly the columns of ``dtypes`` (missing ones null) in their dtypes, e.g. a
    frame read back from the warehouse."""
    frame = frame.reset_index(drop=True)
    data: dict[str, Any] = {}
    for column, dtype in dtypes.items():
        values = (
            frame[column] if column in frame.columns else pd.Series(pd.NA, index=frame.index, dtype=object)
        )
        if dtype.startswith("datetime64"):
            data[column] = pd.to_datetime(values, utc=True).astype(dtype)
        elif dtype in ("Int64", "Float64"):
            data[column] = pd.to_numeric(values, errors="coerce").astype(dtype)
        elif dtype == "bool":
            data[column] = values.astype("boolean").fillna(False).astype(bool)
        else:
            data[column] = values.astype(dtype)
    return pd.DataFrame(data, index=frame.index)


def empty_frame(dtypes: Mapping[str, str] = UNDERSTAT_DTYPES) -> pd.DataFrame:
    return conform(pd.DataFrame(), dtypes)


# -- one element --------------------------------------------------------------------------------


class _Unreadable(ValueError):
    """An element whose identity cannot be read: it is rejected."""


@dataclass
class _Row:
    values: dict[str, Any] = field(default_factory=dict)
    findings: list[dict[str, str]] = field(default_factory=list)

    def finding(self, column: str, raw: Any, reason: str) -> None:
        self.findings.append({"column": column, "raw": _text(raw), "reason": reason})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _required_text(element: Mapping, *path: str) -> str:
    value: Any = element
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _Unreadable(
            f"missing {'.'.join(path)}" if value is None else f"{'.'.join(path)} {value!r} unreadable"
        )
    return value.strip()


def _kickoff(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Unreadable(f"datetime {text!r} is not a date and time (want YYYY-MM-DD HH:MM:SS)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _cell(row: _Row, element: Mapping, column: str) -> None:
    """One numeric cell: null when Understat publishes none, else its number (a whole number for
    goals); anything else is null with a finding."""
    outer, inner = _CELLS[column]
    group = element.get(outer)
    raw = group.get(inner) if isinstance(group, Mapping) else None
    if raw is None:
        return
    number = _number(raw)
    if column in GOAL_COLUMNS:
        if number is None or not number.is_integer():
            row.finding(column, raw, f"{outer}.{inner} {_text(raw)!r} is not a whole number")
            return
        row.values[column] = int(number)
    elif number is None:
        row.finding(column, raw, f"{outer}.{inner} {_text(raw)!r} is not a number")
    else:
        row.values[column] = number


def _identity(element: Any) -> dict[str, Any]:
    """The fields that identify the match; :class:`_Unreadable` names the first that cannot be read."""
    if not isinstance(element, Mapping):
        raise _Unreadable(f"not a match object but {type(element).__name__}")
    is_result = element.get("isResult")
    if not isinstance(is_result, bool):
        raise _Unreadable(f"isResult {is_result!r} is not true or false")
    return {
        "understat_id": _required_text(element, "id"),
        "kickoff": _kickoff(_required_text(element, "datetime")),
        "home_team": _required_text(element, "h", "title"),
        "away_team": _required_text(element, "a", "title"),
        "is_result": is_result,
    }


def _team_ids(row: _Row, element: Mapping) -> None:
    for side, column in (("h", "home_team_understat_id"), ("a", "away_team_understat_id")):
        try:
            row.values[column] = _required_text(element, side, "id")
        except _Unreadable as exc:
            row.finding(column, (element.get(side) or {}).get("id"), str(exc))


def _partial(element: Any) -> dict[str, Any]:
    """What can be read of a rejected element, field by field."""
    values: dict[str, Any] = {}
    if not isinstance(element, Mapping):
        return values
    for column, path in (
        ("understat_id", ("id",)),
        ("home_team", ("h", "title")),
        ("away_team", ("a", "title")),
    ):
        try:
            values[column] = _required_text(element, *path)
        except _Unreadable:
            pass
    try:
        values["kickoff"] = _kickoff(_required_text(element, "datetime"))
    except _Unreadable:
        pass
    if isinstance(element.get("isResult"), bool):
        values["is_result"] = element["isResult"]
    return values


# -- the body -----------------------------------------------------------------------------------


def _dates(content: bytes, source_url: str, partition: str) -> list:
    """The ``dates`` list of the body; :class:`SourceFormatError` when the body is not the JSON."""

    def fail(cause: str, line: int | None = None) -> SourceFormatError:
        return SourceFormatError(source_url, line, cause, partition)

    if not content.strip():
        raise fail("empty body: no league data")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text (byte {exc.start}): not Understat's league data JSON") from None
    if text.lstrip()[:1] == "<":
        raise fail(
            f"an HTML page ({text.lstrip()[:60]!r}...), not the league data JSON (session cookies or the "
            "X-Requested-With header refused?)"
        )
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        # A body cut short fails at its very end, or inside a string running to the end.
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated"):
            raise fail(
                f"truncated JSON: the {len(content)}-byte body ends inside the document ({exc.msg})"
            ) from None
        raise fail(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", exc.lineno) from None
    if not isinstance(document, dict):
        raise fail(f"the JSON is a {type(document).__name__}, not an object with teams, players and dates")
    dates = document.get("dates")
    if not isinstance(dates, list):
        keys = ", ".join(map(str, list(document)[:5])) or "none"
        what = "no dates list" if dates is None else f"dates is a {type(dates).__name__}, not a list"
        raise fail(f"{what} in the JSON (its keys: {keys})")
    return dates


def _raw_text(element: Any) -> str:
    return json.dumps(element, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def parse_league_data(
    content: bytes, *, league: str, season: int, source_url: str, content_hash: str, partition: str
) -> ParsedLeagueData:
    """One row per element of ``dates`` of Understat's league data (see the module docstring).

    ``league``: the football-data code (E0, not EPL); ``season``: the start year.
    Raises :class:`SourceFormatError` (naming ``source_url``, ``partition`` and the cause) for a
    body that is not the league data JSON.
    """
    kept: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    first_of: dict[str, int] = {}
    for position, element in enumerate(_dates(content, source_url, partition), start=1):
        text = _raw_text(element)
        common = {"league": league, "season": season, "source_url": source_url, "content_hash": content_hash}
        common["source_index"] = position
        if text in first_of:
            reason = f"repeats element {first_of[text]} of dates exactly; the first is kept"
            rejected.append(
                {**common, **_partial(element), "rejection": DUPLICATE, "reason": reason, "raw_text": text}
            )
            continue
        first_of[text] = position
        try:
            row = _Row({**common, **_identity(element)})
        except _Unreadable as exc:
            rejected.append(
                {
                    **common,
                    **_partial(element),
                    "rejection": UNPARSEABLE,
                    "reason": str(exc),
                    "raw_text": text,
                }
            )
            continue
        _team_ids(row, element)
        for column in _CELLS:
            _cell(row, element, column)
        row.values["findings"] = json.dumps(row.findings, ensure_ascii=False) if row.findings else None
        kept.append(row.values)
    return ParsedLeagueData(
        conform(pd.DataFrame(kept), UNDERSTAT_DTYPES), conform(pd.DataFrame(rejected), REJECTED_DTYPES)
    )
