"""The league catalogue, season styles, and the extra-league layout's parser (``new/<CODE>.csv``)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pandas as pd
import pytest

from footcast.data import catalogue, schema
from footcast.data.extra_leagues import parse_league_file, parse_league_fixtures, season_of_label
from tests.support import SHARED_DATA

HEADER = (
    "Country,League,Season,Date,Time,Home,Away,HG,AG,Res,PSCH,PSCD,PSCA,MaxCH,MaxCD,MaxCA,"
    "AvgCH,AvgCD,AvgCA,BFECH,BFECD,BFECA,B365CH,B365CD,B36CA"
)
PRICES = "2.10,3.40,3.60,2.20,3.50,3.80,2.05,3.30,3.50,2.12,3.45,3.70,2.00,3.30,3.55"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# --- the catalogue and season styles ---------------------------------------------------------------


def test_every_league_of_both_layouts_is_in_the_catalogue_with_its_style_and_first_season():
    main = [code for code, lg in catalogue.LEAGUES.items() if lg.layout == catalogue.MAIN]
    extra = [code for code, lg in catalogue.LEAGUES.items() if lg.layout == catalogue.EXTRA]
    assert len(main) == 22 and len(extra) == 16
    assert set(extra) == set("ARG AUT BRA CHN DNK FIN IRL JPN MEX NOR POL ROU RUS SWE SWZ USA".split())
    assert catalogue.league("EC").first_season == 2005 and catalogue.league("E0").first_season == 1993
    assert catalogue.league("NOR").season_style == schema.CALENDAR
    assert catalogue.league("SWZ").season_style == schema.SPLIT
    assert {catalogue.league(code).source for code in extra} == {catalogue.FOOTBALL_DATA_EXTRA}
    assert catalogue.partition_key("NOR", 2024) == "NOR|2024"
    assert catalogue.partition_key("SWZ", 2024) == "SWZ|2024-25"
    assert catalogue.parse_partition_key("NOR|2024") == ("NOR", 2024)
    assert catalogue.parse_partition_key("E0|2023-24") == ("E0", 2023)
    with pytest.raises(ValueError, match="calendar season key"):
        catalogue.parse_partition_key("NOR|2024-25")


def test_seasons_run_from_each_leagues_first_season_to_the_last(monkeypatch):
    monkeypatch.setenv("FOOTCAST_NOW", "2026-02-01T12:00:00+00:00")
    assert catalogue.seasons("EC")[0] == 2005 and catalogue.seasons("EC")[-1] == 2025
    assert catalogue.seasons("NOR") == list(range(2012, 2027))  # calendar: 2026 has begun
    assert catalogue.seasons("SWZ") == list(range(2012, 2026))  # split: 2025-26 is current
    assert catalogue.is_completed(2025, "NOR") and not catalogue.is_completed(2025, "SWZ")


def test_season_helpers_by_style():
    assert schema.season_of(date(2024, 3, 1), schema.CALENDAR) == 2024
    assert schema.season_of(date(2024, 3, 1)) == 2023
    assert schema.season_key(2024, schema.CALENDAR) == "2024"
    assert schema.season_from_key("2024", schema.CALENDAR) == 2024
    start, end = schema.season_window(2024, schema.CALENDAR)
    assert start == utc("2024-01-01") and end == utc("2025-06-30 23:00")
    start, end = schema.season_window(2019)  # Swiss 2019-20 play-offs: 10 August 2020
    assert start == utc("2019-06-30 23:00") and end == utc("2020-08-31 23:00")
    assert season_of_label("2012") == 2012 and season_of_label("2012/2013") == 2012
    assert season_of_label("2012/2014") is None and season_of_label("12/13") is None


def test_league_selections():
    assert catalogue.select("NOR,E0") == ["E0", "NOR"]
    assert catalogue.select("country:England") == ["E0", "E1", "E2", "E3", "EC"]
    assert set(catalogue.select("tier:1")) >= {"E0", "D1", "NOR", "USA"} and "E1" not in catalogue.select(
        "tier:1"
    )
    assert len(catalogue.select("all")) == 38 and len(catalogue.select("layout:extra")) == 16
    with pytest.raises(ValueError, match="'country:Atlantis' names no league"):
        catalogue.select("E0,country:Atlantis")


# --- the extra layout ------------------------------------------------------------------------------


def league_file(rows: list[str]) -> bytes:
    return ("\ufeff" + HEADER + "\r\n" + "".join(row + "\r\n" for row in rows)).encode()


def round_robin(country: str, league: str, season: str, teams: list[str], days: list[str]) -> list[str]:
    """Every ordered pair once, one match per day of ``days`` (dd/mm/yyyy)."""
    pairs = [(h, a) for h in teams for a in teams if h != a]
    return [
        f"{country},{league},{season},{day},17:00,{h},{a},{(i % 3)},{1},{'HDA'[[1, 2, 0][i % 3]]},{PRICES}"
        for i, ((h, a), day) in enumerate(zip(pairs, days, strict=True))
    ]


def days(year: int, month: int, n: int) -> list[str]:
    return [f"{1 + i % 28:02d}/{month + i // 28:02d}/{year}" for i in range(n)]


NOR_TEAMS = ["Molde", "Bodo/Glimt", "Brann", "Viking", "Rosenborg"]  # 20 matches a season
NOR_2023 = round_robin("Norway", "Eliteserien", "2023", NOR_TEAMS, days(2023, 4, 20))
PLAY_OFF = [
    f"Norway,Eliteserien,2023,06/12/2023,18:00,Kongsvinger,Viking,1,2,A,{PRICES}",
    f"Norway,Eliteserien,2023,10/12/2023,18:00,Viking,Kongsvinger,2,0,H,{PRICES}",
]


def test_an_extra_league_file_gives_each_season_its_rows_with_closing_prices_and_play_offs_marked():
    content = league_file(
        NOR_2023 + PLAY_OFF + round_robin("Norway", "Eliteserien", "2024", NOR_TEAMS, days(2024, 4, 20))
    )
    parsed = parse_league_file(content, league="NOR", source_url="http://x/new/NOR.csv", content_hash="h")
    assert sorted(parsed.seasons) == [2023, 2024]
    first = parsed.season(2023).matches
    assert len(first) == 22 and parsed.season(2023).rejected.empty
    assert first.stage.tolist() == ["regular"] * 20 + ["play-off"] * 2
    assert parsed.season(2024).matches.stage.eq("regular").all()
    assert first.season.eq(2023).all() and first.league.eq("NOR").all()
    assert first.source_line.tolist()[:2] == [2, 3]
    assert first.kickoff.iloc[0] == utc("2023-04-01 16:00")  # 17:00 UK local (BST)
    # Closing prices only, to the canonical closing columns; B36CA is Bet365's closing away price.
    assert first.odds_b365_close_a.eq(3.55).all() and first.odds_ps_close_h.eq(2.10).all()
    assert first.odds_max_close_d.eq(3.50).all() and first.odds_avg_close_a.eq(3.50).all()
    opening = [c for c in schema.ODDS_COLUMNS if "_open_" in c]
    assert first[opening].isna().all().all()


def test_split_seasons_of_the_extra_layout_and_row_tolerance():
    rows = round_robin("Switzerland", "Super League", "2023/2024", NOR_TEAMS, days(2023, 8, 20))
    rows[3] = rows[3].replace(",2.20,", ",2.2x,")  # a bad price: a finding, the row kept
    rows.append("Switzerland,Super League,2023/2024,31/02/2024,18:00,Molde,Brann,1,1,D," + PRICES)  # bad date
    rows.append(
        "Switzerland,Super League,20232024,01/03/2024,18:00,Brann,Molde,1,1,D," + PRICES
    )  # bad season
    parsed = parse_league_file(league_file(rows), league="SWZ", source_url="u", content_hash="h")
    season = parsed.season(2023)
    assert len(season.matches) == 20 and len(season.rejected) == 2
    assert "31/02/2024" in season.rejected.reason.iloc[0] and "Season" in season.rejected.reason.iloc[1]
    assert pd.isna(season.matches.odds_max_close_h.iloc[3]) and "2.2x" in season.matches.findings.iloc[3]


def test_fixtures_of_the_extra_leagues_name_their_league_by_country():
    header = "Country,League,Season,Date,Time,Home,Away,PSCH,PSCD,PSCA"
    body = "\r\n".join(
        [
            header,
            "Norway,Eliteserien,2026,14/03/2026,17:00,Molde,Brann,2.10,3.40,3.60",
            "Switzerland,Super League,2025/2026,15/03/2026,15:30,Basel,Servette,1.90,3.60,4.00",
            "Japan,J1 League,2026,15/03/2026,06:00,Kashima,Urawa,2.40,3.20,3.00",
        ]
    ).encode()
    frame = parse_league_fixtures(
        body, leagues_by_country={"Norway": "NOR", "Switzerland": "SWZ"}, source_url="u", content_hash="h"
    )
    assert frame.league.tolist() == ["NOR", "SWZ"] and frame.season.tolist() == [2026, 2025]
    # A price in a fixtures list is published before kickoff: an opening price.
    assert frame.odds_ps_open_h.tolist() == [2.10, 1.90] and frame.odds_ps_close_h.isna().all()


# --- the real files --------------------------------------------------------------------------------

REAL_EXTRA = SHARED_DATA / "new"


@pytest.mark.parametrize("code", ["NOR", "SWZ"])
def test_the_real_extra_league_files_load_with_exactly_their_rows(code):
    path = REAL_EXTRA / f"{code}.csv"
    if not path.exists():
        pytest.skip(f"real extra-league files not found at {REAL_EXTRA}")
    content = path.read_bytes()
    published = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    parsed = parse_league_file(content, league=code, source_url=str(path), content_hash="h")
    by_label: dict[int, int] = {}
    for row in published:
        by_label[season_of_label(row["Season"])] = by_label.get(season_of_label(row["Season"]), 0) + 1
    assert {season: len(p.matches) for season, p in parsed.seasons.items()} == by_label
    assert all(p.rejected.empty for p in parsed.seasons.values())
    kept = pd.concat([p.matches for p in parsed.seasons.values()])
    assert kept.findings.isna().all() and kept.match_id.is_unique
    lines = sorted(kept.source_line.tolist())
    assert lines == list(range(2, len(published) + 2))
    # Play-offs: the club from the division below plays one or two matches, against 30-38.
    play_offs = kept[kept.stage == "play-off"]
    assert 0 < len(play_offs) <= 2 * len(parsed.seasons)
    for _season, games in play_offs.groupby("season"):
        teams = pd.concat([games.home_team, games.away_team]).value_counts()
        assert len(teams) == 2 and set(teams) <= {1, 2}
    for style_season, p in parsed.seasons.items():
        start, end = catalogue.season_window(code, style_season)
        assert p.matches.kickoff.between(start, end, inclusive="left").all()
