"""The features and their column lists.

Features (all float64)
----------------------
Ratings (formulas and constants in :mod:`footcast.models.ratings`):

- ``elo_home``, ``elo_away``: Elo ratings (start 1500) before the match; ``elo_diff`` =
  home - away + home advantage; ``elo_p_home/draw/away``: Elo-implied probabilities
  (Davidson mapping of ``elo_diff``) = ``ELO_BASELINE_COLUMNS``. A team's first match of a
  new season is rated after regressing 10% toward the mean of its (new) league; a team never
  seen before starts at 1500, or, joining a league that already has an earlier season of
  history, 50 points below that league's current mean (promoted sides are weaker).
- ``pi_home_home`` (home team's home rating), ``pi_home_away`` (its away rating),
  ``pi_away_home``, ``pi_away_away``; ``pi_diff`` = pi_home_home - pi_away_away;
  ``pi_exp_gd``: the pi-rating expected goal difference. New teams start at 0.
- ``xg_home_model``, ``xg_away_model``: expected goals of the dynamic goals model;
  ``goals_p_home/draw/away``: its Poisson outcome probabilities.
- ``league_home_goals``, ``league_away_goals``, ``league_home_win_rate``,
  ``league_draw_rate``: exponentially weighted league averages (with a prior; never NaN).

Schedule and table (per league-season unless noted):

- ``home_rest_days``/``away_rest_days``: days since the team's previous played match in any
  league (NaN for its first match in the data).
- ``*_season_played``: matches played in this league-season (0 before the first).
- ``*_season_ppg``, ``*_season_gdpg``: points and goal difference per game this
  league-season (NaN before the team's first match of the league-season).
- ``*_table_pos``: position in the league-season table (points, goal difference, goals
  scored) as of before the match, ties sharing their average rank, normalised to [0, 1]
  (0 = top, 1 = bottom, 0.5 when everyone is level or the table has a single team). A team
  without a match yet is ranked with zero points among the teams that have played.
- ``*_promoted``: 1 if the team did not play in this league the previous season, 0 if it did,
  NaN when the league has no played match in the previous season.

Recent form over the team's last N played matches, N in ``FORM_WINDOWS`` (3, 5, 10), any
league: ``home_form{N}_{stat}`` and ``away_form{N}_{stat}``; and venue-specific form over the
home team's last N home matches (``home_home_form{N}_{stat}``) and the away team's last N away
matches (``away_away_form{N}_{stat}``). Stats (means per match): ``ppg`` (points), ``gf``,
``ga`` (goals for/against), ``shots_f``, ``shots_a``, ``sot_f``, ``sot_a`` (shots and shots on
target for/against). NaN when the team has no earlier match in that scope; the shot means
average the matches of the window that have the statistic and are NaN when none has.

Expected goals (xG, from a second source joined by ``match_id``; computed in
:mod:`footcast.models.features.xg`, which documents the constants and how they were chosen).
A team's rolling xG means are NaN unless its latest played match before the row (any league)
has xG (the xG rating's availability is below): a team without xG history, a league the source
does not cover, or a gap in the source (Bundesliga 2021/22 after 12 December 2021 in the
development copy) gives missing values, never zeros. Only played matches with both teams' xG
move the means; the row's own xG never counts, so a fixture gets the features its match gets
once played.

- ``home_xg_for``, ``home_xg_against``, ``away_xg_for``, ``away_xg_against``: exponentially
  weighted means (weight 0.05 on the latest match) of the team's xG and of its opponents' xG
  over its earlier matches with xG, any venue and league, across seasons;
- ``home_home_xg_for``/``_against`` (the home team's home matches), ``away_away_xg_for``/
  ``_against`` (the away team's away matches): the same over one venue (NaN until the team has
  a match with xG at that venue);
- ``xg_rating_home_goals``, ``xg_rating_away_goals``: expected goals of the xG rating, an
  online Poisson attack/defence rating (the goals model's form) learning from 0.7 x xG + 0.3 x
  goals, with the league's exponentially weighted mean xG at home and away; NaN unless the
  league has xG history and both teams had a match with xG this season or the last (a gap in
  the source does not remove it: the rating learns the gap's goals);
  ``xg_rating_p_home/draw/away``: its Poisson outcome probabilities (``XG_RATING_COLUMNS``; the
  no-market model boosts from them, ``training.XG_PRIOR``).

Market (``market_open_*`` from opening = pre-closing prices; ``market_close_*`` from closing
prices). The first bookmaker of ``market.BOOK_PREFERENCE`` (ps, avg, b365, bw, iw, wh, vc, lb, sj;
"max" is never used: best prices across books are not one book's coherent price set) with a
complete triple of prices > 1 supplies the prices. Margin removal: Shin's method
(:func:`footcast.models.ratings.remove_margin_shin`; proportional normalisation when a
booksum is not above 1).

- ``market_{open,close}_p_home/draw/away``: margin-free probabilities (NaN if unavailable);
- ``market_{open,close}_overround``: booksum - 1 of the chosen book (NaN if unavailable);
- ``market_{open,close}_available``: 1.0 / 0.0.

``MODEL_FEATURES`` = every feature except ``market_close_*``; ``NO_MARKET_FEATURES`` =
``MODEL_FEATURES`` without ``market_open_*``; ``MARKET_BASELINE_COLUMNS`` = the open and
close margin-free probabilities; ``XG_COLUMNS``: the xG features (what the ``*_without_xg``
ablations of ``footcast evaluate`` leave out).
"""

