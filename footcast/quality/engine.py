"""The Great Expectations engine: one ephemeral context that runs the suites over dataframes.

The suites are built once per process (:func:`shared`) in an ephemeral context with one pandas
data source and one dataframe asset + whole-dataframe batch definition per suite, and run with
result format COMPLETE so failing rows are routed by ``unexpected_index_list``. Runs are
serialised by a lock: the one context is shared by every thread of the process.

Great Expectations is imported lazily (it takes seconds to import), so importing this module
is cheap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from footcast.quality import expectations


@dataclass
class Engine:
    context: Any
    schema: Any  # batch definition over the partition's schema table
    matches: Any  # batch definition over the (view of the) partition
    teams: Any  # batch definition over the per-team match counts
    schema_suite: Any
    rows_suite: Any
    season_suite: Any
    lock: threading.Lock


@lru_cache(maxsize=1)
def shared() -> Engine:
    """Ephemeral GE context, data source, assets, batch definitions and suites (once per process)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    source = context.data_sources.add_pandas("footcast")
    schema_table = source.add_dataframe_asset("schema").add_batch_definition_whole_dataframe("partition")
    matches = source.add_dataframe_asset("matches").add_batch_definition_whole_dataframe("partition")
    teams = source.add_dataframe_asset("team_counts").add_batch_definition_whole_dataframe("partition")

    def suite(name: str, members: list):
        return context.suites.add(gx.ExpectationSuite(name=name, expectations=members))

    return Engine(
        context=context,
        schema=schema_table,
        matches=matches,
        teams=teams,
        schema_suite=suite("footcast.schema", expectations.schema_expectations()),
        rows_suite=suite("footcast.rows", expectations.row_expectations()),
        season_suite=suite("footcast.season", expectations.season_expectations()),
        lock=threading.Lock(),
    )


def expectation_suites() -> dict[str, Any]:
    """The suites (``gx.ExpectationSuite``) by name, e.g. to render or review them."""
    engine = shared()
    suites = (engine.schema_suite, engine.rows_suite, engine.season_suite)
    return {s.name: s for s in suites}


def run(batch_definition, frame: pd.DataFrame, suite):
    engine = shared()
    with engine.lock:
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(suite, result_format={"result_format": "COMPLETE"})


def exception_message(result) -> str | None:
    info = result.exception_info or {}
    if "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return value.get("exception_message") or "exception"
    return None


def unroutable(result) -> str | None:
    """Why a failed expectation's unexpected rows cannot all be named (None when they can)."""
    if result.success:
        return None
    indexes = result.result.get("unexpected_index_list")
    count = result.result.get("unexpected_count")
    if indexes is None or count is None or len(indexes) < count:
        return "failed without naming all its unexpected rows"
    return None


def result_columns(kwargs: dict) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])
