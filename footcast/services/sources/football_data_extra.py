"""football-data.co.uk's extra leagues (or a mirror): one file per league, ``new/<CODE>.csv``,
holding every season since 2012, and their fixtures list ``new_league_fixtures.csv``.

One download of a league's file feeds all of that league's season partitions: the file goes
through the shared HTTP client (one archived copy per version of the file; re-checked with a
conditional request once its archived copy is an hour old, so an unchanged file is never
downloaded twice), is parsed once per version (per process), and each partition gets only its
own season's rows, checked like a season file of the main layout (the fewer-rows guard per
partition).

A partition's rows carry the lineage of the oldest archived version of the file since which
they have not changed (its content hash and download time): when a new version changes one
season, the other seasons' rows come out exactly as stored, so re-materializing them replaces
nothing. A partition's ``origin`` is "network" when its rows come from a version of the file
this source downloaded (in this run), else where the file came from ("archive" or
"not-modified").
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

import pandas as pd

from footcast.adapters.http.client import HttpClient, NotFoundError
from footcast.adapters.redaction import redact_url
from footcast.data import catalogue, schema
from footcast.data.extra_leagues import LeagueFile, parse_league_file, parse_league_fixtures
from footcast.data.football_data import ParsedResults, SourceFormatError
from footcast.services.sources.base import IN_PROGRESS_MAX_AGE, Fetched, NoSuchSeasonError
from footcast.services.sources.football_data import check_season_file

# Not compared between versions of the file: where the rows were read from.
_LINEAGE = ("source_url", "content_hash")


@lru_cache(maxsize=64)
def _parsed(content_hash: str, content: bytes, league_code: str, shown: str) -> LeagueFile:
    # Keyed by the content hash: every partition of a league, in any run of this process,
    # parses each version of the file once. (The bytes take part in the key only through
    # the hash's equality check; they are what is parsed.)
    return parse_league_file(content, league=league_code, source_url=shown, content_hash=content_hash)


class FootballDataExtraSource:
    """The extra leagues of football-data.co.uk at ``base_url``, fetched through ``http``."""

    name = catalogue.FOOTBALL_DATA_EXTRA

    def __init__(self, http: HttpClient, base_url: str):
        self.http = http
        self.base_url = base_url
        self._forced: set[str] = set()  # files force-downloaded by this source already
        self._downloaded: set[str] = set()  # content hashes of the versions this source downloaded

    def fetch_results(
        self,
        league_code: str,
        season: int,
        *,
        force: bool = False,
        stored_matches: int = 0,
        allow_fewer_rows: bool = False,
    ) -> Fetched:
        """Played matches of one league-season, from the league's file.

        Raises :class:`SourceFormatError` for a file that is not one (HTML, truncated, no
        header: nothing archived) or a season that fails its checks (fewer matches than
        ``stored_matches`` unless ``allow_fewer_rows``, see :func:`check_season_file`), and
        :class:`NoSuchSeasonError` when the file (or its season) does not exist.
        """
        url = results_url(self.base_url, league_code)
        shown = redact_url(url)
        partition = catalogue.partition_key(league_code, season)

        def parse(content: bytes, content_hash: str) -> LeagueFile:
            try:
                return _parsed(content_hash, content, league_code, shown)
            except SourceFormatError as exc:  # name the partition that asked for the file
                raise SourceFormatError(exc.source_url, exc.line, exc.cause, partition) from None

        # The file holds the season in progress, so it is re-checked whichever season is asked
        # for; --force downloads it once per source, not once per partition.
        force_now = force and url not in self._forced
        try:
            response = self.http.fetch(
                url, partition=partition, max_age=IN_PROGRESS_MAX_AGE, force=force_now, accept=parse
            )
        except NotFoundError as exc:
            raise NoSuchSeasonError(
                f"no such league file: {shown} answered {exc.cause} for {partition}"
            ) from exc
        if force_now:
            self._forced.add(url)
        if response.origin == "network":
            self._downloaded.add(response.content_hash)
        league_file = parse(response.content, response.content_hash)
        if season not in league_file.seasons and season >= catalogue.current_season(league_code):
            # The league's current (or next) season before its first match: nothing played yet.
            return Fetched(
                _empty_season(),
                self.name,
                response.url,
                response.origin,
                response.content_hash,
                len(response.content),
                {"requests_made": response.requests_made},
            )
        if season not in league_file.seasons:
            held = ", ".join(map(str, sorted(league_file.seasons))) or "none"
            raise NoSuchSeasonError(
                f"no such season: {shown} has no rows of the season of partition {partition} "
                f"(its seasons: {held})"
            )
        parsed = league_file.season(season)
        check_season_file(
            parsed.matches,
            rejected=parsed.rejected,
            season=season,
            url=shown,
            partition=partition,
            stored_matches=stored_matches,
            allow_fewer_rows=allow_fewer_rows,
        )
        (frame, rejected), since = self._unchanged_since(url, league_code, season, parsed, response)
        return Fetched(
            frame,
            self.name,
            response.url,
            # The partition's rows are new if they come from a version this source downloaded.
            "network" if (since or response.content_hash) in self._downloaded else _stored(response.origin),
            response.content_hash,
            len(response.content),
            {"requests_made": response.requests_made, "rows_since": since or response.content_hash},
            rejected=rejected,
        )

    def _unchanged_since(self, url: str, league_code: str, season: int, parsed: ParsedResults, response):
        """The season's kept and rejected rows with the lineage of the oldest archived version of
        the file whose rows of that season are the same, and that version's hash (None: the
        newest version's rows are new)."""
        shown = redact_url(url)
        since = None
        lineage = (response.content_hash, response.fetched_at)
        versions = sorted(self.http.versions(url), key=lambda v: v.fetched_at, reverse=True)
        for version in versions:
            if version.content_hash == response.content_hash:
                continue
            older = _parsed(
                version.content_hash, self.http.archived(url, version.content_hash), league_code, shown
            )
            if season not in older.seasons or not _same_rows(older.season(season), parsed):
                break
            lineage, since = (version.content_hash, version.fetched_at), version.content_hash
        frames = []
        for rows in (parsed.matches, parsed.rejected):
            rows = rows.copy()
            rows["content_hash"] = pd.array([lineage[0]] * len(rows), dtype="string")
            rows["fetched_at"] = lineage[1]
            frames.append(rows)
        return tuple(frames), since

    def fetch_fixtures(self, league_codes: list[str], *, max_age: timedelta = IN_PROGRESS_MAX_AGE) -> Fetched:
        """The given leagues' rows of the extra leagues' fixtures list."""
        url = fixtures_url(self.base_url)
        shown = redact_url(url)
        by_country = {catalogue.league(code).country: code for code in league_codes}

        def parse(content: bytes, content_hash: str) -> pd.DataFrame:
            return parse_league_fixtures(
                content, leagues_by_country=by_country, source_url=shown, content_hash=content_hash
            )

        response = self.http.fetch(url, partition="fixtures", max_age=max_age, accept=parse)
        frame = parse(response.content, response.content_hash)
        return Fetched(
            frame, self.name, response.url, response.origin, response.content_hash, len(response.content)
        )


def _stored(origin: str) -> str:
    return "archive" if origin == "network" else origin


def _empty_season() -> pd.DataFrame:
    return schema.empty_frame(schema.MATCH_COLUMNS).assign(
        fetched_at=pd.Series([], dtype="datetime64[ns, UTC]")
    )


def _same_rows(older: ParsedResults, newer: ParsedResults) -> bool:
    """Whether a season's kept and rejected rows are the same in two versions (lineage aside)."""
    for left, right in ((older.matches, newer.matches), (older.rejected, newer.rejected)):
        columns = [c for c in right.columns if c not in _LINEAGE]
        if len(left) != len(right) or not left[columns].reset_index(drop=True).equals(
            right[columns].reset_index(drop=True)
        ):
            return False
    return True


def results_url(base_url: str, league_code: str) -> str:
    return f"{base_url}/new/{league_code}.csv"


def fixtures_url(base_url: str) -> str:
    return f"{base_url}/new_league_fixtures.csv"
