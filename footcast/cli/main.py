"""The `footcast` command line. Every command that does work runs it through Dagster, in the
same instance (DAGSTER_HOME) the UI reads, so `dagster dev` shows the runs afterwards.

Exit codes: 0 success, 1 the work failed (one line naming what and why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import time
from datetime import timedelta
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
REPO_DAGSTER_YAML = Path(__file__).resolve().parents[2] / "dagster.yaml"


class CommandError(Exception):
    """A failure to report as one line with exit code 1."""


class UsageError(Exception):
    """Bad usage found after parsing: one line, exit code 2."""


def prepare_environment() -> Path:
    """FOOTCAST_HOME and DAGSTER_HOME (under it by default), with the instance config in place."""
    from footcast import config

    home = config.home()
    os.environ["FOOTCAST_HOME"] = str(home)
    dagster_home = config.dagster_home()
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    instance_yaml = dagster_home / "dagster.yaml"
    if not instance_yaml.exists() and REPO_DAGSTER_YAML.exists():
        shutil.copyfile(REPO_DAGSTER_YAML, instance_yaml)
    return home


# Set by `--debug`: runs then log through Dagster's console logger, every event and traceback.
DEBUG_VARIABLE = "FOOTCAST_DEBUG"


def _instance():
    import dagster as dg

    return dg.DagsterInstance.get()


def run_job(job_name: str, label: str, partition_key=None, run_config=None) -> float:
    """Execute a job of the code location in-process, recorded in the instance; returns seconds."""
    return execute_job(job_name, label, partition_key, run_config)[1]


def execute_job(
    job_name: str, label: str, partition_key=None, run_config=None, tags=None, log_level="WARNING"
):
    """(result, seconds) of a job run in-process; CommandError naming ``label`` if it failed."""
    result, seconds = _execute(job_name, label, partition_key, run_config, tags, log_level)
    if not result.success:
        raise CommandError(f"{label}: {_failure_message(result)}")
    return result, seconds


def _execute(job_name: str, label: str, partition_key=None, run_config=None, tags=None, log_level="WARNING"):
    """(result, seconds) of a job run in-process, recorded in the instance, failed or not. The
    terminal shows what the assets log at ``log_level`` and up, short of errors (the command
    reports a failure in one line); the run's full event log is in the instance (UI)."""
    import dagster as dg

    from footcast.pipelines import logs
    from footcast.pipelines.definitions import defs

    started = time.perf_counter()
    job = defs.resolve_job_def(job_name)
    loggers = logs.run_config(log_level, debug=os.environ.get(DEBUG_VARIABLE) == "1")
    instance = _instance()
    reclaim_abandoned_runs(instance)
    try:
        result = job.execute_in_process(
            instance=instance,
            partition_key=partition_key,
            run_config={**loggers, **(run_config or {})},
            tags={**(tags or {}), HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())},
            raise_on_error=False,
        )
    except dg.DagsterError as exc:
        raise CommandError(f"{label}: {exc}") from exc
    return result, time.perf_counter() - started


# Every run a footcast process executes carries where it runs, so that a later command can tell
# a run whose process died (killed, out of memory, power loss) from one still going.
HOST_TAG = "footcast/host"
PID_TAG = "footcast/pid"


