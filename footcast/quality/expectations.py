"""The checks of the validated layer and the three Great Expectations 1.x suites that run them.

Suites (built once per process by :mod:`footcast.quality.engine`):

``footcast.schema`` (blocking), run over the partition's schema as a table (one row per column)
    ``required_columns_present``: every canonical column exists (extra columns are allowed and
    are dropped from the outputs); ``column_types``: goals are integer-typed (``Int64``/``int64``
    ...), ``kickoff`` is ``datetime64[..., UTC]``, odds are float. If the schema is broken no
    row can be trusted, so every row is quarantined (original values; missing columns null)
    and the row-level suite does not run.

``footcast.rows`` (row-level; failing rows are quarantined, the check itself is a warning)
    non-null keys and result, partition key matches, deterministic ``match_id``, goals in
    [0, 15], result codes in {H, D, A}, ``ftr``/``htr`` consistent with the goals, half-time
    goals not above full-time goals, home team != away team, kickoff inside the season window,
    every odds price > 1, per-book implied overround in a plausible range (a separate, wider
    range for the market-maximum prices; a row failing only these price checks is kept with
    the failing book's prices at that timing nulled and a finding each, ``PRICE_CHECKS``),
    teams known for the league (when a team list is
    given). ``match_id_unique`` is in this suite too but is *blocking*: every copy of a
    duplicated id is quarantined (we cannot tell which copy is right).

``footcast.season`` (warnings, only for a completed season)
    computed over the valid rows: every team has as many home as away matches
    (``home_away_balance``) and plays every other team once at home and once away
    (``fixture_count``: ``n_teams - 1`` home and ``n_teams - 1`` away matches; a completed
    season without any valid match fails it too, rather than passing vacuously).

Table-level ``quarantine_share`` (blocking) fails when more than ``max_quarantine_share`` of
the rows are quarantined; ``suite_errors`` (blocking) fails if an expectation could not be
evaluated at all (an exception inside Great Expectations), so an error never passes silently.

Every expectation carries its check name in ``meta["check"]``; the row-level expectations read
columns of the validation view (:mod:`footcast.quality.views`), some of them derived.

Great Expectations is imported lazily (it takes seconds to import), so importing this module
is cheap; :data:`CHECK_SPECS` lists every check name with its severity for static wiring.
"""

from __future__ import annotations

from dataclasses import dataclass

from footcast.data import schema

BLOCKING = "blocking"
WARNING = "warning"

GOAL_COLUMNS: tuple[str, ...] = ("fthg", "ftag", "hthg", "htag")
REQUIRED_NOT_NULL: tuple[str, ...] = (*schema.IDENTITY_COLUMNS, "fthg", "ftag", "ftr")
RESULT_CODES: tuple[str, ...] = ("H", "D", "A")
MAX_GOALS = 15

# Implied overround (sum of 1/price over home, draw, away) of one book at one timing, for books
# that have all three prices. Real football-data.co.uk files 1993/94-2025/26 (E0, D1): single
# books 1.0005 (Pinnacle closing) .. 1.31 (Interwetten, 2000s), the only row above 1.40 is a typo
# (WH draw price 1.02 in D1 2011/12). "max" is the best price over many books, so it is often
# below 1; its 0.1% quantile is 0.89 (closing) / 0.94 (opening), and rows below 0.90 are a
# single stale or mistyped price (e.g. BbMxH 4.0 for a 1.30 favourite).
OVERROUND_RANGE: tuple[float, float] = (0.97, 1.40)
MAX_OVERROUND_RANGE: tuple[float, float] = (0.90, 1.30)
MARKET_MAX_BOOK = "max"


@dataclass(frozen=True)
class CheckSpec:
    name: str
    severity: str
    description: str


