"""Backfill benchmark: raw + validated for many league-seasons from a loopback mirror of the site.

Builds a mirror of football-data.co.uk in a temporary folder from ../shared/football-data and
serves it on 127.0.0.1 (the real site's URL layout), then runs `footcast backfill` in a fresh
FOOTCAST_HOME: a cold run that downloads every file, optionally a warm run that must download
nothing (complete seasons come from the archive), and, in the same process, the baseline: the
same fetch-from-archive + parse + validate + store work as plain function calls in one process,
without Dagster, which gives the overhead of the Dagster runs.

The shared folder has real files of two main-layout leagues (E0, D1) and two extra-layout ones
(NOR, SWZ). For volume, the mirror serves them under the other league codes too: a
main league's season file is its own when the shared folder has it, else E0's or D1's file of
that season (alternating by league), with its ``Div`` cells set to the league's code (the parser
checks them); an extra league's file is its own, else NOR.csv (calendar-year leagues) or
SWZ.csv (split-season ones), as is. Apart from those ``Div`` cells the served bytes are the
real files'.

    python benchmarks/bench_backfill.py                          # E0,D1 1993-2024 (64)
    python benchmarks/bench_backfill.py --leagues layout:main    # every season of the 22 main leagues
    python benchmarks/bench_backfill.py --leagues layout:extra   # the 16 extra leagues
    options: --seasons 1993-2024 (default: every season the catalogue has), --workers N,
             --no-warm (skip the second, archive-only run)
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "football-data"
# The real files the mirror serves under other codes, by layout.
MAIN_FILES = ("E0", "D1")
EXTRA_FILES = {"calendar": "NOR", "split": "SWZ"}


def serve(directory: Path) -> tuple[ThreadingHTTPServer, list[str]]:
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, fmt, *args):
            requests.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, requests


def targets_of(selection: str, seasons: list[int] | None) -> list[tuple[str, int]]:
    """(league, season) of the selected leagues, every season the catalogue lists for each (or
    those of ``seasons`` it lists)."""
    from footcast.data import catalogue

    return [
        (code, season)
        for code in catalogue.select(selection)
        for season in catalogue.seasons(code)
        if seasons is None or season in seasons
    ]


def build_mirror(root: Path, targets: list[tuple[str, int]]) -> Path:
    """A folder laid out as the site, every target's file a real shared file (see the module docstring)."""
    from footcast.data import catalogue, schema

    leagues = list(dict.fromkeys(code for code, _season in targets))
    for code, season in targets:
        league = catalogue.league(code)
        if league.layout == catalogue.EXTRA:
            link = root / "new" / f"{code}.csv"
            candidates = [SHARED / "new" / f"{name}.csv" for name in (code, EXTRA_FILES[league.season_style])]
        else:
            turn = leagues.index(code) % len(MAIN_FILES)
            names = (code, *MAIN_FILES[turn:], *MAIN_FILES[:turn])
            folder = SHARED / "mmz4281" / schema.season_code(season)
            link = root / "mmz4281" / schema.season_code(season) / f"{code}.csv"
            candidates = [folder / f"{name}.csv" for name in names]
        source = next((path for path in candidates if path.exists()), None)
        if source is None:
            raise SystemExit(f"no shared file to serve as {code} {season}: tried {candidates}")
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.exists():
            continue
        if league.layout == catalogue.EXTRA or source.stem == code:
            link.symlink_to(source)
        else:
            link.write_bytes(renamed_division(source.read_bytes(), source.stem, code))
    return root


