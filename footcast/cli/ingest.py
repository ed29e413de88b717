"""`footcast backfill`: the raw and validated layers for league-seasons, from every source a
league has (football-data.co.uk's results; Understat's xG and their links to the results for the
leagues with an xG feed, ``catalogue.XG_SOURCES``) unless ``--sources`` narrows them; run here
source by source, range by range (one Dagster run per range of consecutive partitions, in worker
processes if asked) or handed to the Dagster daemon (`--submit`)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass

from footcast.cli.environment import prepare_environment
from footcast.cli.errors import EXIT_OK, CommandError, UsageError
from footcast.cli.runs import (
    dagster_instance,
    failure_message,
    partition_metadata,
    range_label,
    run_partitions,
)

BACKFILL_ASSETS = ("raw_matches", "validated_matches")


@dataclass(frozen=True)
class Feed:
    """One source as the backfill loads it: its job, the assets whose metadata it reports, and
    the partitions its ranges are consecutive in (a function of footcast.assets.partitions)."""

    source: str  # the name `--sources` takes
    job: str
    raw: str
    validated: str
    links: str  # the links asset the job also runs ("": none)
    what: str  # what its runs load, as the progress lines say
    partitions: str
    noun: str = ""  # before "partitions" in the summary line

    @property
    def assets(self) -> tuple[str, ...]:
        return tuple(asset for asset in (self.raw, self.validated, self.links) if asset)

    def key_ranges(self, keys: list[str]) -> list[list[str]]:
        from footcast.assets import partitions

        return partitions.key_ranges(keys, getattr(partitions, self.partitions)())


FOOTBALL_DATA_FEED = Feed(
    "football-data", "ingest", *BACKFILL_ASSETS, "", "raw + validated", "season_league_partitions"
)
UNDERSTAT_FEED = Feed(
    "understat",
    "ingest_understat",
    "raw_understat_matches",
    "validated_understat_matches",
    "understat_links",
    "Understat xG raw + validated + links",
    "understat_partitions",
    "Understat ",
)
FEEDS = {feed.source: feed for feed in (FOOTBALL_DATA_FEED, UNDERSTAT_FEED)}
SOURCES = tuple(FEEDS)


def cmd_backfill(args: argparse.Namespace) -> int:
    prepare_environment()
    plans = backfill_plans(args.leagues, args.seasons, args.sources)
    if args.submit:
        return _submit_backfill(args, plans)
    failures: list[str] = []
    # One pool of worker processes for every source (a worker takes seconds to start), sized for
    # the source with the most partition ranges; none when no source has two ranges.
    workers = max(min(args.workers, len(ranges_of(targets, feed))) for feed, targets in plans)
    with worker_pool(workers) as pool:
        for number, (feed, targets) in enumerate(plans):
            if number:
                print()
            failures += _backfill_feed(args, feed, targets, pool)
    if failures:
        raise CommandError(f"{len(failures)} partition(s) failed; first: {failures[0]}")
    return EXIT_OK


def backfill_plans(
    leagues: list[str], seasons: list[int], sources: list[str] | None
) -> list[tuple[Feed, list[tuple[str, int]]]]:
    """(feed, its (league, season) targets) of each source asked for (every source when
    ``sources`` is None) that has a target, printing what each skips; UsageError when none has."""
    plans = []
    for source in sources or SOURCES:
        feed = FEEDS[source]
        if feed is FOOTBALL_DATA_FEED:
            targets, skipped = backfill_targets(leagues, seasons)
        else:
            targets, skipped = xg_targets(leagues, seasons, named=sources is not None)
        if skipped:
            print(f"footcast backfill: skipping {skipped}")
        if feed is FOOTBALL_DATA_FEED and not targets:
            raise UsageError(f"none of the leagues has a season in {seasons[0]}-{seasons[-1]}")
        if targets:
            plans.append((feed, targets))
    if not plans:
        raise UsageError(f"none of the leagues has xG in {seasons[0]}-{seasons[-1]}: {_xg_coverage()}")
    return plans


def _backfill_feed(
    args: argparse.Namespace, feed: Feed, targets: list[tuple[str, int]], pool: Executor | None
) -> list[str]:
    """Load one source's targets (in ``pool``'s workers if any), printing progress and a summary;
    the failures, one line each."""
    workers = max(1, min(args.workers, len(targets)))
    print(
        f"footcast backfill: {feed.what} for {len(targets)} league-season partitions"
        + (f", {workers} worker processes" if workers > 1 else "")
        + (" (forced re-download)" if args.force else "")
    )
    started = time.perf_counter()
    tally = {"fetched": 0, "unchanged": 0, "failed": 0}
    totals = {"rows": 0, "quarantined": 0, "requests": 0, "played": 0, "linked": 0}
    failures: list[str] = []
    unread: list[str] = []  # what the raw step could not read, per partition
    raw_config = {"force": args.force, "allow_fewer_rows": args.allow_fewer_rows}
    for number, outcome in enumerate(ingest_all(targets, raw_config, workers, feed, pool), start=1):
        label = outcome["label"]
        if outcome["error"]:
            tally["failed"] += 1
            failures.append(outcome["error"])
            print(f"  [{number}/{len(targets)}] {label}: FAILED {outcome['error']}", flush=True)
            continue
        raw_meta, valid_meta, links = outcome["raw"], outcome["validated"], outcome.get("links")
        origin = raw_meta.get("origin", "")
        tally["unchanged" if origin in ("archive", "not-modified") else "fetched"] += 1
        totals["rows"] += int(valid_meta.get("rows", 0))
        totals["quarantined"] += int(valid_meta.get("quarantined", 0))
        totals["requests"] += int(raw_meta.get("requests_made", 0))
        totals["played"] += int((links or {}).get("played", 0))
        totals["linked"] += int((links or {}).get("linked", 0))
        unread += (
            [f"  {label}: {valid_meta['findings_summary']}"] if valid_meta.get("findings_summary") else []
        )
        print(
            f"  [{number}/{len(targets)}] {label}: {raw_meta.get('rows', 0)} rows from {origin}, "
            f"{valid_meta.get('quarantined', 0)} quarantined{_unread_counts(valid_meta)}{_linked(links)}  "
            f"({outcome['seconds']:.1f}s)",
            flush=True,
        )
    seconds = time.perf_counter() - started
    print(
        f"\n{len(targets)} {feed.noun}partitions: {tally['fetched']} fetched, "
        f"{tally['unchanged']} unchanged, {tally['failed']} failed; {totals['rows']} rows validated, "
        f"{totals['quarantined']} quarantined; "
        + (f"{totals['linked']} of {totals['played']} played matches linked; " if feed.links else "")
        + f"{totals['requests']} HTTP requests; {seconds:.1f}s"
    )
    if unread:
        print("findings (cells null in their column; rejected rows quarantined with their text):")
        print("\n".join(unread))
    return failures


def _linked(links: dict | None) -> str:
    """``, 379 of 380 played linked`` from a partition's links metadata ("" without links)."""
    if links is None:
        return ""
    return f", {links.get('linked', 0)} of {links.get('played', 0)} played linked"


