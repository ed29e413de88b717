"""The validation suite of the validated layer, as code (Great Expectations 1.x Core API).

``validate_partition`` runs one raw (season x league) partition in canonical form
(:mod:`footcast.data.schema`) through three Great Expectations suites and splits it into
``valid`` rows and ``quarantined`` rows (with the names of the failed checks and the offending
values). Nothing is dropped: ``len(valid) + len(quarantined) == len(frame)`` always.

Suites (built once per process in an ephemeral context, see :func:`_engine`; one pandas data
source, one dataframe asset + whole-dataframe batch definition per suite, run with result
format COMPLETE so failing rows are routed by ``unexpected_index_list``):

``footcast.schema`` (blocking), run over the partition's schema as a table (one row per column)
    ``required_columns_present``: every canonical column exists (extra columns are allowed and
    are dropped from the outputs); ``column_types``: goals are integer-typed (``Int64``/``int64``
    ...), ``kickoff`` is ``datetime64[..., UTC]``, odds are float. If the schema is broken no
    row can be trusted, so every row is quarantined (original values; missing columns null)
    and the row-level suite does not run.

``footcast.rows`` (row-level; failing rows are quarantined, the check itself is a warning)
    non-null keys and result, partition key matches, deterministic ``match_id``, goals in
    [0, 15], result codes in {H, D, A}, ``ftr``/``htr`` consistent with the goals, half-time
    goals not above full-time goals, home team != away team, kickoff inside the season window,
    every odds price > 1, per-book implied overround in a plausible range (a separate, wider
    range for the market-maximum prices), teams known for the league (when a team list is
    given). ``match_id_unique`` is in this suite too but is *blocking*: every copy of a
    duplicated id is quarantined (we cannot tell which copy is right).

``footcast.season`` (warnings, only for a completed season)
    computed over the valid rows: every team has as many home as away matches
    (``home_away_balance``) and plays every other team once at home and once away
    (``fixture_count``: ``n_teams - 1`` home and ``n_teams - 1`` away matches; a completed
    season without any valid match fails it too, rather than passing vacuously).

Table-level ``quarantine_share`` (blocking) fails when more than ``max_quarantine_share`` of
the rows are quarantined; ``suite_errors`` (blocking) fails if an expectation could not be
evaluated at all (an exception inside Great Expectations), so an error never passes silently.

Pair and derived-column expectations run on a *view* of the partition with plain numpy dtypes
(nullable ``Int64``/``string`` become ``float64``/``object``) plus derived columns
(``ftr_from_goals``, ``htr_from_goals``, ``expected_match_id``, ``overround_<book>_<timing>``
and the row-wise aggregates ``min_odds``, ``overround_low``/``overround_high``): GE 1.24's
column-pair metrics cannot handle ``pd.NA`` ("boolean value of NA is ambiguous"). The outputs
always carry the original rows, values, dtypes, order and index labels.

``reasons`` of a quarantined row is the comma-separated failed check names (in CHECK_SPECS
order); ``failed_values`` a JSON object {check: {column: value}} with the offending values
(for derived checks also the inputs, e.g. ``fthg``/``ftag`` next to ``ftr_from_goals``).

Great Expectations is imported lazily (it takes seconds to import), so importing this module
is cheap; :data:`CHECK_SPECS` lists every check name with its severity for static wiring.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from footcast.data import schema

BLOCKING = "blocking"
WARNING = "warning"

GOAL_COLUMNS: tuple[str, ...] = ("fthg", "ftag", "hthg", "htag")
REQUIRED_NOT_NULL: tuple[str, ...] = (*schema.IDENTITY_COLUMNS, "fthg", "ftag", "ftr")
RESULT_CODES: tuple[str, ...] = ("H", "D", "A")
MAX_GOALS = 15

# Implied overround (sum of 1/price over home, draw, away) of one book at one timing, for books
# that have all three prices. Real football-data.co.uk files 1993/94-2025/26 (E0, D1): single
# books 1.0005 (Pinnacle closing) .. 1.31 (Interwetten, 2000s), the only row above 1.40 is a typo
# (WH draw price 1.02 in D1 2011/12). "max" is the best price over many books, so it is often
# below 1; its 0.1% quantile is 0.89 (closing) / 0.94 (opening), and rows below 0.90 are a
# single stale or mistyped price (e.g. BbMxH 4.0 for a 1.30 favourite).
OVERROUND_RANGE: tuple[float, float] = (0.97, 1.40)
MAX_OVERROUND_RANGE: tuple[float, float] = (0.90, 1.30)
MARKET_MAX_BOOK = "max"

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class CheckSpec:
    name: str
    severity: str
    description: str


CHECK_SPECS: tuple[CheckSpec, ...] = (
    CheckSpec("required_columns_present", BLOCKING, "every canonical column (schema.MATCH_COLUMNS) exists"),
    CheckSpec(
        "column_types",
        BLOCKING,
        "goal columns are integer-typed, kickoff is a timezone-aware timestamp, odds are float64",
    ),
    CheckSpec("required_not_null", WARNING, f"no nulls in {', '.join(REQUIRED_NOT_NULL)}"),
    CheckSpec("partition_matches", WARNING, "league and season of every row are the partition's"),
    CheckSpec(
        "match_id_deterministic",
        WARNING,
        "match_id == schema.make_match_id(league, season, home_team, away_team, leg), legs in kickoff order",
    ),
    CheckSpec("goals_in_range", WARNING, f"goals ({', '.join(GOAL_COLUMNS)}) within [0, {MAX_GOALS}]"),
    CheckSpec("result_codes_valid", WARNING, "ftr and htr in {H, D, A}"),
    CheckSpec("ftr_consistent", WARNING, "ftr agrees with fthg/ftag (H iff fthg > ftag, D iff equal)"),
    CheckSpec("htr_consistent", WARNING, "htr agrees with hthg/htag where all are present"),
    CheckSpec("halftime_within_fulltime", WARNING, "hthg <= fthg and htag <= ftag"),
    CheckSpec("home_away_distinct", WARNING, "home_team != away_team"),
    CheckSpec("kickoff_in_season", WARNING, "kickoff inside schema.season_window(season)"),
    CheckSpec("odds_above_one", WARNING, "every odds price present is > 1.0"),
    CheckSpec(
        "overround_plausible",
        WARNING,
        f"sum of 1/odds per book and timing within {OVERROUND_RANGE[0]}..{OVERROUND_RANGE[1]}",
    ),
    CheckSpec(
        "overround_max_plausible",
        WARNING,
        f"sum of 1/odds of the market-max prices within {MAX_OVERROUND_RANGE[0]}..{MAX_OVERROUND_RANGE[1]}",
    ),
    CheckSpec("teams_known", WARNING, "home_team and away_team are known teams of the league"),
    CheckSpec("match_id_unique", BLOCKING, "match_id is unique in the partition (all copies quarantined)"),
    CheckSpec("quarantine_share", BLOCKING, "share of quarantined rows at most max_quarantine_share"),
    CheckSpec("suite_errors", BLOCKING, "every expectation could be evaluated"),
    CheckSpec(
        "home_away_balance",
        WARNING,
        "completed season: every team has as many home as away matches (valid rows)",
    ),
    CheckSpec(
        "fixture_count",
        WARNING,
        "completed season: every team has n_teams-1 home and n_teams-1 away matches (valid rows; "
        "none at all fails)",
    ),
)
_SPECS = {spec.name: spec for spec in CHECK_SPECS}
_ORDER = {spec.name: i for i, spec in enumerate(CHECK_SPECS)}
SCHEMA_CHECKS: tuple[str, ...] = ("required_columns_present", "column_types")
# Checks whose failing rows are quarantined.
ROUTING_CHECKS: tuple[str, ...] = tuple(
    spec.name
    for spec in CHECK_SPECS
    if spec.name
    not in SCHEMA_CHECKS + ("quarantine_share", "suite_errors", "home_away_balance", "fixture_count")
)


@dataclass
class CheckOutcome:
    name: str  # e.g. "match_id_unique"
    severity: str  # "blocking" | "warning"
    passed: bool
    unexpected_count: int
    sample: list  # up to SAMPLE_SIZE unexpected values (JSON-serialisable)
    description: str


@dataclass(frozen=True)
class PartitionInput:
    """One (league, season) partition in canonical form, with what its checks need to know."""

    frame: pd.DataFrame
    league: str
    season: int
    completed: bool = False  # enables the season-shape warnings
    known_teams: set[str] | None = None  # enables teams_known


@dataclass
class ValidationOutcome:
    valid: pd.DataFrame  # rows passing every row-level expectation, columns schema.MATCH_COLUMNS
    quarantined: pd.DataFrame  # MATCH_COLUMNS + "reasons" + "failed_values"
    checks: list[CheckOutcome]
    quarantine_share: float

    @property
    def blocking_failures(self) -> list[CheckOutcome]:
        return [c for c in self.checks if c.severity == BLOCKING and not c.passed]

    def check(self, name: str) -> CheckOutcome:
        """The outcome of the check called ``name``."""
        for outcome in self.checks:
            if outcome.name == name:
                return outcome
        raise KeyError(name)


# --------------------------------------------------------------------------------------------
# Suites as code


def _overround_column(book: str, timing: str) -> str:
    return f"overround_{book}_{timing}"


def _odds_triplet(book: str, timing: str) -> tuple[str, str, str]:
    return tuple(f"odds_{book}_{timing}_{outcome}" for outcome in schema.OUTCOMES)  # type: ignore[return-value]


_REGULAR_OVERROUNDS: tuple[str, ...] = tuple(
    _overround_column(book, timing)
    for book in schema.BOOKMAKERS
    if book != MARKET_MAX_BOOK
    for timing in schema.ODDS_TIMINGS
)

# Derived column of the validation view -> canonical columns it is computed from (reported in
# failed_values next to the derived value).
_DERIVED_SOURCES: dict[str, tuple[str, ...]] = {
    "ftr_from_goals": ("fthg", "ftag"),
    "htr_from_goals": ("hthg", "htag"),
    "expected_match_id": ("league", "season", "home_team", "away_team"),
    **{
        _overround_column(book, timing): _odds_triplet(book, timing)
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


def _row_reduce(ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
    """Row-wise fmin/fmax ignoring NaN (NaN only when the whole row is NaN)."""
    if values.shape[1] == 0:
        return np.full(values.shape[0], np.nan)
    return ufunc.reduce(values, axis=1)


# Dtype names (str(series.dtype)) the schema accepts per column role.
INT_DTYPE_PATTERN = r"^[Uu]?[Ii]nt(?:8|16|32|64)$"  # numpy int64 or pandas nullable Int64, ...
UTC_DATETIME_DTYPE_PATTERN = r"^datetime64\[(?:s|ms|us|ns), UTC\]$"
FLOAT_DTYPE_PATTERN = r"^[Ff]loat(?:32|64)$"


def _schema_table(frame: pd.DataFrame) -> pd.DataFrame:
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


def _schema_expectations() -> list:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    role = Column("role")
    types = {"check": "column_types"}
    return [
        gxe.ExpectColumnValuesToBeInSet(
            column="present", value_set=[True], meta={"check": "required_columns_present"}
        ),
        # Missing columns have a null dtype, which these ignore (reported above instead).
        gxe.ExpectColumnValuesToMatchRegex(
            column="dtype", regex=INT_DTYPE_PATTERN, row_condition=role == "goal", meta=types
        ),
        gxe.ExpectColumnValuesToMatchRegex(
            column="dtype", regex=UTC_DATETIME_DTYPE_PATTERN, row_condition=role == "kickoff", meta=types
        ),
        gxe.ExpectColumnValuesToMatchRegex(
            column="dtype", regex=FLOAT_DTYPE_PATTERN, row_condition=role == "odds", meta=types
        ),
    ]


def _row_expectations() -> list:
    import great_expectations.expectations as gxe

    def meta(check: str) -> dict:
        return {"check": check}

    either = "either_value_is_missing"
    ex: list = []
    for column in REQUIRED_NOT_NULL:
        ex.append(gxe.ExpectColumnValuesToNotBeNull(column=column, meta=meta("required_not_null")))
    # The partition's own values (league, season, season window, team list) are columns of
    # the view rather than suite parameters, so one suite run validates many partitions.
    for column in ("league", "season"):
        ex.append(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A=column,
                column_B=f"partition_{column}",
                ignore_row_if=either,
                meta=meta("partition_matches"),
            )
        )
    ex.append(
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="match_id",
            column_B="expected_match_id",
            ignore_row_if=either,
            meta=meta("match_id_deterministic"),
        )
    )
    ex.append(gxe.ExpectColumnValuesToBeUnique(column="partition_match_id", meta=meta("match_id_unique")))
    for column in GOAL_COLUMNS:
        ex.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column, min_value=0, max_value=MAX_GOALS, meta=meta("goals_in_range")
            )
        )
    for column in ("ftr", "htr"):
        ex.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=column, value_set=list(RESULT_CODES), meta=meta("result_codes_valid")
            )
        )
    ex.append(
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="ftr", column_B="ftr_from_goals", ignore_row_if=either, meta=meta("ftr_consistent")
        )
    )
    ex.append(
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="htr", column_B="htr_from_goals", ignore_row_if=either, meta=meta("htr_consistent")
        )
    )
    for full, half in (("fthg", "hthg"), ("ftag", "htag")):
        ex.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=full,
                column_B=half,
                or_equal=True,
                ignore_row_if=either,
                meta=meta("halftime_within_fulltime"),
            )
        )
    ex.append(
        gxe.ExpectSelectColumnValuesToBeUniqueWithinRecord(
            column_list=["home_team", "away_team"], meta=meta("home_away_distinct")
        )
    )
    ex.append(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="kickoff",
            column_B="season_start",
            or_equal=True,
            ignore_row_if=either,
            meta=meta("kickoff_in_season"),
        )
    )
    ex.append(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="season_end",
            column_B="kickoff",
            ignore_row_if=either,
            meta=meta("kickoff_in_season"),
        )
    )
    # One expectation over row-wise aggregates instead of one per odds column: GE's cost is
    # per expectation (~25-40 ms each), and 80 per-column odds expectations made a 380-row
    # partition take ~5 s. failed_values still names the offending prices (see _row_values).
    ex.append(
        gxe.ExpectColumnValuesToBeBetween(
            column="min_odds", min_value=1.0, strict_min=True, meta=meta("odds_above_one")
        )
    )
    low, high = OVERROUND_RANGE
    ex.append(
        gxe.ExpectColumnValuesToBeBetween(
            column="overround_low", min_value=low, meta=meta("overround_plausible")
        )
    )
    ex.append(
        gxe.ExpectColumnValuesToBeBetween(
            column="overround_high", max_value=high, meta=meta("overround_plausible")
        )
    )
    low, high = MAX_OVERROUND_RANGE
    for timing in schema.ODDS_TIMINGS:
        ex.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=_overround_column(MARKET_MAX_BOOK, timing),
                min_value=low,
                max_value=high,
                meta=meta("overround_max_plausible"),
            )
        )
    # True/False per row; null (not checked) for leagues without a team list.
    for column in ("home_team_known", "away_team_known"):
        ex.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=[True], meta=meta("teams_known")))
    return ex


def _season_expectations() -> list:
    import great_expectations.expectations as gxe

    ex: list = [
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="home_matches",
            column_B="away_matches",
            severity="warning",
            meta={"check": "home_away_balance"},
        )
    ]
    for column in ("home_matches", "away_matches"):
        ex.append(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A=column,
                column_B="expected_matches",
                severity="warning",
                meta={"check": "fixture_count"},
            )
        )
    return ex


@dataclass
class _Engine:
    context: Any
    schema: Any  # batch definition over the partition's schema table
    matches: Any  # batch definition over the (view of the) partition
    teams: Any  # batch definition over the per-team match counts
    schema_suite: Any
    rows_suite: Any
    season_suite: Any
    lock: threading.Lock


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    """Ephemeral GE context, data source, assets, batch definitions and suites (once per process)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    source = context.data_sources.add_pandas("footcast")
    schema_table = source.add_dataframe_asset("schema").add_batch_definition_whole_dataframe("partition")
    matches = source.add_dataframe_asset("matches").add_batch_definition_whole_dataframe("partition")
    teams = source.add_dataframe_asset("team_counts").add_batch_definition_whole_dataframe("partition")

    def suite(name: str, expectations: list):
        return context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))

    return _Engine(
        context=context,
        schema=schema_table,
        matches=matches,
        teams=teams,
        schema_suite=suite("footcast.schema", _schema_expectations()),
        rows_suite=suite("footcast.rows", _row_expectations()),
        season_suite=suite("footcast.season", _season_expectations()),
        lock=threading.Lock(),
    )


