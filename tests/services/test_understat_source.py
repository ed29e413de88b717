"""Understat through the shared HTTP client against a loopback server that behaves as the
README of /work/shared/understat describes (a league page that sets a session cookie, an API
that answers only with the cookie and the XHR header), into the real warehouse. Every failure
names the URL and the cause and loses no stored data."""

from __future__ import annotations

import json

import httpx
import pytest

from footcast.adapters.http.client import FetchError, HttpClient
from footcast.adapters.warehouse import http_archive, raw_understat_matches, understat_quarantine
from footcast.data.football_data import SourceFormatError
from footcast.services.sources.base import NoSuchSeasonError
from footcast.services.sources.understat import UnderstatSource
from footcast.services.understat import ingest_understat_season, read_understat
from tests.support import UnderstatSite, understat_league_data

NOW = "2026-11-29T12:00:00+00:00"  # 2026/27 in progress, 2025/26 completed
PAGE, API = "/league/EPL/2026", "/getLeagueData/EPL/2026"


@pytest.fixture
def source(understat_site, warehouse, monkeypatch):
    monkeypatch.setenv("FOOTCAST_NOW", NOW)
    client = HttpClient(warehouse, rate_per_host=1000, backoff_base=0.01, max_attempts=3, trust_env=False)
    yield UnderstatSource(client, understat_site.url)
    client.close()


def stored(warehouse, season: int = 2026):
    return read_understat(warehouse, raw_understat_matches, {"league": "E0", "season": season})


def archived_versions(warehouse) -> int:
    return warehouse.count(http_archive)


def test_the_session_protocol_cookie_header_and_referer(understat_site: UnderstatSite, source, warehouse):
    understat_site.data["EPL/2025"] = understat_league_data(2025, 12, first_id=500)
    fetched, rows = ingest_understat_season(source, warehouse, "E0", 2025)
    assert rows == 12 and fetched.origin == "network" and fetched.extra["played"] == 12
    assert understat_site.paths() == ["/league/EPL/2025", "/getLeagueData/EPL/2025"]
    (_at, _path, page_headers), (_at2, _path2, api_headers) = understat_site.requests
    assert "cookie" not in page_headers and "x-requested-with" not in page_headers
    assert api_headers["x-requested-with"] == "XMLHttpRequest"
    assert api_headers["referer"] == f"{understat_site.url}/league/EPL/2025"
    assert understat_site.session_of(api_headers) in understat_site.sessions
    frame = stored(warehouse, 2025)
    assert list(frame["understat_id"]) == [str(500 + i) for i in range(12)]
    assert frame["source_url"].iloc[0] == f"{understat_site.url}/getLeagueData/EPL/2025"
    # A completed season is served from the archive: no session, no request.
    again = source.fetch_season("E0", 2025, stored_matches=12)
    assert again.origin == "archive" and len(understat_site.requests) == 2
    # Without the cookie, or without the header, the API refuses (what the session is for).
    api = f"{understat_site.url}/getLeagueData/EPL/2025"
    assert httpx.get(api, headers={"X-Requested-With": "XMLHttpRequest"}).status_code == 403
    cookie = {UnderstatSite.COOKIE: understat_site.session_of(api_headers)}
    assert httpx.get(api, cookies=cookie).status_code == 403
    assert httpx.get(api, cookies=cookie, headers={"X-Requested-With": "XMLHttpRequest"}).status_code == 200


def test_an_expired_session_is_renewed_once_with_new_cookies(
    understat_site: UnderstatSite, source, warehouse
):
    understat_site.data["EPL/2026"] = understat_league_data(2026, 5, 25)
    ingest_understat_season(source, warehouse, "E0", 2026)
    first_cookie = understat_site.session_of(understat_site.requests[1][2])
    understat_site.expire_sessions()
    understat_site.data["EPL/2026"] = understat_league_data(2026, 8, 22)
    fetched, _rows = ingest_understat_season(source, warehouse, "E0", 2026, force=True)
    # The page keeps the stale cookie, the API refuses it, the client drops it and gets a new one.
    assert understat_site.paths()[2:] == [PAGE, API, PAGE, API]
    new_cookie = understat_site.session_of(understat_site.requests[-1][2])
    assert new_cookie != first_cookie and new_cookie in understat_site.sessions
    assert "cookie" not in understat_site.requests[-2][2]  # the renewal visit went without the stale cookie
    assert fetched.extra["requests_made"] == 4
    assert int(stored(warehouse)["is_result"].sum()) == 8


def test_a_refusal_after_renewal_fails_in_one_line_and_keeps_the_stored_partition(
    understat_site: UnderstatSite, source, warehouse
):
    understat_site.data["EPL/2026"] = understat_league_data(2026, 5, 25)
    ingest_understat_season(source, warehouse, "E0", 2026)
    versions = archived_versions(warehouse)
    forbidden = (403, b"<html>Forbidden</html>", {})
    understat_site.faults[API] = [forbidden, forbidden]
    with pytest.raises(FetchError) as raised:
        ingest_understat_season(source, warehouse, "E0", 2026, force=True)
    message = str(raised.value)
    assert message.startswith(f"GET {understat_site.url}{API} for partition E0|2026-27 failed: HTTP 403")
    assert "after renewing the session once" in message and "\n" not in message
    assert understat_site.paths()[2:] == [PAGE, API, PAGE, API]
    assert len(stored(warehouse)) == 30 and archived_versions(warehouse) == versions


