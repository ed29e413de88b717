"""football-data.co.uk parser and team alias table.

Small inline byte strings cover each quirk and each error class. The real-data tests parse
every file of the development copy (FOOTCAST_FOOTBALL_DATA_DIR, default ../shared/football-data
next to the repository) and are skipped when it is absent; its files are never copied here.
"""

from __future__ import annotations

import codecs
import csv
import os
import pickle
import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from footcast.data import schema, teams
from footcast.data.football_data import SourceFormatError, parse_fixtures, parse_results
from tests.support import SHARED_DATA

URL = "http://127.0.0.1:8765/mmz4281/2425/E0.csv"


def results(body: str | bytes, *, league: str = "E0", season: int = 2024, url: str = URL) -> pd.DataFrame:
    content = body.encode() if isinstance(body, str) else body
    return parse_results(content, league=league, season=season, source_url=url, content_hash="sha-x")


def failure(body: str | bytes, **kwargs) -> SourceFormatError:
    with pytest.raises(SourceFormatError) as info:
        results(body, **kwargs)
    return info.value


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def assert_canonical(frame: pd.DataFrame, columns: tuple[str, ...] = schema.MATCH_COLUMNS) -> None:
    assert tuple(frame.columns) == columns
    pd.testing.assert_frame_equal(frame, schema.conform(frame, columns))


# A 2024/25-style file: Time column, closing odds, Betfair columns that are not kept.
MODERN_HEADER = (
    "Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HTHG,HTAG,HTR,Referee,HS,AS,HST,AST,HF,AF,HC,AC,"
    "HY,AY,HR,AR,B365H,B365D,B365A,BWH,BWD,BWA,PSH,PSD,PSA,WHH,WHD,WHA,MaxH,MaxD,MaxA,AvgH,AvgD,AvgA,"
    "BFEH,BFED,BFEA,B365CH,B365CD,B365CA,PSCH,PSCD,PSCA,MaxCH,MaxCD,MaxCA,AvgCH,AvgCD,AvgCA"
)
MODERN_ROWS = (
    "E0,16/08/2024,20:00,Man United,Fulham,1,0,H,0,0,D,R Jones,14,10,5,2,12,10,7,8,2,3,0,0,"
    "1.6,4.2,5.25,1.6,4.4,5.25,1.63,4.38,5.3,1.65,4.2,5,1.68,4.5,5.5,1.62,4.36,5.15,"
    "1.66,4.5,5.6,1.67,4.1,5,1.65,4.23,5.28,1.7,4.33,5.5,1.66,4.2,5.04",
    "E0,14/12/2024,15:00,Nott'm Forest,Aston Villa,2,1,H,1,1,D,C Kavanagh,11,19,4,6,9,8,3,9,1,2,0,1,"
    "3.2,3.5,2.2,3.2,3.4,2.25,3.25,3.59,2.24,3.1,3.4,2.2,3.35,3.6,2.3,3.18,3.49,2.21,"
    "3.4,3.7,2.3,3.0,3.5,2.4,3.03,3.55,2.44,3.1,3.6,2.5,3.01,3.5,2.41",
)


def modern(newline: str = "\r\n", bom: bool = True) -> bytes:
    text = newline.join((MODERN_HEADER, *MODERN_ROWS)) + newline
    return (codecs.BOM_UTF8 if bom else b"") + text.encode()


# --- quirks that must parse ----------------------------------------------------------------


