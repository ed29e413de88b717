"""The validated layer of Understat's matches: one Great Expectations 1.x suite, run over many
(league, season) partitions at once, splitting each into valid and quarantined rows.

``footcast.understat`` (row-level; failing rows are quarantined with the failed checks and the
offending values, every other row is valid):

- ``required_not_null``: id, league, season, kickoff and teams present;
- ``partition_matches``: league and season are the partition's;
- ``understat_id_unique``: Understat's match id is unique in the partition (every copy of a
  repeated id is quarantined: which one is right cannot be told);
- ``home_away_distinct``: two different teams;
- ``kickoff_in_season``: kickoff inside the season's window (``catalogue.season_window``);
- ``goals_whole_non_negative``: goals are whole numbers >= 0;
- ``xg_in_range``: xG within [0, 10];
- ``played_has_goals`` / ``played_has_xg``: a match Understat marks played has both teams'
  goals / xG (a played match without xG would enter the features as "no xG").

Table-level ``quarantine_share`` (blocking) fails when more than ``max_quarantine_share`` of a
partition's rows are held back, and ``suite_errors`` (blocking) when an expectation could not
be evaluated: the partition then keeps its previous validated version. Nothing is dropped:
``len(valid) + len(quarantined) == len(frame)``. Understat's post-match "forecast" columns are
not checked: they are stored for reference only, never used.

The suite runs on a numpy-typed view of the rows plus derived columns (as
:mod:`footcast.quality.views` does for the match suite), in the process-wide context of
:mod:`footcast.quality.engine`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from footcast.data import catalogue, understat
from footcast.quality import engine
from footcast.quality.expectations import BLOCKING, WARNING, CheckSpec
from footcast.quality.quarantine import json_value
from footcast.quality.validation import SAMPLE_SIZE, CheckOutcome

SUITE_NAME = "footcast.understat"
MAX_XG = 10.0
REQUIRED_NOT_NULL: tuple[str, ...] = ("understat_id", "league", "season", "kickoff", "home_team", "away_team")

CHECK_SPECS: tuple[CheckSpec, ...] = (
    CheckSpec("required_not_null", WARNING, f"no nulls in {', '.join(REQUIRED_NOT_NULL)}"),
    CheckSpec("partition_matches", WARNING, "league and season of every row are the partition's"),
    CheckSpec(
        "understat_id_unique", WARNING, "understat_id unique in the partition (all copies quarantined)"
    ),
    CheckSpec("home_away_distinct", WARNING, "home_team != away_team"),
    CheckSpec("kickoff_in_season", WARNING, "kickoff inside catalogue.season_window(league, season)"),
    CheckSpec("goals_whole_non_negative", WARNING, "home_goals and away_goals are whole numbers >= 0"),
    CheckSpec("xg_in_range", WARNING, f"home_xg and away_xg within [0, {MAX_XG:g}]"),
    CheckSpec("played_has_goals", WARNING, "a played match (is_result) has home_goals and away_goals"),
    CheckSpec("played_has_xg", WARNING, "a played match (is_result) has home_xg and away_xg"),
    CheckSpec("quarantine_share", BLOCKING, "share of quarantined rows at most max_quarantine_share"),
    CheckSpec("suite_errors", BLOCKING, "every expectation could be evaluated"),
)
SPECS = {spec.name: spec for spec in CHECK_SPECS}
CHECK_ORDER = {spec.name: i for i, spec in enumerate(CHECK_SPECS)}
ROUTING_CHECKS: tuple[str, ...] = tuple(
    s.name for s in CHECK_SPECS if s.name not in ("quarantine_share", "suite_errors")
)

# Derived view columns -> the row's columns reported in failed_values when a check on them fails.
_REPORTED: dict[str, tuple[str, ...]] = {
    "partition_league": ("league",),
    "partition_season": ("season",),
    "partition_understat_id": ("understat_id",),
    "season_start": ("kickoff",),
    "season_end": ("kickoff",),
    "goals_whole": ("home_goals", "away_goals"),
    "played_has_goals": ("is_result", "home_goals", "away_goals"),
    "played_has_xg": ("is_result", "home_xg", "away_xg"),
}


def understat_expectations() -> list:
    import great_expectations.expectations as gxe

    def meta(check: str) -> dict:
        return {"check": check}

    either = "either_value_is_missing"
    ex: list = [
        gxe.ExpectColumnValuesToNotBeNull(column=c, meta=meta("required_not_null")) for c in REQUIRED_NOT_NULL
    ]
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
        gxe.ExpectColumnValuesToBeUnique(column="partition_understat_id", meta=meta("understat_id_unique"))
    )
    ex.append(
        gxe.ExpectSelectColumnValuesToBeUniqueWithinRecord(
            column_list=["home_team", "away_team"], meta=meta("home_away_distinct")
        )
    )
    for column_a, column_b, or_equal in (("kickoff", "season_start", True), ("season_end", "kickoff", False)):
        ex.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=column_a,
                column_B=column_b,
                or_equal=or_equal,
                ignore_row_if=either,
                meta=meta("kickoff_in_season"),
            )
        )
    for column in understat.GOAL_COLUMNS:
        ex.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column, min_value=0, meta=meta("goals_whole_non_negative")
            )
        )
    ex.append(
        gxe.ExpectColumnValuesToBeInSet(
            column="goals_whole", value_set=[True], meta=meta("goals_whole_non_negative")
        )
    )
    for column in understat.XG_COLUMNS:
        ex.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column, min_value=0, max_value=MAX_XG, meta=meta("xg_in_range")
            )
        )
    for check in ("played_has_goals", "played_has_xg"):
        ex.append(gxe.ExpectColumnValuesToBeInSet(column=check, value_set=[True], meta=meta(check)))
    return ex


@lru_cache(maxsize=1)
def _suite() -> tuple[Any, Any]:
    """(batch definition, suite) of the Understat suite in the shared ephemeral context."""
    import great_expectations as gx

    shared = engine.shared()
    with shared.lock:
        source = shared.context.data_sources.get("footcast")
        batch = source.add_dataframe_asset("understat_matches").add_batch_definition_whole_dataframe(
            "partition"
        )
        suite = shared.context.suites.add(
            gx.ExpectationSuite(name=SUITE_NAME, expectations=understat_expectations())
        )
    return batch, suite


# -- the view -----------------------------------------------------------------------------------


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _objects(series: pd.Series) -> np.ndarray:
    values = series.to_numpy(dtype=object, copy=True)
    values[pd.isna(values)] = None
    return values


def _all_present(*columns: np.ndarray) -> np.ndarray:
    return np.logical_and.reduce([~np.isnan(c) for c in columns])


def validation_view(frame: pd.DataFrame, number: int, *, league: str, season: int) -> pd.DataFrame:
    """Positional numpy-typed columns the suite reads, derived flags and the partition's own values;
    ``number`` keeps the ids of stacked partitions apart (``partition_understat_id``)."""
    n = len(frame)
    view: dict[str, Any] = {
        c: _objects(frame[c]) for c in ("understat_id", "league", "home_team", "away_team")
    }
    view["season"] = _numbers(frame["season"])
    view["kickoff"] = pd.to_datetime(frame["kickoff"], utc=True).reset_index(drop=True)
    for column in (*understat.GOAL_COLUMNS, *understat.XG_COLUMNS):
        view[column] = _numbers(frame[column])
    goals = np.column_stack([view[c] for c in understat.GOAL_COLUMNS])
    whole = np.all(np.isnan(goals) | (goals == np.floor(goals)), axis=1)
    view["goals_whole"] = np.where(np.isnan(goals).all(axis=1), None, whole).astype(object)
    played = frame["is_result"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    view["played_has_goals"] = (~played | _all_present(*goals.T)).astype(object)
    view["played_has_xg"] = (~played | _all_present(*(view[c] for c in understat.XG_COLUMNS))).astype(object)
    view["partition_league"] = np.full(n, league, dtype=object)
    view["partition_season"] = np.full(n, float(season))
    start, end = catalogue.season_window(league, season)
    view["season_start"] = pd.Series([start] * n, dtype=view["kickoff"].dtype)
    view["season_end"] = pd.Series([end] * n, dtype=view["kickoff"].dtype)
    view["partition_understat_id"] = np.array(
        [None if i is None else f"{number}\x1f{i}" for i in view["understat_id"]], dtype=object
    )
    out = pd.DataFrame(view)
    out.index = pd.RangeIndex(n)
    return out


# -- running it ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnderstatPartition:
    """One (league, season) partition of Understat rows (``understat.UNDERSTAT_COLUMNS``)."""

    frame: pd.DataFrame
    league: str
    season: int


@dataclass
class UnderstatValidation:
    valid: pd.DataFrame  # UNDERSTAT_COLUMNS
    quarantined: pd.DataFrame  # UNDERSTAT_COLUMNS + "reasons" + "failed_values"
    checks: list[CheckOutcome]
    quarantine_share: float

    @property
    def blocking_failures(self) -> list[CheckOutcome]:
        return [c for c in self.checks if c.severity == BLOCKING and not c.passed]

    def check(self, name: str) -> CheckOutcome:
        return next(c for c in self.checks if c.name == name)


@dataclass
class _Routed:
    """Per partition: failing positions -> {check: {column: value}}, and GE errors."""

    reasons: dict[int, dict[str, dict]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _row_values(frame: pd.DataFrame, columns: list[str]) -> Any:
    """A function of a row position: the row's values of the columns one expectation read."""
    reported = [source for column in columns for source in _REPORTED.get(column, (column,))]

    def values(position: int) -> dict:
        return {c: json_value(frame[c].iat[position]) for c in dict.fromkeys(reported)}

    return values


