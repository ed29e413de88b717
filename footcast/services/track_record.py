"""Use case: the track record of the published predictions (see ``models.track_record``): read
the batches, the results and the Elo of the features from the warehouse, score, write both
tables, draw the pictures, log them to MLflow; and the report readers get (CLI, Redis, API).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from footcast.adapters import track_record as store
from footcast.adapters.model_registry import ModelRegistry, log_figures
from footcast.adapters.warehouse import Warehouse
from footcast.models import metrics, plots
from footcast.models import track_record as model
from footcast.models import track_record_report as shape
from footcast.models.features.market import market_features

EXPERIMENT = "footcast-track-record"
CUMULATIVE_PICTURE = "cumulative_rps_difference.png"
RELIABILITY_PICTURE = "reliability.png"


@dataclass
class TrackRecord:
    track: pd.DataFrame  # models.track_record.TRACK_RECORD_COLUMNS, kickoff order
    summary: pd.DataFrame  # models.track_record.SUMMARY_COLUMNS
    batches: int  # prediction batches published so far

    @property
    def scored(self) -> pd.DataFrame:
        return self.track[self.track["status"] == shape.SCORED]

    @property
    def excluded(self) -> pd.DataFrame:
        return self.track[self.track["status"] == shape.EXCLUDED]


def played_inputs(warehouse: Warehouse, kicked_off_after: datetime) -> pd.DataFrame:
    """The played matches after ``kicked_off_after`` as scoring reads them (PLAYED_INPUT): the
    results file's opening and closing prices made margin-free as the features do (Shin), and
    the features' Elo probabilities."""
    played = store.read_played(warehouse, kicked_off_after).rename(columns={"ftr": "result"})
    odds = {column: played[column].to_numpy(dtype=np.float64) for column in store.PRICE_COLUMNS}
    for timing, prefix in (("open", "opening_"), ("close", "close_")):
        margin_free = market_features(odds, len(played), timing)
        for outcome, column in zip(shape.OUTCOMES, shape.prob_columns(prefix), strict=True):
            played[column] = margin_free[f"market_{timing}_p_{outcome}"]
    elo = store.read_elo(warehouse, kicked_off_after)
    played = played.merge(
        elo.astype({c: "float64" for c in elo.columns if c != "match_id"}), on="match_id", how="left"
    )
    return played[list(model.PLAYED_INPUT)]


def update(warehouse: Warehouse, *, now: datetime, seed: int = 0) -> TrackRecord:
    """Recompute the track record and its rolling figures from the warehouse and replace both
    tables in one transaction."""
    predictions = store.read_predictions(warehouse)
    published = model.batches(predictions)
    if published.empty:
        track = pd.DataFrame(columns=list(shape.TRACK_RECORD_COLUMNS))
    else:
        played = played_inputs(warehouse, published["generated_at"].min())
        track = model.score(predictions, played)
    summary = model.summarise(track, seed=seed)
    store.replace(warehouse, track, summary, now)
    return TrackRecord(track, summary, len(published))


def read(warehouse: Warehouse) -> TrackRecord:
    """The track record as the asset last wrote it."""
    track, summary = store.read(warehouse)
    order = summary.assign(
        _scope=summary["league"] != shape.ALL, _span=summary["span"].map(list(shape.SPANS).index)
    ).sort_values(["_scope", "league", "_span"])
    return TrackRecord(track, order[list(shape.SUMMARY_COLUMNS)].reset_index(drop=True), batches=-1)