def reclaim_abandoned_runs(instance) -> list[str]:
    """Fail the runs of this machine's footcast processes that died mid-run, and free the pool
    slots they held; returns their run ids.

    Such a run stays STARTED and keeps its slot of the `football_data_host` pool, and no daemon
    watches in-process runs: every later run that needs the slot would wait for it forever."""
    import dagster as dg

    host = socket.gethostname()
    abandoned = []
    active = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=active, tags={HOST_TAG: host})):
        pid = int(run.tags.get(PID_TAG) or 0)
        if pid <= 0 or _process_alive(pid):
            continue
        instance.report_run_failed(
            run, f"the footcast process that ran it (pid {pid} on {host}) ended before the run did"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        abandoned.append(run.run_id)
    return abandoned


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # (another user's process)
        return True
    return True


def _failure_message(result) -> str:
    blocked = _blocking_check_message(result)
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            # Dagster wraps what the step raised ("Error occurred while executing op ..."): the
            # cause is what the user needs to read.
            while error.cause is not None and "Error occurred while executing" in error.message:
                error = error.cause
            if error.cls_name == "DagsterAssetCheckFailedError" and blocked:
                return blocked
            message = error.message.strip().splitlines()[0]
            if error.cls_name == "Failure":  # (raised by an asset: its description says it all)
                message = message.partition(": ")[2] or message
            return f"step {event.step_key} failed: {message}"
    return blocked or f"run {result.run_id} did not succeed"


def _blocking_check_message(result) -> str | None:
    """The first failed blocking check of a run, with what failed (its metadata says)."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.blocking:
                asset = evaluation.asset_key.to_user_string()
                metadata = {key: value.value for key, value in evaluation.metadata.items()}
                failed = metadata.get("failed_partitions")
                if isinstance(failed, dict):  # partition -> failed expectations
                    details = ", ".join(
                        f"{key} ({', '.join(map(str, names))})" for key, names in failed.items()
                    )
                else:
                    details = str(metadata.get("failed_expectations") or "")
                return f"blocking check {evaluation.check_name} failed on {asset}" + (
                    f": {details}" if details else ""
                )
    return None


# -- commands --------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from footcast.data import catalogue, simulator

    home = prepare_environment()
    leagues = list(simulator.SIMULATED_LEAGUES)
    last = catalogue.current_season()
    seasons = list(range(last - args.seasons + 1, last + 1))
    print(f"footcast demo: {len(leagues)} simulated leagues x {len(seasons)} seasons in {home}")
    started = time.perf_counter()
    targets = [(league, season) for season in seasons for league in leagues]
    for outcome in _ingest_all(targets, raw_config={}, workers=min(2, os.cpu_count() or 1)):
        if outcome["error"]:
            raise CommandError(outcome["error"])
        print(f"  raw + validated {outcome['label']}  ({outcome['seconds']:.1f}s)", flush=True)
    seconds = run_job("predict", "fixtures -> features -> model -> predictions -> redis")
    print(f"  fixtures -> features -> model -> predictions -> redis  ({seconds:.1f}s)")
    store = _prediction_store()
    meta = store.meta()
    upcoming = store.by_kickoff(_now(), _now() + timedelta(days=365), limit=args.show)
    print(
        f"\npublished version {meta['version']} ({meta['count']} predictions, model {meta['model_version']});"
        f" the next {len(upcoming)} from Redis:"
    )
    _print_predictions(upcoming)
    print(
        f"\ndone in {time.perf_counter() - started:.0f}s. Try: footcast lookup {upcoming[0]['match_id']}"
        if upcoming
        else ""
    )
    print(f"Dagster UI: DAGSTER_HOME={os.environ['DAGSTER_HOME']} dagster dev -w workspace.yaml")
    return EXIT_OK


def _now():
    from footcast import config

    return config.now()


def _prediction_store():
    from footcast import config
    from footcast.adapters import redis_store

    return redis_store.open_store(
        config.redis_url(),
        config.embedded_redis_path(),
        prefix=os.environ.get("FOOTCAST_REDIS_PREFIX", "footcast"),
        max_attempts=2,
    )


def _print_predictions(rows: list[dict]) -> None:
    if not rows:
        print("  (none)")
        return
    print(
        f"  {'match_id':16}  {'league':6} {'kickoff (UTC)':16}  {'home':>22} - {'away':22}  "
        f"{'P(home)':>7} {'P(draw)':>7} {'P(away)':>7}"
    )
    for row in rows:
        print(
            f"  {row['match_id']:16}  {row['league']:6} {row['kickoff'][:16].replace('T', ' '):16}  "
            f"{row['home_team'][:22]:>22} - {row['away_team'][:22]:22}  "
            f"{row['p_home']:7.3f} {row['p_draw']:7.3f} {row['p_away']:7.3f}"
        )


def cmd_lookup(args: argparse.Namespace) -> int:
    import redis as redis_lib

    from footcast.adapters.redis_store import NotPublishedError
    from footcast.data import teams

    prepare_environment()
    store = _prediction_store()
    try:
        if args.match_id:
            row = store.get(args.match_id)
            if row is None:
                raise CommandError(f"no prediction for match id {args.match_id!r} in the published version")
            rows = [row]
        elif args.team:
            known = store.teams()
            team = teams.resolve_team(args.team, known)
            if team is None:
                raise CommandError(f"unknown team {args.team!r}: no published prediction involves it")
            rows = store.by_team(team)
        else:
            rows = store.by_league_date(args.league, args.date)
            if not rows:
                leagues = store.leagues()
                if args.league not in leagues:
                    raise CommandError(
                        f"unknown league {args.league!r}; published leagues: {', '.join(leagues)}"
                    )
    except NotPublishedError as exc:
        raise CommandError(f"{exc}: run `footcast run` or `footcast demo` first") from exc
    except redis_lib.RedisError as exc:
        raise CommandError(f"Redis ({store.description}) is unreachable: {exc}") from exc
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
    else:
        _print_predictions(rows)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from footcast.api import server as serve

    prepare_environment()
    try:
        serve.run(args.host, args.port, args.workers, args.access_log, args.allow_anonymous)
    except serve.ServeConfigError as exc:
        raise UsageError(str(exc)) from exc
    return EXIT_OK


def parse_seasons(text: str) -> list[int]:
    """ "2010-2024" (start years, inclusive) or "2019" -> seasons."""
    first, sep, last = text.partition("-")
    try:
        start, end = int(first), int(last) if sep else int(first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a season range like 2010-2024") from None
    if not 1900 < start <= end < 2100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a season range like 2010-2024")
    return list(range(start, end + 1))


def parse_leagues(text: str) -> list[str]:
    from footcast.data import catalogue

    codes = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in codes if c not in catalogue.LEAGUES]
    if unknown or not codes:
        raise argparse.ArgumentTypeError(
            f"unknown league(s) {', '.join(unknown) or repr(text)}; known: {', '.join(catalogue.LEAGUES)}"
        )
    return codes


def cmd_backfill(args: argparse.Namespace) -> int:
    from footcast.data import catalogue

    prepare_environment()
    valid_seasons = set(catalogue.seasons())
    outside = [s for s in args.seasons if s not in valid_seasons]
    if outside:
        raise UsageError(
            f"seasons {outside[0]}..{outside[-1]} are outside {min(valid_seasons)}-{max(valid_seasons)}"
        )
    targets = [(league, season) for league in args.leagues for season in args.seasons]
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
    raw_config = {"force": args.force, "allow_fewer_rows": args.allow_fewer_rows}
    for number, outcome in enumerate(_ingest_all(targets, raw_config, workers), start=1):
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
        print(
            f"  [{number}/{len(targets)}] {label}: {raw_meta.get('rows', 0)} rows from {origin}, "
            f"{valid_meta.get('quarantined', 0)} quarantined  ({outcome['seconds']:.1f}s)",
            flush=True,
        )
    seconds = time.perf_counter() - started
    print(
        f"\n{len(targets)} partitions: {tally['fetched']} fetched, {tally['unchanged']} unchanged, "
        f"{tally['failed']} failed; {rows} rows validated, {quarantined} quarantined; "
        f"{requests} HTTP requests; {seconds:.1f}s"
    )
    if failures:
        raise CommandError(f"{len(failures)} partition(s) failed; first: {failures[0]}")
    return EXIT_OK


BACKFILL_ASSETS = ("raw_matches", "validated_matches")


def _submit_backfill(args: argparse.Namespace, targets: list[tuple[str, int]]) -> int:
    """Hand the backfill to the Dagster daemon: an asset backfill, as the UI launches one,
    which runs the partitions range by range (the assets' backfill policy)."""
    import dagster as dg

    from footcast.assets import partitions
    from footcast.data import catalogue
    from footcast.pipelines import automation
    from footcast.pipelines.dagster_private import PartitionBackfill, make_new_backfill_id
    from footcast.pipelines.definitions import defs

    keys = [catalogue.partition_key(league, season) for league, season in targets]
    leagues = ",".join(dict.fromkeys(league for league, _season in targets))
    seasons = sorted({season for _league, season in targets})
    title = f"footcast backfill {leagues} {seasons[0]}-{seasons[-1]}"
    with _instance() as instance:
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
                **automation.execution_config(),
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


def cmd_run(args: argparse.Namespace) -> int:
    """fixtures -> features -> model -> predictions -> Redis, as one run of the `predict` job."""
    prepare_environment()
    model_config: dict = {"market_features": not args.no_market}
    if args.trials is not None:
        model_config["n_trials"] = args.trials
    result, seconds = execute_job(
        "predict",
        "fixtures -> features -> model -> predictions -> redis",
        run_config={"ops": {"model": {"config": model_config}}},
    )
    model = _metadata(result, "model")
    batch = _metadata(result, "predictions")
    published = _metadata(result, "published_predictions")
    print(
        f"model version {model.get('model_version')} ({model.get('recipe')} recipe, validation RPS "
        f"{model.get('new_validation_rps')}): {model.get('promotion_decision')}"
    )
    print(
        f"{batch.get('rows')} predictions from champion version {batch.get('model_version')} "
        f"(leagues {batch.get('leagues') or 'none'}), published as {published.get('publish_version')} "
        f"(previous {published.get('previous_version') or 'none'}) in {seconds:.1f}s"
    )
    return EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    import redis as redis_lib

    from footcast.adapters.redis_store import NotPublishedError

    prepare_environment()
    if args.rollback:
        store = _prediction_store()
        try:
            previous, current = store.rollback()
        except NotPublishedError as exc:
            raise CommandError(str(exc)) from exc
        except redis_lib.RedisError as exc:
            raise CommandError(f"Redis ({store.description}) is unreachable: {exc}") from exc
        print(f"rolled back: {previous} -> {current} is served now")
        return EXIT_OK
    run_config = {"ops": {"published_predictions": {"config": {"publish_version": args.version or ""}}}}
    result, seconds = execute_job("publish", "publish to redis", run_config=run_config)
    meta = _metadata(result, "published_predictions")
    print(
        f"published {meta.get('rows')} predictions as {meta.get('publish_version')} "
        f"(previous {meta.get('previous_version') or 'none'}) in {seconds:.1f}s"
    )
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Walk-forward backtest of the model recipes against the market, Elo and base rates: a run
    of the `evaluate` job (the `backtests` asset), recorded in the instance the UI reads."""
    from footcast import config
    from footcast.assets.resources import MlflowResource
    from footcast.services import evaluation

    prepare_environment()
    backtest_config = {"test_seasons": args.test_seasons, "leagues": args.leagues or [], "seed": args.seed}
    if args.trials is not None:
        backtest_config["n_trials"] = args.trials
    # The asset logs one line per test season at INFO: the progress shown (on stderr).
    result, _seconds = execute_job(
        "evaluate",
        "evaluate",
        run_config={"ops": {"backtests": {"config": backtest_config}}},
        log_level="INFO",
    )
    metadata = _metadata(result, "backtests")
    if args.json:
        tracking = MlflowResource(
            tracking_uri=config.mlflow_tracking_uri(), experiment_name=evaluation.EXPERIMENT
        )
        report = evaluation.recorded_report(tracking, metadata["mlflow_run_id"])
        report["rows_written"] = metadata["rows"]
        print(json.dumps(report, indent=1, allow_nan=False))
    else:
        print(metadata["results"].strip("`\n"))
    return EXIT_OK


EXPORTABLE = (
    "raw_matches",
    "matches",
    "quarantine",
    "fixtures",
    "features",
    "predictions",
    "backtests",
    "run_failures",
)


def cmd_export(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from footcast import config
    from footcast.adapters import warehouse as wh

    prepare_environment()
    out = Path(args.out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise UsageError(f"--out {out} must end in .csv or .parquet")
    store = wh.Warehouse(config.warehouse_url(), os.environ.get("FOOTCAST_WAREHOUSE_SCHEMA") or None)
    try:
        with store.engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        where = store.engine.url.render_as_string(hide_password=True)
        cause = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise CommandError(f"the warehouse {where} is unreachable: {cause}") from exc
    try:
        frame = store.read_features() if args.table == "features" else store.read(getattr(wh, args.table))
    except (sa.exc.NoSuchTableError, sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        raise CommandError(
            f"table {args.table} is not in the warehouse yet ({type(exc).__name__}): materialize it first"
        ) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    print(f"{len(frame)} rows x {len(frame.columns)} columns of {args.table} -> {out}")
    return EXIT_OK


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
    run_config = {"ops": {"raw_matches": {"config": raw_config}}}
    if len(keys) == 1:
        result, seconds = _execute("ingest", f"ingest {label}", keys[0], run_config)
    else:
        tags = {ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1]}
        result, seconds = _execute("ingest", f"ingest {label}", run_config=run_config, tags=tags)
    if result.success:
        raw = _partition_metadata(result, "raw_matches")
        validated = _partition_metadata(result, "validated_matches")
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
        return [{"label": keys[0], "error": f"ingest {keys[0]}: {_failure_message(result)}"}]
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


def _worker_init(rate_per_host: float) -> None:
    # Workers share the host's politeness budget: each gets an equal part of the rate.
    os.environ["FOOTCAST_HTTP_RATE"] = str(rate_per_host)


def _ingest_all(targets: list[tuple[str, int]], raw_config: dict, workers: int):
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

    from footcast.adapters.http_client import default_rate_per_host
    from footcast.pipelines.definitions import defs

    # Create the instance storage and the warehouse tables once, here: workers racing to
    # create (and migrate) the same SQLite databases corrupt their schema version records.
    with _instance():
        pass
    defs.resources["warehouse"].process_config_and_initialize().get()

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_init, initargs=(default_rate_per_host() / workers,)
    ) as pool:
        futures = [pool.submit(_ingest_range, span, raw_config) for span in ranges]
        for future in as_completed(futures):
            yield from future.result()


def _partition_metadata(result, asset: str) -> dict[str, dict]:
    """Partition -> metadata of the asset's materializations in a run."""
    import dagster as dg

    return {
        event.partition: {k: v.value for k, v in event.metadata.items() if isinstance(v, dg.MetadataValue)}
        for event in result.asset_materializations_for_node(asset)
    }


def _metadata(result, asset: str) -> dict:
    """Metadata of the asset's (first) materialization in a run."""
    return next(iter(_partition_metadata(result, asset).values()), {})


# -- parser ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="footcast",
        description="Football match prediction as a Dagster code location.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run the whole pipeline offline on simulated leagues, then "
        "print predictions looked up from Redis",
    )
    demo.add_argument("--seasons", type=int, default=6, help="simulated seasons to ingest (default 6)")
    demo.add_argument("--show", type=int, default=10, help="predictions to print (default 10)")
    demo.set_defaults(handler=cmd_demo)

    backfill = commands.add_parser(
        "backfill",
        help="raw + validated layers for league-seasons, as Dagster runs, with progress and a summary",
    )
    backfill.add_argument("--leagues", type=parse_leagues, required=True, help="comma-separated, e.g. E0,D1")
    backfill.add_argument(
        "--seasons", type=parse_seasons, required=True, help="start years, inclusive: 2010-2024 (or one year)"
    )
    backfill.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker processes running partition ranges (one Dagster run each) side by side "
        "(default: up to 2); they share one per-host request rate",
    )
    backfill.add_argument(
        "--force",
        action="store_true",
        help="re-download completed seasons the archive already holds, and re-validate",
    )
    backfill.add_argument(
        "--allow-fewer-rows",
        action="store_true",
        help="accept a season file with fewer matches than the stored partition (normally refused "
        "as truncated: nothing is replaced)",
    )
    backfill.add_argument(
        "--submit",
        action="store_true",
        help="hand the backfill to the Dagster daemon (tracked in the UI) instead of running it here",
    )
    backfill.set_defaults(handler=cmd_backfill)

    run = commands.add_parser(
        "run",
        help="fixtures -> features -> model -> predictions -> Redis for the leagues in the warehouse "
        "(one Dagster run; the new model serves only if it beats the champion)",
    )
    run.add_argument(
        "--trials",
        type=int,
        default=None,
        help="Optuna trials before the fit (default 0: the recipe's fixed parameters)",
    )
    run.add_argument(
        "--no-market",
        action="store_true",
        help="train the recipe without odds features (leagues without odds)",
    )
    run.set_defaults(handler=cmd_run)

    publish = commands.add_parser(
        "publish",
        help="re-publish a prediction batch from the warehouse to "
        "Redis, or roll back to the previous version",
    )
    which = publish.add_mutually_exclusive_group()
    which.add_argument("--version", help="publish version to publish (default: the newest batch)")
    which.add_argument("--rollback", action="store_true", help="serve the previous published version again")
    publish.set_defaults(handler=cmd_publish)

    export = commands.add_parser("export", help="write a warehouse table to .csv or .parquet")
    export.add_argument("table", choices=EXPORTABLE)
    export.add_argument("--out", required=True, help="FILE.csv or FILE.parquet")
    export.set_defaults(handler=cmd_export)

    evaluate = commands.add_parser(
        "evaluate",
        help="walk-forward backtest: the model against the market, Elo and base rates, per league; "
        "results to the backtests table and MLflow",
    )
    evaluate.add_argument(
        "--test-seasons", type=parse_seasons, required=True, help="start years, inclusive: 2021-2024"
    )
    evaluate.add_argument("--leagues", type=parse_leagues, help="comma-separated (default: every league)")
    evaluate.add_argument(
        "--trials",
        type=int,
        default=None,
        help="Optuna trials per model and test season (default 0: the recipes' fixed parameters)",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of training, tuning and the bootstrap")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON (progress to stderr)")
    evaluate.set_defaults(handler=cmd_evaluate)

    lookup = commands.add_parser("lookup", help="read published predictions from Redis")
    target = lookup.add_mutually_exclusive_group(required=True)
    target.add_argument("match_id", nargs="?", help="one match id")
    target.add_argument("--team", help="a team's fixtures (any alias; case and accent insensitive)")
    target.add_argument("--league", help="a league's fixtures on --date")
    lookup.add_argument("--date", help="UK-local date YYYY-MM-DD (with --league)")
    lookup.add_argument("--json", action="store_true", help="print JSON")
    lookup.set_defaults(handler=cmd_lookup)

    serve = commands.add_parser(
        "serve", help="read-only HTTP API over the predictions in Redis (OpenAPI schema at /openapi.json)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1), help="worker processes (default: up to 2)"
    )
    serve.add_argument("--access-log", action="store_true", help="log every request (off by default: costly)")
    serve.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="serve a non-loopback --host without FOOTCAST_API_KEYS",
    )
    serve.set_defaults(handler=cmd_serve)
    return parser


