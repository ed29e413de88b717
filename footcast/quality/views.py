"""The tables the suites evaluate, built from a partition in canonical form.

- the schema table: the partition's schema as data, one row per canonical column
  (``footcast.schema``);
- the validation view: the partition's columns with plain numpy dtypes plus derived columns and
  the partition's own values (``footcast.rows``);
- the team counts: home, away and expected matches per team of the valid rows
  (``footcast.season``).

Pair and derived-column expectations run on a *view* of the partition with plain numpy dtypes
(nullable ``Int64``/``string`` become ``float64``/``object``) plus derived columns
(``ftr_from_goals``, ``htr_from_goals``, ``expected_match_id``, ``overround_<book>_<timing>``
and the row-wise aggregates ``min_odds``, ``overround_low``/``overround_high``): GE 1.24's
column-pair metrics cannot handle ``pd.NA`` ("boolean value of NA is ambiguous"). The outputs
always carry the original rows, values, dtypes, order and index labels.

Tables of many partitions are stacked into one (:func:`stacked`) so one suite run checks them all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from footcast.data import catalogue, schema
from footcast.quality.expectations import GOAL_COLUMNS, REGULAR_OVERROUNDS, odds_triplet, overround_column


def _row_reduce(ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
    """Row-wise fmin/fmax ignoring NaN (NaN only when the whole row is NaN)."""
    if values.shape[1] == 0:
        return np.full(values.shape[0], np.nan)
    return ufunc.reduce(values, axis=1)


def schema_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The partition's schema as data: one row per canonical column (name, role, present, dtype).

    The schema suite validates this table rather than running one type expectation per column
    of the partition: GE costs ~10 ms per expectation, and 66 column expectations took 0.8 s.
    """
    roles = {
        **dict.fromkeys(GOAL_COLUMNS, "goal"),
        "kickoff": "kickoff",
        **dict.fromkeys(schema.ODDS_COLUMNS, "odds"),
    }
    return pd.DataFrame(
        {
            "role": [roles.get(c, "other") for c in schema.MATCH_COLUMNS],
            "present": [c in frame.columns for c in schema.MATCH_COLUMNS],
            "dtype": [str(frame[c].dtype) if c in frame.columns else None for c in schema.MATCH_COLUMNS],
        },
        # unnamed: GE then reports unexpected rows by index label (a named index gives dicts)
        index=pd.Index(list(schema.MATCH_COLUMNS)),
    )


def _numeric_view(series: pd.Series) -> np.ndarray:
    if series.dtype == np.float64:  # the common case, already what the suite reads
        return series.to_numpy(dtype=np.float64, copy=True)
    return pd.to_numeric(series, errors="coerce").astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _object_view(series: pd.Series) -> np.ndarray:
    values = series.to_numpy(dtype=object, copy=True)
    values[pd.isna(values)] = None
    return values


def _result_code(home: np.ndarray, away: np.ndarray) -> np.ndarray:
    codes = np.where(home > away, "H", np.where(home < away, "A", "D")).astype(object)
    codes[np.isnan(home) | np.isnan(away)] = None
    return codes


def _expected_match_ids(view: dict[str, Any]) -> np.ndarray:
    """schema.make_match_id of every row whose keys and kickoff are present (None otherwise),
    with the leg numbering of schema.legs (one code path with the parsers)."""
    keys = pd.DataFrame(
        {
            "league": np.asarray(view["league"]),
            "season": np.asarray(view["season"]),
            "home_team": np.asarray(view["home_team"]),
            "away_team": np.asarray(view["away_team"]),
            "kickoff": pd.to_datetime(np.asarray(view["kickoff"]), utc=True),
        }
    )
    expected = np.full(len(keys), None, dtype=object)
    keys = keys[keys.notna().all(axis=1)]
    if keys.empty:
        return expected
    ids = schema.assign_match_ids(keys)
    expected[keys.index.to_numpy()] = ids.to_numpy(dtype=object)
    return expected


def _team_known(teams: np.ndarray, known: set[str] | None) -> np.ndarray:
    flags = np.full(len(teams), None, dtype=object)
    if known is not None:
        present = np.array([t is not None for t in teams], dtype=bool)
        flags[present] = [t in known for t in teams[present]]
    return flags


