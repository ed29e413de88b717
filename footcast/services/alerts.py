"""Run-failure alerts: what failed (job, assets, partition, error), kept in the warehouse's
`run_failures` table and POSTed as JSON to a webhook when one is configured.

Plain Python (no Dagster): the run-failure sensor in ``pipelines/automation.py`` builds a
``RunFailure`` from the run and calls these.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pandas as pd

from footcast.adapters.warehouse import Warehouse, run_failures

NOT_CONFIGURED = "not configured"
SENT = "sent"


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


def post_webhook(url: str, payload: dict[str, Any], timeout_seconds: float = 10.0) -> str:
    """POST ``payload`` as JSON; returns "sent" or "failed: <cause>".

    Webhook URLs carry their credentials (Slack/Teams tokens), so the cause names the HTTP
    status or the exception type, never the URL (httpx's own messages include it).
    """
    hide = _HideUrl(url)
    # httpx logs every request's URL at INFO.
    logging.getLogger("httpx").addFilter(hide)
    try:
        response = httpx.post(url, json=payload, timeout=timeout_seconds)
    except httpx.HTTPError as exc:
        return f"failed: {type(exc).__name__}"
    finally:
        logging.getLogger("httpx").removeFilter(hide)
    return SENT if response.is_success else f"failed: HTTP {response.status_code}"


class _HideUrl(logging.Filter):
    """Replaces a secret URL (as given, and as httpx normalises it) in log records."""

    def __init__(self, url: str):
        super().__init__()
        self.forms = {url, str(httpx.URL(url))}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(form in message for form in self.forms):
            for form in self.forms:
                message = message.replace(form, "<alert webhook>")
            record.msg, record.args = message, ()
        return True


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
