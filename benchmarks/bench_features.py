"""Benchmark of the point-in-time feature builder (footcast.models.features.builder.build_features).

Builds the full feature set for
- every football-data.co.uk file under ../shared/football-data (when present and the parser
  footcast.data.football_data is importable), and
- simulated histories of 50k, 100k and 250k matches (footcast.data.simulator when it is
  importable, otherwise a small built-in generator),
and, on the same data in the same run, a named baseline: "naive-iterrows-elo", a plain
pandas implementation of Elo alone (``DataFrame.iterrows`` over the sorted rows with a dict of
ratings), i.e. far less work than the full feature set.

Each measurement runs in a forked child process so that its peak memory (ru_maxrss) is its
own; the figures are wall seconds, matches per second, the child's peak RSS and how much that
peak exceeds the RSS the child started with (the input frame already in memory).

    python benchmarks/bench_features.py                     # everything
    python benchmarks/bench_features.py --sizes 50000       # one simulated size
    python benchmarks/bench_features.py --no-real --no-baseline
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from footcast.data import schema
from footcast.models import ratings
from footcast.models.features import builder, columns

ROOT = Path(__file__).resolve().parents[1]
FOOTBALL_DATA = ROOT.parent / "shared" / "football-data"


# --- data ------------------------------------------------------------------------------------------


def real_history() -> pd.DataFrame | None:
    try:
        from footcast.data import football_data
    except ImportError:
        return None
    files = sorted((FOOTBALL_DATA / "mmz4281").glob("*/*.csv"))
    if not files:
        return None
    frames = []
    for path in files:
        code = path.parent.name
        season = (1900 if int(code[:2]) > 50 else 2000) + int(code[:2])
        content = path.read_bytes()
        frames.append(
            football_data.parse_results(
                content,
                league=path.stem,
                season=season,
                source_url=f"file://{path}",
                content_hash=hashlib.sha256(content).hexdigest(),
            ).matches
        )
    return pd.concat(frames, ignore_index=True)


def _synthetic_history(n_matches: int, seed: int = 0) -> pd.DataFrame:
    """Fallback generator: 20-team double round robins, Poisson scores, two books."""
    rng = np.random.default_rng(seed)
    per_season = 380
    league_seasons = max(1, round(n_matches / per_season))
    n_leagues = max(1, league_seasons // 30)
    rows: dict[str, list] = {c: [] for c in ("league", "season", "kickoff", "home_team", "away_team")}
    for ls in range(league_seasons):
        league, season = f"SYN{ls % n_leagues + 1}", 1990 + ls // n_leagues
        teams = [f"L{ls % n_leagues} T{i}" for i in range(20)]
        start = pd.Timestamp(f"{season}-08-10 14:00", tz="UTC")
        for r in range(38):
            order = rng.permutation(20)
            for i in range(10):
                rows["league"].append(league)
                rows["season"].append(season)
                rows["kickoff"].append(start + pd.Timedelta(days=7 * r, hours=int(rng.integers(0, 3)) * 2))
                rows["home_team"].append(teams[order[2 * i]])
                rows["away_team"].append(teams[order[2 * i + 1]])
    frame = pd.DataFrame(rows)
    n = len(frame)
    frame["match_id"] = [f"{i:016x}" for i in range(n)]
    frame["fthg"] = rng.poisson(1.5, n)
    frame["ftag"] = rng.poisson(1.1, n)
    frame["home_shots"] = rng.poisson(13, n)
    frame["away_shots"] = rng.poisson(10, n)
    for book in ("b365", "ps"):
        for timing in ("open", "close"):
            fair = rng.dirichlet([4.5, 2.8, 3.0], n)
            for j, outcome in enumerate(schema.OUTCOMES):
                frame[f"odds_{book}_{timing}_{outcome}"] = np.round(1.0 / (fair[:, j] * 1.05), 2)
    return schema.conform(frame, schema.MATCH_COLUMNS)


def simulated_history(n_matches: int) -> tuple[pd.DataFrame, str]:
    try:
        from footcast.data.simulator.partitions import simulate_history

        return simulate_history(n_matches), "simulator.simulate_history"
    except (ImportError, AttributeError):
        return _synthetic_history(n_matches), "built-in synthetic generator"


# --- the named baseline ----------------------------------------------------------------------------


def naive_iterrows_elo(matches: pd.DataFrame) -> pd.DataFrame:
    """Elo only, the way it is usually first written with pandas: iterrows and a dict."""
    frame = matches.sort_values(["kickoff", "match_id"])
    current: dict[str, float] = {}
    out = []
    for _, row in frame.iterrows():
        rh = current.get(row["home_team"], ratings.ELO_INIT)
        ra = current.get(row["away_team"], ratings.ELO_INIT)
        out.append((row["match_id"], rh, ra))
        if pd.notna(row["fthg"]) and pd.notna(row["ftag"]):
            delta = ratings.elo_update(rh, ra, int(row["fthg"]), int(row["ftag"]))
            current[row["home_team"]] = rh + delta
            current[row["away_team"]] = ra - delta
    return pd.DataFrame(out, columns=["match_id", "elo_home", "elo_away"])


# --- measurement -----------------------------------------------------------------------------------

IMPLEMENTATIONS = {
    "build_features (full set)": lambda m: builder.build_features(m),
    "naive-iterrows-elo (baseline)": naive_iterrows_elo,
}


def _rss_mb() -> float:
    """Current resident set size (Linux /proc), 0 where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _child(name: str, matches: pd.DataFrame, queue: mp.Queue) -> None:
    before = _rss_mb()
    started = time.perf_counter()
    IMPLEMENTATIONS[name](matches)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((seconds, peak, peak - before))


def measure(name: str, matches: pd.DataFrame) -> tuple[float, float, float]:
    context = mp.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_child, args=(name, matches, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def report(label: str, matches: pd.DataFrame, baseline: bool) -> None:
    n = len(matches)
    names = list(IMPLEMENTATIONS) if baseline else list(IMPLEMENTATIONS)[:1]
    results = {}
    for name in names:
        seconds, peak, extra = measure(name, matches)
        results[name] = seconds
        print(
            f"  {label:<27} {name:<30} {n:>8,} rows {seconds:7.2f} s {n / seconds:>8,.0f} matches/s"
            f"  peak RSS {peak:5.0f} MB (+{extra:.0f} MB over the input)",
            flush=True,
        )
    if len(results) == 2:
        full, naive = results.values()
        print(f"  {'':<27} full feature set takes {full / naive:.2f}x the naive Elo's time", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[50_000, 100_000, 250_000])
    parser.add_argument("--no-real", action="store_true", help="skip the football-data files")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baseline")
    args = parser.parse_args(argv)

    print(f"feature set {columns.FEATURE_SET_VERSION}: {len(columns.FEATURE_COLUMNS)} columns", flush=True)
    if not args.no_real:
        started = time.perf_counter()
        real = real_history()
        if real is None:
            print("football-data: skipped (files or parser not available)")
        else:
            print(f"football-data: {len(real):,} matches parsed in {time.perf_counter() - started:.1f} s")
            report("football-data (all files)", real, not args.no_baseline)
    for size in args.sizes:
        started = time.perf_counter()
        matches, source = simulated_history(size)
        took = time.perf_counter() - started
        print(f"simulated {size:,}: {len(matches):,} matches from {source} in {took:.1f} s")
        report(f"simulated {size:,}", matches, not args.no_baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