def _route(frames: list[pd.DataFrame], inputs: list[UnderstatPartition]) -> list[_Routed]:
    routed = [_Routed() for _ in frames]
    views = [
        validation_view(f, n, league=p.league, season=p.season)
        for n, (f, p) in enumerate(zip(frames, inputs, strict=True))
    ]
    if not sum(len(v) for v in views):
        return routed
    starts = np.cumsum([0] + [len(v) for v in views])
    batch, suite = _suite()
    result = engine.run(batch, pd.concat(views, ignore_index=True), suite)
    for r in result.results:
        check = r.expectation_config.meta["check"]
        columns = engine.result_columns(r.expectation_config.kwargs)
        message = engine.exception_message(r) or engine.unroutable(r)
        if message:
            for partition in routed:
                partition.errors.append(f"{check}[{', '.join(columns)}]: {message}")
        for index in r.result.get("unexpected_index_list") or []:
            number = int(np.searchsorted(starts, int(index), side="right")) - 1
            position = int(index) - int(starts[number])
            values = _row_values(frames[number], columns)(position)
            routed[number].reasons.setdefault(position, {}).setdefault(check, {}).update(values)
    return routed


def _outcome(name: str, passed: bool, count: int, sample: list, detail: str = "") -> CheckOutcome:
    spec = SPECS[name]
    return CheckOutcome(
        name,
        spec.severity,
        passed,
        int(count),
        sample[:SAMPLE_SIZE],
        spec.description + (f" ({detail})" if detail else ""),
    )


