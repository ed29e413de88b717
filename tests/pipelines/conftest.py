"""Fixtures of the orchestration tests: a scratch PostgreSQL database for a Dagster instance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import require_service, unique_name


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server for the Dagster instance; dropped after."""
    import sqlalchemy as sa

    base = sa.engine.make_url(require_service("FOOTCAST_TEST_POSTGRES_URL"))
    name = unique_name("footcast_orch")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
