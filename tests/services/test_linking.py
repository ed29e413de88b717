"""Linking in the warehouse: a league-season's links, proposals and accepted names stored in one
transaction, aliases a user accepts, and the report `footcast teams` prints (real warehouse)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from footcast.adapters.warehouse import team_aliases, team_proposals, understat_links
from footcast.data import linking, teams
from footcast.services import linking as service
from tests.support import league_season_pair, store_league_season

E0_TEAMS = ["Man United", "Wolves", "Arsenal", "Tottenham", "Leeds", "Fulham"]


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch):
    monkeypatch.setenv("FOOTCAST_NOW", "2026-11-29T12:00:00+00:00")


def test_a_partition_stores_its_links_proposals_and_accepted_names(warehouse):
    fd, xg = league_season_pair(
        "E0", 2023, E0_TEAMS, {"Man United": "Manchester United", "Leeds": "Leeds Utd AFC"}
    )
    store_league_season(warehouse, fd, xg)
    result = service.link_partition(warehouse, "E0", 2023)
    assert result.summary.linked == 30
    stored = warehouse.read(understat_links, {"league": "E0", "season": 2023}).sort_values("understat_id")
    assert stored["match_id"].tolist() == fd["match_id"].tolist()
    assert set(stored.columns) == {*linking.LINK_COLUMNS, "linked_at"}
    proposals = warehouse.read(team_proposals)
    assert proposals[["name", "canonical", "status", "evidence"]].values.tolist() == [
        ["Leeds Utd AFC", "Leeds", linking.ACCEPTED, 10]
    ]
    [alias] = warehouse.read(team_aliases).to_dict("records")
    assert (alias["source"], alias["name"], alias["name_key"], alias["canonical"], alias["origin"]) == (
        "understat",
        "Leeds Utd AFC",
        "leeds utd afc",
        "Leeds",
        teams.AUTO,
    )
    assert alias["evidence"] == "E0 2023: 10 of 10 played matches agree"
    # Linked again, the partition is replaced (not appended); the name is now the registry's.
    again = service.link_partition(warehouse, "E0", 2023)
    assert warehouse.count(understat_links) == 30 and again.proposals.empty
    assert warehouse.count(team_proposals) == 0
    # The next season places the accepted name through the registry.
    fd, xg = league_season_pair("E0", 2024, E0_TEAMS, {"Leeds": "Leeds Utd AFC"}, seed=1)
    store_league_season(warehouse, fd, xg)
    assert service.link_partitions(warehouse, [("E0", 2024)])[0].summary.linked == 30
    assert warehouse.count(understat_links, {"season": 2024, "method": linking.BY_REGISTRY}) == 30


def test_a_failed_write_keeps_the_previous_links(warehouse):
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS)
    store_league_season(warehouse, fd, xg)
    service.link_partition(warehouse, "E0", 2023)
    fd.loc[0, ["fthg", "ftag"]] = [0, 3]  # football-data corrects a score ...
    store_league_season(warehouse, fd, xg)
    with warehouse.engine.begin() as conn:  # ... and the second table of the write is gone
        team_proposals.drop(conn)
    with pytest.raises(sa.exc.DBAPIError):
        service.link_partition(warehouse, "E0", 2023)
    stored = warehouse.read(understat_links)
    assert len(stored) == 30 and stored["match_id"].notna().all()


def test_accepted_aliases_persist_and_leave_the_unresolved_names(warehouse):
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS)
    half = len(xg) // 2
    for column in ("home_team", "away_team"):  # one club, two spellings: ambiguous
        xg.loc[: half - 1, column] = xg.loc[: half - 1, column].replace("Tottenham", "Spurs FC")
        xg.loc[half:, column] = xg.loc[half:, column].replace("Tottenham", "Tottenham Hotspur FC")
    store_league_season(warehouse, fd, xg)
    service.link_partition(warehouse, "E0", 2023)
    report = service.links_report(warehouse)
    assert [
        (s["league"], s["season"], s["played"], s["linked"], len(s["unlinked"])) for s in report["links"]
    ] == [("E0", 2023, 30, 20, 10)]
    assert {u["reason"] for u in report["links"][0]["unlinked"]} >= {"unresolved team name: 'Spurs FC'"}
    assert [
        (u["name"], [(p["canonical"], p["status"]) for p in u["proposals"]]) for u in report["unresolved"]
    ] == [
        ("Spurs FC", [("Tottenham", linking.AMBIGUOUS)]),
        ("Tottenham Hotspur FC", [("Tottenham", linking.AMBIGUOUS)]),
    ]

    accepted = service.accept_alias(warehouse, "spurs fc", "TOTTENHAM", "understat")
    assert (accepted["canonical"], accepted["origin"], accepted["partitions"]) == (
        "Tottenham",
        teams.MANUAL,
        ["E0|2023-24"],
    )
    assert [u["name"] for u in service.unresolved_names(warehouse)] == ["Tottenham Hotspur FC"]
    service.accept_alias(warehouse, "Tottenham Hotspur FC", "Tottenham", "understat")
    assert service.unresolved_names(warehouse) == []
    service.link_partition(warehouse, "E0", 2023)
    assert service.links_report(warehouse)["links"][0]["linked"] == 30
    # a user's alias replaces the entry of the same spelling; the registry reads it back
    service.accept_alias(warehouse, "SPURS FC", "Arsenal", "understat")
    assert warehouse.count(team_aliases) == 2
    assert service.registry(warehouse).canonical("Spurs FC", "understat") == "Arsenal"


def test_an_alias_of_an_unknown_club_or_source_is_refused(warehouse):
    with pytest.raises(service.UnknownTeamError, match="'Gotham City' is not a known club"):
        service.accept_alias(warehouse, "Gotham", "Gotham City", "understat")
    with pytest.raises(ValueError, match="unknown source 'football_data'"):
        service.accept_alias(warehouse, "Arsenal FC", "Arsenal", "football_data")
    assert warehouse.count(team_aliases) == 0


def test_the_report_of_an_empty_warehouse_is_empty(warehouse):
    assert service.links_report(warehouse) == {"links": [], "unresolved": []}
