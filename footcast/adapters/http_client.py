"""The one HTTP client every scraper uses: polite, retrying, archiving.

Plain Python (no dagster import); a Dagster resource wraps it.

- **Politeness.** A token bucket per target host (default 1 request/second, burst 1;
  ``FOOTCAST_HTTP_RATE`` overrides the default, a constructor argument overrides both). The
  bucket is shared by every thread of one process (a lock hands out reservations in order).
  It does *not* coordinate processes: Dagster runs each step in its own process, so
  cross-process politeness is the job of a Dagster pool / tag concurrency limit on the
  scraping assets (e.g. one pool per source with a limit of 1). Every request counts,
  including retries and redirect hops.
- **Retries.** Bounded (``max_attempts`` in all), exponential backoff with jitter, on
  timeouts, connection errors (including a connection reset or a truncated body), HTTP 429
  and 5xx. ``Retry-After`` (seconds or an HTTP date) replaces the backoff, capped at
  ``retry_after_max``. Other 4xx are final: 404/410 raise :class:`NotFoundError`.
- **Archive.** Every distinct version of a URL's bytes is kept in the warehouse table
  ``http_archive`` keyed by (url, content_hash), so a raw row's lineage (url, sha256) always
  resolves to the exact bytes (:meth:`HttpClient.archived`). Only complete 2xx bodies are
  written, in one statement, after the download succeeded: a failed fetch never touches the
  archive. Re-checks are conditional (If-None-Match / If-Modified-Since); a 304 serves the
  archived bytes and records the check.
- **Proxies** (optional). Round-robin over healthy proxies; a proxy that fails
  ``proxy_max_failures`` times in a row is benched for ``proxy_cooldown`` seconds, then gets
  one trial request (a failure benches it again, a success restores it). With every proxy
  benched the request goes direct only if ``proxy_fallback_direct`` is set.
"""

from __future__ import annotations

import email.utils
import hashlib
import importlib.metadata
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

import httpx
import sqlalchemy as sa
import tenacity
from sqlalchemy.dialects import postgresql, sqlite

from footcast.adapters.warehouse import Warehouse, http_archive

logger = logging.getLogger(__name__)

RATE_ENV = "FOOTCAST_HTTP_RATE"
DEFAULT_RATE_PER_HOST = 1.0

Origin = Literal["network", "archive", "not-modified"]


def _version() -> str:
    try:
        return importlib.metadata.version("footcast")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


def default_user_agent() -> str:
    return f"footcast/{_version()} (+https://github.com/footcast; football prediction pipeline)"


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