def _unread_counts(valid_meta: dict) -> str:
    cells, rows = int(valid_meta.get("findings", 0)), int(valid_meta.get("rejected", 0))
    return f", {cells} findings, {rows} rejected" if cells or rows else ""


def backfill_targets(leagues: list[str], seasons: list[int]) -> tuple[list[tuple[str, int]], str]:
    """(league, season) of every requested season each league has (the catalogue's first season
    to the last season), and a note naming the seasons skipped ("" when none)."""
    from footcast.data import catalogue

    targets: list[tuple[str, int]] = []
    notes: list[str] = []
    for league in leagues:
        has = set(catalogue.seasons(league))
        missing = [season for season in seasons if season not in has]
        targets += [(league, season) for season in seasons if season in has]
        if missing:
            key = catalogue.league(league).season_key
            notes.append(
                f"{league} {key(missing[0])}..{key(missing[-1])} ({len(missing)} not published: "
                f"{league} has {key(min(has))}..{key(max(has))})"
            )
    return targets, "; ".join(notes)


def xg_targets(leagues: list[str], seasons: list[int], *, named: bool) -> tuple[list[tuple[str, int]], str]:
    """(league, season) of every requested season of the leagues with an xG feed (from 2014/15),
    and a note naming what is skipped: the seasons before the feed's first, and (when the source
    was ``named`` by --sources) the leagues without a feed."""
    from footcast.data import catalogue

    targets: list[tuple[str, int]] = []
    notes: list[str] = []
    uncovered = [league for league in leagues if league not in catalogue.XG_SOURCES]
    if uncovered and named:
        notes.append(f"Understat xG of {', '.join(uncovered)} (no xG feed: {_xg_coverage()})")
    for league in (league for league in leagues if league in catalogue.XG_SOURCES):
        has = set(catalogue.understat_seasons(league))
        missing = [season for season in seasons if season not in has and season < min(has)]
        targets += [(league, season) for season in seasons if season in has]
        if missing:
            key = catalogue.league(league).season_key
            notes.append(
                f"Understat xG of {league} {key(missing[0])}..{key(missing[-1])} ({len(missing)} before "
                f"its first season: Understat has {league} from {key(min(has))})"
            )
    return targets, "; ".join(notes)


def _xg_coverage() -> str:
    from footcast.data import catalogue

    return (
        f"the leagues with one are {', '.join(catalogue.XG_SOURCES)}, from {catalogue.UNDERSTAT_FIRST_SEASON}"
    )


