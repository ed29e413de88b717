"""Understat's match xG: the raw layer (one league-season fetched through Understat's session
protocol) and the validated layer (the Understat suite routes each row to `understat_matches`
or `understat_quarantine`). Partitioned by league-season over Understat's leagues from 2014/15,
keyed like the football-data partitions (``"E0|2023-24"``)."""

import dagster as dg

from footcast.assets import checks, partitions
from footcast.assets.raw import SOURCE_ERRORS, RawConfig, partitions_result
from footcast.assets.resources import UnderstatResource, WarehouseResource
from footcast.assets.validated import ValidationConfig, validated_result
from footcast.data import catalogue
from footcast.quality.expectations import BLOCKING, WARNING
from footcast.quality.understat import ROUTING_CHECKS, UnderstatValidation
from footcast.services import understat

UNDERSTAT_PARTITIONS = partitions.understat_partitions()
UNDERSTAT_BACKFILL = dg.BackfillPolicy.multi_run(max_partitions_per_run=partitions.MAX_PARTITIONS_PER_RUN)


@dg.asset(
    partitions_def=UNDERSTAT_PARTITIONS,
    backfill_policy=UNDERSTAT_BACKFILL,
    group_name="raw",
    kinds={"python", "sql"},
    # One slot of Understat's pool per scraping step (the HTTP client also rate-limits per host).
    pool="understat_host",
    description="Understat's matches of one league-season (played or not) with their xG, as its "
    "getLeagueData API serves them, with lineage (URL, content hash, fetched at). Team names are "
    "Understat's. `post_match_forecast_*` is Understat's forecast, computed AFTER the match from its "
    "own xG: stored for reference, never a feature or a predictor.",
)
def raw_understat_matches(
    context: dg.AssetExecutionContext,
    config: RawConfig,
    warehouse: WarehouseResource,
    understat_source: UnderstatResource,
) -> dg.MaterializeResult:
    store = warehouse.get()
    source = understat_source.source()
    metadata: dict[str, dict] = {}
    failures: dict[str, str] = {}
    for key in context.partition_keys:
        league, season = catalogue.parse_partition_key(key)
        try:
            fetched, rows = understat.ingest_understat_season(
                source, store, league, season, force=config.force, allow_fewer_rows=config.allow_fewer_rows
            )
        except SOURCE_ERRORS as exc:  # the other partitions of the run still load
            failures[key] = str(exc)
            context.log.error(f"{key}: {exc}")
            continue
        metadata[key] = {"rows": rows, **fetched.metadata()}
    return partitions_result(context, metadata, failures)


# check -> (severity, the suite's checks it covers, description)
UNDERSTAT_CHECKS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "table": (
        BLOCKING,
        ("quarantine_share", "suite_errors"),
        "quarantined share at most the configured maximum, and every expectation evaluated",
    ),
    "rows": (
        WARNING,
        ROUTING_CHECKS,
        "row-level expectations (xG in [0, 10], goals whole and >= 0, unique Understat ids, kickoff in "
        "the season, played matches have goals and xG, ...): failing rows are in `understat_quarantine`",
    ),
}
_SEVERITY = {BLOCKING: dg.AssetCheckSeverity.ERROR, WARNING: dg.AssetCheckSeverity.WARN}
_ROW_KEYS = {"row", "source_index", "understat_id"}


def _failed(outcome: UnderstatValidation, names: tuple[str, ...]) -> dict[str, dict]:
    """The failed checks of one partition: rows failing, columns involved, a sample of rows."""
    failed = {}
    for check in outcome.checks:
        if check.name in names and not check.passed:
            columns = sorted(
                {k for entry in check.sample if isinstance(entry, dict) for k in entry} - _ROW_KEYS
            )
            failed[check.name] = {"rows": check.unexpected_count, "columns": columns, "sample": check.sample}
    return failed


def _naming(failed: dict[str, dict]) -> str:
    """``xg_in_range: 1 rows [home_xg]; ...``"""
    return "; ".join(f"{check}: {f['rows']} rows [{', '.join(f['columns'])}]" for check, f in failed.items())


def _check_results(outcomes: dict[str, UnderstatValidation]) -> list[dg.AssetCheckResult]:
    """One result per check for the run's partitions, naming each failing partition with its
    checks, columns and row counts (samples of the rows in the metadata)."""
    results = []
    for name, (severity, names, _description) in UNDERSTAT_CHECKS.items():
        by_partition = {key: _failed(outcome, names) for key, outcome in outcomes.items()}
        by_partition = {key: failed for key, failed in by_partition.items() if failed}
        named = [f"{key} ({_naming(failed)})" for key, failed in by_partition.items()]
        description = (
            f"failed for {len(by_partition)} of {len(outcomes)} partitions: " + " | ".join(named)
            if by_partition
            else f"passed for all {len(outcomes)} partitions"
        )
        results.append(
            dg.AssetCheckResult(
                check_name=name,
                passed=not by_partition,
                severity=_SEVERITY[severity],
                description=description[:2000],
                metadata={
                    "failed_partitions": dg.MetadataValue.json(
                        {key: sorted(failed) for key, failed in by_partition.items()}
                    ),
                    "failures": dg.MetadataValue.json(
                        dict(list(by_partition.items())[: checks.MAX_SAMPLED_PARTITIONS])
                    ),
                    "unexpected_count": sum(
                        f["rows"] for failed in by_partition.values() for f in failed.values()
                    ),
                },
            )
        )
    return results


@dg.asset(
    partitions_def=UNDERSTAT_PARTITIONS,
    backfill_policy=UNDERSTAT_BACKFILL,
    group_name="validated",
    kinds={"python", "sql"},
    deps=[raw_understat_matches],
    check_specs=[
        *[
            dg.AssetCheckSpec(
                name=name,
                asset="validated_understat_matches",
                description=f"[{severity}] {description}",
                blocking=severity == BLOCKING,
            )
            for name, (severity, _names, description) in UNDERSTAT_CHECKS.items()
        ],
        dg.AssetCheckSpec(
            name=checks.FINDINGS_CHECK,
            asset="validated_understat_matches",
            description=f"[{WARNING}] {checks.FINDINGS_DESCRIPTION} (for Understat: by element of `dates`)",
        ),
    ],
    description="Rows of `raw_understat_matches` that pass the Understat suite; failing rows go to "
    "`understat_quarantine` with the failed expectations and values. raw rows = valid + quarantined, "
    "per partition; a partition whose blocking `table` check fails keeps its previous version.",
)
def validated_understat_matches(
    context: dg.AssetExecutionContext, config: ValidationConfig, warehouse: WarehouseResource
):
    targets = [catalogue.parse_partition_key(key) for key in context.partition_keys]
    # One suite run for every partition of the run (Great Expectations' cost is per run).
    reports = understat.validate_and_store_understat_many(
        warehouse.get(), targets, max_quarantine_share=config.max_quarantine_share
    )
    return validated_result(context, reports, "Understat's data", "understat_matches", _check_results)


UNDERSTAT_ASSETS = [raw_understat_matches, validated_understat_matches]
