"""League-season partitions in the canonical schema (:func:`simulate_partition`) and whole
played histories (:func:`simulate_history`), with lineage."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from footcast.data import schema
from footcast.data.simulator.leagues import FIRST_SEASON, SimulatedLeague, country_teams, simulated_league
from footcast.data.simulator.odds import MarketDraws, market_draws, price_odds
from footcast.data.simulator.outcomes import country_season, match_statistics
from footcast.data.simulator.schedule import kickoff_calendar
from footcast.data.simulator.streams import S_OUTPUT, random_stream

# Last season of the played history written by :func:`simulate_history` (fixed, so that the
# history does not depend on the day it is generated).
HISTORY_LAST_SEASON: int = 2024
SOURCE = "simulator"


_RESULT_CODES = np.array(["A", "D", "H"], dtype=object)
_HEX_SHIFTS = (4 * np.arange(15, -1, -1)).astype(np.uint64)


def _hex_keys(match_ids: np.ndarray) -> np.ndarray:
    """uint64 of 16-hex-digit match ids: sorts exactly like the ids."""
    digits = np.array(match_ids.tolist(), dtype="S16").view(np.uint8).reshape(-1, 16)
    nibbles = np.where(digits >= ord("a"), digits - (ord("a") - 10), digits - ord("0")).astype(np.uint64)
    return np.bitwise_or.reduce(nibbles << _HEX_SHIFTS, axis=1)


def _validate(league: str, season: int, seed: int) -> SimulatedLeague:
    spec = simulated_league(league)
    if not isinstance(season, int | np.integer) or season < FIRST_SEASON:
        raise ValueError(f"simulated seasons are ints from {FIRST_SEASON}, got {season!r}")
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return spec


def _match_core(league: str, season: int, seed: int) -> tuple[dict[str, np.ndarray], MarketDraws]:
    """Every match of a league-season (unsorted, no odds yet) and the draws its odds are made of."""
    spec = simulated_league(league)
    state = country_season(spec.country_index, season, seed, spec.n_teams, spec.exchange)
    ls = state.leagues[spec.tier - 1]
    n, per_round = len(ls.home), spec.n_teams // 2

    calendar = kickoff_calendar(spec.tier, spec.n_teams, season, seed)
    rng = random_stream(seed, S_OUTPUT, spec.country_index, season, spec.tier)  # one stream, fixed order
    shuffle = rng.random(n)
    by_round = np.lexsort((shuffle, ls.round))
    kickoff = np.empty(n, dtype=np.int64)
    kickoff[by_round] = calendar[ls.round[by_round], np.arange(n) % per_round]

    names = country_teams(spec.country_index, 2 * spec.n_teams)
    home_team, away_team = names[ls.home], names[ls.away]
    match_id = np.array(
        [schema.make_match_id(league, season, h, a) for h, a in zip(home_team, away_team, strict=True)],
        dtype=object,
    )
    cols: dict[str, np.ndarray] = {
        "match_id": match_id,
        "kickoff": kickoff,
        "home_team": home_team,
        "away_team": away_team,
        "fthg": ls.fthg,
        "ftag": ls.ftag,
        "ftr": _RESULT_CODES[np.sign(ls.fthg - ls.ftag) + 1],
        # What the scores were drawn from (not a schema column: only the xG feed reads them).
        "expected_home_goals": ls.lam_h,
        "expected_away_goals": ls.lam_a,
    }
    cols.update(match_statistics(ls, rng))
    cols["htr"] = _RESULT_CODES[np.sign(cols["hthg"] - cols["htag"]) + 1]
    return cols, market_draws(ls, state.market_error, season, rng)


def _build_partitions(keys: list[tuple[str, int]], seed: int) -> list[dict[str, np.ndarray]]:
    """Full league-seasons as column arrays, each sorted by kickoff then match_id.

    The odds arithmetic runs once over all of them; every random draw still comes from the
    partition's own streams, so a partition is the same whatever it is built with."""
    cores = [_match_core(league, season, seed) for league, season in keys]
    odds = price_odds([draws for _cols, draws in cores])
    parts = []
    for (cols, _draws), prices in zip(cores, odds, strict=True):
        cols.update(prices)
        cols["_key"] = _hex_keys(cols["match_id"])
        order = np.lexsort((cols["_key"], cols["kickoff"]))
        part = {}
        for name, values in cols.items():
            values = values[order]
            values.flags.writeable = False
            part[name] = values
        parts.append(part)
    return parts


@lru_cache(maxsize=64)
def _partition_arrays(league: str, season: int, seed: int) -> dict[str, np.ndarray]:
    return _build_partitions([(league, season)], seed)[0]


def simulated_matches(league: str, season: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Every match of a simulated league-season, played or not, as read-only column arrays in
    the partition's order (kickoff, then match id): the schema's columns the simulator fills
    (``kickoff`` as int64 UTC nanoseconds), plus ``expected_home_goals`` and
    ``expected_away_goals``, the Poisson means the scores were drawn from."""
    spec = _validate(league, season, seed)
    return _partition_arrays(spec.code, int(season), int(seed))


def _digest(cols: dict[str, np.ndarray], columns: tuple[str, ...]) -> str:
    """sha256 over the partition's canonical content (column names and values, in order)."""
    digest = hashlib.sha256()
    for name in columns:
        if name in schema.LINEAGE_COLUMNS or name not in cols:
            continue
        values = cols[name]
        digest.update(name.encode() + b"\x1e")
        if values.dtype == object:
            digest.update("\x1f".join(values.tolist()).encode())
        else:
            digest.update(np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).tobytes())
    return digest.hexdigest()


