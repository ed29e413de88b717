"""The track record's warehouse IO: its two tables, what scoring reads, and writing and reading
them back (plain SQLAlchemy Core, no Dagster).

- ``track_record``: one row per played match a batch published before its kickoff predicted
  (``models.track_record.TRACK_RECORD_COLUMNS``), unique by match id;
- ``track_record_summary``: the rolling figures, one row per league (``all`` too) and span.

Both are replaced together in one transaction (the asset recomputes them whole), so a reader
sees one computation or the previous one. The tables live in the warehouse's METADATA (created
with the others by ``Warehouse.create_all``).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from footcast.adapters.warehouse import METADATA, Warehouse, matches, predictions
from footcast.data import schema
from footcast.models import track_record as model
from footcast.models import track_record_report as shape
from footcast.models.features.market import BOOK_PREFERENCE

_TIMES = {"kickoff", "published_at", "kickoff_at_publish", "first_kickoff", "last_kickoff"}
_TEXTS = {"match_id", "league", "home_team", "away_team", "result", "status", "reason", "span"}
_TEXTS |= {"publish_version", "model_version", "market_source"}


def _column(name: str) -> sa.Column:
    if name in _TIMES:
        return sa.Column(name, sa.DateTime())
    if name in _TEXTS:
        return sa.Column(name, sa.Text())
    if name in ("season", "n") or name.startswith("n_"):
        return sa.Column(name, sa.Integer())
    return sa.Column(name, sa.Float())


track_record = sa.Table(
    "track_record",
    METADATA,
    *[_column(name) for name in shape.TRACK_RECORD_COLUMNS],
    sa.Column("computed_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("match_id", name="uq_track_record_match"),
    sa.Index("ix_track_record_kickoff", "kickoff"),
)

track_record_summary = sa.Table(
    "track_record_summary",
    METADATA,
    *[_column(name) for name in shape.SUMMARY_COLUMNS],
    sa.Column("computed_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("league", "span", name="uq_track_record_summary_scope"),
)

# The results file's prices the references come from, in the market features' book order.
PRICE_COLUMNS: tuple[str, ...] = tuple(
    f"odds_{book}_{timing}_{outcome}"
    for book in BOOK_PREFERENCE
    for timing in ("open", "close")
    for outcome in schema.OUTCOMES
    if f"odds_{book}_{timing}_{outcome}" in matches.c
)


def _frame(warehouse: Warehouse, table: sa.Table, names, *where) -> pd.DataFrame:
    """Rows of ``table`` as a frame, times as UTC timestamps, floats as float64. Built from plain
    tuples, and the times converted by pandas in one pass rather than value by value: the track
    record reads every prediction ever published (700,000 rows for 100,000 matches), which the
    generic ``Warehouse.read`` took 18 s over."""
    times = [name for name in names if isinstance(table.c[name].type, sa.DateTime)]
    columns = [sa.type_coerce(table.c[n], sa.String) if n in times else table.c[n] for n in names]
    with warehouse.engine.connect() as conn:
        result = conn.execute(sa.select(*columns).where(*where))
        frame = pd.DataFrame([tuple(row) for row in result], columns=list(names))
    for name in times:  # (SQLite gives text, PostgreSQL naive datetimes: both UTC)
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    for name in names:
        if isinstance(table.c[name].type, sa.Float):
            frame[name] = frame[name].astype("float64")
    return frame


def read_predictions(warehouse: Warehouse) -> pd.DataFrame:
    """Every published prediction, with what scoring reads (``model.PREDICTION_INPUT``)."""
    return _frame(warehouse, predictions, model.PREDICTION_INPUT)


def read_played(warehouse: Warehouse, kicked_off_after: datetime) -> pd.DataFrame:
    """The played matches (with a full-time result) that kicked off after ``kicked_off_after``:
    identity, ``ftr`` and the results file's opening and closing prices (PRICE_COLUMNS)."""
    moment = pd.Timestamp(kicked_off_after).tz_convert("UTC").tz_localize(None).to_pydatetime()
    names = (*shape.IDENTITY, "ftr", *PRICE_COLUMNS)
    return _frame(warehouse, matches, names, matches.c.ftr.is_not(None), matches.c.kickoff > moment)


def read_elo(warehouse: Warehouse, kicked_off_after: datetime) -> pd.DataFrame:
    """match_id and ``elo_p_home/draw/away`` of the features of the matches that kicked off after
    ``kicked_off_after`` (none before the features asset first ran)."""
    wanted = ("match_id", *shape.prob_columns("elo_"))
    if "features" not in warehouse.table_names():
        return pd.DataFrame(columns=list(wanted))
    table = sa.Table("features", sa.MetaData(), schema=warehouse.db_schema, autoload_with=warehouse.engine)
    if not set(wanted) <= set(table.c.keys()):
        return pd.DataFrame(columns=list(wanted))
    moment = pd.Timestamp(kicked_off_after).tz_convert("UTC").tz_localize(None).to_pydatetime()
    return _frame(warehouse, table, wanted, table.c.kickoff > moment)


def replace(warehouse: Warehouse, track: pd.DataFrame, summary: pd.DataFrame, computed_at: datetime) -> int:
    """Replace both tables in one transaction; the number of track record rows written."""
    stamped = track.assign(computed_at=pd.Timestamp(computed_at))
    with warehouse.engine.begin() as conn:
        rows = warehouse.replace_partition(track_record, {}, stamped, conn)
        warehouse.replace_partition(
            track_record_summary, {}, summary.assign(computed_at=pd.Timestamp(computed_at)), conn
        )
    return rows


def read(warehouse: Warehouse) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(track record in kickoff order, rolling figures) as last written."""
    track = _frame(warehouse, track_record, [c.name for c in track_record.columns])
    track = track.sort_values(["kickoff", "match_id"], kind="stable")
    summary = _frame(warehouse, track_record_summary, [c.name for c in track_record_summary.columns])
    return track.reset_index(drop=True), summary
