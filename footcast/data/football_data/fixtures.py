"""The site's upcoming fixtures list (``/fixtures.csv``): every league of the main layout."""

from __future__ import annotations

import pandas as pd

from footcast.data import schema
from footcast.data.football_data import parsing
from footcast.data.football_data.columns import AWAY, DATE, DIV, HOME
from footcast.data.football_data.frames import canonical_frame, findings_text, lineage, match_ids
from footcast.data.football_data.lines import RowShape
from footcast.data.football_data.reading import read_table


def _shape(header: list[str], positions: dict[str, int]) -> RowShape:
    def problem(fields: list[str]) -> str | None:
        if not fields[positions["Div"]].strip():
            return "missing Div"
        return parsing.essential_problem(fields, positions, None)

    return RowShape(len(header), problem, positions[next(n for n in DATE if n in positions)])


def parse_fixtures(content: bytes, *, source_url: str, content_hash: str) -> pd.DataFrame:
    """Upcoming matches of every league in the site's ``/fixtures.csv``.

    Returns a frame conformed to ``schema.FIXTURE_COLUMNS``; ``league`` is the row's ``Div``
    and ``season`` the season of its UK-local date. A header-only file gives an empty frame.
    Unreadable prices or times are findings of their row; a row without a league, date or
    teams fails the list (fixtures have no quarantine: the previous list stays).
    """
    table = read_table(content, source_url, "fixtures", (DIV, DATE, HOME, AWAY), _shape)
    faults = parsing.Faults(table)
    leagues = table.column(table.first(DIV) or "Div")
    for index, value in enumerate(leagues):
        if not value:
            faults.reject(index, "missing Div")
    keys = parsing.key_fields(table, faults, None)
    days = keys.pop("day")
    seasons = [schema.season_of(day) if day is not None else None for day in days]
    frame: dict[str, object] = {"league": leagues, "season": seasons, **keys}
    frame.update(parsing.odds(table, faults))
    faults.raise_first_rejection()

    frame["match_id"] = match_ids(leagues, seasons, keys["home_team"], keys["away_team"])
    frame.update(lineage(table.source_url, content_hash, table.lines))
    frame["findings"] = findings_text(faults.findings)
    return canonical_frame(frame, schema.FIXTURE_COLUMNS, len(table.rows))
