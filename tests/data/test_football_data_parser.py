"""football-data.co.uk parser and team alias table.

Small inline byte strings cover each quirk, each finding, each rejected row and each whole-file
error class; the real files are in test_football_data_real_files.py.
"""

from __future__ import annotations

import codecs
import json
import pickle

import pandas as pd
import pytest

from footcast.data import schema, teams
from footcast.data.football_data import (
    ParsedResults,
    SourceFormatError,
    parse_fixtures,
    parse_results,
)

URL = "http://127.0.0.1:8765/mmz4281/2425/E0.csv"


def parsed(body: str | bytes, *, league: str = "E0", season: int = 2024, url: str = URL) -> ParsedResults:
    content = body.encode() if isinstance(body, str) else body
    return parse_results(content, league=league, season=season, source_url=url, content_hash="sha-x")


def results(body: str | bytes, **kwargs) -> pd.DataFrame:
    return parsed(body, **kwargs).matches


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


def test_values_beyond_the_header_are_kept_as_findings_not_silently_cut():
    body = (
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/02,Blackburn,Sunderland,0,0\n"
        "E0,17/08/02,A,B,1,1,7,,2.5\n"
    )
    result = parsed(body, season=2002)
    assert result.rejected.empty and len(result.matches) == 2
    assert pd.isna(result.matches.findings.iloc[0])
    assert json.loads(result.matches.findings.iloc[1]) == [
        {"column": "field 7", "raw": "7", "reason": "value beyond the header's 6 columns"},
        {"column": "field 9", "raw": "2.5", "reason": "value beyond the header's 6 columns"},
    ]


def test_a_missing_line_break_is_recovered_when_the_next_match_parses():
    header = "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,B365H"
    body = (
        f"{header}\nE0,17/08/2024,Arsenal,Wolves,2,0,1.5E0,18/08/2024,Chelsea,Man City,0,2,3.1\n"
        "E0,19/08/2024,Everton,Brighton,0,3,\n"
    )
    result = parsed(body)
    assert result.rejected.empty
    frame = result.matches
    assert frame.home_team.tolist() == ["Arsenal", "Chelsea", "Everton"]
    assert frame.source_line.tolist() == [2, 2, 3]
    assert frame.odds_b365_open_h.tolist()[:2] == [1.5, 3.1]  # "1.5E0" split back into 1.5 and E0
    assert pd.isna(frame.findings.iloc[0]) and pd.isna(frame.findings.iloc[2])
    note = json.loads(frame.findings.iloc[1])
    assert note[0]["raw"] == "E0,18/08/2024,Chelsea,Man City,0,2,3.1"
    assert "missing line break" in note[0]["reason"]


def test_a_next_match_that_does_not_parse_is_rejected_with_its_text():
    header = "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,B365H"
    body = f"{header}\nE0,17/08/2024,Arsenal,Wolves,2,0,1.5,E0,18/08/2024,Chelsea\n"
    result = parsed(body)
    assert result.matches.home_team.tolist() == ["Arsenal"] and pd.isna(result.matches.findings.iloc[0])
    row = result.rejected.iloc[0]
    assert (row.source_line, row.rejection, row.raw_text) == (2, "next_match", "E0,18/08/2024,Chelsea")
    assert "missing AwayTeam" in row.reason and row.home_team == "Chelsea"


def test_a_repeated_match_is_rejected_as_a_duplicate_and_the_first_kept():
    body = (
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,Arsenal,Wolves,2,0\n"
        "E0,18/08/2024,Chelsea,Man City,0,2\nE0,17/08/2024,Arsenal,Wolves,2,1\n"
    )
    result = parsed(body)
    assert result.matches.source_line.tolist() == [2, 3] and result.matches.ftag.tolist() == [0, 2]
    row = result.rejected.iloc[0]
    assert (row.source_line, row.rejection, row.ftag) == (4, "duplicate", 1)
    assert row.raw_text == "E0,17/08/2024,Arsenal,Wolves,2,1" and "repeats the match of line 2" in row.reason
    assert row.match_id == result.matches.match_id.iloc[0]


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
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,Arsenal,Wolves,2,0\nE0,18/08/2024,Chelsea"
    )
    assert isinstance(error, ValueError)
    assert (error.source_url, error.line) == (URL, 3)
    assert "truncated" in error.cause
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


UNUSABLE_HEADER = "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HS,B365H"


