"""Validate (league, season) partitions with the suites: split each into valid and quarantined rows.

``validate_partition`` runs one raw (season x league) partition in canonical form
(:mod:`footcast.data.schema`) through three Great Expectations suites
(:mod:`footcast.quality.expectations`) and splits it into ``valid`` rows and ``quarantined``
rows (with the names of the failed checks and the offending values, see
:mod:`footcast.quality.quarantine`). Nothing is dropped:
``len(valid) + len(quarantined) == len(frame)`` always.

The suites run in three stages over the tables of :mod:`footcast.quality.views`: the schema
suite first (a broken schema quarantines the whole partition), then the row suite over the
partitions with a sound schema, then the season suite over the valid rows of completed seasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from footcast.data import schema
from footcast.quality import engine, quarantine, views
from footcast.quality.expectations import (
    BLOCKING,
    CHECK_ORDER,
    PRICE_CHECKS,
    ROUTING_CHECKS,
    SCHEMA_CHECKS,
    SPECS,
)

SAMPLE_SIZE = 10


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


def _outcome(name: str, passed: bool, count: int, sample: list, detail: str = "") -> CheckOutcome:
    spec = SPECS[name]
    description = spec.description + (f" ({detail})" if detail else "")
    return CheckOutcome(name, spec.severity, passed, int(count), sample[:SAMPLE_SIZE], description)


def _schema_stage(
    frames: list[pd.DataFrame],
) -> list[tuple[list[CheckOutcome], dict[int, dict[str, dict]], list[str]]]:
    """Run the schema suite over every partition's schema table at once; per partition the
    outcomes, per-row reasons when broken, and GE errors."""
    gx_engine = engine.shared()
    tables = [views.schema_table(frame) for frame in frames]
    result = engine.run(
        gx_engine.schema, views.stacked(tables, [list(t.index) for t in tables]), gx_engine.schema_suite
    )
    offending = [{name: set() for name in SCHEMA_CHECKS} for _ in frames]
    errors: list[str] = []
    for r in result.results:
        check = r.expectation_config.meta["check"]
        message = engine.exception_message(r) or engine.unroutable(r)
        if message:
            errors.append(f"{check}: {message}")
        for label in r.result.get("unexpected_index_list") or []:
            number, column = views.split_label(label)
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
                    row["column_types"] = {
                        c: quarantine.json_value(frame[c].iat[position]) for c in bad_types
                    }
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
    row_views = [
        views.validation_view(
            frame, number, league=partition.league, season=partition.season, known_teams=partition.known_teams
        )
        for number, (frame, partition) in enumerate(zip(frames, inputs, strict=True))
    ]
    stages = [_RowStage() for _ in frames]
    if not row_views:
        return stages
    starts = np.cumsum([0] + [len(v) for v in row_views])
    gx_engine = engine.shared()
    result = engine.run(gx_engine.matches, pd.concat(row_views, ignore_index=True), gx_engine.rows_suite)
    for r in result.results:
        config = r.expectation_config
        check = config.meta["check"]
        columns = engine.result_columns(config.kwargs)
        message = engine.exception_message(r)
        if message:
            for stage in stages:
                stage.errors.append(f"{check}[{', '.join(columns)}]: {message}")
            continue
        unroutable = engine.unroutable(r)
        if unroutable:
            for stage in stages:
                stage.errors.append(f"{check}[{', '.join(columns)}]: {unroutable}")
        for index in r.result.get("unexpected_index_list") or []:
            number = int(np.searchsorted(starts, int(index), side="right")) - 1
            position = int(index) - int(starts[number])
            frame, view, stage = frames[number], row_views[number], stages[number]
            values = quarantine.row_values(frame, view, position, columns)
            stage.reasons.setdefault(position, {}).setdefault(check, {}).update(values)
            if position not in stage.failing[check] and len(stage.samples[check]) < SAMPLE_SIZE:
                stage.samples[check].append(quarantine.sample_entry(frame, position, values))
            stage.failing[check].add(position)
    return stages


def _season_stage(valid_frames: list[pd.DataFrame | None]) -> list[tuple[list[CheckOutcome], list[str]]]:
    """Season-shape checks of the completed partitions (``None``: skipped, not completed)."""
    counts = {n: views.team_counts(valid) for n, valid in enumerate(valid_frames) if valid is not None}
    offending = {n: {"home_away_balance": set(), "fixture_count": set()} for n in counts}
    errors: list[str] = []
    if counts:
        gx_engine = engine.shared()
        table = views.stacked(
            list(counts.values()), [[str(i) for i in range(len(c))] for c in counts.values()]
        )
        numbers = list(counts)  # stacked tables are numbered in order; map back to partitions
        result = engine.run(gx_engine.teams, table, gx_engine.season_suite)
        for r in result.results:
            check = r.expectation_config.meta["check"]
            message = engine.exception_message(r) or engine.unroutable(r)
            if message:
                errors.append(f"{check}: {message}")
            for label in r.result.get("unexpected_index_list") or []:
                stacked_number, row = views.split_label(label)
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


def _routing_outcome(
    name: str, stage: _RowStage, priced: set[int], partition: PartitionInput
) -> CheckOutcome:
    failing = stage.failing[name]
    detail = ""
    if name == "teams_known" and partition.known_teams is None:
        detail = "skipped: no team list given"
    elif failing and name in PRICE_CHECKS:
        kept = len(failing & priced)
        detail = f"{len(failing)} rows: their failing prices nulled ({kept} rows kept, the rest quarantined)"
    elif failing:
        detail = f"{len(failing)} rows quarantined"
    return _outcome(name, not failing, len(failing), stage.samples[name], detail)


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
        # Rows failing only price checks are kept, their failing book lines nulled.
        priced = {p for p, failed in stage.reasons.items() if set(failed) <= PRICE_CHECKS}
        quarantine.null_failed_prices(frame, stage.reasons, priced)
        for name in ROUTING_CHECKS:
            checks.append(_routing_outcome(name, stage, priced, partitions[number]))
        bad = sorted(set(stage.reasons) - priced)
        bad_set = set(bad)
        valid = quarantine.canonical_output(frame, [p for p in range(len(frame)) if p not in bad_set])
        quarantined = (
            quarantine.canonical_output(frame, bad, stage.reasons) if bad else quarantine.empty_quarantine()
        )
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
            valid = quarantine.empty_quarantine().drop(columns=["reasons", "failed_values"])
            positions = list(range(n_rows))
            quarantined = (
                quarantine.canonical_output(frame, positions, schema_reasons)
                if n_rows
                else quarantine.empty_quarantine()
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
        checks.sort(key=lambda c: CHECK_ORDER[c.name])
        assert len(valid) + len(quarantined) == n_rows, "validation lost or duplicated rows"
        outcomes.append(
            ValidationOutcome(valid=valid, quarantined=quarantined, checks=checks, quarantine_share=share)
        )
    return outcomes
