"""Partition writes replace exactly one partition, atomically, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pandas as pd
import pytest
import sqlalchemy as sa

from footcast.adapters.warehouse import matches, raw_matches
from tests.support import rows


def at_once(calls: list[Callable[[], object]]) -> list[BaseException]:
    """Run the calls in threads released together (a barrier); the exceptions they raised."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as exc:  # returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_replace_partition_touches_only_that_partition(warehouse):
    warehouse.replace_partition(raw_matches, {"league": "E0", "season": 2023}, rows("E0", 2023, 5))
    warehouse.replace_partition(raw_matches, {"league": "E0", "season": 2022}, rows("E0", 2022, 3))
    warehouse.replace_partition(raw_matches, {"league": "E0", "season": 2023}, rows("E0", 2023, 2, goals=4))
    assert warehouse.count(raw_matches, {"league": "E0", "season": 2022}) == 3
    back = warehouse.read_matches(raw_matches, {"league": "E0", "season": 2023})
    assert len(back) == 2 and back["fthg"].tolist() == [4, 4]
    assert str(back["kickoff"].dt.tz) == "UTC"
    assert back["kickoff"].iloc[0] == pd.Timestamp("2023-08-10 14:00", tz="UTC")
    assert back["odds_b365_open_h"].iloc[0] == pytest.approx(1.9)
    assert back["odds_ps_open_h"].isna().all()


def test_failed_partition_write_leaves_previous_version_intact(warehouse):
    where = {"league": "D1", "season": 2020}
    warehouse.replace_partition(matches, where, rows("D1", 2020, 4))
    bad = pd.concat([rows("D1", 2020, 3), rows("D1", 2020, 1)])  # duplicate match_id: unique index
    with pytest.raises(sa.exc.IntegrityError):
        warehouse.replace_partition(matches, where, bad)
    assert warehouse.count(matches, where) == 4


def test_rerun_is_idempotent(warehouse):
    where = {"league": "SIM1", "season": 2024}
    for _ in range(2):
        warehouse.replace_partition(matches, where, rows("SIM1", 2024, 6))
    assert warehouse.count(matches, where) == 6


def test_concurrent_writes_of_one_partition_never_mix_or_duplicate(warehouse):
    """A backfill and the daily schedule may write the same partition at once: the partition
    ends as one writer's complete version, never both (PostgreSQL's READ COMMITTED would let
    two DELETE-then-INSERT transactions both insert)."""
    where = {"league": "E0", "season": 2025}
    versions = [rows("E0", 2025, 5, goals=1), rows("E0", 2025, 5, goals=2)]

    def write(frame: pd.DataFrame) -> None:
        warehouse.replace_partition(raw_matches, where, frame)
        warehouse.replace_partition(matches, where, frame)

    for _round in range(8):
        assert at_once([lambda v=v: write(v) for v in versions]) == []
        for table in (raw_matches, matches):
            back = warehouse.read_matches(table, where)
            assert len(back) == 5 and back["match_id"].is_unique
            assert back["fthg"].nunique() == 1  # one writer's version, whole


def test_create_all_adds_the_columns_an_older_table_lacks(warehouse):
    """A warehouse of an older version gains new nullable columns (and the ones with a server
    default, filled for its existing rows) without losing a row."""
    from footcast.adapters.warehouse import quarantine

    old = sa.MetaData()
    added = {"findings", "raw_text", "quarantined_by"}
    sa.Table(
        "quarantine", old, *[sa.Column(c.name, c.type) for c in quarantine.columns if c.name not in added]
    )
    sa.Table(
        "raw_matches", old, *[sa.Column(c.name, c.type) for c in raw_matches.columns if c.name not in added]
    )
    with warehouse.engine.begin() as conn:
        for table in (raw_matches, quarantine):
            table.drop(conn)
        old.create_all(conn)
        conn.execute(
            old.tables["quarantine"].insert(),
            [
                {
                    "league": "E0",
                    "season": 2023,
                    "reasons": "goals_in_range",
                    "failed_values": "{}",
                    "quarantined_at": pd.Timestamp("2024-01-01").to_pydatetime(),
                }
            ],
        )
    warehouse.create_all()
    warehouse.create_all()  # idempotent
    inspector = sa.inspect(warehouse.engine)
    for table in (raw_matches, quarantine):
        stored = [c["name"] for c in inspector.get_columns(table.name, schema=warehouse.db_schema)]
        assert sorted(stored) == sorted(c.name for c in table.columns)
    back = warehouse.read(quarantine)
    assert back[["reasons", "quarantined_by"]].values.tolist() == [["goals_in_range", "validated"]]
    assert back["raw_text"].isna().all()
    warehouse.replace_partition(raw_matches, {"league": "E0", "season": 2023}, rows("E0", 2023, 2))
    assert warehouse.count(raw_matches) == 2


def test_processes_starting_at_once_on_a_new_warehouse_all_create_it(warehouse_target):
    """A backfill's runs, a schedule and the API may all start on a warehouse nobody created yet:
    each creates what is missing, and none fails because another created it first (PostgreSQL's
    CREATE SCHEMA/TABLE IF NOT EXISTS race each other without a lock)."""
    from footcast.adapters.warehouse import Warehouse

    url, schema_name = warehouse_target
    for _round in range(3):
        stores = [Warehouse(url, schema_name) for _ in range(6)]
        assert at_once([store.create_all for store in stores]) == []
        assert stores[0].read_matches(matches).empty  # created, and readable
        for store in stores:
            store.engine.dispose()
        if schema_name:  # start the next round from nothing again
            stores[0].drop_schema()
