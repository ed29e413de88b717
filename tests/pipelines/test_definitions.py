"""The code location loads, and what it defines matches the checked-in snapshot.

definitions_snapshot.json lists every asset (group, dependencies, partitions, backfill policy,
pools, checks, resources), asset check, job, schedule and sensor, so a change to the graph
shows up in review as a diff of that file. After an intended change, regenerate it with

    FOOTCAST_UPDATE_SNAPSHOT=1 python -m pytest tests/pipelines/test_definitions.py

and commit the diff with the change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from footcast.pipelines.definitions import build_definitions

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")
# Partition keys run up to the current season: pin "now" so the snapshot does not age.
NOW = "2026-11-29T12:00:00+00:00"
SETTINGS = (
    "FOOTCAST_SCHEDULE_TIMEZONE",
    "FOOTCAST_INGEST_CRON",
    "FOOTCAST_PREDICTIONS_CRON",
    "FOOTCAST_RETRAIN_CRON",
    "FOOTCAST_FRESHNESS_CRON",
    "FOOTCAST_TRACK_RECORD_CRON",
    "FOOTCAST_FIXTURES_SENSOR_SECONDS",
    "FOOTCAST_AUTOMATION",
    "FOOTCAST_RUN_EXECUTION",
    "FOOTCAST_LAST_SEASON",
)


@pytest.fixture
def defaults(footcast_home, monkeypatch):
    monkeypatch.setenv("FOOTCAST_NOW", NOW)
    for variable in SETTINGS:
        monkeypatch.delenv(variable, raising=False)


def _partitions(definition) -> dict | None:
    if definition is None:
        return None
    keys = definition.get_partition_keys()
    return {"type": type(definition).__name__, "count": len(keys), "first": keys[0], "last": keys[-1]}


def _assets(graph) -> dict:
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        policy = node.backfill_policy
        condition = node.automation_condition
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "backfill_policy": None
            if policy is None
            else {"type": policy.policy_type.value, "max_partitions_per_run": policy.max_partitions_per_run},
            "pools": sorted(node.pools or []),
            "checks": sorted(check.name for check in node.check_keys),
            "resources": sorted(node.assets_def.required_resource_keys),
            "automation_condition": None
            if condition is None
            else condition.get_label() or type(condition).__name__,
        }
    return assets


def _checks(graph) -> dict:
    checks = {}
    for key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        spec = graph.get_check_spec(key)
        checks[f"{key.asset_key.to_user_string()}:{key.name}"] = {
            "blocking": spec.blocking,
            "additional_deps": sorted(dep.asset_key.to_user_string() for dep in spec.additional_deps),
        }
    return checks


def _jobs(repository) -> dict:
    jobs = {}
    for job in sorted(repository.get_all_jobs(), key=lambda j: j.name):
        if job.name.startswith("__"):  # Dagster's implicit asset job
            continue
        layer = job.asset_layer
        jobs[job.name] = {
            "assets": sorted(k.to_user_string() for k in layer.selected_asset_keys),
            "checks": sorted(
                f"{k.asset_key.to_user_string()}:{k.name}" for k in layer.asset_graph.asset_check_keys
            ),
            "partitioned": job.partitions_def is not None,
            "tags": {k: v for k, v in sorted((job.tags or {}).items()) if not k.startswith("dagster/")},
        }
    return jobs


def describe(defs: dg.Definitions) -> dict:
    """What the code location defines, as plain data."""
    graph = defs.resolve_asset_graph()
    repository = defs.get_repository_def()
    return {
        "resources": sorted(repository.get_top_level_resources()),
        "assets": _assets(graph),
        "asset_checks": _checks(graph),
        "jobs": _jobs(repository),
        "schedules": {
            s.name: {
                "job": s.job_name,
                "cron": s.cron_schedule,
                "timezone": s.execution_timezone,
                "default_status": s.default_status.value,
            }
            for s in sorted(repository.schedule_defs, key=lambda s: s.name)
        },
        "sensors": {
            s.name: {
                "type": type(s).__name__,
                "jobs": sorted(target.job_name for target in s.targets) if s.has_jobs else [],
                "minimum_interval_seconds": s.minimum_interval_seconds,
                "default_status": s.default_status.value,
            }
            for s in sorted(repository.sensor_defs, key=lambda s: s.name)
        },
    }


def test_the_definitions_load_and_match_the_snapshot(defaults):
    defs = build_definitions()
    dg.Definitions.validate_loadable(defs)
    described = describe(defs)
    if os.environ.get("FOOTCAST_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(described, indent=2, sort_keys=True) + "\n")
    assert described == json.loads(SNAPSHOT.read_text()), (
        "the definitions changed: if that is intended, regenerate definitions_snapshot.json "
        "(FOOTCAST_UPDATE_SNAPSHOT=1) and commit its diff"
    )


def test_schedules_and_sensors_follow_the_environment_when_the_definitions_are_built(defaults, monkeypatch):
    """Cadences are settings read when the definitions are built, not frozen at import."""
    monkeypatch.setenv("FOOTCAST_INGEST_CRON", "15 5 * * *")
    monkeypatch.setenv("FOOTCAST_SCHEDULE_TIMEZONE", "UTC")
    monkeypatch.setenv("FOOTCAST_FIXTURES_SENSOR_SECONDS", "120")
    monkeypatch.setenv("FOOTCAST_AUTOMATION", "running")
    described = describe(build_definitions())
    ingest = described["schedules"]["current_season_ingest"]
    assert (ingest["cron"], ingest["timezone"], ingest["default_status"]) == ("15 5 * * *", "UTC", "RUNNING")
    assert described["sensors"]["fixtures_changed"]["minimum_interval_seconds"] == 120
    assert described["sensors"]["fixtures_changed"]["default_status"] == "RUNNING"
