"""Do the other pre-closing markets of football-data's files tell more than the 1X2 price?

Issue 6 asks for a model below the pre-closing market's own RPS. The `model` recipe ties it
(BENCHMARKS.md, "Model against the market"). This script asks whether the prices the files
hold beside the 1X2 price carry information that price lacks: the over/under 2.5 goals market,
the Asian handicap line and its prices, and the spread between bookmakers (market average,
best price, Bet365 against Pinnacle). These columns are outside footcast's canonical schema, so
it reads the season files of ../shared/football-data directly.

Walk-forward, like `footcast evaluate`: for each test season S (default 2021-2024), a
multinomial logistic regression is fitted on the seasons 2005/06..S-1 of E0 and D1 (the
files have over/under and handicap prices from 2005/06) and predicts S. Features: the 1X2
price's log(p_home/p_away) and logit(p_draw) (margin removed by normalising), plus each group.
Baseline in the same run, on the same matches: the pre-closing market itself (Pinnacle where
the file has it, else the market average, as `footcast evaluate`'s "opening market").

    python benchmarks/bench_market_information.py [--data ../shared/football-data] [--test-seasons 2021-2024]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from footcast.models import backtest, metrics

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "football-data"
# canonical name -> header names, preferred first (Betbrain's Bb* up to 2018/19)
COLUMNS = {
    "ps_h": ("PSH",),
    "ps_d": ("PSD",),
    "ps_a": ("PSA",),
    "avg_h": ("AvgH", "BbAvH"),
    "avg_d": ("AvgD", "BbAvD"),
    "avg_a": ("AvgA", "BbAvA"),
    "max_h": ("MaxH", "BbMxH"),
    "max_d": ("MaxD", "BbMxD"),
    "max_a": ("MaxA", "BbMxA"),
    "b365_h": ("B365H",),
    "b365_d": ("B365D",),
    "b365_a": ("B365A",),
    "over": ("Avg>2.5", "BbAv>2.5"),
    "under": ("Avg<2.5", "BbAv<2.5"),
    "ah_line": ("AHh", "BbAHh"),
    "ah_home": ("AvgAHH", "BbAvAHH"),
    "ah_away": ("AvgAHA", "BbAvAHA"),
}


def read_season(path: Path, league: str, season: int) -> pd.DataFrame:
    raw = pd.read_csv(path, encoding="latin-1", on_bad_lines="skip")
    raw.columns = [c.strip().replace("ï»¿", "").lstrip("\ufeff") for c in raw.columns]
    raw = raw[raw["FTR"].isin(["H", "D", "A"])]
    frame = pd.DataFrame({"league": league, "season": season, "result": raw["FTR"].to_numpy()})
    for name, sources in COLUMNS.items():
        source = next((s for s in sources if s in raw.columns), None)
        values = pd.to_numeric(raw[source], errors="coerce") if source else np.nan
        frame[name] = np.asarray(values, dtype=np.float64) if source else np.nan
    return frame


def load(data: Path, first: int, last: int) -> pd.DataFrame:
    frames = []
    for league in ("E0", "D1"):
        for season in range(first, last + 1):
            path = data / "mmz4281" / f"{season % 100:02d}{(season + 1) % 100:02d}" / f"{league}.csv"
            if path.exists():
                frames.append(read_season(path, league, season))
    return pd.concat(frames, ignore_index=True)


def _normalised(frame: pd.DataFrame, prefix: str) -> np.ndarray:
    implied = 1.0 / frame[[f"{prefix}_h", f"{prefix}_d", f"{prefix}_a"]].to_numpy()
    return implied / implied.sum(axis=1, keepdims=True)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def feature_groups(frame: pd.DataFrame) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(market probabilities, feature name -> matrix)."""
    pinnacle = _normalised(frame, "ps")
    market = np.where(np.isnan(pinnacle).any(axis=1, keepdims=True), _normalised(frame, "avg"), pinnacle)
    one_x_two = np.column_stack([np.log(market[:, 0] / market[:, 2]), _logit(market[:, 1])])
    goals = 1.0 / frame[["over", "under"]].to_numpy()
    over = _logit(goals[:, 0] / goals.sum(axis=1))
    totals = np.column_stack([one_x_two, over, over * one_x_two[:, 0], over * one_x_two[:, 1]])
    handicap = 1.0 / frame[["ah_home", "ah_away"]].to_numpy()
    handicap = np.column_stack(
        [totals, frame["ah_line"].to_numpy(), _logit(handicap[:, 0] / handicap.sum(axis=1))]
    )
    spread = np.column_stack(
        [
            one_x_two,
            *(np.log(_normalised(frame, book) / market)[:, [0, 2]] for book in ("avg", "max", "b365")),
            np.log(
                frame[["max_h", "max_d", "max_a"]].to_numpy() / frame[["avg_h", "avg_d", "avg_a"]].to_numpy()
            ),
        ]
    )
    return market, {
        "1X2 price only (recalibrated)": one_x_two,
        "+ over/under 2.5": totals,
        "+ over/under 2.5 + Asian handicap": handicap,
        "+ bookmaker spread (avg, max, Bet365 vs Pinnacle)": spread,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--test-seasons", default="2021-2024")
    args = parser.parse_args(argv)
    if not (args.data / "mmz4281").is_dir():
        print(f"no football-data files under {args.data}", file=sys.stderr)
        return 2
    first_test, last_test = (int(s) for s in args.test_seasons.split("-"))
    frame = load(args.data, 2005, last_test)
    market, groups = feature_groups(frame)
    outcomes = metrics.encode_results(frame["result"])
    # The same matches for every row: every group's features and the market present.
    usable = ~np.isnan(np.column_stack([market, *groups.values()])).any(axis=1)
    seasons = frame["season"].to_numpy()
    tests = [usable & (seasons == s) for s in range(first_test, last_test + 1)]
    test_rows = np.concatenate([np.flatnonzero(t) for t in tests])
    market_rps = metrics.rps_per_match(market[test_rows], outcomes[test_rows])
    in_test = (seasons >= first_test) & (seasons <= last_test)
    print(
        f"E0 + D1, test seasons {first_test}-{last_test}: {len(test_rows)} matches "
        f"({in_test.sum() - len(test_rows)} lack a price); fitted on 2005/06 up to the season before"
    )
    print(f"{'predictor':52} {'RPS':>8}  {'minus market [95% CI]':28}")
    print(f"{'pre-closing market (Pinnacle, else average)':52} {market_rps.mean():8.5f}")
    # Other books' pre-closing prices as they are, on the same matches (the issue's reference
    # figure for the pre-closing market, 0.1953, is Bet365's).
    for book, label in (("b365", "Bet365"), ("avg", "market average")):
        prices = _normalised(frame, book)[test_rows]
        if not np.isnan(prices).any():
            rps = metrics.rps_per_match(prices, outcomes[test_rows])
            low, high = (float(bound[0]) for bound in backtest.bootstrap_mean_ci(rps - market_rps, seed=0))
            name = f"{label} pre-closing price"
            print(f"{name:52} {rps.mean():8.5f}  {(rps - market_rps).mean():+.5f} [{low:+.5f}, {high:+.5f}]")
    for name, features in groups.items():
        predicted = []
        for test in tests:
            train = usable & (seasons < seasons[test][0])
            model = LogisticRegression(C=1.0, max_iter=5000).fit(features[train], outcomes[train])
            predicted.append(model.predict_proba(features[test]))
        rps = metrics.rps_per_match(np.vstack(predicted), outcomes[test_rows])
        low, high = (float(bound[0]) for bound in backtest.bootstrap_mean_ci(rps - market_rps, seed=0))
        print(f"{name:52} {rps.mean():8.5f}  {(rps - market_rps).mean():+.5f} [{low:+.5f}, {high:+.5f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
