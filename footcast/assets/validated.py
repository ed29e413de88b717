"""Validated layer: the Great Expectations suite routes each raw row to `matches` or `quarantine`."""

from collections.abc import Callable

import dagster as dg

from footcast.assets import checks
from footcast.assets.raw import LEAGUE_SEASON_BACKFILL, SEASON_LEAGUE, raw_matches
from footcast.assets.resources import WarehouseResource
from footcast.data import catalogue
from footcast.services import validation


class ValidationConfig(dg.Config):
    max_quarantine_share: float = 0.05


@dg.asset(
    partitions_def=SEASON_LEAGUE,
    backfill_policy=LEAGUE_SEASON_BACKFILL,
    group_name="validated",
    kinds={"python", "sql"},
    deps=[raw_matches],
    check_specs=checks.match_check_specs("validated_matches"),
    description="Rows of `raw_matches` that pass every expectation of the match suite; failing rows go to "
    "`quarantine` with the failed expectations. raw rows = matches + quarantine, per partition. The "
    "`findings` check reports the cells and rows the raw step could not read.",
)
def validated_matches(
    context: dg.AssetExecutionContext, config: ValidationConfig, warehouse: WarehouseResource
):
    targets = [catalogue.parse_partition_key(key) for key in context.partition_keys]
    # One suite run for every partition of the run (Great Expectations' cost is per run).
    reports = validation.validate_and_store_many(
        warehouse.get(), targets, max_quarantine_share=config.max_quarantine_share
    )
    return validated_result(context, reports, "the source", "matches", checks.check_results)


def validated_result(
    context: dg.AssetExecutionContext,
    reports: list,
    unread: str,
    table: str,
    check_results: Callable[[dict], list[dg.AssetCheckResult]],
) -> dg.MaterializeResult:
    """The result of a validated step over a range of partitions (one report per partition, in
    the run's order): per-partition metadata and logs, the suite's check results
    (``check_results`` of partition -> outcome) and the findings check. ``unread`` names what the
    raw step could not read in full; ``table``, the table a blocked partition keeps as it was."""
    outcomes = {}
    found = {}
    for key, report in zip(context.partition_keys, reports, strict=True):
        outcomes[key] = report.outcome
        found[key] = report.findings
        if report.findings:
            context.log.warning(f"{key}: {unread} could not be read in full: {report.findings.summary()}")
        context.add_asset_metadata(report.metadata(), partition_key=key)
        if report.blocked:
            context.log.error(
                f"{key}: blocking checks failed ({', '.join(report.blocking_names)}); "
                f"`{table}` keeps its previous version of this partition"
            )
    return dg.MaterializeResult(
        metadata={
            "partitions": len(reports),
            "rows_total": sum(len(r.outcome.valid) for r in reports),
            "quarantined_total": sum(len(r.outcome.quarantined) for r in reports),
        },
        check_results=[*check_results(outcomes), checks.findings_result(found)],
    )