def renamed_division(content: bytes, division: str, code: str) -> bytes:
    """A main-layout season file's bytes with its rows' ``Div`` cells ``division`` set to ``code``
    (every other byte, encoding and line ending kept)."""
    old, new = division.encode() + b",", code.encode() + b","
    return b"".join(
        new + line[len(old) :] if line.startswith(old) else line for line in content.splitlines(keepends=True)
    )


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def backfill(
    env: dict[str, str], leagues: str, seasons: str, workers: int | None
) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command and its worker processes, summary line)."""
    command = [
        sys.executable,
        "-m",
        "footcast.cli.main",
        "backfill",
        "--leagues",
        leagues,
        "--seasons",
        seasons,
        # football-data.co.uk only: Understat's xG has a benchmark of its own
        "--sources",
        "football-data",
    ]
    cpu, started = children_cpu(), time.perf_counter()
    result = subprocess.run(
        command + (["--workers", str(workers)] if workers else []), env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"backfill failed: {result.stderr.strip()}")
    return seconds, children_cpu() - cpu, result.stdout.strip().splitlines()[-1]


def baseline(env: dict[str, str], targets: list[tuple[str, int]]) -> tuple[float, float]:
    """The same work without Dagster, in one process, range by range as the backfill's runs:
    fetch (archive) + parse + store each partition, then validate and store the range's
    partitions in one suite run. (wall seconds, CPU seconds)"""
    os.environ.update(env)
    from footcast.adapters.http.client import HttpClient
    from footcast.assets import partitions
    from footcast.data import catalogue
    from footcast.pipelines.definitions import build_definitions
    from footcast.services import raw_partitions, validation
    from footcast.services.sources.registry import LeagueSources

    resources = build_definitions().resources
    warehouse = resources["warehouse"].process_config_and_initialize().get()

    sources = LeagueSources(HttpClient(warehouse), env["FOOTCAST_FOOTBALL_DATA_URL"])
    validation.validate_and_store(warehouse, *targets[0])  # warm up Great Expectations
    keys = [catalogue.partition_key(league, season) for league, season in targets]
    size = partitions.MAX_PARTITIONS_PER_RUN
    ranges = [span[i : i + size] for span in partitions.key_ranges(keys) for i in range(0, len(span), size)]
    cpu, started = time.process_time(), time.perf_counter()
    for span in ranges:
        chunk = [catalogue.parse_partition_key(key) for key in span]
        for league, season in chunk:
            raw_partitions.store_fetched(warehouse, league, season, sources.fetch_results(league, season))
        validation.validate_and_store_many(warehouse, chunk)
    return time.perf_counter() - started, time.process_time() - cpu


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leagues", default="E0,D1", help="a catalogue selection: E0,D1, layout:main, ...")
    parser.add_argument(
        "--seasons", default=None, help="start years, e.g. 1993-2024 (default: E0,D1 1993-2024, else all)"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="footcast backfill --workers (default: its own)"
    )
    parser.add_argument("--no-warm", action="store_true", help="skip the second (archive-only) backfill")
    args = parser.parse_args()
    if args.seasons is None and args.leagues == "E0,D1":
        args.seasons = "1993-2024"
    return args


def environment(home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "DAGSTER_", "MLFLOW_"))}
    env.update(
        {
            "FOOTCAST_HOME": str(home),
            "FOOTCAST_FOOTBALL_DATA_URL": f"http://127.0.0.1:{port}",
            "FOOTCAST_HTTP_RATE": "100",  # the loopback mirror; the site itself gets the default 1/s
            "FOOTCAST_NOW": "2025-11-29T12:00:00+00:00",
        }
    )
    return env


def main() -> None:
    args = parse_args()
    if not SHARED.exists():
        raise SystemExit(f"{SHARED} is absent: this benchmark needs the shared football-data files")
    os.environ["FOOTCAST_NOW"] = "2025-11-29T12:00:00+00:00"  # (the catalogue's last season)
    wanted = None
    if args.seasons:
        first, _, last = args.seasons.partition("-")
        wanted = list(range(int(first), int(last or first) + 1))
    targets = targets_of(args.leagues, wanted)
    seasons = f"{min(s for _l, s in targets)}-{max(s for _l, s in targets)}"
    work = Path(tempfile.mkdtemp(prefix="footcast-bench-"))
    server, requests = serve(build_mirror(work / "mirror", targets))
    env = environment(work / "home", server.server_address[1])
    partitions = len(targets)
    print(f"{partitions} partitions ({args.leagues} {seasons}), work folder {work}")

    loads = load()
    cold, cold_cpu, cold_summary = backfill(env, args.leagues, seasons, args.workers)
    cold_requests = len(requests)
    rows = sum(int(n) for n in re.findall(r"(\d+) (?:rows validated|quarantined)", cold_summary))
    print(
        f"cold backfill (downloads): {cold:7.1f}s  {partitions / cold:5.2f} partitions/s  "
        f"CPU {cold_cpu:.0f}s  {cold_requests} requests  {rows} rows  ({loads} -> {load()})\n"
        f"  {cold_summary}",
        flush=True,
    )
    if not args.no_warm:
        loads = load()
        warm, warm_cpu, warm_summary = backfill(env, args.leagues, seasons, args.workers)
        print(
            f"warm backfill (archive):   {warm:7.1f}s  CPU {warm_cpu:.0f}s  {len(requests) - cold_requests} "
            f"requests  ({loads} -> {load()})\n  {warm_summary}",
            flush=True,
        )
    loads = load()
    plain, plain_cpu = baseline(env, targets)
    server.shutdown()
    print(
        f"baseline, no Dagster, 1 process: {plain:7.1f}s  {partitions / plain:5.2f} partitions/s  "
        f"CPU {plain_cpu:.0f}s  ({loads} -> {load()})"
    )
    print(f"cold backfill / baseline: {cold / plain:.2f}x wall, {cold_cpu / plain_cpu:.2f}x CPU")


if __name__ == "__main__":
    main()
