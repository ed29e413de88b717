"""HttpClient against real, deliberately misbehaving HTTP servers on 127.0.0.1.

The archive lives in a real warehouse: SQLite in tmp_path, and PostgreSQL too when
FOOTCAST_TEST_POSTGRES_URL is set (with CI=true the PostgreSQL variant fails if it is not).
Timing assertions use the servers' own arrival timestamps, never our code's wall time.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import http.client
import logging
import os
import pickle
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from footcast.adapters.http.client import FetchError, HttpClient, NotFoundError, default_user_agent
from footcast.adapters.http.politeness import parse_retry_after
from footcast.adapters.redaction import redact_url
from footcast.adapters.warehouse import Warehouse, http_archive

EPS = 0.05  # scheduling slack on server-side arrival times (seconds)


# -- loopback servers --------------------------------------------------------------------------


@dataclass
class Seen:
    at: float  # time.monotonic() when the request line arrived
    path: str
    headers: dict[str, str]

    @property
    def host(self) -> str:
        return self.headers.get("host", "").rsplit(":", 1)[0]


Behaviour = Callable[[BaseHTTPRequestHandler, int], None]  # (handler, nth request to this path)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        owner = self.server.owner  # type: ignore[attr-defined]
        owner.dispatch(self)

    def log_message(self, *args: object) -> None:
        pass


class LoopbackServer:
    """A ThreadingHTTPServer on 127.0.0.1:0 with scripted routes and a request log."""

    def __init__(self) -> None:
        self.routes: dict[str, Behaviour] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self  # type: ignore[attr-defined]
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def seen(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.requests if path is None or s.path == path]

    def dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        seen = Seen(time.monotonic(), handler.path, {k.lower(): v for k, v in handler.headers.items()})
        with self._lock:
            nth = sum(1 for s in self.requests if s.path == handler.path)
            self.requests.append(seen)
        behaviour = self.routes.get(handler.path, lambda h, n: send(h, 404, b"not here"))
        try:
            behaviour(handler, nth)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def send(
    handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> None:
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if status != 304:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if status != 304:
        handler.wfile.write(body)
    handler.wfile.flush()


def ok(body: bytes, **headers: str) -> Behaviour:
    def behave(handler: BaseHTTPRequestHandler, _n: int) -> None:
        send(handler, 200, body, {"Content-Type": "text/csv", **headers})

    return behave


def truncated(handler: BaseHTTPRequestHandler, _n: int) -> None:
    """Promise 1000 bytes, send 10, hang up."""
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.write(b"Div,Date,H")
    handler.wfile.flush()
    handler.close_connection = True


def reset(handler: BaseHTTPRequestHandler, _n: int) -> None:
    """Promise 1000 bytes, send 10, then abort with a TCP RST."""
    truncated(handler, _n)
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()


class ForwardingProxy(LoopbackServer):
    """A plain HTTP forward proxy (absolute-form request lines); ``broken`` hangs up instead."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = False
        self.forwarded: list[str] = []

    def dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append(Seen(time.monotonic(), handler.path, dict(handler.headers.items())))
        if self.broken:
            handler.close_connection = True  # no response at all
            return
        target = urlsplit(handler.path)
        skip = {"proxy-connection", "connection", "keep-alive", "proxy-authorization"}
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
        try:
            upstream.request(
                "GET",
                target.path,
                headers={k: v for k, v in handler.headers.items() if k.lower() not in skip},
            )
            response = upstream.getresponse()
            body = response.read()
            headers = {
                k: v
                for k, v in response.getheaders()
                if k.lower() not in skip | {"content-length", "transfer-encoding", "date", "server"}
            }
        finally:
            upstream.close()
        with self._lock:
            self.forwarded.append(handler.path)
        send(handler, response.status, body, headers)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


# -- warehouses and clients --------------------------------------------------------------------