from __future__ import annotations

from footcast.data import schema

FEATURE_SET_VERSION = "fs-3"  # fs-2: the xG features; fs-3: the xG rating through source gaps

FORM_WINDOWS: tuple[int, ...] = (3, 5, 10)
FORM_STATS: tuple[str, ...] = ("ppg", "gf", "ga", "shots_f", "shots_a", "sot_f", "sot_a")

ELO_BASELINE_COLUMNS: tuple[str, ...] = ("elo_p_home", "elo_p_draw", "elo_p_away")
ELO_COLUMNS: tuple[str, ...] = ("elo_home", "elo_away", "elo_diff") + ELO_BASELINE_COLUMNS
PI_COLUMNS: tuple[str, ...] = (
    "pi_home_home",
    "pi_home_away",
    "pi_away_home",
    "pi_away_away",
    "pi_diff",
    "pi_exp_gd",
)
GOALS_MODEL_COLUMNS: tuple[str, ...] = (
    "xg_home_model",
    "xg_away_model",
    "goals_p_home",
    "goals_p_draw",
    "goals_p_away",
)
LEAGUE_COLUMNS: tuple[str, ...] = (
    "league_home_goals",
    "league_away_goals",
    "league_home_win_rate",
    "league_draw_rate",
)
SCHEDULE_COLUMNS: tuple[str, ...] = tuple(
    f"{side}_{name}"
    for name in ("rest_days", "season_played", "season_ppg", "season_gdpg", "table_pos", "promoted")
    for side in ("home", "away")
)
FORM_COLUMNS: tuple[str, ...] = tuple(
    f"{side}_{scope}form{window}_{stat}"
    for side in ("home", "away")
    for scope in ("", f"{side}_")
    for window in FORM_WINDOWS
    for stat in FORM_STATS
)
XG_RATING_COLUMNS: tuple[str, ...] = ("xg_rating_p_home", "xg_rating_p_draw", "xg_rating_p_away")
XG_COLUMNS: tuple[str, ...] = (
    "home_xg_for",
    "home_xg_against",
    "away_xg_for",
    "away_xg_against",
    "home_home_xg_for",
    "home_home_xg_against",
    "away_away_xg_for",
    "away_away_xg_against",
    "xg_rating_home_goals",
    "xg_rating_away_goals",
    *XG_RATING_COLUMNS,
)
MARKET_OPEN_COLUMNS: tuple[str, ...] = (
    "market_open_p_home",
    "market_open_p_draw",
    "market_open_p_away",
    "market_open_overround",
    "market_open_available",
)
MARKET_CLOSE_COLUMNS: tuple[str, ...] = tuple(c.replace("_open_", "_close_") for c in MARKET_OPEN_COLUMNS)
MARKET_BASELINE_COLUMNS: tuple[str, ...] = MARKET_OPEN_COLUMNS[:3] + MARKET_CLOSE_COLUMNS[:3]

FEATURE_COLUMNS: tuple[str, ...] = (
    ELO_COLUMNS
    + PI_COLUMNS
    + GOALS_MODEL_COLUMNS
    + LEAGUE_COLUMNS
    + SCHEDULE_COLUMNS
    + FORM_COLUMNS
    + XG_COLUMNS
    + MARKET_OPEN_COLUMNS
    + MARKET_CLOSE_COLUMNS
)
MODEL_FEATURES: tuple[str, ...] = tuple(c for c in FEATURE_COLUMNS if c not in MARKET_CLOSE_COLUMNS)
NO_MARKET_FEATURES: tuple[str, ...] = tuple(c for c in MODEL_FEATURES if c not in MARKET_OPEN_COLUMNS)

OUTPUT_KEY_COLUMNS: tuple[str, ...] = (*schema.IDENTITY_COLUMNS, "played", "result")
