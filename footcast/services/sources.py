"""Sources behind the canonical schema: which source serves a league, and fetching from it.

A league's source comes from the league registry (``catalogue.LEAGUES``): football-data.co.uk
for the real divisions, the simulator for SIM leagues. Both return canonical frames with
lineage, so the layers above never know which source a row came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from footcast import config
from footcast.adapters.http_client import NotFoundError, redact_url
from footcast.data import catalogue, schema, simulator
from footcast.data.football_data import SourceFormatError, parse_fixtures, parse_results

if TYPE_CHECKING:
    from footcast.assets.resources import FootballDataResource

# How often a season still in progress (or the fixtures list) is re-checked at the source.
IN_PROGRESS_MAX_AGE = timedelta(hours=1)
# A season file with more than this share of its matches outside the season's window
# (schema.season_window: July 1st to August 1st of the next year, UK) is another season's file
# (or a mix). Below it, the odd mistyped date is the validated layer's business: it quarantines
# the row (kickoff_in_season). Every real file lies inside the window (the latest season end,
# 2019/20 Premier League, is 26 July 2020); Serie A's 2019/20 last round (1-2 August 2020) would
# be 10 of 380 rows outside.
MAX_OUTSIDE_SEASON_SHARE = 0.10


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

    def metadata(self) -> dict[str, Any]:
        kickoffs = self.frame["kickoff"] if len(self.frame) else pd.Series(dtype="datetime64[ns, UTC]")
        return {
            "source": self.source,
            "url": self.url,
            "origin": self.origin,
            "content_hash": self.content_hash,
            "bytes": self.size_bytes,
            "first_kickoff": str(kickoffs.min().date()) if len(kickoffs) else "",
            "last_kickoff": str(kickoffs.max().date()) if len(kickoffs) else "",
            **self.extra,
        }


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


def fetch_results(
    league_code: str,
    season: int,
    scraper: FootballDataResource,
    force: bool = False,
    *,
    stored_matches: int = 0,
    allow_fewer_rows: bool = False,
) -> Fetched:
    """Played matches of one league-season from the league's source.

    ``stored_matches``: how many matches the partition holds now; a football-data file with
    fewer is refused unless ``allow_fewer_rows`` (see :func:`check_season_file`, which every
    file passes before its bytes are archived or its rows returned).
    """
    league = catalogue.league(league_code)
    if league.source == "simulator":
        played, _upcoming = simulator.simulate_partition(league_code, season, as_of=config.now())
        return Fetched(
            played,
            "simulator",
            f"simulator://{league_code}/{schema.season_key(season)}",
            "simulated",
            content_hash=str(played["content_hash"].iloc[0]) if len(played) else "",
        )
    url = results_url(scraper.base_url, league_code, season)
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
        response = scraper.client().fetch(
            url, partition=partition, max_age=max_age, force=force, accept=parse
        )
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
        "football-data",
        response.url,
        response.origin,
        response.content_hash,
        len(response.content),
        {"requests_made": response.requests_made},
    )


def fetch_fixtures(
    league_codes: list[str], scraper: FootballDataResource, max_age: timedelta = IN_PROGRESS_MAX_AGE
) -> Fetched:
    """Upcoming fixtures of the given leagues from their sources.

    ``max_age``: how old the archived fixtures list may be before it is re-checked at the source
    (the fixtures sensor passes 0: it polls at its own interval, and its check refreshes the
    archive that the run it triggers then reads).
    """
    frames: list[pd.DataFrame] = []
    origins: list[str] = []
    urls: list[str] = []
    content_hash, size = "", 0
    simulated = [c for c in league_codes if catalogue.league(c).source == "simulator"]
    scraped = [c for c in league_codes if catalogue.league(c).source == "football-data"]
    season = catalogue.current_season()
    for code in simulated:
        _played, upcoming = simulator.simulate_partition(code, season, as_of=config.now())
        frames.append(upcoming)
        origins.append("simulated")
        urls.append(f"simulator://{code}/{schema.season_key(season)}")
    if scraped:
        url = fixtures_url(scraper.base_url)

        def parse(content: bytes, content_hash: str) -> pd.DataFrame:
            return parse_fixtures(content, source_url=redact_url(url), content_hash=content_hash)

        response = scraper.client().fetch(url, partition="fixtures", max_age=max_age, accept=parse)
        parsed = parse(response.content, response.content_hash)
        frames.append(parsed[parsed["league"].isin(scraped)])
        origins.append(response.origin)
        urls.append(response.url)
        content_hash, size = response.content_hash, len(response.content)
    frame = (
        schema.conform(pd.concat(frames, ignore_index=True), schema.FIXTURE_COLUMNS)
        if frames
        else schema.empty_frame(schema.FIXTURE_COLUMNS)
    )
    frame["fetched_at"] = pd.Timestamp(config.now())
    return Fetched(
        frame, "+".join(sorted(set(origins))) or "none", " ".join(urls), "+".join(origins), content_hash, size
    )


def fixtures_digest(fixtures: pd.DataFrame) -> str:
    """sha256 of what a fixtures list says: which matches, when, and their odds.

    Lineage and fetch times are left out, so re-downloading the same list gives the same digest
    and any change to a fixture or a price gives a new one.
    """
    columns = [c for c in schema.FIXTURE_COLUMNS if c not in schema.LINEAGE_COLUMNS]
    ordered = schema.conform(fixtures, schema.FIXTURE_COLUMNS)[columns].sort_values(
        ["league", "kickoff", "home_team", "away_team"], kind="stable"
    )
    return hashlib.sha256(ordered.to_csv(index=False).encode()).hexdigest()


def upcoming_only(fixtures: pd.DataFrame, played: pd.DataFrame) -> pd.DataFrame:
    """Fixtures with their final match ids, minus those already played.

    A pair that has already met this season (Scottish leagues meet up to four times) plays
    its next leg: the leg counts the pair's meetings played at least 12 hours before the
    fixture, so a listed fixture that has just been played keeps its first-leg id and is
    recognised as played.
    """
    if fixtures.empty:
        return fixtures
    keys = ["league", "season", "home_team", "away_team"]
    fixtures = fixtures.reset_index(drop=True)
    pairs = (
        fixtures[keys + ["kickoff"]]
        .reset_index()
        .merge(played[keys + ["kickoff"]].rename(columns={"kickoff": "played_kickoff"}), on=keys, how="inner")
    )
    earlier = pairs[pairs["played_kickoff"] < pairs["kickoff"] - pd.Timedelta(hours=12)]
    prior = earlier.groupby("index").size()
    fixtures["match_id"] = schema.assign_match_ids(fixtures, prior)
    return fixtures[~fixtures["match_id"].isin(set(played["match_id"]))].reset_index(drop=True)