def _sqlite_warehouse(tmp_path) -> Warehouse:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    warehouse.create_all()
    return warehouse


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request, tmp_path) -> Iterator[Warehouse]:
    if request.param == "sqlite":
        wh = _sqlite_warehouse(tmp_path)
        yield wh
        wh.engine.dispose()
        return
    url = os.environ.get("FOOTCAST_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but FOOTCAST_TEST_POSTGRES_URL is not set: the PostgreSQL variant must run")
        pytest.skip("FOOTCAST_TEST_POSTGRES_URL not set")
    wh = Warehouse(url, db_schema=f"test_http_{uuid.uuid4().hex[:12]}")
    wh.create_all()
    try:
        yield wh
    finally:
        wh.drop_schema()
        wh.engine.dispose()


@pytest.fixture
def sqlite_warehouse(tmp_path) -> Iterator[Warehouse]:
    wh = _sqlite_warehouse(tmp_path)
    yield wh
    wh.engine.dispose()


ClientFactory = Callable[..., HttpClient]


def _factory(wh: Warehouse) -> Iterator[ClientFactory]:
    clients: list[HttpClient] = []

    def make(**overrides: object) -> HttpClient:
        options: dict[str, object] = {
            "rate_per_host": 1000.0,
            "connect_timeout": 2.0,
            "read_timeout": 2.0,
            "backoff_base": 0.01,
            "backoff_max": 0.05,
            "trust_env": False,
        }
        options.update(overrides)
        client = HttpClient(wh, **options)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def make_client(warehouse: Warehouse) -> Iterator[ClientFactory]:
    yield from _factory(warehouse)


@pytest.fixture
def make_sqlite_client(sqlite_warehouse: Warehouse) -> Iterator[ClientFactory]:
    yield from _factory(sqlite_warehouse)


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


CSV_V1 = b"Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\nE0,12/08/2023,Burnley,Man City,0,3\n"
CSV_V2 = CSV_V1 + b"E0,12/08/2023,Arsenal,Nott'm Forest,2,1\n"


# -- archive and cache ---------------------------------------------------------------------------


