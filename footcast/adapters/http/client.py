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
- **Sessions** (optional, per fetch). A site whose API answers only within a browsing session
  (Understat) is fetched with a :class:`CookieSession`: before going to the network the client
  visits the session's entry page (a plain GET: rate-limited and retried, never archived), whose
  cookies the client keeps (one jar for every proxy, matched per host like a browser's); when
  the API refuses with one of ``renew_on`` (403) the host's cookies are dropped, the page is
  visited again and the request retried once; a second refusal fails the fetch. Extra request
  headers (``headers=``, e.g. ``X-Requested-With``) go with the request, not with the visit.
- **Proxies** (optional). Round-robin over healthy proxies; a proxy that fails
  ``proxy_max_failures`` times in a row is benched for ``proxy_cooldown`` seconds, then gets
  one trial request (a failure benches it again, a success restores it). With every proxy
  benched the request goes direct only if ``proxy_fallback_direct`` is set.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from typing import Any, Literal

import httpx
import tenacity

from footcast.adapters.http.archive import ArchivedVersion, HttpArchive, conditional_headers, is_fresh
from footcast.adapters.http.politeness import (
    HostRateLimiter,
    NoHealthyProxy,
    ProxyPool,
    RetryableStatus,
    RetryPolicy,
    default_rate_per_host,
    is_retryable,
)
from footcast.adapters.redaction import redact_url, scrub, url_secrets
from footcast.adapters.warehouse import Warehouse

logger = logging.getLogger(__name__)

Origin = Literal["network", "archive", "not-modified"]


def _version() -> str:
    try:
        return importlib.metadata.version("footcast")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


def default_user_agent() -> str:
    return f"footcast/{_version()} (+https://github.com/footcast; football prediction pipeline)"


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
class CookieSession:
    """What a site's API needs before it answers: the cookies its ``entry_url`` page sets.

    ``renew_on``: the statuses by which the API refuses a session that is missing or expired;
    the fetch then drops the host's cookies, visits ``entry_url`` again and retries once. Threads
    fetching from one host share its cookies: a renewal restarts their session too (each of their
    fetches may renew once in turn).
    """

    entry_url: str
    renew_on: frozenset[int] = frozenset({403})


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


def _kind(exc: BaseException) -> str:
    """A short name for why an attempt failed."""
    if isinstance(exc, RetryableStatus):
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
    if isinstance(exc, RetryableStatus | httpx.TimeoutException):
        return ""  # the kind says it all ("timed out" adds nothing)
    text = " ".join(str(exc).split())
    return f" ({text})" if text else ""


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


def _status_text(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def _failure(exc: BaseException, shown: str, partition: str, tally: _Tally, secrets: list[str]) -> FetchError:
    """The error for a GET that failed for good, naming why, after how many attempts, via which proxy."""
    via = f" via proxy {redact_url(tally.proxy)}" if tally.proxy else ""
    if isinstance(exc, RetryableStatus):
        return FetchError(
            shown,
            partition,
            f"HTTP {exc.status} after {_attempts(tally.attempts)}{via}",
            status=exc.status,
            attempts=tally.attempts,
        )
    if is_retryable(exc):
        cause = f"{_kind(exc)} after {_attempts(tally.attempts)}{scrub(_detail(exc), secrets)}{via}"
    else:
        cause = f"{type(exc).__name__}: {scrub(str(exc), secrets)}{via}"
    return FetchError(shown, partition, cause, attempts=tally.attempts)


def _no_healthy_proxy(
    exc: NoHealthyProxy, shown: str, partition: str, tally: _Tally, secrets: list[str]
) -> FetchError:
    cause = str(exc)
    if tally.last_error is not None:
        cause += (
            f"; last error after {_attempts(tally.attempts)}: "
            f"{_kind(tally.last_error)}{scrub(_detail(tally.last_error), secrets)}"
        )
    return FetchError(shown, partition, cause, attempts=tally.attempts)


def _raise_for_status(response: httpx.Response, shown: str, partition: str, tally: _Tally) -> None:
    """Anything but a complete 2xx is an error (404/410: :class:`NotFoundError`)."""
    status = response.status_code
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
        self.retry = RetryPolicy(max_attempts, backoff_base, backoff_max, retry_after_max)
        if not (connect_timeout > 0 and read_timeout > 0):
            raise ValueError("connect_timeout and read_timeout must be > 0 seconds")
        self.rate_per_host = default_rate_per_host() if rate_per_host is None else float(rate_per_host)
        self.limiter = HostRateLimiter(self.rate_per_host, burst)
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
        self._max_redirects = max_redirects
        self._trust_env = trust_env
        self._clients: dict[str | None, httpx.Client] = {}
        # One jar for every proxy's client (a session opened through one proxy is the session
        # of the next request through another); CookieJar is thread-safe and matches per host.
        self._cookies = CookieJar()
        self._clients_lock = threading.Lock()
        self._local = threading.local()
        self._closed = False
        self.archive = HttpArchive(warehouse)

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
        headers: Mapping[str, str] | None = None,
        session: CookieSession | None = None,
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
        ``headers``: extra request headers. ``session``: open it (visit its entry page) before
        going to the network, and renew it once if the API refuses (see :class:`CookieSession`).
        """
        if max_age is not None and max_age < timedelta(0):
            raise ValueError(f"max_age must be >= 0 or None, got {max_age!r}")
        # Credentials in ``url`` are sent, never reported: errors, logs, the result's url and
        # the archive key all use the redacted form (which is what callers store as lineage).
        shown = redact_url(url)
        if shown != url:
            self.archive.rekey(url, shown)
        latest = None if force else self.archive.latest(url)
        if latest is not None and is_fresh(latest, max_age):
            return self._archive_result(latest, origin="archive", requests_made=0)

        conditional = conditional_headers(latest)
        request_headers = {**(headers or {}), **conditional}
        if session is None:
            response, tally = self._get(url, request_headers, partition)
        else:
            response, tally = self._session_get(url, request_headers, partition, session)
        if response.status_code == 304:
            if latest is None or not conditional:
                raise FetchError(
                    shown, partition, "HTTP 304 Not Modified to an unconditional request", status=304
                )
            checked = self.archive.mark_checked(latest, response.headers)
            return self._archive_result(checked, origin="not-modified", requests_made=tally.requests)
        _raise_for_status(response, shown, partition, tally)
        return self._downloaded(response, shown, tally, accept)

    def _session_get(
        self, url: str, headers: dict[str, str], partition: str, session: CookieSession
    ) -> tuple[httpx.Response, _Tally]:
        """GET ``url`` within ``session``: visit its entry page, request; on a refusal renew once."""
        spent = self._visit(session, partition)
        response, tally = self._get(url, headers, partition)
        if response.status_code in session.renew_on:
            page = redact_url(session.entry_url)
            logger.warning(
                "GET %s for partition %s: %s; renewing the session at %s and retrying once",
                redact_url(url),
                partition,
                _status_text(response),
                page,
            )
            spent += tally.requests
            self._forget_cookies(session.entry_url)
            spent += self._visit(session, partition)
            response, tally = self._get(url, headers, partition)
            if response.status_code in session.renew_on:
                raise FetchError(
                    redact_url(url),
                    partition,
                    f"{_status_text(response)} again after renewing the session once (at {page})",
                    status=response.status_code,
                    attempts=tally.attempts,
                )
        tally.requests += spent
        return response, tally

    def _visit(self, session: CookieSession, partition: str) -> int:
        """GET the session's entry page (its cookies stay in the jar); the requests it took."""
        response, tally = self._get(session.entry_url, {}, partition)
        _raise_for_status(response, redact_url(session.entry_url), partition, tally)
        return tally.requests

    def _forget_cookies(self, url: str) -> None:
        """Drop the cookies the jar would send to ``url``'s host (a stale session)."""
        host = (httpx.URL(url).host or "").lower()
        for cookie in list(self._cookies):
            domain = cookie.domain.lstrip(".").lower()
            # http.cookiejar files a dotless host such as "localhost" under "localhost.local".
            if host in (domain, domain.removesuffix(".local")) or host.endswith("." + domain):
                self._cookies.clear(cookie.domain, cookie.path, cookie.name)

    def archived(self, url: str, content_hash: str) -> bytes:
        """The exact bytes archived for ``url`` with that sha256 (:meth:`HttpArchive.archived`)."""
        return self.archive.archived(url, content_hash)

    def versions(self, url: str) -> list[ArchivedVersion]:
        """Every archived version of ``url`` (:meth:`HttpArchive.versions`)."""
        return self.archive.versions(url)

    def _downloaded(
        self,
        response: httpx.Response,
        shown: str,
        tally: _Tally,
        accept: Callable[[bytes, str], object] | None,
    ) -> FetchResult:
        """The result of a complete 2xx, archived once ``accept`` took its bytes."""
        content = response.content
        content_hash = hashlib.sha256(content).hexdigest()
        if accept is not None:
            accept(content, content_hash)
        now = datetime.now(UTC)
        version = ArchivedVersion(
            url=shown,
            content_hash=content_hash,
            status=response.status_code,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            content_type=response.headers.get("Content-Type"),
            fetched_at=now,
            last_checked_at=now,
        )
        stored = self.archive.store(version, content)
        return FetchResult(
            url=shown,
            status=response.status_code,
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

    def _archive_result(self, version: ArchivedVersion, *, origin: Origin, requests_made: int) -> FetchResult:
        return FetchResult(
            url=redact_url(version.url),
            status=version.status,
            content=self.archive.archived(version.url, version.content_hash),
            content_hash=version.content_hash,
            fetched_at=version.fetched_at,
            origin=origin,
            requests_made=requests_made,
            checked_at=version.last_checked_at,
            etag=version.etag,
            last_modified=version.last_modified,
            content_type=version.content_type,
        )

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
                    cookies=self._cookies,
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
            error = RetryableStatus(response)
            tally.last_error = error
            raise error
        return response

    def _get(self, url: str, headers: dict[str, str], partition: str) -> tuple[httpx.Response, _Tally]:
        tally = _Tally()
        self._local.tally = tally
        shown, secrets = redact_url(url), url_secrets(url)

        def log_retry(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            logger.warning(
                "GET %s for partition %s: %s%s (attempt %d of %d); retrying in %.2fs",
                shown,
                partition,
                _kind(exc) if exc else "?",
                scrub(_detail(exc), secrets) if exc else "",
                state.attempt_number,
                self.retry.max_attempts,
                state.next_action.sleep if state.next_action else 0.0,
            )

        try:
            # The userinfo travels as an Authorization header, so httpx (its messages, its INFO
            # log of every request) never holds the password in a URL.
            target = httpx.URL(url)
            auth = httpx.BasicAuth(target.username, target.password) if target.userinfo else None
            if auth is not None:
                target = target.copy_with(username=None, password=None)
            return self.retry.retrying(log_retry)(self._attempt, target, auth, headers, tally), tally
        except NoHealthyProxy as exc:
            raise _no_healthy_proxy(exc, shown, partition, tally, secrets) from tally.last_error
        except (RetryableStatus, httpx.HTTPError, httpx.InvalidURL) as exc:
            # The cause, not the httpx exception: its request (and message) may hold the URL.
            raise _failure(exc, shown, partition, tally, secrets) from None
        finally:
            self._local.tally = None