def _validate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.command == "backfill" and args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.command == "demo" and (args.seasons < 2 or args.show < 0):
        parser.error("--seasons must be at least 2 (one to train on, one to validate) and --show at least 0")
    if args.command == "serve" and not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a TCP port (0-65535)")
    if args.command == "lookup" and args.team is not None and not args.team.strip():
        parser.error("--team needs a team name")
    if args.command in ("evaluate", "run") and (args.trials or 0) < 0:
        parser.error("--trials must be at least 0")
    if args.command == "lookup":
        if args.league and not args.date:
            parser.error("--league needs --date YYYY-MM-DD")
        if args.date and not args.league:
            parser.error("--date goes with --league")
        if args.date:
            from datetime import date

            try:
                date.fromisoformat(args.date)
            except ValueError:
                parser.error(f"--date {args.date!r} is not a date (YYYY-MM-DD)")


def main(argv: list[str] | None = None) -> int:
    import signal

    # XGBoost's OpenMP workers spin while idle by default, which costs most of their time on a
    # busy machine; set before anything imports xgboost.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # MLflow's INFO lines (creating its tables, registering a model version) are not the
    # command's output; the model's metadata says what was registered.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    # `footcast lookup ... | head` ends quietly, like any Unix tool, when the reader goes away.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    args = parser.parse_args(argv)
    _validate(parser, args)
    if args.debug:  # (read by the runs this process and its workers execute)
        os.environ[DEBUG_VARIABLE] = "1"
    try:
        return args.handler(args)
    except CommandError as exc:
        if args.debug:
            raise
        print(f"footcast {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except UsageError as exc:
        print(f"footcast {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAILED
    except Exception as exc:  # one clear line, not a traceback, unless --debug
        if args.debug:
            raise
        print(f"footcast {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