def rejected_row(row: str) -> pd.Series:
    """The one rejected row of a file holding a good row and ``row``; the good row is kept."""
    result = parsed(f"{UNUSABLE_HEADER}\nE0,17/08/2024,Arsenal,Wolves,2,0,H,3,1.5\n{row}\n")
    assert result.matches.source_line.tolist() == [2] and len(result.rejected) == 1
    assert_canonical(result.rejected, schema.REJECTED_COLUMNS)
    rejected = result.rejected.iloc[0]
    assert (rejected.source_line, rejected.raw_text) == (3, row)
    return rejected


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("E0,18/08/2024,Chelsea,Man City,two,2", "FTHG"),
        ("E0,18/08/2024,Chelsea,Man City,0,-1", "FTAG"),
        ("E0,18/08/2024,Chelsea,Man City,1.5,0", "FTHG"),
        ("E0,18/08/2024,Chelsea,Man City,,2", "FTHG"),
        ("E0,18/08/2024,Chelsea,Man City,0,2,Z", "FTR"),
    ],
)
def test_unusable_essential_values_reject_the_row_naming_the_column(row, column):
    rejected = rejected_row(row)
    assert rejected.rejection == "unparseable" and column in rejected.reason
    assert rejected.home_team == "Chelsea"  # what parsed is kept with the rejected row


@pytest.mark.parametrize(
    ("row", "column", "raw"),
    [
        ("E0,18/08/2024,Chelsea,Man City,0,2,A,n/a", "HS", "n/a"),
        ("E0,18/08/2024,Chelsea,Man City,0,2,A,1.2", "HS", "1.2"),
        ("E0,18/08/2024,Chelsea,Man City,0,2,A,10,3.53.75", "B365H", "3.53.75"),
        ("E0,18/08/2024,Chelsea,Man City,0,2,A,10,nan", "B365H", "nan"),
    ],
)
def test_unusable_other_values_are_null_with_a_finding(row, column, raw):
    result = parsed(f"{UNUSABLE_HEADER}\nE0,17/08/2024,Arsenal,Wolves,2,0,H,3,1.5\n{row}\n")
    assert result.rejected.empty
    frame = result.matches
    assert frame.ftag.tolist() == [0, 2] and pd.isna(frame.findings.iloc[0])
    canonical = {"HS": "home_shots", "B365H": "odds_b365_open_h"}[column]
    assert pd.isna(frame[canonical].iloc[1])
    (found,) = json.loads(frame.findings.iloc[1])
    assert (found["column"], found["raw"]) == (column, raw) and column in found["reason"]


@pytest.mark.parametrize("day", ["32/01/2024", "2024/13/01", "17-08-2024", "17/08", "tomorrow"])
def test_unparseable_date(day):
    rejected = rejected_row(f"E0,{day},A,B,1,1")
    assert "Date" in rejected.reason and pd.isna(rejected.kickoff) and rejected.home_team == "A"


def test_unparseable_time_is_a_finding_and_the_kickoff_nominal():
    frame = results("Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,25:00,Arsenal,Wolves,2,0\n")
    assert frame.kickoff.tolist() == [utc("2024-08-17 14:00")] and not frame.kickoff_time_known.iloc[0]
    assert json.loads(frame.findings.iloc[0])[0]["column"] == "Time"


def test_missing_team_rejects_the_row_but_identical_teams_are_left_to_validation():
    assert "HomeTeam" in rejected_row("E0,18/08/2024,,Wolves,2,0").reason
    frame = results("Date,HomeTeam,AwayTeam,FTHG,FTAG\n17/08/2024,Wolves,Wolves,2,0\n")
    assert frame["home_team"].tolist() == frame["away_team"].tolist() == ["Wolves"]


def test_wrong_div():
    rejected = rejected_row("E1,17/08/2024,A,B,1,1")
    assert "'E1'" in rejected.reason and "'E0'" in rejected.reason


def test_header_missing_required_columns():
    error = failure("Div,Date,HomeTeam,Away,FTHG\nE0,17/08/2024,Arsenal,Wolves,2\n")
    assert error.line == 1 and "FTAG or AG" in error.cause


def test_every_bad_row_is_rejected_with_its_own_reason():
    body = (
        "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,A,B,1,x\nE0,bad,C,D,1,1\nE0,17/08/2024,E,F,y,1\n"
    )
    result = parsed(body)
    assert result.matches.empty
    assert result.rejected.source_line.tolist() == [2, 3, 4]
    assert ["FTAG" in result.rejected.reason[0], "Date" in result.rejected.reason[1]] == [True, True]


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


def test_garbage_rows_after_a_valid_header_are_rejected():
    body = (
        b"Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,17/08/2024,Arsenal,Wolves,2,0\n\xde\xad\xbe\xef,\x01\x02\n"
    )
    result = parsed(body)
    assert result.matches.source_line.tolist() == [2]
    assert result.rejected.source_line.tolist() == [3] and result.rejected.raw_text[0] == "Þ\xad¾ï,\x01\x02"


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


def test_fixtures_keep_a_row_with_an_unreadable_price_or_time_as_a_finding():
    body = b"Div,Date,Time,HomeTeam,AwayTeam,B365H\nE0,22/08/2026,25:00,Arsenal,Wolves,2.1.5\n"
    frame = parse_fixtures(body, source_url="f", content_hash="h")
    assert_canonical(frame, schema.FIXTURE_COLUMNS)
    assert pd.isna(frame.odds_b365_open_h.iloc[0]) and not frame.kickoff_time_known.iloc[0]
    assert [f["column"] for f in json.loads(frame.findings.iloc[0])] == ["Time", "B365H"]
