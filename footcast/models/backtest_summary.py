"""The backtest's predictors, comparisons and summary table (:mod:`footcast.models.backtest`).

``summarise`` turns per-match predictions into the flat table: per comparison x (test season or
``all``) x (league or ``all``) x predictor, the scores and paired per-match RPS differences
with percentile bootstrap 95% intervals: against the opening market, the closing market and
Elo (``REFERENCES``), and for ``model`` / ``model_no_market`` against their own ablation
without xG (``XG_ABLATION_OF``: ``diff_vs_without_xg_rps``, the xG gain when negative).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from footcast.models import metrics

MODELS = ("model", "model_no_market")
# The same recipes without the xG features; in a report only when its data has xG.
XG_ABLATIONS = ("model_without_xg", "model_no_market_without_xg")
XG_ABLATION_OF = dict(zip(MODELS, XG_ABLATIONS, strict=True))
BASELINES = ("elo", "elo_logit", "base_rate")
MARKETS = ("market_open", "market_close")
# The predictors of every report; ORDER also lists the xG ablations (the table's order).
PREDICTORS = MODELS + MARKETS + BASELINES
ORDER = MODELS + XG_ABLATIONS + MARKETS + BASELINES
COMPARISONS: dict[str, tuple[str, ...]] = {
    "all": MODELS + XG_ABLATIONS + BASELINES,
    "market": MODELS + XG_ABLATIONS + MARKETS + BASELINES,
    "close": (*MODELS, *XG_ABLATIONS, "market_close", *BASELINES),
}
# Paired RPS differences (predictor minus reference) reported for every predictor of a
# comparison that holds the reference: column prefix -> reference predictor.
REFERENCES = {"market": "market_open", "close": "market_close", "elo": "elo"}
XG_PREFIX = "without_xg"
OUTCOME_SUFFIXES = ("p_home", "p_draw", "p_away")
ALL = "all"
TABLE_COLUMNS = ["comparison", "test_season", "league", "predictor", "n", *metrics.BACKTEST_SCORE_COLUMNS]


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [jsonable(r) for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]


def bootstrap_mean_ci(
    values: np.ndarray, resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of the mean of each row of ``values`` (k, n) or (n,).

    All rows share the same resampled matches (paired); deterministic for a given seed."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    k, n = values.shape
    if n == 0:
        return np.full(k, np.nan), np.full(k, np.nan)
    rng = np.random.default_rng(seed)
    means = np.empty((k, resamples))
    chunk = max(1, min(resamples, 4_000_000 // max(n, 1)))
    for start in range(0, resamples, chunk):
        stop = min(start + chunk, resamples)
        index = rng.integers(0, n, size=(stop - start, n))
        means[:, start:stop] = values[:, index].mean(axis=2)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha], axis=1)
    return low, high


def probability_columns(predictor: str) -> list[str]:
    return [f"{predictor}_{s}" for s in OUTCOME_SUFFIXES]


def _difference_names(prefix: str) -> tuple[str, str, str]:
    if prefix == "market":
        return "diff_vs_market_rps", "ci_low", "ci_high"
    return f"diff_vs_{prefix}_rps", f"{prefix}_ci_low", f"{prefix}_ci_high"


def _pairs(members: list[str]) -> list[tuple[str, str, str]]:
    """(predictor, column prefix, reference) of every paired difference among ``members``."""
    pairs = [
        (p, prefix, reference)
        for p in members
        for prefix, reference in REFERENCES.items()
        if reference in members and reference != p
    ]
    pairs += [(p, XG_PREFIX, XG_ABLATION_OF[p]) for p in members if XG_ABLATION_OF.get(p) in members]
    return pairs


def _block(
    members: list[str], probs: dict[str, np.ndarray], y: np.ndarray, seed: int, resamples: int
) -> list[dict[str, Any]]:
    """Scores and paired differences of ``members`` on one set of matches (rows of ``probs``)."""
    n = len(y)
    per_match = {p: metrics.rps_per_match(probs[p], y) for p in members}
    # Paired differences, all on the same bootstrap resamples of these matches.
    pairs = _pairs(members)
    diffs = np.array([per_match[p] - per_match[ref] for p, _, ref in pairs]).reshape(len(pairs), n)
    low, high = bootstrap_mean_ci(diffs, resamples=resamples, seed=seed)
    ci = {
        (p, prefix): (d.mean(), lo, hi)
        for (p, prefix, _), d, lo, hi in zip(pairs, diffs, low, high, strict=True)
    }
    rows = []
    for p in members:
        row = {
            "predictor": p,
            "n": n,
            "rps": float(per_match[p].mean()),
            "log_loss": metrics.log_loss(probs[p], y),
            "brier": metrics.brier_score(probs[p], y),
            "accuracy": metrics.accuracy(probs[p], y),
        }
        for prefix in (*REFERENCES, XG_PREFIX):
            values = ci.get((p, prefix), (np.nan, np.nan, np.nan))
            row.update(dict(zip(_difference_names(prefix), map(float, values), strict=True)))
        rows.append(row)
    return rows


def summarise(predictions: pd.DataFrame, *, seed: int = 0, resamples: int = 2000) -> pd.DataFrame:
    """The flat summary table of per-match predictions (see the module docstring)."""
    outcomes = metrics.encode_results(predictions["result"])
    present = [p for p in ORDER if probability_columns(p)[0] in predictions.columns]
    probs = {p: predictions[probability_columns(p)].to_numpy(dtype=np.float64) for p in present}
    available = {p: np.isfinite(v).all(axis=1) for p, v in probs.items()}
    seasons = predictions["season"].astype(int).to_numpy()
    leagues = predictions["league"].astype(str).to_numpy()
    scopes = [
        (season, league)
        for season in [ALL, *sorted(set(seasons.tolist()))]
        for league in [ALL, *sorted(set(leagues.tolist()))]
    ]
    rows = []
    for comparison, members in COMPARISONS.items():
        members = [p for p in members if p in present]
        together = np.logical_and.reduce([available[p] for p in members])
        for season, league in scopes:
            mask = together & ((seasons == season) if season != ALL else True)
            mask &= (leagues == league) if league != ALL else True
            if not mask.any():
                continue
            block = _block(members, {p: probs[p][mask] for p in members}, outcomes[mask], seed, resamples)
            for row in block:
                rows.append({"comparison": comparison, "test_season": str(season), "league": league, **row})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)
