"""League-season table features (vectorised, exact): played, points and goal difference per game,
table position, and whether a team was promoted."""

from __future__ import annotations

import numpy as np

# Table sort key: points, then goal difference, then goals scored, packed in one int64
# (exact while |goal difference| and goals scored stay below 10**5 in a league-season).
_KEY_PTS = 10**11
_KEY_GD = 10**5
_KEY_BASE = _KEY_GD * _KEY_GD  # zero points, zero goal difference, zero goals
_KEY_ABSENT = -1  # a team of the league-season without a played match yet
_TABLE_BATCH_CELLS = 1_000_000


def table_features(
    league_season: np.ndarray,
    slot: np.ndarray,
    home: np.ndarray,
    away: np.ndarray,
    played: np.ndarray,
    home_goals: np.ndarray,
    away_goals: np.ndarray,
    n_teams: int,
) -> dict[str, np.ndarray]:
    """Season played/ppg/gdpg and normalised table position of both teams, as of before the row.

    For each league-season a matrix (kickoff slots of the league-season x its teams) holds each
    team's packed table key (points, goal difference, goals for) summed over the played rows
    of strictly earlier slots; a row's position counts the teams above and level with it in
    its slot's matrix row. Integer arithmetic throughout.
    """
    n = len(slot)
    out = {
        f"{side}_{name}": np.full(n, np.nan)
        for name in ("season_played", "season_ppg", "season_gdpg", "table_pos")
        for side in ("home", "away")
    }
    if n == 0:
        return out
    # Rows of each league-season in slot order, and their matrix row (one per distinct slot).
    order = np.argsort(league_season, kind="stable")
    ls_sorted = league_season[order]
    slot_sorted = slot[order]
    new_row = np.ones(n, dtype=bool)
    new_row[1:] = (ls_sorted[1:] != ls_sorted[:-1]) | (slot_sorted[1:] != slot_sorted[:-1])
    matrix_row = np.empty(n, dtype=np.int64)
    matrix_row[order] = np.cumsum(new_row) - 1
    n_matrix_rows = int(matrix_row[order[-1]]) + 1
    ls_first_row = np.full(int(league_season.max()) + 1, -1, dtype=np.int64)
    new_ls = np.ones(n, dtype=bool)
    new_ls[1:] = ls_sorted[1:] != ls_sorted[:-1]
    ls_first_row[ls_sorted[new_ls]] = matrix_row[order[new_ls]]
    # Column of each (league-season, team).
    pair = np.concatenate([league_season * n_teams + home, league_season * n_teams + away])
    unique_pairs, pair_index = np.unique(pair, return_inverse=True)
    pair_ls = unique_pairs // n_teams
    pair_col = np.arange(len(unique_pairs)) - np.searchsorted(pair_ls, pair_ls, side="left")
    col = pair_col[pair_index]
    col_home, col_away = col[:n], col[n:]
    n_cols = int(pair_col.max()) + 1

    # Increments of the packed key and of the match count at (matrix row, column).
    rows = np.flatnonzero(played)
    gh, ga = home_goals[rows], away_goals[rows]
    pts_h = np.where(gh > ga, 3, np.where(gh == ga, 1, 0))
    pts_a = np.where(ga > gh, 3, np.where(gh == ga, 1, 0))
    key_h = pts_h * _KEY_PTS + (gh - ga) * _KEY_GD + gh
    key_a = pts_a * _KEY_PTS + (ga - gh) * _KEY_GD + ga

    # League-seasons are processed in batches of whole league-seasons (consecutive matrix
    # rows) so that the matrices stay small.
    ls_of_row = np.empty(n_matrix_rows, dtype=np.int64)
    ls_of_row[matrix_row] = league_season
    row_p = matrix_row[rows]
    col_home_p, col_away_p = col_home[rows], col_away[rows]
    budget = max(_TABLE_BATCH_CELLS // n_cols, 1)
    start = 0
    while start < n_matrix_rows:
        stop = min(start + budget, n_matrix_rows)
        if stop < n_matrix_rows and ls_first_row[ls_of_row[stop]] > start:
            stop = int(ls_first_row[ls_of_row[stop]])
        elif stop < n_matrix_rows:  # one league-season larger than the budget: take it whole
            stop = int(np.searchsorted(ls_of_row, ls_of_row[stop], side="right"))
        size = stop - start
        keys = np.zeros((size, n_cols), dtype=np.int64)
        counts = np.zeros((size, n_cols), dtype=np.int64)
        sel = (row_p >= start) & (row_p < stop)
        for cols_p, key_p in ((col_home_p, key_h), (col_away_p, key_a)):
            np.add.at(keys, (row_p[sel] - start, cols_p[sel]), key_p[sel])
            np.add.at(counts, (row_p[sel] - start, cols_p[sel]), 1)
        # Exclusive prefix sums down the rows, restarted at each league-season's first row.
        keys = np.cumsum(keys, axis=0) - keys
        counts = np.cumsum(counts, axis=0) - counts
        restart = ls_first_row[ls_of_row[start:stop]] - start
        keys -= keys[restart]
        counts -= counts[restart]
        table = np.where(counts > 0, keys + _KEY_BASE, _KEY_ABSENT)

        query = np.flatnonzero((matrix_row >= start) & (matrix_row < stop))
        at = matrix_row[query] - start
        table_rows = table[at]
        present = (table_rows != _KEY_ABSENT).sum(axis=1)
        for side, team_col in (("home", col_home), ("away", col_away)):
            c = team_col[query]
            played_before = counts[at, c]
            in_table = played_before > 0
            mine = np.where(in_table, table[at, c], _KEY_BASE)
            greater = (table_rows > mine[:, None]).sum(axis=1)
            level = (table_rows == mine[:, None]).sum(axis=1) + ~in_table
            total = present + ~in_table
            with np.errstate(invalid="ignore", divide="ignore"):
                position = np.where(total > 1, (greater + (level + 1) / 2.0 - 1.0) / (total - 1), 0.5)
                points = mine // _KEY_PTS
                goal_diff = (mine % _KEY_PTS) // _KEY_GD - _KEY_GD
                out[f"{side}_season_ppg"][query] = np.where(in_table, points / played_before, np.nan)
                out[f"{side}_season_gdpg"][query] = np.where(in_table, goal_diff / played_before, np.nan)
            out[f"{side}_season_played"][query] = played_before
            out[f"{side}_table_pos"][query] = position
        start = stop
    return out


def promotion_features(
    league: np.ndarray,
    season: np.ndarray,
    home: np.ndarray,
    away: np.ndarray,
    slot: np.ndarray,
    played: np.ndarray,
    n_teams: int,
) -> dict[str, np.ndarray]:
    """``*_promoted``: did the team play in this league in the previous season (before now)?"""
    n = len(slot)
    if n == 0:
        return {"home_promoted": np.full(0, np.nan), "away_promoted": np.full(0, np.nan)}
    offset = int(season.min()) - 1
    span = int(season.max()) - offset + 1
    ls_key = league.astype(np.int64) * span + (season - offset)
    never = np.iinfo(np.int64).max

    def first_slots(keys: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        unique, inverse = np.unique(keys, return_inverse=True)
        first = np.full(len(unique), never, dtype=np.int64)
        np.minimum.at(first, inverse, slots)
        return unique, first

    def lookup(table: tuple[np.ndarray, np.ndarray], keys: np.ndarray) -> np.ndarray:
        unique, first = table
        if len(unique) == 0:
            return np.full(len(keys), never, dtype=np.int64)
        pos = np.minimum(np.searchsorted(unique, keys), len(unique) - 1)
        return np.where(unique[pos] == keys, first[pos], never)

    rows = np.flatnonzero(played)
    leagues = first_slots(ls_key[rows], slot[rows])
    teams = first_slots(
        np.concatenate([ls_key[rows] * n_teams + home[rows], ls_key[rows] * n_teams + away[rows]]),
        np.concatenate([slot[rows], slot[rows]]),
    )
    previous = ls_key - 1
    league_known = lookup(leagues, previous) < slot
    out = {}
    for side, team in (("home", home), ("away", away)):
        was_there = lookup(teams, previous * n_teams + team) < slot
        out[f"{side}_promoted"] = np.where(league_known, np.where(was_there, 0.0, 1.0), np.nan)
    return out
