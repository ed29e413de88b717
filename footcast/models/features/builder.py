"""Assembling the feature frame (the point-in-time rules are in :mod:`footcast.models.features`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from footcast.models import ratings
from footcast.models.features.columns import FEATURE_COLUMNS
from footcast.models.features.form import form_features
from footcast.models.features.inputs import int_values, kickoff_ns, prepare
from footcast.models.features.market import market_features
from footcast.models.features.sequential import sequential_features
from footcast.models.features.table import promotion_features, table_features
from footcast.models.features.xg import xg_arrays, xg_features


def build_features(
    matches: pd.DataFrame | None, fixtures: pd.DataFrame | None = None, xg: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Point-in-time features of every played match and upcoming fixture.

    ``matches``: canonical played rows (``schema.MATCH_COLUMNS``; extra columns ignored,
    missing optional columns treated as null). ``fixtures``: canonical upcoming rows
    (``schema.FIXTURE_COLUMNS``) or None. ``xg``: expected goals of played matches, one row per
    football-data ``match_id`` with float ``home_xg`` and ``away_xg`` (NaN where the source has
    none; rows of other matches ignored), or None: every xG feature is then NaN. Returns one
    row per match and fixture, sorted by
    (kickoff, match_id), with ``OUTPUT_KEY_COLUMNS`` (``played`` bool; ``result`` 'H'/'D'/'A'
    from the full-time score, null for rows without a score) then ``FEATURE_COLUMNS``
    (float64, NaN where documented in :mod:`footcast.models.features.columns`).

    Raises ValueError for rows without a key (match_id, league, kickoff, teams) or with the same
    (kickoff, match_id) twice, and for an ``xg`` frame without those columns or with a match_id
    twice.
    """
    frame, odds = prepare(matches, fixtures)
    n = len(frame)
    played = frame["played"].to_numpy(dtype=bool)
    kick = kickoff_ns(frame["kickoff"])
    teams, team_names = pd.factorize(
        np.concatenate([frame["home_team"].to_numpy(dtype=object), frame["away_team"].to_numpy(dtype=object)])
    )
    n_teams = max(len(team_names), 1)
    home, away = teams[:n].astype(np.int64), teams[n:].astype(np.int64)
    league, league_names = pd.factorize(frame["league"].to_numpy(dtype=object))
    league = league.astype(np.int64)
    season = frame["season"].to_numpy(dtype=np.int64)
    league_season, _ = pd.factorize(league * 100_000 + season)
    hg, _ = int_values(frame["fthg"])
    ag, _ = int_values(frame["ftag"])
    # Dense rank of the kickoff: rows with the same slot are simultaneous.
    slot = np.concatenate(([0], np.cumsum(np.diff(kick) != 0))).astype(np.int64)[:n]

    features: dict[str, np.ndarray] = {}
    features.update(
        sequential_features(
            kick, league, season, home, away, played, hg, ag, n_teams, max(len(league_names), 1)
        )
    )
    goals_probs = ratings.poisson_outcome_probabilities(features["xg_home_model"], features["xg_away_model"])
    features["goals_p_home"] = goals_probs[:, 0].copy()
    features["goals_p_draw"] = goals_probs[:, 1].copy()
    features["goals_p_away"] = goals_probs[:, 2].copy()
    form, schedule = form_features(frame, home, away, slot, played)
    features.update(form)
    features.update(schedule)
    features.update(table_features(league_season.astype(np.int64), slot, home, away, played, hg, ag, n_teams))
    features.update(promotion_features(league, season, home, away, slot, played, n_teams))
    features.update(
        xg_features(
            kick,
            league,
            season,
            home,
            away,
            played,
            (hg, ag),
            xg_arrays(frame, xg),
            n_teams,
            max(len(league_names), 1),
        )
    )
    features.update(market_features(odds, n, "open"))
    features.update(market_features(odds, n, "close"))

    result = np.full(n, None, dtype=object)
    result[played & (hg > ag)] = "H"
    result[played & (hg == ag)] = "D"
    result[played & (hg < ag)] = "A"
    out = {
        "match_id": frame["match_id"],
        "league": frame["league"],
        "season": frame["season"],
        "kickoff": frame["kickoff"],
        "home_team": frame["home_team"],
        "away_team": frame["away_team"],
        "played": played,
        "result": pd.array(result, dtype="string"),
    }
    for column in FEATURE_COLUMNS:
        out[column] = features[column]
    return pd.DataFrame(out)
