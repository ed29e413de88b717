"""Validate one raw partition and store the outcome atomically (matches + quarantine)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from footcast import config
from footcast.adapters.warehouse import (
    QUARANTINED_BY_RAW,
    QUARANTINED_BY_VALIDATED,
    Warehouse,
    matches,
    quarantine,
    raw_matches,
)
from footcast.data import catalogue, schema, teams
from footcast.quality.validation import PartitionInput, ValidationOutcome, validate_partitions
from footcast.services import findings

_COMPARED = [c for c in schema.MATCH_COLUMNS if c not in schema.LINEAGE_COLUMNS]


@dataclass
class ValidationReport:
    league: str
    season: int
    outcome: ValidationOutcome
    raw_rows: int
    written: bool
    changes: dict[str, Any] = field(default_factory=dict)
    # what the raw step could not read: findings of kept rows and its rejected rows
    findings: findings.PartitionFindings = field(default_factory=findings.PartitionFindings)

    @property
    def blocking_names(self) -> list[str]:
        return [c.name for c in self.outcome.blocking_failures]

    @property
    def blocked(self) -> bool:
        return bool(self.outcome.blocking_failures)

    def metadata(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for text in self.outcome.quarantined.get("reasons", pd.Series(dtype="string")):
            for reason in str(text).split(","):
                reasons[reason.strip()] = reasons.get(reason.strip(), 0) + 1
        return {
            "raw_rows": self.raw_rows,
            "rows": len(self.outcome.valid),
            "quarantined": len(self.outcome.quarantined),
            "quarantine_share": round(self.outcome.quarantine_share, 4),
            "quarantine_reasons": json.dumps(reasons, sort_keys=True),
            "partition_replaced": self.written,
            "findings": len(self.findings.findings),
            "rejected": len(self.findings.rejected),
            "findings_summary": self.findings.summary(),
            **self.changes,
        }


def _row_digests(frame: pd.DataFrame) -> dict[str, int]:
    """match_id -> hash of the row's values (lineage excluded), to see what a re-scrape changed."""
    values = frame[_COMPARED[1:]].copy()
    for column in values.columns:  # same instant, same hash, whatever the stored resolution
        if isinstance(values[column].dtype, pd.DatetimeTZDtype):
            values[column] = values[column].dt.as_unit("ns")
    hashes = pd.util.hash_pandas_object(values, index=False)
    return dict(zip(frame["match_id"].astype("string").fillna(""), hashes.to_numpy().tolist(), strict=True))


def diff(previous: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    before, after = _row_digests(previous), _row_digests(current)
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(k for k in after.keys() & before.keys() if after[k] != before[k])
    return {
        "rows_added": len(added),
        "rows_removed": len(removed),
        "rows_changed": len(changed),
        "changed_match_ids": ", ".join(changed[:20]),
    }


def known_teams(league_code: str) -> set[str] | None:
    """Clubs known for the league in the alias table's registry; None for a league it does
    not cover yet (not checked, rather than quarantining every row)."""
    names = teams.LEAGUE_TEAMS.get(league_code)
    return set(names) if names else None


def _read_partitions(
    warehouse: Warehouse, table, targets: list[tuple[str, int]]
) -> dict[tuple[str, int], pd.DataFrame]:
    """(league, season) -> that partition's rows of ``table`` in canonical form plus
    ``fetched_at`` (possibly no rows); one query and one conversion for all of them."""
    leagues = sorted({league for league, _season in targets})
    seasons = sorted({season for _league, season in targets})
    stored = warehouse.read(table, {"league": leagues, "season": seasons})
    frame = schema.conform(stored).assign(fetched_at=stored["fetched_at"].to_numpy())
    groups = {
        (str(league), int(season)): group.reset_index(drop=True)
        for (league, season), group in frame.groupby(["league", "season"], sort=False)
    }
    empty = frame.iloc[0:0]
    return {target: groups.get(target, empty) for target in targets}


def _read_raw_rejects(
    warehouse: Warehouse, targets: list[tuple[str, int]]
) -> dict[tuple[str, int], pd.DataFrame]:
    """(league, season) -> the raw step's quarantine rows of that partition; one query for all."""
    leagues = sorted({league for league, _season in targets})
    seasons = sorted({season for _league, season in targets})
    stored = warehouse.read(
        quarantine,
        {"league": leagues, "season": seasons, "quarantined_by": QUARANTINED_BY_RAW},
        columns=["league", "season", "source_line", "reasons", "failed_values", "raw_text"],
    )
    groups = {
        (str(league), int(season)): group for (league, season), group in stored.groupby(["league", "season"])
    }
    empty = stored.iloc[0:0]
    return {target: groups.get(target, empty) for target in targets}


def validate_and_store(
    warehouse: Warehouse, league_code: str, season: int, max_quarantine_share: float = 0.05
) -> ValidationReport:
    return validate_and_store_many(warehouse, [(league_code, season)], max_quarantine_share)[0]


def validate_and_store_many(
    warehouse: Warehouse, targets: list[tuple[str, int]], max_quarantine_share: float = 0.05
) -> list[ValidationReport]:
    """Validate raw (league, season) partitions (one suite run for all of them) and store each
    outcome atomically: a partition whose blocking checks fail keeps its previous version."""
    raw_by_partition = _read_partitions(warehouse, raw_matches, targets)
    rejects_by_partition = _read_raw_rejects(warehouse, targets)
    previous_by_partition = _read_partitions(warehouse, matches, targets)
    raws = [raw_by_partition[target].drop(columns="fetched_at") for target in targets]
    fetched = [raw_by_partition[target]["fetched_at"].max() for target in targets]
    outcomes = validate_partitions(
        [
            PartitionInput(
                raw,
                league=league_code,
                season=season,
                completed=catalogue.is_completed(season, league_code),
                known_teams=known_teams(league_code),
            )
            for raw, (league_code, season) in zip(raws, targets, strict=True)
        ],
        max_quarantine_share=max_quarantine_share,
    )
    reports = []
    for (league_code, season), raw, fetched_at, outcome in zip(targets, raws, fetched, outcomes, strict=True):
        report = ValidationReport(league_code, season, outcome, raw_rows=len(raw), written=False)
        report.findings = findings.of_partition(raw, rejects_by_partition[(league_code, season)])
        reports.append(report)
        if report.blocked:
            continue
        where = {"league": league_code, "season": season}
        previous = previous_by_partition[(league_code, season)]
        # One fetch fills a raw partition, so its fetch time is the lineage of every row.
        valid = outcome.valid.assign(fetched_at=fetched_at)
        held = outcome.quarantined.assign(fetched_at=fetched_at)
        held["quarantined_at"] = pd.Timestamp(config.now())
        held["quarantined_by"] = QUARANTINED_BY_VALIDATED
        with warehouse.engine.begin() as conn:
            warehouse.replace_partition(matches, where, valid, conn)
            # only this layer's rows: the raw step's rejects of the partition stay
            warehouse.replace_partition(
                quarantine, {**where, "quarantined_by": QUARANTINED_BY_VALIDATED}, held, conn
            )
        report.written = True
        report.changes = diff(previous, outcome.valid)
    return reports
