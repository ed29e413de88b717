"""POSTing JSON to a webhook whose URL is a secret (Slack/Teams tokens live in its path).

Plain Python (no Dagster).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from footcast.adapters.redaction import ScrubLogRecords

SENT = "sent"


def post_webhook(url: str, payload: dict[str, Any], timeout_seconds: float = 10.0) -> str:
    """POST ``payload`` as JSON; returns "sent" or "failed: <cause>".

    Webhook URLs carry their credentials (Slack/Teams tokens), so the cause names the HTTP
    status or the exception type, never the URL (httpx's own messages include it).
    """
    # httpx logs every request's URL at INFO: hide the URL as given, and as httpx normalises it.
    hide = ScrubLogRecords({url, str(httpx.URL(url))}, mask="<alert webhook>")
    logging.getLogger("httpx").addFilter(hide)
    try:
        response = httpx.post(url, json=payload, timeout=timeout_seconds)
    except httpx.HTTPError as exc:
        return f"failed: {type(exc).__name__}"
    finally:
        logging.getLogger("httpx").removeFilter(hide)
    return SENT if response.is_success else f"failed: HTTP {response.status_code}"
