"""`footcast backfill`: the raw and validated layers for league-seasons, run here range by range
(one Dagster run per range of consecutive partitions, in worker processes if asked) or handed
to the Dagster daemon (`--submit`)."""

from __future__ import annotations

import argparse
import os
import sys
import time

from footcast.cli.environment import prepare_environment
from footcast.cli.errors import EXIT_OK, CommandError, UsageError
from footcast.cli.runs import dagster_instance, failure_message, partition_metadata, run_job

BACKFILL_ASSETS = ("raw_matches", "validated_matches")


def cmd_backfill(args: argparse.Namespace) -> int:
    prepare_environment()
    targets, skipped = backfill_targets(args.leagues, args.seasons)
    if skipped:
        print(f"footcast backfill: skipping {skipped}")
    if not targets:
        raise UsageError(f"none of the leagues has a season in {args.seasons[0]}-{args.seasons[-1]}")
    if args.submit:
        return _submit_backfill(args, targets)
    workers = max(1, min(args.workers, len(targets)))
    print(
        f"footcast backfill: raw + validated for {len(targets)} league-season partitions"
        + (f", {workers} worker processes" if workers > 1 else "")
        + (" (forced re-download)" if args.force else "")
    )
    started = time.perf_counter()
    tally = {"fetched": 0, "unchanged": 0, "failed": 0}
    rows = quarantined = requests = 0
    failures: list[str] = []
    unread: list[str] = []  # what the raw step could not read, per partition
    raw_config = {"force": args.force, "allow_fewer_rows": args.allow_fewer_rows}
    for number, outcome in enumerate(ingest_all(targets, raw_config, workers), start=1):
        label = outcome["label"]
        if outcome["error"]:
            tally["failed"] += 1
            failures.append(outcome["error"])
            print(f"  [{number}/{len(targets)}] {label}: FAILED {outcome['error']}", flush=True)
            continue
        raw_meta, valid_meta = outcome["raw"], outcome["validated"]
        origin = raw_meta.get("origin", "")
        tally["unchanged" if origin in ("archive", "not-modified") else "fetched"] += 1
        rows += int(valid_meta.get("rows", 0))
        quarantined += int(valid_meta.get("quarantined", 0))
        requests += int(raw_meta.get("requests_made", 0))
        unread += (
            [f"  {label}: {valid_meta['findings_summary']}"] if valid_meta.get("findings_summary") else []
        )
        print(
            f"  [{number}/{len(targets)}] {label}: {raw_meta.get('rows', 0)} rows from {origin}, "
            f"{valid_meta.get('quarantined', 0)} quarantined{_unread_counts(valid_meta)}  "
            f"({outcome['seconds']:.1f}s)",
            flush=True,
        )
    seconds = time.perf_counter() - started
    print(
        f"\n{len(targets)} partitions: {tally['fetched']} fetched, {tally['unchanged']} unchanged, "
        f"{tally['failed']} failed; {rows} rows validated, {quarantined} quarantined; "
        f"{requests} HTTP requests; {seconds:.1f}s"
    )
    if unread:
        print("findings (cells null in their column; rejected rows quarantined with their text):")
        print("\n".join(unread))
    if failures:
        raise CommandError(f"{len(failures)} partition(s) failed; first: {failures[0]}")
    return EXIT_OK


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


