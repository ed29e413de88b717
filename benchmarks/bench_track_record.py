"""Benchmark of the track record (footcast.models.track_record, services.track_record) over
100,000 scored matches, against a named baseline measured in the same run.

Data (synthetic, seeded): ``--n`` played matches of 40 leagues, about 90 a day; a batch
published every morning holding the next 7 days of fixtures (so each match is in about 7
batches: ~700,000 prediction rows for 100,000 matches), with the opening market recorded; the
results file's opening and closing prices and the features' Elo for every match.

Measured, each the best of ``--repeat`` runs:

1. ours, in memory: ``track_record.score`` (the prediction live at each kickoff, scored with
   the market, the closing market and Elo) and ``track_record.summarise`` (rolling figures per
   league and overall with bootstrap intervals and calibration limits), as the asset calls them;
2. baseline "merge_asof + per-row scoring": the straightforward pandas way: ``pd.merge_asof``
   of the matches (by kickoff) onto the predictions (by publish time, strictly before, by match
   id), then a Python loop scoring each row (RPS, log loss, Brier of the model and the three
   references). Same matches, same scores (checked);
3. the whole update on a SQLite warehouse (``services.track_record.update``: read the batches,
   results and Elo, score, summarise, replace both tables in one transaction), and the two
   pictures (``services.track_record.pictures``).

    python benchmarks/bench_track_record.py                 # 100,000 matches
    python benchmarks/bench_track_record.py --n 20000 --no-warehouse
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from footcast.adapters.warehouse import Warehouse, matches, predictions
from footcast.models import metrics
from footcast.models import track_record as model
from footcast.models import track_record_report as shape

LEAGUES = 40
HORIZON_DAYS = 7


def synthetic(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(predictions, played matches as scoring reads them, the same matches with prices)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-08-01", tz="UTC")
    minutes = np.sort(rng.integers(0, int(n / 90 * 24 * 60), n))
    kickoff = start + pd.to_timedelta(minutes, unit="min")
    home = rng.uniform(0.15, 0.75, n)
    draw = np.minimum(0.28, 1 - home - 0.05)
    market = np.column_stack([home, draw, 1 - home - draw])
    outcomes = (rng.random(n)[:, None] > np.cumsum(market, axis=1)[:, :2]).sum(axis=1)
    played = pd.DataFrame(
        {
            "match_id": [f"b{i:07d}" for i in range(n)],
            "league": [f"L{i % LEAGUES:02d}" for i in range(n)],
            "season": (kickoff - pd.Timedelta(days=212)).year,
            "kickoff": kickoff,
            "home_team": [f"H{i % 997}" for i in range(n)],
            "away_team": [f"A{i % 991}" for i in range(n)],
            "result": np.array(["H", "D", "A"])[outcomes],
        }
    )
    close = market * rng.uniform(0.95, 1.05, (n, 3))
    close /= close.sum(axis=1, keepdims=True)
    for prefix, probs in (("opening_", market), ("close_", close), ("elo_", (market + 1 / 3) / 2)):
        for column, values in zip(shape.prob_columns(prefix), probs.T, strict=True):
            played[column] = values
    days = pd.date_range(start.normalize() - pd.Timedelta(days=1), kickoff.max().normalize(), freq="D")
    parts = []
    ns = kickoff.as_unit("ns").asi8
    for number, day in enumerate(days):
        published = day + pd.Timedelta(hours=7)
        until = published + pd.Timedelta(days=HORIZON_DAYS)
        lo = np.searchsorted(ns, published.as_unit("ns").value, side="right")
        hi = np.searchsorted(ns, until.as_unit("ns").value, side="right")
        if hi > lo:
            parts.append((number, published, lo, hi))
    rows = sum(hi - lo for _, _, lo, hi in parts)
    index = np.concatenate([np.arange(lo, hi) for _, _, lo, hi in parts])
    noise = rng.normal(0, 0.03, (rows, 3))
    model_probs = np.clip(market[index] + noise, 0.02, None)
    model_probs /= model_probs.sum(axis=1, keepdims=True)
    batch_of = np.concatenate([np.full(hi - lo, number) for number, _, lo, hi in parts])
    published_at = pd.DatetimeIndex([p for _, p, _, _ in parts])
    first = {number: i for i, (number, _, _, _) in enumerate(parts)}
    frame = pd.DataFrame(
        {
            "publish_version": [f"{days[b]:%Y%m%d}T070000Z-bench" for b in batch_of],
            "match_id": played["match_id"].to_numpy()[index],
            "generated_at": published_at[[first[b] for b in batch_of]],
            "kickoff": kickoff[index],
            "model_version": "1",
        }
    )
    for column, values in zip(shape.prob_columns(), model_probs.T, strict=True):
        frame[column] = values
    for column, values in zip(shape.prob_columns("market_open_"), market[index].T, strict=True):
        frame[column] = values
    frame["market_open_available"] = 1.0
    return frame, played, _with_prices(played, market, close)


def _with_prices(played: pd.DataFrame, market: np.ndarray, close: np.ndarray) -> pd.DataFrame:
    """The matches as the validated table holds them: ftr and margin-free prices (booksum 1)."""
    frame = played[list(model.IDENTITY)].copy()
    frame["ftr"] = played["result"]
    for timing, probs in (("open", market), ("close", close)):
        for outcome, values in zip(("h", "d", "a"), probs.T, strict=True):
            frame[f"odds_ps_{timing}_{outcome}"] = 1 / values
    return frame


def ours(predictions_frame: pd.DataFrame, played: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    track = model.score(predictions_frame, played)
    return track, model.summarise(track)


def baseline(predictions_frame: pd.DataFrame, played: pd.DataFrame) -> pd.DataFrame:
    """merge_asof (the last prediction of each match published before its kickoff) + per-row scoring."""
    left = played.sort_values("kickoff")
    right = predictions_frame.rename(columns={"kickoff": "kickoff_at_publish"}).sort_values("generated_at")
    live = pd.merge_asof(
        left,
        right,
        left_on="kickoff",
        right_on="generated_at",
        by="match_id",
        allow_exact_matches=False,
        direction="backward",
    ).dropna(subset=["publish_version"])
    rows = []
    for row in live.itertuples(index=False):
        outcome = np.array([metrics.OUTCOME_INDEX[row.result]])
        scored = {"match_id": row.match_id}
        for prefix, probs in (
            ("", (row.p_home, row.p_draw, row.p_away)),
            ("market_", (row.market_open_p_home, row.market_open_p_draw, row.market_open_p_away)),
            ("close_", (row.close_p_home, row.close_p_draw, row.close_p_away)),
            ("elo_", (row.elo_p_home, row.elo_p_draw, row.elo_p_away)),
        ):
            p = np.array([probs])
            scored[f"{prefix}rps"] = float(metrics.rps_per_match(p, outcome)[0])
            scored[f"{prefix}log_loss"] = float(metrics.log_loss_per_match(p, outcome)[0])
            scored[f"{prefix}brier"] = float(metrics.brier_per_match(p, outcome)[0])
        rows.append(scored)
    return pd.DataFrame(rows)


def best_of(repeat: int, fn, *args):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - started)
    return min(times), result


def warehouse_run(predictions_frame: pd.DataFrame, priced: pd.DataFrame, elo: pd.DataFrame) -> dict:
    from footcast.services import track_record

    with tempfile.TemporaryDirectory() as folder:
        store = Warehouse(f"sqlite:///{Path(folder) / 'bench.sqlite'}")
        store.create_all()
        started = time.perf_counter()
        with store.engine.begin() as conn:
            store.replace_partition(predictions, {}, predictions_frame.assign(
                league="L", season=2023, home_team="h", away_team="a", fair_odds_home=2.0,
                fair_odds_draw=3.0, fair_odds_away=4.0, model_name="bench", feature_set_version="fs-1",
            ), conn)  # fmt: skip
            store.replace_partition(matches, {}, priced, conn)
        store.replace_features(elo, [c for c in elo.columns if c.startswith("elo_p_")])
        loading = time.perf_counter() - started
        started = time.perf_counter()
        record = track_record.update(store, now=pd.Timestamp.now(tz="UTC"))
        update = time.perf_counter() - started
        started = time.perf_counter()
        images = track_record.pictures(record)
        pictures = time.perf_counter() - started
        store.engine.dispose()
    return {
        "loading": loading,
        "update": update,
        "pictures": pictures,
        "png_bytes": sum(map(len, images.values())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="played matches (default 100,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each in-memory measurement")
    parser.add_argument("--no-warehouse", action="store_true", help="skip the SQLite round trip")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    predictions_frame, played, priced = synthetic(args.n)
    print(f"{len(played):,} played matches, {len(predictions_frame):,} prediction rows in "
          f"{predictions_frame['publish_version'].nunique():,} batches")  # fmt: skip
    score_s, track = best_of(args.repeat, model.score, predictions_frame, played)
    summary_s, summary = best_of(args.repeat, model.summarise, track)
    total_s, _ = best_of(args.repeat, ours, predictions_frame, played)
    base_s, base = best_of(1, baseline, predictions_frame, played)
    scored = track[track["status"] == shape.SCORED].set_index("match_id")
    check = base.set_index("match_id").loc[scored.index]
    for column in ("rps", "log_loss", "brier", "market_rps", "close_rps", "elo_rps"):
        np.testing.assert_allclose(check[column].to_numpy(), scored[column].to_numpy(), rtol=1e-9, atol=1e-12)
    print(f"scored {len(scored):,} matches ({len(base):,} by the baseline, same scores); "
          f"{len(summary)} summary rows")  # fmt: skip
    print(f"ours: score {score_s:.2f} s + summarise {summary_s:.2f} s = {total_s:.2f} s "
          f"({len(scored) / total_s:,.0f} matches/s)")  # fmt: skip
    print(f"baseline merge_asof + per-row scoring: {base_s:.2f} s ({base_s / score_s:.0f}x ours' scoring)")
    if not args.no_warehouse:
        elo = played[[*model.IDENTITY, *shape.prob_columns("elo_")]].assign(
            played=True, result=played["result"], feature_set_version="fs-1"
        )
        figures = warehouse_run(predictions_frame, priced, elo)
        print(f"whole update on SQLite (read, score, summarise, write): {figures['update']:.2f} s "
              f"(loading the inputs first: {figures['loading']:.1f} s)")  # fmt: skip
        print(f"pictures: {figures['pictures']:.2f} s ({figures['png_bytes'] / 1024:.0f} KB of PNG)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