def expectation_suites() -> dict[str, Any]:
    """The suites (``gx.ExpectationSuite``) by name, e.g. to render or review them."""
    engine = _engine()
    suites = (engine.schema_suite, engine.rows_suite, engine.season_suite)
    return {s.name: s for s in suites}


# --------------------------------------------------------------------------------------------
# Running the suites


def _run(batch_definition, frame: pd.DataFrame, suite):
    engine = _engine()
    with engine.lock:
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(suite, result_format={"result_format": "COMPLETE"})


def _exception_message(result) -> str | None:
    info = result.exception_info or {}
    if "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return value.get("exception_message") or "exception"
    return None


def _unroutable(result) -> str | None:
    """Why a failed expectation's unexpected rows cannot all be named (None when they can)."""
    if result.success:
        return None
    indexes = result.result.get("unexpected_index_list")
    count = result.result.get("unexpected_count")
    if indexes is None or count is None or len(indexes) < count:
        return "failed without naming all its unexpected rows"
    return None


def _result_columns(kwargs: dict) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def _json_value(value: Any) -> Any:
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


def _numeric_view(series: pd.Series) -> np.ndarray:
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


def _validation_view(frame: pd.DataFrame, partition: PartitionInput, number: int) -> pd.DataFrame:
    """Positional, numpy-typed copy of the columns the row suite reads, plus derived columns and
    the partition's own values (``partition_*``, season window, known-team flags)."""
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
                prices = np.column_stack([view[c] for c in _odds_triplet(book, timing)])
                # NaN unless all three prices are present (NaN propagates through the sum)
                view[_overround_column(book, timing)] = (1.0 / prices).sum(axis=1)
    regular = np.column_stack([view[c] for c in _REGULAR_OVERROUNDS])
    view["overround_low"] = _row_reduce(np.fmin, regular)
    view["overround_high"] = _row_reduce(np.fmax, regular)
    n = len(frame)
    view["partition_league"] = np.full(n, partition.league, dtype=object)
    view["partition_season"] = np.full(n, float(partition.season))
    season_start, season_end = schema.season_window(partition.season)
    view["season_start"] = pd.Series([season_start] * n, dtype=view["kickoff"].dtype)
    view["season_end"] = pd.Series([season_end] * n, dtype=view["kickoff"].dtype)
    ids = view["match_id"]
    view["partition_match_id"] = np.array(
        [None if i is None else f"{number}\x1f{i}" for i in ids], dtype=object
    )
    view["home_team_known"] = _team_known(view["home_team"], partition.known_teams)
    view["away_team_known"] = _team_known(view["away_team"], partition.known_teams)
    view["kickoff"] = view["kickoff"].reset_index(drop=True)
    out = pd.DataFrame(view)
    out.index = pd.RangeIndex(len(frame))
    return out


