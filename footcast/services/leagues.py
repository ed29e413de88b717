"""Which leagues the automation keeps current: those with validated matches, or those pinned."""

from __future__ import annotations

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