def validation_view(
    frame: pd.DataFrame, number: int, *, league: str, season: int, known_teams: set[str] | None
) -> pd.DataFrame:
    """Positional, numpy-typed copy of the columns the row suite reads, plus derived columns and
    the partition's own values (``partition_*``, season window, known-team flags); ``number``
    keeps the match ids of stacked partitions apart (``partition_match_id``)."""
    view: dict[str, Any] = {}
    for column in schema.MATCH_COLUMNS:
        series = frame[column]
        if column == "kickoff":
            view[column] = series.copy()
        elif column in schema.INT_COLUMNS or column in schema.FLOAT_COLUMNS:
            view[column] = _numeric_view(series)
        else:
            view[column] = _object_view(series)
    view["ftr_from_goals"] = _result_code(view["fthg"], view["ftag"])
    view["htr_from_goals"] = _result_code(view["hthg"], view["htag"])
    view["expected_match_id"] = _expected_match_ids(view)
    odds = np.column_stack([view[c] for c in schema.ODDS_COLUMNS])
    view["min_odds"] = _row_reduce(np.fmin, odds)
    with np.errstate(divide="ignore", invalid="ignore"):
        for book in schema.BOOKMAKERS:
            for timing in schema.ODDS_TIMINGS:
                prices = np.column_stack([view[c] for c in odds_triplet(book, timing)])
                # NaN unless all three prices are present (NaN propagates through the sum)
                view[overround_column(book, timing)] = (1.0 / prices).sum(axis=1)
    regular = np.column_stack([view[c] for c in REGULAR_OVERROUNDS])
    view["overround_low"] = _row_reduce(np.fmin, regular)
    view["overround_high"] = _row_reduce(np.fmax, regular)
    n = len(frame)
    view["partition_league"] = np.full(n, league, dtype=object)
    view["partition_season"] = np.full(n, float(season))
    season_start, season_end = catalogue.season_window(league, season)
    view["season_start"] = pd.Series([season_start] * n, dtype=view["kickoff"].dtype)
    view["season_end"] = pd.Series([season_end] * n, dtype=view["kickoff"].dtype)
    ids = view["match_id"]
    view["partition_match_id"] = np.array(
        [None if i is None else f"{number}\x1f{i}" for i in ids], dtype=object
    )
    view["home_team_known"] = _team_known(view["home_team"], known_teams)
    view["away_team_known"] = _team_known(view["away_team"], known_teams)
    view["kickoff"] = view["kickoff"].reset_index(drop=True)
    out = pd.DataFrame(view)
    out.index = pd.RangeIndex(len(frame))
    return out


def team_counts(valid: pd.DataFrame) -> pd.DataFrame:
    """Home, away and expected (``n_teams - 1``) matches of every team of the valid rows."""
    home = valid["home_team"].astype(object).value_counts()
    away = valid["away_team"].astype(object).value_counts()
    teams = sorted(set(home.index) | set(away.index), key=str)
    expected = max(len(teams) - 1, 0)
    return pd.DataFrame(
        {
            "team": np.array(teams, dtype=object),
            "home_matches": [int(home.get(t, 0)) for t in teams],
            "away_matches": [int(away.get(t, 0)) for t in teams],
            "expected_matches": [expected] * len(teams),
        }
    )


LABEL_SEP = "\x1f"  # index labels of stacked per-partition tables: "<partition number>\x1f<name>"


def split_label(label: Any) -> tuple[int, str]:
    number, _sep, name = str(label).partition(LABEL_SEP)
    return int(number), name


def stacked(tables: list[pd.DataFrame], names: list[list[str]]) -> pd.DataFrame:
    """One table of many partitions' tables, labelled by partition number and row name, so one
    suite run checks them all (GE's cost is per run and expectation, not per row)."""
    labels = [f"{number}{LABEL_SEP}{name}" for number, rows in enumerate(names) for name in rows]
    if not tables:
        return pd.DataFrame()
    out = pd.concat(tables, ignore_index=True)
    out.index = pd.Index(labels, dtype=object)
    return out
