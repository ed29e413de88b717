"""Raw layer: source files of one league-season, parsed to canonical rows with lineage."""

import dagster as dg

from footcast.pipelines import partitions, sources
from footcast.pipelines.resources import FootballDataResource, WarehouseResource
from footcast.pipelines.warehouse import fixtures as fixtures_table
from footcast.pipelines.warehouse import matches as matches_table
from footcast.pipelines.warehouse import raw_matches as raw_table

SEASON_LEAGUE = partitions.season_league_partitions()


class RawConfig(dg.Config):
    # Re-download even a completed season that the archive already holds.
    force: bool = False


@dg.asset(
    partitions_def=SEASON_LEAGUE,
    group_name="raw",
    kinds={"python", "sql"},
    # Every scraped partition takes a slot of the source host's pool, so backfills stay
    # polite whatever the run concurrency (the HTTP client also rate-limits per host).
    pool="football_data_host",
    description="Scraped/simulated results of one league-season in the canonical schema, with lineage "
    "(source URL, content hash, fetched at). Re-materializing replaces exactly this partition.",
)
def raw_matches(
    context: dg.AssetExecutionContext,
    config: RawConfig,
    warehouse: WarehouseResource,
    football_data_source: FootballDataResource,
) -> dg.MaterializeResult:
    league_code, season = partitions.parse_partition_key(context.partition_key)
    fetched = sources.fetch_results(league_code, season, football_data_source, force=config.force)
    rows = warehouse.get().replace_partition(
        raw_table, {"league": league_code, "season": season}, fetched.frame
    )
    context.log.info(f"{league_code} {season}: {rows} rows from {fetched.origin} ({fetched.url})")
    return dg.MaterializeResult(metadata={"rows": rows, **fetched.metadata()})


@dg.asset(
    group_name="raw",
    kinds={"python", "sql"},
    deps=["validated_matches"],
    pool="football_data_host",
    description="Upcoming fixtures (with the odds published so far) of every league that has validated "
    "matches; a fixture that has a result in `matches` is no longer upcoming.",
)
def raw_fixtures(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    football_data_source: FootballDataResource,
) -> dg.MaterializeResult:
    store = warehouse.get()
    played = store.read(
        matches_table, columns=["match_id", "league", "season", "home_team", "away_team", "kickoff"]
    )
    leagues = sorted(played["league"].unique())
    fetched = sources.fetch_fixtures(leagues, football_data_source)
    upcoming = sources.upcoming_only(fetched.frame, played)
    with store.engine.begin() as conn:
        rows = store.replace_partition(fixtures_table, {}, upcoming, conn)
    context.log.info(f"{rows} upcoming fixtures for {', '.join(leagues) or 'no leagues'}")
    return dg.MaterializeResult(
        metadata={
            "rows": rows,
            "leagues": ", ".join(leagues),
            "already_played_dropped": int(len(fetched.frame) - len(upcoming)),
            **fetched.metadata(),
        }
    )