def _row_values(frame: pd.DataFrame, view: pd.DataFrame, position: int, columns: list[str]) -> dict:
    """The offending values of one row for the columns of one failed expectation."""
    values: dict[str, Any] = {}
    for column in columns:
        if column == "min_odds":  # name the prices that are not above 1
            for odds_column in schema.ODDS_COLUMNS:
                price = view[odds_column].iat[position]
                if not price > 1.0 and not np.isnan(price):
                    values[odds_column] = _json_value(frame[odds_column].iat[position])
            continue
        if column in ("overround_low", "overround_high"):  # name the implausible books
            low, high = OVERROUND_RANGE
            for derived in _REGULAR_OVERROUNDS:
                overround = view[derived].iat[position]
                if overround < low or overround > high:
                    values.update(_row_values(frame, view, position, [derived]))
            continue
        if column in _PARTITION_COLUMNS:  # the partition's own value: report the row's instead
            for source in _PARTITION_COLUMNS[column]:
                values[source] = _json_value(frame[source].iat[position])
            continue
        for source in _DERIVED_SOURCES.get(column, ()):
            values[source] = _json_value(frame[source].iat[position])
        if column in _DERIVED_SOURCES:
            derived = _json_value(view[column].iat[position])
            values[column] = round(derived, 4) if isinstance(derived, float) else derived
        else:
            values[column] = _json_value(frame[column].iat[position])
    return values


