"""Input preparation: played rows and fixtures in one frame, in the total order (kickoff, match_id)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from footcast.data import schema

_SHOT_COLUMNS = ("home_shots", "away_shots", "home_shots_on_target", "away_shots_on_target")
_ROW_COLUMNS: tuple[str, ...] = (*schema.IDENTITY_COLUMNS, "fthg", "ftag", *_SHOT_COLUMNS)


def _canonical(frame: pd.DataFrame | None, what: str) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """(the row columns conformed to the schema, the odds columns present as float64 arrays)."""
    if frame is None:
        frame = pd.DataFrame()
    required = ("match_id", "league", "kickoff", "home_team", "away_team")
    missing = [c for c in required if c not in frame.columns]
    if missing and len(frame):
        raise ValueError(f"build_features: {what} lack required column(s) {', '.join(missing)}")
    rows = schema.conform(frame[[c for c in _ROW_COLUMNS if c in frame.columns]], _ROW_COLUMNS)
    odds = {}
    for column in schema.ODDS_COLUMNS:
        if column in frame.columns:
            values = frame[column]
            if not pd.api.types.is_float_dtype(values.dtype):
                values = pd.to_numeric(values, errors="coerce")
            odds[column] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return rows, odds


def prepare(
    matches: pd.DataFrame | None, fixtures: pd.DataFrame | None
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Played rows and fixtures in one frame sorted by (kickoff, match_id), with ``played``,
    and their odds columns in the same order."""
    history, odds = _canonical(matches, "matches")
    history["played"] = (history["fthg"].notna() & history["ftag"].notna()).to_numpy(dtype=bool)
    upcoming, upcoming_odds = _canonical(fixtures, "fixtures")
    if len(upcoming):
        keep = ~upcoming["match_id"].isin(history["match_id"][history["played"]]).to_numpy(dtype=bool)
        upcoming = upcoming[keep]
        for column in ("fthg", "ftag") + _SHOT_COLUMNS:
            upcoming[column] = pd.array([pd.NA] * len(upcoming), dtype="Int64")
        upcoming["played"] = False
        n_history, n_upcoming = len(history), len(upcoming)
        odds = {
            column: np.concatenate(
                [
                    odds.get(column, np.full(n_history, np.nan)),
                    upcoming_odds[column][keep] if column in upcoming_odds else np.full(n_upcoming, np.nan),
                ]
            )
            for column in schema.ODDS_COLUMNS
            if column in odds or column in upcoming_odds
        }
        frame = pd.concat([history, upcoming], ignore_index=True) if n_history else upcoming
        frame = frame.reset_index(drop=True)
    else:
        frame = history
    for column in ("match_id", "league", "kickoff", "home_team", "away_team"):
        bad = frame[column].isna()
        if bad.any():
            first = frame.loc[bad.idxmax(), "match_id"]
            raise ValueError(
                f"build_features: {int(bad.sum())} row(s) without {column} (e.g. match_id {first!r})"
            )
    frame = frame.sort_values(["kickoff", "match_id"], kind="mergesort")
    order = frame.index.to_numpy()
    frame = frame.reset_index(drop=True)
    odds = {column: values[order] for column, values in odds.items()}
    ids = frame["match_id"].to_numpy(dtype=object)
    kick = kickoff_ns(frame["kickoff"])
    duplicated = np.flatnonzero((kick[1:] == kick[:-1]) & (ids[1:] == ids[:-1]))
    if len(duplicated):
        raise ValueError(
            f"build_features: duplicate rows for match_id {ids[duplicated[0]]!r} at the same kickoff"
        )
    if frame["season"].isna().any():
        local = frame["kickoff"].dt.tz_convert(schema.UK)
        derived = local.dt.year - (local.dt.month < 7).astype("int64")
        frame["season"] = frame["season"].fillna(derived.astype("Int64"))
    return frame, odds


def int_values(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values with 0 for nulls as int64, availability mask)."""
    available = series.notna().to_numpy(dtype=bool)
    return series.fillna(0).to_numpy(dtype=np.int64), available


def kickoff_ns(series: pd.Series) -> np.ndarray:
    naive = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return naive.to_numpy().astype("datetime64[ns]").view(np.int64)
