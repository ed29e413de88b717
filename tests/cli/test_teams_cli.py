"""`footcast teams` as a user runs it (a real process): the links per league-season and the
unresolved names as JSON and as text, and `--accept` storing an alias and linking again."""

from __future__ import annotations

import json
import os

import pytest

from footcast.services import linking
from tests.support import footcast, league_season_pair, store_league_season

E0_TEAMS = ["Man United", "Wolves", "Arsenal", "Tottenham", "Leeds", "Fulham"]


@pytest.fixture
def env(warehouse, footcast_home) -> dict[str, str]:
    """The command's environment, on the test's warehouse (SQLite, or a schema on PostgreSQL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "MLFLOW_", "DAGSTER_"))}
    env.update(
        {
            "FOOTCAST_HOME": str(footcast_home),
            "FOOTCAST_NOW": "2026-11-29T12:00:00+00:00",
            "FOOTCAST_WAREHOUSE_URL": warehouse.url,
            "FOOTCAST_WAREHOUSE_SCHEMA": warehouse.db_schema or "",
        }
    )
    return env


def test_teams_lists_links_and_unresolved_names_and_accepts_an_alias(warehouse, env, monkeypatch, tmp_path):
    monkeypatch.setenv("FOOTCAST_NOW", "2026-11-29T11:00:00+00:00")  # linked before the user acts
    fd, xg = league_season_pair(
        "E0", 2023, E0_TEAMS, {"Man United": "Manchester United", "Leeds": "Leeds U."}
    )
    leeds = xg.index[(xg["home_team"] == "Leeds U.") | (xg["away_team"] == "Leeds U.")]
    xg.loc[leeds[:5], "away_goals"] = xg.loc[leeds[:5], "away_goals"] + 4  # half of them disagree
    store_league_season(warehouse, fd, xg)
    linking.link_partition(warehouse, "E0", 2023)

    result = footcast("teams", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == ["links", "unresolved"]
    [season] = report["links"]
    assert list(season) == ["league", "season", "played", "linked", "unlinked"]
    assert (season["league"], season["season"], season["played"], season["linked"]) == ("E0", 2023, 30, 20)
    assert {u["reason"] for u in season["unlinked"]} == {"unresolved team name: 'Leeds U.'"}
    [name] = report["unresolved"]
    assert (name["source"], name["name"]) == ("understat", "Leeds U.")
    assert [(p["canonical"], p["evidence"], p["matches"], p["status"]) for p in name["proposals"]][0] == (
        "Leeds",
        5,
        10,
        "weak",
    )

    text = footcast("teams", env=env)
    assert text.returncode == 0, text.stderr
    assert ["E0|2023-24", "30", "20", "10"] in [line.split() for line in text.stdout.splitlines()]
    assert "  understat 'Leeds U.'" in text.stdout
    assert "      E0|2023-24: 'Leeds', 5 of 10 matches agree (confidence 0.50, weak)" in text.stdout

    accepted = footcast("teams", "--accept", "Leeds U.=leeds", "--source", "understat", env=env)
    assert accepted.returncode == 0, accepted.stderr
    # Accepted, and the league-season linked again at once (a Dagster run of understat_links):
    # linked now through the alias, except the five whose scores disagree; nothing unresolved.
    assert accepted.stdout.splitlines() == [
        "accepted understat name 'Leeds U.' as 'Leeds'",
        "relinked E0|2023-24: 25 of 30 played matches linked",
    ]
    after = json.loads(footcast("teams", "--json", env=env).stdout)
    assert (after["links"][0]["linked"], after["unresolved"]) == (25, [])
    import dagster as dg

    with dg.DagsterInstance.get() as instance:  # DAGSTER_HOME: under footcast_home, as the command
        [run] = instance.get_run_records(dg.RunsFilter(job_name="link_understat"))
        assert run.dagster_run.is_success and run.dagster_run.tags["dagster/partition"] == "E0|2023-24"
    exported = footcast("export", "team_aliases", "--out", str(tmp_path / "aliases.csv"), env=env)
    assert exported.returncode == 0, exported.stderr
    assert "Leeds U.,Leeds,manual" in (tmp_path / "aliases.csv").read_text()


def test_teams_bad_usage_exits_2_with_one_line(footcast_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "MLFLOW_", "DAGSTER_"))}
    env["FOOTCAST_HOME"] = str(footcast_home)  # the embedded default warehouse, empty
    for argv, message in (
        (("--accept", "Leeds U.=Gotham City"), "'Gotham City' is not a known club"),
        (("--accept", "Leeds U."), "is not NAME=CANONICAL"),
        (("--source", "understat"), "--source goes with --accept"),
        (("--no-relink",), "--no-relink goes with --accept"),
        (("--accept", "A=Leeds", "--source", "football_data"), "invalid choice: 'football_data'"),
    ):
        result = footcast("teams", *argv, env=env)
        assert result.returncode == 2 and message in result.stderr, (argv, result.stderr)
    empty = footcast("teams", "--json", env=env)
    assert empty.returncode == 0 and json.loads(empty.stdout) == {"links": [], "unresolved": []}
