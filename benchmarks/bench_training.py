"""Benchmark of model training with Optuna tuning, and the walk-forward backtest on real data.

Data: every E0 and D1 file of ../shared/football-data/mmz4281/*/ (football-data.co.uk, seasons
1993/94 onwards), parsed with footcast.data.football_data.parse_results, features built with
footcast.models.features.builder.build_features.

1. Timing, on all of E0+D1 (validation season = the last season with results), for the two
   recipes of ``training``: the model (``MARKET_RECIPE``: MODEL_FEATURES, opening-market prior)
   and the no-market model (``NO_MARKET_RECIPE``: NO_MARKET_FEATURES):
   - baseline "untuned": one ``training.train_model`` with the default parameters;
   - "tuned": ``tuning.tune`` with ``--trials`` trials (default 50; optuna RDB storage in an
     SQLite file, as in production) followed by ``training.train_model`` with the best
     parameters. Goal: under 5 minutes for 50 trials.
2. Walk-forward backtest (``backtest.walk_forward``) for ``--test-seasons`` (default
   2021-2024) of the same recipes (what `footcast evaluate` runs, here on the files directly),
   the opening and closing market, Elo and base rates, on the same matches, per league and
   overall, with the paired model-minus-market bootstrap interval. ``--backtest-trials`` tunes
   each model per test season (default 0: the recipes' fixed parameters).

    python benchmarks/bench_training.py                         # everything
    python benchmarks/bench_training.py --trials 50 --no-backtest
    python benchmarks/bench_training.py --no-timing --backtest-trials 30 --json backtest.json

XGBoost's OpenMP threads busy-wait by default; on a shared 2-core machine with other work running
that makes 2-thread training several times slower than 1 thread. The script sets
OMP_WAIT_POLICY=PASSIVE (unless already set) before XGBoost is loaded; `--omp-active` keeps
the default to measure the difference.
"""

from __future__ import annotations

import os
import sys

if "--omp-active" not in sys.argv:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import optuna  # noqa: E402
import pandas as pd  # noqa: E402

from footcast.data import football_data
from footcast.models import backtest, training, tuning
from footcast.models.features.builder import build_features

ROOT = Path(__file__).resolve().parents[1]
FOOTBALL_DATA = ROOT.parent / "shared" / "football-data" / "mmz4281"
LEAGUES = ("E0", "D1")


def season_of(folder: str) -> int:
    """'9394' -> 1993, '0001' -> 2000, '2425' -> 2024."""
    return (1900 if int(folder[:2]) > 50 else 2000) + int(folder[:2])


def load_matches(root: Path = FOOTBALL_DATA, leagues=LEAGUES) -> pd.DataFrame:
    frames = []
    for league in leagues:
        for path in sorted(root.glob(f"*/{league}.csv")):
            content = path.read_bytes()
            frames.append(
                football_data.parse_results(
                    content,
                    league=league,
                    season=season_of(path.parent.name),
                    source_url=f"file://{path}",
                    content_hash=hashlib.sha256(content).hexdigest(),
                ).matches
            )
    if not frames:
        raise SystemExit(f"no {'/'.join(leagues)} files under {root}")
    return pd.concat(frames, ignore_index=True)


def seasons_arg(text: str) -> list[int]:
    if "-" in text:
        first, last = (int(x) for x in text.split("-"))
        return list(range(first, last + 1))
    return [int(x) for x in text.split(",")]


