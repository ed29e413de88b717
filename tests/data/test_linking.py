"""The team registry and the linking of Understat's matches to football-data's, on small
handmade league-seasons (tests.support.league_season_pair: row i of both frames is one match)."""

from __future__ import annotations

import pandas as pd
import pytest

from footcast.data import linking, teams
from tests.support import league_season_pair

E0_TEAMS = ["Man United", "Wolves", "Arsenal", "Tottenham", "Leeds", "Fulham"]
UNDERSTAT_E0 = {"Man United": "Manchester United", "Wolves": "Wolverhampton Wanderers"}


def link(xg, fd, registry=None, league="E0", season=2023):
    return linking.link_season(
        xg, fd, registry or teams.seed_registry(), league=league, season=season, source="understat"
    )


def proposal(result, name) -> dict:
    rows = result.proposals[result.proposals["name"] == name]
    assert len(rows) >= 1, result.proposals.to_string()
    return rows.iloc[0].to_dict()


# -- the registry ---------------------------------------------------------------------------------


def test_seed_gives_each_source_its_names_and_keeps_the_legacy_lookups():
    registry = teams.seed_registry()
    assert registry.canonical("Manchester United", "understat") == "Man United"
    assert registry.canonical("RASENBALLSPORT  leipzig", "understat") == "RB Leipzig"
    assert registry.canonical("Borussia M.Gladbach", "understat") == "M'gladbach"
    assert registry.canonical("Man Utd", "understat") == "Man United"  # an "any" spelling
    assert registry.lookup("Gotham City", "understat") is None
    assert registry.canonical("Gotham  City", "understat") == "Gotham City"  # passes through
    assert "Manchester United" in registry.names_of("Man United", "understat")
    assert "Manchester United" not in registry.names_of("Man United", "simulator")
    # the module functions every other layer uses read the same seed, across sources
    assert teams.canonical_team("Wolverhampton Wanderers") == "Wolves"
    assert teams.TEAM_ALIASES["Wolves"] == registry.names_of("Wolves")[1:]


def test_leipzig_and_wimbledon_are_different_clubs_in_the_registry():
    registry = teams.seed_registry()
    assert registry.canonical("Leipzig") == "Leipzig"  # VfB Leipzig (football-data 1993/94)
    assert registry.canonical("RasenBallsport Leipzig") == "RB Leipzig"
    assert registry.canonical("Wimbledon") == "Wimbledon"  # Wimbledon FC (until 1999/2000)
    assert registry.canonical("AFC Wimbledon") == "AFC Wimbledon"


def test_accepted_names_overlay_the_seed_for_their_source_only():
    registry = teams.seed_registry().with_names(
        [teams.TeamName("RB Leipzig", "understat", "Leipzig", origin=teams.AUTO, confidence=0.97)]
    )
    found = registry.lookup("leipzig", "understat")
    assert (found.canonical, found.origin, found.confidence) == ("RB Leipzig", teams.AUTO, 0.97)
    assert registry.canonical("Leipzig", "football_data") == "Leipzig"
    assert registry.canonical("Leipzig", "simulator") == "Leipzig"
    # the source's own row wins over a canonical name spelled exactly alike
    vfb = teams.seed_registry().with_names(
        [
            teams.TeamName("Leipzig", "any", "VfB Leipzig"),
            teams.TeamName("RB Leipzig", "understat", "LEIPZIG"),
        ]
    )
    assert (vfb.canonical("Leipzig", "understat"), vfb.canonical("Leipzig", "football_data")) == (
        "RB Leipzig",
        "Leipzig",
    )
    # a later acceptance replaces the entry of the same spelling (whatever its case)
    moved = registry.with_names([teams.TeamName("Leipzig", "understat", "LEIPZIG", origin=teams.MANUAL)])
    assert moved.canonical("Leipzig", "understat") == "Leipzig"


def test_a_spelling_claimed_by_two_clubs_in_one_source_is_refused():
    with pytest.raises(ValueError, match="claimed by both 'Hertha' and 'Union Berlin'"):
        teams.TeamRegistry(
            [
                teams.TeamName("Hertha", "understat", "Berlin"),
                teams.TeamName("Union Berlin", "understat", "BERLIN"),
            ]
        )
    # ... but two sources may spell two clubs alike
    teams.TeamRegistry(
        [
            teams.TeamName("Hertha", "understat", "Berlin"),
            teams.TeamName("Union Berlin", "simulator", "Berlin"),
        ]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"Hertha": {"transfermarkt": ["Hertha BSC"]}}', "unknown team name source 'transfermarkt'"),
        ('{"Hertha": {"any": "Hertha BSC"}}', "any names must be a list of names"),
        ('["Hertha"]', "want an object"),
        ('{"Hertha": {"any": ["Hertha BSC"]', "not JSON"),
    ],
)
def test_a_broken_seed_names_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        teams.parse_seed(text)


