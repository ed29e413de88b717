"""Understat backfill benchmark: xG raw -> validated -> links for every Understat league-season
from a loopback server that speaks Understat's protocol.

The server is the tests' Understat (tests.support.UnderstatSite: the league page sets a session
cookie; getLeagueData answers only an XHR carrying it). It serves the real files of
../shared/understat (EPL and Bundesliga, 2014/15-2024/25) for all six Understat leagues: EPL
and Bundesliga their own, La_liga and Ligue_1 EPL's, Serie_A and RFPL Bundesliga's, byte for
byte. Then, in a fresh FOOTCAST_HOME, `footcast backfill --sources understat --leagues <the six>`
runs cold (every league-season downloaded: a league page and an API call each), optionally a
second time warm (completed seasons come from the archive), and, in the same process, the
baseline: the same fetch + parse + store, validate and link as plain function calls in one
process, without Dagster, in a second fresh home (cold as well), range by range as the
backfill's runs. football-data is not loaded: the links step has no results to link to (every
played match is reported unlinked), so it costs what reading and proposing cost, not matching.

    python benchmarks/bench_understat_backfill.py               # 6 leagues x 2014-2024 (66)
    options: --seasons 2014-2024, --workers N (footcast backfill's), --warm (a second, archive-only run)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "understat"
LEAGUES = "E0,SP1,D1,I1,F1,RUS"
# Understat's league -> the shared league whose files it serves.
SERVED_AS = {
    "EPL": "EPL",
    "La_liga": "EPL",
    "Ligue_1": "EPL",
    "Bundesliga": "Bundesliga",
    "Serie_A": "Bundesliga",
    "RFPL": "Bundesliga",
}
NOW = "2025-11-29T12:00:00+00:00"
LAST_SEASON = "2024"  # the shared copy's last season


def start_site(seasons: list[int]):
    """The tests' loopback Understat, loaded with the shared files for every league-season."""
    sys.path.insert(0, str(REPO))
    from tests.support import UnderstatSite

    site = UnderstatSite()
    for league, shared in SERVED_AS.items():
        for season in seasons:
            site.data[f"{league}/{season}"] = (
                SHARED / "getLeagueData" / shared / f"{season}.json"
            ).read_bytes()
    return site


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def environment(home: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "DAGSTER_", "MLFLOW_"))}
    env.update(
        {
            "FOOTCAST_HOME": str(home),
            "FOOTCAST_UNDERSTAT_URL": url,
            "FOOTCAST_FOOTBALL_DATA_URL": "http://127.0.0.1:9",  # not loaded: fail loudly if asked
            "FOOTCAST_HTTP_RATE": "100",  # the loopback server; Understat itself gets the default 1/s
            "FOOTCAST_NOW": NOW,
            "FOOTCAST_LAST_SEASON": LAST_SEASON,
        }
    )
    return env


def backfill(env: dict[str, str], seasons: str, workers: int | None) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command and its worker processes, summary line)."""
    command = [sys.executable, "-m", "footcast.cli.main", "backfill", "--sources", "understat"]
    command += ["--leagues", LEAGUES, "--seasons", seasons] + (["--workers", str(workers)] if workers else [])
    cpu, started = children_cpu(), time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"backfill failed: {result.stderr.strip()}\n{result.stdout[-3000:]}")
    summary = next(line for line in result.stdout.splitlines() if "Understat partitions:" in line)
    return seconds, children_cpu() - cpu, summary


def baseline(env: dict[str, str], targets: list[tuple[str, int]]) -> tuple[float, float, int]:
    """The backfill's work without Dagster, in one process, range by range as its runs: fetch
    (network) + parse + store each partition, then validate the range's partitions in one suite
    run and link them. (wall seconds, CPU seconds, rows validated)"""
    os.environ.update(env)
    from footcast.adapters.http.client import HttpClient
    from footcast.cli.ingest import UNDERSTAT_FEED, ranges_of
    from footcast.data import catalogue
    from footcast.pipelines.definitions import build_definitions
    from footcast.services import linking, understat
    from footcast.services.sources.registry import XgSources

    warehouse = build_definitions().resources["warehouse"].process_config_and_initialize().get()
    sources = XgSources(HttpClient(warehouse), env["FOOTCAST_UNDERSTAT_URL"])
    understat.validate_and_store_understat(warehouse, *targets[0])  # warm up Great Expectations (no rows)
    rows = 0
    cpu, started = time.process_time(), time.perf_counter()
    for span in ranges_of(targets, UNDERSTAT_FEED):
        chunk = [catalogue.parse_partition_key(key) for key in span]
        for league, season in chunk:
            understat.ingest_understat_season(sources, warehouse, league, season)
        rows += sum(
            len(r.outcome.valid) for r in understat.validate_and_store_understat_many(warehouse, chunk)
        )
        linking.link_partitions(warehouse, chunk)
    return time.perf_counter() - started, time.process_time() - cpu, rows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seasons", default=f"2014-{LAST_SEASON}", help="start years (default 2014-2024)")
    parser.add_argument(
        "--workers", type=int, default=None, help="footcast backfill --workers (default: its own)"
    )
    parser.add_argument("--warm", action="store_true", help="also a second, archive-only backfill")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if not SHARED.exists():
        raise SystemExit(f"{SHARED} is absent: this benchmark needs the shared Understat files")
    first, _sep, last = args.seasons.partition("-")
    seasons = list(range(int(first), int(last or first) + 1))
    targets = [(code, season) for code in LEAGUES.split(",") for season in seasons]
    site = start_site(seasons)
    work = Path(tempfile.mkdtemp(prefix="footcast-bench-understat-"))
    env = environment(work / "home", site.url)
    print(f"{len(targets)} partitions ({LEAGUES} {args.seasons}), work folder {work}", flush=True)

    loads = load()
    cold, cold_cpu, summary = backfill(env, args.seasons, args.workers)
    requests = len(site.requests)
    print(
        f"cold backfill (downloads): {cold:7.1f}s  {len(targets) / cold:5.2f} partitions/s  "
        f"CPU {cold_cpu:.0f}s  {requests} requests  ({loads} -> {load()})\n  {summary}",
        flush=True,
    )
    if args.warm:
        loads = load()
        warm, warm_cpu, warm_summary = backfill(env, args.seasons, args.workers)
        print(
            f"warm backfill (archive):   {warm:7.1f}s  CPU {warm_cpu:.0f}s  {len(site.requests) - requests} "
            f"requests  ({loads} -> {load()})\n  {warm_summary}",
            flush=True,
        )
    before = len(site.requests)
    loads = load()
    plain, plain_cpu, rows = baseline(environment(work / "baseline-home", site.url), targets)
    site.close()
    print(
        f"baseline, no Dagster, 1 process: {plain:7.1f}s  {len(targets) / plain:5.2f} partitions/s  "
        f"CPU {plain_cpu:.0f}s  {len(site.requests) - before} requests  {rows} rows validated  "
        f"({loads} -> {load()})"
    )
    print(f"cold backfill / baseline: {cold / plain:.2f}x wall, {cold_cpu / plain_cpu:.2f}x CPU")


if __name__ == "__main__":
    main()
