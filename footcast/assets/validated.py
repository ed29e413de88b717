"""Validated layer: the Great Expectations suite routes each raw row to `matches` or `quarantine`."""

import dagster as dg

from footcast.assets.raw import SEASON_LEAGUE, raw_matches
from footcast.pipelines import partitions, validation
from footcast.pipelines.resources import WarehouseResource
from footcast.quality import checks


class ValidationConfig(dg.Config):
    max_quarantine_share: float = 0.05


@dg.asset(
    partitions_def=SEASON_LEAGUE,
    group_name="validated",
    kinds={"python", "sql"},
    deps=[raw_matches],
    check_specs=checks.match_check_specs("validated_matches"),
    description="Rows of `raw_matches` that pass every expectation of the match suite; failing rows go to "
    "`quarantine` with the failed expectations. raw rows = matches + quarantine, per partition.",
)
def validated_matches(
    context: dg.AssetExecutionContext, config: ValidationConfig, warehouse: WarehouseResource
):
    league_code, season = partitions.parse_partition_key(context.partition_key)
    report = validation.validate_and_store(
        warehouse.get(), league_code, season, max_quarantine_share=config.max_quarantine_share
    )
    if report.blocked:
        context.log.error(
            f"{league_code} {season}: blocking checks failed ({', '.join(report.blocking_names)}); "
            "`matches` keeps its previous version of this partition"
        )
    return dg.MaterializeResult(
        metadata=report.metadata(),
        check_results=checks.check_results(report.outcome),
    )
