"""The one way a command runs Dagster: a job of the code location executed in-process, in the
same instance (DAGSTER_HOME) the UI reads, with its outcome reported in one line; and the
instance housekeeping that keeps such runs from waiting on runs whose process died."""

from __future__ import annotations

import os
import socket
import time

from footcast.cli.errors import CommandError

# Set by `--debug`: runs then log through Dagster's console logger, every event and traceback.
DEBUG_VARIABLE = "FOOTCAST_DEBUG"

# Every run a footcast process executes carries where it runs, so that a later command can tell
# a run whose process died (killed, out of memory, power loss) from one still going.
HOST_TAG = "footcast/host"
PID_TAG = "footcast/pid"


def dagster_instance():
    import dagster as dg

    return dg.DagsterInstance.get()


def run_job(
    job_name: str,
    label: str,
    *,
    partition_key=None,
    run_config=None,
    tags=None,
    log_level="WARNING",
    raise_on_failure=True,
):
    """(result, seconds) of a job run in-process, recorded in the instance. The terminal shows
    what the assets log at ``log_level`` and up, short of errors (the command reports a failure
    in one line); the run's full event log is in the instance (UI).

    A failed run raises CommandError naming ``label``, unless ``raise_on_failure`` is False: the
    caller then reads the failed result itself."""
    import dagster as dg

    from footcast.pipelines import logs
    from footcast.pipelines.definitions import defs

    started = time.perf_counter()
    job = defs.resolve_job_def(job_name)
    loggers = logs.run_config(log_level, debug=os.environ.get(DEBUG_VARIABLE) == "1")
    instance = dagster_instance()
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
    seconds = time.perf_counter() - started
    if raise_on_failure and not result.success:
        raise CommandError(f"{label}: {failure_message(result)}")
    return result, seconds


def range_label(keys: list[str]) -> str:
    """``E0|2019-20`` for one partition, ``E0|2019-20..E0|2021-22`` for a range."""
    return keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}"


def run_partitions(job_name: str, keys: list[str], *, run_config=None, raise_on_failure=True):
    """:func:`run_job` of consecutive partitions as one run: one partition as a partitioned run,
    a range as a run tagged with the range's bounds (execute_in_process takes a range only so)."""
    from footcast.pipelines.dagster_private import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    single = len(keys) == 1
    bounds = {ASSET_PARTITION_RANGE_START_TAG: keys[0], ASSET_PARTITION_RANGE_END_TAG: keys[-1]}
    return run_job(
        job_name,
        f"{job_name} {range_label(keys)}",
        partition_key=keys[0] if single else None,
        run_config=run_config,
        tags=None if single else bounds,
        raise_on_failure=raise_on_failure,
    )


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


def failure_message(result) -> str:
    """Why a run failed, in one line: the failed step's own error, or the blocking check."""
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


def partition_metadata(result, asset: str) -> dict[str, dict]:
    """Partition -> metadata of the asset's materializations in a run."""
    import dagster as dg

    return {
        event.partition: {k: v.value for k, v in event.metadata.items() if isinstance(v, dg.MetadataValue)}
        for event in result.asset_materializations_for_node(asset)
    }


def asset_metadata(result, asset: str) -> dict:
    """Metadata of the asset's (first) materialization in a run."""
    return next(iter(partition_metadata(result, asset).values()), {})