def test_200_is_archived_and_traceable(server: LoopbackServer, make_client: ClientFactory) -> None:
    server.routes["/mmz4281/2324/E0.csv"] = ok(CSV_V1, ETag='"v1"')
    client = make_client()
    url = server.url("/mmz4281/2324/E0.csv")

    result = client.fetch(url, partition="2023|E0", max_age=None)

    assert result.origin == "network"
    assert (result.status, result.content, result.content_hash) == (200, CSV_V1, sha(CSV_V1))
    assert result.requests_made == 1
    assert result.fetched_at.tzinfo is not None
    assert abs(result.fetched_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert client.archived(url, result.content_hash) == CSV_V1
    [version] = client.versions(url)
    assert (version.etag, version.content_type, version.status) == ('"v1"', "text/csv", 200)
    assert version.fetched_at == result.fetched_at
    with pytest.raises(LookupError):
        client.archived(url, sha(b"something else"))


def test_immutable_fetch_is_served_from_archive_without_requests(
    server: LoopbackServer, make_client: ClientFactory
) -> None:
    server.routes["/past.csv"] = ok(CSV_V1)
    client = make_client()
    first = client.fetch(server.url("/past.csv"), partition="2010|E0", max_age=None)
    second = client.fetch(server.url("/past.csv"), partition="2010|E0", max_age=None)

    assert len(server.seen("/past.csv")) == 1
    assert second.origin == "archive"
    assert second.requests_made == 0
    assert (second.content, second.content_hash, second.fetched_at) == (
        CSV_V1,
        first.content_hash,
        first.fetched_at,
    )


def test_conditional_request_304_serves_archive_and_records_the_check(
    server: LoopbackServer, make_client: ClientFactory
) -> None:
    last_modified = "Sat, 12 Aug 2023 10:00:00 GMT"

    def conditional(handler: BaseHTTPRequestHandler, _n: int) -> None:
        if handler.headers.get("If-None-Match") == '"v1"':
            send(handler, 304, headers={"ETag": '"v1"'})
        else:
            send(handler, 200, CSV_V1, {"ETag": '"v1"', "Last-Modified": last_modified})

    server.routes["/current.csv"] = conditional
    client = make_client()
    url = server.url("/current.csv")
    first = client.fetch(url, partition="2024|E0", max_age=timedelta(hours=1))

    fresh = client.fetch(url, partition="2024|E0", max_age=timedelta(hours=1))
    assert fresh.origin == "archive" and fresh.requests_made == 0
    assert len(server.seen("/current.csv")) == 1

    rechecked = client.fetch(url, partition="2024|E0", max_age=timedelta(0))
    second_request = server.seen("/current.csv")[1]
    assert second_request.headers["if-none-match"] == '"v1"'
    assert second_request.headers["if-modified-since"] == last_modified
    assert rechecked.origin == "not-modified"
    assert rechecked.requests_made == 1
    assert (rechecked.status, rechecked.content, rechecked.content_hash) == (200, CSV_V1, first.content_hash)
    assert rechecked.fetched_at == first.fetched_at
    assert rechecked.checked_at is not None and first.checked_at is not None
    assert rechecked.checked_at > first.checked_at
    [version] = client.versions(url)
    assert version.last_checked_at == rechecked.checked_at
    assert version.fetched_at == first.fetched_at


def test_changed_content_archives_a_new_version_and_keeps_the_old(
    server: LoopbackServer, make_client: ClientFactory
) -> None:
    state = {"body": CSV_V1}
    server.routes["/live.csv"] = lambda h, n: send(h, 200, state["body"])
    client = make_client()
    url = server.url("/live.csv")
    v1 = client.fetch(url, partition="2024|E0", max_age=timedelta(0))

    state["body"] = CSV_V2
    v2 = client.fetch(url, partition="2024|E0", max_age=timedelta(0))
    assert v2.origin == "network"
    assert v2.content == CSV_V2 and v2.content_hash == sha(CSV_V2) != v1.content_hash
    assert client.archived(url, v1.content_hash) == CSV_V1
    assert client.archived(url, v2.content_hash) == CSV_V2
    assert [v.content_hash for v in client.versions(url)] == [v2.content_hash, v1.content_hash]
    assert client.fetch(url, partition="2024|E0", max_age=None).content == CSV_V2

    # Back to the first bytes (a correction reverted): no duplicate, v1 is current again.
    state["body"] = CSV_V1
    again = client.fetch(url, partition="2024|E0", max_age=timedelta(0))
    assert again.content_hash == v1.content_hash
    assert again.fetched_at == v1.fetched_at  # first download of these exact bytes
    assert [v.content_hash for v in client.versions(url)] == [v1.content_hash, v2.content_hash]
    assert client.fetch(url, partition="2024|E0", max_age=None).content == CSV_V1


def test_force_downloads_unconditionally(server: LoopbackServer, make_client: ClientFactory) -> None:
    server.routes["/f.csv"] = ok(CSV_V1, ETag='"v1"')
    client = make_client()
    client.fetch(server.url("/f.csv"), partition="2010|E0", max_age=None)
    forced = client.fetch(server.url("/f.csv"), partition="2010|E0", max_age=None, force=True)

    assert forced.origin == "network" and forced.requests_made == 1
    requests = server.seen("/f.csv")
    assert len(requests) == 2
    assert "if-none-match" not in requests[1].headers
    assert len(client.versions(server.url("/f.csv"))) == 1


def test_redirect_is_followed_counted_and_archived_under_the_requested_url(
    server: LoopbackServer, make_client: ClientFactory
) -> None:
    server.routes["/old.csv"] = lambda h, n: send(h, 301, b"", {"Location": "/new.csv"})
    server.routes["/new.csv"] = ok(CSV_V1)
    client = make_client()
    result = client.fetch(server.url("/old.csv"), partition="2010|E0", max_age=None)

    assert (result.content, result.requests_made, result.url) == (CSV_V1, 2, server.url("/old.csv"))
    assert client.archived(server.url("/old.csv"), result.content_hash) == CSV_V1


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_missing_resource_raises_not_found_without_retry(
    server: LoopbackServer, make_client: ClientFactory, status: int
) -> None:
    server.routes["/mmz4281/3031/E0.csv"] = lambda h, n: send(h, status, b"<html>gone</html>")
    client = make_client()
    url = server.url("/mmz4281/3031/E0.csv")

    with pytest.raises(NotFoundError) as caught:
        client.fetch(url, partition="2030|E0", max_age=None)

    error = caught.value
    assert (error.url, error.partition, error.status) == (url, "2030|E0", status)
    assert str(error).startswith(f"GET {url} for partition 2030|E0 failed: HTTP {status} ")
    assert str(error).endswith("no such resource")
    assert "\n" not in str(error)
    assert len(server.seen()) == 1
    assert client.versions(url) == []


def test_other_4xx_is_final(server: LoopbackServer, make_client: ClientFactory) -> None:
    server.routes["/forbidden"] = lambda h, n: send(h, 403, b"no")
    client = make_client()
    with pytest.raises(FetchError) as caught:
        client.fetch(server.url("/forbidden"), partition="2020|E0", max_age=None)
    assert not isinstance(caught.value, NotFoundError)
    assert caught.value.cause == "HTTP 403 Forbidden"
    assert len(server.seen()) == 1


def _then_ok(first: Behaviour, times: int, body: bytes = CSV_V1) -> Behaviour:
    def behave(handler: BaseHTTPRequestHandler, nth: int) -> None:
        if nth < times:
            first(handler, nth)
        else:
            send(handler, 200, body)

    return behave


def test_429_honours_retry_after_seconds(server: LoopbackServer, make_client: ClientFactory) -> None:
    server.routes["/busy"] = _then_ok(lambda h, n: send(h, 429, b"slow down", {"Retry-After": "1"}), 1)
    client = make_client()
    result = client.fetch(server.url("/busy"), partition="2024|E0", max_age=timedelta(0))

    first, second = server.seen("/busy")
    assert second.at - first.at >= 1.0 - EPS
    assert result.content == CSV_V1 and result.requests_made == 2


def test_503_honours_retry_after_http_date(server: LoopbackServer, make_client: ClientFactory) -> None:
    def unavailable(handler: BaseHTTPRequestHandler, _n: int) -> None:
        when = email.utils.formatdate(time.time() + 2, usegmt=True)  # whole seconds: 1-2 s ahead
        send(handler, 503, b"maintenance", {"Retry-After": when})

    server.routes["/maint"] = _then_ok(unavailable, 1)
    client = make_client()
    client.fetch(server.url("/maint"), partition="2024|E0", max_age=timedelta(0))

    first, second = server.seen("/maint")
    assert second.at - first.at >= 1.0 - EPS


def test_retry_after_is_capped(server: LoopbackServer, make_client: ClientFactory) -> None:
    server.routes["/busy"] = _then_ok(lambda h, n: send(h, 429, b"", {"Retry-After": "3600"}), 1)
    client = make_client(retry_after_max=0.3)
    client.fetch(server.url("/busy"), partition="2024|E0", max_age=timedelta(0))

    first, second = server.seen("/busy")
    assert 0.3 - EPS <= second.at - first.at < 5


def test_500_storm_fails_after_max_attempts_and_keeps_the_archive(
    server: LoopbackServer, make_client: ClientFactory
) -> None:
    state = {"fail": False}

    def flaky(handler: BaseHTTPRequestHandler, _n: int) -> None:
        if state["fail"]:
            send(handler, 500, b"<html>Internal Server Error</html>", {"Content-Type": "text/html"})
        else:
            send(handler, 200, CSV_V1)

    server.routes["/storm.csv"] = flaky
    client = make_client(max_attempts=4)
    url = server.url("/storm.csv")
    good = client.fetch(url, partition="2024|E0", max_age=None)

    state["fail"] = True
    with pytest.raises(FetchError) as caught:
        client.fetch(url, partition="2024|E0", max_age=timedelta(0))

    assert len(server.seen("/storm.csv")) == 1 + 4
    assert caught.value.cause == "HTTP 500 after 4 attempts"
    assert (caught.value.status, caught.value.attempts) == (500, 4)
    assert str(caught.value) == f"GET {url} for partition 2024|E0 failed: HTTP 500 after 4 attempts"
    # Nothing of the failure reached the archive: the good bytes are still served as they were.
    [version] = client.versions(url)
    assert version.content_hash == good.content_hash
    assert version.last_checked_at == good.checked_at
    served = client.fetch(url, partition="2024|E0", max_age=None)
    assert (served.origin, served.content) == ("archive", CSV_V1)


def test_read_timeout_is_retried_then_reported(server: LoopbackServer, make_client: ClientFactory) -> None:
    def stall(handler: BaseHTTPRequestHandler, _n: int) -> None:
        time.sleep(1.0)
        send(handler, 200, CSV_V1)

    server.routes["/slow.csv"] = stall
    client = make_client(read_timeout=0.25, max_attempts=3)
    url = server.url("/slow.csv")
    with pytest.raises(FetchError) as caught:
        client.fetch(url, partition="2024|E0", max_age=None)

    assert caught.value.cause == "read timeout after 3 attempts"
    assert len(server.seen("/slow.csv")) == 3
    assert client.versions(url) == []


@pytest.mark.parametrize("misbehave", [truncated, reset], ids=["short-body", "tcp-reset"])
def test_connection_reset_mid_body_is_retried_and_never_archived(
    server: LoopbackServer, make_client: ClientFactory, misbehave: Behaviour
) -> None:
    server.routes["/recovers.csv"] = _then_ok(misbehave, 2)
    server.routes["/broken.csv"] = misbehave
    client = make_client(max_attempts=4)

    recovered = client.fetch(server.url("/recovers.csv"), partition="2024|E0", max_age=None)
    assert (recovered.content, recovered.requests_made) == (CSV_V1, 3)
    assert [v.content_hash for v in client.versions(server.url("/recovers.csv"))] == [sha(CSV_V1)]

    with pytest.raises(FetchError) as caught:
        client.fetch(server.url("/broken.csv"), partition="2024|E0", max_age=None)
    assert caught.value.cause.startswith("connection reset after 4 attempts")
    assert len(server.seen("/broken.csv")) == 4
    assert client.versions(server.url("/broken.csv")) == []


def test_connection_refused_names_the_cause(make_client: ClientFactory) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(max_attempts=2)
    with pytest.raises(FetchError) as caught:
        client.fetch(f"http://127.0.0.1:{port}/x.csv", partition="2024|E0", max_age=None)
    assert caught.value.cause.startswith("connection failed after 2 attempts")
    assert caught.value.attempts == 2


def test_fetch_error_is_one_picklable_line() -> None:
    error = NotFoundError("http://h/x.csv", "1999|E0", "HTTP 404 Not Found: no such resource", status=404)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NotFoundError
    assert (
        str(copy) == "GET http://h/x.csv for partition 1999|E0 failed: HTTP 404 Not Found: no such resource"
    )
    assert (copy.url, copy.partition, copy.status) == ("http://h/x.csv", "1999|E0", 404)


def test_parse_retry_after() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# -- headers and politeness ----------------------------------------------------------------------


def test_user_agent_is_sent(server: LoopbackServer, make_sqlite_client: ClientFactory) -> None:
    server.routes["/a"] = ok(b"a")
    server.routes["/b"] = ok(b"b")
    make_sqlite_client().fetch(server.url("/a"), partition="p", max_age=None)
    make_sqlite_client(user_agent="footcast-test/1.0 (+ops@example.org)").fetch(
        server.url("/b"), partition="p", max_age=None
    )

    default = server.seen("/a")[0].headers["user-agent"]
    assert default == default_user_agent()
    assert default.startswith("footcast/") and "football prediction pipeline" in default
    assert server.seen("/b")[0].headers["user-agent"] == "footcast-test/1.0 (+ops@example.org)"


def test_rate_limit_spaces_requests_to_one_host(
    server: LoopbackServer, make_sqlite_client: ClientFactory
) -> None:
    rate, n = 5.0, 5
    for i in range(n):
        server.routes[f"/r{i}"] = ok(b"x")
    client = make_sqlite_client(rate_per_host=rate)
    for i in range(n):
        client.fetch(server.url(f"/r{i}"), partition="p", max_age=None)

    times = [s.at for s in server.seen()]
    assert times[-1] - times[0] >= (n - 1) / rate - EPS
    assert all(b - a >= 1 / rate - EPS for a, b in zip(times, times[1:], strict=False))


def test_rate_limit_holds_across_threads(server: LoopbackServer, make_sqlite_client: ClientFactory) -> None:
    rate, n = 4.0, 4
    for i in range(n):
        server.routes[f"/t{i}"] = ok(b"x")
    client = make_sqlite_client(rate_per_host=rate)
    threads = [
        threading.Thread(
            target=client.fetch, args=(server.url(f"/t{i}"),), kwargs={"partition": "p", "max_age": None}
        )
        for i in range(n)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    times = sorted(s.at for s in server.seen())
    assert len(times) == n
    assert all(b - a >= 1 / rate - EPS for a, b in zip(times, times[1:], strict=False))


def test_rate_limit_is_per_host(server: LoopbackServer, make_sqlite_client: ClientFactory) -> None:
    rate = 1.0
    for i in range(2):
        server.routes[f"/h{i}"] = ok(b"x")
    client = make_sqlite_client(rate_per_host=rate)
    for i in range(2):
        client.fetch(server.url(f"/h{i}", host="127.0.0.1"), partition="p", max_age=None)
        client.fetch(server.url(f"/h{i}", host="localhost"), partition="p", max_age=None)

    a1, b1, a2, b2 = server.seen()
    assert [s.host for s in (a1, b1, a2, b2)] == ["127.0.0.1", "localhost", "127.0.0.1", "localhost"]
    assert b1.at - a1.at < 1 / rate / 2  # localhost did not wait for 127.0.0.1's token
    assert a2.at - a1.at >= 1 / rate - EPS
    assert b2.at - b1.at >= 1 / rate - EPS


def test_rate_from_environment(monkeypatch: pytest.MonkeyPatch, sqlite_warehouse: Warehouse) -> None:
    monkeypatch.delenv("FOOTCAST_HTTP_RATE", raising=False)
    with HttpClient(sqlite_warehouse) as client:
        assert client.rate_per_host == 1.0
    monkeypatch.setenv("FOOTCAST_HTTP_RATE", "2.5")
    with HttpClient(sqlite_warehouse) as client:
        assert client.rate_per_host == 2.5
    with HttpClient(sqlite_warehouse, rate_per_host=0.5) as client:
        assert client.rate_per_host == 0.5
    monkeypatch.setenv("FOOTCAST_HTTP_RATE", "fast")
    with pytest.raises(ValueError, match="FOOTCAST_HTTP_RATE"):
        HttpClient(sqlite_warehouse)


# -- proxies -------------------------------------------------------------------------------------


@pytest.fixture
def proxies() -> Iterator[tuple[ForwardingProxy, ForwardingProxy]]:
    a, b = ForwardingProxy(), ForwardingProxy()
    yield a, b
    a.close()
    b.close()


def _proxy_url(proxy: ForwardingProxy) -> str:
    return f"http://127.0.0.1:{proxy.port}"


def test_proxies_rotate_round_robin(
    server: LoopbackServer,
    make_sqlite_client: ClientFactory,
    proxies: tuple[ForwardingProxy, ForwardingProxy],
) -> None:
    a, b = proxies
    for i in range(4):
        server.routes[f"/p{i}"] = ok(b"x")
    client = make_sqlite_client(proxies=[_proxy_url(a), _proxy_url(b)])
    for i in range(4):
        client.fetch(server.url(f"/p{i}"), partition="p", max_age=None)

    assert a.forwarded == [server.url("/p0"), server.url("/p2")]
    assert b.forwarded == [server.url("/p1"), server.url("/p3")]
    assert len(server.seen()) == 4


def test_failing_proxy_is_benched_then_retried_after_cooldown(
    server: LoopbackServer,
    make_sqlite_client: ClientFactory,
    proxies: tuple[ForwardingProxy, ForwardingProxy],
) -> None:
    a, b = proxies
    a.broken = True
    for i in range(5):
        server.routes[f"/q{i}"] = ok(b"x")
    cooldown = 0.5
    client = make_sqlite_client(
        proxies=[_proxy_url(a), _proxy_url(b)], proxy_max_failures=2, proxy_cooldown=cooldown
    )

    for i in range(4):
        result = client.fetch(server.url(f"/q{i}"), partition="p", max_age=None)
        assert result.content == b"x"
    # q0: a fails (1), retry via b. q1: a fails (2 -> benched), retry via b. q2, q3: b only.
    assert len(a.requests) == 2
    assert b.forwarded == [server.url(f"/q{i}") for i in range(4)]
    assert client.proxy_pool is not None and client.proxy_pool.healthy() == [_proxy_url(b)]

    a.broken = False
    time.sleep(cooldown + 0.1)
    result = client.fetch(server.url("/q4"), partition="p", max_age=None)
    assert result.requests_made == 1
    assert a.forwarded == [server.url("/q4")]  # trial request after the cooldown succeeded
    assert client.proxy_pool.healthy() == [_proxy_url(a), _proxy_url(b)]


def test_all_proxies_benched_fails_or_falls_back_to_direct(
    server: LoopbackServer,
    make_sqlite_client: ClientFactory,
    proxies: tuple[ForwardingProxy, ForwardingProxy],
) -> None:
    a, _ = proxies
    a.broken = True
    server.routes["/d0"] = ok(b"x")
    server.routes["/d1"] = ok(b"y")

    strict = make_sqlite_client(proxies=[_proxy_url(a)], proxy_max_failures=1, proxy_cooldown=60)
    with pytest.raises(FetchError) as caught:
        strict.fetch(server.url("/d0"), partition="p", max_age=None)
    assert caught.value.cause.startswith("no healthy proxy: all 1 benched")
    assert "last error after 1 attempt: connection reset" in caught.value.cause
    assert server.seen() == []

    lenient = make_sqlite_client(
        proxies=[_proxy_url(a)], proxy_max_failures=1, proxy_cooldown=60, proxy_fallback_direct=True
    )
    result = lenient.fetch(server.url("/d1"), partition="p", max_age=None)
    assert result.content == b"y" and result.requests_made == 2  # one via the proxy, one direct
    assert len(a.requests) == 2 and a.forwarded == []
    assert [s.path for s in server.seen()] == ["/d1"]


# -- credentials in URLs -------------------------------------------------------------------------

SECRET = "webpw-9f3c"  # distinctive, so a leak anywhere is found by substring


def _with_credentials(url: str, userinfo: str = f"user:{SECRET}") -> str:
    return url.replace("http://", f"http://{userinfo}@", 1)


def _archive_rows(warehouse: Warehouse) -> list[tuple[str, str]]:
    with warehouse.engine.connect() as conn:
        return [
            tuple(row) for row in conn.execute(sa.select(http_archive.c.url, http_archive.c.content_hash))
        ]


def test_credentials_are_sent_but_never_reported_stored_or_logged(
    server: LoopbackServer,
    make_client: ClientFactory,
    warehouse: Warehouse,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx logs every request at INFO
    server.routes["/mmz4281/2324/E0.csv"] = lambda h, n: send(
        h, 304 if h.headers.get("If-None-Match") == '"v1"' else 200, CSV_V1, {"ETag": '"v1"'}
    )
    client = make_client()
    url = _with_credentials(server.url("/mmz4281/2324/E0.csv"))
    shown = f"http://user:***@127.0.0.1:{server.port}/mmz4281/2324/E0.csv"

    result = client.fetch(url, partition="2023|E0", max_age=timedelta(0))

    [seen] = server.seen()
    assert seen.headers["authorization"] == "Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()
    assert result.url == shown  # what the raw asset stores as source_url and shows as metadata
    assert _archive_rows(warehouse) == [(shown, sha(CSV_V1))]
    # Looked up by the URL as fetched or as stored: the same archive entry.
    assert client.archived(url, result.content_hash) == client.archived(shown, result.content_hash) == CSV_V1
    assert [v.url for v in client.versions(url)] == [v.url for v in client.versions(shown)] == [shown]
    again = client.fetch(url, partition="2023|E0", max_age=None)
    assert (again.origin, again.url, again.requests_made) == ("archive", shown, 0)
    rechecked = client.fetch(url, partition="2023|E0", max_age=timedelta(0))
    assert (rechecked.origin, rechecked.url) == ("not-modified", shown)
    assert server.seen()[1].headers["if-none-match"] == '"v1"'
    assert len(_archive_rows(warehouse)) == 1
    assert caplog.records and not [r for r in caplog.records if SECRET in r.getMessage()]


def test_credentials_never_reach_errors_or_retry_logs(
    server: LoopbackServer, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.routes["/storm.csv"] = lambda h, n: send(h, 503, b"down")
    server.routes["/gone.csv"] = lambda h, n: send(h, 404, b"gone")
    client = make_client(max_attempts=3)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        refused = f"http://user:{SECRET}@127.0.0.1:{probe.getsockname()[1]}/x.csv"

    failures: list[FetchError] = []
    for url in (
        _with_credentials(server.url("/storm.csv")),
        _with_credentials(server.url("/gone.csv")),
        refused,
        _with_credentials(server.url("/q.csv?token=" + SECRET), userinfo=SECRET),
    ):
        with pytest.raises(FetchError) as caught:
            client.fetch(url, partition="2024|E0", max_age=timedelta(0))
        failures.append(caught.value)

    storm, gone, refused_error, query = failures
    assert str(storm) == (
        f"GET http://user:***@127.0.0.1:{server.port}/storm.csv for partition 2024|E0 failed: "
        "HTTP 503 after 3 attempts"
    )
    assert isinstance(gone, NotFoundError) and gone.url == f"http://user:***@127.0.0.1:{server.port}/gone.csv"
    assert refused_error.cause.startswith("connection failed after 3 attempts")
    assert server.seen("/q.csv?token=" + SECRET)  # the query is sent as given
    assert query.url == f"http://***@127.0.0.1:{server.port}/q.csv?token=***"
    retry_lines = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retry_lines) == 2 + 2  # 503 twice, refused twice; 404s are final
    assert all("user:***@" in line for line in retry_lines)
    for error in failures:
        for text in (str(error), error.url, error.cause, repr(pickle.loads(pickle.dumps(error)))):
            assert SECRET not in text
        assert error.__cause__ is None or SECRET not in str(error.__cause__)
    assert not [r for r in caplog.records if SECRET in r.getMessage()]


def test_archive_from_before_redaction_stays_readable(
    server: LoopbackServer, make_client: ClientFactory, warehouse: Warehouse
) -> None:
    # An archive written when versions were keyed by the URL as fetched, credentials included.
    url = _with_credentials(server.url("/mmz4281/1011/E0.csv"))
    shown = redact_url(url)
    old = datetime(2024, 1, 1, 12, 0, 0)

    def archive(key: str, content: bytes, checked: datetime) -> None:
        with warehouse.engine.begin() as conn:
            conn.execute(
                http_archive.insert().values(
                    url=key,
                    content_hash=sha(content),
                    status=200,
                    content=content,
                    etag='"v1"' if content == CSV_V1 else None,
                    last_modified=None,
                    content_type="text/csv",
                    fetched_at=checked,
                    last_checked_at=checked,
                )
            )

    archive(url, CSV_V1, old)
    # An older version is under both keys (a process already on the redacted key stored it):
    # re-keying keeps one copy.
    archive(url, CSV_V2, old - timedelta(days=1))
    archive(shown, CSV_V2, old - timedelta(days=1))
    server.routes["/mmz4281/1011/E0.csv"] = lambda h, n: send(
        h, 304 if h.headers.get("If-None-Match") == '"v1"' else 200, CSV_V1, {"ETag": '"v1"'}
    )
    client = make_client()
    assert client.archived(url, sha(CSV_V2)) == client.archived(shown, sha(CSV_V2)) == CSV_V2

    served = client.fetch(url, partition="2010|E0", max_age=None)
    assert (served.origin, served.content, served.requests_made, served.url) == ("archive", CSV_V1, 0, shown)
    assert served.fetched_at == old.replace(tzinfo=UTC)
    # Re-keyed on that fetch: the archive no longer holds the password, and the URL a raw row
    # stores now (redacted) as well as the one stored before (as fetched) both find the bytes.
    assert sorted(_archive_rows(warehouse)) == sorted([(shown, sha(CSV_V1)), (shown, sha(CSV_V2))])
    assert client.archived(shown, sha(CSV_V1)) == client.archived(url, sha(CSV_V1)) == CSV_V1
    assert client.archived(url, sha(CSV_V2)) == CSV_V2
    assert [v.url for v in client.versions(url)] == [shown, shown]
    # A re-check is still conditional on the old version's validators.
    rechecked = client.fetch(url, partition="2010|E0", max_age=timedelta(0))
    assert (rechecked.origin, rechecked.url) == ("not-modified", shown)
    assert server.seen()[0].headers["if-none-match"] == '"v1"'
