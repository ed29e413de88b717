"""`footcast backfill` loads every source a league has: football-data.co.uk's results and, for the
leagues with an xG feed, Understat's xG linked to those results; `--sources` narrows it. A real
`footcast` process against football-data and Understat on loopback (and the simulator)."""

from __future__ import annotations

import json
import os

import pytest

from tests.support import GOOD_E0, Site, UnderstatSite, footcast

NOW = "2026-11-29T12:00:00+00:00"


def understat_e0_2024() -> bytes:
    """Understat's league data for GOOD_E0's three matches: Understat's names, UTC kickoffs."""

    def match(number, home, away, goals, kickoff):
        return {
            "id": str(26600 + number),
            "isResult": True,
            "h": {"id": str(80 + 2 * number), "title": home, "short_title": home[:3].upper()},
            "a": {"id": str(81 + 2 * number), "title": away, "short_title": away[:3].upper()},
            "goals": {"h": str(goals[0]), "a": str(goals[1])},
            "xG": {"h": "1.214", "a": "0.6532"},
            "datetime": kickoff,
        }

    dates = [
        match(1, "Manchester United", "Fulham", (1, 0), "2024-08-16 19:00:00"),
        match(2, "Ipswich", "Liverpool", (0, 2), "2024-08-17 11:30:00"),
        match(3, "Arsenal", "Wolverhampton Wanderers", (2, 0), "2024-08-17 14:00:00"),
    ]
    return json.dumps({"teams": {}, "players": [], "dates": dates}).encode()


@pytest.fixture
def sites(footcast_home):
    football_data, understat = Site(), UnderstatSite()
    football_data.routes["/mmz4281/2425/E0.csv"] = (200, GOOD_E0)
    understat.data["EPL/2024"] = understat_e0_2024()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "MLFLOW_", "DAGSTER_"))}
    env.update(
        {
            "FOOTCAST_HOME": str(footcast_home),
            "FOOTCAST_NOW": NOW,
            "FOOTCAST_FOOTBALL_DATA_URL": football_data.url,
            "FOOTCAST_UNDERSTAT_URL": understat.url,
            "FOOTCAST_HTTP_RATE": "100",
        }
    )
    yield env, football_data, understat
    football_data.close()
    understat.close()


def test_a_backfill_loads_the_results_then_the_xg_and_links_them_and_sources_narrows_it(sites):
    env, football_data, understat = sites
    both = footcast("backfill", "--leagues", "E0,SIM1", "--seasons", "2024", "--workers", "1", env=env)
    assert both.returncode == 0, both.stdout + both.stderr
    results, _sep, xg = both.stdout.partition("footcast backfill: Understat xG")
    # The results first, as a backfill of football-data alone reports them.
    assert "raw + validated for 2 league-season partitions" in results
    assert "2 partitions: 2 fetched, 0 unchanged, 0 failed; 383 rows validated, 0 quarantined" in results
    # Then the xG of the same league-seasons, each linked to its results through the registry
    # (Understat's "Manchester United" and "Wolverhampton Wanderers"; the simulator's quirks).
    assert "raw + validated + links for 2 league-season partitions" in xg
    assert "E0|2024-25: 3 rows from network, 0 quarantined, 3 of 3 played linked" in xg
    assert "SIM1|2024-25: 380 rows from simulated, 0 quarantined, 380 of 380 played linked" in xg
    assert (
        "2 Understat partitions: 2 fetched, 0 unchanged, 0 failed; 383 rows validated, 0 quarantined; "
        "383 of 383 played matches linked; 2 HTTP requests" in xg
    )
    assert understat.paths() == ["/league/EPL/2024", "/getLeagueData/EPL/2024"]
    assert football_data.requests == ["/mmz4281/2425/E0.csv"]

    # Understat alone: E1 has no xG feed (said, skipped); a season Understat does not answer
    # fails in one line naming the URL, exit 1; the completed 2024/25 comes from the archive.
    narrowed = footcast(
        "backfill", "--sources", "understat", "--leagues", "E0,E1", "--seasons", "2023-2024", env=env
    )
    assert narrowed.returncode == 1
    assert "skipping Understat xG of E1 (no xG feed" in narrowed.stdout
    assert "raw + validated for" not in narrowed.stdout  # no football-data section
    assert "2 Understat partitions: 0 fetched, 1 unchanged, 1 failed; 3 rows validated" in narrowed.stdout
    assert "3 of 3 played matches linked" in narrowed.stdout
    assert narrowed.stderr.count("\n") == 1 and "no such season" in narrowed.stderr
    assert f"{understat.url}/league/EPL/2023 answered HTTP 404" in narrowed.stderr  # (the league page)
    assert "/getLeagueData/EPL/2024" not in understat.paths()[2:]
    assert football_data.requests == ["/mmz4281/2425/E0.csv"]


def test_sources_must_name_sources_with_something_to_load(sites):
    env, _football_data, understat = sites
    wrong = footcast("backfill", "--sources", "understat,xg", "--leagues", "E0", "--seasons", "2024", env=env)
    assert wrong.returncode == 2 and "'xg' names no source; use football-data or understat" in wrong.stderr
    nothing = footcast("backfill", "--sources", "understat", "--leagues", "E1", "--seasons", "2024", env=env)
    assert nothing.returncode == 2 and "none of the leagues has xG in 2024-2024" in nothing.stderr
    early = footcast(
        "backfill", "--sources", "understat", "--leagues", "E0", "--seasons", "2010-2013", env=env
    )
    assert early.returncode == 2 and "Understat has E0 from 2014-15" in early.stdout
    assert understat.paths() == []
