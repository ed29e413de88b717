"""`footcast backfill` of the extra leagues (one file per league, every season) through the real
Dagster path from a loopback site, and `footcast leagues`."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from tests.support import Site, footcast

NOW = "2026-11-29T12:00:00+00:00"
HEADER = (
    "Country,League,Season,Date,Time,Home,Away,HG,AG,Res,PSCH,PSCD,PSCA,MaxCH,MaxCD,MaxCA,"
    "AvgCH,AvgCD,AvgCA,BFECH,BFECD,BFECA,B365CH,B365CD,B36CA"
)
PRICES = "2.10,3.40,3.60,2.20,3.50,3.80,2.05,3.30,3.50,2.12,3.45,3.70,2.00,3.30,3.55"
NOR_TEAMS = ["Molde", "Bodo/Glimt", "Brann", "Viking", "Rosenborg"]
SWZ_TEAMS = ["Basel", "Young Boys", "Servette", "Lugano", "Zurich"]


def season_rows(country: str, league: str, label: str, teams: list[str], year: int, month: int) -> list[str]:
    """A double round robin (20 matches), one a day from the 1st of ``month``."""
    pairs = [(h, a) for h in teams for a in teams if h != a]
    return [
        f"{country},{league},{label},{1 + i % 28:02d}/{month + i // 28:02d}/{year},17:00,{h},{a},"
        f"{i % 3},1,{'ADH'[i % 3]},{PRICES}"
        for i, (h, a) in enumerate(pairs)
    ]


def league_file(rows: list[str]) -> bytes:
    return ("\ufeff" + HEADER + "\r\n" + "".join(row + "\r\n" for row in rows)).encode()


NOR = season_rows("Norway", "Eliteserien", "2023", NOR_TEAMS, 2023, 4) + [
    # the relegation play-off: 14th v the club from the division below
    f"Norway,Eliteserien,2023,06/12/2023,18:00,Kongsvinger,Viking,1,2,A,{PRICES}",
    f"Norway,Eliteserien,2023,10/12/2023,18:00,Viking,Kongsvinger,2,0,H,{PRICES}",
]
NOR += season_rows("Norway", "Eliteserien", "2024", NOR_TEAMS, 2024, 4)
SWZ = season_rows("Switzerland", "Super League", "2023/2024", SWZ_TEAMS, 2023, 8)
SWZ += season_rows("Switzerland", "Super League", "2024/2025", SWZ_TEAMS, 2024, 8)


@pytest.fixture
def cli_env(footcast_home) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "MLFLOW_", "DAGSTER_"))}
    env.update({"FOOTCAST_HOME": str(footcast_home), "FOOTCAST_NOW": NOW, "FOOTCAST_HTTP_RATE": "100"})
    return env


def raw_lineage(home, league: str) -> dict[int, set[tuple[str, str]]]:
    with sqlite3.connect(home / "warehouse.sqlite") as conn:
        rows = conn.execute(
            "select season, content_hash, fetched_at from raw_matches where league = ?", (league,)
        ).fetchall()
    out: dict[int, set[tuple[str, str]]] = {}
    for season, content_hash, fetched_at in rows:
        out.setdefault(season, set()).add((content_hash, fetched_at))
    return out


def test_extra_leagues_backfill_by_season_style_and_a_changed_file_replaces_only_its_changed_seasons(
    cli_env, footcast_home
):
    site = Site()
    try:
        site.routes["/new/NOR.csv"] = (200, league_file(NOR))
        site.routes["/new/SWZ.csv"] = (200, league_file(SWZ))
        env = {**cli_env, "FOOTCAST_FOOTBALL_DATA_URL": site.url}
        # Seasons before a league's first season (2012) are skipped, not failed.
        skipped = footcast("backfill", "--leagues", "NOR", "--seasons", "2010-2011", env=env)
        assert skipped.returncode == 2 and "skipping NOR 2010..2011" in skipped.stdout, skipped.stdout
        first = footcast(
            "backfill", "--leagues", "NOR,SWZ", "--seasons", "2023-2024", "--workers", "1", env=env
        )
        assert first.returncode == 0, first.stdout + first.stderr
        for key in ("NOR|2023", "NOR|2024", "SWZ|2023-24", "SWZ|2024-25"):
            assert f"{key}: " in first.stdout
        assert (
            "4 partitions: 4 fetched, 0 unchanged, 0 failed; 82 rows validated, 0 quarantined" in first.stdout
        )
        # One download per league file feeds all its seasons.
        assert sorted(site.requests) == ["/new/NOR.csv", "/new/SWZ.csv"]
        with sqlite3.connect(footcast_home / "warehouse.sqlite") as conn:
            stages = dict(conn.execute("select stage, count(*) from matches group by stage").fetchall())
            b365 = conn.execute("select distinct odds_b365_close_a, odds_b365_open_a from matches").fetchall()
        assert stages == {"regular": 80, "play-off": 2}
        assert b365 == [(3.55, None)]  # B36CA: Bet365's closing away price; no opening prices

        # Unchanged file, second backfill: nothing downloaded, nothing new.
        again = footcast(
            "backfill", "--leagues", "NOR,SWZ", "--seasons", "2023-2024", "--workers", "1", env=env
        )
        assert again.returncode == 0 and "4 partitions: 0 fetched, 4 unchanged" in again.stdout, again.stdout
        assert len(site.requests) == 2

        # A corrected score in NOR 2024: only that season's partition changes.
        before = raw_lineage(footcast_home, "NOR")
        changed = [*NOR[:-1], NOR[-1].replace(",Rosenborg,Viking,1,1,D,", ",Rosenborg,Viking,2,1,H,")]
        assert changed != NOR
        site.routes["/new/NOR.csv"] = (200, league_file(changed))
        forced = footcast("backfill", "--leagues", "NOR", "--seasons", "2023-2024", "--force", env=env)
        assert forced.returncode == 0, forced.stdout + forced.stderr
        assert (
            "NOR|2023: 22 rows from archive" in forced.stdout
            and "NOR|2024: 20 rows from network" in forced.stdout
        )
        assert site.requests.count("/new/NOR.csv") == 2  # --force: once for both seasons
        after = raw_lineage(footcast_home, "NOR")
        assert after[2023] == before[2023]  # same rows, same lineage: not replaced
        assert after[2024] != before[2024] and len(after[2024]) == 1
        with sqlite3.connect(footcast_home / "warehouse.sqlite") as conn:
            goals = conn.execute(
                "select fthg from matches where league = 'NOR' and season = 2024 and home_team = 'Rosenborg' "
                "and away_team = 'Viking'"
            ).fetchall()
        assert goals == [(2,)]
    finally:
        site.close()

    listed = footcast("leagues", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    by_code = {row["code"]: row for row in json.loads(listed.stdout)}
    assert len(by_code) == 40  # 22 main + 16 extra + the 2 simulated
    assert by_code["NOR"] | {} == {
        **by_code["NOR"],
        "season_style": "calendar",
        "first_season": "2012",
        "seasons_held": 2,
        "matches": 42,
    }
    assert by_code["NOR"]["last_match"].startswith("2024-04-20")
    assert by_code["SWZ"]["first_season"] == "2012-13" and by_code["SWZ"]["matches"] == 40
    assert by_code["E0"]["matches"] == 0 and by_code["E0"]["first_season"] == "1993-94"
    text = footcast("leagues", "--held", env=env)
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert len(lines) == 3 and lines[1].startswith("NOR ") and "2012..2026" in lines[1] and " 42 " in lines[1]