# -- linking ----------------------------------------------------------------------------------------


def test_names_through_the_registry_link_every_match():
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS, UNDERSTAT_E0)
    result = link(xg, fd)
    links = result.links
    assert list(links.columns) == list(linking.LINK_COLUMNS)
    assert links["match_id"].tolist() == fd["match_id"].tolist()
    assert set(links["method"]) == {linking.BY_REGISTRY} and set(links["confidence"]) == {1.0}
    assert links["score_checked"].all() and links["reason"].isna().all()
    assert links.loc[links["home_team"] == "Manchester United", "home_canonical"].unique().tolist() == [
        "Man United"
    ]
    assert result.proposals.empty
    assert result.summary.as_json() == {
        "league": "E0",
        "season": 2023,
        "played": 30,
        "linked": 30,
        "unlinked": [],
    }
    assert result.summary.complete


def test_a_kickoff_a_day_apart_links_and_three_days_apart_is_listed():
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS, UNDERSTAT_E0)
    # one match a day later in Understat (the next UK-local date), another three days later
    # (rescheduled in one source only)
    xg.loc[4, "kickoff"] = fd.loc[4, "kickoff"] + pd.Timedelta(hours=24)
    xg.loc[7, "kickoff"] = fd.loc[7, "kickoff"] + pd.Timedelta(days=3)
    result = link(xg, fd)
    links = result.links.set_index("understat_id")
    assert links.loc["10004", "match_id"] == fd.loc[4, "match_id"]
    assert links.loc["10004", "kickoff_delta_hours"] == 24.0
    assert pd.isna(links.loc["10007", "match_id"])
    day = fd.loc[7, "kickoff"].tz_convert("Europe/London").date()
    assert links.loc["10007", "reason"].startswith(
        f"football-data has {fd.loc[7, 'home_team']} v {fd.loc[7, 'away_team']} on {day}, 3 days apart"
    )
    assert (result.summary.played, result.summary.linked) == (30, 29)
    assert [u["understat_id"] for u in result.summary.unlinked] == ["10007"]


def test_a_score_that_disagrees_is_listed_not_linked():
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS, UNDERSTAT_E0)
    fd.loc[9, ["fthg", "ftag"]] = [0, 3]  # awarded 0-3 in football-data
    xg.loc[9, ["home_goals", "away_goals"]] = [1, 1]  # as played, in Understat
    result = link(xg, fd)
    [unlinked] = result.summary.unlinked
    assert unlinked["understat_id"] == "10009" and unlinked["score"] == "1-1"
    assert unlinked["reason"] == "score differs: Understat 1-1, football-data 0-3 (awarded or corrected?)"
    assert result.links["match_id"].notna().sum() == 29
    assert result.summary.unlinked_share == pytest.approx(1 / 30) and not result.summary.complete


def test_an_unknown_name_is_proposed_and_accepted_when_unambiguous():
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS, {**UNDERSTAT_E0, "Leeds": "Leeds Utd AFC"})
    result = link(xg, fd)
    leeds = proposal(result, "Leeds Utd AFC")
    assert leeds["canonical"] == "Leeds" and leeds["status"] == linking.ACCEPTED
    assert (leeds["evidence"], leeds["matches"], leeds["confidence"]) == (10, 10, 1.0)
    assert leeds["detail"] == "not in the registry; 10 of 10 played matches agree"
    assert result.summary.linked == 30
    by_leeds = result.links[result.links["home_team"] == "Leeds Utd AFC"]
    assert set(by_leeds["method"]) == {linking.BY_FIXTURES} and set(by_leeds["home_canonical"]) == {"Leeds"}
    assert linking.accepted_aliases(result.proposals) == [
        {
            "source": "understat",
            "name": "Leeds Utd AFC",
            "canonical": "Leeds",
            "origin": teams.AUTO,
            "confidence": 1.0,
            "evidence": "E0 2023: 10 of 10 played matches agree",
        }
    ]