def _checks(frame: pd.DataFrame, routed: _Routed) -> list[CheckOutcome]:
    checks = []
    for name in ROUTING_CHECKS:
        failing = sorted(p for p, reasons in routed.reasons.items() if name in reasons)
        sample = [
            {
                "row": p,
                "source_index": json_value(frame["source_index"].iat[p]),
                "understat_id": json_value(frame["understat_id"].iat[p]),
                **routed.reasons[p][name],
            }
            for p in failing[:SAMPLE_SIZE]
        ]
        detail = f"{len(failing)} rows quarantined" if failing else ""
        checks.append(_outcome(name, not failing, len(failing), sample, detail))
    return checks


def _split(frame: pd.DataFrame, reasons: dict[int, dict[str, dict]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    bad = sorted(reasons)
    valid = frame.drop(index=frame.index[bad]).reset_index(drop=True)
    held = frame.iloc[bad].reset_index(drop=True)
    held["reasons"] = pd.array(
        [",".join(sorted(reasons[p], key=CHECK_ORDER.__getitem__)) for p in bad], dtype="string"
    )
    held["failed_values"] = pd.array(
        [json.dumps(reasons[p], sort_keys=True, default=str) for p in bad], dtype="string"
    )
    return valid, held


def validate_understat_partitions(
    partitions: list[UnderstatPartition], *, max_quarantine_share: float = 0.05
) -> list[UnderstatValidation]:
    """Validate (league, season) partitions of Understat rows with one suite run for all of them;
    per partition its valid rows, its quarantined rows (with ``reasons`` and ``failed_values``
    {check: {column: value}}) and the outcome of every check (see the module docstring)."""
    frames = [understat.conform(p.frame) for p in partitions]
    outcomes = []
    for frame, routed in zip(frames, _route(frames, partitions), strict=True):
        checks = _checks(frame, routed)
        valid, held = _split(frame, routed.reasons)
        share = len(held) / len(frame) if len(frame) else 0.0
        checks.append(
            _outcome(
                "quarantine_share",
                share <= max_quarantine_share,
                len(held),
                [],
                f"{len(held)}/{len(frame)} = {share:.2%}, limit {max_quarantine_share:.2%}",
            )
        )
        checks.append(
            _outcome(
                "suite_errors",
                not routed.errors,
                len(routed.errors),
                routed.errors,
                "; ".join(routed.errors[:3]),
            )
        )
        assert len(valid) + len(held) == len(frame), "validation lost or duplicated rows"
        outcomes.append(UnderstatValidation(valid, held, checks, share))
    return outcomes