def _with_lineage(cols: dict[str, np.ndarray], columns: tuple[str, ...], league: str, season: int) -> dict:
    n = len(cols["match_id"])
    out = {name: cols[name] for name in columns if name in cols}
    out["source"] = np.full(n, SOURCE, dtype=object)
    out["source_url"] = np.full(n, f"simulator://{league}/{schema.season_key(season)}", dtype=object)
    out["content_hash"] = np.full(n, _digest(cols, columns), dtype=object)
    out["source_line"] = np.arange(1, n + 1)
    return out


def _to_frame(cols: dict[str, np.ndarray], columns: tuple[str, ...]) -> pd.DataFrame:
    """Canonical frame (through schema.conform) from column arrays; unquoted books are null."""
    n = len(cols["match_id"])
    data: dict[str, object] = {}
    for name in columns:
        values = cols.get(name)
        if name == "kickoff":
            data[name] = pd.DatetimeIndex(np.asarray(values, dtype="datetime64[ns]")).tz_localize("UTC")
        elif name == "kickoff_time_known":
            data[name] = np.ones(n, dtype=bool)
        elif values is not None:
            data[name] = values
        elif name in schema.FLOAT_COLUMNS:  # a float null column beats conform's object default
            data[name] = np.full(n, np.nan)
    return schema.conform(pd.DataFrame(data), columns)


def _utc_ns(moment: datetime | pd.Timestamp) -> int:
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.as_unit("ns").value


def simulate_partition(
    league: str, season: int, as_of: datetime | None = None, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(played, upcoming) of one simulated league-season.

    ``played``: matches with kickoff < ``as_of``, conformed to ``schema.MATCH_COLUMNS``;
    ``upcoming``: matches with kickoff >= ``as_of``, conformed to ``schema.FIXTURE_COLUMNS`` (no
    results; opening odds only, closing odds null). ``as_of`` None means everything is played; a
    naive ``as_of`` is taken as UTC. Deterministic for the same (league, season, seed, as_of);
    a match has the same id, kickoff, result and opening odds whatever ``as_of`` is.
    """
    spec = _validate(league, season, seed)
    cols = _partition_arrays(spec.code, int(season), int(seed))
    if as_of is None:
        played_mask = np.ones(len(cols["kickoff"]), dtype=bool)
    else:
        played_mask = cols["kickoff"] < _utc_ns(as_of)
    played = {name: values[played_mask] for name, values in cols.items()}
    upcoming = {name: values[~played_mask] for name, values in cols.items() if "_close_" not in name}
    frames = []
    for part, columns in ((played, schema.MATCH_COLUMNS), (upcoming, schema.FIXTURE_COLUMNS)):
        part = _with_lineage(part, columns, spec.code, int(season))
        part["league"] = np.full(len(part["match_id"]), spec.code, dtype=object)
        part["season"] = np.full(len(part["match_id"]), int(season))
        frames.append(_to_frame(part, columns))
    return frames[0], frames[1]


def _history_partitions(n_matches: int, last_season: int) -> list[tuple[str, int]]:
    """League-seasons of a history of about n_matches: most recent seasons first, fewest countries."""
    per_league_season = 20 * 19
    wanted = max(1, round(n_matches / per_league_season))
    seasons = last_season - FIRST_SEASON + 1
    countries = math.ceil(wanted / (2 * seasons))
    chosen = [
        (f"SIM{2 * country + tier}", season)
        for season in range(last_season, FIRST_SEASON - 1, -1)
        for country in range(countries)
        for tier in (1, 2)
    ][:wanted]
    return chosen


def simulate_history(
    n_matches: int, seed: int = 0, *, last_season: int = HISTORY_LAST_SEASON
) -> pd.DataFrame:
    """A played history of about ``n_matches`` canonical rows (within half a league-season).

    Whole league-seasons of ``SIM1``, ``SIM2``, then ``SIM3``/``SIM4``... (pairs of tiers of
    further countries, as many as needed), from ``last_season`` backwards. Rows are identical to
    those :func:`simulate_partition` returns for the same league, season and seed (lineage
    included), sorted by kickoff then match_id.
    """
    if n_matches < 0:
        raise ValueError(f"n_matches must be >= 0, got {n_matches}")
    if last_season < FIRST_SEASON:
        raise ValueError(f"last_season must be >= {FIRST_SEASON}, got {last_season}")
    if n_matches == 0:
        empty = {"match_id": np.empty(0, dtype=object), "kickoff": np.empty(0, dtype=np.int64)}
        return _to_frame(empty, schema.MATCH_COLUMNS)
    keys = _history_partitions(n_matches, last_season)
    for league, season in keys:
        _validate(league, season, seed)
    built = [
        part
        for start in range(0, len(keys), 64)
        for part in _build_partitions(keys[start : start + 64], int(seed))
    ]
    parts = []
    for (league, season), cols in zip(keys, built, strict=True):
        part = _with_lineage(cols, schema.MATCH_COLUMNS, league, season)
        part["_key"] = cols["_key"]
        part["league"] = np.full(len(part["match_id"]), league, dtype=object)
        part["season"] = np.full(len(part["match_id"]), season)
        parts.append(part)
    cols = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    order = np.lexsort((cols["_key"], cols["kickoff"]))
    return _to_frame({name: values[order] for name, values in cols.items()}, schema.MATCH_COLUMNS)