def test_a_proposal_that_disagrees_with_some_fixtures_is_weak_and_not_accepted():
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS, {"Leeds": "Leeds Utd AFC"}, seed=3)
    leeds = xg.index[(xg["home_team"] == "Leeds Utd AFC") | (xg["away_team"] == "Leeds Utd AFC")]
    xg.loc[leeds[:3], "home_goals"] = xg.loc[leeds[:3], "home_goals"] + 5  # 3 of 10 disagree
    result = link(xg, fd)
    weak = proposal(result, "Leeds Utd AFC")
    assert (weak["canonical"], weak["status"], weak["evidence"]) == ("Leeds", linking.WEAK, 7)
    assert "7 of 10 played matches agree (accepted at 80%" in weak["detail"]
    assert result.summary.linked == 20
    assert {u["reason"] for u in result.summary.unlinked} == {"unresolved team name: 'Leeds Utd AFC'"}
    assert linking.accepted_aliases(result.proposals) == []


def test_an_ambiguous_proposal_is_not_accepted():
    # Understat spells one club two ways (first half, second half): each name agrees with
    # Tottenham's fixtures, so which one is Tottenham is for a person to say.
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS)
    half = len(xg) // 2
    for column in ("home_team", "away_team"):
        xg.loc[: half - 1, column] = xg.loc[: half - 1, column].replace("Tottenham", "Spurs FC")
        xg.loc[half:, column] = xg.loc[half:, column].replace("Tottenham", "Tottenham Hotspur FC")
    result = link(xg, fd)
    for name in ("Spurs FC", "Tottenham Hotspur FC"):
        row = proposal(result, name)
        assert (row["canonical"], row["status"], row["confidence"]) == ("Tottenham", linking.AMBIGUOUS, 1.0)
        assert "another unplaced name agrees with 'Tottenham' as strongly" in row["detail"]
    assert linking.accepted_aliases(result.proposals) == []
    assert result.summary.linked == 20 and len(result.summary.unlinked) == 10
    # a person says both are Tottenham: they never play on the same day, so both link
    registry = teams.seed_registry().with_names(
        [
            teams.TeamName("Tottenham", "understat", name, origin=teams.MANUAL)
            for name in ("Spurs FC", "Tottenham Hotspur FC")
        ]
    )
    assert link(xg, fd, registry).summary.linked == 30


def test_a_name_the_registry_gives_two_clubs_this_season_goes_to_the_fixtures():
    registry = teams.seed_registry().with_names([teams.TeamName("Arsenal", "understat", "Gunners")])
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS, {"Fulham": "Gunners"})  # a wrong entry
    result = link(xg, fd, registry)
    for name, club in (("Gunners", "Fulham"), ("Arsenal", "Arsenal")):
        row = proposal(result, name)
        assert (row["canonical"], row["status"]) == (
            club,
            linking.ACCEPTED if name == "Arsenal" else linking.SEASON_ONLY,
        )
        assert row["detail"].startswith(
            "'Arsenal' and 'Gunners' all resolve to 'Arsenal' and play on the same days"
        )
    assert result.summary.linked == 30
    # the wrong entry is the registry's to fix: it is not overwritten from one season
    assert [a["name"] for a in linking.accepted_aliases(result.proposals)] == ["Arsenal"]


def test_leipzig_is_not_merged_with_rb_leipzig():
    # Understat (hypothetically) calls RB Leipzig "Leipzig", football-data's name of VfB Leipzig.
    d1_2016 = ["Bayern Munich", "RB Leipzig", "Dortmund", "Hertha", "Freiburg", "Mainz"]
    fd, xg = league_season_pair("D1", 2016, d1_2016, {"RB Leipzig": "Leipzig"})
    result = link(xg, fd, league="D1", season=2016)
    row = proposal(result, "Leipzig")
    assert (row["canonical"], row["status"]) == ("RB Leipzig", linking.ACCEPTED)
    assert row["detail"].startswith("not in the registry; ")  # the seed never aliases "Leipzig"
    accepted = [
        teams.TeamName(a["canonical"], a["source"], a["name"], origin=a["origin"])
        for a in linking.accepted_aliases(result.proposals)
    ]
    registry = teams.seed_registry().with_names(accepted)
    # In 1993/94 football-data's "Leipzig" is VfB Leipzig, and so is the xG feed's "Leipzig".
    d1_1993 = ["Bayern Munich", "Leipzig", "Dortmund", "Karlsruhe", "Freiburg", "Stuttgart"]
    fd, xg = league_season_pair("D1", 1993, d1_1993)
    old = link(xg, fd, registry, league="D1", season=1993)
    assert old.summary.linked == 30
    vfb = proposal(old, "Leipzig")
    assert (vfb["canonical"], vfb["status"]) == ("Leipzig", linking.SEASON_ONLY)
    assert set(old.links.loc[old.links["home_team"] == "Leipzig", "home_canonical"]) == {"Leipzig"}
    assert registry.canonical("Leipzig", "football_data") == "Leipzig"


