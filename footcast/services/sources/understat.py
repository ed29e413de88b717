"""Understat (or a mirror of its protocol): the match xG of one league-season, through the shared,
polite, archiving HTTP client.

The protocol (since Understat's December 2025 change): the page ``/league/<LEAGUE>/<YEAR>`` is a
shell that sets session cookies; the data is ``GET /getLeagueData/<LEAGUE>/<YEAR>``, which
answers only requests carrying ``X-Requested-With: XMLHttpRequest`` and the session's cookies,
sent with the league page as ``Referer``. The client visits the page before each network
request, and when the API refuses (403) renews the session once (new cookies) and retries;
otherwise the partition fails with one line naming the URL and the cause
(:class:`~footcast.adapters.http.client.CookieSession`).

A completed season is served from the archive (never downloaded twice, no session needed); the
current one is re-checked after ``IN_PROGRESS_MAX_AGE``. Bytes are archived only once they
parse and pass :func:`check_league_data`, so a bad body never replaces stored data.
"""

from __future__ import annotations

from footcast.adapters.http.client import CookieSession, HttpClient, NotFoundError
from footcast.adapters.redaction import redact_url
from footcast.data import catalogue, schema
from footcast.data.football_data import SourceFormatError
from footcast.data.understat import DUPLICATE, ParsedLeagueData, parse_league_data
from footcast.services.sources.base import IN_PROGRESS_MAX_AGE, Fetched, NoSuchSeasonError

# As for football-data's season files (services/sources/football_data.py): a body most of whose
# matches cannot be read, or are exact repeats, or fall outside the season's window, is not this
# partition's data; below these shares the odd row is quarantined.
MAX_UNPARSEABLE_SHARE = 0.50
MAX_REPEATED_SHARE = 0.25
MAX_OUTSIDE_SEASON_SHARE = 0.10

# What a browser's XHR sends; Understat answers the API only to XMLHttpRequest.
XHR_HEADERS = {
    "X-Requested-With": "XMLHttpRequest",
    "Accept": "application/json, text/javascript, */*; q=0.01",
}


def league_page_url(base_url: str, league_code: str, season: int) -> str:
    return f"{base_url}/league/{catalogue.understat_league(league_code)[1]}/{season}"


def league_data_url(base_url: str, league_code: str, season: int) -> str:
    return f"{base_url}/getLeagueData/{catalogue.understat_league(league_code)[1]}/{season}"


class UnderstatSource:
    """Understat at ``base_url``, fetched through ``http``."""

    name = "understat"

    def __init__(self, http: HttpClient, base_url: str):
        self.http = http
        self.base_url = base_url.rstrip("/")

    def fetch_season(
        self,
        league_code: str,
        season: int,
        *,
        force: bool = False,
        stored_matches: int = 0,
        allow_fewer_rows: bool = False,
    ) -> Fetched:
        """Every match Understat lists for one league-season (played or not), one row each.

        ``league_code``: football-data's code (E0); ``stored_matches``: the *played* matches
        the partition holds now: data with fewer is refused unless ``allow_fewer_rows``.
        Raises :class:`NoSuchSeasonError` when Understat has no such league-season (404),
        :class:`SourceFormatError` for a body that is not this partition's data and
        :class:`~footcast.adapters.http.client.FetchError` when the network fails.
        """
        page = league_page_url(self.base_url, league_code, season)
        url = league_data_url(self.base_url, league_code, season)
        shown = redact_url(url)
        max_age = None if catalogue.is_completed(season, league_code) else IN_PROGRESS_MAX_AGE
        partition = catalogue.partition_key(league_code, season)
        parsed: dict[str, ParsedLeagueData] = {}

        def parse(content: bytes, content_hash: str) -> ParsedLeagueData:
            result = parse_league_data(
                content,
                league=league_code,
                season=season,
                source_url=shown,
                content_hash=content_hash,
                partition=partition,
            )
            check_league_data(
                result,
                league_code=league_code,
                season=season,
                url=shown,
                partition=partition,
                stored_matches=stored_matches,
                allow_fewer_rows=allow_fewer_rows,
            )
            parsed[content_hash] = result
            return result

        try:
            response = self.http.fetch(
                url,
                partition=partition,
                max_age=max_age,
                force=force,
                accept=parse,
                headers={**XHR_HEADERS, "Referer": redact_url(page)},
                session=CookieSession(page),
            )
        except NotFoundError as exc:
            raise NoSuchSeasonError(
                f"no such season: {exc.url} answered {exc.cause} for partition {partition}"
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
            {
                "requests_made": response.requests_made,
                "played": result.played,
                "not_played": len(result.matches) - result.played,
            },
            rejected=result.rejected.assign(fetched_at=response.fetched_at),
        )


def check_league_data(
    parsed: ParsedLeagueData,
    *,
    league_code: str,
    season: int,
    url: str,
    partition: str,
    stored_matches: int = 0,
    allow_fewer_rows: bool = False,
) -> None:
    """Refuse parsed league data that cannot be this partition's (newer) version: mostly
    unreadable or repeated matches, mostly outside the season's window (another season's data),
    or fewer played matches than the ``stored_matches`` the partition holds (a played match
    never goes away) unless ``allow_fewer_rows``. Raises :class:`SourceFormatError` naming URL,
    partition and cause; called before the bytes are archived."""
    frame, rejected = parsed.matches, parsed.rejected
    total = len(frame) + len(rejected)
    repeats = rejected[rejected["rejection"] == DUPLICATE]
    for rows, limit, what in (
        (repeats, MAX_REPEATED_SHARE, "repeat an earlier match exactly"),
        (rejected[rejected["rejection"] != DUPLICATE], MAX_UNPARSEABLE_SHARE, "cannot be read"),
    ):
        if len(rows) > limit * total:
            first = rows.iloc[0]
            raise SourceFormatError(
                url,
                None,
                f"mostly bad matches: {len(rows)} of {total} elements of dates {what} "
                f"(first: element {int(first['source_index'])}, {first['reason']})",
                partition,
            )
    start, end = catalogue.season_window(league_code, season)
    outside = frame[(frame["kickoff"] < start) | (frame["kickoff"] >= end)]
    if len(frame) and len(outside) > MAX_OUTSIDE_SEASON_SHARE * len(frame):
        raise SourceFormatError(
            url,
            None,
            f"match dates outside the season: {len(outside)} of {len(frame)} matches fall outside the "
            f"{schema.season_key(season)} season window {start.date()}..{end.date()} (they run "
            f"{frame['kickoff'].min().date()}..{frame['kickoff'].max().date()}); another season's data?",
            partition,
        )
    if parsed.played < stored_matches and not allow_fewer_rows:
        raise SourceFormatError(
            url,
            None,
            f"fewer played matches than stored: the data has {parsed.played}, the partition holds "
            f"{stored_matches}; a played match never goes away (truncated data?). Nothing was replaced; "
            "to accept it deliberately, re-run raw_understat_matches with config allow_fewer_rows: true",
            partition,
        )
