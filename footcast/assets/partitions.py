"""The league-season partitions of the raw and validated layers (Dagster), from the catalogue."""

from __future__ import annotations

import dagster as dg

from footcast.data.catalogue import LEAGUES, XG_SOURCES, partition_key, seasons, understat_seasons

# Partitions per run of a backfill: a league's whole history (33 seasons) fits in one run.
MAX_PARTITIONS_PER_RUN = 40


def season_league_partitions() -> dg.StaticPartitionsDefinition:
    """One partition per league-season, keyed ``"E0|2023-24"`` (split seasons) or ``"NOR|2024"``
    (calendar years), ordered league by league, each league from its first season (the oldest
    the source has, per the catalogue) to the last season.

    One dimension rather than a season x league grid: a Dagster backfill runs a contiguous
    range of keys in one run (``BackfillPolicy``), and "all of D1 from 2005" is one range here,
    while a MultiPartitionsDefinition falls back to one run per partition unless every key of
    the inner dimension is selected (dagster#18852), which made backfills pay Dagster's run
    overhead per league-season. A grid would also hold seasons a league does not have.
    """
    return dg.StaticPartitionsDefinition([partition_key(code, s) for code in LEAGUES for s in seasons(code)])


def understat_partitions() -> dg.StaticPartitionsDefinition:
    """One partition per league-season Understat publishes (its leagues from 2014/15), and of the
    simulated leagues' xG feed (``catalogue.XG_SOURCES``), keyed like
    :func:`season_league_partitions` (``"E0|2023-24"``, football-data's league codes), so an
    Understat partition and the football-data partition of the same league-season share a key."""
    return dg.StaticPartitionsDefinition(
        [partition_key(code, s) for code in XG_SOURCES for s in understat_seasons(code)]
    )


def key_ranges(
    keys: list[str], partitions_def: dg.StaticPartitionsDefinition | None = None
) -> list[list[str]]:
    """The keys as ranges of consecutive partitions (in the order of ``partitions_def``, by default
    the league-season partitions), each range the list of its keys, for running each range as
    one Dagster run."""
    every = (partitions_def or season_league_partitions()).get_partition_keys()
    order = {key: i for i, key in enumerate(every)}
    unknown = [k for k in keys if k not in order]
    if unknown:
        raise ValueError(f"not league-season partitions: {', '.join(unknown[:5])}")
    ranges: list[list[str]] = []
    for key in sorted(set(keys), key=order.__getitem__):
        if ranges and order[key] == order[ranges[-1][-1]] + 1:
            ranges[-1].append(key)
        else:
            ranges.append([key])
    return ranges
