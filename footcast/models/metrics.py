"""Scoring rules for home/draw/away probabilities.

Probabilities are arrays of shape (n, 3) in outcome order home, draw, away; outcomes are
integer class indices (0 = home, 1 = draw, 2 = away). Lower is better for every score but
accuracy.
"""

from __future__ import annotations

import numpy as np

# The scores of one backtest row (footcast.models.backtest.summarise, the `backtests` table):
# the metrics, then model minus market/closing/Elo RPS with their bootstrap 95% intervals, and
# for the models, model minus the same model without the xG features (the xG gain if negative).
BACKTEST_SCORE_COLUMNS: tuple[str, ...] = (
    "rps",
    "log_loss",
    "brier",
    "accuracy",
    "diff_vs_market_rps",
    "ci_low",
    "ci_high",
    "diff_vs_close_rps",
    "close_ci_low",
    "close_ci_high",
    "diff_vs_elo_rps",
    "elo_ci_low",
    "elo_ci_high",
    "diff_vs_without_xg_rps",
    "without_xg_ci_low",
    "without_xg_ci_high",
)

OUTCOME_INDEX = {"H": 0, "D": 1, "A": 2}
OUTCOME_LABELS = ("H", "D", "A")


def encode_results(results) -> np.ndarray:
    """'H'/'D'/'A' labels as class indices."""
    try:
        return np.array([OUTCOME_INDEX[r] for r in results], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"unknown full-time result {exc.args[0]!r}; expected H, D or A") from None


def _check(probs: np.ndarray, outcomes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(probs, dtype=np.float64)
    outcomes = np.asarray(outcomes, dtype=np.int64)
    if probs.ndim != 2 or probs.shape[1] != 3:
        raise ValueError(f"probabilities must have shape (n, 3), got {probs.shape}")
    if len(probs) != len(outcomes):
        raise ValueError(f"{len(probs)} probability rows for {len(outcomes)} outcomes")
    if len(probs) == 0:
        raise ValueError("cannot score an empty set of matches")
    return probs, outcomes


def rps_per_match(probs: np.ndarray, outcomes: np.ndarray) -> np.ndarray:
    """Ranked probability score of each match (ordinal outcomes home < draw < away)."""
    probs, outcomes = _check(probs, outcomes)
    observed = np.zeros_like(probs)
    observed[np.arange(len(outcomes)), outcomes] = 1.0
    cum_diff = np.cumsum(probs, axis=1)[:, :2] - np.cumsum(observed, axis=1)[:, :2]
    return (cum_diff**2).sum(axis=1) / 2.0


def ranked_probability_score(probs: np.ndarray, outcomes: np.ndarray) -> float:
    return float(rps_per_match(probs, outcomes).mean())


def log_loss_per_match(probs: np.ndarray, outcomes: np.ndarray, eps: float = 1e-15) -> np.ndarray:
    """Negative log of the probability given to the outcome, per match (clipped at ``eps``)."""
    probs, outcomes = _check(probs, outcomes)
    picked = np.clip(probs[np.arange(len(outcomes)), outcomes], eps, 1.0)
    return -np.log(picked)


def log_loss(probs: np.ndarray, outcomes: np.ndarray, eps: float = 1e-15) -> float:
    return float(log_loss_per_match(probs, outcomes, eps).mean())


def brier_per_match(probs: np.ndarray, outcomes: np.ndarray) -> np.ndarray:
    """Summed squared error over the three outcomes, per match."""
    probs, outcomes = _check(probs, outcomes)
    observed = np.zeros_like(probs)
    observed[np.arange(len(outcomes)), outcomes] = 1.0
    return ((probs - observed) ** 2).sum(axis=1)


def brier_score(probs: np.ndarray, outcomes: np.ndarray) -> float:
    """Multi-class Brier score: mean over matches of the summed squared error over outcomes."""
    return float(brier_per_match(probs, outcomes).mean())


def accuracy(probs: np.ndarray, outcomes: np.ndarray) -> float:
    probs, outcomes = _check(probs, outcomes)
    return float((probs.argmax(axis=1) == outcomes).mean())


def calibration_error(probs: np.ndarray, outcomes: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error averaged over the three outcomes (equal-width bins)."""
    probs, outcomes = _check(probs, outcomes)
    errors = []
    for k in range(3):
        p = probs[:, k]
        hit = (outcomes == k).astype(np.float64)
        which = np.minimum((p * bins).astype(int), bins - 1)
        total = 0.0
        for b in range(bins):
            mask = which == b
            if mask.any():
                total += mask.mean() * abs(p[mask].mean() - hit[mask].mean())
        errors.append(total)
    return float(np.mean(errors))


def score_all(probs: np.ndarray, outcomes: np.ndarray) -> dict[str, float]:
    return {
        "rps": ranked_probability_score(probs, outcomes),
        "log_loss": log_loss(probs, outcomes),
        "brier": brier_score(probs, outcomes),
        "accuracy": accuracy(probs, outcomes),
        "calibration_error": calibration_error(probs, outcomes),
    }


def check_probabilities(probs: np.ndarray, tolerance: float = 1e-6) -> None:
    """Raise ValueError unless ``probs`` is an (n, 3) array of finite probabilities summing to 1."""
    if probs.ndim != 2 or probs.shape[1] != 3:
        raise ValueError(f"model returned shape {probs.shape}, expected (n, 3)")
    if not np.isfinite(probs).all():
        raise ValueError(
            f"model returned non-finite probabilities for {int((~np.isfinite(probs)).any(axis=1).sum())} rows"
        )
    if (probs < 0).any() or (probs > 1).any():
        raise ValueError("model returned probabilities outside [0, 1]")
    worst = float(np.abs(probs.sum(axis=1) - 1.0).max())
    if worst > tolerance:
        raise ValueError(f"model probabilities do not sum to 1 (worst row off by {worst:.2e})")
