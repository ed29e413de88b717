"""Dagster asset checks built from the suites: one check per suite and partition.

The suites' expectations (``expectations.CHECK_SPECS``) are grouped into four checks, each with the
per-expectation counts and samples as metadata:

- ``schema`` (blocking): required columns and types; the suite could be evaluated at all.
- ``table`` (blocking): match ids unique; quarantined share within the configured limit.
- ``rows`` (warning): the row-level expectations; failing rows are in ``quarantine``.
- ``season`` (warning): completed seasons have the expected home/away fixture counts.
- ``findings`` (warning): what the raw step could not read: per partition, every unreadable
  cell of a kept row (its column and source line; the cell is null) and every row it rejected
  (its source line, rejection and reason; the row is in ``quarantine`` with its raw text).

One check per suite (rather than per expectation) keeps a run to a handful of events. A run
covers a range of partitions (a backfill runs up to a league's history at once); each check
result covers the run's partitions and names those that failed.
"""

import json

import dagster as dg

from footcast.quality.expectations import BLOCKING, CHECK_SPECS, ROUTING_CHECKS, SCHEMA_CHECKS, WARNING
from footcast.quality.validation import ValidationOutcome
from footcast.services.findings import PartitionFindings

SUITE_CHECKS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "schema": (
        BLOCKING,
        (*SCHEMA_CHECKS, "suite_errors"),
        "required columns present with their types, and every expectation evaluated",
    ),
    "table": (
        BLOCKING,
        ("match_id_unique", "quarantine_share"),
        "match ids unique; quarantined share at most the configured maximum",
    ),
    "rows": (
        WARNING,
        tuple(n for n in ROUTING_CHECKS if n != "match_id_unique"),
        "row-level expectations (failing rows are routed to `quarantine` with the reasons)",
    ),
    "season": (
        WARNING,
        ("home_away_balance", "fixture_count"),
        "completed seasons: every team plays n_teams-1 home and n_teams-1 away matches",
    ),
}
# Samples of failing rows are kept for this many partitions of a run (the counts cover all).
MAX_SAMPLED_PARTITIONS = 10
_SEVERITY = {BLOCKING: dg.AssetCheckSeverity.ERROR, WARNING: dg.AssetCheckSeverity.WARN}

_grouped = [name for _severity, names, _description in SUITE_CHECKS.values() for name in names]
assert sorted(_grouped) == sorted(spec.name for spec in CHECK_SPECS), "every expectation in one check"


FINDINGS_CHECK = "findings"
FINDINGS_DESCRIPTION = (
    "cells the source published that could not be read (null in their column, a finding of the row) "
    "and source rows that could not be kept (quarantined with their raw text), by partition, column and line"
)


def match_check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    """Specs for the match suites; blocking ones stop downstream assets when they fail."""
    return [
        dg.AssetCheckSpec(
            name=name,
            asset=asset,
            description=f"[{severity}] {description}",
            blocking=severity == BLOCKING,
        )
        for name, (severity, _names, description) in SUITE_CHECKS.items()
    ] + [
        dg.AssetCheckSpec(name=FINDINGS_CHECK, asset=asset, description=f"[{WARNING}] {FINDINGS_DESCRIPTION}")
    ]


def findings_result(by_partition: dict[str, PartitionFindings]) -> dg.AssetCheckResult:
    """Passes when the raw step read every cell and kept every row of the run's partitions; else
    a warning naming each partition with its columns and lines (all of them, in the metadata)."""
    found = {key: partition for key, partition in by_partition.items() if partition}
    cells = sum(len(p.findings) for p in found.values())
    rows = sum(len(p.rejected) for p in found.values())
    description = (
        f"{cells} unreadable cells and {rows} rejected rows in {len(found)} of {len(by_partition)} "
        "partitions: " + " | ".join(f"{key}: {partition.summary()}" for key, partition in found.items())
        if found
        else f"every cell read and every row kept in all {len(by_partition)} partitions"
    )
    return dg.AssetCheckResult(
        check_name=FINDINGS_CHECK,
        passed=not found,
        severity=dg.AssetCheckSeverity.WARN,
        description=description[:2000],
        metadata={
            "findings": cells,
            "rejected": rows,
            "partitions": dg.MetadataValue.json({key: p.as_json() for key, p in found.items()}),
        },
    )


def check_results(outcomes: dict[str, ValidationOutcome]) -> list[dg.AssetCheckResult]:
    """One result per check for the partitions of a run (keyed by partition): it passes only
    if it passes for every partition, and its metadata names the partitions that failed."""
    results = []
    for name, (severity, names, _description) in SUITE_CHECKS.items():
        failed_by_partition: dict[str, list[str]] = {}
        samples: dict[str, dict] = {}
        totals = {n: {"passed": True, "unexpected_count": 0} for n in names}
        for key, outcome in outcomes.items():
            by_name = {check.name: check for check in outcome.checks}
            members = [by_name[n] for n in names if n in by_name]
            for m in members:
                totals[m.name]["passed"] &= bool(m.passed)
                totals[m.name]["unexpected_count"] += int(m.unexpected_count)
            failed = [m for m in members if not m.passed]
            if failed:
                failed_by_partition[key] = [m.name for m in failed]
                if len(samples) < MAX_SAMPLED_PARTITIONS:
                    samples[key] = {m.name: m.sample for m in failed}
        failed_names = [n for n in names if not totals[n]["passed"]]
        results.append(
            dg.AssetCheckResult(
                check_name=name,
                passed=not failed_by_partition,
                severity=_SEVERITY[severity],
                description=(
                    f"failed for {len(failed_by_partition)} of {len(outcomes)} partitions: "
                    + ", ".join(list(failed_by_partition)[:MAX_SAMPLED_PARTITIONS])
                    if failed_by_partition
                    else f"passed for all {len(outcomes)} partitions"
                ),
                metadata={
                    "failed_expectations": ", ".join(failed_names),
                    "failed_partitions": dg.MetadataValue.json(failed_by_partition),
                    "unexpected_count": sum(t["unexpected_count"] for t in totals.values()),
                    "expectations": dg.MetadataValue.json(totals),
                    "sample": dg.MetadataValue.json(json.loads(json.dumps(samples, default=str))),
                },
            )
        )
    return results
