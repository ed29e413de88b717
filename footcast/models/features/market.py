"""Market features: margin-free probabilities and overround of one book's prices, opening or closing."""

from __future__ import annotations

import numpy as np

from footcast.data import schema
from footcast.models import ratings

BOOK_PREFERENCE: tuple[str, ...] = ("ps", "avg", "b365", "bw", "iw", "wh", "vc", "lb", "sj")


def market_features(odds: dict[str, np.ndarray], n: int, timing: str) -> dict[str, np.ndarray]:
    """``market_{timing}_*`` of every row, timing "open" or "close" (closing ones are baselines only)."""
    chosen = np.full((n, 3), np.nan)
    have = np.zeros(n, dtype=bool)
    for book in BOOK_PREFERENCE:
        columns = [f"odds_{book}_{timing}_{outcome}" for outcome in schema.OUTCOMES]
        if not all(column in odds for column in columns):
            continue
        prices = np.stack([odds[column] for column in columns], axis=1)
        with np.errstate(invalid="ignore"):
            ok = ~have & (np.isfinite(prices) & (prices > 1.0)).all(axis=1)
        chosen[ok] = prices[ok]
        have |= ok
    probs = np.full((n, 3), np.nan)
    overround = np.full(n, np.nan)
    if have.any():
        probs[have], _ = ratings.remove_margin_shin(chosen[have])
        overround[have] = ratings.implied_probabilities(chosen[have])[1] - 1.0
    return {
        f"market_{timing}_p_home": probs[:, 0].copy(),
        f"market_{timing}_p_draw": probs[:, 1].copy(),
        f"market_{timing}_p_away": probs[:, 2].copy(),
        f"market_{timing}_overround": overround,
        f"market_{timing}_available": have.astype(np.float64),
    }