def test_modern_file_maps_keys_results_stats_and_odds():
    frame = results(modern())
    assert_canonical(frame)
    assert len(frame) == 2
    first, second = frame.iloc[0], frame.iloc[1]
    assert (first.league, first.season, first.home_team, first.away_team) == (
        "E0",
        2024,
        "Man United",
        "Fulham",
    )
    assert first.match_id == schema.make_match_id("E0", 2024, "Man United", "Fulham")
    assert first.kickoff == utc("2024-08-16 19:00")  # 20:00 BST
    assert second.kickoff == utc("2024-12-14 15:00")  # 15:00 GMT
    assert frame.kickoff_time_known.tolist() == [True, True]
    assert (first.fthg, first.ftag, first.ftr, first.hthg, first.htag, first.htr) == (1, 0, "H", 0, 0, "D")
    assert (first.home_shots, first.away_shots, first.home_shots_on_target, first.away_shots_on_target) == (
        14,
        10,
        5,
        2,
    )
    assert (first.home_fouls, first.away_fouls, first.home_corners, first.away_corners) == (12, 10, 7, 8)
    assert (second.home_yellow, second.away_yellow, second.home_red, second.away_red) == (1, 2, 0, 1)
    assert (first.odds_b365_open_h, first.odds_b365_open_d, first.odds_b365_open_a) == (1.6, 4.2, 5.25)
    assert (first.odds_bw_open_h, first.odds_ps_open_h, first.odds_wh_open_h) == (1.6, 1.63, 1.65)
    assert (first.odds_max_open_h, first.odds_avg_open_h) == (1.68, 1.62)
    assert (first.odds_b365_close_h, first.odds_ps_close_h) == (1.67, 1.65)
    assert (first.odds_max_close_h, first.odds_avg_close_a) == (1.7, 5.04)
    assert frame.odds_iw_open_h.isna().all() and frame.odds_vc_close_h.isna().all()
    assert frame.source.tolist() == ["football-data"] * 2
    assert frame.source_url.tolist() == [URL] * 2
    assert frame.content_hash.tolist() == ["sha-x"] * 2
    assert frame.source_line.tolist() == [2, 3]


def test_line_endings_and_bom_do_not_change_the_result():
    expected = results(modern("\r\n", bom=True))
    for newline in ("\n", "\r"):
        for bom in (True, False):
            pd.testing.assert_frame_equal(results(modern(newline, bom)), expected)


def test_old_file_two_digit_years_nominal_kickoff_and_all_comma_rows():
    body = (
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HTHG,HTAG,HTR,,,,,\n"
        "E0,07/08/99,Sheffield Weds,Liverpool,1,2,A,1,0,H,,,,,\n"
        ",,,,,,,,,,,,,,\n"
        "E0,14/05/00,Middlesboro,Watford,1,1,D,0,1,A,,,,,\n"
        ",,,,,,,,,,,,,,\n"
        ",,,,,,,,,,,,,,\n"
    )
    frame = results(body, season=1999, url="u")
    assert_canonical(frame)
    assert frame.source_line.tolist() == [2, 4]
    assert frame.kickoff.tolist() == [utc("1999-08-07 14:00"), utc("2000-05-14 14:00")]  # 15:00 BST
    assert frame.kickoff_time_known.tolist() == [False, False]
    assert frame.home_team.tolist() == ["Sheffield Weds", "Middlesbrough"]
    assert frame.odds_b365_open_h.isna().all() and frame.home_shots.isna().all()


def test_four_digit_years_and_empty_time_cell():
    body = (
        "Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG\n"
        "E0,17/08/2002,,Blackburn,Sunderland,0,0\n"
        "E0,18/08/2002,16:05,Charlton,Chelsea,2,3\n"
    )
    frame = results(body, season=2002)
    assert frame.kickoff.tolist() == [utc("2002-08-17 14:00"), utc("2002-08-18 15:05")]
    assert frame.kickoff_time_known.tolist() == [False, True]
    assert frame.ftr.tolist() == ["D", "A"]  # derived: the file has no FTR column


def test_ragged_rows_padded_or_trimmed_when_the_difference_is_trailing_empties():
    body = (
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,B365H,B365D,B365A,GB>2.5,GB<2.5,,,\n"
        "E0,17/08/02,Blackburn,Sunderland,0,0,D,1.727,3.25,4.333,1.82,1.82\n"  # short: 12 of 12 named
        "E0,17/08/02,Charlton,Chelsea,2,3,A,2.8,3.25,2.2\n"  # short: missing trailing columns
        "E0,17/08/02,Everton,Tottenham,2,2,D,2.25,3.2,2.8,1.9,1.8,,,,,,,\n"  # long: trailing empties
    )
    frame = results(body, season=2002)
    assert len(frame) == 3
    assert frame.odds_b365_open_a.tolist() == [4.333, 2.2, 2.8]
    assert frame.source_line.tolist() == [2, 3, 4]


def test_data_beyond_the_header_is_an_error_not_silently_cut():
    body = (
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/02,Blackburn,Sunderland,0,0\nE0,17/08/02,A,B,1,1,7\n"
    )
    error = failure(body)
    assert error.line == 3 and "beyond the header" in error.cause


