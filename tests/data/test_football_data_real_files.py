"""Every file of the development copy of football-data.co.uk (FOOTCAST_FOOTBALL_DATA_DIR,
default ../shared/football-data next to the repository) parses with exactly its rows, no
rejected row and no finding; skipped when the copy is absent (its files are never copied here).
"""

from __future__ import annotations

import csv
import os
import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from footcast.data import schema, teams
from footcast.data.football_data import parse_results
from tests.support import SHARED_DATA


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def assert_canonical(frame: pd.DataFrame, columns: tuple[str, ...] = schema.MATCH_COLUMNS) -> None:
    assert tuple(frame.columns) == columns
    pd.testing.assert_frame_equal(frame, schema.conform(frame, columns))


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
            result = parse_results(
                content,
                league=entry["div"],
                season=season,
                source_url=entry["file"],
                content_hash=entry["sha256"],
            )
            assert result.rejected.empty, result.rejected[["source_line", "reason"]].to_string()
            assert result.matches["findings"].isna().all(), entry["file"]
            out.append((entry, content, result.matches))
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
