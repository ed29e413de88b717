"""The raw layer against a real HTTP server on loopback that serves good files and misbehaves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import FLAWED_E0, FLAWED_ROWS, GOOD_E0, SHARED_DATA

REAL = SHARED_DATA / "mmz4281"


def real_file(code: str, league: str = "E0") -> bytes:
    path = REAL / code / f"{league}.csv"
    if not path.exists():
        pytest.skip(f"real football-data file {path} not found")
    return path.read_bytes()


@pytest.fixture
def ingest(site, footcast_home, monkeypatch):
    """Run raw + validated for (league, season) through Dagster; returns (result, warehouse)."""
    import dagster as dg

    monkeypatch.setenv("FOOTCAST_FOOTBALL_DATA_URL", site.url)
    monkeypatch.setenv("FOOTCAST_HTTP_RATE", "100")
    monkeypatch.setenv("FOOTCAST_NOW", "2026-11-29T12:00:00+00:00")
    from footcast.data import catalogue
    from footcast.pipelines.definitions import build_definitions

    defs = build_definitions()
    job = defs.resolve_job_def("ingest")
    instance = dg.DagsterInstance.ephemeral()
    warehouse = defs.resources["warehouse"].process_config_and_initialize().get()

    def run(league: str, season: int, force: bool = False, **raw_config):
        config = {"ops": {"raw_matches": {"config": {"force": force, **raw_config}}}}
        # Retries are fast in tests; the client's own defaults back off for seconds.
        result = job.execute_in_process(
            instance=instance,
            partition_key=catalogue.partition_key(league, season),
            run_config=config,
            raise_on_error=False,
        )
        return result

    return run, warehouse


def failure_text(result) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            return str(event.step_failure_data.error.to_string())
    return ""


def test_a_finished_season_is_downloaded_once_and_the_current_one_rechecked_hourly(site, ingest):
    import sqlalchemy as sa

    from footcast.adapters.warehouse import http_archive, matches, raw_matches

    run, warehouse = ingest
    site.routes["/mmz4281/2425/E0.csv"] = (200, GOOD_E0)
    site.routes["/mmz4281/2627/E0.csv"] = (200, GOOD_E0.replace(b"/2024", b"/2026"))
    assert run("E0", 2024).success and run("E0", 2026).success
    assert run("E0", 2024).success and run("E0", 2026).success
    assert site.requests == ["/mmz4281/2425/E0.csv", "/mmz4281/2627/E0.csv"]
    # Two hours on (the archive's check times moved back): the season in progress (2026/27 at
    # FOOTCAST_NOW) is checked at the source again; the finished one never is.
    with warehouse.engine.begin() as conn:
        for row in conn.execute(sa.select(http_archive.c.url, http_archive.c.last_checked_at)).all():
            conn.execute(
                http_archive.update()
                .where(http_archive.c.url == row.url)
                .values(last_checked_at=row.last_checked_at - timedelta(hours=2))
            )
    assert run("E0", 2024).success and run("E0", 2026).success
    assert site.requests == ["/mmz4281/2425/E0.csv", "/mmz4281/2627/E0.csv", "/mmz4281/2627/E0.csv"]
    assert warehouse.count(raw_matches, {"league": "E0", "season": 2024}) == 3
    rows = warehouse.read_matches(matches, {"league": "E0", "season": 2024})
    assert set(rows["home_team"]) == {"Man United", "Ipswich", "Arsenal"}
    assert rows["source_url"].iloc[0] == f"{site.url}/mmz4281/2425/E0.csv"
    # --force re-downloads.
    assert run("E0", 2024, force=True).success
    assert site.requests[3:] == ["/mmz4281/2425/E0.csv"]


@pytest.mark.parametrize(
    "status, body, cause",
    [
        (200, b"<!DOCTYPE html><html><body>Temporarily unavailable</body></html>", "HTML"),
        (200, b"", "empty"),
        (200, GOOD_E0[:-20], "truncated"),
        (200, b"\x00\xff\xfe garbage \x13\x37" * 50, "binary content"),
        (404, b"not found", "no such season"),
    ],
)
def test_bad_responses_fail_clearly_and_keep_the_previous_data(site, ingest, status, body, cause):
    from footcast.adapters.warehouse import matches, raw_matches

    run, warehouse = ingest
    # The previous good version of the in-progress season 2026/27 (re-checked at the source).
    site.routes["/mmz4281/2627/E0.csv"] = (200, GOOD_E0.replace(b"/2024", b"/2026"))
    assert run("E0", 2026).success
    site.routes["/mmz4281/2627/E0.csv"] = (status, body)
    result = run("E0", 2026, force=True)
    assert not result.success
    text = failure_text(result)
    assert f"{site.url}/mmz4281/2627/E0.csv" in text
    assert "E0|2026-27" in text
    assert cause.lower() in text.lower()
    assert warehouse.count(raw_matches, {"league": "E0", "season": 2026}) == 3
    assert warehouse.count(matches, {"league": "E0", "season": 2026}) == 3


def test_a_range_of_seasons_is_one_run_and_a_bad_season_fails_alone(site, ingest):
    """A backfill runs consecutive league-seasons as one Dagster run; one season whose source
    is broken fails with its own error while the others load and are materialized."""
    import dagster as dg

    from footcast.adapters.warehouse import matches, raw_matches

    _run, warehouse = ingest
    for season in (2021, 2022, 2023):
        code = f"{season % 100:02d}{(season + 1) % 100:02d}"
        site.routes[f"/mmz4281/{code}/E0.csv"] = (200, GOOD_E0.replace(b"/2024", f"/{season}".encode()))
    site.routes["/mmz4281/2223/E0.csv"] = (200, b"<html><body>Service unavailable</body></html>")
    from footcast.pipelines.definitions import build_definitions

    job = build_definitions().resolve_job_def("ingest")
    instance = dg.DagsterInstance.ephemeral()
    tags = {
        "dagster/asset_partition_range_start": "E0|2021-22",
        "dagster/asset_partition_range_end": "E0|2023-24",
    }
    result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    assert not result.success
    assert "E0|2022-23" in failure_text(result) and "HTML" in failure_text(result)
    assert instance.get_materialized_partitions(dg.AssetKey("raw_matches")) == {"E0|2021-22", "E0|2023-24"}
    for season, rows in ((2021, 3), (2022, 0), (2023, 3)):
        assert warehouse.count(raw_matches, {"league": "E0", "season": season}) == rows

    # Fixed at the source: the same range in one run materializes and validates all three,
    # each partition with its own lineage metadata and one suite run for all. 2022/23 is a
    # completed season, served from the archive once archived: the HTML page was not archived.
    site.routes["/mmz4281/2223/E0.csv"] = (200, GOOD_E0.replace(b"/2024", b"/2022"))
    result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    assert result.success, failure_text(result)
    events = {e.partition: e for e in result.asset_materializations_for_node("raw_matches")}
    assert set(events) == {"E0|2021-22", "E0|2022-23", "E0|2023-24"}
    assert events["E0|2022-23"].metadata["url"].value == f"{site.url}/mmz4281/2223/E0.csv"
    assert events["E0|2021-22"].metadata["rows"].value == 3
    validated = {e.partition: e for e in result.asset_materializations_for_node("validated_matches")}
    assert {k: e.metadata["rows"].value for k, e in validated.items()} == dict.fromkeys(events, 3)
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert all(checks[name].passed for name in ("schema", "table", "rows"))
    # three matches are not a complete season: the warning names every partition of the run
    assert not checks["season"].passed
    assert set(checks["season"].metadata["failed_partitions"].value) == set(events)
    assert warehouse.count(matches, {"league": "E0"}) == 9


FIXTURES_CSV = (
    b"\xef\xbb\xbfDiv,Date,Time,HomeTeam,AwayTeam,B365H,B365D,B365A,PSH,PSD,PSA\r\n"
    # Already played (in the season file): not upcoming any more.
    b"E0,16/08/2026,20:00,Man United,Fulham,1.60,4.20,5.25,1.62,4.30,5.40\r\n"
    b"E0,05/12/2026,15:00,Arsenal,Nott'm Forest,1.30,5.50,9.50,1.32,5.60,10.0\r\n"
    b"E0,06/12/2026,16:30,Liverpool,Man United,1.70,4.00,4.50,1.72,4.10,4.70\r\n"
    # Another league of the site, not backfilled here: ignored.
    b"SP1,06/12/2026,20:00,Barcelona,Getafe,1.25,6.00,11.0,1.26,6.20,12.0\r\n"
)


def test_fixtures_land_as_upcoming_matches_with_the_same_match_id_scheme(site, ingest):
    import dagster as dg

    from footcast.adapters.warehouse import fixtures
    from footcast.data import schema
    from footcast.pipelines.definitions import build_definitions

    run, warehouse = ingest
    site.routes["/mmz4281/2627/E0.csv"] = (200, GOOD_E0.replace(b"/2024", b"/2026"))
    assert run("E0", 2026).success
    site.routes["/fixtures.csv"] = (200, FIXTURES_CSV)
    defs = build_definitions()
    [asset] = [a for a in defs.assets if a.key.to_user_string() == "raw_fixtures"]
    assert dg.materialize([asset], resources=defs.resources).success
    upcoming = warehouse.read(fixtures).sort_values("kickoff")
    assert upcoming["home_team"].tolist() == ["Arsenal", "Liverpool"]
    assert upcoming["match_id"].tolist() == [
        schema.make_match_id("E0", 2026, "Arsenal", "Nott'm Forest"),
        schema.make_match_id("E0", 2026, "Liverpool", "Man United"),
    ]
    assert upcoming["odds_ps_open_h"].tolist() == [1.32, 1.72]
    assert upcoming["odds_ps_close_h"].isna().all()
    assert str(upcoming["kickoff"].iloc[0]) == "2026-12-05 15:00:00+00:00"


def archived_versions(warehouse, url: str) -> int:
    import sqlalchemy as sa

    from footcast.adapters.warehouse import http_archive

    query = sa.select(sa.func.count()).select_from(http_archive).where(http_archive.c.url == url)
    with warehouse.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def first_lines(content: bytes, n: int) -> bytes:
    return b"".join(content.splitlines(keepends=True)[:n])


@pytest.mark.parametrize("cut", ["header only", "first 50 lines"])
def test_a_smaller_version_of_a_finished_season_is_refused_not_stored_nor_archived(site, ingest, cut):
    from footcast.adapters.warehouse import matches, raw_matches

    run, warehouse = ingest
    good = real_file("2223")
    path, url, where = (
        "/mmz4281/2223/E0.csv",
        f"{site.url}/mmz4281/2223/E0.csv",
        {"league": "E0", "season": 2022},
    )
    site.routes[path] = (200, good)
    assert run("E0", 2022).success
    assert warehouse.count(raw_matches, where) == warehouse.count(matches, where) == 380
    smaller = first_lines(good, 1 if cut == "header only" else 51)
    site.routes[path] = (200, smaller)
    result = run("E0", 2022, force=True)
    assert not result.success
    text = failure_text(result)
    kept = 0 if cut == "header only" else 50
    assert url in text and "E0|2022-23" in text
    assert f"the file has {kept} matches, the partition holds 380" in text
    assert "allow_fewer_rows" in text
    assert warehouse.count(raw_matches, where) == warehouse.count(matches, where) == 380
    assert archived_versions(warehouse, url) == 1
    # Without --force the finished season is served from the archive: still the good version.
    requests = len(site.requests)
    assert run("E0", 2022).success
    assert len(site.requests) == requests
    assert warehouse.count(raw_matches, where) == warehouse.count(matches, where) == 380
    # Accepting the smaller file is deliberate.
    assert run("E0", 2022, force=True, allow_fewer_rows=True).success
    assert warehouse.count(raw_matches, where) == kept
    assert archived_versions(warehouse, url) == 2


def test_a_smaller_version_of_the_season_in_progress_is_refused(site, ingest):
    from footcast.adapters.warehouse import matches, raw_matches

    run, warehouse = ingest
    path, url, where = (
        "/mmz4281/2627/E0.csv",
        f"{site.url}/mmz4281/2627/E0.csv",
        {"league": "E0", "season": 2026},
    )
    current = GOOD_E0.replace(b"/2024", b"/2026")
    site.routes[path] = (200, current)
    assert run("E0", 2026).success
    site.routes[path] = (200, first_lines(current, 3))  # the last match is gone
    result = run("E0", 2026, force=True)
    assert not result.success
    assert (
        f"{url} [E0|2026-27]: fewer matches than stored: the file has 2 matches, the partition holds 3"
        in (failure_text(result))
    )
    assert warehouse.count(raw_matches, where) == warehouse.count(matches, where) == 3
    assert archived_versions(warehouse, url) == 1
    # More matches (the season goes on) are fine.
    site.routes[path] = (
        200,
        current + b"E0,18/08/2026,14:00,Brentford,Crystal Palace,2,1,H,1,0,H,2.3,3.4,3.1\r\n",
    )
    assert run("E0", 2026, force=True).success
    assert warehouse.count(raw_matches, where) == 4


def test_another_seasons_file_is_refused_at_the_raw_step_and_not_archived(site, ingest):
    from footcast.adapters.warehouse import matches, raw_matches

    run, warehouse = ingest
    path, url, where = (
        "/mmz4281/2223/E0.csv",
        f"{site.url}/mmz4281/2223/E0.csv",
        {"league": "E0", "season": 2022},
    )
    # 2021/22 served at the 2022/23 URL, before any good version is stored.
    site.routes[path] = (200, real_file("2122"))
    result = run("E0", 2022)
    assert not result.success
    text = failure_text(result)
    assert url in text and "E0|2022-23" in text
    assert "380 of 380 matches fall outside the 2022-23 season window 2022-07-01..2023-08-31" in text
    assert "2021-08-13..2022-05-22" in text
    assert warehouse.count(raw_matches, where) == 0 and archived_versions(warehouse, url) == 0
    # Fixed at the source: the next run downloads it (nothing pinned in the archive).
    site.routes[path] = (200, real_file("2223"))
    requests = len(site.requests)
    assert run("E0", 2022).success
    assert len(site.requests) == requests + 1
    assert warehouse.count(raw_matches, where) == warehouse.count(matches, where) == 380
    # And again over a stored good version: refused, the good version stays.
    site.routes[path] = (200, real_file("2122"))
    assert not run("E0", 2022, force=True).success
    assert warehouse.count(raw_matches, where) == warehouse.count(matches, where) == 380
    assert archived_versions(warehouse, url) == 1
    raw = warehouse.read_matches(raw_matches, where)
    assert str(raw["kickoff"].min().date()) == "2022-08-05"


def quarantined(warehouse, where: dict):
    from footcast.adapters.warehouse import quarantine

    return warehouse.read(quarantine, where).sort_values("source_line").reset_index(drop=True)


def test_a_bad_stat_price_and_date_lose_two_cells_and_one_row_not_the_season(site, ingest):
    import json

    from footcast.adapters.warehouse import matches, raw_matches

    run, warehouse = ingest
    where = {"league": "E0", "season": 2024}
    site.routes["/mmz4281/2425/E0.csv"] = (200, FLAWED_E0)
    result = run("E0", 2024)
    assert result.success, failure_text(result)
    assert warehouse.count(raw_matches, where) == warehouse.count(matches, where) == 4
    valid = warehouse.read(matches, where).sort_values("source_line")
    assert valid["home_yellow"].isna().tolist() == [False, True, False, False]
    assert valid["odds_b365_open_h"].isna().tolist() == [False, False, True, False]
    assert [json.loads(text)[0]["column"] for text in valid["findings"].dropna()] == ["HY", "B365H"]
    held = quarantined(warehouse, where)
    assert held[["source_line", "reasons", "quarantined_by"]].values.tolist() == [[5, "unparseable", "raw"]]
    assert held["raw_text"][0] == FLAWED_ROWS[3].decode().rstrip("\r\n")
    assert "Date '32/08/2024'" in json.loads(held["failed_values"][0])["unparseable"]["reason"]
    assert held["home_team"][0] == "Everton" and held["kickoff"].isna().all()
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert all(checks[name].passed for name in ("schema", "table", "rows"))
    found = checks["findings"]
    assert not found.passed and not found.blocking and found.severity.value == "WARN"
    assert "2 unreadable cells and 1 rejected rows in 1 of 1 partitions: E0|2024-25:" in found.description
    assert "HY line 3; B365H line 4; rejected line 5 (unparseable: unparseable Date" in found.description
    detail = found.metadata["partitions"].value["E0|2024-25"]
    assert [(f["line"], f["column"], f["raw"]) for f in detail["findings"]] == [
        (3, "HY", "1.2"),
        (4, "B365H", "3.53.75"),
    ]
    assert [(r["line"], r["raw_text"]) for r in detail["rejected"]] == [(5, held["raw_text"][0])]
    # The validated layer replaces only its own quarantine rows: a second run keeps the raw reject.
    assert run("E0", 2024, force=True).success
    assert quarantined(warehouse, where)["quarantined_by"].tolist() == ["raw"]
    # A corrected file replaces the raw rejects of the partition too.
    site.routes["/mmz4281/2425/E0.csv"] = (200, FLAWED_E0.replace(b"32/08/2024", b"18/08/2024"))
    result = run("E0", 2024, force=True)
    assert result.success and quarantined(warehouse, where).empty
    assert warehouse.count(matches, where) == 5


def test_a_repeated_match_is_quarantined_and_a_file_of_mostly_repeats_refused(site, ingest):
    from footcast.adapters.warehouse import matches, raw_matches

    run, warehouse = ingest
    path, url, where = (
        "/mmz4281/2425/E0.csv",
        f"{site.url}/mmz4281/2425/E0.csv",
        {"league": "E0", "season": 2024},
    )
    once = FLAWED_E0.replace(b"32/08/2024", b"18/08/2024")
    site.routes[path] = (200, once + FLAWED_ROWS[0].replace(b",2,3,", b",4,4,"))  # line 2 again, other cards
    result = run("E0", 2024)
    assert result.success, failure_text(result)
    assert warehouse.count(raw_matches, where) == warehouse.count(matches, where) == 5
    assert warehouse.read(matches, {**where, "home_team": "Man United"})["home_yellow"].tolist() == [2]
    held = quarantined(warehouse, where)
    assert held[["source_line", "reasons", "home_team"]].values.tolist() == [[7, "duplicate", "Man United"]]
    assert "repeats the match of line 2" in held["failed_values"][0]
    # The whole file served twice: half of its rows repeat a match, a broken file (nothing replaced).
    site.routes[path] = (200, once + once.split(b"\r\n", 1)[1])
    result = run("E0", 2024, force=True)
    assert not result.success
    assert f"{url} [E0|2024-25] line 7: mostly repeats: 5 of 10 rows repeat a match" in failure_text(result)
    assert warehouse.count(raw_matches, where) == 5 and len(quarantined(warehouse, where)) == 1
    assert archived_versions(warehouse, url) == 1


def test_every_real_file_passes_the_raw_steps_season_file_checks():
    """No real football-data file has a duplicated match or dates outside its season's window
    beyond the tolerance (the latest season end, 2019/20 Premier League, is 26 July 2020)."""
    from footcast.data import schema
    from footcast.data.football_data import parse_results
    from footcast.services.sources.football_data import check_season_file

    files = sorted(REAL.glob("*/*.csv"))
    if not files:
        pytest.skip(f"no real football-data files under {REAL}")
    for path in files:
        season = next(s for s in range(1990, 2100) if schema.season_code(s) == path.parent.name)
        result = parse_results(
            path.read_bytes(), league=path.stem, season=season, source_url=str(path), content_hash="x"
        )
        frame = result.matches
        assert result.rejected.empty, (path, result.rejected[["source_line", "reason"]].to_string())
        start, end = schema.season_window(season)
        assert frame["kickoff"].between(start, end, inclusive="left").all(), path
        key = f"{path.stem}|{schema.season_key(season)}"
        check_season_file(
            frame,
            rejected=result.rejected,
            season=season,
            url=str(path),
            partition=key,
            stored_matches=len(frame),
        )
        with pytest.raises(ValueError, match="fewer matches than stored"):
            check_season_file(
                frame, season=season, url=str(path), partition=key, stored_matches=len(frame) + 1
            )
