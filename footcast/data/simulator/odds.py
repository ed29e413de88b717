"""Bookmaker prices: the market's noisy belief, each book's noise and margin, the best price."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from footcast.data import schema
from footcast.data.simulator.leagues import FIRST_SEASON
from footcast.data.simulator.outcomes import LeagueSeason, outcome_probs

SIMULATED_BOOKS: tuple[str, ...] = ("b365", "ps", "avg", "max")

# Market: log expected-goals errors of the market's belief.
_MARKET_CLOSE_SD = 0.07  # per match, closing
_MARKET_OPEN_EXTRA_SD = 0.10  # per match, added on top for opening prices
_BOOK_NOISE = {"b365": 0.03, "ps": 0.015, "avg": 0.012, "max": 0.015}  # log-probability noise
_OPEN_NOISE_FACTOR = 1.5


def _margin(book: str, season: int) -> float:
    """Typical overround - 1 of a book in a season (margins shrink over the years)."""
    progress = min(max((season - FIRST_SEASON) / 22.0, 0.0), 1.0)  # 1993 -> 2015
    start, end = {"b365": (0.080, 0.050), "ps": (0.032, 0.025), "avg": (0.078, 0.055)}[book]
    return start + (end - start) * progress


def _prices_with_margin(log_q: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Decimal prices from fair log-probabilities (..., 3) and margins (...): overround 1 + margin.

    Power-method shape (implied probabilities proportional to q**c, so longshots carry more of
    the margin): c is one Newton step from 1 (c = 1 - margin / entropy), then the powers are
    scaled to the exact total. Rounded to 2 decimals, never below 1.02."""
    entropy = -(np.exp(log_q) * log_q).sum(axis=-1)
    c = np.clip(1.0 - margin / np.maximum(entropy, 1e-3), 0.5, 1.5)
    powered = np.exp(log_q * c[..., None])
    prices = (powered.sum(axis=-1) / (1.0 + margin))[..., None] / powered
    return np.maximum(np.round(prices, 2), 1.02)


# Every quote: (timing, book). "max" is the best price over the books and a low-margin book.
_QUOTES: tuple[tuple[str, str], ...] = tuple((t, b) for t in schema.ODDS_TIMINGS for b in SIMULATED_BOOKS)
_QUOTE_NOISE = np.array([_BOOK_NOISE[b] * (_OPEN_NOISE_FACTOR if t == "open" else 1.0) for t, b in _QUOTES])
_QUOTE_TIMING = np.array([schema.ODDS_TIMINGS.index(t) for t, _b in _QUOTES])


def _quote_margins(season: int, uniforms: np.ndarray) -> np.ndarray:
    """(quotes, n) margins from (quotes, n) uniforms: the book's typical margin +- 0.5%."""
    low = np.array([-0.005 if b == "max" else _margin(b, season) - 0.005 for _t, b in _QUOTES])
    width = np.array([0.015 if b == "max" else 0.01 for _t, b in _QUOTES])
    return low[:, None] + width[:, None] * uniforms


@dataclass(frozen=True)
class MarketDraws:
    """What the odds of a league-season are made of, before the (batched) pricing arithmetic."""

    log_lam: np.ndarray  # (2, 2, n): timing (open, close) x side (home, away), market belief
    book_noise: np.ndarray  # (quotes, n, 3) standard normals
    margins: np.ndarray  # (quotes, n)


def market_draws(
    ls: LeagueSeason, team_error: np.ndarray, season: int, rng: np.random.Generator
) -> MarketDraws:
    n = len(ls.home)
    bias = (team_error[ls.home] - team_error[ls.away]) / 2
    truth = np.stack([np.log(ls.lam_h) + bias, np.log(ls.lam_a) - bias])
    close = truth + rng.normal(0.0, _MARKET_CLOSE_SD, (2, n))
    opening = close + rng.normal(0.0, _MARKET_OPEN_EXTRA_SD, (2, n))
    noise = rng.standard_normal((len(_QUOTES), n, 3))
    return MarketDraws(
        np.stack([opening, close]), noise, _quote_margins(season, rng.random((len(_QUOTES), n)))
    )


def price_odds(draws: list[MarketDraws]) -> list[dict[str, np.ndarray]]:
    """Odds columns of many league-seasons at once (pure arithmetic on their draws)."""
    sizes = [d.log_lam.shape[2] for d in draws]
    log_lam = np.concatenate([d.log_lam for d in draws], axis=2)  # (2, 2, N)
    total = log_lam.shape[2]
    belief = outcome_probs(np.exp(log_lam[:, 0].ravel()), np.exp(log_lam[:, 1].ravel())).reshape(2, total, 3)
    log_fair = np.log(belief)[_QUOTE_TIMING]  # (quotes, N, 3)
    log_fair += np.concatenate([d.book_noise for d in draws], axis=1) * _QUOTE_NOISE[:, None, None]
    log_fair -= np.log(np.exp(log_fair).sum(axis=2, keepdims=True))  # each book's fair probabilities
    prices = _prices_with_margin(log_fair, np.concatenate([d.margins for d in draws], axis=1))
    for q, (timing, book) in enumerate(_QUOTES):
        if book == "max":  # the best price on the market: at least every book's price
            prices[q] = prices[[i for i, (t, _b) in enumerate(_QUOTES) if t == timing]].max(axis=0)
    out: list[dict[str, np.ndarray]] = []
    start = 0
    for size in sizes:
        block = prices[:, start : start + size]
        out.append(
            {
                f"odds_{book}_{timing}_{outcome}": block[q, :, k]
                for q, (timing, book) in enumerate(_QUOTES)
                for k, outcome in enumerate(schema.OUTCOMES)
            }
        )
        start += size
    return out