def _sample_entry(frame: pd.DataFrame, position: int, values: dict) -> dict:
    entry = {
        "row": position,
        "source_line": _json_value(frame["source_line"].iat[position]),
        "match_id": _json_value(frame["match_id"].iat[position]),
    }
    entry.update(values)
    return entry


def _outcome(name: str, passed: bool, count: int, sample: list, detail: str = "") -> CheckOutcome:
    spec = _SPECS[name]
    description = spec.description + (f" ({detail})" if detail else "")
    return CheckOutcome(name, spec.severity, passed, int(count), sample[:SAMPLE_SIZE], description)


def _canonical_output(
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
            [",".join(sorted(reasons[p], key=_ORDER.__getitem__)) for p in positions], dtype="string"
        )
        out["failed_values"] = pd.array(
            [json.dumps(reasons[p], sort_keys=True, default=str) for p in positions], dtype="string"
        )
    return out


def _empty_quarantine() -> pd.DataFrame:
    return _empty_quarantine_template().copy()


@lru_cache(maxsize=1)
def _empty_quarantine_template() -> pd.DataFrame:
    out = schema.empty_frame()
    out["reasons"] = pd.array([], dtype="string")
    out["failed_values"] = pd.array([], dtype="string")
    return out


def _split_label(label: Any) -> tuple[int, str]:
    number, _sep, name = str(label).partition(_LABEL_SEP)
    return int(number), name


