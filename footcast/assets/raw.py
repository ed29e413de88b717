"""Raw layer: source files of one league-season, parsed to canonical rows with lineage."""

import dagster as dg

from footcast.adapters.http.client import FetchError
from footcast.adapters.warehouse import fixtures as fixtures_table
from footcast.adapters.warehouse import matches as matches_table
from footcast.adapters.warehouse import raw_matches as raw_table
from footcast.assets import partitions
from footcast.assets.resources import FootballDataResource, WarehouseResource
from footcast.data import catalogue
from footcast.data.football_data import SourceFormatError
from footcast.services import raw_partitions
from footcast.services.sources.base import NoSuchSeasonError
from footcast.services.sources.fixtures import upcoming_only

SEASON_LEAGUE = partitions.season_league_partitions()
# A backfill runs ranges of league-seasons per run: Dagster's run overhead is paid per run, and
# the validated layer checks all of a run's partitions in one suite run.
LEAGUE_SEASON_BACKFILL = dg.BackfillPolicy.multi_run(max_partitions_per_run=partitions.MAX_PARTITIONS_PER_RUN)


class RawConfig(dg.Config):
    # Re-download even a completed season that the archive already holds.
    force: bool = False
    # A season file never loses matches: a new version with fewer matches than the partition
    # holds (a truncated or header-only file) fails that partition and is neither stored nor
    # archived. Set this to accept a smaller file deliberately (e.g. the source expunged a
    # club's results); the smaller version then replaces the partition and is archived.
    allow_fewer_rows: bool = False


# Failures of one league-season's source; anything else (warehouse down, a bug) stops the run.
SOURCE_ERRORS = (FetchError, SourceFormatError, NoSuchSeasonError)


@dg.asset(
    partitions_def=SEASON_LEAGUE,
    backfill_policy=LEAGUE_SEASON_BACKFILL,
    group_name="raw",
    kinds={"python", "sql"},
    # Every scraping step takes a slot of the source host's pool, so backfills stay polite
    # whatever the run concurrency (the HTTP client also rate-limits per host).
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
    store = warehouse.get()
    sources = football_data_source.sources()
    metadata: dict[str, dict] = {}
    failures: dict[str, str] = {}
    for key in context.partition_keys:
        league_code, season = catalogue.parse_partition_key(key)
        try:
            fetched = sources.fetch_results(
                league_code,
                season,
                force=config.force,
                # (distinct: a partition stored before duplicates were refused may hold some)
                stored_matches=store.count(
                    raw_table, {"league": league_code, "season": season}, distinct="match_id"
                ),
                allow_fewer_rows=config.allow_fewer_rows,
            )
        except SOURCE_ERRORS as exc:  # the other partitions of the run still load
            failures[key] = str(exc)
            context.log.error(f"{key}: {exc}")
            continue
        # Kept rows to raw_matches, the rows the source could not keep to quarantine (with their text).
        rows = raw_partitions.store_fetched(store, league_code, season, fetched)
        metadata[key] = {"rows": rows, **fetched.metadata()}  # on the partition's materialization
    return partitions_result(context, metadata, failures)


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
    fetched = football_data_source.sources().fetch_fixtures(leagues)
    upcoming = upcoming_only(fetched.frame, played)
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


def partitions_result(
    context: dg.AssetExecutionContext, metadata: dict[str, dict], failures: dict[str, str]
) -> dg.MaterializeResult:
    """The result of a raw step over a range of partitions: each loaded partition's metadata
    (``metadata``: key -> its metadata, with ``rows``); with ``failures`` (key -> error) the run
    fails naming them (``failed_partitions``, which ``footcast backfill`` reads), and the
    partitions that loaded are still materialized."""
    if failures:
        # The run fails, but the partitions that loaded are materialized: their events say so.
        for key, meta in metadata.items():
            context.log_event(dg.AssetMaterialization(context.asset_key, partition=key, metadata=meta))
        first_key, first_error = next(iter(failures.items()))
        raise dg.Failure(
            description=f"{len(failures)} of {len(context.partition_keys)} partitions failed; "
            f"{first_key}: {first_error}",
            metadata={"failed_partitions": dg.MetadataValue.json(failures)},
        )
    for key, meta in metadata.items():
        context.add_asset_metadata(meta, partition_key=key)
    return dg.MaterializeResult(
        metadata={"partitions": len(metadata), "rows_total": sum(m["rows"] for m in metadata.values())}
    )
