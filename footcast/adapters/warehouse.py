"""The warehouse: SQLAlchemy Core tables and the few operations the layers need.

Identical behaviour on SQLite (embedded default) and PostgreSQL (psycopg 3). Timestamps are
stored as naive UTC (``TIMESTAMP WITHOUT TIME ZONE`` / SQLite text) and come back as
timezone-aware UTC pandas timestamps. A partition write replaces exactly one partition in
one transaction, so a failed write leaves the previous version intact.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from footcast.data import schema, understat
from footcast.models import metrics

METADATA = sa.MetaData()
# PostgreSQL advisory lock key of create_all (any constant bigint; "footcast" in ASCII).
_CREATE_ALL_LOCK = 0x666F6F7463617374


def _column_type(name: str) -> sa.types.TypeEngine:
    if name in ("kickoff", "fetched_at", "generated_at", "quarantined_at", "published_at"):
        return sa.DateTime()
    if name == "kickoff_time_known":
        return sa.Boolean()
    if name in schema.INT_COLUMNS:
        return sa.Integer()
    if name in schema.FLOAT_COLUMNS:
        return sa.Float()
    return sa.Text()


def _columns(names: Iterable[str]) -> list[sa.Column]:
    return [sa.Column(name, _column_type(name)) for name in names]


raw_matches = sa.Table(
    "raw_matches",
    METADATA,
    *_columns(schema.MATCH_COLUMNS),
    sa.Column("fetched_at", sa.DateTime()),
    sa.Index("ix_raw_matches_partition", "league", "season"),
)

matches = sa.Table(
    "matches",
    METADATA,
    *_columns(schema.MATCH_COLUMNS),
    sa.Column("fetched_at", sa.DateTime()),
    sa.Index("ix_matches_partition", "league", "season"),
    sa.Index("ix_matches_match_id", "match_id", unique=True),
    sa.Index("ix_matches_kickoff", "kickoff"),
)

# Rows held back, of two kinds told apart by ``quarantined_by``: "raw" (source rows the raw step
# could not keep: ``reasons`` is the rejection, e.g. "unparseable" or "duplicate", and
# ``raw_text`` the row as the file has it) and "validated" (raw rows failing the validated
# layer's checks: ``reasons`` the failed checks). Each step replaces only its own rows of a
# partition; rows stored before the column existed are the validated layer's (its default).
QUARANTINED_BY_RAW = "raw"
QUARANTINED_BY_VALIDATED = "validated"
quarantine = sa.Table(
    "quarantine",
    METADATA,
    *_columns(schema.MATCH_COLUMNS),
    sa.Column("fetched_at", sa.DateTime()),
    sa.Column("reasons", sa.Text(), nullable=False),
    sa.Column("failed_values", sa.Text(), nullable=False),
    sa.Column("quarantined_at", sa.DateTime(), nullable=False),
    sa.Column("raw_text", sa.Text()),
    sa.Column(
        "quarantined_by", sa.Text(), nullable=False, server_default=sa.text(f"'{QUARANTINED_BY_VALIDATED}'")
    ),
    sa.Index("ix_quarantine_partition", "league", "season"),
)

# Understat's matches (footcast.data.understat.UNDERSTAT_COLUMNS: one row per match Understat
# lists, played or not, with its xG), partitioned by (league, season) like raw_matches / matches:
# raw as fetched, validated after the Understat suite; the rows held back of both steps go to
# understat_quarantine (its rows carry xG, which the match quarantine has no columns for),
# told apart by ``quarantined_by`` as in ``quarantine``.
_UNDERSTAT_SQL_TYPES = {"Int64": sa.Integer, "Float64": sa.Float, "bool": sa.Boolean, "boolean": sa.Boolean}


def _understat_columns() -> list[sa.Column]:
    return [
        sa.Column(
            name,
            sa.DateTime() if dtype.startswith("datetime64") else _UNDERSTAT_SQL_TYPES.get(dtype, sa.Text)(),
        )
        for name, dtype in understat.UNDERSTAT_DTYPES.items()
    ] + [sa.Column("fetched_at", sa.DateTime())]


raw_understat_matches = sa.Table(
    "raw_understat_matches",
    METADATA,
    *_understat_columns(),
    sa.Index("ix_raw_understat_matches_partition", "league", "season"),
)

understat_matches = sa.Table(
    "understat_matches",
    METADATA,
    *_understat_columns(),
    sa.Index("ix_understat_matches_key", "league", "season", "understat_id", unique=True),
    sa.Index("ix_understat_matches_kickoff", "kickoff"),
)

understat_quarantine = sa.Table(
    "understat_quarantine",
    METADATA,
    *_understat_columns(),
    sa.Column("reasons", sa.Text(), nullable=False),
    sa.Column("failed_values", sa.Text(), nullable=False),
    sa.Column("quarantined_at", sa.DateTime(), nullable=False),
    sa.Column("raw_text", sa.Text()),
    sa.Column("quarantined_by", sa.Text(), nullable=False),
    sa.Index("ix_understat_quarantine_partition", "league", "season"),
)

fixtures = sa.Table(
    "fixtures",
    METADATA,
    *_columns(schema.FIXTURE_COLUMNS),
    sa.Column("fetched_at", sa.DateTime()),
    sa.Index("ix_fixtures_match_id", "match_id", unique=True),
)

predictions = sa.Table(
    "predictions",
    METADATA,
    sa.Column("publish_version", sa.Text(), nullable=False),
    sa.Column("match_id", sa.Text(), nullable=False),
    sa.Column("league", sa.Text(), nullable=False),
    sa.Column("season", sa.Integer(), nullable=False),
    sa.Column("kickoff", sa.DateTime(), nullable=False),
    sa.Column("home_team", sa.Text(), nullable=False),
    sa.Column("away_team", sa.Text(), nullable=False),
    sa.Column("p_home", sa.Float(), nullable=False),
    sa.Column("p_draw", sa.Float(), nullable=False),
    sa.Column("p_away", sa.Float(), nullable=False),
    sa.Column("fair_odds_home", sa.Float(), nullable=False),
    sa.Column("fair_odds_draw", sa.Float(), nullable=False),
    sa.Column("fair_odds_away", sa.Float(), nullable=False),
    sa.Column("model_name", sa.Text(), nullable=False),
    sa.Column("model_version", sa.Text(), nullable=False),
    sa.Column("feature_set_version", sa.Text(), nullable=False),
    sa.Column("generated_at", sa.DateTime(), nullable=False),
    # The margin-free opening market the features held when the batch was made (available 0:
    # none then; null: a batch from before these were kept), for the track record.
    sa.Column("market_open_p_home", sa.Float()),
    sa.Column("market_open_p_draw", sa.Float()),
    sa.Column("market_open_p_away", sa.Float()),
    sa.Column("market_open_available", sa.Float()),
    sa.UniqueConstraint("publish_version", "match_id", name="uq_predictions_version_match"),
    sa.Index("ix_predictions_version", "publish_version"),
)

# Walk-forward backtests (`footcast evaluate`): one row per evaluation (run_id) x comparison x
# test season x league x predictor; ``test_season`` / ``league`` are "all" for pooled rows.
# ``comparison`` names the set of matches every predictor of the row is scored on
# (footcast.models.backtest.COMPARISONS); ``params`` is the evaluation's configuration (JSON).
backtests = sa.Table(
    "backtests",
    METADATA,
    sa.Column("run_id", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("comparison", sa.Text(), nullable=False),
    sa.Column("test_season", sa.Text(), nullable=False),
    sa.Column("league", sa.Text(), nullable=False),
    sa.Column("predictor", sa.Text(), nullable=False),
    sa.Column("n", sa.Integer(), nullable=False),
    *[sa.Column(name, sa.Float()) for name in metrics.BACKTEST_SCORE_COLUMNS],
    sa.Column("mlflow_run_id", sa.Text()),
    sa.Column("params", sa.Text(), nullable=False),
    sa.UniqueConstraint(
        "run_id", "comparison", "test_season", "league", "predictor", name="uq_backtests_row"
    ),
    sa.Index("ix_backtests_run", "run_id"),
)

# Every distinct version of a fetched URL's bytes (see adapters/http/archive.py). The newest
# confirmed version of a URL is the row with the latest ``last_checked_at``; ``fetched_at`` is
# when those exact bytes were first downloaded, and rows are never deleted, so a raw row's
# (url, content_hash) lineage always resolves to its bytes.
http_archive = sa.Table(
    "http_archive",
    METADATA,
    sa.Column("url", sa.Text(), primary_key=True),
    sa.Column("content_hash", sa.String(64), primary_key=True),  # sha256 hex of content
    sa.Column("status", sa.Integer(), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.Column("etag", sa.Text()),
    sa.Column("last_modified", sa.Text()),
    sa.Column("content_type", sa.Text()),
    sa.Column("fetched_at", sa.DateTime(), nullable=False),
    sa.Column("last_checked_at", sa.DateTime(), nullable=False),
    sa.Index("ix_http_archive_url_checked", "url", "last_checked_at"),
)


# Failed asset checks, recorded by the check-alert sensor (pipelines/sensors.py): one row per evaluation.
check_failures = sa.Table(
    "check_failures",
    METADATA,
    sa.Column("run_id", sa.Text(), nullable=False),
    sa.Column("asset", sa.Text(), nullable=False),
    sa.Column("check_name", sa.Text(), nullable=False),
    sa.Column("severity", sa.Text(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("evaluated_at", sa.DateTime(), nullable=False),
    sa.Column("alert", sa.Text(), nullable=False),
    sa.UniqueConstraint("run_id", "asset", "check_name", name="uq_check_failures_evaluation"),
)


# Failed Dagster runs, recorded by the run-failure sensor (pipelines/sensors.py): which job,
# assets and partition failed, and why. One row per run: recording a run again replaces its row.
run_failures = sa.Table(
    "run_failures",
    METADATA,
    sa.Column("run_id", sa.Text(), nullable=False),
    sa.Column("job_name", sa.Text(), nullable=False),
    sa.Column("assets", sa.Text(), nullable=False),  # comma-separated asset keys
    sa.Column("partition_key", sa.Text(), nullable=False),  # "" for an unpartitioned run
    sa.Column("failed_steps", sa.Text(), nullable=False),
    sa.Column("error", sa.Text(), nullable=False),
    sa.Column("failed_at", sa.DateTime(), nullable=False),
    sa.Column("alert", sa.Text(), nullable=False),  # webhook outcome: sent / not configured / failed: ...
    sa.UniqueConstraint("run_id", name="uq_run_failures_run"),
)


# The team registry's additions and the links between sources (footcast.data.linking).
# understat_links: one row per Understat match of a (league, season) partition
# (linking.LINK_COLUMNS), ``match_id`` the football-data match it is linked to, or null with the
# ``reason``; team_proposals: the names of the partition the registry could not place, with
# candidate clubs and the status (linking.PROPOSAL_COLUMNS). Both are replaced per partition in
# one transaction. team_aliases: source names accepted beyond the checked-in seed (by fixture
# evidence, origin "auto", or `footcast teams --accept`, origin "manual"); ``name_key`` is
# teams.team_key(name), so one spelling (whatever its case or accents) names one club per source.
understat_links = sa.Table(
    "understat_links",
    METADATA,
    sa.Column("understat_id", sa.Text(), nullable=False),
    sa.Column("league", sa.Text(), nullable=False),
    sa.Column("season", sa.Integer(), nullable=False),
    sa.Column("kickoff", sa.DateTime()),
    sa.Column("home_team", sa.Text()),
    sa.Column("away_team", sa.Text()),
    sa.Column("home_goals", sa.Integer()),
    sa.Column("away_goals", sa.Integer()),
    sa.Column("is_result", sa.Boolean(), nullable=False),
    sa.Column("home_canonical", sa.Text()),
    sa.Column("away_canonical", sa.Text()),
    sa.Column("match_id", sa.Text()),
    sa.Column("method", sa.Text()),
    sa.Column("confidence", sa.Float()),
    sa.Column("score_checked", sa.Boolean(), nullable=False),
    sa.Column("kickoff_delta_hours", sa.Float()),
    sa.Column("reason", sa.Text()),
    sa.Column("linked_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("league", "season", "understat_id", name="uq_understat_links_match"),
    sa.Index("ix_understat_links_match_id", "match_id"),
)

team_proposals = sa.Table(
    "team_proposals",
    METADATA,
    sa.Column("league", sa.Text(), nullable=False),
    sa.Column("season", sa.Integer(), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("canonical", sa.Text()),
    sa.Column("confidence", sa.Float(), nullable=False),
    sa.Column("evidence", sa.Integer(), nullable=False),
    sa.Column("matches", sa.Integer(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("proposed_at", sa.DateTime(), nullable=False),
    sa.Index("ix_team_proposals_partition", "league", "season"),
)

team_aliases = sa.Table(
    "team_aliases",
    METADATA,
    sa.Column("source", sa.Text(), primary_key=True),
    sa.Column("name_key", sa.Text(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("canonical", sa.Text(), nullable=False),
    sa.Column("origin", sa.Text(), nullable=False),
    sa.Column("confidence", sa.Float(), nullable=False),
    sa.Column("evidence", sa.Text(), nullable=False),
    sa.Column("accepted_at", sa.DateTime(), nullable=False),
)


def _features_table(feature_columns: Sequence[str]) -> sa.Table:
    return sa.Table(
        "features",
        sa.MetaData(),
        sa.Column("match_id", sa.Text(), nullable=False),
        sa.Column("league", sa.Text(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("kickoff", sa.DateTime(), nullable=False),
        sa.Column("home_team", sa.Text(), nullable=False),
        sa.Column("away_team", sa.Text(), nullable=False),
        sa.Column("played", sa.Boolean(), nullable=False),
        sa.Column("result", sa.Text()),
        sa.Column("feature_set_version", sa.Text(), nullable=False),
        *[sa.Column(name, sa.Float()) for name in feature_columns],
        sa.Index("ix_features_match_id", "match_id", unique=True),
    )


def _to_db(value: Any) -> Any:
    """A pandas/numpy cell as a DB-API value (nulls as None, timestamps as naive UTC)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        return value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return pd.Timestamp(value).tz_convert("UTC").tz_localize(None).to_pydatetime()
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _db_values(series: pd.Series) -> list[Any]:
    """One column as DB-API values, converted column-wise (a backfill writes millions of cells)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        naive = series.dt.tz_convert("UTC").dt.tz_localize(None) if series.dt.tz is not None else series
        # numpy turns microsecond datetimes into datetime.datetime (NaT into None) in one pass
        return naive.to_numpy(dtype="datetime64[us]").astype(object).tolist()
    if series.dtype == object:
        return [_to_db(v) for v in series]
    # numeric, boolean and string columns come out as Python values with None for nulls
    return series.to_numpy(dtype=object, na_value=None).tolist()


def _float_block_values(frame: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """The plain float64 columns as DB-API values, converted as one block: a match row has
    dozens of price columns, and converting them one by one cost most of a partition write."""
    block = frame[columns].to_numpy(dtype=np.float64)
    values = block.astype(object)
    values[np.isnan(block)] = None
    return {column: values[:, i] for i, column in enumerate(columns)}


def records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts of DB-API values, restricted to ``columns``."""
    present = [c for c in columns if c in frame.columns]
    if frame.empty or not present:
        return []
    floats = [c for c in present if frame[c].dtype == np.float64]
    converted = _float_block_values(frame, floats) if floats else {}
    values = [converted[c] if c in converted else _db_values(frame[c]) for c in present]
    return [dict(zip(present, row, strict=True)) for row in zip(*values, strict=True)]