_LABEL_SEP = "\x1f"  # index labels of stacked per-partition tables: "<partition number>\x1f<name>"


def _stacked(tables: list[pd.DataFrame], names: list[list[str]]) -> pd.DataFrame:
    """One table of many partitions' tables, labelled by partition number and row name, so one
    suite run checks them all (GE's cost is per run and expectation, not per row)."""
    labels = [f"{number}{_LABEL_SEP}{name}" for number, rows in enumerate(names) for name in rows]
    if not tables:
        return pd.DataFrame()
    out = pd.concat(tables, ignore_index=True)
    out.index = pd.Index(labels, dtype=object)
    return out


def _schema_stage(
    frames: list[pd.DataFrame],
) -> list[tuple[list[CheckOutcome], dict[int, dict[str, dict]], list[str]]]:
    """Run the schema suite over every partition's schema table at once; per partition the
    outcomes, per-row reasons when broken, and GE errors."""
    engine = _engine()
    tables = [_schema_table(frame) for frame in frames]
    result = _run(engine.schema, _stacked(tables, [list(t.index) for t in tables]), engine.schema_suite)
    offending = [{name: set() for name in SCHEMA_CHECKS} for _ in frames]
    errors: list[str] = []
    for r in result.results:
        check = r.expectation_config.meta["check"]
        message = _exception_message(r) or _unroutable(r)
        if message:
            errors.append(f"{check}: {message}")
        for label in r.result.get("unexpected_index_list") or []:
            number, column = _split_label(label)
            offending[number][check].add(column)
    stages = []
    for frame, table, bad in zip(frames, tables, offending, strict=True):
        missing = [c for c in schema.MATCH_COLUMNS if c in bad["required_columns_present"]]
        bad_types = {c: str(table.at[c, "dtype"]) for c in schema.MATCH_COLUMNS if c in bad["column_types"]}
        outcomes = [
            _outcome(
                "required_columns_present",
                not missing,
                len(missing),
                missing,
                f"missing: {', '.join(missing)}" if missing else "",
            ),
            _outcome(
                "column_types",
                not bad_types,
                len(bad_types),
                [{"column": c, "dtype": t} for c, t in bad_types.items()],
                ", ".join(f"{c}: {t}" for c, t in bad_types.items()),
            ),
        ]
        reasons: dict[int, dict[str, dict]] = {}
        if missing or bad_types or errors:
            for position in range(len(frame)):
                row: dict[str, dict] = {}
                if missing:
                    row["required_columns_present"] = {"missing": missing}
                if bad_types:
                    row["column_types"] = {c: _json_value(frame[c].iat[position]) for c in bad_types}
                if errors and not row:
                    row["suite_errors"] = {"errors": errors}
                reasons[position] = row
        stages.append((outcomes, reasons, list(errors)))
    return stages


