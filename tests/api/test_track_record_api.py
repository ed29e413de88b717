"""GET /track-record and the track record gauges of /metrics, as a client meets them: `footcast
serve` on loopback over a real Redis holding the track record the `published_track_record`
asset publishes (the scripted timeline of tests/support.py, scored by the same service calls)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import httpx
import pytest
import redis

from footcast.adapters.redis import track_record as redis_track_record
from footcast.models import track_record_report
from tests.support import (
    ApiServer,
    publish_timeline_track_record,
    require_service,
    timeline_id,
    unique_name,
)

NOW = datetime(2026, 12, 10, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(server, Redis client, prefix, the report) with the timeline's track record published."""
    url = require_service("FOOTCAST_TEST_REDIS_URL")
    prefix = unique_name("footcast-track-api")
    home = tmp_path_factory.mktemp("track-api")
    client = redis.Redis.from_url(url, decode_responses=True)
    report = publish_timeline_track_record(client, prefix, home, NOW)
    server = ApiServer(home, url, prefix).start()
    yield server, client, prefix, report
    server.stop()
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def get(server: ApiServer, path: str, **params) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", params=params, timeout=10)


def test_the_track_record_is_what_the_command_line_prints(served):
    server, _client, _prefix, report = served
    response = get(server, "/track-record")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "error", "meta"} and body["error"] is None
    expected, _truncated = track_record_report.select(report)
    assert body["data"] == expected
    matches = body["data"]["matches"]
    assert [m["match_id"] for m in matches] == [timeline_id(m) for m in ("M1", "M2", "M3", "M4", "M5", "P")]
    assert {"match_id", "league", "kickoff", "version", "p_home", "p_draw", "p_away", "result", "rps"} <= set(
        matches[0]
    )
    assert [e["match_id"] for e in body["data"]["excluded"]] == [timeline_id("Q")]
    meta = body["meta"]
    assert meta["count"] == 6 and meta["limit"] == 1000 and meta["truncated"] is False
    assert meta["updated_at"] == NOW.isoformat() and meta["version"]


def test_filters_by_league_date_and_limit(served):
    server, _client, _prefix, report = served
    body = get(server, "/track-record", leagues="SIM1", since="2026-11-29").json()
    assert [m["match_id"] for m in body["data"]["matches"]] == [timeline_id(m) for m in ("M4", "M5", "P")]
    assert [e["match_id"] for e in body["data"]["excluded"]] == [timeline_id("Q")]
    assert {row["league"] for row in body["data"]["summary"]} == {"SIM1"}
    assert body["data"] == track_record_report.select(report, ["SIM1"], date(2026, 11, 29))[0]
    cut = get(server, "/track-record", limit=2).json()
    assert [m["match_id"] for m in cut["data"]["matches"]] == [timeline_id("M5"), timeline_id("P")]
    assert cut["meta"]["truncated"] is True and cut["meta"]["count"] == 2


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["data"] is None and body["error"]["code"] == code and body["meta"] == {}


def test_errors_have_the_codes_of_the_rest_of_the_api(served):
    server, client, prefix, _report = served
    assert_error(get(server, "/track-record", leagues="XX"), 404, "unknown_league")
    assert_error(get(server, "/track-record", since="2026/11/29"), 422, "invalid_parameter")
    assert_error(get(server, "/track-record", limit="0"), 422, "invalid_parameter")
    assert_error(get(server, "/track-record", leagues="SIM1;E0"), 422, "invalid_parameter")
    pointer = redis_track_record.current_key(prefix)
    client.rename(pointer, f"{pointer}:aside")
    try:
        missing = get(server, "/track-record")
        assert_error(missing, 503, "not_published")
        assert missing.headers["Retry-After"] == "60"
        # /metrics still answers, without the track record's gauges.
        assert "footcast_track_record_rps{" not in get(server, "/metrics").text
    finally:
        client.rename(f"{pointer}:aside", pointer)


def gauge(text: str, name: str, league: str, span: str) -> float:
    found = re.search(rf'^{name}{{league="{league}",span="{span}"}} (\S+)$', text, flags=re.M)
    assert found, f"{name} {league} {span} not in /metrics"
    return float(found.group(1))


def test_metrics_carry_the_rolling_figures(served):
    server, _client, _prefix, report = served
    text = get(server, "/metrics").text
    for row in report["summary"]:
        league, span = row["league"], row["span"]
        assert gauge(text, "footcast_track_record_matches", league, span) == row["n"]
        assert gauge(text, "footcast_track_record_rps", league, span) == pytest.approx(row["rps"])
        assert gauge(text, "footcast_track_record_rps_diff_vs_market", league, span) == pytest.approx(
            row["diff_vs_market_rps"]
        )
        assert gauge(text, "footcast_track_record_calibration_error", league, span) == pytest.approx(
            row["calibration_error"]
        )
    stamp = re.search(r"^footcast_track_record_updated_timestamp_seconds (\S+)$", text, flags=re.M)
    assert float(stamp.group(1)) == NOW.timestamp()
    # The latency histograms are still there.
    assert "footcast_http_request_duration_seconds_count" in text


def test_a_new_publish_switches_versions_and_expires_the_old_one(served):
    server, client, prefix, report = served
    before = get(server, "/track-record").json()["meta"]["version"]
    version = redis_track_record.publish(client, prefix, report, NOW)
    assert get(server, "/track-record").json()["meta"]["version"] == version != before
    old = redis_track_record.version_base(prefix, before)
    assert 0 < client.ttl(f"{old}:summary") <= redis_track_record.OLD_VERSION_TTL_SECONDS
    assert "/track-record" in get(server, "/openapi.json").json()["paths"]
