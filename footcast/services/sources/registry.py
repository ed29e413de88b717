"""Each league's source, as the catalogue names it (``League.source`` for its results,
``catalogue.XG_SOURCES`` for its match xG): the one place a league is matched to the code that
fetches it."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from footcast import config
from footcast.adapters.http.client import HttpClient
from footcast.data import catalogue, schema
from footcast.services.sources.base import IN_PROGRESS_MAX_AGE, Fetched, Source, XgSource
from footcast.services.sources.football_data import FootballDataSource
from footcast.services.sources.football_data_extra import FootballDataExtraSource
from footcast.services.sources.simulator import SimulatedUnderstatSource, SimulatorSource
from footcast.services.sources.understat import UnderstatSource


class LeagueSources:
    """The sources of the catalogue's leagues, built from their settings."""

    def __init__(self, http: HttpClient, football_data_url: str):
        # One entry per source the catalogue names. Fixtures are listed source by source in
        # this order.
        sources: list[Source] = [
            SimulatorSource(),
            FootballDataSource(http, football_data_url),
            FootballDataExtraSource(http, football_data_url),  # the same site, its other layout
        ]
        self.by_name: dict[str, Source] = {source.name: source for source in sources}

    def for_league(self, league_code: str) -> Source:
        return self.by_name[catalogue.league(league_code).source]

    def fetch_results(
        self,
        league_code: str,
        season: int,
        *,
        force: bool = False,
        stored_matches: int = 0,
        allow_fewer_rows: bool = False,
    ) -> Fetched:
        """Played matches of one league-season from the league's source (see ``Source.fetch_results``)."""
        return self.for_league(league_code).fetch_results(
            league_code,
            season,
            force=force,
            stored_matches=stored_matches,
            allow_fewer_rows=allow_fewer_rows,
        )

    def fetch_fixtures(self, league_codes: list[str], max_age: timedelta = IN_PROGRESS_MAX_AGE) -> Fetched:
        """Upcoming fixtures of the given leagues from their sources.

        ``max_age``: how old the archived fixtures list may be before it is re-checked at the source
        (the fixtures sensor passes 0: it polls at its own interval, and its check refreshes the
        archive that the run it triggers then reads).
        """
        by_source: dict[str, list[str]] = {}
        for code in league_codes:
            by_source.setdefault(catalogue.league(code).source, []).append(code)
        parts = [
            source.fetch_fixtures(by_source[name], max_age=max_age)
            for name, source in self.by_name.items()
            if by_source.get(name)
        ]
        return combined(parts)


class XgSources:
    """The sources of the leagues' match xG (``catalogue.XG_SOURCES``): Understat at
    ``understat_url`` for its leagues, the simulator's feed for the simulated ones."""

    def __init__(self, http: HttpClient, understat_url: str):
        sources: list[XgSource] = [SimulatedUnderstatSource(), UnderstatSource(http, understat_url)]
        self.by_name: dict[str, XgSource] = {source.name: source for source in sources}

    def for_league(self, league_code: str) -> XgSource:
        return self.by_name[catalogue.xg_source(league_code)]

    def fetch_season(
        self,
        league_code: str,
        season: int,
        *,
        force: bool = False,
        stored_matches: int = 0,
        allow_fewer_rows: bool = False,
    ) -> Fetched:
        """Every match of one league-season with its xG, from the league's xG source (see
        ``XgSource.fetch_season``)."""
        return self.for_league(league_code).fetch_season(
            league_code,
            season,
            force=force,
            stored_matches=stored_matches,
            allow_fewer_rows=allow_fewer_rows,
        )


def combined(parts: list[Fetched]) -> Fetched:
    """One fixtures list from the sources' lists: their rows, and every file each one fetched."""
    frame = (
        schema.conform(pd.concat([part.frame for part in parts], ignore_index=True), schema.FIXTURE_COLUMNS)
        if parts
        else schema.empty_frame(schema.FIXTURE_COLUMNS)
    )
    frame["fetched_at"] = pd.Timestamp(config.now())
    origins = [origin for part in parts for origin in part.origin.split("+")]
    return Fetched(
        frame,
        "+".join(sorted(set(origins))) or "none",
        " ".join(part.url for part in parts),
        "+".join(origins),
        " ".join(part.content_hash for part in parts if part.content_hash),
        sum(part.size_bytes for part in parts),
    )
