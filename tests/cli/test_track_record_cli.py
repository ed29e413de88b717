"""`footcast track-record` as a user runs it: a real process on a FOOTCAST_HOME whose warehouse
holds the scripted timeline of tests/support.py (three batches, results in, a match postponed)."""

from __future__ import annotations

import json
import os

import pytest

from footcast.adapters.warehouse import Warehouse
from tests.support import (
    TIMELINE_LIVE,
    TIMELINE_MATCHES,
    TIMELINE_PROBS,
    footcast,
    hand_rps,
    play_timeline,
    publish_timeline,
    timeline_id,
)


@pytest.fixture
def timeline_home(footcast_home):
    """(environment of the command, publish versions) with the timeline in the embedded warehouse."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "MLFLOW_", "DAGSTER_"))}
    env.update(
        {
            "FOOTCAST_HOME": str(footcast_home),
            "FOOTCAST_NOW": "2026-12-10T09:00:00+00:00",
            "FOOTCAST_FOOTBALL_DATA_URL": "http://127.0.0.1:9",
        }
    )
    warehouse = Warehouse(f"sqlite:///{footcast_home / 'warehouse.sqlite'}")
    warehouse.create_all()
    versions = publish_timeline(warehouse)
    play_timeline(warehouse, list(TIMELINE_MATCHES))
    warehouse.engine.dispose()
    return env, versions


def test_json_has_every_scored_match_with_the_version_live_at_kickoff(timeline_home):
    env, versions = timeline_home
    result = footcast("track-record", "--json", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert set(report) == {"matches", "summary", "excluded"}
    matches = {m["match_id"]: m for m in report["matches"]}
    assert list(matches) == [timeline_id(m) for m in TIMELINE_LIVE]
    for name, version in TIMELINE_LIVE.items():
        match = matches[timeline_id(name)]
        assert match["version"] == versions[version]
        assert (match["p_home"], match["p_draw"], match["p_away"]) == TIMELINE_PROBS[version]
        assert match["result"] == TIMELINE_MATCHES[name][1] and match["league"] == "SIM1"
        assert match["rps"] == pytest.approx(hand_rps(TIMELINE_PROBS[version], match["result"]))
        assert match["kickoff"] == f"{TIMELINE_MATCHES[name][0].replace(' ', 'T')}:00+00:00"
    [excluded] = report["excluded"]
    assert excluded["match_id"] == timeline_id("Q") and "postponed" in excluded["reason"]
    spans = {(row["league"], row["span"]): row for row in report["summary"]}
    assert spans[("all", "season")]["n"] == 6 and ("SIM1", "last_200") in spans

    filtered = footcast("track-record", "--json", "--leagues", "SIM1", "--since", "2026-11-29", env=env)
    chosen = json.loads(filtered.stdout)
    assert [m["match_id"] for m in chosen["matches"]] == [timeline_id(m) for m in ("M4", "M5", "P")]
    assert {row["league"] for row in chosen["summary"]} == {"SIM1"}


def test_text_output_and_bad_usage(timeline_home):
    env, versions = timeline_home
    result = footcast("track-record", "--limit", "2", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "track record: 6 published predictions scored, 1 excluded" in out
    assert "model-market [95% CI]" in out and "check calibrated: ok" in out
    assert "2 scored matches (most recent" in out and versions["v3"] in out
    assert f"excluded {timeline_id('Q')} (SIM1): not in batch {versions['v3']}" in out
    for argv, message in (
        (("--since", "29/11/2026"), "is not a date"),
        (("--leagues", "XX"), "names no league"),
        (("--limit", "-1"), "--limit must be at least 0"),
    ):
        bad = footcast("track-record", *argv, env=env)
        assert bad.returncode == 2 and message in bad.stderr, (argv, bad.stderr)