def test_cp1252_bytes_decode():
    body = (
        b"Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,Referee\n"
        b"D1,11/08/00,Dortmund,1860 M\xfcnchen,1,0,H,\xa0Markus Merk\n"
        b"D1,12/08/00,Bayern M\xfcnchen,Hertha,4,1,H,J\xf6rg\n"
    )
    frame = results(body, league="D1", season=2000)
    assert frame.away_team.iloc[0] == "Munich 1860"
    assert frame.home_team.iloc[1] == "Bayern Munich"


def test_bom_in_front_of_cp1252_bytes():
    body = (
        codecs.BOM_UTF8
        + b"Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\r\nD1,01/08/03,Bayern M\xfcnchen,K\xf6ln,3,1\r\n"
    )
    frame = results(body, league="D1", season=2003)
    assert (frame.home_team.iloc[0], frame.away_team.iloc[0]) == ("Bayern Munich", "FC Koln")


def test_betbrain_aggregates_are_avg_and_max_and_avg_wins_when_both_exist():
    body = (
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,BbMxH,BbAvH,BbMxD,BbAvD,BbMxA,BbAvA,AvgH,BbAHh,BbAvAHH\n"
        "E0,13/08/05,Aston Villa,Bolton,2,2,2.4,2.2,3.3,3.16,3.4,3.05,2.25,-0.25,2.01\n"
        "E0,13/08/05,Everton,Man United,0,2,5.65,4.69,3.7,3.36,1.8,1.69,,-0.5,1.9\n"
    )
    frame = results(body, season=2005)
    assert frame.odds_max_open_h.tolist() == [2.4, 5.65]
    assert frame.odds_avg_open_h.tolist() == [2.25, 4.69]  # Avg first, BbAv fills its gap
    assert frame.odds_avg_open_d.tolist() == [3.16, 3.36]
    assert frame.odds_avg_close_h.isna().all()


def test_older_column_names_and_derived_result_letters():
    body = "Div,Date,HT,AT,HG,AG\nE0,14/08/93,Arsenal,Coventry,0,3\nE0,14/08/93,Aston Villa,QPR,4,1\n"
    frame = results(body, season=1993)
    assert frame.home_team.tolist() == ["Arsenal", "Aston Villa"]
    assert frame.fthg.tolist() == [0, 4] and frame.ftr.tolist() == ["A", "H"]
    assert frame.htr.isna().all()


def test_source_line_counts_physical_lines_across_quoted_newlines_and_blank_lines():
    body = (
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,Referee\r\n"
        "\r\n"
        'E0,17/08/02,Blackburn,Sunderland,0,0,"D\r\nElleray"\r\n'
        ",,,,,,\r\n"
        "E0,17/08/02,Charlton,Chelsea,2,3,G Barber\r\n"
    )
    assert results(body, season=2002).source_line.tolist() == [3, 6]


def test_header_only_file_gives_an_empty_canonical_frame():
    frame = results("Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR\r\n,,,,,,\r\n")
    assert len(frame) == 0
    assert_canonical(frame)


def test_same_league_code_free_path_for_other_divisions():
    body = "Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG,FTR\nSP1,15/08/2024,18:30,Ath Bilbao,Getafe,1,1,D\n"
    frame = results(body, league="SP1", season=2024)
    assert frame.match_id.iloc[0] == schema.make_match_id("SP1", 2024, "Ath Bilbao", "Getafe")
    assert frame.kickoff.iloc[0] == utc("2024-08-15 17:30")


# --- errors --------------------------------------------------------------------------------


def test_error_message_is_one_line_naming_source_partition_and_line_and_pickles():
    error = failure(
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,Arsenal,Wolves,2,0\nE0,17/08/2024,A,B,x,0\n"
    )
    assert isinstance(error, ValueError)
    assert (error.source_url, error.line) == (URL, 3)
    assert "FTHG" in error.cause and "'x'" in error.cause
    message = str(error)
    assert "\n" not in message and URL in message and "line 3" in message and "E0|2024-25" in message
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.source_url, clone.line, clone.cause, str(clone)) == (URL, 3, error.cause, message)


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html>\n<html><head><title>Not Found</title></head><body>404</body></html>\n",
        b"\xef\xbb\xbf  <html>\r\n<body>Service Unavailable</body></html>",
        b"\n<?xml version='1.0'?><error>denied</error>",
    ],
)
def test_html_page_instead_of_csv(body):
    error = failure(body)
    assert error.line is None and "HTML" in error.cause