CHECK_SPECS: tuple[CheckSpec, ...] = (
    CheckSpec("required_columns_present", BLOCKING, "every canonical column (schema.MATCH_COLUMNS) exists"),
    CheckSpec(
        "column_types",
        BLOCKING,
        "goal columns are integer-typed, kickoff is a timezone-aware timestamp, odds are float64",
    ),
    CheckSpec("required_not_null", WARNING, f"no nulls in {', '.join(REQUIRED_NOT_NULL)}"),
    CheckSpec("partition_matches", WARNING, "league and season of every row are the partition's"),
    CheckSpec(
        "match_id_deterministic",
        WARNING,
        "match_id == schema.make_match_id(league, season, home_team, away_team, leg), legs in kickoff order",
    ),
    CheckSpec("goals_in_range", WARNING, f"goals ({', '.join(GOAL_COLUMNS)}) within [0, {MAX_GOALS}]"),
    CheckSpec("result_codes_valid", WARNING, "ftr and htr in {H, D, A}"),
    CheckSpec("ftr_consistent", WARNING, "ftr agrees with fthg/ftag (H iff fthg > ftag, D iff equal)"),
    CheckSpec("htr_consistent", WARNING, "htr agrees with hthg/htag where all are present"),
    CheckSpec("halftime_within_fulltime", WARNING, "hthg <= fthg and htag <= ftag"),
    CheckSpec("home_away_distinct", WARNING, "home_team != away_team"),
    CheckSpec("kickoff_in_season", WARNING, "kickoff inside schema.season_window(season)"),
    CheckSpec("odds_above_one", WARNING, "every odds price present is > 1.0"),
    CheckSpec(
        "overround_plausible",
        WARNING,
        f"sum of 1/odds per book and timing within {OVERROUND_RANGE[0]}..{OVERROUND_RANGE[1]}",
    ),
    CheckSpec(
        "overround_max_plausible",
        WARNING,
        f"sum of 1/odds of the market-max prices within {MAX_OVERROUND_RANGE[0]}..{MAX_OVERROUND_RANGE[1]}",
    ),
    CheckSpec("teams_known", WARNING, "home_team and away_team are known teams of the league"),
    CheckSpec("match_id_unique", BLOCKING, "match_id is unique in the partition (all copies quarantined)"),
    CheckSpec("quarantine_share", BLOCKING, "share of quarantined rows at most max_quarantine_share"),
    CheckSpec("suite_errors", BLOCKING, "every expectation could be evaluated"),
    CheckSpec(
        "home_away_balance",
        WARNING,
        "completed season: every team has as many home as away matches (valid rows)",
    ),
    CheckSpec(
        "fixture_count",
        WARNING,
        "completed season: every team has n_teams-1 home and n_teams-1 away matches (valid rows; "
        "none at all fails)",
    ),
)
SPECS = {spec.name: spec for spec in CHECK_SPECS}
# Position of every check in CHECK_SPECS: checks and quarantine reasons are reported in this order.
CHECK_ORDER = {spec.name: i for i, spec in enumerate(CHECK_SPECS)}
SCHEMA_CHECKS: tuple[str, ...] = ("required_columns_present", "column_types")
# Checks of one book's prices: a row failing only these is kept, with the failing book's three
# prices at that timing nulled and a finding per price (a bad price is a fault of its cells, not
# of the match: the result stays, and so do the other books' prices).
PRICE_CHECKS: frozenset[str] = frozenset({"odds_above_one", "overround_plausible", "overround_max_plausible"})
# Checks whose failing rows are quarantined (or, for PRICE_CHECKS alone, kept with prices nulled).
ROUTING_CHECKS: tuple[str, ...] = tuple(
    spec.name
    for spec in CHECK_SPECS
    if spec.name
    not in SCHEMA_CHECKS + ("quarantine_share", "suite_errors", "home_away_balance", "fixture_count")
)

# Dtype names (str(series.dtype)) the schema accepts per column role.
INT_DTYPE_PATTERN = r"^[Uu]?[Ii]nt(?:8|16|32|64)$"  # numpy int64 or pandas nullable Int64, ...
UTC_DATETIME_DTYPE_PATTERN = r"^datetime64\[(?:s|ms|us|ns), UTC\]$"
FLOAT_DTYPE_PATTERN = r"^[Ff]loat(?:32|64)$"


def overround_column(book: str, timing: str) -> str:
    """The validation view's column of one book's implied overround at one timing."""
    return f"overround_{book}_{timing}"


def odds_triplet(book: str, timing: str) -> tuple[str, str, str]:
    return tuple(f"odds_{book}_{timing}_{outcome}" for outcome in schema.OUTCOMES)  # type: ignore[return-value]


# The regular books' overrounds (checked against OVERROUND_RANGE through their row-wise min/max).
REGULAR_OVERROUNDS: tuple[str, ...] = tuple(
    overround_column(book, timing)
    for book in schema.BOOKMAKERS
    if book != MARKET_MAX_BOOK
    for timing in schema.ODDS_TIMINGS
)


