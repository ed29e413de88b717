"""Failure alerts: what failed (job, assets, partition, error), kept in the warehouse's
`run_failures` table and POSTed as JSON to a webhook when one is configured
(``adapters/webhook.py`` posts it); and failed asset checks (a warning or an error, e.g. the
track record's drift checks), kept in `check_failures` and POSTed to the same webhook.

Plain Python (no Dagster): the sensors in ``pipelines/sensors.py`` build a ``RunFailure`` from
the run, or a ``CheckFailure`` from the check's evaluation, and call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from footcast.adapters.warehouse import Warehouse, check_failures, run_failures

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


@dataclass(frozen=True)
class CheckFailure:
    """A failed asset check evaluation (a warning or an error), e.g. the track record's."""

    run_id: str
    asset: str
    check_name: str
    severity: str  # "WARN" or "ERROR"
    description: str
    evaluated_at: datetime

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body."""
        return {
            "event": "footcast.asset_check_failure",
            "run_id": self.run_id,
            "asset": self.asset,
            "check": self.check_name,
            "severity": self.severity,
            "description": self.description,
            "evaluated_at": self.evaluated_at.isoformat(),
        }


def record_check_failure(warehouse: Warehouse, failure: CheckFailure, alert: str) -> None:
    """Store the failed evaluation (one row per run, asset and check: recording it again replaces it)."""
    row = {
        "run_id": failure.run_id,
        "asset": failure.asset,
        "check_name": failure.check_name,
        "severity": failure.severity,
        "description": failure.description,
        "evaluated_at": failure.evaluated_at,
        "alert": alert,
    }
    where = {"run_id": failure.run_id, "asset": failure.asset, "check_name": failure.check_name}
    warehouse.replace_partition(check_failures, where, pd.DataFrame([row]))
