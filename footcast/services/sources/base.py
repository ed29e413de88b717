"""What every source implements (:class:`Source`), and what it returns (:class:`Fetched`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import pandas as pd

from footcast.data import schema

# How often a season still in progress (or the fixtures list) is re-checked at the source.
IN_PROGRESS_MAX_AGE = timedelta(hours=1)


class NoSuchSeasonError(LookupError):
    """The source does not publish this league-season (e.g. HTTP 404)."""


@dataclass
class Fetched:
    frame: pd.DataFrame
    source: str
    url: str
    origin: str  # "network" | "archive" | "not-modified" | "simulated"
    content_hash: str = ""
    size_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # Source rows that cannot be kept (schema.REJECTED_COLUMNS: what parsed, the rejection, the
    # reason and the row's text): the raw step quarantines them.
    rejected: pd.DataFrame = field(default_factory=lambda: schema.empty_frame(schema.REJECTED_COLUMNS))

    def metadata(self) -> dict[str, Any]:
        kickoffs = self.frame["kickoff"] if len(self.frame) else pd.Series(dtype="datetime64[ns, UTC]")
        return {
            "source": self.source,
            "url": self.url,
            "origin": self.origin,
            "content_hash": self.content_hash,
            "bytes": self.size_bytes,
            "rejected": len(self.rejected),
            "first_kickoff": str(kickoffs.min().date()) if len(kickoffs) else "",
            "last_kickoff": str(kickoffs.max().date()) if len(kickoffs) else "",
            **self.extra,
        }


class Source(Protocol):
    """A source of matches in the canonical schema, for the leagues the catalogue assigns it."""

    # The catalogue's name for it (``League.source``), also ``Fetched.source`` of its results.
    name: str

    def fetch_results(
        self,
        league_code: str,
        season: int,
        *,
        force: bool = False,
        stored_matches: int = 0,
        allow_fewer_rows: bool = False,
    ) -> Fetched:
        """Played matches of one league-season (``schema.MATCH_COLUMNS``, with lineage).

        ``force``: fetch again even what is archived; ``stored_matches``: how many matches the
        partition holds now, a file with fewer is refused unless ``allow_fewer_rows``.
        Raises :class:`NoSuchSeasonError` when the source does not publish the league-season.
        """
        ...

    def fetch_fixtures(self, league_codes: list[str], *, max_age: timedelta = IN_PROGRESS_MAX_AGE) -> Fetched:
        """Upcoming fixtures of the given leagues (``schema.FIXTURE_COLUMNS``).

        ``origin`` and ``url`` list each file fetched, joined by "+" and " ".
        ``max_age``: how old an archived list may be before it is re-checked at the source.
        """
        ...


class XgSource(Protocol):
    """A source of match xG in Understat's shape (``footcast.data.understat.UNDERSTAT_COLUMNS``),
    for the leagues the catalogue assigns it (``catalogue.XG_SOURCES``)."""

    name: str

    def fetch_season(
        self,
        league_code: str,
        season: int,
        *,
        force: bool = False,
        stored_matches: int = 0,
        allow_fewer_rows: bool = False,
    ) -> Fetched:
        """Every match the source lists for one league-season (played or not), one row each.

        ``stored_matches``: the played matches the partition holds now; data with fewer is
        refused unless ``allow_fewer_rows``. Raises :class:`NoSuchSeasonError` when the source
        does not publish the league-season.
        """
        ...
