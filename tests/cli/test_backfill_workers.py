"""`footcast backfill` with worker processes: ranges run side by side, each one Dagster run."""

from __future__ import annotations

import os
import sqlite3

from tests.support import GOOD_E0, Site, footcast

NOW = "2026-11-29T12:00:00+00:00"


def test_two_workers_run_one_range_each_into_one_instance_and_warehouse(footcast_home):
    site = Site()
    try:
        for league in ("E0", "E1"):  # (E1 has no team list: English clubs pass)
            season_file = GOOD_E0.replace(b"\r\nE0,", f"\r\n{league},".encode())
            site.routes[f"/mmz4281/2324/{league}.csv"] = (200, season_file.replace(b"/2024", b"/2023"))
            site.routes[f"/mmz4281/2425/{league}.csv"] = (200, season_file)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "MLFLOW_", "DAGSTER_"))}
        env.update(
            {
                "FOOTCAST_HOME": str(footcast_home),
                "FOOTCAST_NOW": NOW,
                "FOOTCAST_FOOTBALL_DATA_URL": site.url,
                "FOOTCAST_HTTP_RATE": "100",
            }
        )
        # (a fresh home: the workers create the instance storage and the warehouse tables)
        result = footcast(
            "backfill",
            "--sources",
            "football-data",
            "--leagues",
            "E0,E1",
            "--seasons",
            "2023-2024",
            "--workers",
            "2",
            env=env,
        )
    finally:
        site.close()
    assert result.returncode == 0, result.stderr
    assert "2 worker processes" in result.stdout
    assert "4 partitions: 4 fetched, 0 unchanged, 0 failed; 12 rows validated, 0 quarantined" in result.stdout
    assert sorted(site.requests) == sorted(
        f"/mmz4281/{code}/{league}.csv" for code in ("2324", "2425") for league in ("E0", "E1")
    )
    with sqlite3.connect(footcast_home / "dagster" / "history" / "runs.db") as conn:
        statuses = [status for (status,) in conn.execute("select status from runs")]
    assert statuses == ["SUCCESS", "SUCCESS"]  # one run per league's range
    with sqlite3.connect(footcast_home / "warehouse.sqlite") as conn:
        matches = dict(conn.execute("select league, count(*) from matches group by league"))
    assert matches == {"E0": 6, "E1": 6}
