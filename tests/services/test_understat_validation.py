"""The validated layer of Understat's matches: the suite's checks quarantine failing rows with
their reasons and values, valid rows replace the partition of `understat_matches`, and a
partition whose blocking checks fail keeps its previous version (real warehouse)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from footcast.adapters.warehouse import understat_matches, understat_quarantine
from footcast.data import understat
from footcast.data.understat import parse_league_data
from footcast.services.sources.base import Fetched
from footcast.services.understat import read_understat, store_fetched_understat, validate_and_store_understat
from tests.support import understat_league_data

NOW = "2026-11-29T12:00:00+00:00"


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch):
    monkeypatch.setenv("FOOTCAST_NOW", NOW)


def load_raw(warehouse, document: dict, season: int = 2025) -> None:
    content = json.dumps(document).encode()
    parsed = parse_league_data(
        content, league="E0", season=season, source_url="u", content_hash="h", partition=f"E0|{season}"
    )
    fetched_at = pd.Timestamp("2026-11-29 10:00", tz="UTC")
    fetched = Fetched(
        parsed.matches.assign(fetched_at=fetched_at),
        "understat",
        "u",
        "network",
        rejected=parsed.rejected.assign(fetched_at=fetched_at),
    )
    store_fetched_understat(warehouse, "E0", season, fetched)


def flawed(season: int = 2025) -> dict:
    document = json.loads(understat_league_data(season, 36, 4))
    dates = document["dates"]
    dates[0]["xG"]["h"] = "12.5"  # xG out of range
    dates[1]["goals"]["a"] = "-1"  # negative goals
    dates[2]["id"] = dates[3]["id"]  # two different matches under one id
    dates[4]["xG"] = {"h": None, "a": None}  # played, no xG
    dates[5]["datetime"] = f"{season - 1}-10-01 14:00:00"  # the previous season
    dates[6]["a"]["title"] = dates[6]["h"]["title"]  # a team plays itself
    return document


def test_failing_rows_are_quarantined_with_their_checks_and_values(warehouse):
    load_raw(warehouse, flawed())
    report = validate_and_store_understat(warehouse, "E0", 2025, max_quarantine_share=0.5)
    assert report.written and not report.blocked
    held = read_understat(warehouse, understat_quarantine, {"league": "E0", "season": 2025})
    reasons = dict(zip(held["source_index"].astype(int), held["reasons"], strict=True))
    assert reasons == {
        1: "xg_in_range",
        2: "goals_whole_non_negative",
        3: "understat_id_unique",
        4: "understat_id_unique",
        5: "played_has_xg",
        6: "kickoff_in_season",
        7: "home_away_distinct",
    }
    assert set(held["quarantined_by"]) == {"validated"}
    values = {int(i): json.loads(v) for i, v in zip(held["source_index"], held["failed_values"], strict=True)}
    assert values[1] == {"xg_in_range": {"home_xg": 12.5}}
    assert values[2] == {"goals_whole_non_negative": {"away_goals": -1}}
    assert values[5] == {"played_has_xg": {"is_result": True, "home_xg": None, "away_xg": None}}
    valid = read_understat(warehouse, understat_matches, {"league": "E0", "season": 2025})
    assert len(valid) == 33 and len(valid) + len(held) == report.raw_rows == 40
    checks = {c.name: c for c in report.outcome.checks}
    assert not checks["xg_in_range"].passed and checks["xg_in_range"].sample[0]["home_xg"] == 12.5
    assert checks["quarantine_share"].passed and checks["played_has_goals"].passed
    meta = report.metadata()
    assert meta["quarantined"] == 7 and json.loads(meta["quarantine_reasons"])["understat_id_unique"] == 2
    assert meta["played"] == 29 and meta["rows_added"] == 33


def test_valid_rows_round_trip_the_warehouse_in_the_frame_dtypes(warehouse):
    document = json.loads(understat_league_data(2025, 30, 6))
    load_raw(warehouse, document)
    report = validate_and_store_understat(warehouse, "E0", 2025)
    assert report.written and report.outcome.quarantined.empty
    valid = read_understat(warehouse, understat_matches, {"league": "E0", "season": 2025})
    expected = understat.conform(report.outcome.valid)
    pd.testing.assert_frame_equal(valid.drop(columns="fetched_at"), expected)
    assert valid["fetched_at"].eq(pd.Timestamp("2026-11-29 10:00", tz="UTC")).all()
    # Not played yet: null xG is no fault.
    assert valid["home_xg"].isna().sum() == 6 and report.outcome.check("played_has_xg").passed


def test_a_blocked_partition_keeps_its_previous_version(warehouse):
    load_raw(warehouse, json.loads(understat_league_data(2025, 30)))
    assert validate_and_store_understat(warehouse, "E0", 2025).written
    load_raw(warehouse, flawed())  # 7 of 40 rows fail: 17.5% > the 5% limit
    report = validate_and_store_understat(warehouse, "E0", 2025)
    assert report.blocked and report.blocking_names == ["quarantine_share"] and not report.written
    assert report.metadata()["partition_replaced"] is False
    assert warehouse.count(understat_matches, {"league": "E0", "season": 2025}) == 30
    assert warehouse.count(understat_quarantine, {"quarantined_by": "validated"}) == 0


def test_raw_rejects_are_reported_as_findings_by_element(warehouse):
    document = json.loads(understat_league_data(2025, 30))
    document["dates"][4]["isResult"] = "yes"
    document["dates"][7]["xG"]["a"] = "n/a"
    load_raw(warehouse, document)
    report = validate_and_store_understat(warehouse, "E0", 2025, max_quarantine_share=0.1)
    assert report.findings.summary() == (
        "away_xg element 8; rejected element 5 (unparseable: isResult 'yes' is not true or false)"
    )
    # the played match without its away xG is held back by the validated layer
    assert report.outcome.quarantined["source_index"].tolist() == [8]
