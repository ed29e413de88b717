"""Run-failure alerts: what failed (job, assets, partition, error), kept in the warehouse's
`run_failures` table and POSTed as JSON to a webhook when one is configured
(``adapters/webhook.py`` posts it).

Plain Python (no Dagster): the run-failure sensor in ``pipelines/sensors.py`` builds a
``RunFailure`` from the run and calls these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from footcast.adapters.warehouse import Warehouse, run_failures

NOT_CONFIGURED = "not configured"


@dataclass(frozen=True)
class RunFailure:
    run_id: str
    job_name: str
    assets: tuple[str, ...]
    partition_key: str  # "" for an unpartitioned run
    failed_steps: tuple[str, ...]
    error: str
    failed_at: datetime

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body."""
        return {
            "event": "footcast.run_failure",
            "run_id": self.run_id,
            "job": self.job_name,
            "assets": list(self.assets),
            "partition": self.partition_key,
            "failed_steps": list(self.failed_steps),
            "error": self.error,
            "failed_at": self.failed_at.isoformat(),
        }


def record(warehouse: Warehouse, failure: RunFailure, alert: str) -> None:
    """Store the failure (one row per run: recording the same run again replaces its row)."""
    row = {
        "run_id": failure.run_id,
        "job_name": failure.job_name,
        "assets": ", ".join(failure.assets),
        "partition_key": failure.partition_key,
        "failed_steps": ", ".join(failure.failed_steps),
        "error": failure.error,
        "failed_at": failure.failed_at,
        "alert": alert,
    }
    warehouse.replace_partition(run_failures, {"run_id": failure.run_id}, pd.DataFrame([row]))