def test_wimbledon_fc_and_afc_wimbledon_stay_two_clubs():
    e3 = ["AFC Wimbledon", "Luton", "Exeter", "Crewe", "Morecambe", "Barnet"]
    fd, xg = league_season_pair("E3", 2015, e3, {"AFC Wimbledon": "Wimbledon"})
    modern = link(xg, fd, league="E3", season=2015)
    assert (proposal(modern, "Wimbledon")["canonical"], modern.summary.linked) == ("AFC Wimbledon", 30)
    accepted = [
        teams.TeamName(a["canonical"], a["source"], a["name"])
        for a in linking.accepted_aliases(modern.proposals)
    ]
    e0 = ["Wimbledon", "Arsenal", "Coventry", "Everton", "Leeds", "Man United"]
    fd, xg = league_season_pair("E0", 1995, e0)
    old = link(xg, fd, teams.seed_registry().with_names(accepted), league="E0", season=1995)
    assert old.summary.linked == 30
    assert set(old.links.loc[old.links["away_team"] == "Wimbledon", "away_canonical"]) == {"Wimbledon"}
    assert old.links["match_id"].tolist() == fd["match_id"].tolist()


def test_names_unknown_on_both_sides_bootstrap_from_the_fixtures_alone():
    renamed = {team: f"Club {i}" for i, team in enumerate(E0_TEAMS)}
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS, renamed, seed=5)
    result = link(xg, fd, teams.TeamRegistry([]))
    accepted = result.proposals[result.proposals["status"] == linking.ACCEPTED]
    assert dict(zip(accepted["name"], accepted["canonical"], strict=True)) == {
        v: k for k, v in renamed.items()
    }
    assert result.summary.linked == 30


def test_a_repeated_match_links_once_and_an_unplayed_one_is_not_counted():
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS, UNDERSTAT_E0)
    repeat = xg.loc[[3]].assign(understat_id="99999", kickoff=xg.loc[3, "kickoff"] + pd.Timedelta(hours=2))
    unplayed = xg.loc[[5]].assign(understat_id="88888", is_result=False, home_goals=pd.NA, away_goals=pd.NA)
    xg = pd.concat([xg.drop(index=5), repeat, unplayed], ignore_index=True)
    fd_played = fd.copy()
    result = link(xg, fd_played)
    links = result.links.set_index("understat_id")
    assert links.loc["10003", "match_id"] == fd.loc[3, "match_id"]
    assert (
        links.loc["99999", "reason"] == "repeats Understat match 10003: football-data's match is linked there"
    )
    # not played in Understat's copy, played in football-data's: linked, the score unchecked
    assert links.loc["88888", "match_id"] == fd.loc[5, "match_id"] and not links.loc["88888", "score_checked"]
    assert (result.summary.played, result.summary.linked) == (30, 29)


@pytest.mark.parametrize(("played", "unlinked", "complete"), [(200, 1, True), (201, 2, False), (0, 0, True)])
def test_a_league_season_is_complete_up_to_half_a_percent_unlinked(played, unlinked, complete):
    summary = linking.LinkSummary("E0", 2023, played, played - unlinked, [{"reason": "-"}] * unlinked)
    assert summary.complete is complete


def test_without_football_datas_league_season_nothing_is_guessed():
    fd, xg = league_season_pair("E0", 2023, E0_TEAMS, UNDERSTAT_E0)
    result = link(xg, fd.iloc[0:0])
    assert result.proposals.empty and result.summary.linked == 0 and result.summary.played == 30
    assert {u["reason"] for u in result.summary.unlinked} == {
        "football-data's E0 2023 has no matches in the warehouse (load it first)"
    }
