"""What the tests share: paths, the real services, the loopback servers and processes they start
(the football-data site, an alert webhook, a redis-server, the Dagster daemon), the `footcast`
command runner and the data builders more than one test module uses.

Fixtures live in the conftest.py files; this module holds plain helpers, so a subprocess started
by a test can import them too (``from tests.support import make_batch``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pandas as pd
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# --- paths ------------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]
# The development copy of the real football-data files, next to the repository (never copied here).
SHARED_DATA = REPO.parent / "shared" / "football-data"


# --- the real services ------------------------------------------------------------------------------


def require_service(variable: str) -> str:
    """The URL of a real service, or skip (locally) / fail (under CI) when it is not configured."""
    url = os.environ.get(variable)
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{variable} is not set: under CI the tests against real services must run")
    pytest.skip(f"{variable} not set (the embedded-default variant of this test still runs)")


def unique_name(stem: str) -> str:
    return f"{stem}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- football-data.co.uk on loopback ----------------------------------------------------------------

GOOD_E0 = (
    b"Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HTHG,HTAG,HTR,B365H,B365D,B365A\r\n"
    b"E0,16/08/2024,20:00,Man United,Fulham,1,0,H,0,0,D,1.60,4.20,5.25\r\n"
    b"E0,17/08/2024,12:30,Ipswich,Liverpool,0,2,A,0,0,D,8.00,5.25,1.33\r\n"
    b"E0,17/08/2024,15:00,Arsenal,Wolves,2,0,H,1,0,H,1.20,7.00,13.00\r\n"
)


class Site:
    """football-data.co.uk on loopback: path -> (status, body); records every request path."""

    def __init__(self):
        self.routes: dict[str, tuple[int, bytes]] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                site.requests.append(self.path)
                status, body = site.routes.get(self.path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- Understat on loopback ------------------------------------------------------------------------

SHARED_UNDERSTAT = REPO.parent / "shared" / "understat"
UNDERSTAT_TEAMS = (
    "Manchester United",
    "Wolverhampton Wanderers",
    "Arsenal",
    "Newcastle United",
    "Brighton",
    "Tottenham",
)


def understat_league_data(season: int, played: int, not_played: int = 0, *, first_id: int = 1000) -> bytes:
    """Understat's league data JSON (README of /work/shared/understat): ``played`` matches with
    goals, xG and forecast, then ``not_played`` ones with null goals and xG; ids from
    ``first_id``, one match a day from 10 August of ``season`` at 14:00 UTC."""
    ids = {team: str(80 + n) for n, team in enumerate(UNDERSTAT_TEAMS)}
    pairs = [(h, a) for h in UNDERSTAT_TEAMS for a in UNDERSTAT_TEAMS if h != a]
    dates = []
    for i in range(played + not_played):
        home, away = pairs[i % len(pairs)]
        done = i < played
        match = {
            "id": str(first_id + i),
            "isResult": done,
            "h": {"id": ids[home], "title": home, "short_title": home[:3].upper()},
            "a": {"id": ids[away], "title": away, "short_title": away[:3].upper()},
            "goals": {"h": str(i % 3), "a": str(i % 2)} if done else {"h": None, "a": None},
            "xG": {"h": f"{0.5 + i % 4 * 0.4:.6f}", "a": f"{0.3 + i % 3 * 0.5:.6f}"}
            if done
            else {"h": None, "a": None},
            "datetime": f"{pd.Timestamp(season, 8, 10, 14) + pd.Timedelta(days=i):%Y-%m-%d %H:%M:%S}",
        }
        if done:
            match["forecast"] = {"w": "0.4512", "d": "0.2731", "l": "0.2757"}
        dates.append(match)
    teams = {ids[t]: {"id": ids[t], "title": t, "history": []} for t in UNDERSTAT_TEAMS}
    return json.dumps({"teams": teams, "players": [], "dates": dates}).encode()


class UnderstatSite:
    """Understat on loopback, as its protocol is described in /work/shared/understat/README.md.

    ``/league/<LEAGUE>/<YEAR>`` is an HTML shell that sets a session cookie; like a page served
    whatever the session, it sets one only for a request that carries none, so a client holding
    an expired cookie must drop it to get a new one. ``/getLeagueData/<LEAGUE>/<YEAR>`` answers
    403 unless the request carries ``X-Requested-With: XMLHttpRequest`` and a live session
    cookie; else the JSON in ``data["<LEAGUE>/<YEAR>"]`` (404 when there is none). ``faults``:
    per API path, responses (status, body, headers) served before anything else, in order.
    :meth:`expire_sessions` ends every session (the cookies clients hold go stale).
    """

    COOKIE = "understat_session"

    def __init__(self):
        self.data: dict[str, bytes] = {}
        self.faults: dict[str, list[tuple[int, bytes, dict[str, str]]]] = {}
        self.requests: list[tuple[float, str, dict[str, str]]] = []  # (arrival, path, headers)
        self.sessions: set[str] = set()
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                headers = {k.lower(): v for k, v in self.headers.items()}
                with site._lock:
                    site.requests.append((time.monotonic(), self.path, headers))
                status, body, extra = site._answer(self.path, headers)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [path for _at, path, _headers in self.requests]

    def expire_sessions(self) -> None:
        with self._lock:
            self.sessions.clear()

    def session_of(self, headers: dict[str, str]) -> str | None:
        for part in headers.get("cookie", "").split(";"):
            name, _sep, value = part.strip().partition("=")
            if name == self.COOKIE:
                return value
        return None

    def _answer(self, path: str, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        kind, _sep, key = path.lstrip("/").partition("/")
        with self._lock:
            if self.faults.get(path):
                return self.faults[path].pop(0)
            if kind == "league" and key in self.data:
                extra = {"Content-Type": "text/html; charset=utf-8"}
                if self.session_of(headers) is None:
                    token = uuid.uuid4().hex
                    self.sessions.add(token)
                    extra["Set-Cookie"] = f"{self.COOKIE}={token}; Path=/; HttpOnly"
                return 200, b"<!DOCTYPE html><html><body><div id='league-chemp'></div></body></html>", extra
            if kind == "getLeagueData":
                if (
                    headers.get("x-requested-with") != "XMLHttpRequest"
                    or self.session_of(headers) not in self.sessions
                ):
                    return 403, b"<html><body>403 Forbidden</body></html>", {"Content-Type": "text/html"}
                if key in self.data:
                    return 200, self.data[key], {"Content-Type": "application/json"}
        return 404, b"not found", {}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class WebhookReceiver:
    """An alert webhook on 127.0.0.1: records each POSTed JSON body, answers ``status``."""

    def __init__(self, status: int = 204):
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                receiver.paths.append(self.path)
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A token in the path, as Slack/Teams webhooks have: it must never be logged or stored.
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T0KEN-s3cret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- `footcast serve` on loopback ---------------------------------------------------------------------


class ApiServer:
    """`python -m footcast.cli.main serve` on a free loopback port, in its own process group."""

    def __init__(self, home: Path, redis_url: str | None, prefix: str, workers: int = 1, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / f"serve-{self.port}.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "PROMETHEUS_"))}
        self.env.update(FOOTCAST_HOME=str(home), FOOTCAST_REDIS_PREFIX=prefix, **env)
        if redis_url:  # else the embedded server under FOOTCAST_HOME, as `footcast serve` defaults
            self.env["FOOTCAST_REDIS_URL"] = redis_url
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def start(self) -> ApiServer:
        command = [sys.executable, "-m", "footcast.cli.main", "serve", "--port", str(self.port)]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*command, "--workers", str(self.workers)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"footcast serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"footcast serve did not come up:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


# --- a real redis-server the test owns -----------------------------------------------------------


class RedisServer:
    """One redis-server process on 127.0.0.1:port with its files in ``directory``.

    ``persistent=False`` is the brief's throwaway server (``--save "" --appendonly no``): a
    restart loses everything. ``persistent=True`` adds an append-only file in ``directory``, so
    the data survives a stop (SHUTDOWN flushes it) and a restart on the same port.
    """

    def __init__(self, binary: str, directory: Path, persistent: bool):
        self.binary = binary
        self.directory = directory
        self.persistent = persistent
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A decoding client with short timeouts, as the tests' stores and readers use."""
        return redis.Redis.from_url(
            self.url, decode_responses=True, socket_connect_timeout=1, socket_timeout=5
        )

    def _admin_client(self) -> redis.Redis:
        # No retries inside redis-py: a refused or dropped connection is the expected answer here.
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            socket_connect_timeout=1,
            socket_timeout=20,
            retry=Retry(NoBackoff(), 0),
        )

    def start(self) -> None:
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "yes" if self.persistent else "no",
            "--dir", str(self.directory),
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe = self._admin_client()
        deadline = time.monotonic() + 15
        try:
            while True:
                if self.process.poll() is not None:
                    log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}:\n{log}")
                try:
                    if probe.ping() and probe.info("persistence")["loading"] == 0:
                        return
                except (redis.ConnectionError, redis.BusyLoadingError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on port {self.port} did not come up")
                time.sleep(0.02)
        finally:
            probe.close()

    def stop(self) -> None:
        """Shut the server down now (SHUTDOWN: a persistent server first flushes its append-only
        file; a SIGTERM would wait for the next server cron tick, up to 100 ms later)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            admin = self._admin_client()
            try:
                admin.shutdown(nosave=not self.persistent)
            except redis.ConnectionError:
                pass  # the server closes the connection as it exits
            finally:
                admin.close()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


# --- prediction batches whose every record says which version it belongs to -----------------------

# Values that differ per version, so a record tells which version it came from and a mix of
# two versions inside one record (or one index reply) is visible.
P_HOME = {"A": 0.41, "B": 0.47, "C": 0.53}
P_DRAW = 0.27
N_TEAMS = 500
N_LEAGUES = 20


def make_batch(tag: str, n: int) -> pd.DataFrame:
    """``n`` fixtures, same matches for every tag; the probabilities and model version differ."""
    index = pd.RangeIndex(n)
    p_home = P_HOME[tag]
    p_away = 1 - p_home - P_DRAW
    return pd.DataFrame(
        {
            "match_id": [f"m{i:06d}" for i in index],
            "league": [f"L{i % N_LEAGUES:02d}" for i in index],
            "season": 2026,
            "kickoff": pd.Timestamp("2026-08-01 11:00", tz="UTC") + pd.to_timedelta(index * 10, unit="min"),
            "home_team": [f"Team {i % N_TEAMS:03d}" for i in index],
            "away_team": [f"Team {(i + 1 + i // N_TEAMS) % N_TEAMS:03d}" for i in index],
            "p_home": p_home,
            "p_draw": P_DRAW,
            "p_away": p_away,
            "fair_odds_home": 1 / p_home,
            "fair_odds_draw": 1 / P_DRAW,
            "fair_odds_away": 1 / p_away,
            "model_name": "footcast-1x2",
            "model_version": f"model-{tag}",
            "feature_set_version": "fs-faults",
            "generated_at": pd.Timestamp("2026-07-31", tz="UTC"),
            "publish_version": tag,
        }
    )


@dataclass
class Expected:
    """What a complete version of ``make_batch(_, n)`` holds, independent of the tag."""

    n: int
    rows: dict[str, dict] = field(default_factory=dict)
    team: dict[str, list[str]] = field(default_factory=dict)
    league_date: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, n: int) -> Expected:
        from footcast.data import schema, teams

        frame = make_batch("A", n)
        frame["kickoff_text"] = [k.isoformat() for k in frame["kickoff"]]
        frame["day"] = frame["kickoff"].dt.tz_convert(schema.UK).dt.strftime("%Y-%m-%d")
        expected = cls(n)
        key_of = {name: teams.team_key(name) for name in set(frame["home_team"]) | set(frame["away_team"])}
        for row in frame.to_dict("records"):
            match_id = row["match_id"]
            expected.rows[match_id] = row
            expected.team.setdefault(key_of[row["home_team"]], []).append(match_id)
            expected.team.setdefault(key_of[row["away_team"]], []).append(match_id)
            expected.league_date.setdefault((row["league"], row["day"]), []).append(match_id)
        return expected

    def record_problem(self, record: dict | None, match_id: str | None = None) -> str | None:
        """Why ``record`` is not a complete record of one version (None when it is)."""
        from footcast.adapters.redis.layout import PREDICTION_FIELDS

        if record is None:
            return f"{match_id}: missing"
        if set(record) != set(PREDICTION_FIELDS):
            return f"{record.get('match_id')}: fields {sorted(record)}"
        tag = record["publish_version"]
        if tag not in P_HOME:
            return f"{record['match_id']}: unknown publish_version {tag!r}"
        want = self.rows.get(record["match_id"])
        if want is None or (match_id is not None and record["match_id"] != match_id):
            return f"asked {match_id}, got {record['match_id']}"
        p_home = P_HOME[tag]
        checks = {
            "p_home": record["p_home"] == p_home,
            "p_away": record["p_away"] == 1 - p_home - P_DRAW,
            "fair_odds_home": record["fair_odds_home"] == 1 / p_home,
            "model_version": record["model_version"] == f"model-{tag}",
            "teams": (record["home_team"], record["away_team"]) == (want["home_team"], want["away_team"]),
            "league": record["league"] == want["league"],
            "kickoff": record["kickoff"] == want["kickoff_text"],
        }
        bad = [name for name, ok in checks.items() if not ok]
        return f"{record['match_id']} ({tag}): inconsistent {bad}" if bad else None

    def index_problem(self, records: list[dict], want_ids: list[str]) -> tuple[str | None, str | None]:
        """(version of the reply, why it is not one complete version's index reply)."""
        tags = {r.get("publish_version") for r in records}
        tag = next(iter(tags)) if len(tags) == 1 else None
        if len(tags) > 1:
            return None, f"one reply mixes versions {sorted(map(str, tags))}"
        if [r.get("match_id") for r in records] != want_ids:
            return tag, f"index reply has {len(records)} records, expected {len(want_ids)}"
        for record in records:
            problem = self.record_problem(record)
            if problem:
                return tag, problem
        return tag, None


# --- the Dagster daemon against the production instance template ----------------------------------


def production_instance(dagster_home: Path, database_url: str) -> dict[str, str]:
    """DAGSTER_HOME holding the production template, and its DAGSTER_PG_* settings for a database."""
    import sqlalchemy as sa

    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_bytes((REPO / "deploy" / "dagster.production.yaml").read_bytes())
    url = sa.engine.make_url(database_url)
    return {
        "DAGSTER_PG_HOST": url.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_USER": url.username or "postgres",
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": url.database,
    }


class Daemon:
    """`dagster-daemon run` on the repository's workspace, in its own process group."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            ["dagster-daemon", "run", "-w", str(REPO / "workspace.yaml")],
            cwd=REPO,
            env=dict(os.environ),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        """SIGTERM the daemon's process group, then SIGKILL what is left of it: the code server
        it started can outlive it for minutes, still evaluating sensors."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self._log.close()


def _failure_text(instance, record) -> str:
    from dagster import DagsterEventType

    logs = instance.all_logs(record.dagster_run.run_id, of_type=DagsterEventType.STEP_FAILURE)
    messages = [str(entry.dagster_event.step_failure_data.error.to_string()) for entry in logs]
    return "\n".join(messages)[-2000:] or "(no step failure)"


def wait_for(daemon: Daemon, instance, what: str, predicate: Callable, timeout: float):
    """Poll ``predicate`` until truthy; fail early on a failed run or a dead daemon."""
    from dagster import DagsterRunStatus, RunsFilter

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        failed = instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
        if failed:
            pytest.fail(f"run {failed[0].dagster_run.job_name} failed:\n{_failure_text(instance, failed[0])}")
        if daemon.process.poll() is not None:
            pytest.fail(f"dagster-daemon exited while waiting for {what}:\n{daemon.log_tail()}")
        if time.monotonic() > deadline:
            pytest.fail(
                f"timed out after {timeout:.0f}s waiting for {what}; daemon log:\n{daemon.log_tail()}"
            )
        time.sleep(1)


# --- the `footcast` command -------------------------------------------------------------------------


def footcast(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `footcast ARGS` as a user would: a separate process with exactly ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "footcast.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- data builders ----------------------------------------------------------------------------------

# A season file with a bad stat (HY 1.2, line 3), a bad price (B365H 3.53.75, line 4) and a bad
# date (32/08/2024, line 5): the season loads, the two cells are findings, the row is quarantined.
FLAWED_HEADER = b"Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HTHG,HTAG,HTR,HY,AY,B365H,B365D,B365A\r\n"
FLAWED_ROWS = [
    b"E0,16/08/2024,20:00,Man United,Fulham,1,0,H,0,0,D,2,3,1.60,4.20,5.25\r\n",
    b"E0,17/08/2024,12:30,Ipswich,Liverpool,0,2,A,0,0,D,1.2,1,8.00,5.25,1.33\r\n",
    b"E0,17/08/2024,15:00,Arsenal,Wolves,2,0,H,1,0,H,1,2,3.53.75,7.00,13.00\r\n",
    b"E0,32/08/2024,15:00,Everton,Brighton,0,3,A,0,1,A,1,1,2.80,3.30,2.50\r\n",
    b"E0,17/08/2024,15:00,Newcastle,Southampton,1,0,H,1,0,H,2,2,1.40,4.75,7.50\r\n",
]
FLAWED_E0 = FLAWED_HEADER + b"".join(FLAWED_ROWS)


# One E0 results line (GOOD_E0's columns) per check of the validated layer that rejects it.
BAD_ROWS = {
    "goals_in_range": b"E0,24/08/2024,15:00,Fulham,Leicester,16,1,H,0,1,A,1.80,3.80,4.20\r\n",
    "ftr_consistent": b"E0,24/08/2024,15:00,Bournemouth,Newcastle,0,1,H,0,0,D,2.90,3.50,2.40\r\n",
    "odds_above_one": b"E0,24/08/2024,15:00,Wolves,Chelsea,2,6,A,2,2,D,0.90,4.00,1.75\r\n",
    "home_away_distinct": b"E0,24/08/2024,15:00,Everton,Everton,0,0,D,0,0,D,2.00,3.00,4.00\r\n",
    "teams_known": b"E0,24/08/2024,15:00,Gotham City,Arsenal,0,2,A,0,1,A,6.00,4.20,1.50\r\n",
    "kickoff_in_season": b"E0,24/08/2023,15:00,Aston Villa,Brentford,1,1,D,0,0,D,2.00,3.40,3.60\r\n",
}


def rows(league: str, season: int, n: int, goals: int = 1) -> pd.DataFrame:
    """``n`` conformed matches of one league-season, every one ending ``goals``-0."""
    from footcast.data import schema

    frame = pd.DataFrame(
        {
            "league": league,
            "season": season,
            "home_team": [f"Home {i}" for i in range(n)],
            "away_team": [f"Away {i}" for i in range(n)],
            "kickoff": pd.date_range(f"{season}-08-10 14:00", periods=n, freq="D", tz="UTC"),
            "kickoff_time_known": True,
            "fthg": goals,
            "ftag": 0,
            "ftr": "H",
            "odds_b365_open_h": 1.9,
        }
    )
    frame["match_id"] = [
        schema.make_match_id(league, season, h, a)
        for h, a in zip(frame["home_team"], frame["away_team"], strict=True)
    ]
    return schema.conform(frame)


# --- a league-season in both sources (linking) -------------------------------------------------------


def round_robin(teams: list[str]) -> list[list[tuple[str, str]]]:
    """A double round robin of an even number of teams (circle method): rounds of (home, away)."""
    n = len(teams)
    order = list(teams)
    first_half = []
    for r in range(n - 1):
        pairs = [(order[i], order[n - 1 - i]) for i in range(n // 2)]
        first_half.append([(a, h) if (r + i) % 2 else (h, a) for i, (h, a) in enumerate(pairs)])
        order = [order[0], order[-1], *order[1:-1]]
    return first_half + [[(a, h) for h, a in pairs] for pairs in first_half]


def league_season_pair(
    league: str,
    season: int,
    teams: list[str],
    understat_names: dict[str, str] | None = None,
    *,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One league-season in both sources: (football-data's validated rows, Understat's rows).

    A double round robin of ``teams`` (football-data's names), one round a week from the second
    Saturday of August at 15:00 UK (Understat's kickoff is the same moment in UTC), with seeded
    random scores; Understat calls a team ``understat_names.get(team, team)``. Row i of both
    frames is the same match; Understat ids are ``str(10000 + i)``.
    """
    import numpy as np

    from footcast.data import schema, understat

    rng = np.random.default_rng(seed)
    first = pd.Timestamp(f"{season}-08-08") + pd.offsets.Week(weekday=5)
    records = []
    for week, pairs in enumerate(round_robin(teams)):
        day = (first + pd.Timedelta(weeks=week)).date()
        kickoff, _known = schema.uk_kickoff_to_utc(day, schema.NOMINAL_KICKOFF_UK)
        for home, away in pairs:
            records.append((kickoff, home, away, int(rng.poisson(1.5)), int(rng.poisson(1.1))))
    fd = pd.DataFrame(records, columns=["kickoff", "home_team", "away_team", "fthg", "ftag"])
    fd = fd.assign(league=league, season=season, kickoff_time_known=True, source="football-data")
    fd["ftr"] = np.select([fd.fthg > fd.ftag, fd.fthg < fd.ftag], ["H", "A"], "D")
    fd["match_id"] = schema.assign_match_ids(fd)
    names = understat_names or {}
    xg = pd.DataFrame(
        {
            "understat_id": [str(10000 + i) for i in range(len(fd))],
            "league": league,
            "season": season,
            "kickoff": fd["kickoff"],
            "home_team": fd["home_team"].map(lambda t: names.get(t, t)),
            "away_team": fd["away_team"].map(lambda t: names.get(t, t)),
            "is_result": True,
            "home_goals": fd["fthg"],
            "away_goals": fd["ftag"],
            "home_xg": rng.uniform(0.2, 3.0, len(fd)).round(3),
            "away_xg": rng.uniform(0.2, 3.0, len(fd)).round(3),
            "source_index": range(1, len(fd) + 1),
        }
    )
    return schema.conform(fd), understat.conform(xg)


def store_league_season(warehouse, fd: pd.DataFrame, xg: pd.DataFrame) -> None:
    """Put one league-season of :func:`league_season_pair` in ``matches`` and ``understat_matches``."""
    from footcast.adapters.warehouse import matches, understat_matches

    where = {"league": fd["league"].iloc[0], "season": int(fd["season"].iloc[0])}
    fetched_at = pd.Timestamp("2026-11-29 10:00", tz="UTC")
    warehouse.replace_partition(matches, where, fd.assign(fetched_at=fetched_at))
    warehouse.replace_partition(understat_matches, where, xg.assign(fetched_at=fetched_at))


# --- the track record's scripted timeline -------------------------------------------------------------
# One round of SIM1 (2026/27) and three prediction batches: v1 on Thursday, v2 on Saturday after
# M1 kicked off, v3 on Sunday after M4 kicked off (still holding M4, as a lagging fixtures list
# would) with P rescheduled to Wednesday and Q gone (postponed, no date yet). X was played before
# anything was published. Each batch gives every match the same probabilities, so the version
# scored is visible in them.

TIMELINE_PROBS = {"v1": (0.5, 0.3, 0.2), "v2": (0.4, 0.3, 0.3), "v3": (0.2, 0.3, 0.5)}
TIMELINE_MARKET = (0.5, 0.25, 0.25)  # the opening market every batch recorded
TIMELINE_CLOSE_ODDS = (2.5, 5.0, 2.5)  # no margin: closing probabilities 0.4, 0.2, 0.4
TIMELINE_ELO = (0.45, 0.3, 0.25)
TIMELINE_PUBLISHED = {"v1": "2026-11-26 10:00", "v2": "2026-11-28 13:00", "v3": "2026-11-29 15:00"}
# match -> (kickoff it is played at, result, kickoff the batches first had)
TIMELINE_MATCHES = {
    "X": ("2026-11-21 15:00", "H", None),
    "M1": ("2026-11-28 12:30", "H", None),
    "M2": ("2026-11-28 15:00", "D", None),
    "M3": ("2026-11-28 15:00", "A", None),
    "M4": ("2026-11-29 14:00", "H", None),
    "M5": ("2026-11-29 16:30", "A", None),
    "P": ("2026-12-02 19:45", "H", "2026-11-28 15:00"),
    "Q": ("2026-12-09 19:45", "D", "2026-11-29 14:00"),
}
# batch -> (its matches, those of them it has at the kickoff they are played at, not as planned)
TIMELINE_BATCHES = {
    "v1": ("M1 M2 M3 M4 M5 P Q".split(), []),
    "v2": ("M2 M3 M4 M5 P Q".split(), []),
    "v3": ("M4 M5 P".split(), ["P"]),
}
TIMELINE_LIVE = {"M1": "v1", "M2": "v2", "M3": "v2", "M4": "v2", "M5": "v3", "P": "v3"}


def timeline_id(name: str) -> str:
    return f"tl{name.lower()}"


def _timeline_kickoff(name: str, which: str) -> pd.Timestamp:
    played, _result, planned = TIMELINE_MATCHES[name]
    return pd.Timestamp(planned if which == "planned" and planned else played, tz="UTC")


def publish_timeline(warehouse) -> dict[str, str]:
    """The three batches in ``predictions`` (as the predictions asset writes them) and the Elo of
    the features; returns v1/v2/v3 -> publish version."""
    from footcast.adapters.warehouse import predictions

    versions = {}
    for name, published in TIMELINE_PUBLISHED.items():
        moment = pd.Timestamp(published, tz="UTC")
        versions[name] = f"{moment:%Y%m%dT%H%M%SZ}-{name}"
        rows, rescheduled = TIMELINE_BATCHES[name]
        p, m = TIMELINE_PROBS[name], TIMELINE_MARKET
        batch = pd.DataFrame(
            {
                "publish_version": versions[name],
                "match_id": [timeline_id(r) for r in rows],
                "league": "SIM1",
                "season": 2026,
                "kickoff": [_timeline_kickoff(r, "played" if r in rescheduled else "planned") for r in rows],
                "home_team": [f"{r} Town" for r in rows],
                "away_team": [f"{r} Rovers" for r in rows],
                "p_home": p[0], "p_draw": p[1], "p_away": p[2],
                "fair_odds_home": 1 / p[0], "fair_odds_draw": 1 / p[1], "fair_odds_away": 1 / p[2],
                "model_name": "footcast-1x2", "model_version": "4", "feature_set_version": "fs-1",
                "generated_at": moment,
                "market_open_p_home": m[0], "market_open_p_draw": m[1], "market_open_p_away": m[2],
                "market_open_available": 1.0,
            }
        )  # fmt: skip
        warehouse.replace_partition(predictions, {"publish_version": versions[name]}, batch)
    names = list(TIMELINE_MATCHES)
    features = pd.DataFrame(
        {
            "match_id": [timeline_id(m) for m in names],
            "league": "SIM1",
            "season": 2026,
            "kickoff": [_timeline_kickoff(m, "played") for m in names],
            "home_team": [f"{m} Town" for m in names],
            "away_team": [f"{m} Rovers" for m in names],
            "played": False,
            "result": None,
            "feature_set_version": "fs-1",
            "elo_p_home": TIMELINE_ELO[0], "elo_p_draw": TIMELINE_ELO[1], "elo_p_away": TIMELINE_ELO[2],
        }
    )  # fmt: skip
    warehouse.replace_features(features, ["elo_p_home", "elo_p_draw", "elo_p_away"])
    return versions


def play_timeline(warehouse, names: list[str]) -> None:
    """The results of these matches (and of those played before) in the validated ``matches``."""
    from footcast.adapters.warehouse import matches

    close = TIMELINE_CLOSE_ODDS
    frame = pd.DataFrame(
        {
            "match_id": [timeline_id(m) for m in names],
            "league": "SIM1",
            "season": 2026,
            "kickoff": [_timeline_kickoff(m, "played") for m in names],
            "kickoff_time_known": True,
            "home_team": [f"{m} Town" for m in names],
            "away_team": [f"{m} Rovers" for m in names],
            "ftr": [TIMELINE_MATCHES[m][1] for m in names],
            "odds_ps_open_h": 2.0, "odds_ps_open_d": 4.0, "odds_ps_open_a": 4.0,
            "odds_ps_close_h": close[0], "odds_ps_close_d": close[1], "odds_ps_close_a": close[2],
        }
    )  # fmt: skip
    warehouse.replace_partition(matches, {"league": "SIM1", "season": 2026}, frame)


def hand_rps(p: tuple[float, float, float], result: str) -> float:
    """RPS by hand: half the summed squared gaps between the cumulative forecast and outcome."""
    observed = {"H": (1, 0, 0), "D": (0, 1, 0), "A": (0, 0, 1)}[result]
    first = p[0] - observed[0]
    second = p[0] + p[1] - observed[0] - observed[1]
    return (first**2 + second**2) / 2


def publish_timeline_track_record(client, prefix: str, folder: Path, now) -> dict:
    """The timeline's track record, every match played, scored in a SQLite warehouse under
    ``folder`` and published to Redis under ``prefix`` by the calls the assets make; returns
    the report published."""
    from footcast.adapters.redis import track_record as redis_track_record
    from footcast.adapters.warehouse import Warehouse
    from footcast.services import track_record

    warehouse = Warehouse(f"sqlite:///{folder / 'track-record.sqlite'}")
    warehouse.create_all()
    publish_timeline(warehouse)
    play_timeline(warehouse, list(TIMELINE_MATCHES))
    track_record.update(warehouse, now=now)
    report = track_record.report(track_record.read(warehouse))
    redis_track_record.publish(client, prefix, report, now)
    warehouse.engine.dispose()
    return report