@pytest.mark.parametrize("body", [b"", b"\r\n\r\n", b"   ", codecs.BOM_UTF8, b",,,,\n,,,,\n"])
def test_empty_body(body):
    assert "empty body" in failure(body).cause


def test_truncated_last_row():
    full = modern()
    cut = full[: full.rindex(b"Nott'm For") + len(b"Nott'm For")]
    error = failure(cut)
    assert error.line == 3 and "truncated" in error.cause
    # cut in the odds: every required value is there, but the row is shorter than all others
    cut = full[: full.rindex(b",3.59,")]
    error = failure(cut)
    assert error.line == 3 and "truncated" in error.cause
    # cut inside a required value of a file whose rows are all short anyway
    error = failure("Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,Arsenal,Wolves,2,0\nE0,18/08/20")
    assert error.line == 3


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("E0,18/08/2024,Chelsea,Man City,two,2", "FTHG"),
        ("E0,18/08/2024,Chelsea,Man City,0,-1", "FTAG"),
        ("E0,18/08/2024,Chelsea,Man City,1.5,0", "FTHG"),
        ("E0,18/08/2024,Chelsea,Man City,,2", "FTHG"),
        ("E0,18/08/2024,Chelsea,Man City,0,2,Z", "FTR"),
        ("E0,18/08/2024,Chelsea,Man City,0,2,A,n/a", "HS"),
        ("E0,18/08/2024,Chelsea,Man City,0,2,A,10,1.5.2", "B365H"),
        ("E0,18/08/2024,Chelsea,Man City,0,2,A,10,nan", "B365H"),
    ],
)
def test_unusable_values_name_the_line_and_column(row, column):
    header = "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HS,B365H"
    body = f"{header}\nE0,17/08/2024,Arsenal,Wolves,2,0,H,3,1.5\n{row}\n"
    error = failure(body)
    assert error.line == 3 and column in error.cause


@pytest.mark.parametrize("day", ["32/01/2024", "2024/13/01", "17-08-2024", "17/08", "tomorrow"])
def test_unparseable_date(day):
    error = failure(
        f"Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,Arsenal,Wolves,2,0\nE0,{day},A,B,1,1\n"
    )
    assert error.line == 3 and "Date" in error.cause


def test_unparseable_time():
    error = failure("Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,25:00,Arsenal,Wolves,2,0\n")
    assert error.line == 2 and "Time" in error.cause


def test_missing_team_fails_but_identical_teams_are_left_to_validation():
    assert failure("Date,HomeTeam,AwayTeam,FTHG,FTAG\n17/08/2024,,Wolves,2,0\n").line == 2
    frame = results("Date,HomeTeam,AwayTeam,FTHG,FTAG\n17/08/2024,Wolves,Wolves,2,0\n")
    assert frame["home_team"].tolist() == frame["away_team"].tolist() == ["Wolves"]


def test_wrong_div():
    error = failure(
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,Arsenal,Wolves,2,0\nE1,17/08/2024,A,B,1,1\n"
    )
    assert error.line == 3 and "'E1'" in error.cause and "'E0'" in error.cause


def test_header_missing_required_columns():
    error = failure("Div,Date,HomeTeam,Away,FTHG\nE0,17/08/2024,Arsenal,Wolves,2\n")
    assert error.line == 1 and "FTAG or AG" in error.cause


def test_first_bad_line_is_reported_when_several_rows_are_bad():
    body = (
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,A,B,1,x\nE0,bad,C,D,1,1\nE0,17/08/2024,E,F,y,1\n"
    )
    assert failure(body).line == 2


@pytest.mark.parametrize(
    "body",
    [
        bytes(range(256)) * 4,  # binary noise (NUL bytes)
        b"\x1f\x8b\x08\x00" + bytes(range(1, 200)),  # a gzip body nobody decompressed
        b"\x81\x8d\x8f\x90\x9d" * 20,  # undecodable as UTF-8 and as cp1252
        "Ÿ¤¥þ,ÿÆ×\n£§¶,®¯°\n".encode("cp1252"),  # decodable noise, no sensible header
    ],
)
def test_garbage_bytes(body):
    error = failure(body)
    assert error.source_url == URL and error.cause


def test_garbage_rows_after_a_valid_header():
    body = (
        b"Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,Arsenal,Wolves,2,0\n\xde\xad\xbe\xef,\x01\x02\n"
    )
    assert failure(body).line == 3


