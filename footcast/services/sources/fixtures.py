"""What a fixtures list says, and which of its fixtures are still to be played."""

from __future__ import annotations

import hashlib

import pandas as pd

from footcast.data import schema


def fixtures_digest(fixtures: pd.DataFrame) -> str:
    """sha256 of what a fixtures list says: which matches, when, and their odds.

    Lineage and fetch times are left out, so re-downloading the same list gives the same digest
    and any change to a fixture or a price gives a new one.
    """
    columns = [c for c in schema.FIXTURE_COLUMNS if c not in schema.LINEAGE_COLUMNS]
    ordered = schema.conform(fixtures, schema.FIXTURE_COLUMNS)[columns].sort_values(
        ["league", "kickoff", "home_team", "away_team"], kind="stable"
    )
    return hashlib.sha256(ordered.to_csv(index=False).encode()).hexdigest()


def upcoming_only(fixtures: pd.DataFrame, played: pd.DataFrame) -> pd.DataFrame:
    """Fixtures with their final match ids, minus those already played.

    A pair that has already met this season (Scottish leagues meet up to four times) plays
    its next leg: the leg counts the pair's meetings played at least 12 hours before the
    fixture, so a listed fixture that has just been played keeps its first-leg id and is
    recognised as played.
    """
    if fixtures.empty:
        return fixtures
    keys = ["league", "season", "home_team", "away_team"]
    fixtures = fixtures.reset_index(drop=True)
    pairs = (
        fixtures[keys + ["kickoff"]]
        .reset_index()
        .merge(played[keys + ["kickoff"]].rename(columns={"kickoff": "played_kickoff"}), on=keys, how="inner")
    )
    earlier = pairs[pairs["played_kickoff"] < pairs["kickoff"] - pd.Timedelta(hours=12)]
    prior = earlier.groupby("index").size()
    fixtures["match_id"] = schema.assign_match_ids(fixtures, prior)
    return fixtures[~fixtures["match_id"].isin(set(played["match_id"]))].reset_index(drop=True)
