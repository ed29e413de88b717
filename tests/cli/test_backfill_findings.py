"""`footcast backfill` reports what the source could not read: cells and rejected rows."""

from __future__ import annotations

import os

from tests.support import FLAWED_E0, Site, footcast


def test_backfill_summary_names_the_findings_and_the_rejected_row(footcast_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "MLFLOW_", "DAGSTER_"))}
    site = Site()
    try:
        site.routes["/mmz4281/2425/E0.csv"] = (200, FLAWED_E0)
        env.update(
            {
                "FOOTCAST_HOME": str(footcast_home),
                "FOOTCAST_NOW": "2026-11-29T12:00:00+00:00",
                "FOOTCAST_FOOTBALL_DATA_URL": site.url,
                "FOOTCAST_HTTP_RATE": "100",
            }
        )
        result = footcast(
            "backfill", "--sources", "football-data", "--leagues", "E0", "--seasons", "2024", env=env
        )
    finally:
        site.close()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "E0|2024-25: 4 rows from network, 0 quarantined, 2 findings, 1 rejected" in out
    assert "1 partitions: 1 fetched, 0 unchanged, 0 failed; 4 rows validated, 0 quarantined" in out
    assert "findings (cells null in their column; rejected rows quarantined with their text):" in out
    assert (
        "  E0|2024-25: HY line 3; B365H line 4; rejected line 5 (unparseable: unparseable Date "
        "'32/08/2024' (want dd/mm/yy[yy]))"
    ) in out
