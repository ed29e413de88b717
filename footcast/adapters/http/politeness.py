"""Being a polite client: a rate limit per host, bounded retries, rotating proxies.

- A token bucket per target host (:class:`HostRateLimiter`), shared by the threads of a process.
- Retries (:class:`RetryPolicy`) on timeouts, connection errors, HTTP 429 and 5xx, with
  exponential backoff and jitter, or the server's ``Retry-After`` when it sends one.
- Round-robin over healthy proxies with consecutive-failure benching (:class:`ProxyPool`).
"""

from __future__ import annotations

import email.utils
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import tenacity

from footcast.adapters.redaction import redact_url

logger = logging.getLogger(__name__)

RATE_ENV = "FOOTCAST_HTTP_RATE"
DEFAULT_RATE_PER_HOST = 1.0


def default_rate_per_host() -> float:
    """Requests per second per host: ``FOOTCAST_HTTP_RATE`` if set, else 1."""
    raw = os.environ.get(RATE_ENV, "").strip()
    if not raw:
        return DEFAULT_RATE_PER_HOST
    try:
        rate = float(raw)
    except ValueError:
        raise ValueError(f"{RATE_ENV}={raw!r} is not a number of requests per second") from None
    if not rate > 0:
        raise ValueError(f"{RATE_ENV}={raw!r} must be a positive number of requests per second")
    return rate


# -- retries -----------------------------------------------------------------------------------


class RetryableStatus(Exception):
    """An HTTP status worth retrying (429, 5xx); carries the parsed Retry-After."""

    def __init__(self, response: httpx.Response):
        self.status = response.status_code
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        super().__init__(f"HTTP {self.status}")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, RetryableStatus):
        return True
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return False
    return isinstance(exc, httpx.TransportError)


class RetryPolicy:
    """Bounded attempts; between them the server's ``Retry-After`` (capped at
    ``retry_after_max``) or else exponential backoff with jitter."""

    def __init__(self, max_attempts: int, backoff_base: float, backoff_max: float, retry_after_max: float):
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts!r}")
        self.max_attempts = max_attempts
        self.retry_after_max = retry_after_max
        self._backoff = tenacity.wait_exponential_jitter(
            multiplier=backoff_base, max=backoff_max, jitter=backoff_base
        )

    def wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry_after_max)
        return self._backoff(state)

    def retrying(self, before_sleep: Callable[[tenacity.RetryCallState], None]) -> tenacity.Retrying:
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self.wait,
            retry=tenacity.retry_if_exception(is_retryable),
            before_sleep=before_sleep,
            reraise=True,
        )


# -- rate limit --------------------------------------------------------------------------------


class HostRateLimiter:
    """A token bucket per host, shared by all threads of the process.

    ``acquire`` reserves the next token under a lock (the bucket may go negative: a
    reservation in the future) and sleeps outside it, so concurrent callers are spaced
    ``1/rate`` apart in arrival order and different hosts never wait on each other.
    """

    def __init__(self, rate: float, burst: int = 1):
        if not rate > 0:
            raise ValueError(f"rate must be > 0 requests per second, got {rate!r}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst!r}")
        self.rate = float(rate)
        self.burst = burst
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # host -> (tokens, monotonic stamp)

    def acquire(self, host: str) -> float:
        """Block until ``host`` may be sent a request; return the seconds waited."""
        if math.isinf(self.rate):
            return 0.0
        host = host.lower()
        with self._lock:
            now = time.monotonic()
            tokens, stamp = self._buckets.get(host, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - stamp) * self.rate) - 1.0
            self._buckets[host] = (tokens, now)
        wait = -tokens / self.rate if tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)
        return wait


# -- proxies -----------------------------------------------------------------------------------


class NoHealthyProxy(Exception):
    pass


@dataclass
class _ProxyState:
    url: str
    failures: int = 0  # consecutive
    benched_until: float = 0.0  # time.monotonic(); 0 = not benched


class ProxyPool:
    """Round-robin over healthy proxies with consecutive-failure benching (thread-safe)."""

    def __init__(
        self,
        proxies: list[str],
        *,
        max_failures: int = 3,
        cooldown: float = 300.0,
        fallback_direct: bool = False,
    ):
        if not proxies:
            raise ValueError("ProxyPool needs at least one proxy URL")
        if max_failures < 1:
            raise ValueError(f"max_failures must be >= 1, got {max_failures!r}")
        self._states = [_ProxyState(url) for url in proxies]
        self._by_url = {state.url: state for state in self._states}
        self.max_failures = max_failures
        self.cooldown = cooldown
        self.fallback_direct = fallback_direct
        self._cursor = 0
        self._lock = threading.Lock()

    def choose(self) -> str | None:
        """The next healthy proxy URL, None for a direct request; raises if none may be used."""
        with self._lock:
            now = time.monotonic()
            count = len(self._states)
            for offset in range(count):
                state = self._states[(self._cursor + offset) % count]
                if state.benched_until <= now:
                    self._cursor = (self._cursor + offset + 1) % count
                    return state.url
            if self.fallback_direct:
                return None
            back_in = min(state.benched_until for state in self._states) - now
        raise NoHealthyProxy(
            f"no healthy proxy: all {count} benched (next back in {back_in:.0f}s) and direct fallback is off"
        )

    def report(self, proxy: str, ok: bool) -> None:
        with self._lock:
            state = self._by_url[proxy]
            if ok:
                state.failures = 0
                state.benched_until = 0.0
                return
            state.failures += 1
            if state.failures >= self.max_failures:
                state.benched_until = time.monotonic() + self.cooldown
                logger.warning(
                    "proxy %s failed %d times in a row; benched for %.0fs",
                    redact_url(proxy),
                    state.failures,
                    self.cooldown,
                )

    def healthy(self) -> list[str]:
        with self._lock:
            now = time.monotonic()
            return [state.url for state in self._states if state.benched_until <= now]
