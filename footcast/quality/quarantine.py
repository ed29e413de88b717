"""The quarantine of failing rows: their reasons, offending values and the output frames.

``reasons`` of a quarantined row is the comma-separated failed check names (in CHECK_SPECS
order); ``failed_values`` a JSON object {check: {column: value}} with the offending values
(for derived checks also the inputs, e.g. ``fthg``/``ftag`` next to ``ftr_from_goals``).
Both outputs (valid and quarantined rows) carry the original rows, values, dtypes, order and
index labels, in the canonical columns (schema.MATCH_COLUMNS).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from footcast.data import schema
from footcast.quality.expectations import (
    CHECK_ORDER,
    OVERROUND_RANGE,
    REGULAR_OVERROUNDS,
    odds_triplet,
    overround_column,
)


def json_value(value: Any) -> Any:
    """One cell as strict JSON: every kind of missing value is None, timestamps are ISO strings."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else str(value)  # keep the JSON strict
    if isinstance(value, (bool, int, str)):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


# Derived column of the validation view -> canonical columns it is computed from (reported in
# failed_values next to the derived value).
_DERIVED_SOURCES: dict[str, tuple[str, ...]] = {
    "ftr_from_goals": ("fthg", "ftag"),
    "htr_from_goals": ("hthg", "htag"),
    "expected_match_id": ("league", "season", "home_team", "away_team"),
    **{
        overround_column(book, timing): odds_triplet(book, timing)
        for book in schema.BOOKMAKERS
        for timing in schema.ODDS_TIMINGS
    },
}


# Columns of the validation view that hold the partition's own values (or a per-row flag
# derived from them) -> the row's columns reported in failed_values when a check fails.
_PARTITION_COLUMNS: dict[str, tuple[str, ...]] = {
    "partition_league": (),
    "partition_season": (),
    "season_start": (),
    "season_end": (),
    "partition_match_id": ("match_id",),
    "home_team_known": ("home_team",),
    "away_team_known": ("away_team",),
}


def row_values(frame: pd.DataFrame, view: pd.DataFrame, position: int, columns: list[str]) -> dict:
    """The offending values of one row for the columns of one failed expectation."""
    values: dict[str, Any] = {}
    for column in columns:
        if column == "min_odds":  # name the prices that are not above 1
            values.update(_odds_not_above_one(frame, view, position))
        elif column in ("overround_low", "overround_high"):  # name the implausible books
            values.update(_implausible_overrounds(frame, view, position))
        elif column in _PARTITION_COLUMNS:  # the partition's own value: report the row's instead
            for source in _PARTITION_COLUMNS[column]:
                values[source] = json_value(frame[source].iat[position])
        else:
            values.update(_column_values(frame, view, position, column))
    return values


def _odds_not_above_one(frame: pd.DataFrame, view: pd.DataFrame, position: int) -> dict:
    values: dict[str, Any] = {}
    for odds_column in schema.ODDS_COLUMNS:
        price = view[odds_column].iat[position]
        if not price > 1.0 and not np.isnan(price):
            values[odds_column] = json_value(frame[odds_column].iat[position])
    return values


def _implausible_overrounds(frame: pd.DataFrame, view: pd.DataFrame, position: int) -> dict:
    values: dict[str, Any] = {}
    low, high = OVERROUND_RANGE
    for derived in REGULAR_OVERROUNDS:
        overround = view[derived].iat[position]
        if overround < low or overround > high:
            values.update(_column_values(frame, view, position, derived))
    return values


def _column_values(frame: pd.DataFrame, view: pd.DataFrame, position: int, column: str) -> dict:
    """The value of one column of the row; for a derived column also the values it is computed from."""
    values: dict[str, Any] = {}
    for source in _DERIVED_SOURCES.get(column, ()):
        values[source] = json_value(frame[source].iat[position])
    if column in _DERIVED_SOURCES:
        derived = json_value(view[column].iat[position])
        values[column] = round(derived, 4) if isinstance(derived, float) else derived
    else:
        values[column] = json_value(frame[column].iat[position])
    return values


def sample_entry(frame: pd.DataFrame, position: int, values: dict) -> dict:
    entry = {
        "row": position,
        "source_line": json_value(frame["source_line"].iat[position]),
        "match_id": json_value(frame["match_id"].iat[position]),
    }
    entry.update(values)
    return entry


# Odds column -> the three prices of its book at its timing (nulled together: an overround
# needs all three, and one bad price makes the book's line at that timing untrustworthy).
_TRIPLET_OF: dict[str, tuple[str, str, str]] = {
    column: odds_triplet(book, timing)
    for book in schema.BOOKMAKERS
    for timing in schema.ODDS_TIMINGS
    for column in odds_triplet(book, timing)
}


def null_failed_prices(frame: pd.DataFrame, reasons: dict[int, dict[str, dict]], positions: set[int]) -> None:
    """Null, in place, the prices named by the price checks of the rows at ``positions`` (their
    whole book line at that timing) and add a finding per nulled price to the row's ``findings``
    (the JSON list of {column, raw, reason} the raw layer starts)."""
    for position in sorted(positions):
        added = [
            _null_price(frame, position, column, check) for check, column in _failed_prices(reasons[position])
        ]
        added = [finding for finding in added if finding]
        if added and "findings" in frame.columns:
            at = frame.columns.get_loc("findings")
            before = frame.iat[position, at]
            kept = json.loads(before) if isinstance(before, str) and before else []
            frame.iat[position, at] = json.dumps(kept + added, ensure_ascii=False)


def _failed_prices(failed: dict[str, dict]) -> list[tuple[str, str]]:
    """(check, odds column) of every price in the book lines a row's failed checks name."""
    pairs: list[tuple[str, str]] = []
    for check, values in failed.items():
        lines = dict.fromkeys(_TRIPLET_OF[name] for name in values if name in _TRIPLET_OF)
        pairs += [(check, column) for line in lines for column in line]
    return pairs


def _null_price(frame: pd.DataFrame, position: int, column: str, check: str) -> dict[str, str] | None:
    price = frame[column].iat[position]
    if pd.isna(price):
        return None
    frame.iat[position, frame.columns.get_loc(column)] = np.nan
    return {"column": column, "raw": f"{float(price):g}", "reason": f"{check}: price nulled"}


def canonical_output(
    frame: pd.DataFrame,
    positions: list[int],
    reasons: dict[int, dict[str, dict]] | None = None,
) -> pd.DataFrame:
    present = [c for c in schema.MATCH_COLUMNS if c in frame.columns]
    out = frame.iloc[positions][present].copy()
    if len(present) != len(schema.MATCH_COLUMNS):
        out = out.reindex(columns=list(schema.MATCH_COLUMNS))
    if reasons is not None:
        out["reasons"] = pd.array(
            [",".join(sorted(reasons[p], key=CHECK_ORDER.__getitem__)) for p in positions], dtype="string"
        )
        out["failed_values"] = pd.array(
            [json.dumps(reasons[p], sort_keys=True, default=str) for p in positions], dtype="string"
        )
    return out


def empty_quarantine() -> pd.DataFrame:
    return _empty_quarantine_template().copy()


@lru_cache(maxsize=1)
def _empty_quarantine_template() -> pd.DataFrame:
    out = schema.empty_frame()
    out["reasons"] = pd.array([], dtype="string")
    out["failed_values"] = pd.array([], dtype="string")
    return out
