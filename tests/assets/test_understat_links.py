"""The `understat_links` asset through Dagster: it links a run's league-seasons and its check
fails a league-season that leaves more than 0.5% of its played Understat matches unlinked,
naming them."""

from __future__ import annotations

import pytest

from footcast.data import catalogue
from tests.support import league_season_pair, store_league_season

E0_TEAMS = ["Man United", "Wolves", "Arsenal", "Tottenham", "Leeds", "Fulham"]
D1_TEAMS = ["Bayern Munich", "RB Leipzig", "Dortmund", "Hertha", "Freiburg", "Mainz"]


@pytest.fixture
def linked(warehouse, monkeypatch):
    """Materialize understat_links for partition keys (one run per call) on the test's warehouse."""
    import dagster as dg

    from footcast.assets.links import understat_links
    from footcast.assets.resources import WarehouseResource

    monkeypatch.setenv("FOOTCAST_NOW", "2026-11-29T12:00:00+00:00")
    resource = WarehouseResource(url=warehouse.url, db_schema=warehouse.db_schema or "")
    instance = dg.DagsterInstance.ephemeral()

    def run(key: str):
        return dg.materialize(
            [understat_links], resources={"warehouse": resource}, instance=instance, partition_key=key
        )

    return run


def test_links_are_stored_and_the_check_fails_a_league_season_with_unlinked_matches(warehouse, linked):
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS, {"Man United": "Manchester United"})
    store_league_season(warehouse, fd, xg)
    fd, xg = league_season_pair("D1", 2023, D1_TEAMS, {"RB Leipzig": "RasenBallsport Leipzig"})
    fd.loc[4, ["fthg", "ftag"]] = [0, 2]  # awarded in football-data
    xg.loc[4, ["home_goals", "away_goals"]] = [1, 1]
    store_league_season(warehouse, fd, xg)

    complete = linked(catalogue.partition_key("E0", 2023))
    assert complete.success
    [check] = complete.get_asset_check_evaluations()
    assert check.check_name == "links_complete" and check.passed
    [event] = complete.asset_materializations_for_node("understat_links")
    assert {k: event.metadata[k].value for k in ("played", "linked", "unlinked")} == {
        "played": 30,
        "linked": 30,
        "unlinked": 0,
    }

    gap = linked(catalogue.partition_key("D1", 2023))
    assert gap.success  # the links are stored; the check says what is missing
    [check] = gap.get_asset_check_evaluations()
    assert not check.passed and check.severity.value == "ERROR"
    home, away = fd.loc[4, "home_team"], fd.loc[4, "away_team"]
    assert "D1|2023-24: 1 of 30 unlinked (3.3%): " in check.description
    assert f"{home} v {away} 1-1: score differs: Understat 1-1, football-data 0-2" in check.description
    assert check.metadata["failed_partitions"].value == ["D1|2023-24"]
    [unlinked] = check.metadata["unlinked"].value["D1|2023-24"]
    assert unlinked["understat_id"] == "10004"
