"""football-data.co.uk (or a mirror of it): season files and the fixtures list, through the
shared, polite, archiving HTTP client."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from footcast.adapters.http.client import HttpClient, NotFoundError
from footcast.adapters.redaction import redact_url
from footcast.data import catalogue, schema
from footcast.data.football_data import (
    DUPLICATE,
    ParsedResults,
    SourceFormatError,
    parse_fixtures,
    parse_results,
)
from footcast.services.sources.base import IN_PROGRESS_MAX_AGE, Fetched, NoSuchSeasonError

# A season file with more than this share of its matches outside the season's window
# (catalogue.season_window: July 1st to September 1st of the next year, UK) is another season's file
# (or a mix). Below it, the odd mistyped date is the validated layer's business: it quarantines
# the row (kickoff_in_season). Every real file lies inside the window (the latest season end,
# 2019/20 Premier League, is 26 July 2020); Serie A's 2019/20 last round (1-2 August 2020) would
# be 10 of 380 rows outside.
MAX_OUTSIDE_SEASON_SHARE = 0.10
# A season file whose repeated matches (rows repeating a match listed before them) are more than
# this share of its rows is a broken file (a doubled body is half repeats), not a file with a
# slip: the site's real slips are one or two repeated rows in a season (under 1%). Below it the
# first of each match is kept and the repeats are quarantined.
MAX_REPEATED_SHARE = 0.25
# A file more than half of whose rows cannot be read (essential fields unparseable) is not a
# season file of this layout, whatever its header says. Below it the rows are quarantined.
MAX_UNPARSEABLE_SHARE = 0.50


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
        parsed: dict[str, ParsedResults] = {}

        def parse(content: bytes, content_hash: str) -> ParsedResults:
            result = parse_results(
                content, league=league_code, season=season, source_url=shown, content_hash=content_hash
            )
            check_season_file(
                result.matches,
                rejected=result.rejected,
                season=season,
                url=shown,
                partition=partition,
                stored_matches=stored_matches,
                allow_fewer_rows=allow_fewer_rows,
            )
            parsed[content_hash] = result
            return result

        try:
            # Downloaded bytes are archived only once they parse (see HttpClient.fetch's accept).
            response = self.http.fetch(url, partition=partition, max_age=max_age, force=force, accept=parse)
        except NotFoundError as exc:
            raise NoSuchSeasonError(
                f"no such season: {shown} answered {exc.cause} for partition {partition}"
            ) from exc
        result = parsed.get(response.content_hash)
        if result is None:  # served from the archive
            result = parse(response.content, response.content_hash)
        return Fetched(
            result.matches.assign(fetched_at=response.fetched_at),
            self.name,
            response.url,
            response.origin,
            response.content_hash,
            len(response.content),
            {"requests_made": response.requests_made},
            rejected=result.rejected.assign(fetched_at=response.fetched_at),
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
    rejected: pd.DataFrame | None = None,
    stored_matches: int = 0,
    allow_fewer_rows: bool = False,
) -> None:
    """Refuse a parsed season file that cannot be this partition's (newer) version.

    ``frame``: the kept rows; ``rejected``: the rows the parser rejected (schema.REJECTED_COLUMNS).
    Raises :class:`SourceFormatError` (naming URL, partition and cause) when more than
    :data:`MAX_REPEATED_SHARE` of the file's rows repeat a match (a broken file, not a slip),
    when more than :data:`MAX_UNPARSEABLE_SHARE` of them cannot be read, when more than
    :data:`MAX_OUTSIDE_SEASON_SHARE` of its matches fall outside the season's window (another
    season's file), or when it has fewer matches than the ``stored_matches`` already held for
    the partition (a truncated or header-only file: a season's file never loses matches)
    unless ``allow_fewer_rows``. Called before the bytes are archived, so refused bytes are
    neither archived nor stored. Fewer rejected rows are the raw step's to quarantine.
    """
    n = len(frame)
    if rejected is not None and len(rejected):
        _check_rejected_share(rejected, n, url=url, partition=partition)
    if n:
        league_code = catalogue.parse_partition_key(partition)[0]
        start, end = catalogue.season_window(league_code, season)
        outside = frame[(frame["kickoff"] < start) | (frame["kickoff"] >= end)]
        if len(outside) > MAX_OUTSIDE_SEASON_SHARE * n:
            local = frame["kickoff"].dt.tz_convert(schema.UK)
            last_day = (end.tz_convert(schema.UK) - pd.Timedelta(days=1)).date()
            raise SourceFormatError(
                url,
                int(outside["source_line"].iloc[0]),
                f"match dates outside the season: {len(outside)} of {n} matches fall outside the "
                f"{catalogue.league(league_code).season_key(season)} season window "
                f"{start.tz_convert(schema.UK).date()}.."
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


def _check_rejected_share(rejected: pd.DataFrame, kept: int, *, url: str, partition: str) -> None:
    total = kept + len(rejected)
    is_repeat = rejected["rejection"] == DUPLICATE
    for rows, limit, what in (
        (
            rejected[is_repeat],
            MAX_REPEATED_SHARE,
            "mostly repeats: {count} of {total} rows repeat a match "
            "listed before them (first: line {line}, {reason}); a season file lists each match once",
        ),
        (
            rejected[~is_repeat],
            MAX_UNPARSEABLE_SHARE,
            "mostly unreadable rows: {count} of {total} rows "
            "cannot be read (first: line {line}, {reason}); is this a season file of this layout?",
        ),
    ):
        if len(rows) > limit * total:
            first = rows.iloc[0]
            cause = what.format(
                count=len(rows), total=total, line=int(first["source_line"]), reason=first["reason"]
            )
            raise SourceFormatError(url, int(first["source_line"]), cause, partition)