def _submit_backfill(args: argparse.Namespace, plans: list[tuple[Feed, list[tuple[str, int]]]]) -> int:
    """Hand the backfill to the Dagster daemon: one asset backfill of every source's assets, as the
    UI launches one, which runs the partitions range by range (the assets' backfill policies) and
    in dependency order: a league-season's xG links run once its results are validated."""
    import dagster as dg

    from footcast.data import catalogue
    from footcast.pipelines import jobs
    from footcast.pipelines.dagster_private import AssetGraphSubset, PartitionBackfill, make_new_backfill_id
    from footcast.pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    subsets, lines = {}, []
    for feed, targets in plans:
        keys = [catalogue.partition_key(league, season) for league, season in targets]
        for asset in feed.assets:
            key = dg.AssetKey(asset)
            subsets[key] = graph.get(key).partitions_def.subset_with_partition_keys(keys)
        lines.append(
            f"  {feed.source}: {len(keys)} partitions of {' + '.join(feed.assets)} in "
            f"{len(feed.key_ranges(keys))} partition range(s)"
        )
    targets = [target for _feed, feed_targets in plans for target in feed_targets]
    leagues = ",".join(dict.fromkeys(league for league, _season in targets))
    seasons = sorted({season for _league, season in targets})
    title = f"footcast backfill {leagues} {seasons[0]}-{seasons[-1]}" + (
        f" ({plans[0][0].what})" if len(plans) == 1 and plans[0][0] is not FOOTBALL_DATA_FEED else ""
    )
    # --force and --allow-fewer-rows go to every source's raw step (a run ignores the others').
    raw_config = {"force": args.force, "allow_fewer_rows": args.allow_fewer_rows}
    forced = {"ops": {feed.raw: {"config": raw_config} for feed, _targets in plans}}
    with dagster_instance() as instance:
        backfill = PartitionBackfill.from_asset_graph_subset(
            backfill_id=make_new_backfill_id(),
            backfill_timestamp=time.time(),
            tags={"footcast/command": "backfill --submit"},
            dynamic_partitions_store=instance,
            asset_graph_subset=AssetGraphSubset(partitions_subsets_by_asset_key=subsets),
            title=title,
            description=" and ".join(
                f"{feed.what} for {len(t)} league-season partitions" for feed, t in plans
            )
            + (" (forced re-download)" if args.force else ""),
            run_config={
                # the executor the automation's runs use (FOOTCAST_RUN_EXECUTION), and --force
                **jobs.execution_config(),
                **(forced if args.force or args.allow_fewer_rows else {}),
            }
            or None,
        )
        instance.add_backfill(backfill)
        daemon_running = _backfill_daemon_alive(instance)
    print(
        f"submitted backfill {backfill.backfill_id}: {title}\n"
        + "\n".join(lines)
        + "\n  the Dagster daemon runs it"
        + (", each league-season's xG links after its results" if len(plans) > 1 else "")
        + f"; the UI tracks it under Runs > Backfills (/runs/b/{backfill.backfill_id})"
    )
    if not daemon_running:
        print(
            f"  note: no dagster-daemon is running for DAGSTER_HOME={os.environ['DAGSTER_HOME']}; "
            "start one (dagster-daemon run -w workspace.yaml) to execute it",
            file=sys.stderr,
        )
    return EXIT_OK


def _backfill_daemon_alive(instance) -> bool:
    """Whether a daemon with a backfill loop sent a heartbeat in the last two minutes."""
    heartbeats = instance.get_daemon_heartbeats()
    beat = heartbeats.get("BACKFILL")
    return beat is not None and time.time() - beat.timestamp < 120


def _ingest_range(keys: list[str], raw_config: dict, feed: Feed = FOOTBALL_DATA_FEED) -> list[dict]:
    """Run the feed's job (raw + validated, and links if it has them) for consecutive
    league-season partitions as one Dagster run.

    Per-partition outcomes (plain dicts, so they cross process boundaries). When the run
    fails, the partitions whose source failed get their error and the others run again
    without them; a failure no partition is named for is isolated by running one by one.
    """
    label = range_label(keys)
    count = f"{len(keys)} partitions" if len(keys) > 1 else "1 partition"
    print(f"  running {label} ({count}, one Dagster run)", flush=True)
    result, seconds = run_partitions(
        feed.job, keys, run_config={"ops": {feed.raw: {"config": raw_config}}}, raise_on_failure=False
    )
    if result.success:
        metadata = {asset: partition_metadata(result, asset) for asset in feed.assets}
        return [
            {
                "label": key,
                "what": feed.what,
                "error": "",
                "seconds": seconds / len(keys),
                "raw": metadata[feed.raw].get(key, {}),
                "validated": metadata[feed.validated].get(key, {}),
                **({"links": metadata[feed.links].get(key, {})} if feed.links else {}),
            }
            for key in keys
        ]
    if len(keys) == 1:
        return [
            {"label": keys[0], "what": feed.what, "error": f"{feed.job} {keys[0]}: {failure_message(result)}"}
        ]
    source_failures = _failed_partitions(result)
    outcomes = [
        {"label": key, "what": feed.what, "error": f"{feed.job} {key}: {source_failures[key]}"}
        for key in source_failures
    ]
    rest = [key for key in keys if key not in source_failures]
    if source_failures:
        for span in feed.key_ranges(rest):
            outcomes += _ingest_range(span, raw_config, feed)
    else:
        for key in rest:
            outcomes += _ingest_range([key], raw_config, feed)
    return outcomes


