"""raw_understat_matches -> validated_understat_matches materialized by Dagster against Understat
on loopback (tests.support.UnderstatSite), with the code location's resources."""

from __future__ import annotations

import json

import pytest

from tests.support import understat_league_data

NOW = "2026-11-29T12:00:00+00:00"  # 2026/27 in progress


@pytest.fixture
def materialize(understat_site, footcast_home, monkeypatch):
    """Materialize both Understat assets for a partition key or a range of keys; returns
    (run, warehouse)."""
    import dagster as dg

    monkeypatch.setenv("FOOTCAST_UNDERSTAT_URL", understat_site.url)
    monkeypatch.setenv("FOOTCAST_HTTP_RATE", "100")
    monkeypatch.setenv("FOOTCAST_NOW", NOW)
    from footcast.assets.understat import UNDERSTAT_ASSETS
    from footcast.pipelines.definitions import resources

    configured = resources()
    instance = dg.DagsterInstance.ephemeral()

    def run(first: str, last: str | None = None, **raw_config):
        tags = (
            {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
            if last
            else {}
        )
        return dg.materialize(
            UNDERSTAT_ASSETS,
            resources=configured,
            instance=instance,
            partition_key=None if last else first,
            tags=tags,
            run_config={"ops": {"raw_understat_matches": {"config": raw_config}}} if raw_config else None,
            raise_on_error=False,
        )

    run.instance = instance
    return run, configured["warehouse"].get()


def failure_text(result) -> str:
    return "\n".join(
        str(event.step_failure_data.error.to_string()) for event in result.all_events if event.is_step_failure
    )


def test_a_league_season_is_fetched_validated_and_checked(understat_site, materialize):
    from footcast.adapters.warehouse import understat_matches, understat_quarantine

    run, warehouse = materialize
    document = json.loads(understat_league_data(2025, 38, 2))
    document["dates"][3]["xG"]["a"] = "11.2"  # one implausible xG: quarantined, a warning
    understat_site.data["EPL/2025"] = json.dumps(document).encode()
    result = run("E0|2025-26")
    assert result.success, failure_text(result)
    raw = {e.partition: e.metadata for e in result.asset_materializations_for_node("raw_understat_matches")}
    assert raw["E0|2025-26"]["rows"].value == 40 and raw["E0|2025-26"]["played"].value == 38
    assert raw["E0|2025-26"]["url"].value == f"{understat_site.url}/getLeagueData/EPL/2025"
    [validated] = result.asset_materializations_for_node("validated_understat_matches")
    assert validated.metadata["rows"].value == 39 and validated.metadata["quarantined"].value == 1
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["table"].passed and checks["findings"].passed
    rows = checks["rows"]
    assert not rows.passed and rows.severity.value == "WARN"
    assert rows.description == "failed for 1 of 1 partitions: E0|2025-26 (xg_in_range: 1 rows [away_xg])"
    [sample] = rows.metadata["failures"].value["E0|2025-26"]["xg_in_range"]["sample"]
    assert sample["understat_id"] == "1003" and sample["away_xg"] == 11.2
    assert warehouse.count(understat_matches, {"league": "E0", "season": 2025}) == 39
    assert warehouse.count(understat_quarantine, {"league": "E0", "season": 2025}) == 1


def test_a_range_is_one_run_and_a_broken_season_fails_alone_keeping_its_data(understat_site, materialize):
    import dagster as dg

    from footcast.adapters.warehouse import raw_understat_matches, understat_matches

    run, warehouse = materialize
    for season in (2024, 2025, 2026):
        understat_site.data[f"EPL/{season}"] = understat_league_data(
            season, 20 if season < 2026 else 8, 0, first_id=season
        )
    assert run("E0|2024-25", "E0|2026-27").success
    assert warehouse.count(understat_matches, {"league": "E0"}) == 48
    # The season in progress breaks at the source (re-checked: force); the other two reload.
    understat_site.faults["/getLeagueData/EPL/2026"] = [(200, b"<html><body>Access denied</body></html>", {})]
    result = run("E0|2024-25", "E0|2026-27", force=True)
    assert not result.success
    text = failure_text(result)
    assert "E0|2026-27" in text and f"{understat_site.url}/getLeagueData/EPL/2026" in text and "HTML" in text
    # The partitions that loaded are materialized by the failed run (events logged before it failed).
    records = run.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("raw_understat_matches")), limit=100
    )
    materialized = {r.partition_key for r in records.records if r.run_id == result.run_id}
    assert materialized == {"E0|2024-25", "E0|2025-26"}
    assert warehouse.count(raw_understat_matches, {"league": "E0", "season": 2026}) == 8
    assert warehouse.count(understat_matches, {"league": "E0", "season": 2026}) == 8