@dataclass
class _RowStage:
    """Row-level results of one partition: per-row reasons, failing positions and samples."""

    reasons: dict[int, dict[str, dict]] = field(default_factory=dict)
    failing: dict[str, set[int]] = field(default_factory=lambda: {name: set() for name in ROUTING_CHECKS})
    samples: dict[str, list] = field(default_factory=lambda: {name: [] for name in ROUTING_CHECKS})
    errors: list[str] = field(default_factory=list)


def _row_stage(frames: list[pd.DataFrame], inputs: list[PartitionInput]) -> list[_RowStage]:
    """Run the row suite once over the views of many partitions, routed back per partition."""
    views = [
        _validation_view(frame, partition, number)
        for number, (frame, partition) in enumerate(zip(frames, inputs, strict=True))
    ]
    stages = [_RowStage() for _ in frames]
    if not views:
        return stages
    starts = np.cumsum([0] + [len(v) for v in views])
    engine = _engine()
    result = _run(engine.matches, pd.concat(views, ignore_index=True), engine.rows_suite)
    for r in result.results:
        config = r.expectation_config
        check = config.meta["check"]
        columns = _result_columns(config.kwargs)
        message = _exception_message(r)
        if message:
            for stage in stages:
                stage.errors.append(f"{check}[{', '.join(columns)}]: {message}")
            continue
        unroutable = _unroutable(r)
        if unroutable:
            for stage in stages:
                stage.errors.append(f"{check}[{', '.join(columns)}]: {unroutable}")
        for index in r.result.get("unexpected_index_list") or []:
            number = int(np.searchsorted(starts, int(index), side="right")) - 1
            position = int(index) - int(starts[number])
            frame, view, stage = frames[number], views[number], stages[number]
            values = _row_values(frame, view, position, columns)
            stage.reasons.setdefault(position, {}).setdefault(check, {}).update(values)
            if position not in stage.failing[check] and len(stage.samples[check]) < SAMPLE_SIZE:
                stage.samples[check].append(_sample_entry(frame, position, values))
            stage.failing[check].add(position)
    return stages


