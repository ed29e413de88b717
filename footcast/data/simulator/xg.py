"""The simulator's xG feed: Understat's match data for a simulated league-season, in the frame
:func:`footcast.data.understat.parse_league_data` returns, so the Understat layers, the team
registry's linking and the xG features run offline on the SIM leagues.

- Every match of the season is listed, played or not (as Understat's ``dates``); a match is
  played when its kickoff is before ``as_of``; an unplayed one has null goals and xG.
- xG: a side's chance quality in a match is drawn around the expected goals its score was drawn
  from (Gamma with mean lambda and shape :data:`XG_SHAPE`), and its goals are about Poisson
  around that xG; so xG is drawn from its distribution given the simulated goals,
  ``Gamma(XG_SHAPE + goals, rate XG_SHAPE / lambda + 1)``: never negative, correlated with the
  goals (about 0.6 per side and match, Understat's own figure) and carrying the team strengths
  behind lambda that goals show only through their noise. Rounded to two decimals, within
  (0, 10). A match's xG is the same whatever ``as_of`` is (one random stream per league-season,
  drawn for every match in a fixed order).
- Names: Understat spells about one team in three otherwise than football-data does
  (``Manchester United`` for ``Man United``); here a long form of the simulator's name,
  ``"<name> FC"`` or ``"AFC <town>"`` (:func:`understat_name`), so the team registry has names
  to resolve. Team ids are stable per team; match ids are numeric strings.
- ``post_match_forecast_*`` (Understat's forecast, computed after the match) stays null.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import numpy as np
import pandas as pd

from footcast.data import schema, understat
from footcast.data.simulator.leagues import country_teams, simulated_league
from footcast.data.simulator.partitions import simulated_matches
from footcast.data.simulator.streams import S_XG, random_stream

# Gamma shape of a side's xG around its expected goals: 3 gives Understat's spread (sd about
# 1.0 per side and match) and correlation with goals (0.6).
XG_SHAPE = 3.0
MIN_XG, MAX_XG = 0.01, 9.99

# Understat's spelling of a team, by a stable hash of its name: bucket -> form.
_NAME_BUCKETS = 6
_SUFFIXED, _PREFIXED = 0, 1


def understat_name(team: str) -> str:
    """The title the xG feed gives a simulated team: its own name for two teams in three, else
    a long form, ``"Oakford United FC"`` or ``"AFC Oakford"`` (``"Oakford Football Club"`` for a
    club already called ``"Oakford FC"``)."""
    bucket = int(hashlib.sha1(team.encode()).hexdigest(), 16) % _NAME_BUCKETS
    town, _sep, word = team.rpartition(" ")
    if bucket == _SUFFIXED:
        return f"{town} Football Club" if word == "FC" else f"{team} FC"
    if bucket == _PREFIXED:
        return f"AFC {town}"
    return team


def _team_ids(league: str, teams: np.ndarray) -> np.ndarray:
    """Stable numeric ids of a country's teams (unique across countries)."""
    spec = simulated_league(league)
    names = country_teams(spec.country_index, 2 * spec.n_teams)
    first = 100 + spec.country_index * len(names)
    index = {name: str(first + i) for i, name in enumerate(names)}
    return np.array([index[team] for team in teams], dtype=object)


def _draw_xg(cols: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    sides = []
    for goals, expected in (
        (cols["fthg"], cols["expected_home_goals"]),
        (cols["ftag"], cols["expected_away_goals"]),
    ):
        xg = rng.gamma(XG_SHAPE + goals, 1.0 / (XG_SHAPE / expected + 1.0))
        sides.append(np.clip(np.round(xg, 2), MIN_XG, MAX_XG))
    return sides[0], sides[1]


def simulate_understat_partition(
    league: str, season: int, as_of: datetime | pd.Timestamp | None = None, seed: int = 0
) -> pd.DataFrame:
    """Every match of a simulated league-season as Understat's league data parses
    (``understat.UNDERSTAT_COLUMNS``, without ``fetched_at``), in kickoff order; those with a
    kickoff at or after ``as_of`` unplayed (None: all played; naive means UTC)."""
    cols = simulated_matches(league, season, seed)
    spec = simulated_league(league)
    n = len(cols["match_id"])
    rng = random_stream(seed, S_XG, spec.country_index, int(season), spec.tier)
    home_xg, away_xg = _draw_xg(cols, rng)
    kickoff = pd.DatetimeIndex(np.asarray(cols["kickoff"], dtype="datetime64[ns]")).tz_localize("UTC")
    if as_of is None:
        played = np.ones(n, dtype=bool)
    else:
        moment = pd.Timestamp(as_of)
        moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
        played = np.asarray(kickoff < moment)
    number = int(league.removeprefix("SIM"))
    frame = pd.DataFrame(
        {
            "understat_id": [f"{number}{int(season)}{i:04d}" for i in range(1, n + 1)],
            "league": league,
            "season": int(season),
            "kickoff": kickoff,
            "home_team": [understat_name(team) for team in cols["home_team"]],
            "away_team": [understat_name(team) for team in cols["away_team"]],
            "home_team_understat_id": _team_ids(league, cols["home_team"]),
            "away_team_understat_id": _team_ids(league, cols["away_team"]),
            "is_result": played,
            "home_goals": pd.array(np.where(played, cols["fthg"], 0), dtype="Int64"),
            "away_goals": pd.array(np.where(played, cols["ftag"], 0), dtype="Int64"),
            "home_xg": pd.array(home_xg, dtype="Float64"),
            "away_xg": pd.array(away_xg, dtype="Float64"),
            "source_url": f"simulator://{league}/{schema.season_key(int(season))}/xg",
            "source_index": np.arange(1, n + 1),
        }
    )
    for column in (*understat.GOAL_COLUMNS, *understat.XG_COLUMNS):
        frame.loc[~played, column] = pd.NA
    content = frame.drop(columns="source_url").to_csv(index=False).encode()
    frame["content_hash"] = hashlib.sha256(content).hexdigest()
    return understat.conform(frame)