# -- what readers get ------------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (pd.Timestamp, datetime)) else value


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN as None, times in ISO 8601, numpy scalars as Python ones."""
    part = frame[columns].astype(object).where(frame[columns].notna(), None)
    rows = part.to_dict("records")
    for row in rows:
        for key, value in row.items():
            if hasattr(value, "item") and not isinstance(value, (pd.Timestamp, datetime)):
                row[key] = value.item()
            else:
                row[key] = _iso(value)
    return rows


def report(record: TrackRecord) -> dict[str, list[dict[str, Any]]]:
    """{"matches", "summary", "excluded"} (``models.track_record_report``)."""
    matches = [c for c in shape.TRACK_RECORD_COLUMNS if c not in shape.MATCH_OMITTED]
    renamed = {**shape.RENAMED}
    scored = record.scored.rename(columns=renamed)
    excluded = record.excluded.rename(columns=renamed)
    return {
        "matches": _records(scored, [renamed.get(c, c) for c in matches]),
        "summary": _records(record.summary, list(shape.SUMMARY_COLUMNS)),
        "excluded": _records(excluded, list(shape.EXCLUDED_FIELDS)),
    }


def summary_table(summary: pd.DataFrame) -> str:
    """The rolling figures as a fixed-width table (the CLI, the asset's metadata)."""
    header = (
        f"{'league':8} {'span':8} {'n':>5}  {'RPS':>7} {'market':>7} {'model-market [95% CI]':>28}  "
        f"{'vs close':>8} {'vs Elo':>8}  {'calib.':>6} {'limit':>6}"
    )
    lines = [header]
    for row in summary.itertuples(index=False):
        interval = (
            f"{row.diff_vs_market_rps:+.4f} [{row.market_ci_low:+.4f}, {row.market_ci_high:+.4f}]"
            if row.n_market
            else "no market"
        )
        lines.append(
            f"{row.league:8} {row.span:8} {row.n:5d}  {row.rps:7.4f} {_fmt(row.market_rps, '7.4f')} "
            f"{interval:>28}  {_fmt(row.diff_vs_close_rps, '+8.4f')} {_fmt(row.diff_vs_elo_rps, '+8.4f')}  "
            f"{row.calibration_error:6.3f} {_fmt(row.calibration_limit, '6.3f')}"
        )
    return "\n".join(lines)


def _fmt(value: float, spec: str) -> str:
    width = int(spec.lstrip("+").split(".")[0])
    return format(value, spec) if value is not None and np.isfinite(value) else "-".rjust(width)


# -- pictures and MLflow ---------------------------------------------------------------------------


def pictures(record: TrackRecord) -> dict[str, bytes]:
    """PNGs: the cumulative RPS difference against each reference over time, and the
    reliability diagram of the scored predictions (none before a match is scored)."""
    scored = record.scored
    if scored.empty:
        return {}
    with tempfile.TemporaryDirectory() as folder:
        made = {
            CUMULATIVE_PICTURE: plots.cumulative_difference(
                model.cumulative_differences(record.track),
                Path(folder) / CUMULATIVE_PICTURE,
                "Cumulative RPS difference, model minus reference (below 0: model better)",
            ),
            RELIABILITY_PICTURE: plots.reliability_diagram(
                scored[shape.prob_columns()].to_numpy(dtype=np.float64),
                metrics.encode_results(scored["result"]),
                Path(folder) / RELIABILITY_PICTURE,
                f"Reliability of the published predictions ({len(scored)} matches scored)",
            ),
        }
        return {name: path.read_bytes() for name, path in made.items()}


def mlflow_metrics(summary: pd.DataFrame) -> dict[str, float]:
    """``<league>/<span>/<figure>`` of every finite rolling figure."""
    names = ("n", "rps", "calibration_error", "calibration_limit", "n_market", "diff_vs_market_rps")
    names += ("market_ci_low", "market_ci_high", "diff_vs_close_rps", "diff_vs_elo_rps")
    values = {}
    for row in summary.to_dict("records"):
        for name in names:
            value = row[name]
            if value is not None and np.isfinite(value):
                values[f"{row['league']}/{row['span']}/{name}"] = float(value)
    return values


def log_to_mlflow(tracking: ModelRegistry, record: TrackRecord, images: dict[str, bytes]) -> tuple[str, str]:
    """One MLflow run (experiment ``footcast-track-record``): the rolling figures as metrics,
    the pictures and the summary as artifacts. Returns (run id, run URL)."""
    return log_figures(
        tracking,
        run_name="track-record",
        params={"scored": len(record.scored), "excluded": len(record.excluded), "batches": record.batches},
        figures=mlflow_metrics(record.summary),
        images=images,
        tables={"track_record_summary.csv": record.summary.to_csv(index=False)},
    )