class Warehouse:
    """A handle on the warehouse database. ``db_schema`` isolates tests on PostgreSQL."""

    def __init__(self, url: str, db_schema: str | None = None):
        self.url = url
        self.db_schema = db_schema
        connect_args: dict[str, Any] = {}
        if url.startswith("sqlite"):
            connect_args = {"timeout": 60}
        engine = sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        if url.startswith("sqlite"):
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        if db_schema:
            engine = engine.execution_options(schema_translate_map={None: db_schema})
        self.engine: Engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def create_all(self, feature_columns: Sequence[str] | None = None) -> None:
        """Create missing tables, and add the columns a table of an older version lacks."""
        with self.engine.begin() as conn:
            # Processes starting at once on a new warehouse (a backfill's runs, a schedule, the
            # API) would race: a table another one creates between the check and the CREATE fails
            # it. One at a time: PostgreSQL's lock ends with the transaction; SQLite's write lock
            # (which pysqlite would not take before DDL) with it too.
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_ALL_LOCK})
            elif self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            if self.db_schema:
                conn.execute(sa.schema.CreateSchema(self.db_schema, if_not_exists=True))
            from footcast.adapters import track_record  # noqa: F401 (its tables are in METADATA)

            METADATA.create_all(conn)
            self._add_missing_columns(conn)

    def _add_missing_columns(self, conn: Connection) -> None:
        """ALTER TABLE ADD COLUMN for every column of METADATA a stored table lacks (a new column
        is nullable or has a server default, so existing rows stay valid)."""
        inspector = sa.inspect(conn)
        stored = set(inspector.get_table_names(schema=self.db_schema))
        preparer = conn.dialect.identifier_preparer
        for table in METADATA.sorted_tables:
            if table.name not in stored:
                continue
            have = {column["name"] for column in inspector.get_columns(table.name, schema=self.db_schema)}
            missing = [column for column in table.columns if column.name not in have]
            name = preparer.quote(table.name)
            if self.db_schema:
                name = f"{preparer.quote_schema(self.db_schema)}.{name}"
            for column in missing:
                if not column.nullable and column.server_default is None:
                    raise RuntimeError(
                        f"cannot add NOT NULL column {table.name}.{column.name} without a default"
                    )
                definition = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
                conn.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN {definition}"))

    def drop_schema(self) -> None:
        """Remove a test schema and everything in it (PostgreSQL only)."""
        if self.db_schema and self.dialect == "postgresql":
            with self.engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.db_schema}" CASCADE'))

    # -- partitioned layers ------------------------------------------------------------

    def replace_partition(
        self,
        table: sa.Table,
        where: Mapping[str, Any],
        frame: pd.DataFrame,
        conn: Connection | None = None,
    ) -> int:
        """Replace the rows matching ``where`` by ``frame`` in one transaction."""
        if conn is None:
            with self.engine.begin() as own:
                return self.replace_partition(table, where, frame, own)
        self._lock_partition(conn, table, where)
        condition = sa.and_(sa.true(), *[table.c[k] == v for k, v in where.items()])
        conn.execute(table.delete().where(condition))
        rows = records(frame, [c.name for c in table.columns])
        if rows:
            conn.execute(table.insert(), rows)
        return len(rows)

    def _lock_partition(self, conn: Connection, table: sa.Table, where: Mapping[str, Any]) -> None:
        """Serialise writers of one partition until the transaction ends. PostgreSQL's READ
        COMMITTED lets two concurrent delete-then-insert transactions both insert (a backfill
        and a scheduled run of the same season); SQLite already serialises all writers."""
        if self.dialect != "postgresql":
            return
        name = f"{self.db_schema or ''}.{table.name}|" + "|".join(f"{k}={where[k]}" for k in sorted(where))
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))

    def read(
        self,
        table: sa.Table,
        where: Mapping[str, Any] | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        cols = [table.c[c] for c in columns] if columns else list(table.columns)
        query = sa.select(*cols)
        for key, value in (where or {}).items():
            if isinstance(value, (list, tuple, set)):  # any of these values
                query = query.where(table.c[key].in_(sorted(value)))
            else:
                query = query.where(table.c[key] == value)
        with self.engine.connect() as conn:
            result = conn.execute(query)
            frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
        for column in frame.columns:
            if isinstance(table.c[column].type, sa.DateTime):
                frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("UTC")
        return frame

    def read_matches(self, table: sa.Table, where: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Canonical match frame (see ``schema``) from ``raw_matches``, ``matches`` or ``fixtures``."""
        columns = schema.FIXTURE_COLUMNS if table is fixtures else schema.MATCH_COLUMNS
        frame = self.read(table, where)
        return schema.conform(frame, columns)

    def count(
        self, table: sa.Table, where: Mapping[str, Any] | None = None, distinct: str | None = None
    ) -> int:
        """Rows of ``table`` matching ``where``; with ``distinct``, distinct values of that column."""
        counted = sa.func.count(sa.distinct(table.c[distinct])) if distinct else sa.func.count()
        query = sa.select(counted).select_from(table)
        for key, value in (where or {}).items():
            query = query.where(table.c[key] == value)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def distinct(self, table: sa.Table, column: str) -> list[Any]:
        """Sorted distinct non-null values of one column (e.g. the leagues that have matches)."""
        query = sa.select(table.c[column]).where(table.c[column].is_not(None)).distinct()
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())

    def upsert(
        self,
        table: sa.Table,
        rows: Sequence[Mapping[str, Any]],
        conn: Connection,
        *,
        replace: bool = True,
    ) -> None:
        """Insert ``rows``; a row whose primary key is stored already replaces the stored one
        (``replace``) or is skipped. One statement per row, atomic on PostgreSQL and SQLite
        (INSERT ... ON CONFLICT), so concurrent writers of one key do not fail."""
        keys = [column.name for column in table.primary_key.columns]
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        for row in rows:
            insert = dialect.insert(table).values(dict(row))
            if replace:
                others = {name: insert.excluded[name] for name in row if name not in keys}
                statement = insert.on_conflict_do_update(index_elements=keys, set_=others)
            else:
                statement = insert.on_conflict_do_nothing(index_elements=keys)
            conn.execute(statement)

    # -- features ----------------------------------------------------------------------

    def replace_features(self, frame: pd.DataFrame, feature_columns: Sequence[str]) -> int:
        """Replace the whole ``features`` table (its columns follow the feature set)."""
        table = _features_table(feature_columns)
        with self.engine.begin() as conn:
            table.drop(conn, checkfirst=True)
            table.create(conn)
            rows = records(frame, [c.name for c in table.columns])
            if rows:
                conn.execute(table.insert(), rows)
        return len(rows)

    def read_features(self) -> pd.DataFrame:
        table = sa.Table("features", sa.MetaData(), schema=self.db_schema, autoload_with=self.engine)
        return self.read(table)

    def optuna_storage(self) -> tuple[str, dict[str, Any]]:
        """(URL, engine kwargs) for optuna's RDB storage in this database (and schema), so
        tuning studies live beside the data and optuna-dashboard can open them."""
        url = self.engine.url.render_as_string(hide_password=False)
        if self.db_schema and self.dialect == "postgresql":
            return url, {"connect_args": {"options": f"-csearch_path={self.db_schema}"}}
        if url.startswith("sqlite"):
            return url, {"connect_args": {"timeout": 60}}
        return url, {}

    def table_names(self) -> list[str]:
        return sa.inspect(self.engine).get_table_names(schema=self.db_schema)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the CLI, Dagster runs and readers share the file; NORMAL sync is safe with WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
