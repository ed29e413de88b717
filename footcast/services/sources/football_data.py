"""football-data.co.uk (or a mirror of it): season files and the fixtures list, through the
shared, polite, archiving HTTP client."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from footcast.adapters.http.client import HttpClient, NotFoundError
from footcast.adapters.redaction import redact_url
from footcast.data import catalogue, schema
from footcast.data.football_data import SourceFormatError, parse_fixtures, parse_results
from footcast.services.sources.base import IN_PROGRESS_MAX_AGE, Fetched, NoSuchSeasonError

# A season file with more than this share of its matches outside the season's window
# (schema.season_window: July 1st to August 1st of the next year, UK) is another season's file
# (or a mix). Below it, the odd mistyped date is the validated layer's business: it quarantines
# the row (kickoff_in_season). Every real file lies inside the window (the latest season end,
# 2019/20 Premier League, is 26 July 2020); Serie A's 2019/20 last round (1-2 August 2020) would
# be 10 of 380 rows outside.
MAX_OUTSIDE_SEASON_SHARE = 0.10


class FootballDataSource:
    """football-data.co.uk at ``base_url`` (the mirror's credentials, if any, are sent, never
    stored or reported), fetched through ``http``."""

    name = "football-data"

    def __init__(self, http: HttpClient, base_url: str):
        self.http = http
        self.base_url = base_url

    def fetch_results(
        self,
        league_code: str,
        season: int,
        *,
        force: bool = False,
        stored_matches: int = 0,
        allow_fewer_rows: bool = False,
    ) -> Fetched:
        """Played matches of one league-season.

        ``stored_matches``: how many matches the partition holds now; a file with fewer is
        refused unless ``allow_fewer_rows`` (see :func:`check_season_file`, which every file
        passes before its bytes are archived or its rows returned).
        """
        url = results_url(self.base_url, league_code, season)
        shown = redact_url(url)  # the mirror's credentials are sent, never stored or reported
        # A completed season is immutable: served from the archive, never downloaded twice.
        max_age = None if catalogue.is_completed(season) else IN_PROGRESS_MAX_AGE
        partition = catalogue.partition_key(league_code, season)
        parsed: dict[str, pd.DataFrame] = {}

        def parse(content: bytes, content_hash: str) -> pd.DataFrame:
            frame = parse_results(
                content, league=league_code, season=season, source_url=shown, content_hash=content_hash
            )
            check_season_file(
                frame,
                season=season,
                url=shown,
                partition=partition,
                stored_matches=stored_matches,
                allow_fewer_rows=allow_fewer_rows,
            )
            parsed[content_hash] = frame
            return frame

        try:
            # Downloaded bytes are archived only once they parse (see HttpClient.fetch's accept).
            response = self.http.fetch(url, partition=partition, max_age=max_age, force=force, accept=parse)
        except NotFoundError as exc:
            raise NoSuchSeasonError(
                f"no such season: {shown} answered {exc.cause} for partition {partition}"
            ) from exc
        frame = parsed.get(response.content_hash)
        if frame is None:  # served from the archive
            frame = parse(response.content, response.content_hash)
        frame["fetched_at"] = response.fetched_at
        return Fetched(
            frame,
            self.name,
            response.url,
            response.origin,
            response.content_hash,
            len(response.content),
            {"requests_made": response.requests_made},
        )

    def fetch_fixtures(self, league_codes: list[str], *, max_age: timedelta = IN_PROGRESS_MAX_AGE) -> Fetched:
        """The given leagues' rows of the one fixtures list football-data.co.uk publishes."""
        url = fixtures_url(self.base_url)

        def parse(content: bytes, content_hash: str) -> pd.DataFrame:
            return parse_fixtures(content, source_url=redact_url(url), content_hash=content_hash)

        response = self.http.fetch(url, partition="fixtures", max_age=max_age, accept=parse)
        parsed = parse(response.content, response.content_hash)
        frame = schema.conform(parsed[parsed["league"].isin(league_codes)], schema.FIXTURE_COLUMNS)
        return Fetched(
            frame, self.name, response.url, response.origin, response.content_hash, len(response.content)
        )


def results_url(base_url: str, league_code: str, season: int) -> str:
    return f"{base_url}/mmz4281/{schema.season_code(season)}/{league_code}.csv"


def fixtures_url(base_url: str) -> str:
    return f"{base_url}/fixtures.csv"


def check_season_file(
    frame: pd.DataFrame,
    *,
    season: int,
    url: str,
    partition: str,
    stored_matches: int = 0,
    allow_fewer_rows: bool = False,
) -> None:
    """Refuse a parsed season file that cannot be this partition's (newer) version.

    Raises :class:`SourceFormatError` (naming URL, partition and cause) when the file repeats
    a match (a duplicated match id: the same pair on the same day), when more than
    :data:`MAX_OUTSIDE_SEASON_SHARE` of its matches fall outside the season's window (another
    season's file), or when it has fewer matches than the ``stored_matches`` already held for
    the partition (a truncated or header-only file: a season's file never loses matches)
    unless ``allow_fewer_rows``. Called before the bytes are archived, so refused bytes are
    neither archived nor stored.
    """
    n = len(frame)
    duplicated = frame["match_id"].duplicated(keep=False)
    if duplicated.any():
        copies = frame[duplicated]
        repeats = copies[copies["match_id"].duplicated()]
        first = copies.drop_duplicates("match_id").set_index("match_id")["source_line"]
        row = repeats.iloc[0]
        day = row["kickoff"].tz_convert(schema.UK).date()
        raise SourceFormatError(
            url,
            int(row["source_line"]),
            f"duplicated matches: {len(repeats)} of {n} rows repeat a match of the file "
            f"(first: {row['home_team']} v {row['away_team']} on {day} repeats line "
            f"{int(first[row['match_id']])}); a season file lists each match once",
            partition,
        )
    if n:
        start, end = schema.season_window(season)
        outside = frame[(frame["kickoff"] < start) | (frame["kickoff"] >= end)]
        if len(outside) > MAX_OUTSIDE_SEASON_SHARE * n:
            local = frame["kickoff"].dt.tz_convert(schema.UK)
            last_day = (end.tz_convert(schema.UK) - pd.Timedelta(days=1)).date()
            raise SourceFormatError(
                url,
                int(outside["source_line"].iloc[0]),
                f"match dates outside the season: {len(outside)} of {n} matches fall outside the "
                f"{schema.season_key(season)} season window {start.tz_convert(schema.UK).date()}.."
                f"{last_day} (the file's dates run {local.min().date()}..{local.max().date()}); "
                "is this another season's file?",
                partition,
            )
    if n < stored_matches and not allow_fewer_rows:
        raise SourceFormatError(
            url,
            None,
            f"fewer matches than stored: the file has {n} matches, the partition holds "
            f"{stored_matches}; a season file never loses matches (truncated or header-only file?). "
            "Nothing was replaced; to accept the smaller file deliberately, re-run raw_matches "
            "with config allow_fewer_rows: true (footcast backfill --force --allow-fewer-rows)",
            partition,
        )
