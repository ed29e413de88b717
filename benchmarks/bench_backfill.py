"""Backfill benchmark: E0 + D1 1993/94-2024/25 (64 league-seasons) through raw + validated.

Serves ../shared/football-data on a loopback HTTP server (the real site's URL layout) and runs
`footcast backfill` twice in a fresh FOOTCAST_HOME: the first run downloads every file, the
second must download nothing (complete seasons come from the archive). Each league's seasons
are one Dagster run (a partition range). Baseline, in the same run: the same
fetch-from-archive + parse + validate + store work as plain function calls, without Dagster,
which gives the overhead of the Dagster runs.

    python benchmarks/bench_backfill.py [--seasons 1993-2024] [--leagues E0,D1]
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "football-data"


def serve(directory: Path) -> tuple[ThreadingHTTPServer, list[str]]:
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            requests.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, requests


def backfill(env: dict[str, str], leagues: str, seasons: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "footcast.cli.main",
            "backfill",
            "--leagues",
            leagues,
            "--seasons",
            seasons,
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"backfill failed: {result.stderr.strip()}")
    return seconds, result.stdout.strip().splitlines()[-1]


def baseline(env: dict[str, str], leagues: list[str], seasons: list[int]) -> float:
    """The same work without Dagster, in one process: per league, fetch (archive) + parse +
    store each season, then validate and store all its seasons in one suite run, as a run does."""
    os.environ.update(env)
    from footcast.adapters.http.client import HttpClient
    from footcast.adapters.warehouse import raw_matches
    from footcast.pipelines.definitions import build_definitions
    from footcast.services import validation
    from footcast.services.sources.registry import LeagueSources

    resources = build_definitions().resources
    warehouse = resources["warehouse"].process_config_and_initialize().get()

    sources = LeagueSources(HttpClient(warehouse), env["FOOTCAST_FOOTBALL_DATA_URL"])
    validation.validate_and_store(warehouse, leagues[0], seasons[0])  # warm up Great Expectations
    started = time.perf_counter()
    for league in leagues:
        for season in seasons:
            fetched = sources.fetch_results(league, season)
            warehouse.replace_partition(raw_matches, {"league": league, "season": season}, fetched.frame)
        validation.validate_and_store_many(warehouse, [(league, season) for season in seasons])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leagues", default="E0,D1")
    parser.add_argument("--seasons", default="1993-2024")
    args = parser.parse_args()
    if not SHARED.exists():
        raise SystemExit(f"{SHARED} is absent: this benchmark needs the shared football-data files")
    first, _, last = args.seasons.partition("-")
    seasons = list(range(int(first), int(last or first) + 1))
    leagues = args.leagues.split(",")
    server, requests = serve(SHARED)
    home = Path(tempfile.mkdtemp(prefix="footcast-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "DAGSTER_", "MLFLOW_"))}
    env.update(
        {
            "FOOTCAST_HOME": str(home),
            "FOOTCAST_FOOTBALL_DATA_URL": f"http://127.0.0.1:{server.server_address[1]}",
            "FOOTCAST_HTTP_RATE": "100",  # the loopback mirror; the site itself gets the default 1/s
            "FOOTCAST_NOW": "2025-11-29T12:00:00+00:00",
        }
    )
    partitions = len(seasons) * len(leagues)
    print(f"{partitions} partitions ({args.leagues} {args.seasons}), home {home}")

    cold, cold_summary = backfill(env, args.leagues, args.seasons)
    cold_requests = len(requests)
    rows = int(re.search(r"(\d+) rows validated", cold_summary).group(1))
    quarantined = int(re.search(r"(\d+) quarantined", cold_summary).group(1))
    print(
        f"cold backfill (downloads): {cold:7.1f}s  {cold_requests} requests  {rows + quarantined} rows  "
        f"{(rows + quarantined) / cold:,.0f} rows/s\n  {cold_summary}",
        flush=True,
    )
    warm, warm_summary = backfill(env, args.leagues, args.seasons)
    warm_requests = len(requests) - cold_requests
    print(f"warm backfill (archive):   {warm:7.1f}s  {warm_requests} requests\n  {warm_summary}", flush=True)
    plain = baseline(env, leagues, seasons)
    server.shutdown()
    print(f"baseline, no Dagster, 1 process: {plain:7.1f}s  ({plain / partitions:.2f}s per partition)")
    print(
        "Dagster cost per partition (warm backfill with its worker processes, minus the one-process "
        f"baseline): {(warm - plain) / partitions:+.2f}s"
    )


if __name__ == "__main__":
    main()