def timing(frame: pd.DataFrame, recipe: training.Recipe, trials: int, timeout: float | None) -> dict:
    columns, prior = list(recipe.feature_columns), recipe.prior_columns
    shown = "none" if prior is None else [t[0] for t in prior]
    print(f"\n[{recipe.name}] {len(columns)} features, prior {shown}")
    t0 = time.perf_counter()
    base = training.train_model(frame, columns, params=recipe.params, **recipe.train_kwargs())
    untuned = time.perf_counter() - t0
    print(
        f"baseline untuned train_model: {untuned:.1f}s  validation season {base.validation_seasons} "
        f"RPS {base.validation_metrics['rps']:.5f}  ({base.train_rows} train / {base.validation_rows} "
        f"validation rows, {len(columns)} features, {base.best_iteration} rounds)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        storage = f"sqlite:///{Path(tmp) / 'optuna.sqlite'}"
        t0 = time.perf_counter()
        result = tuning.tune(
            frame,
            columns,
            n_trials=trials,
            timeout_seconds=timeout,
            storage=storage,
            study_name="bench",
            prior_columns=prior,
            stopping_metric=recipe.stopping_metric,
        )
        tuned_model = training.train_model(frame, columns, params=result.best_params, **recipe.train_kwargs())
        tuned = time.perf_counter() - t0
    print(
        f"tuned ({result.n_trials_done} trials, {result.n_pruned} pruned) + train_model: {tuned:.1f}s "
        f"(tuning {result.elapsed_seconds:.1f}s)  best validation RPS {result.best_rps:.5f}, refit "
        f"{tuned_model.validation_metrics['rps']:.5f}  best params {json.dumps(result.best_params)}"
    )
    print(f"goal: {trials} trials under 300s -> {'met' if tuned < 300 else 'NOT met'}")
    return {
        "untuned_seconds": untuned,
        "untuned_validation_rps": base.validation_metrics["rps"],
        "tuned_seconds": tuned,
        "tuning_seconds": result.elapsed_seconds,
        "trials": result.n_trials_done,
        "pruned": result.n_pruned,
        "best_validation_rps": result.best_rps,
        "best_params": result.best_params,
    }


def print_table(report: backtest.BacktestReport) -> None:
    table = report.to_frame()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    for comparison in backtest.COMPARISONS:
        part = table[(table["comparison"] == comparison) & (table["test_season"] == "all")]
        print(f"\ncomparison '{comparison}' (all test seasons; same matches within each league block)")
        print(
            part[
                [
                    "league",
                    "predictor",
                    "n",
                    "rps",
                    "log_loss",
                    "brier",
                    "diff_vs_market_rps",
                    "ci_low",
                    "ci_high",
                    "diff_vs_close_rps",
                    "diff_vs_elo_rps",
                    "elo_ci_low",
                    "elo_ci_high",
                ]
            ].to_string(index=False, float_format=lambda v: f"{v:.5f}")
        )
    per_season = table[(table["comparison"] == "market") & (table["league"] == "all")]
    print("\nRPS per test season (comparison 'market', both leagues)")
    print(
        per_season.pivot(index="test_season", columns="predictor", values="rps").to_string(
            float_format=lambda v: f"{v:.5f}"
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--test-seasons", type=seasons_arg, default=seasons_arg("2021-2024"))
    parser.add_argument("--backtest-trials", type=int, default=0)
    parser.add_argument("--backtest-timeout", type=float, default=None)
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--no-backtest", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write the figures and the report here")
    parser.add_argument("--omp-active", action="store_true", help="leave OMP_WAIT_POLICY unset")
    args = parser.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    t0 = time.perf_counter()
    matches = load_matches()
    frame = build_features(matches)
    print(
        f"E0+D1: {len(matches)} matches, seasons {matches['season'].min()}-{matches['season'].max()}; "
        f"parsed and features built in {time.perf_counter() - t0:.1f}s  "
        f"(OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}, {os.cpu_count()} CPUs)"
    )
    out: dict = {}
    if not args.no_timing:
        out["timing"] = {
            name: timing(frame, recipe, args.trials, args.timeout)
            for name, recipe in (
                ("model", training.MARKET_RECIPE),
                ("model_no_market", training.NO_MARKET_RECIPE),
            )
        }
    if not args.no_backtest:
        t0 = time.perf_counter()
        report = backtest.walk_forward(
            frame,
            args.test_seasons,
            recipe=training.MARKET_RECIPE,
            no_market_recipe=training.NO_MARKET_RECIPE,
            n_trials=args.backtest_trials,
            timeout_seconds=args.backtest_timeout,
            progress=print,
        )
        print(f"walk-forward backtest: {time.perf_counter() - t0:.1f}s")
        print_table(report)
        out["backtest"] = report.to_dict()
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, allow_nan=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