# --- fixtures.csv --------------------------------------------------------------------------

FIXTURES = (
    codecs.BOM_UTF8 + b"Div,Date,Time,HomeTeam,AwayTeam,Referee,B365H,B365D,B365A,BWH,BWD,BWA,PSH,PSD,PSA,"
    b"MaxH,MaxD,MaxA,AvgH,AvgD,AvgA,B365>2.5,B365<2.5,AHh,B365AHH,B365AHA\r\n"
    b"E0,22/08/2026,12:30,Nottm Forest,Man Utd,,2.6,3.4,2.7,2.55,3.4,2.75,2.62,3.48,2.78,"
    b"2.7,3.6,2.85,2.58,3.42,2.71,1.8,2,0,1.95,1.95\r\n"
    b"D1,23/08/2026,17:30,Bayern Munich,Dortmund,,1.5,4.75,5.5,,,,1.52,4.9,5.8,"
    b"1.55,5,6,1.5,4.7,5.6,,,,,\r\n"
    b"SC0,30/05/2026,,Celtic,Rangers,J Beaton,2.1,3.5,3.3,,,,,,,,,,,,,,,,,\r\n"
    b",,,,,,,,,,,,,,,,,,,,,,,,,\r\n"
)


def test_fixtures_parse_every_league_with_season_from_the_uk_date():
    frame = parse_fixtures(FIXTURES, source_url="http://x/fixtures.csv", content_hash="fx")
    assert_canonical(frame, schema.FIXTURE_COLUMNS)
    assert frame.league.tolist() == ["E0", "D1", "SC0"]
    assert frame.season.tolist() == [2026, 2026, 2025]
    assert frame.home_team.tolist() == ["Nott'm Forest", "Bayern Munich", "Celtic"]
    assert frame.away_team.tolist() == ["Man United", "Dortmund", "Rangers"]
    assert frame.kickoff.tolist() == [
        utc("2026-08-22 11:30"),
        utc("2026-08-23 16:30"),
        utc("2026-05-30 14:00"),
    ]
    assert frame.kickoff_time_known.tolist() == [True, True, False]
    assert frame.match_id.iloc[0] == schema.make_match_id("E0", 2026, "Nott'm Forest", "Man United")
    assert frame.odds_ps_open_h.tolist()[:2] == [2.62, 1.52] and pd.isna(frame.odds_ps_open_h.iloc[2])
    assert frame.odds_bw_open_a.iloc[0] == 2.75 and pd.isna(frame.odds_bw_open_a.iloc[1])
    assert frame.odds_max_open_d.iloc[1] == 5 and frame.odds_avg_open_a.iloc[0] == 2.71
    assert frame.odds_b365_close_h.isna().all()
    assert frame.source_line.tolist() == [2, 3, 4]
    assert set(frame.source) == {"football-data"} and set(frame.content_hash) == {"fx"}


def test_fixtures_header_only_and_errors():
    empty = parse_fixtures(b"Div,Date,Time,HomeTeam,AwayTeam,B365H\r\n", source_url="f", content_hash="h")
    assert len(empty) == 0
    assert_canonical(empty, schema.FIXTURE_COLUMNS)
    with pytest.raises(SourceFormatError) as info:
        parse_fixtures(
            b"Div,Date,HomeTeam,AwayTeam\nE0,22/08/2026,A,B\n,23/08/2026,C,D\n",
            source_url="f",
            content_hash="h",
        )
    assert info.value.line == 3 and "Div" in info.value.cause and "[fixtures]" in str(info.value)
    with pytest.raises(SourceFormatError) as info:
        parse_fixtures(b"Div,Date,HomeTeam,AwayTeam\nE0,22/13/2026,A,B\n", source_url="f", content_hash="h")
    assert info.value.line == 2
    with pytest.raises(SourceFormatError):
        parse_fixtures(b"<html><body>maintenance</body></html>", source_url="f", content_hash="h")
    with pytest.raises(SourceFormatError):
        parse_fixtures(b"Date,HomeTeam,AwayTeam\n22/08/2026,A,B\n", source_url="f", content_hash="h")


# --- teams ---------------------------------------------------------------------------------


@pytest.mark.parametrize("canonical", sorted(teams.TEAM_ALIASES))
def test_every_alias_maps_to_its_canonical_name(canonical):
    assert teams.canonical_team(canonical) == canonical
    for alias in teams.TEAM_ALIASES[canonical]:
        assert teams.canonical_team(alias) == canonical
        assert teams.canonical_team(f"  {alias.upper()} ") == canonical


