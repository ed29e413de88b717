"""Recent form and rest days: point-in-time lookups over played appearances (vectorised, exact)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from footcast.models.features.columns import FORM_STATS, FORM_WINDOWS
from footcast.models.features.inputs import int_values, kickoff_ns

_NS_PER_DAY = 86_400 * 10**9


class _History:
    """Played appearances grouped by an integer key (a team, a team in a league-season, ...),
    sorted by (key, slot), with exact integer prefix sums of their statistics.

    ``slot`` is the dense rank of the kickoff. A query (key, slot) sees the appearances of its
    key with a strictly smaller slot: never its own kickoff. Sums are differences of int64
    prefix sums, so a query's result does not depend on any other row.
    """

    def __init__(self, key: np.ndarray, slot: np.ndarray, values: np.ndarray, n_slots: int) -> None:
        self.stride = np.int64(n_slots + 1)
        sort_key = key.astype(np.int64) * self.stride + slot
        order = np.argsort(sort_key, kind="stable")
        self.order = order
        self.sort_key = sort_key[order]
        # values: (n_stats, n_appearances); cum[:, p] = sum of the first p sorted appearances
        self.cum = np.zeros((values.shape[0], len(order) + 1), dtype=np.int64)
        np.cumsum(values[:, order], axis=1, dtype=np.int64, out=self.cum[:, 1:])

    def locate(self, key: np.ndarray, slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(end, first): the query's visible appearances are sorted positions [first, end)."""
        key = key.astype(np.int64) * self.stride
        end = np.searchsorted(self.sort_key, key + slot, side="left")
        first = np.searchsorted(self.sort_key, key, side="left")
        return end, first

    def sums(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """(n_stats, n_queries) sums over the sorted positions [lo, hi)."""
        return np.take(self.cum, hi, axis=1) - np.take(self.cum, lo, axis=1)


def _appearance_values(
    rows: np.ndarray,
    goals_for: np.ndarray,
    goals_against: np.ndarray,
    shots: tuple[tuple[np.ndarray, np.ndarray], ...],
) -> np.ndarray:
    """Per-appearance int64 rows: points, gf, ga, shots_f, shots_a, sot_f, sot_a, then the
    availability (0/1) of the four shot statistics."""
    gf = goals_for[rows]
    ga = goals_against[rows]
    points = np.where(gf > ga, 3, np.where(gf == ga, 1, 0))
    stats = [points, gf, ga] + [values[rows] for values, _ in shots]
    stats += [available[rows] for _, available in shots]
    return np.stack(stats).astype(np.int64)


def form_features(
    frame: pd.DataFrame, home: np.ndarray, away: np.ndarray, slot: np.ndarray, played: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Rolling form (``FORM_COLUMNS``) and rest days."""
    n_slots = int(slot[-1]) + 1 if len(slot) else 1
    kick = kickoff_ns(frame["kickoff"])
    rows = np.flatnonzero(played)
    hg, _ = int_values(frame["fthg"])
    ag, _ = int_values(frame["ftag"])
    sh_h = int_values(frame["home_shots"])
    sh_a = int_values(frame["away_shots"])
    sot_h = int_values(frame["home_shots_on_target"])
    sot_a = int_values(frame["away_shots_on_target"])
    home_values = _appearance_values(rows, hg, ag, (sh_h, sh_a, sot_h, sot_a))
    away_values = _appearance_values(rows, ag, hg, (sh_a, sh_h, sot_a, sot_h))
    n_stats = len(FORM_STATS)

    def windows(
        history: _History, team: np.ndarray, prefix: str, out: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Window means of every query; returns (query order, end, first) in query order.

        Queries are processed sorted by (team, slot) so that the searches and gathers walk
        memory in order; results are scattered back to row order.
        """
        query_order = np.argsort(team.astype(np.int64) * history.stride + slot, kind="stable")
        end, first = history.locate(team[query_order], slot[query_order])
        for window in FORM_WINDOWS:
            lo = np.maximum(end - window, first)
            sums = history.sums(lo, end)
            matches = end - lo
            for j, stat in enumerate(FORM_STATS):
                count = matches if j < 3 else sums[n_stats + j - 3]  # shots: matches that have them
                mean = np.full(len(team), np.nan)
                np.divide(sums[j], count, out=mean, where=count > 0)
                scattered = np.empty(len(team))
                scattered[query_order] = mean
                out[f"{prefix}form{window}_{stat}"] = scattered
        return query_order, end, first

    form: dict[str, np.ndarray] = {}
    schedule: dict[str, np.ndarray] = {}
    both = _History(
        np.concatenate([home[rows], away[rows]]),
        np.concatenate([slot[rows], slot[rows]]),
        np.concatenate([home_values, away_values], axis=1),
        n_slots,
    )
    both_kick = np.concatenate([kick[rows], kick[rows]])[both.order]  # for the rest days
    for side, team in (("home", home), ("away", away)):
        query_order, end, first = windows(both, team, f"{side}_", form)
        rest = np.full(len(team), np.nan)
        if len(both_kick):
            previous = both_kick[np.maximum(end - 1, 0)]
            np.divide(kick[query_order] - previous, _NS_PER_DAY, out=rest, where=end > first)
        schedule[f"{side}_rest_days"] = np.empty(len(team))
        schedule[f"{side}_rest_days"][query_order] = rest
    windows(_History(home[rows], slot[rows], home_values, n_slots), home, "home_home_", form)
    windows(_History(away[rows], slot[rows], away_values, n_slots), away, "away_away_", form)
    return form, schedule
