"""Dagster asset checks built from the suites: one check per suite and partition.

The suites' expectations (``suites.CHECK_SPECS``) are grouped into four checks, each with the
per-expectation counts and samples as metadata:

- ``schema`` (blocking): required columns and types; the suite could be evaluated at all.
- ``table`` (blocking): match ids unique; quarantined share within the configured limit.
- ``rows`` (warning): the row-level expectations; failing rows are in ``quarantine``.
- ``season`` (warning): completed seasons have the expected home/away fixture counts.

One check per suite (rather than per expectation) keeps a partition run to a handful of
events, which matters when a backfill runs hundreds of partitions.
"""

import json

import dagster as dg

from footcast.quality import suites

SUITE_CHECKS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "schema": (
        suites.BLOCKING,
        (*suites.SCHEMA_CHECKS, "suite_errors"),
        "required columns present with their types, and every expectation evaluated",
    ),
    "table": (
        suites.BLOCKING,
        ("match_id_unique", "quarantine_share"),
        "match ids unique; quarantined share at most the configured maximum",
    ),
    "rows": (
        suites.WARNING,
        tuple(n for n in suites.ROUTING_CHECKS if n != "match_id_unique"),
        "row-level expectations (failing rows are routed to `quarantine` with the reasons)",
    ),
    "season": (
        suites.WARNING,
        ("home_away_balance", "fixture_count"),
        "completed seasons: every team plays n_teams-1 home and n_teams-1 away matches",
    ),
}
_SEVERITY = {suites.BLOCKING: dg.AssetCheckSeverity.ERROR, suites.WARNING: dg.AssetCheckSeverity.WARN}

_grouped = [name for _severity, names, _description in SUITE_CHECKS.values() for name in names]
assert sorted(_grouped) == sorted(spec.name for spec in suites.CHECK_SPECS), "every expectation in one check"


def match_check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    """Specs for the match suites; blocking ones stop downstream assets when they fail."""
    return [
        dg.AssetCheckSpec(
            name=name,
            asset=asset,
            description=f"[{severity}] {description}",
            blocking=severity == suites.BLOCKING,
        )
        for name, (severity, _names, description) in SUITE_CHECKS.items()
    ]


def check_results(outcome: suites.ValidationOutcome) -> list[dg.AssetCheckResult]:
    by_name = {check.name: check for check in outcome.checks}
    results = []
    for name, (severity, names, _description) in SUITE_CHECKS.items():
        members = [by_name[n] for n in names if n in by_name]
        failed = [m for m in members if not m.passed]
        results.append(
            dg.AssetCheckResult(
                check_name=name,
                passed=not failed,
                severity=_SEVERITY[severity],
                metadata={
                    "failed_expectations": ", ".join(m.name for m in failed),
                    "unexpected_count": sum(int(m.unexpected_count) for m in members),
                    "expectations": dg.MetadataValue.json(
                        {
                            m.name: {"passed": bool(m.passed), "unexpected_count": int(m.unexpected_count)}
                            for m in members
                        }
                    ),
                    "sample": dg.MetadataValue.json(
                        json.loads(json.dumps({m.name: m.sample for m in failed}, default=str))
                    ),
                },
            )
        )
    return results
