"""Expected goals per football-data match: Understat's xG joined through the match links.

The features read xG by football-data ``match_id`` (``footcast.models.features.xg``). Only
linked, played Understat matches give xG: a link is made by the registry's teams, the kickoff
day and the score (``footcast.data.linking``), so the home side of a linked Understat match is
the home side of its football-data match. A match without a link, or whose Understat row has
no xG, has no row here (its xG features are missing, never zero).

Understat's ``post_match_forecast_*`` columns are not read: they are computed after the match
from its own xG.
"""

from __future__ import annotations

import pandas as pd

from footcast.adapters.warehouse import Warehouse, understat_links, understat_matches

XG_COLUMNS = ("match_id", "home_xg", "away_xg")


def linked_xg(warehouse: Warehouse) -> pd.DataFrame:
    """One row per linked played match with xG: ``match_id`` (football-data's), ``home_xg``,
    ``away_xg`` (floats)."""
    links = warehouse.read(understat_links, columns=["understat_id", "league", "season", "match_id"])
    links = links[links["match_id"].notna()]
    if links.empty:
        return pd.DataFrame({"match_id": pd.Series(dtype=object), "home_xg": [], "away_xg": []})
    xg = warehouse.read(
        understat_matches,
        columns=["understat_id", "league", "season", "is_result", "home_xg", "away_xg"],
    )
    joined = links.merge(xg, on=["understat_id", "league", "season"], how="inner")
    joined = joined[joined["is_result"].eq(True)]
    joined = joined.dropna(subset=["home_xg", "away_xg"])
    # A football-data match has at most one link (linking is one to one); keep one row if a
    # re-linked partition ever left two.
    joined = joined.drop_duplicates("match_id", keep="last")
    return pd.DataFrame(
        {
            "match_id": joined["match_id"].astype(str).to_numpy(),
            "home_xg": joined["home_xg"].astype(float).to_numpy(),
            "away_xg": joined["away_xg"].astype(float).to_numpy(),
        }
    )
