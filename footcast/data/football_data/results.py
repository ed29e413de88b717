"""Season result files of the main layout (``mmz4281/<SEASON4>/<DIV>.csv``).

Raw keeps what the source says: a row whose essential fields parse (date, teams, full-time
goals and result letter, and a ``Div`` that is the file's league) is kept; any other cell that
does not parse is null in its canonical column and the row carries a finding (column, raw
text, reason) in ``findings``. A row whose essential fields do not parse, a second match on
one line that cannot be recovered, and a repeat of a match listed before it in the file are
rejected: returned with their reason and raw text, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from footcast.data import schema
from footcast.data.football_data import cells, parsing
from footcast.data.football_data.columns import AWAY, DATE, DIV, GOALS, HOME, LETTERS, STATS
from footcast.data.football_data.frames import canonical_frame, findings_text, lineage, match_ids
from footcast.data.football_data.lines import DUPLICATE, RowShape
from footcast.data.football_data.reading import Table, read_table

REQUIRED = (DATE, HOME, AWAY, GOALS["fthg"], GOALS["ftag"])


@dataclass
class ParsedResults:
    matches: pd.DataFrame  # kept rows, schema.MATCH_COLUMNS, in file order
    rejected: pd.DataFrame  # schema.REJECTED_COLUMNS, in file order


def _shape(league: str, season: int):
    def shape(header: list[str], positions: dict[str, int]) -> RowShape:
        def problem(fields: list[str]) -> str | None:
            return parsing.essential_problem(fields, positions, season) or _goals_problem(fields, positions)

        date_name = next(n for n in DATE if n in positions)
        first = league if header[0] in DIV else None
        return RowShape(len(header), problem, positions[date_name], first)

    return shape


def _goals_problem(fields: list[str], positions: dict[str, int]) -> str | None:
    for column in ("fthg", "ftag"):
        name = next(n for n in GOALS[column] if n in positions)
        text = fields[positions[name]].strip()
        if not text or cells.parse_whole_number(text) is None:
            return cells.whole_number_problem(name, text)
    return None


def _check_div(table: Table, faults: parsing.Faults, league: str) -> None:
    div = table.first(DIV)
    if div is None:
        return
    for index, value in enumerate(table.column(div)):
        if value and value != league:
            faults.reject(index, f"{div} {value!r} disagrees with the requested league {league!r}")


def _results(table: Table, faults: parsing.Faults) -> dict[str, list]:
    """Goals and result letters: full-time ones essential, half-time ones findings."""
    goals: dict[str, list[int | None]] = {}
    for column, names in GOALS.items():
        name = table.first(names)
        if name is not None:
            goals[column] = parsing.whole_numbers(table, faults, name, essential=column in ("fthg", "ftag"))
    out: dict[str, list] = dict(goals)
    full = (goals["fthg"], goals["ftag"])
    out["ftr"] = parsing.result_letters(table, faults, LETTERS["ftr"], full, essential=True)
    if ("hthg" in goals and "htag" in goals) or table.first(LETTERS["htr"]):
        nothing: list[int | None] = [None] * len(table.rows)
        half = (goals.get("hthg", nothing), goals.get("htag", nothing))
        out["htr"] = parsing.result_letters(table, faults, LETTERS["htr"], half, essential=False)
    return out


def split_rows(frame: pd.DataFrame, faults: parsing.Faults, table: Table) -> ParsedResults:
    """Kept and rejected rows; the index of ``frame`` is the row's position in ``table.rows``."""
    texts = [row.text for row in table.rows]
    rejected_rows = sorted(faults.rejections)
    rejected = (
        _rejected(
            frame.loc[rejected_rows],
            [faults.rejections[i][0] for i in rejected_rows],
            [faults.rejections[i][1] for i in rejected_rows],
            texts,
        )
        if rejected_rows
        else _no_rejected().copy()
    )
    kept = frame.drop(index=rejected_rows) if rejected_rows else frame
    # A pair that meets more than once in a season (Scottish leagues) needs a leg number.
    repeated = kept[["home_team", "away_team"]].duplicated(keep=False)
    if repeated.any():
        kept.loc[repeated, "match_id"] = schema.assign_match_ids(kept[repeated])
    repeats = kept["match_id"].duplicated(keep="first")
    if repeats.any():
        copies = kept[repeats]
        duplicates = _rejected(copies, [DUPLICATE] * len(copies), _repeat_reasons(kept, repeats), texts)
        both = [rejected, duplicates] if len(rejected) else [duplicates]
        rejected = pd.concat(both).sort_index(kind="stable")
        kept = kept[~repeats]
    return ParsedResults(kept.reset_index(drop=True), rejected.reset_index(drop=True))


@lru_cache(maxsize=1)
def _no_rejected() -> pd.DataFrame:
    return schema.empty_frame(schema.REJECTED_COLUMNS)


def _rejected(
    rows: pd.DataFrame, rejections: list[str], reasons: list[str], texts: list[str]
) -> pd.DataFrame:
    return rows.assign(
        rejection=pd.array(rejections, dtype="string"),
        reason=pd.array(reasons, dtype="string"),
        raw_text=pd.array([texts[i] for i in rows.index], dtype="string"),
    )


def _repeat_reasons(kept: pd.DataFrame, repeats: pd.Series) -> list[str]:
    first_line = kept[~repeats].set_index("match_id")["source_line"]
    copies = kept[repeats]
    return [
        f"repeats the match of line {int(first_line[match_id])} ({home} v {away} on "
        f"{kickoff.tz_convert(schema.UK).date()}); the first is kept"
        for match_id, home, away, kickoff in zip(
            copies["match_id"], copies["home_team"], copies["away_team"], copies["kickoff"], strict=True
        )
    ]


def parse_results(
    content: bytes, *, league: str, season: int, source_url: str, content_hash: str
) -> ParsedResults:
    """Played matches of one league-season file (``mmz4281/<SEASON4>/<league>.csv``).

    ``matches``: the kept rows conformed to ``schema.MATCH_COLUMNS`` in file order,
    ``source_line`` being the row's 1-based physical line; ``rejected``: the rows that cannot be
    kept (see the module docstring). Raises :class:`SourceFormatError` only for whole-file
    problems (an HTML page, an empty, binary, undecodable or truncated body, a header without
    the required columns).
    """
    partition = f"{league}|{schema.season_key(season)}"
    table = read_table(content, source_url, partition, REQUIRED, _shape(league, season))
    faults = parsing.Faults(table)
    _check_div(table, faults, league)
    keys = parsing.key_fields(table, faults, season)
    keys.pop("day")
    count = len(table.rows)
    frame: dict[str, object] = {"league": league, "season": season, "stage": schema.REGULAR, **keys}
    frame.update(_results(table, faults))
    for column, names in STATS.items():
        name = table.first(names)
        if name is not None:
            frame[column] = parsing.whole_numbers(table, faults, name, essential=False)
    frame.update(parsing.odds(table, faults))
    frame["match_id"] = match_ids([league] * count, [season] * count, keys["home_team"], keys["away_team"])
    frame.update(lineage(table.source_url, content_hash, table.lines))
    frame["findings"] = findings_text(faults.findings)
    result = canonical_frame(frame, schema.MATCH_COLUMNS, count)
    return split_rows(result, faults, table)