def _team_counts(valid: pd.DataFrame) -> pd.DataFrame:
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


def _season_stage(valid_frames: list[pd.DataFrame | None]) -> list[tuple[list[CheckOutcome], list[str]]]:
    """Season-shape checks of the completed partitions (``None``: skipped, not completed)."""
    counts = {n: _team_counts(valid) for n, valid in enumerate(valid_frames) if valid is not None}
    offending = {n: {"home_away_balance": set(), "fixture_count": set()} for n in counts}
    errors: list[str] = []
    if counts:
        engine = _engine()
        table = _stacked(list(counts.values()), [[str(i) for i in range(len(c))] for c in counts.values()])
        numbers = list(counts)  # stacked tables are numbered in order; map back to partitions
        result = _run(engine.teams, table, engine.season_suite)
        for r in result.results:
            check = r.expectation_config.meta["check"]
            message = _exception_message(r) or _unroutable(r)
            if message:
                errors.append(f"{check}: {message}")
            for label in r.result.get("unexpected_index_list") or []:
                stacked_number, row = _split_label(label)
                offending[numbers[stacked_number]][check].add(int(row))
    stages = []
    for number in range(len(valid_frames)):
        if number not in counts:
            skipped = "skipped: season not completed"
            stages.append(
                (
                    [
                        _outcome("home_away_balance", True, 0, [], skipped),
                        _outcome("fixture_count", True, 0, [], skipped),
                    ],
                    [],
                )
            )
            continue
        table = counts[number]
        expected = max(len(table) - 1, 0)
        outcomes = []
        for check, positions in offending[number].items():
            sample = [
                {
                    "team": table["team"].iat[p],
                    "home": int(table["home_matches"].iat[p]),
                    "away": int(table["away_matches"].iat[p]),
                }
                for p in sorted(positions)
            ]
            detail = f"{len(table)} teams, expected {expected} home and {expected} away each"
            if positions:
                detail += f"; {len(positions)} teams off"
            if check == "fixture_count" and table.empty:
                # No valid match at all (e.g. every row quarantined as another season's): the
                # season's shape is unverified, not vacuously right.
                outcomes.append(_outcome(check, False, 0, [], "no valid matches in a completed season"))
                continue
            outcomes.append(_outcome(check, not positions, len(positions), sample, detail))
        stages.append((outcomes, list(errors)))
    return stages


