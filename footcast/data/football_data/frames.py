"""Building canonical frames from parsed columns."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from footcast.data import schema

SOURCE = "football-data"


def canonical_frame(data: dict[str, object], columns: tuple[str, ...], count: int) -> pd.DataFrame:
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


def lineage(source_url: str, content_hash: str, lines: list[int]) -> dict[str, object]:
    return {"source": SOURCE, "source_url": source_url, "content_hash": content_hash, "source_line": lines}


def findings_text(findings: Sequence[Sequence[dict[str, str]]]) -> list[str | None]:
    """The ``findings`` cell of each row: JSON text of its findings, None when it has none."""
    return [json.dumps(list(row), ensure_ascii=False) if row else None for row in findings]


def match_ids(
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