def _submit_backfill(args: argparse.Namespace, targets: list[tuple[str, int]]) -> int:
    """Hand the backfill to the Dagster daemon: an asset backfill, as the UI launches one,
    which runs the partitions range by range (the assets' backfill policy)."""
    import dagster as dg

    from footcast.assets import partitions
    from footcast.data import catalogue
    from footcast.pipelines import jobs
    from footcast.pipelines.dagster_private import PartitionBackfill, make_new_backfill_id
    from footcast.pipelines.definitions import defs

    keys = [catalogue.partition_key(league, season) for league, season in targets]
    leagues = ",".join(dict.fromkeys(league for league, _season in targets))
    seasons = sorted({season for _league, season in targets})
    title = f"footcast backfill {leagues} {seasons[0]}-{seasons[-1]}"
    with dagster_instance() as instance:
        backfill = PartitionBackfill.from_asset_partitions(
            backfill_id=make_new_backfill_id(),
            asset_graph=defs.resolve_asset_graph(),
            partition_names=keys,
            asset_selection=[dg.AssetKey(asset) for asset in BACKFILL_ASSETS],
            backfill_timestamp=time.time(),
            tags={"footcast/command": "backfill --submit"},
            dynamic_partitions_store=instance,
            all_partitions=False,
            title=title,
            description=f"raw + validated for {len(keys)} league-season partitions"
            + (" (forced re-download)" if args.force else ""),
            run_config={
                # the executor the automation's runs use (FOOTCAST_RUN_EXECUTION), and --force
                **jobs.execution_config(),
                **(
                    {
                        "ops": {
                            "raw_matches": {
                                "config": {"force": True, "allow_fewer_rows": args.allow_fewer_rows}
                            }
                        }
                    }
                    if args.force or args.allow_fewer_rows
                    else {}
                ),
            }
            or None,
        )
        instance.add_backfill(backfill)
        daemon_running = _backfill_daemon_alive(instance)
    ranges = partitions.key_ranges(keys)
    print(
        f"submitted backfill {backfill.backfill_id}: {title}, {len(keys)} partitions of "
        f"{' + '.join(BACKFILL_ASSETS)} in {len(ranges)} partition range(s)\n"
        f"  the Dagster daemon runs it; the UI tracks it under Runs > Backfills "
        f"(/runs/b/{backfill.backfill_id})"
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


def _ingest_range(keys: list[str], raw_config: dict) -> list[dict]:
    """Run raw + validated for consecutive league-season partitions as one Dagster run.

    Per-partition outcomes (plain dicts, so they cross process boundaries). When the run
    fails, the partitions whose source failed get their error and the others run again
    without them; a failure no partition is named for is isolated by running one by one.
    """
    from footcast.assets import partitions
    from footcast.pipelines.dagster_private import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    label = keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}"
    count = f"{len(keys)} partitions" if len(keys) > 1 else "1 partition"
    print(f"  running {label} ({count}, one Dagster run)", flush=True)
    # One partition runs as a partitioned run; a range, as a run tagged with the range's bounds.
    single = len(keys) == 1
    result, seconds = run_job(
        "ingest",
        f"ingest {label}",
        partition_key=keys[0] if single else None,
        run_config={"ops": {"raw_matches": {"config": raw_config}}},
        tags=None
        if single
        else {ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1]},
        raise_on_failure=False,
    )
    if result.success:
        raw = partition_metadata(result, "raw_matches")
        validated = partition_metadata(result, "validated_matches")
        return [
            {
                "label": key,
                "error": "",
                "seconds": seconds / len(keys),
                "raw": raw.get(key, {}),
                "validated": validated.get(key, {}),
            }
            for key in keys
        ]
    if len(keys) == 1:
        return [{"label": keys[0], "error": f"ingest {keys[0]}: {failure_message(result)}"}]
    source_failures = _failed_partitions(result)
    outcomes = [{"label": key, "error": f"ingest {key}: {source_failures[key]}"} for key in source_failures]
    rest = [key for key in keys if key not in source_failures]
    if source_failures:
        for span in partitions.key_ranges(rest):
            outcomes += _ingest_range(span, raw_config)
    else:
        for key in rest:
            outcomes += _ingest_range([key], raw_config)
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


def ingest_all(targets: list[tuple[str, int]], raw_config: dict, workers: int):
    """Outcomes of every partition, range by range (ranges of consecutive partitions, each one
    Dagster run, in several worker processes if asked), in completion order."""
    from footcast.assets import partitions
    from footcast.data import catalogue

    keys = [catalogue.partition_key(league, season) for league, season in targets]
    # Bounded runs: as many partitions as the assets' backfill policy puts in one run.
    size = partitions.MAX_PARTITIONS_PER_RUN
    ranges = [span[i : i + size] for span in partitions.key_ranges(keys) for i in range(0, len(span), size)]
    workers = max(1, min(workers, len(ranges)))
    if workers == 1:
        for span in ranges:
            yield from _ingest_range(span, raw_config)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from footcast.adapters.http.politeness import default_rate_per_host

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_worker_init,
        initargs=(default_rate_per_host() / workers, context.Lock()),
    ) as pool:
        futures = [pool.submit(_ingest_range, span, raw_config) for span in ranges]
        for future in as_completed(futures):
            yield from future.result()
