"""Understat's league data JSON -> one row per match, row-level tolerance, whole-body errors;
the catalogue's Understat leagues; every real EPL/Bundesliga file of /work/shared parses."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from footcast.data import catalogue
from footcast.data.football_data import SourceFormatError
from footcast.data.understat import UNDERSTAT_COLUMNS, UNDERSTAT_DTYPES, parse_league_data
from tests.support import SHARED_UNDERSTAT, understat_league_data

URL = "https://understat.example/getLeagueData/EPL/2023"
PARTITION = "E0|2023-24"


def parse(content: bytes, season: int = 2023):
    return parse_league_data(
        content, league="E0", season=season, source_url=URL, content_hash="abc", partition=PARTITION
    )


def body(dates: list) -> bytes:
    return json.dumps({"teams": {}, "players": [], "dates": dates}).encode()


PLAYED = {
    "id": "22275",
    "isResult": True,
    "h": {"id": "699", "title": "Burnley", "short_title": "BUR"},
    "a": {"id": "284", "title": "Manchester City", "short_title": "MAN"},
    "goals": {"h": "0", "a": "3"},
    "xG": {"h": "0.311032", "a": "2.40074"},
    "datetime": "2023-08-11 19:00:00",
    "forecast": {"w": "0.0177", "d": "0.0854", "l": "0.8969"},
}
NOT_PLAYED = {
    **PLAYED,
    "id": "22276",
    "isResult": False,
    "h": {"id": "84", "title": "Manchester United", "short_title": "MUN"},
    "a": {"id": "568", "title": "Wolverhampton Wanderers", "short_title": "WOL"},
    "goals": {"h": None, "a": None},
    "xG": {"h": None, "a": None},
    "datetime": "2024-05-19 15:00:00",
}
del NOT_PLAYED["forecast"]


def test_one_row_per_match_with_the_published_values_and_dtypes():
    parsed = parse(body([PLAYED, NOT_PLAYED]))
    frame = parsed.matches
    assert tuple(frame.columns) == UNDERSTAT_COLUMNS
    assert {c: str(frame[c].dtype) for c in frame.columns} == {
        c: str(pd.Series(dtype=d).dtype) for c, d in UNDERSTAT_DTYPES.items()
    }
    assert str(frame["kickoff"].dtype) == "datetime64[ns, UTC]"
    played, upcoming = frame.iloc[0], frame.iloc[1]
    assert played["understat_id"] == "22275" and played["league"] == "E0" and played["season"] == 2023
    assert played["kickoff"] == pd.Timestamp("2023-08-11 19:00", tz="UTC")  # Understat's datetime is UTC
    assert (played["home_team"], played["away_team"]) == ("Burnley", "Manchester City")
    assert (played["home_team_understat_id"], played["away_team_understat_id"]) == ("699", "284")
    assert (played["home_goals"], played["away_goals"]) == (0, 3)
    assert (played["home_xg"], played["away_xg"]) == (0.311032, 2.40074)
    assert played["is_result"]
    assert [played[f"post_match_forecast_{o}"] for o in ("home", "draw", "away")] == [0.0177, 0.0854, 0.8969]
    assert (played["source_url"], played["content_hash"], played["source_index"]) == (URL, "abc", 1)
    assert pd.isna(played["findings"])
    # Not played yet: no goals, no xG, no forecast (null, never zero).
    assert not upcoming["is_result"]
    for column in ("home_goals", "away_goals", "home_xg", "away_xg", "post_match_forecast_home"):
        assert pd.isna(upcoming[column]), column
    assert parsed.played == 1 and parsed.rejected.empty


def test_a_bad_cell_is_a_finding_and_an_unreadable_match_is_rejected_not_a_file_failure():
    bad_xg = {**PLAYED, "id": "1", "xG": {"h": "abc", "a": "1.2"}}
    bad_goals = {**PLAYED, "id": "2", "goals": {"h": "1.5", "a": "0"}}
    no_id = {**PLAYED, "id": ""}
    bad_time = {**PLAYED, "id": "4", "datetime": "yesterday"}
    no_flag = {**PLAYED, "id": "5", "isResult": "maybe"}
    parsed = parse(body([PLAYED, bad_xg, bad_goals, no_id, bad_time, no_flag, PLAYED, 7]))
    kept = parsed.matches.set_index("understat_id")
    assert list(kept.index) == ["22275", "1", "2"]
    assert pd.isna(kept.at["1", "home_xg"]) and kept.at["1", "away_xg"] == 1.2
    assert json.loads(kept.at["1", "findings"]) == [
        {"column": "home_xg", "raw": "abc", "reason": "xG.h 'abc' is not a number"}
    ]
    assert pd.isna(kept.at["2", "home_goals"]) and kept.at["2", "away_goals"] == 0
    assert json.loads(kept.at["2", "findings"])[0]["column"] == "home_goals"
    rejected = parsed.rejected
    assert list(rejected["source_index"]) == [4, 5, 6, 7, 8]
    assert list(rejected["rejection"]) == ["unparseable"] * 3 + ["duplicate", "unparseable"]
    reasons = list(rejected["reason"])
    assert "id" in reasons[0] and "yesterday" in reasons[1] and "isResult" in reasons[2]
    assert reasons[3] == "repeats element 1 of dates exactly; the first is kept"
    # What parsed of a rejected element is kept beside its JSON text.
    assert rejected["understat_id"].iloc[1] == "4" and rejected["home_team"].iloc[0] == "Burnley"
    assert json.loads(rejected["raw_text"].iloc[2])["isResult"] == "maybe"
    assert rejected["raw_text"].iloc[4] == "7"


@pytest.mark.parametrize(
    "content, cause",
    [
        (b"<!DOCTYPE html><html><body>Just a moment...</body></html>", "HTML page"),
        (understat_league_data(2023, 20)[:-300], "truncated JSON"),
        (b"", "empty body"),
        (b"[1, 2]", "not an object"),
        (b'{"teams": {}, "players": []}', "no dates list"),
        (b'{"dates": {"1": {}}}', "dates is a dict"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
    ],
)
def test_a_body_that_is_not_the_league_data_fails_naming_url_partition_and_cause(content, cause):
    with pytest.raises(SourceFormatError) as raised:
        parse(content)
    message = str(raised.value)
    assert URL in message and PARTITION in message and cause in message
    assert "\n" not in message


def test_the_catalogue_maps_understat_leagues_both_ways():
    assert catalogue.understat_league("E0") == catalogue.understat_league("EPL") == ("E0", "EPL")
    assert catalogue.understat_league("RFPL") == ("RUS", "RFPL")
    pairs = {catalogue.understat_league(code) for code in ("E0", "SP1", "D1", "I1", "F1", "RUS")}
    assert {name for _code, name in pairs} == {"EPL", "La_liga", "Bundesliga", "Serie_A", "Ligue_1", "RFPL"}
    assert all(code in catalogue.LEAGUES for code, _name in pairs)
    with pytest.raises(ValueError, match="not a league Understat covers"):
        catalogue.understat_league("E1")
    assert catalogue.understat_seasons("D1")[0] == 2014


def real_files() -> list:
    files = sorted((SHARED_UNDERSTAT / "getLeagueData").glob("*/*.json"))
    return files or [pytest.param(None, marks=pytest.mark.skip(reason=f"{SHARED_UNDERSTAT} not found"))]


@pytest.mark.parametrize("path", real_files(), ids=lambda p: f"{p.parent.name}-{p.stem}" if p else "none")
def test_every_real_season_file_parses_with_exactly_its_matches(path):
    content = path.read_bytes()
    league, _name = catalogue.understat_league(path.parent.name)
    season = int(path.stem)
    dates = json.loads(content)["dates"]
    parsed = parse_league_data(
        content,
        league=league,
        season=season,
        source_url=str(path),
        content_hash="h",
        partition=catalogue.partition_key(league, season),
    )
    frame = parsed.matches
    assert parsed.rejected.empty and frame["findings"].isna().all()
    assert list(frame["understat_id"]) == [d["id"] for d in dates]
    assert parsed.played == sum(d["isResult"] for d in dates)
    played = frame[frame["is_result"]]
    assert played[["home_goals", "away_goals", "home_xg", "away_xg"]].notna().all().all()
    start, end = catalogue.season_window(league, season)
    assert frame["kickoff"].between(start, end, inclusive="left").all()