def schema_expectations() -> list:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    role = Column("role")
    types = {"check": "column_types"}
    return [
        gxe.ExpectColumnValuesToBeInSet(
            column="present", value_set=[True], meta={"check": "required_columns_present"}
        ),
        # Missing columns have a null dtype, which these ignore (reported above instead).
        gxe.ExpectColumnValuesToMatchRegex(
            column="dtype", regex=INT_DTYPE_PATTERN, row_condition=role == "goal", meta=types
        ),
        gxe.ExpectColumnValuesToMatchRegex(
            column="dtype", regex=UTC_DATETIME_DTYPE_PATTERN, row_condition=role == "kickoff", meta=types
        ),
        gxe.ExpectColumnValuesToMatchRegex(
            column="dtype", regex=FLOAT_DTYPE_PATTERN, row_condition=role == "odds", meta=types
        ),
    ]


def row_expectations() -> list:
    import great_expectations.expectations as gxe

    def meta(check: str) -> dict:
        return {"check": check}

    either = "either_value_is_missing"
    ex: list = []
    for column in REQUIRED_NOT_NULL:
        ex.append(gxe.ExpectColumnValuesToNotBeNull(column=column, meta=meta("required_not_null")))
    # The partition's own values (league, season, season window, team list) are columns of
    # the view rather than suite parameters, so one suite run validates many partitions.
    for column in ("league", "season"):
        ex.append(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A=column,
                column_B=f"partition_{column}",
                ignore_row_if=either,
                meta=meta("partition_matches"),
            )
        )
    ex.append(
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="match_id",
            column_B="expected_match_id",
            ignore_row_if=either,
            meta=meta("match_id_deterministic"),
        )
    )
    ex.append(gxe.ExpectColumnValuesToBeUnique(column="partition_match_id", meta=meta("match_id_unique")))
    for column in GOAL_COLUMNS:
        ex.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column, min_value=0, max_value=MAX_GOALS, meta=meta("goals_in_range")
            )
        )
    for column in ("ftr", "htr"):
        ex.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=column, value_set=list(RESULT_CODES), meta=meta("result_codes_valid")
            )
        )
    ex.append(
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="ftr", column_B="ftr_from_goals", ignore_row_if=either, meta=meta("ftr_consistent")
        )
    )
    ex.append(
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="htr", column_B="htr_from_goals", ignore_row_if=either, meta=meta("htr_consistent")
        )
    )
    for full, half in (("fthg", "hthg"), ("ftag", "htag")):
        ex.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=full,
                column_B=half,
                or_equal=True,
                ignore_row_if=either,
                meta=meta("halftime_within_fulltime"),
            )
        )
    ex.append(
        gxe.ExpectSelectColumnValuesToBeUniqueWithinRecord(
            column_list=["home_team", "away_team"], meta=meta("home_away_distinct")
        )
    )
    ex.append(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="kickoff",
            column_B="season_start",
            or_equal=True,
            ignore_row_if=either,
            meta=meta("kickoff_in_season"),
        )
    )
    ex.append(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="season_end",
            column_B="kickoff",
            ignore_row_if=either,
            meta=meta("kickoff_in_season"),
        )
    )
    # One expectation over row-wise aggregates instead of one per odds column: GE's cost is
    # per expectation (~25-40 ms each), and 80 per-column odds expectations made a 380-row
    # partition take ~5 s. failed_values still names the offending prices (see quarantine.row_values).
    ex.append(
        gxe.ExpectColumnValuesToBeBetween(
            column="min_odds", min_value=1.0, strict_min=True, meta=meta("odds_above_one")
        )
    )
    low, high = OVERROUND_RANGE
    ex.append(
        gxe.ExpectColumnValuesToBeBetween(
            column="overround_low", min_value=low, meta=meta("overround_plausible")
        )
    )
    ex.append(
        gxe.ExpectColumnValuesToBeBetween(
            column="overround_high", max_value=high, meta=meta("overround_plausible")
        )
    )
    low, high = MAX_OVERROUND_RANGE
    for timing in schema.ODDS_TIMINGS:
        ex.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=overround_column(MARKET_MAX_BOOK, timing),
                min_value=low,
                max_value=high,
                meta=meta("overround_max_plausible"),
            )
        )
    # True/False per row; null (not checked) for leagues without a team list.
    for column in ("home_team_known", "away_team_known"):
        ex.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=[True], meta=meta("teams_known")))
    return ex


def season_expectations() -> list:
    import great_expectations.expectations as gxe

    ex: list = [
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="home_matches",
            column_B="away_matches",
            severity="warning",
            meta={"check": "home_away_balance"},
        )
    ]
    for column in ("home_matches", "away_matches"):
        ex.append(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A=column,
                column_B="expected_matches",
                severity="warning",
                meta={"check": "fixture_count"},
            )
        )
    return ex
