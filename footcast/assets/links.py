"""Understat's matches linked to football-data's through the team registry, per league-season
(the Understat partitions), with the check that a league-season is linked in full."""

import dagster as dg

from footcast.assets import checks
from footcast.assets.resources import WarehouseResource
from footcast.assets.understat import UNDERSTAT_BACKFILL, UNDERSTAT_PARTITIONS, validated_understat_matches
from footcast.data import catalogue, linking
from footcast.services import linking as linking_service

LINKS_COMPLETE = "links_complete"
# Unlinked matches named per partition in the check's description (all are in the metadata).
NAMED_PER_PARTITION = 5


def _partition_metadata(result: linking.LinkResult) -> dict:
    summary, proposals = result.summary, result.proposals
    accepted = sorted(set(proposals.loc[proposals["status"].isin(linking.USED_STATUSES), "name"]))
    unresolved = sorted(set(proposals["name"]) - set(accepted))
    return {
        "played": summary.played,
        "linked": summary.linked,
        "unlinked": len(summary.unlinked),
        "unlinked_share": round(summary.unlinked_share, 4),
        "names_accepted_from_fixtures": ", ".join(accepted),
        "names_unresolved": ", ".join(unresolved),
        "unlinked_matches": dg.MetadataValue.json(summary.unlinked),
    }


def _naming(summary: linking.LinkSummary) -> str:
    """``E0|2019-20: 3 of 380 unlinked (0.8%): 2019-08-10 A v B 1-0: reason; ...``"""
    named = [
        f"{u['kickoff'][:10]} {u['home_team']} v {u['away_team']} {u['score']}: {u['reason']}"
        for u in summary.unlinked[:NAMED_PER_PARTITION]
    ]
    more = len(summary.unlinked) - len(named)
    return (
        f"{catalogue.partition_key(summary.league, summary.season)}: {len(summary.unlinked)} of "
        f"{summary.played} unlinked ({summary.unlinked_share:.1%}): "
        + "; ".join(named)
        + (f"; and {more} more" if more > 0 else "")
    )


def links_check_result(summaries: list[linking.LinkSummary]) -> dg.AssetCheckResult:
    """Fails when a league-season of the run leaves more than MAX_UNLINKED_SHARE of its played
    Understat matches unlinked, naming those league-seasons and their unlinked matches."""
    failing = [s for s in summaries if not s.complete]
    with_gaps = [s for s in summaries if s.unlinked]
    description = (
        f"{len(failing)} of {len(summaries)} league-seasons leave more than "
        f"{linking.MAX_UNLINKED_SHARE:.1%} of their played Understat matches unlinked: "
        + " | ".join(_naming(s) for s in failing)
        if failing
        else f"every league-season of {len(summaries)} links at least "
        f"{1 - linking.MAX_UNLINKED_SHARE:.1%} of its played Understat matches"
        + (f" (listed, not linked: {' | '.join(_naming(s) for s in with_gaps)})" if with_gaps else "")
    )
    return dg.AssetCheckResult(
        check_name=LINKS_COMPLETE,
        passed=not failing,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description[:2000],
        metadata={
            "failed_partitions": dg.MetadataValue.json(
                [catalogue.partition_key(s.league, s.season) for s in failing]
            ),
            "unlinked": dg.MetadataValue.json(
                {
                    catalogue.partition_key(s.league, s.season): s.unlinked
                    for s in with_gaps[: checks.MAX_SAMPLED_PARTITIONS]
                }
            ),
            "played": sum(s.played for s in summaries),
            "linked": sum(s.linked for s in summaries),
        },
    )


@dg.asset(
    partitions_def=UNDERSTAT_PARTITIONS,
    backfill_policy=UNDERSTAT_BACKFILL,
    group_name="validated",
    kinds={"python", "sql"},
    deps=[
        validated_understat_matches,
        # the football-data partition of the same key (the Understat keys are a subset)
        dg.AssetDep("validated_matches", partition_mapping=dg.IdentityPartitionMapping()),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            name=LINKS_COMPLETE,
            asset="understat_links",
            description=f"[error] at most {linking.MAX_UNLINKED_SHARE:.1%} of a league-season's played "
            "Understat matches unlinked; the unlinked ones (awarded, abandoned, rescheduled, unresolved "
            "names) are named with their reasons",
        )
    ],
    description="Each Understat match of `understat_matches` linked to at most one football-data match "
    "of `matches` (same league-season, kickoff within a day, same teams through the team registry, same "
    "score when both are played), in `understat_links` with the reason when it has none. Team names the "
    "registry cannot place are proposed from the fixtures (`team_proposals`) and, when unambiguous, "
    "accepted into `team_aliases`.",
)
def understat_links(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    targets = [catalogue.parse_partition_key(key) for key in context.partition_keys]
    results = linking_service.link_partitions(warehouse.get(), targets)
    for key, result in zip(context.partition_keys, results, strict=True):
        context.add_asset_metadata(_partition_metadata(result), partition_key=key)
        if not result.summary.complete:
            context.log.error(_naming(result.summary))
    summaries = [result.summary for result in results]
    return dg.MaterializeResult(
        metadata={
            "partitions": len(results),
            "played": sum(s.played for s in summaries),
            "linked": sum(s.linked for s in summaries),
        },
        check_results=[links_check_result(summaries)],
    )


LINK_ASSETS = [understat_links]