def test_429_waits_for_retry_after_then_loads(understat_site: UnderstatSite, source, warehouse):
    understat_site.data["EPL/2026"] = understat_league_data(2026, 5, 25)
    understat_site.faults[API] = [(429, b"slow down", {"Retry-After": "1"})]
    fetched, rows = ingest_understat_season(source, warehouse, "E0", 2026)
    assert rows == 30 and fetched.origin == "network"
    api_arrivals = [at for at, path, _headers in understat_site.requests if path == API]
    assert len(api_arrivals) == 2 and api_arrivals[1] - api_arrivals[0] >= 0.95


@pytest.mark.parametrize(
    "body, cause",
    [
        (b"<!DOCTYPE html><html><body>Please enable JavaScript</body></html>", "HTML page"),
        (understat_league_data(2026, 9, 21)[:-500], "truncated JSON"),
    ],
)
def test_a_bad_body_fails_naming_url_and_cause_and_is_neither_archived_nor_stored(
    understat_site: UnderstatSite, source, warehouse, body, cause
):
    understat_site.data["EPL/2026"] = understat_league_data(2026, 5, 25)
    ingest_understat_season(source, warehouse, "E0", 2026)
    versions = archived_versions(warehouse)
    understat_site.faults[API] = [(200, body, {"Content-Type": "application/json"})]
    with pytest.raises(SourceFormatError) as raised:
        ingest_understat_season(source, warehouse, "E0", 2026, force=True)
    message = str(raised.value)
    assert f"{understat_site.url}{API}" in message and "E0|2026-27" in message and cause in message
    assert archived_versions(warehouse) == versions
    frame = stored(warehouse)
    assert len(frame) == 30 and int(frame["is_result"].sum()) == 5


def test_fewer_played_matches_are_refused_unless_allowed(understat_site: UnderstatSite, source, warehouse):
    understat_site.data["EPL/2026"] = understat_league_data(2026, 10, 20)
    ingest_understat_season(source, warehouse, "E0", 2026)
    understat_site.data["EPL/2026"] = understat_league_data(2026, 4, 26)
    with pytest.raises(
        SourceFormatError, match="fewer played matches than stored: the data has 4, the partition holds 10"
    ):
        ingest_understat_season(source, warehouse, "E0", 2026, force=True)
    assert int(stored(warehouse)["is_result"].sum()) == 10
    ingest_understat_season(source, warehouse, "E0", 2026, force=True, allow_fewer_rows=True)
    assert int(stored(warehouse)["is_result"].sum()) == 4


def test_unreadable_elements_are_quarantined_by_the_raw_step(
    understat_site: UnderstatSite, source, warehouse
):
    document = json.loads(understat_league_data(2026, 6, 24))
    document["dates"][2]["datetime"] = "not a time"
    understat_site.data["EPL/2026"] = json.dumps(document).encode()
    _fetched, rows = ingest_understat_season(source, warehouse, "E0", 2026)
    assert rows == 29
    held = read_understat(warehouse, understat_quarantine, {"league": "E0", "season": 2026})
    assert list(held["quarantined_by"]) == ["raw"] and list(held["reasons"]) == ["unparseable"]
    assert held["understat_id"].iloc[0] == "1002" and int(held["source_index"].iloc[0]) == 3
    assert "not a time" in held["raw_text"].iloc[0] and "not a time" in held["failed_values"].iloc[0]


def test_a_season_understat_does_not_have_is_no_such_season(understat_site: UnderstatSite, source, warehouse):
    with pytest.raises(NoSuchSeasonError, match=r"no such season: .*/league/EPL/2026 answered HTTP 404"):
        ingest_understat_season(source, warehouse, "E0", 2026)
    assert warehouse.count(raw_understat_matches) == 0


def test_every_real_season_loads_and_validates_without_quarantine(
    understat_site: UnderstatSite, source, warehouse
):
    from footcast.adapters.warehouse import understat_matches
    from footcast.data import catalogue
    from footcast.services.understat import validate_and_store_understat_many
    from tests.support import SHARED_UNDERSTAT

    files = sorted((SHARED_UNDERSTAT / "getLeagueData").glob("*/*.json"))
    if not files:
        pytest.skip(f"{SHARED_UNDERSTAT} not found")
    targets = []
    for path in files:
        understat_site.data[f"{path.parent.name}/{path.stem}"] = path.read_bytes()
        league, season = catalogue.understat_league(path.parent.name)[0], int(path.stem)
        _fetched, rows = ingest_understat_season(source, warehouse, league, season)
        assert rows == len(json.loads(path.read_bytes())["dates"]), path
        targets.append((league, season))
    reports = validate_and_store_understat_many(warehouse, targets)
    assert [(r.league, r.season) for r in reports if r.outcome.quarantined.size or not r.written] == []
    assert warehouse.count(understat_matches) == sum(r.raw_rows for r in reports)
