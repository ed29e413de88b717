"""Dagster asset checks built from the suites: one check per suite expectation group and partition."""

from __future__ import annotations

import json

import dagster as dg

from footcast.quality import suites

_SEVERITY = {"blocking": dg.AssetCheckSeverity.ERROR, "warning": dg.AssetCheckSeverity.WARN}


def match_check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    """Specs for every check of the match suite; blocking ones stop downstream assets on failure."""
    return [
        dg.AssetCheckSpec(
            name=spec.name,
            asset=asset,
            description=f"[{spec.severity}] {spec.description}",
            blocking=spec.severity == suites.BLOCKING,
        )
        for spec in suites.CHECK_SPECS
    ]


def check_results(outcome: suites.ValidationOutcome) -> list[dg.AssetCheckResult]:
    results = []
    for check in outcome.checks:
        results.append(
            dg.AssetCheckResult(
                check_name=check.name,
                passed=bool(check.passed),
                severity=_SEVERITY[check.severity],
                metadata={
                    "unexpected_count": int(check.unexpected_count),
                    "sample": dg.MetadataValue.json(json.loads(json.dumps(check.sample, default=str))),
                    "description": check.description,
                },
            )
        )
    return results
