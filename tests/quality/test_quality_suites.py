"""The validated layer's Great Expectations suite (footcast.quality), on real GE runs.

Partitions are built here with schema.conform: a double round robin with plausible results and
odds, then one bad row per class of error is injected and must land in quarantine under the
right check name while the good rows of the same partition stay valid.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random

import numpy as np
import pandas as pd
import pytest

from footcast.data import schema
from footcast.quality import expectations, quarantine, validation
from tests.support import SHARED_DATA

LEAGUE = "E0"
SEASON = 2023
TEAMS = ("Arsenal", "Burnley", "Chelsea", "Everton", "Fulham", "Luton", "Wolves", "Brighton")
SEASON_START, SEASON_END = schema.season_window(SEASON)


def _result(home: int, away: int) -> str:
    return "H" if home > away else "A" if home < away else "D"


def _prices(rng: random.Random, margin: float) -> dict[str, float]:
    p_home = rng.uniform(0.25, 0.6)
    p_draw = 0.27
    probabilities = {"h": p_home, "d": p_draw, "a": 1.0 - p_home - p_draw}
    return {o: round(1.0 / (p * margin), 2) for o, p in probabilities.items()}


def make_partition(
    n_teams: int = 6, seed: int = 7, league: str = LEAGUE, season: int = SEASON
) -> pd.DataFrame:
    """A complete double round robin of ``n_teams`` in canonical form, every row plausible."""
    rng = random.Random(seed)
    first = SEASON_START + pd.Timedelta(days=42, hours=14)
    rows = []
    for k, (home, away) in enumerate(itertools.permutations(TEAMS[:n_teams], 2)):
        fthg, ftag = rng.randint(0, 4), rng.randint(0, 3)
        hthg, htag = rng.randint(0, fthg), rng.randint(0, ftag)
        row = {
            "match_id": schema.make_match_id(league, season, home, away),
            "league": league,
            "season": season,
            "kickoff": first + pd.Timedelta(days=3 * k),
            "kickoff_time_known": True,
            "home_team": home,
            "away_team": away,
            "fthg": fthg,
            "ftag": ftag,
            "ftr": _result(fthg, ftag),
            "hthg": hthg,
            "htag": htag,
            "htr": _result(hthg, htag),
            "home_shots": rng.randint(3, 25),
            "away_shots": rng.randint(3, 25),
            "source": "test",
            "source_url": f"https://example.invalid/{league}/{season}.csv",
            "content_hash": "0" * 64,
            "source_line": k + 2,
        }
        for book, margin in (("b365", 1.05), ("ps", 1.025), ("avg", 1.05), ("max", 0.99)):
            for timing in schema.ODDS_TIMINGS:
                for outcome, price in _prices(rng, margin).items():
                    row[f"odds_{book}_{timing}_{outcome}"] = price
        rows.append(row)
    return schema.conform(pd.DataFrame(rows))


def validate(frame: pd.DataFrame, **kwargs) -> validation.ValidationOutcome:
    kwargs.setdefault("league", LEAGUE)
    kwargs.setdefault("season", SEASON)
    kwargs.setdefault("completed", False)
    outcome = validation.validate_partition(frame, **kwargs)
    assert len(outcome.valid) + len(outcome.quarantined) == len(frame)
    lines = sorted(outcome.valid["source_line"].tolist() + outcome.quarantined["source_line"].tolist())
    assert lines == sorted(frame["source_line"].tolist()), "a row was lost or duplicated"
    return outcome


def reasons_by_line(outcome: validation.ValidationOutcome) -> dict[int, set[str]]:
    return {
        int(line): set(reasons.split(","))
        for line, reasons in zip(
            outcome.quarantined["source_line"], outcome.quarantined["reasons"], strict=True
        )
    }


def failed_values_by_line(outcome: validation.ValidationOutcome) -> dict[int, dict]:
    return {
        int(line): json.loads(values)
        for line, values in zip(
            outcome.quarantined["source_line"], outcome.quarantined["failed_values"], strict=True
        )
    }


# --- one bad row per class, all in one partition ---------------------------------------------


def _set(**values):
    def mutate(row: dict) -> None:
        row.update(values)

    return mutate


def _rename(**values):
    """Change key columns and recompute the (deterministic) match id, so only the change is wrong."""

    def mutate(row: dict) -> None:
        row.update(values)
        keys = (row["league"], row["season"], row["home_team"], row["away_team"])
        row["match_id"] = schema.make_match_id(*keys)

    return mutate


# case -> (mutation, expected reasons); an empty set means the row must stay valid.
BAD_ROWS = {
    "goals_16": (_set(fthg=16, ftag=0, ftr="H", hthg=0, htag=0, htr="D"), {"goals_in_range"}),
    "goals_negative": (_set(fthg=0, ftag=-1, ftr="H", hthg=0, htag=-1, htr="H"), {"goals_in_range"}),
    "ftr_h_with_0_1": (_set(fthg=0, ftag=1, ftr="H", hthg=0, htag=0, htr="D"), {"ftr_consistent"}),
    "ftr_unknown_code": (
        _set(fthg=1, ftag=0, ftr="X", hthg=0, htag=0, htr="D"),
        {"result_codes_valid", "ftr_consistent"},
    ),
    "htr_inconsistent": (_set(fthg=2, ftag=0, ftr="H", hthg=1, htag=0, htr="A"), {"htr_consistent"}),
    "halftime_above_fulltime": (
        _set(fthg=1, ftag=1, ftr="D", hthg=2, htag=0, htr="H"),
        {"halftime_within_fulltime"},
    ),
    "unknown_team": (_rename(home_team="Atlantis FC"), {"teams_known"}),
    "home_equals_away": (_rename(away_team="Arsenal", home_team="Arsenal"), {"home_away_distinct"}),
    "odds_below_one": (_set(odds_wh_open_h=0.95), {"odds_above_one"}),
    "odds_equal_one": (_set(odds_wh_close_d=1.0), {"odds_above_one"}),
    "kickoff_before_season": (_set(kickoff=SEASON_START - pd.Timedelta(days=1)), {"kickoff_in_season"}),
    "kickoff_at_season_end": (_set(kickoff=SEASON_END), {"kickoff_in_season"}),
    "overround_absurd_high": (
        _set(odds_b365_open_h=1.5, odds_b365_open_d=1.5, odds_b365_open_a=1.5),
        {"overround_plausible"},
    ),
    "overround_absurd_low": (
        _set(odds_ps_close_h=4.0, odds_ps_close_d=4.0, odds_ps_close_a=4.0),
        {"overround_plausible"},
    ),
    "max_overround_absurd_low": (
        _set(odds_max_open_h=3.6, odds_max_open_d=3.75, odds_max_open_a=3.75),
        {"overround_max_plausible"},
    ),
    # 0.93 is fine for market-max prices (below the regular books' 0.97 floor)
    "max_overround_below_one_is_fine": (
        _set(odds_max_open_h=3.2, odds_max_open_d=3.25, odds_max_open_a=3.25),
        set(),
    ),
    "missing_goals": (_set(fthg=None), {"required_not_null"}),
    "missing_kickoff": (_set(kickoff=None), {"required_not_null"}),
    "match_id_not_deterministic": (_set(match_id="0123456789abcdef"), {"match_id_deterministic"}),
    "other_league": (_rename(league="D1"), {"partition_matches"}),
    "other_season": (_rename(season=SEASON + 1), {"partition_matches"}),
}
MUTATED_LINE = {case: 2 + 2 * i for i, case in enumerate(BAD_ROWS)}  # every other row stays good


@pytest.fixture(scope="module")
def mixed() -> tuple[pd.DataFrame, validation.ValidationOutcome]:
    good = make_partition(n_teams=8)  # 56 matches
    rows = good.astype(object).where(good.notna(), None).to_dict("records")
    for case, (mutate, _expected) in BAD_ROWS.items():
        mutate(rows[MUTATED_LINE[case] - 2])
    # A second meeting of the same pair later in the season: leg 2 has its own id and is valid.
    second_leg = dict(rows[1], kickoff=rows[-1]["kickoff"] + pd.Timedelta(days=7), source_line=len(rows) + 2)
    second_leg["match_id"] = schema.make_match_id(
        LEAGUE, SEASON, second_leg["home_team"], second_leg["away_team"], leg=2
    )
    rows.append(second_leg)
    frame = schema.conform(pd.DataFrame(rows))
    outcome = validate(frame, known_teams=set(TEAMS), max_quarantine_share=1.0)
    return frame, outcome


def _price_only(expected: set[str]) -> bool:
    return bool(expected) and expected <= expectations.PRICE_CHECKS


@pytest.mark.parametrize(
    "case", [case for case, (_m, expected) in BAD_ROWS.items() if not _price_only(expected)]
)
def test_bad_row_lands_in_quarantine_with_its_reason(mixed, case):
    _frame, outcome = mixed
    expected = BAD_ROWS[case][1]
    line = MUTATED_LINE[case]
    quarantined = reasons_by_line(outcome)
    if expected:
        assert quarantined.get(line) == expected
        assert set(failed_values_by_line(outcome)[line]) == expected
        assert line not in set(outcome.valid["source_line"])
    else:
        assert line not in quarantined
        assert line in set(outcome.valid["source_line"])


# case -> the book line nulled (a bad price is a fault of its cells: the match is kept)
PRICE_ROWS = {
    "odds_below_one": ("wh", "open"),
    "odds_equal_one": ("wh", "close"),
    "overround_absurd_high": ("b365", "open"),
    "overround_absurd_low": ("ps", "close"),
    "max_overround_absurd_low": ("max", "open"),
}


@pytest.mark.parametrize("case", list(PRICE_ROWS))
def test_a_bad_price_nulls_its_book_line_and_keeps_the_match(mixed, case):
    frame, outcome = mixed
    line = MUTATED_LINE[case]
    assert line not in reasons_by_line(outcome)
    row = outcome.valid.set_index("source_line").loc[line]
    before = frame.set_index("source_line").loc[line]
    nulled = list(expectations.odds_triplet(*PRICE_ROWS[case]))
    assert row[nulled].isna().all() and before[nulled].notna().any()
    present = [c for c in nulled if pd.notna(before[c])]
    others = [c for c in schema.ODDS_COLUMNS if c not in nulled]
    pd.testing.assert_series_equal(row[others], before[others], check_names=False)
    assert (row["fthg"], row["ftag"], row["ftr"]) == (before["fthg"], before["ftag"], before["ftr"])
    [check] = BAD_ROWS[case][1]
    findings = json.loads(row["findings"])
    assert [(f["column"], f["reason"]) for f in findings] == [(c, f"{check}: price nulled") for c in present]
    assert [float(f["raw"]) for f in findings] == [float(before[c]) for c in present]


def test_good_rows_of_a_mixed_partition_stay_valid(mixed):
    frame, outcome = mixed
    bad_lines = {
        MUTATED_LINE[case]
        for case, (_m, expected) in BAD_ROWS.items()
        if expected and not _price_only(expected)
    }
    assert set(reasons_by_line(outcome)) == bad_lines
    assert set(outcome.valid["source_line"]) == set(frame["source_line"]) - bad_lines
    # the second leg of a pair (same home/away, later kickoff) is valid
    assert len(frame) + 1 in set(outcome.valid["source_line"])  # the last line
    assert outcome.blocking_failures == []


def test_row_checks_report_counts_and_samples(mixed):
    _frame, outcome = mixed
    lines_by_reason: dict[str, set[int]] = {}
    for case, (_m, expected) in BAD_ROWS.items():  # quarantined rows and rows with prices nulled
        for reason in expected:
            lines_by_reason.setdefault(reason, set()).add(MUTATED_LINE[case])
    for name in expectations.ROUTING_CHECKS:
        check = outcome.check(name)
        expected = lines_by_reason.get(name, set())
        assert check.passed == (not expected), name
        assert check.unexpected_count == len(expected), name
        assert {entry["source_line"] for entry in check.sample} == expected, name
        assert check.severity == ("blocking" if name == "match_id_unique" else "warning")
        json.dumps(check.sample)  # JSON-serialisable


def test_failed_values_name_the_offending_values(mixed):
    _frame, outcome = mixed
    failed = failed_values_by_line(outcome)
    assert failed[MUTATED_LINE["goals_16"]]["goals_in_range"] == {"fthg": 16}
    assert failed[MUTATED_LINE["goals_negative"]]["goals_in_range"] == {"ftag": -1, "htag": -1}
    ftr = failed[MUTATED_LINE["ftr_h_with_0_1"]]["ftr_consistent"]
    assert (ftr["ftr"], ftr["fthg"], ftr["ftag"], ftr["ftr_from_goals"]) == ("H", 0, 1, "A")
    # rows kept with a price nulled: the check's samples name the offending values
    samples = {
        name: {entry["source_line"]: entry for entry in outcome.check(name).sample}
        for name in ("odds_above_one", "overround_plausible")
    }
    assert samples["odds_above_one"][MUTATED_LINE["odds_below_one"]]["odds_wh_open_h"] == 0.95
    high = samples["overround_plausible"][MUTATED_LINE["overround_absurd_high"]]
    assert high["overround_b365_open"] == pytest.approx(2.0)
    assert high["odds_b365_open_h"] == 1.5
    assert failed[MUTATED_LINE["kickoff_at_season_end"]]["kickoff_in_season"] == {
        "kickoff": SEASON_END.isoformat()
    }


def test_quarantined_rows_keep_their_original_values_and_lineage(mixed):
    frame, outcome = mixed
    assert list(outcome.quarantined.columns) == [*schema.MATCH_COLUMNS, "reasons", "failed_values"]
    assert list(outcome.valid.columns) == list(schema.MATCH_COLUMNS)
    by_line = frame.set_index("source_line")
    held = outcome.quarantined.set_index("source_line")
    pd.testing.assert_frame_equal(held[list(by_line.columns)], by_line.loc[held.index], check_names=False)
    assert held.loc[MUTATED_LINE["goals_16"], "fthg"] == 16
    assert (outcome.quarantined["source"] == "test").all()
    # valid rows: original order and canonical dtypes
    assert outcome.valid["source_line"].is_monotonic_increasing
    assert outcome.valid.dtypes.equals(frame.dtypes)


def test_partitions_validated_together_get_the_outcome_each_gets_alone(mixed):
    """A backfill validates many partitions in one suite run; each must come out exactly as if
    validated on its own (parameters, uniqueness and season shape are per partition)."""
    frame, _alone = mixed
    other = make_partition(n_teams=6, league="D1").drop(index=4)  # completed, two teams short
    duplicated = make_partition(n_teams=4, season=SEASON)
    duplicated = pd.concat([duplicated, duplicated.iloc[[0]].assign(source_line=99)], ignore_index=True)
    inputs = [
        validation.PartitionInput(frame, LEAGUE, SEASON, completed=False, known_teams=set(TEAMS)),
        validation.PartitionInput(other, "D1", SEASON, completed=True),
        validation.PartitionInput(make_partition(n_teams=4).drop(columns=["ftr"]), LEAGUE, SEASON, True),
        validation.PartitionInput(schema.empty_frame(), LEAGUE, 2020, completed=True),
        validation.PartitionInput(duplicated, "E1", SEASON, completed=True),
    ]
    together = validation.validate_partitions(inputs, max_quarantine_share=1.0)
    assert len(together) == len(inputs)
    for partition, outcome in zip(inputs, together, strict=True):
        alone = validation.validate_partition(
            partition.frame,
            league=partition.league,
            season=partition.season,
            completed=partition.completed,
            known_teams=partition.known_teams,
            max_quarantine_share=1.0,
        )
        pd.testing.assert_frame_equal(outcome.valid, alone.valid)
        pd.testing.assert_frame_equal(outcome.quarantined, alone.quarantined)
        assert outcome.checks == alone.checks
    assert not together[1].check("fixture_count").passed
    assert not together[2].check("required_columns_present").passed
    assert together[4].check("partition_matches").unexpected_count == len(duplicated)  # E0 rows, E1 key
    assert not together[4].check("match_id_unique").passed


# --- good partitions --------------------------------------------------------------------------


def test_good_partition_is_entirely_valid():
    frame = make_partition(n_teams=6)
    outcome = validate(frame, completed=True, known_teams=set(TEAMS[:6]))
    pd.testing.assert_frame_equal(outcome.valid, frame)
    assert outcome.quarantined.empty
    assert list(outcome.quarantined.columns) == [*schema.MATCH_COLUMNS, "reasons", "failed_values"]
    assert [c.name for c in outcome.checks] == [spec.name for spec in expectations.CHECK_SPECS]
    assert [c for c in outcome.checks if not c.passed] == []
    assert outcome.quarantine_share == 0.0


def test_empty_partition():
    outcome = validate(schema.empty_frame(), completed=True)
    assert outcome.valid.empty and outcome.quarantined.empty
    assert outcome.blocking_failures == []


def test_without_a_team_list_team_names_are_not_checked():
    rows = make_partition(n_teams=4).to_dict("records")
    rows[0]["home_team"] = "Atlantis FC"
    rows[0]["match_id"] = schema.make_match_id(LEAGUE, SEASON, "Atlantis FC", rows[0]["away_team"])
    outcome = validate(schema.conform(pd.DataFrame(rows)), known_teams=None)
    assert outcome.quarantined.empty
    check = outcome.check("teams_known")
    assert check.passed and "skipped" in check.description


# --- blocking failures --------------------------------------------------------------------------


def test_duplicate_match_id_quarantines_every_copy_and_blocks():
    frame = make_partition(n_teams=6)
    copy = frame.iloc[[3]].assign(source_line=999)
    outcome = validate(pd.concat([frame, copy], ignore_index=True), max_quarantine_share=0.5)
    duplicated = frame["source_line"].iat[3]
    reasons = reasons_by_line(outcome)
    assert set(reasons) == {duplicated, 999}
    assert all("match_id_unique" in r for r in reasons.values())
    check = outcome.check("match_id_unique")
    assert check.severity == "blocking" and not check.passed and check.unexpected_count == 2
    assert [c.name for c in outcome.blocking_failures] == ["match_id_unique"]
    assert len(outcome.valid) == len(frame) - 1


def test_missing_column_is_blocking_and_quarantines_everything():
    frame = make_partition(n_teams=4)
    outcome = validate(frame.drop(columns=["ftr"]), completed=True)
    assert {c.name for c in outcome.blocking_failures} == {"required_columns_present", "quarantine_share"}
    assert outcome.check("required_columns_present").sample == ["ftr"]
    assert outcome.valid.empty and list(outcome.valid.columns) == list(schema.MATCH_COLUMNS)
    assert len(outcome.quarantined) == len(frame)
    assert list(outcome.quarantined.columns) == [*schema.MATCH_COLUMNS, "reasons", "failed_values"]
    assert outcome.quarantined["ftr"].isna().all()
    assert outcome.quarantined["source_line"].tolist() == frame["source_line"].tolist()
    assert set(outcome.quarantined["reasons"]) == {"required_columns_present"}
    assert json.loads(outcome.quarantined["failed_values"].iat[0]) == {
        "required_columns_present": {"missing": ["ftr"]}
    }
    assert outcome.quarantine_share == 1.0


def test_wrong_column_types_are_blocking():
    frame = make_partition(n_teams=4)
    broken = frame.assign(
        fthg=frame["fthg"].astype("float64") + 0.5,
        kickoff=frame["kickoff"].dt.tz_localize(None),
        odds_b365_open_h=frame["odds_b365_open_h"].astype(str),
    )
    outcome = validate(broken, max_quarantine_share=1.0)
    check = outcome.check("column_types")
    assert not check.passed and check.severity == "blocking"
    assert {entry["column"] for entry in check.sample} == {"fthg", "kickoff", "odds_b365_open_h"}
    assert [c.name for c in outcome.blocking_failures] == ["column_types"]
    assert outcome.valid.empty and len(outcome.quarantined) == len(frame)
    failed = json.loads(outcome.quarantined["failed_values"].iat[0])["column_types"]
    assert failed["fthg"] == float(frame["fthg"].iat[0]) + 0.5
    assert outcome.check("required_columns_present").passed


def test_canonical_numpy_dtypes_pass_the_schema():
    frame = make_partition(n_teams=4)
    numpy_typed = frame.assign(**{c: frame[c].astype("int64") for c in ("fthg", "ftag", "hthg", "htag")})
    outcome = validate(numpy_typed)
    assert outcome.check("column_types").passed and outcome.quarantined.empty


def test_quarantine_share_above_threshold_is_blocking():
    rows = make_partition(n_teams=6).to_dict("records")  # 30 rows
    for row in rows[:3]:  # 10 %
        row["fthg"] = 20
    frame = schema.conform(pd.DataFrame(rows))
    outcome = validate(frame)
    assert [c.name for c in outcome.blocking_failures] == ["quarantine_share"]
    assert outcome.quarantine_share == pytest.approx(0.1)
    assert len(outcome.quarantined) == 3
    relaxed = validate(frame, max_quarantine_share=0.2)
    assert relaxed.blocking_failures == []
    assert relaxed.check("quarantine_share").passed


# --- season-shape warnings -----------------------------------------------------------------------


def test_home_away_balance_warns_on_an_incomplete_completed_season():
    frame = make_partition(n_teams=6)
    dropped = frame.iloc[4]
    incomplete = frame.drop(index=4)
    outcome = validate(incomplete, completed=True)
    for name in ("home_away_balance", "fixture_count"):
        check = outcome.check(name)
        assert not check.passed and check.severity == "warning" and check.unexpected_count == 2
        assert {entry["team"] for entry in check.sample} == {dropped["home_team"], dropped["away_team"]}
    assert outcome.blocking_failures == []
    assert len(outcome.valid) == len(incomplete)

    in_progress = validate(incomplete, completed=False)
    assert in_progress.check("home_away_balance").passed
    assert in_progress.check("fixture_count").passed


def test_fixture_count_warns_when_teams_play_too_few_matches_both_ways():
    frame = make_partition(n_teams=6)
    pair = ((frame["home_team"] == "Arsenal") & (frame["away_team"] == "Burnley")) | (
        (frame["home_team"] == "Burnley") & (frame["away_team"] == "Arsenal")
    )
    outcome = validate(frame[~pair], completed=True)
    assert outcome.check("home_away_balance").passed  # 4 home, 4 away each: balanced ...
    fixture = outcome.check("fixture_count")  # ... but 5 of each were due
    assert not fixture.passed
    assert {entry["team"] for entry in fixture.sample} == {"Arsenal", "Burnley"}


def test_season_check_fails_when_no_row_of_a_completed_season_is_valid():
    """The previous season's file under this season's key: every kickoff is outside the window,
    every row is quarantined, and the season shape is unverified, not vacuously right."""
    frame = make_partition(n_teams=6)
    frame["kickoff"] = frame["kickoff"] - pd.Timedelta(days=365)
    outcome = validate(frame, completed=True, max_quarantine_share=1.0)
    assert outcome.valid.empty and len(outcome.quarantined) == len(frame)
    assert outcome.check("kickoff_in_season").unexpected_count == len(frame)
    fixture = outcome.check("fixture_count")
    assert not fixture.passed and fixture.severity == "warning"
    assert "no valid matches" in fixture.description
    assert not validate(schema.empty_frame(), completed=True).check("fixture_count").passed
    assert validate(schema.empty_frame(), completed=False).check("fixture_count").passed


# --- every real football-data.co.uk file ----------------------------------------------------------

# Rows of the real files with a genuinely wrong price: one mistyped or stale price. The result
# is fine, so each row is kept with that book line nulled (nothing of these files is quarantined).
KNOWN_BAD_REAL_PRICES = {
    ("0506", "E0", 290): "overround_max_plausible",  # Arsenal-Charlton BbMxH 4.0 (avg 1.40): 0.54
    ("0607", "E0", 25): "overround_max_plausible",  # Watford-Man United BbMxA 2.05 (avg 1.40): 0.81
    ("1112", "D1", 304): "overround_plausible",  # Mainz-M'gladbach WHD 1.02: 1.73
    ("1920", "D1", 298): "overround_max_plausible",  # MaxC 7.6/5.1/1.75: 0.899
    ("2021", "D1", 38): "overround_max_plausible",  # MaxC 2.69/4.1/3.75: 0.882
    ("2021", "E0", 70): "overround_max_plausible",  # MaxC 2.69/3.5/4.53: 0.878
    ("2122", "E0", 256): "overround_max_plausible",  # MaxC 15.5/7.0/1.45: 0.897
    ("2324", "D1", 132): "overround_max_plausible",  # MaxC 1.65/6.55/9.2 (avg 1.34): 0.867
    ("2324", "D1", 134): "overround_max_plausible",  # MaxC 1.53/6.6/12.0: 0.888
    ("2324", "E0", 323): "overround_max_plausible",  # MaxCH 1.63 (avg 1.27): 0.833
    ("2425", "E0", 50): "overround_max_plausible",  # MaxH 2.44 (avg 1.86): 0.871
}
IN_PROGRESS = {("2526", "E0")}


@pytest.mark.slow
def test_every_real_football_data_file_validates():
    files = sorted(SHARED_DATA.glob("mmz4281/*/*.csv"))
    if not files:
        pytest.skip(f"no real football-data files under {SHARED_DATA}")
    from footcast.data import football_data

    inputs = []
    for path in files:
        code, league = path.parent.name, path.stem
        season = next(s for s in range(1990, 2100) if schema.season_code(s) == code)
        content = path.read_bytes()
        frame = football_data.parse_results(
            content,
            league=league,
            season=season,
            source_url=f"file://{path}",
            content_hash=hashlib.sha256(content).hexdigest(),
        ).matches
        inputs.append(
            validation.PartitionInput(frame, league, season, completed=(code, league) not in IN_PROGRESS)
        )
    nulled: dict[tuple[str, str, int], str] = {}
    # every file in one suite run, as a backfill validates them
    for path, partition, outcome in zip(files, inputs, validation.validate_partitions(inputs), strict=True):
        code, league = path.parent.name, path.stem
        assert outcome.quarantined.empty and len(outcome.valid) == len(partition.frame), path
        assert outcome.blocking_failures == [], (path, outcome.blocking_failures)
        for line, text in zip(outcome.valid["source_line"], outcome.valid["findings"], strict=True):
            if isinstance(text, str) and "price nulled" in text:
                [check] = {
                    f["reason"].split(":")[0] for f in json.loads(text) if "price nulled" in f["reason"]
                }
                nulled[(code, league, int(line))] = check
        failing = {c.name for c in outcome.checks if not c.passed}
        assert failing == {check for (c, lg, _l), check in nulled.items() if (c, lg) == (code, league)}, path
    assert nulled == KNOWN_BAD_REAL_PRICES


def test_json_values_are_strict_json():
    assert quarantine.json_value(np.int64(3)) == 3
    assert quarantine.json_value(pd.NA) is None
    assert quarantine.json_value(float("nan")) is None
    assert quarantine.json_value(float("inf")) == "inf"
    assert quarantine.json_value(pd.Timestamp("2024-01-01", tz="UTC")) == "2024-01-01T00:00:00+00:00"
