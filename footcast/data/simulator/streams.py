"""Random streams: every draw comes from a stream keyed by (seed, country, season[, tier], purpose),
so a partition does not depend on what was simulated before it, or in which order."""

from __future__ import annotations

import numpy as np

# Random stream ids.
S_INIT, S_EVOLVE, S_DRIFT, S_FIXTURES, S_GOALS, S_TABLE, S_CALENDAR, S_OUTPUT = range(8)
S_XG = 8  # the xG feed (footcast.data.simulator.xg)


def random_stream(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))
