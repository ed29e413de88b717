"""Which leagues the automation keeps current (those with validated matches, or those pinned),
and what the warehouse holds per league."""

from __future__ import annotations

import pandas as pd

from footcast import config
from footcast.adapters.warehouse import Warehouse, matches
from footcast.data import catalogue


def tracked_leagues(warehouse: Warehouse) -> list[str]:
    """Leagues with validated matches: the ones fixtures are fetched and predicted for."""
    return warehouse.distinct(matches, "league")


def scheduled_leagues(warehouse: Warehouse) -> list[str]:
    """Leagues whose current season is refreshed daily (FOOTCAST_SCHEDULE_LEAGUES or the tracked ones)."""
    pinned = config.schedule_leagues()
    if pinned is not None:
        return [catalogue.league(code).code for code in pinned]
    return tracked_leagues(warehouse)


def holdings(warehouse: Warehouse) -> dict[str, dict[str, object]]:
    """What the warehouse holds per league: validated seasons, matches and the last match's
    kickoff (UTC, ISO), for the leagues that have any."""
    import sqlalchemy as sa

    query = sa.select(
        matches.c.league,
        sa.func.count(sa.distinct(matches.c.season)),
        sa.func.count(),
        sa.func.max(matches.c.kickoff),
    ).group_by(matches.c.league)
    with warehouse.engine.connect() as conn:
        rows = conn.execute(query).all()
    out: dict[str, dict[str, object]] = {}
    for league, seasons, count, last in rows:
        last_kickoff = pd.Timestamp(last).tz_localize("UTC") if last is not None else None
        out[league] = {
            "seasons": int(seasons),
            "matches": int(count),
            "last_match": last_kickoff.isoformat() if last_kickoff is not None else None,
        }
    return out