def validate_partition(
    frame: pd.DataFrame,
    *,
    league: str,
    season: int,
    completed: bool,
    known_teams: set[str] | None = None,
    max_quarantine_share: float = 0.05,
) -> ValidationOutcome:
    """Validate one (league, season) partition in canonical form; see :func:`validate_partitions`."""
    partition = PartitionInput(frame, league, season, completed, known_teams)
    return validate_partitions([partition], max_quarantine_share=max_quarantine_share)[0]


def validate_partitions(
    partitions: list[PartitionInput], *, max_quarantine_share: float = 0.05
) -> list[ValidationOutcome]:
    """Validate (league, season) partitions in canonical form and split each into valid/quarantined.

    Every suite runs once for all the partitions given (a backfill validates hundreds of
    partitions, and Great Expectations' cost is per run, not per row); the outcomes are exactly
    those of validating each partition on its own. ``completed`` enables the season-shape
    warnings (home/away balance, fixture count); ``known_teams`` enables ``teams_known``. Rows
    keep their original values, dtypes, order and index labels in both outputs; every copy of
    a duplicated ``match_id`` is quarantined.
    """
    frames = [p.frame.copy() for p in partitions]
    schema_stages = _schema_stage(frames)
    # A broken schema means no row of that partition can be trusted: all of it goes to quarantine.
    broken = [bool(reasons) or any(not c.passed for c in checks) for checks, reasons, _e in schema_stages]
    checked = [n for n in range(len(frames)) if not broken[n]]
    row_stages = dict(
        zip(checked, _row_stage([frames[n] for n in checked], [partitions[n] for n in checked]), strict=True)
    )

    splits: dict[int, tuple[pd.DataFrame, pd.DataFrame, list[CheckOutcome]]] = {}
    for number in checked:
        frame, stage = frames[number], row_stages[number]
        checks = list(schema_stages[number][0])
        for name in ROUTING_CHECKS:
            detail = ""
            if name == "teams_known" and partitions[number].known_teams is None:
                detail = "skipped: no team list given"
            elif stage.failing[name]:
                detail = f"{len(stage.failing[name])} rows quarantined"
            failing = stage.failing[name]
            checks.append(_outcome(name, not failing, len(failing), stage.samples[name], detail))
        bad = sorted(stage.reasons)
        bad_set = set(bad)
        valid = _canonical_output(frame, [p for p in range(len(frame)) if p not in bad_set])
        quarantined = _canonical_output(frame, bad, stage.reasons) if bad else _empty_quarantine()
        splits[number] = (valid, quarantined, checks)
    season_stages = _season_stage(
        [splits[n][0] if n in splits and partitions[n].completed else None for n in range(len(frames))]
    )

    outcomes = []
    for number, (frame, partition) in enumerate(zip(frames, partitions, strict=True)):
        n_rows = len(frame)
        schema_checks, schema_reasons, errors = schema_stages[number]
        errors = list(errors)
        if broken[number]:
            checks = list(schema_checks) + [
                _outcome(name, True, 0, [], "skipped: schema broken") for name in ROUTING_CHECKS
            ]
            valid = _empty_quarantine().drop(columns=["reasons", "failed_values"])
            positions = list(range(n_rows))
            quarantined = (
                _canonical_output(frame, positions, schema_reasons) if n_rows else _empty_quarantine()
            )
            skipped = "skipped: schema broken" if partition.completed else "skipped: season not completed"
            season_checks = [
                _outcome(name, True, 0, [], skipped) for name in ("home_away_balance", "fixture_count")
            ]
        else:
            valid, quarantined, checks = splits[number]
            errors.extend(row_stages[number].errors)
            season_checks, season_errors = season_stages[number]
            errors.extend(season_errors)
        share = len(quarantined) / n_rows if n_rows else 0.0
        checks.append(
            _outcome(
                "quarantine_share",
                share <= max_quarantine_share,
                len(quarantined),
                [],
                f"{len(quarantined)}/{n_rows} = {share:.2%}, limit {max_quarantine_share:.2%}",
            )
        )
        checks.append(_outcome("suite_errors", not errors, len(errors), errors, "; ".join(errors[:3])))
        checks.extend(season_checks)
        checks.sort(key=lambda c: _ORDER[c.name])
        assert len(valid) + len(quarantined) == n_rows, "validation lost or duplicated rows"
        outcomes.append(
            ValidationOutcome(valid=valid, quarantined=quarantined, checks=checks, quarantine_share=share)
        )
    return outcomes