def test_no_spelling_is_claimed_by_two_clubs():
    owner: dict[str, str] = {}
    for canonical, aliases in teams.TEAM_ALIASES.items():
        for spelling in (canonical, *aliases):
            assert owner.setdefault(teams.team_key(spelling), canonical) == canonical, spelling


def test_unknown_names_pass_through_whitespace_normalised():
    assert teams.canonical_team("  Real\u00a0 Sociedad ") == "Real Sociedad"
    assert teams.canonical_team("Leipzig") == "Leipzig"  # VfB Leipzig 1993/94, not RB Leipzig


def test_team_key_ignores_case_accents_spacing_and_punctuation():
    assert teams.team_key("München") == teams.team_key("Munchen") == teams.team_key(" MUNCHEN ") == "munchen"
    assert teams.team_key("Nott'm Forest") == teams.team_key("Nottm  Forest")
    assert teams.team_key("Brighton & Hove Albion") == teams.team_key("brighton and hove albion")
    assert teams.team_key("St. Pauli") == teams.team_key("St Pauli")
    assert teams.team_key("Bodø/Glimt") == "bodo glimt"
    assert teams.team_key("1. FC Köln") == "1 fc koln"


def test_resolve_team():
    known = ["Bayern Munich", "Munich 1860", "M'gladbach", "Man United", "Man City", "FC Koln"]
    assert teams.resolve_team("bayern münchen", known) == "Bayern Munich"
    assert teams.resolve_team("BAYERN", known) == "Bayern Munich"
    assert teams.resolve_team("1860 münchen", known) == "Munich 1860"
    assert teams.resolve_team("borussia mönchengladbach", known) == "M'gladbach"
    assert teams.resolve_team("m'GLADBACH", known) == "M'gladbach"
    assert teams.resolve_team("manchester utd", known) == "Man United"
    assert teams.resolve_team("man city", known) == "Man City"
    assert teams.resolve_team("Köln", known) == "FC Koln"
    assert teams.resolve_team("Arsenal", known) is None
    assert teams.resolve_team("  ", known) is None
    assert teams.resolve_team("Man United", []) is None
    # known names spelled as another source spells them still resolve, returned as given
    assert teams.resolve_team("Manchester United", ["Man Utd", "Arsenal"]) == "Man Utd"
    assert teams.resolve_team("man utd", ["Man Utd", "MAN UTD"]) is None  # ambiguous


# --- every real file -----------------------------------------------------------------------

REAL = Path(os.environ.get("FOOTCAST_FOOTBALL_DATA_DIR") or SHARED_DATA)
# 2019/20 Premier League matches played 1-26 July 2020 (COVID), after schema.season_window's end.
COVID_EXTENSION = ("mmz4281/1920/E0.csv", utc("2020-07-01"), utc("2020-08-01"))


@pytest.fixture(scope="module")
def real_files() -> list[tuple[dict[str, str], bytes, pd.DataFrame]]:
    manifest = REAL / "MANIFEST.csv"
    if not manifest.exists():
        pytest.skip(f"real football-data files not found at {REAL} (set FOOTCAST_FOOTBALL_DATA_DIR)")
    out = []
    with manifest.open(newline="") as handle:
        for entry in csv.DictReader(handle):
            content = (REAL / entry["file"]).read_bytes()
            code = entry["season"]
            season = int(code[:2]) + (1900 if int(code[:2]) >= 90 else 2000)
            frame = parse_results(
                content,
                league=entry["div"],
                season=season,
                source_url=entry["file"],
                content_hash=entry["sha256"],
            )
            out.append((entry, content, frame))
    return out


