"""Freshness of the validated layer: the current season's partitions the daily ingest refreshes.

(The published predictions' freshness check, ``predictions_fresh``, is defined with them.)

No ``from __future__ import annotations`` here: Dagster reads the check's annotations.
"""

from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg

from footcast import config as footcast_config
from footcast.assets.resources import WarehouseResource
from footcast.data import catalogue, schema
from footcast.services.leagues import scheduled_leagues

VALIDATED_FRESH = dg.AssetCheckKey(dg.AssetKey("validated_matches"), "validated_current_season_fresh")


class ValidatedFreshnessConfig(dg.Config):
    # A daily refresh plus slack for a late or retried run.
    max_age_hours: float = 36.0


def validated_current_season_fresh_check(
    last_ingest_tick: Callable[[datetime], datetime],
) -> dg.AssetChecksDefinition:
    """The check, given when the `current_season_ingest` schedule was last due at or before a time."""

    @dg.asset_check(
        asset="validated_matches",
        description="The partition of every scheduled league that the daily `current_season_ingest` "
        "schedule last refreshed was validated since that tick, or within max_age_hours. Leagues "
        "between seasons at that tick (the main-layout leagues in June and July) are not checked: "
        "no warnings for a season not yet begun.",
    )
    def validated_current_season_fresh(
        context: dg.AssetCheckExecutionContext, config: ValidatedFreshnessConfig, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        tick = last_ingest_tick(footcast_config.now())
        return _freshness(context.instance, tick, scheduled_leagues(warehouse.get()), config.max_age_hours)

    return validated_current_season_fresh


def _freshness(
    instance: dg.DagsterInstance, tick: datetime, leagues: list[str], max_age_hours: float
) -> dg.AssetCheckResult:
    season = schema.season_of(tick)
    now = datetime.now(UTC).timestamp()  # materialization times are wall-clock times
    ages: dict[str, float | None] = {}
    stale = []
    between_seasons = [league for league in leagues if catalogue.off_season(league, tick)]
    for league in leagues:
        if league in between_seasons:
            continue
        key = str(catalogue.partition_key(league, catalogue.season_of(league, tick)))
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("validated_matches"), asset_partitions=[key]), limit=1
        ).records
        ages[key] = round((now - records[0].timestamp) / 3600, 2) if records else None
        if not records or (ages[key] > max_age_hours and records[0].timestamp < tick.timestamp()):
            stale.append(key)
    return dg.AssetCheckResult(
        passed=bool(leagues) and not stale,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "season": season,
            "last_scheduled_ingest": tick.isoformat(),
            "max_age_hours": max_age_hours,
            "stale_partitions": ", ".join(stale) if leagues else "no scheduled leagues",
            "between_seasons": ", ".join(between_seasons),
            "age_hours": dg.MetadataValue.json(ages),
        },
    )