def _failed_partitions(result) -> dict[str, str]:
    """Partition -> error of the partitions a failed raw step names (its Failure metadata)."""
    for event in result.all_events:
        if not event.is_step_failure or event.step_failure_data is None:
            continue
        failure = event.step_failure_data.user_failure_data
        if failure is not None and "failed_partitions" in failure.metadata:
            return dict(failure.metadata["failed_partitions"].value)
    return {}


def _worker_init(rate_per_host: float, setup_lock) -> None:
    # Workers share the host's politeness budget: each gets an equal part of the rate.
    os.environ["FOOTCAST_HTTP_RATE"] = str(rate_per_host)
    # Every worker loads the code location side by side (seconds of imports, which the parent
    # does not need), then creates the instance storage and the warehouse tables one worker at
    # a time: workers racing to create (and migrate) the same SQLite databases corrupt their
    # schema version records.
    from footcast.pipelines.definitions import defs

    with setup_lock:
        with dagster_instance():
            pass
        defs.resources["warehouse"].process_config_and_initialize().get()


def ranges_of(targets: list[tuple[str, int]], feed: Feed = FOOTBALL_DATA_FEED) -> list[list[str]]:
    """The partition keys of the targets as the ranges the backfill runs, one Dagster run each:
    consecutive partitions of the feed, at most as many as the assets' backfill policy puts in
    one run."""
    from footcast.assets import partitions
    from footcast.data import catalogue

    keys = [catalogue.partition_key(league, season) for league, season in targets]
    size = partitions.MAX_PARTITIONS_PER_RUN
    return [span[i : i + size] for span in feed.key_ranges(keys) for i in range(0, len(span), size)]


@contextmanager
def worker_pool(workers: int) -> Iterator[Executor | None]:
    """``workers`` spawned processes that run partition ranges, sharing the per-host request rate
    (None for fewer than two: the ranges run in this process)."""
    if workers < 2:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from footcast.adapters.http.politeness import default_rate_per_host

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_worker_init,
        initargs=(default_rate_per_host() / workers, context.Lock()),
    ) as pool:
        yield pool


def ingest_all(
    targets: list[tuple[str, int]],
    raw_config: dict,
    workers: int,
    feed: Feed = FOOTBALL_DATA_FEED,
    pool: Executor | None = None,
):
    """Outcomes of every partition of one source, range by range (each range one Dagster run,
    in ``pool``'s workers when given, else in up to ``workers`` processes of its own), in
    completion order."""
    ranges = ranges_of(targets, feed)
    if pool is None and min(workers, len(ranges)) > 1:
        with worker_pool(min(workers, len(ranges))) as own:
            yield from _run_ranges(ranges, raw_config, feed, own)
        return
    yield from _run_ranges(ranges, raw_config, feed, pool)


def _run_ranges(ranges: list[list[str]], raw_config: dict, feed: Feed, pool: Executor | None):
    if pool is None:
        for span in ranges:
            yield from _ingest_range(span, raw_config, feed)
        return
    from concurrent.futures import as_completed

    futures = [pool.submit(_ingest_range, span, raw_config, feed) for span in ranges]
    for future in as_completed(futures):
        yield from future.result()


def ingest_every_source(targets: list[tuple[str, int]], raw_config: dict, workers: int):
    """Outcomes of every source's partitions of the targets: the results (football-data's feed),
    then the xG of those with an xG feed and their links to the results. Each outcome's
    ``what`` says which."""
    with_xg, _skipped = xg_targets(
        list(dict.fromkeys(league for league, _season in targets)),
        sorted({season for _league, season in targets}),
        named=False,
    )
    with_xg = [target for target in with_xg if target in set(targets)]
    plans = [(FOOTBALL_DATA_FEED, targets), (UNDERSTAT_FEED, with_xg)]
    size = max(min(workers, len(ranges_of(part, feed))) for feed, part in plans if part)
    with worker_pool(size) as pool:
        for feed, part in plans:
            if part:  # (the xG's links need the results: one source after the other)
                yield from ingest_all(part, raw_config, workers, feed, pool)