def _data_lines(content: bytes) -> list[int]:
    """Independent count: physical lines after the header holding any value."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252")
    lines = re.split(r"\r\n|\r|\n", text)
    return [number for number, line in enumerate(lines[1:], 2) if line.replace(",", "").strip()]


def _manifest_date(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%y" if len(text) == 8 else "%d/%m/%Y").date()


# The manifest's bookmaker codes -> the canonical odds columns they fill.
ODDS_COLUMN_OF_BOOK = {
    "B365": "b365_open",
    "B365C": "b365_close",
    "PS": "ps_open",
    "PSC": "ps_close",
    "BbAv": "avg_open",
    "Avg": "avg_open",
    "AvgC": "avg_close",
    "BbMx": "max_open",
    "Max": "max_open",
    "MaxC": "max_close",
}


def _row_problems(entry: dict[str, str], content: bytes, frame: pd.DataFrame) -> list[str]:
    """Where one parsed file disagrees with its manifest entry on rows, lines, nulls and ids."""
    name = entry["file"]
    problems = []
    if len(frame) != int(entry["rows"]):
        problems.append(f"{name}: {len(frame)} rows, manifest says {entry['rows']}")
    if frame.source_line.tolist() != _data_lines(content):
        problems.append(f"{name}: parsed lines differ from the file's data lines")
    required = ["match_id", "league", "season", "kickoff", "kickoff_time_known", "home_team", "away_team"]
    nulls = frame[[*required, "fthg", "ftag", "ftr", "source_line"]].isna().sum()
    if nulls.any():
        problems.append(f"{name}: nulls {nulls[nulls > 0].to_dict()}")
    if frame.match_id.duplicated().any():
        problems.append(f"{name}: duplicate match_id")
    return problems


def _date_problems(entry: dict[str, str], frame: pd.DataFrame) -> list[str]:
    """Where one parsed file disagrees with its manifest entry on times and dates, or leaves its season."""
    name = entry["file"]
    problems = []
    if not (frame.kickoff_time_known == (entry["has_time_col"] == "1")).all():
        problems.append(f"{name}: kickoff_time_known disagrees with the Time column")
    local = frame.kickoff.dt.tz_convert(schema.UK).dt.date
    first, last = _manifest_date(entry["first_date"]), _manifest_date(entry["last_date"])
    if (local.iloc[0], local.iloc[-1], local.min(), local.max()) != (first, last, first, last):
        problems.append(f"{name}: dates {local.min()}..{local.max()}, manifest {first}..{last}")
    start, end = schema.season_window(int(frame.season.iloc[0]))
    outside = frame[(frame.kickoff < start) | (frame.kickoff >= end)]
    if name == COVID_EXTENSION[0]:
        outside = outside[(outside.kickoff < COVID_EXTENSION[1]) | (outside.kickoff >= COVID_EXTENSION[2])]
    if len(outside):
        problems.append(f"{name}: {len(outside)} kickoffs outside the season window")
    return problems


def _odds_problems(entry: dict[str, str], frame: pd.DataFrame) -> list[str]:
    """Where one parsed file's odds columns hold fewer or more prices than the manifest counts."""
    problems = []
    for group in entry["odds_groups"].split():
        book, count, _total = re.fullmatch(r"(\w+)\((\d+)/(\d+)\)", group).groups()
        column = ODDS_COLUMN_OF_BOOK[book]
        counts = [int(frame[f"odds_{column}_{o}"].notna().sum()) for o in "hda"]
        if counts != [int(count)] * 3:
            problems.append(f"{entry['file']}: {group} but odds_{column} has {counts} prices")
    return problems


def test_real_files_parse_completely(real_files):
    assert len(real_files) == 65
    problems = []
    for entry, content, frame in real_files:
        problems += _row_problems(entry, content, frame)
        problems += _date_problems(entry, frame)
        problems += _odds_problems(entry, frame)
    assert not problems, "\n".join(problems)
    assert_canonical(real_files[-1][2])


def test_real_files_have_one_name_per_club(real_files):
    names: set[str] = set()
    for _entry, _content, frame in real_files:
        names |= set(frame.home_team) | set(frame.away_team)
    by_key: dict[str, set[str]] = {}
    for name in names:
        by_key.setdefault(teams.team_key(name), set()).add(name)
        by_key.setdefault(teams.team_key(teams.canonical_team(name)), set()).add(name)
    assert not [spellings for spellings in by_key.values() if len(spellings) > 1]
    # spellings football-data changed over the years for the same club
    for variant, canonical in [
        ("M'Gladbach", "M'gladbach"),
        ("Middlesboro", "Middlesbrough"),
        ("Dusseldorf", "Fortuna Dusseldorf"),
    ]:
        assert variant not in names and canonical in names
    assert {"Man United", "Man City", "Nott'm Forest", "Ein Frankfurt", "Bayern Munich", "FC Koln"} <= names
    assert {"Leipzig", "RB Leipzig"} <= names  # two different clubs stay apart