# -- results and errors ------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    """The bytes of one URL and where they came from.

    ``status`` is the HTTP status the served bytes were downloaded with (also for a 304
    re-check, whose bytes come from the archive). ``fetched_at`` is when these exact bytes were
    first downloaded, ``checked_at`` when the network last confirmed them (both UTC).
    ``requests_made`` counts HTTP requests sent by this call, retries and redirects included.
    """

    url: str
    status: int
    content: bytes = field(repr=False)
    content_hash: str
    fetched_at: datetime
    origin: Origin
    requests_made: int
    checked_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class ArchivedVersion:
    """One row of ``http_archive`` without its bytes."""

    url: str
    content_hash: str
    status: int
    etag: str | None
    last_modified: str | None
    content_type: str | None
    fetched_at: datetime
    last_checked_at: datetime


class FetchError(Exception):
    """A GET that did not produce usable bytes. One line naming the URL, the partition and why."""

    def __init__(self, url: str, partition: str, cause: str, *, status: int | None = None, attempts: int = 0):
        self.url = url
        self.partition = partition
        self.cause = cause
        self.status = status
        self.attempts = attempts
        super().__init__(f"GET {url} for partition {partition} failed: {cause}")

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across Dagster processes
        return (
            type(self),
            (self.url, self.partition, self.cause),
            {"status": self.status, "attempts": self.attempts},
        )


class NotFoundError(FetchError):
    """HTTP 404/410: no such resource (for a season file: no such season)."""


class _RetryableStatus(Exception):
    """An HTTP status worth retrying (429, 5xx); carries the parsed Retry-After."""

    def __init__(self, response: httpx.Response):
        self.status = response.status_code
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        super().__init__(f"HTTP {self.status}")


class _NoHealthyProxy(Exception):
    pass


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


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, _RetryableStatus):
        return True
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return False
    return isinstance(exc, httpx.TransportError)


def _kind(exc: BaseException) -> str:
    """A short name for why an attempt failed."""
    if isinstance(exc, _RetryableStatus):
        return f"HTTP {exc.status}"
    kinds: list[tuple[type[BaseException], str]] = [
        (httpx.ConnectTimeout, "connect timeout"),
        (httpx.ReadTimeout, "read timeout"),
        (httpx.WriteTimeout, "write timeout"),
        (httpx.PoolTimeout, "connection pool timeout"),
        (httpx.ProxyError, "proxy error"),
        (httpx.ConnectError, "connection failed"),
        # A reset, a peer closing early, a body shorter than its Content-Length.
        (httpx.ReadError, "connection reset"),
        (httpx.WriteError, "connection reset"),
        (httpx.CloseError, "connection reset"),
        (httpx.RemoteProtocolError, "connection reset"),
    ]
    for cls, name in kinds:
        if isinstance(exc, cls):
            return name
    return type(exc).__name__


def _detail(exc: BaseException) -> str:
    if isinstance(exc, _RetryableStatus | httpx.TimeoutException):
        return ""  # the kind says it all ("timed out" adds nothing)
    text = " ".join(str(exc).split())
    return f" ({text})" if text else ""


# A query parameter whose name (lower-cased, letters and digits only) contains one of these
# carries a credential: password, passwd, pwd, token, access_token, api_key, apikey, secret,
# client_secret, auth, sig/signature, ...
_SECRET_PARAM_PARTS = ("pass", "pwd", "token", "secret", "key", "auth", "credential", "signature")
MASK = "***"


def _secret_param(name: str) -> bool:
    normal = "".join(ch for ch in unquote_plus(name).lower() if ch.isalnum())
    return any(part in normal for part in _SECRET_PARAM_PARTS) or normal == "sig"


def _split_userinfo(url: str) -> tuple[str, str | None, str]:
    """``(scheme://, userinfo or None, everything after the userinfo's "@")``.

    Lenient on purpose (a redactor must not leak what a strict parser rejects): the userinfo
    ends at the last "@" before the path, so an unencoded "@", "?" or "#" in a password is
    still inside it.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "", None, url
    slash = rest.find("/")
    authority = rest if slash < 0 else rest[:slash]
    at = authority.rfind("@")
    if at < 0 or any(ch in authority[:at].partition(":")[0] for ch in "?#"):
        # No userinfo; an "@" seen here belongs to the query or fragment of a URL without a path.
        return scheme + sep, None, rest
    return scheme + sep, authority[:at], rest[at + 1 :]


def _redact_query(rest: str) -> str:
    head, mark, tail = rest.partition("?")
    if not mark:
        return rest
    query, hash_, fragment = tail.partition("#")
    pieces = []
    for piece in query.split("&"):
        name, eq, value = piece.partition("=")
        pieces.append(f"{name}={MASK}" if eq and value and _secret_param(name) else piece)
    return f"{head}?{'&'.join(pieces)}{hash_}{fragment}"


def redact_url(url: str) -> str:
    """``url`` as it may be shown, logged or stored: credentials masked, the rest verbatim.

    The password of the userinfo becomes ``***`` (``http://user:***@host/x``; a bare userinfo,
    usually a token, becomes ``***@``), and so does the value of every credential-like query
    parameter (``?token=***``, case-insensitive). Idempotent: redacting a redacted URL changes
    nothing, so a redacted URL is also the key the archive is looked up by.
    """
    start, userinfo, rest = _split_userinfo(url)
    if userinfo is not None:
        user, colon, password = userinfo.partition(":")
        if colon:
            rest = f"{user}:{MASK if password else ''}@{rest}"
        elif user:
            rest = f"{MASK}@{rest}"
        else:
            rest = f"@{rest}"
    return start + _redact_query(rest)


def _secrets(url: str) -> list[str]:
    """The credential values in ``url``, as written and percent-decoded (longest first)."""
    found: set[str] = set()
    _start, userinfo, rest = _split_userinfo(url)
    if userinfo is not None:
        user, colon, password = userinfo.partition(":")
        found.update([password] if colon else [user])
    query = rest.partition("?")[2].partition("#")[0]
    for piece in query.split("&"):
        name, eq, value = piece.partition("=")
        if eq and _secret_param(name):
            found.add(value)
    found |= {unquote(value) for value in found} | {unquote_plus(value) for value in found}
    # Too short a value would mask ordinary letters everywhere in a message.
    return sorted((value for value in found if len(value) >= 3 and value != MASK), key=len, reverse=True)


def _scrub(text: str, secrets: list[str]) -> str:
    """``text`` (an exception's message, say) with every credential value masked."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def _archive_keys(url: str) -> list[str]:
    """Where ``http_archive`` may hold ``url``'s versions.

    New versions are stored under the redacted URL (so the archive holds no credentials and a
    stored lineage URL finds its bytes); versions archived before redaction was introduced sit
    under the URL as it was fetched, credentials included, and stay readable through it.
    """
    shown = redact_url(url)
    return [shown] if shown == url else [shown, url]


class _RedactHttpxLog(logging.Filter):
    """httpx logs every request's URL at INFO: log it redacted (a query may carry a token)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(arg, httpx.URL) for arg in record.args):
            record.args = tuple(
                redact_url(str(arg)) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(existing, _RedactHttpxLog) for existing in _httpx_logger.filters):
    _httpx_logger.addFilter(_RedactHttpxLog())


def _redact(url: str) -> str:
    """A proxy URL without its credentials, for messages and logs."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _status_text(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- politeness --------------------------------------------------------------------------------


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
        raise _NoHealthyProxy(
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
                    _redact(proxy),
                    state.failures,
                    self.cooldown,
                )

    def healthy(self) -> list[str]:
        with self._lock:
            now = time.monotonic()
            return [state.url for state in self._states if state.benched_until <= now]


# -- the client --------------------------------------------------------------------------------


class _Tally:
    """Per-fetch bookkeeping (one fetch runs on one thread)."""

    def __init__(self) -> None:
        self.requests = 0
        self.attempts = 0
        self.proxy: str | None = None
        self.last_error: BaseException | None = None


class HttpClient:
    """GET with politeness, retries, proxies and a content-addressed archive in the warehouse.

    Thread-safe: one instance may serve many threads. Use as a context manager or call
    :meth:`close`. The ``http_archive`` table is created if missing (``Warehouse.create_all``
    creates it too).
    """

    def __init__(
        self,
        warehouse: Warehouse,
        *,
        rate_per_host: float | None = None,
        burst: int = 1,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        max_attempts: int = 4,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        retry_after_max: float = 120.0,
        user_agent: str | None = None,
        proxies: list[str] | None = None,
        proxy_max_failures: int = 3,
        proxy_cooldown: float = 300.0,
        proxy_fallback_direct: bool = False,
        max_redirects: int = 5,
        trust_env: bool = True,
    ):
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts!r}")
        if not (connect_timeout > 0 and read_timeout > 0):
            raise ValueError("connect_timeout and read_timeout must be > 0 seconds")
        self.warehouse = warehouse
        self.rate_per_host = default_rate_per_host() if rate_per_host is None else float(rate_per_host)
        self.limiter = HostRateLimiter(self.rate_per_host, burst)
        self.max_attempts = max_attempts
        self.retry_after_max = retry_after_max
        self.user_agent = user_agent or default_user_agent()
        self.proxy_pool = (
            ProxyPool(
                proxies,
                max_failures=proxy_max_failures,
                cooldown=proxy_cooldown,
                fallback_direct=proxy_fallback_direct,
            )
            if proxies
            else None
        )
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._backoff = tenacity.wait_exponential_jitter(
            multiplier=backoff_base, max=backoff_max, jitter=backoff_base
        )
        self._max_redirects = max_redirects
        self._trust_env = trust_env
        self._clients: dict[str | None, httpx.Client] = {}
        self._clients_lock = threading.Lock()
        self._local = threading.local()
        self._closed = False
        with warehouse.engine.begin() as conn:
            http_archive.create(conn, checkfirst=True)

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        with self._clients_lock:
            self._closed = True
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- public API --------------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        partition: str,
        max_age: timedelta | None,
        force: bool = False,
        accept: Callable[[bytes, str], object] | None = None,
    ) -> FetchResult:
        """The bytes of ``url``, from the archive or the network.

        ``max_age=None``: immutable (a complete past season): serve the archive if it has the
        URL, never touch the network. A timedelta: re-check the network (conditionally) when
        the last check is older than that; ``timedelta(0)`` always re-checks. ``force=True``
        downloads unconditionally. Raises :class:`NotFoundError` for 404/410 and
        :class:`FetchError` for everything else that is not a complete 2xx (or a 304 to a
        conditional request); the archive is untouched then. ``accept(content, sha256)`` is
        called on downloaded bytes before they are archived; if it raises (e.g. the parser
        rejects an HTML error page served with 200), nothing is archived and the error
        propagates, so a completed season is never pinned to bytes that are not a season file.
        """
        if max_age is not None and max_age < timedelta(0):
            raise ValueError(f"max_age must be >= 0 or None, got {max_age!r}")
        # Credentials in ``url`` are sent, never reported: errors, logs, the result's url and
        # the archive key all use the redacted form (which is what callers store as lineage).
        shown = redact_url(url)
        if shown != url:
            self._rekey(url, shown)
        latest = None if force else self._latest(url)
        if latest is not None and (max_age is None or _utcnow() - latest.last_checked_at < max_age):
            return self._archive_result(latest, origin="archive", requests_made=0)

        headers: dict[str, str] = {}
        if latest is not None:
            if latest.etag:
                headers["If-None-Match"] = latest.etag
            if latest.last_modified:
                headers["If-Modified-Since"] = latest.last_modified
        response, tally = self._get(url, headers, partition)
        status = response.status_code

        if status == 304:
            if latest is None or not headers:
                raise FetchError(
                    shown, partition, "HTTP 304 Not Modified to an unconditional request", status=304
                )
            checked = self._mark_checked(latest, response)
            return self._archive_result(checked, origin="not-modified", requests_made=tally.requests)
        if status in (404, 410):
            raise NotFoundError(
                shown,
                partition,
                f"{_status_text(response)}: no such resource",
                status=status,
                attempts=tally.attempts,
            )
        if not 200 <= status < 300 or status == 206:
            raise FetchError(
                shown,
                partition,
                _status_text(response),
                status=status,
                attempts=tally.attempts,
            )

        content = response.content
        content_hash = hashlib.sha256(content).hexdigest()
        if accept is not None:
            accept(content, content_hash)
        now = _utcnow()
        version = ArchivedVersion(
            url=shown,
            content_hash=content_hash,
            status=status,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
            fetched_at=now,
            last_checked_at=now,
        )
        stored = self._store(version, content)
        return FetchResult(
            url=shown,
            status=status,
            content=content,
            content_hash=version.content_hash,
            fetched_at=stored.fetched_at,
            origin="network",
            requests_made=tally.requests,
            checked_at=now,
            etag=version.etag,
            last_modified=version.last_modified,
            content_type=version.content_type,
        )

    def archived(self, url: str, content_hash: str) -> bytes:
        """The exact bytes archived for ``url`` with that sha256; LookupError if there are none.

        ``url`` as fetched or as reported (redacted): both find the same bytes.
        """
        query = (
            sa.select(http_archive.c.content)
            .where(http_archive.c.url.in_(_archive_keys(url)), http_archive.c.content_hash == content_hash)
            .limit(1)
        )
        with self.warehouse.engine.connect() as conn:
            content = conn.execute(query).scalar_one_or_none()
        if content is None:
            raise LookupError(f"no archived version of {redact_url(url)} with sha256 {content_hash}")
        return bytes(content)

    def versions(self, url: str) -> list[ArchivedVersion]:
        """Every archived version of ``url``, newest check first (urls redacted)."""
        return [
            ArchivedVersion(**{**version.__dict__, "url": redact_url(version.url)})
            for version in self._query_versions(url)
        ]

    # -- network -----------------------------------------------------------------------------

    def _client(self, proxy: str | None) -> httpx.Client:
        with self._clients_lock:
            if self._closed:
                raise RuntimeError("HttpClient is closed")
            client = self._clients.get(proxy)
            if client is None:
                client = httpx.Client(
                    headers={"User-Agent": self.user_agent},
                    timeout=self._timeout,
                    follow_redirects=True,
                    max_redirects=self._max_redirects,
                    proxy=proxy,
                    trust_env=self._trust_env and proxy is None,
                    event_hooks={"request": [self._before_request]},
                )
                self._clients[proxy] = client
            return client

    def _before_request(self, request: httpx.Request) -> None:
        # Runs for every request httpx sends, redirect hops included.
        self.limiter.acquire(request.url.host)
        tally = getattr(self._local, "tally", None)
        if tally is not None:
            tally.requests += 1

    def _attempt(
        self, url: httpx.URL, auth: httpx.BasicAuth | None, headers: dict[str, str], tally: _Tally
    ) -> httpx.Response:
        proxy = self.proxy_pool.choose() if self.proxy_pool else None
        tally.attempts += 1
        tally.proxy = proxy
        try:
            client = self._client(proxy)
            if auth is None:
                response = client.get(url, headers=headers)
            else:
                response = client.get(url, headers=headers, auth=auth)
        except httpx.TransportError as exc:
            tally.last_error = exc
            if proxy is not None and self.proxy_pool is not None:
                self.proxy_pool.report(proxy, ok=False)
            raise
        status = response.status_code
        if proxy is not None and self.proxy_pool is not None and status < 500:
            # 407 (proxy auth) and 429 (this exit IP is throttled) count against the proxy;
            # 5xx are the origin's business and leave the proxy's record alone.
            self.proxy_pool.report(proxy, ok=status not in (407, 429))
        if status == 429 or status >= 500:
            error = _RetryableStatus(response)
            tally.last_error = error
            raise error
        return response

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryableStatus) and exc.retry_after is not None:
            return min(exc.retry_after, self.retry_after_max)
        return self._backoff(state)

    def _get(self, url: str, headers: dict[str, str], partition: str) -> tuple[httpx.Response, _Tally]:
        tally = _Tally()
        self._local.tally = tally
        shown, secrets = redact_url(url), _secrets(url)

        def detail(exc: BaseException) -> str:
            return _scrub(_detail(exc), secrets)

        def log_retry(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            logger.warning(
                "GET %s for partition %s: %s%s (attempt %d of %d); retrying in %.2fs",
                shown,
                partition,
                _kind(exc) if exc else "?",
                detail(exc) if exc else "",
                state.attempt_number,
                self.max_attempts,
                state.next_action.sleep if state.next_action else 0.0,
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception(_is_retryable),
            before_sleep=log_retry,
            reraise=True,
        )
        try:
            # The userinfo travels as an Authorization header, so httpx (its messages, its INFO
            # log of every request) never holds the password in a URL.
            target = httpx.URL(url)
            auth = httpx.BasicAuth(target.username, target.password) if target.userinfo else None
            if auth is not None:
                target = target.copy_with(username=None, password=None)
            return retrying(self._attempt, target, auth, headers, tally), tally
        except _NoHealthyProxy as exc:
            cause = str(exc)
            if tally.last_error is not None:
                cause += (
                    f"; last error after {_attempts(tally.attempts)}: "
                    f"{_kind(tally.last_error)}{detail(tally.last_error)}"
                )
            raise FetchError(shown, partition, cause, attempts=tally.attempts) from tally.last_error
        except _RetryableStatus as exc:
            via = f" via proxy {_redact(tally.proxy)}" if tally.proxy else ""
            raise FetchError(
                shown,
                partition,
                f"HTTP {exc.status} after {_attempts(tally.attempts)}{via}",
                status=exc.status,
                attempts=tally.attempts,
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            via = f" via proxy {_redact(tally.proxy)}" if tally.proxy else ""
            if _is_retryable(exc):
                cause = f"{_kind(exc)} after {_attempts(tally.attempts)}{detail(exc)}{via}"
            else:
                cause = f"{type(exc).__name__}: {_scrub(str(exc), secrets)}{via}"
            # The cause, not the httpx exception: its request (and message) may hold the URL.
            raise FetchError(shown, partition, cause, attempts=tally.attempts) from None
        finally:
            self._local.tally = None

    # -- archive -----------------------------------------------------------------------------

    @staticmethod
    def _meta_columns() -> list[sa.Column]:
        return [c for c in http_archive.columns if c.name != "content"]

    @staticmethod
    def _version_from_row(row: Any) -> ArchivedVersion:
        return ArchivedVersion(
            url=row.url,
            content_hash=row.content_hash,
            status=row.status,
            etag=row.etag,
            last_modified=row.last_modified,
            content_type=row.content_type,
            fetched_at=_aware(row.fetched_at),
            last_checked_at=_aware(row.last_checked_at),
        )

    def _rekey(self, url: str, shown: str) -> None:
        """Move versions archived under ``url`` (credentials included, as archives written before
        redaction have them) to its redacted key ``shown``, where new versions go and where a stored
        lineage URL finds them. A version already under ``shown`` wins. The old key stays readable
        meanwhile (:func:`_archive_keys`), so losing a race with another process is harmless."""
        legacy = http_archive.c.url == url
        with self.warehouse.engine.connect() as conn:
            if conn.execute(sa.select(http_archive.c.content_hash).where(legacy).limit(1)).first() is None:
                return
        try:
            with self.warehouse.engine.begin() as conn:
                known = sa.select(http_archive.c.content_hash).where(http_archive.c.url == shown)
                conn.execute(http_archive.delete().where(legacy, http_archive.c.content_hash.in_(known)))
                conn.execute(http_archive.update().where(legacy).values(url=shown))
        except sa.exc.IntegrityError:  # pragma: no cover - a concurrent fetch re-keyed or stored it first
            logger.debug("re-keying the archive of %s lost a race; the next fetch retries", shown)

    def _latest(self, url: str) -> ArchivedVersion | None:
        versions = self._query_versions(url, limit=1)
        return versions[0] if versions else None

    def _query_versions(self, url: str, limit: int | None = None) -> list[ArchivedVersion]:
        """Versions under every key of ``url`` (:func:`_archive_keys`), each with its stored key."""
        query = (
            sa.select(*self._meta_columns())
            .where(http_archive.c.url.in_(_archive_keys(url)))
            .order_by(http_archive.c.last_checked_at.desc(), http_archive.c.fetched_at.desc())
            .limit(limit)
        )
        with self.warehouse.engine.connect() as conn:
            return [self._version_from_row(row) for row in conn.execute(query)]

    def _archive_result(self, version: ArchivedVersion, *, origin: Origin, requests_made: int) -> FetchResult:
        return FetchResult(
            url=redact_url(version.url),
            status=version.status,
            content=self.archived(version.url, version.content_hash),
            content_hash=version.content_hash,
            fetched_at=version.fetched_at,
            origin=origin,
            requests_made=requests_made,
            checked_at=version.last_checked_at,
            etag=version.etag,
            last_modified=version.last_modified,
            content_type=version.content_type,
        )

    def _mark_checked(self, version: ArchivedVersion, response: httpx.Response) -> ArchivedVersion:
        """Record a 304: the archived version is still current (refresh its validators)."""
        now = _utcnow()
        values: dict[str, Any] = {"last_checked_at": _naive(now)}
        changes: dict[str, Any] = {"last_checked_at": now}
        for header, column in (("ETag", "etag"), ("Last-Modified", "last_modified")):
            if response.headers.get(header):
                values[column] = changes[column] = response.headers[header]
        with self.warehouse.engine.begin() as conn:
            conn.execute(
                http_archive.update()
                .where(
                    http_archive.c.url == version.url,
                    http_archive.c.content_hash == version.content_hash,
                )
                .values(**values)
            )
        return ArchivedVersion(**{**version.__dict__, **changes})

    def _store(self, version: ArchivedVersion, content: bytes) -> ArchivedVersion:
        """Insert a new version, or refresh the check time and validators of a known one.

        One atomic statement (INSERT ... ON CONFLICT) on SQLite and PostgreSQL, so concurrent
        fetches of the same bytes cannot collide and ``fetched_at`` keeps the first download.
        """
        row = {
            "url": version.url,
            "content_hash": version.content_hash,
            "status": version.status,
            "content": content,
            "etag": version.etag,
            "last_modified": version.last_modified,
            "content_type": version.content_type,
            "fetched_at": _naive(version.fetched_at),
            "last_checked_at": _naive(version.last_checked_at),
        }
        refreshed = ("status", "etag", "last_modified", "content_type", "last_checked_at")
        dialect = self.warehouse.engine.dialect.name
        with self.warehouse.engine.begin() as conn:
            if dialect in ("postgresql", "sqlite"):
                insert = (postgresql if dialect == "postgresql" else sqlite).insert(http_archive)
                statement = insert.values(row).on_conflict_do_update(
                    index_elements=[http_archive.c.url, http_archive.c.content_hash],
                    set_={name: insert.excluded[name] for name in refreshed},
                )
                conn.execute(statement)
            else:  # pragma: no cover - other dialects: portable, not race-free
                updated = conn.execute(
                    http_archive.update()
                    .where(
                        http_archive.c.url == version.url,
                        http_archive.c.content_hash == version.content_hash,
                    )
                    .values({name: row[name] for name in refreshed})
                )
                if updated.rowcount == 0:
                    conn.execute(http_archive.insert().values(row))
            fetched_at = conn.execute(
                sa.select(http_archive.c.fetched_at).where(
                    http_archive.c.url == version.url,
                    http_archive.c.content_hash == version.content_hash,
                )
            ).scalar_one()
        return ArchivedVersion(**{**version.__dict__, "fetched_at": _aware(fetched_at)})
