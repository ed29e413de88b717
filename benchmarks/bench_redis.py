"""Benchmark of predictions in Redis (footcast.adapters.redis), against raw Redis baselines.

In one run, against one Redis server (default the local 127.0.0.1:6379; every key under a
unique prefix, deleted at the end):

1. publish: ``PredictionStore.publish`` of 100,000 predictions (versioned keys, indexes, atomic
   switch), ``--publishes`` times in a row; from the fourth on, a publish also expires the
   oldest of the 3 kept versions (steady state). Goal: under 2 s. Baselines: the same 100,000
   hashes (no indexes) written by plain pipelined ``HSET`` through redis-py's Pipeline, and by
   ``redis-cli --pipe`` (C client: what the server itself needs to store the hashes). The CPU
   seconds of this process (the client) and of redis-server during each publish are printed
   too: on a busy machine they say more than the wall time.
2. single-match lookup latency: ``PredictionStore.get`` of random match ids, one client, one at
   a time, p50/p99. Goal: p99 under 1 ms on loopback. Baselines: plain redis-py ``HGETALL`` of
   the same keys, and ``redis-benchmark -c 1 ... HGETALL <key>`` (C client).
3. lookup throughput: ``PredictionStore.get`` from 50 concurrent clients (50 connections, each
   with one lookup in flight; checked mid-run with CLIENT LIST), spread over worker processes
   with threads, as a ratio to ``redis-benchmark -c 50 HGETALL <a real match key of the
   published version>``. The two alternate for ``--rounds`` rounds, so both see the same
   machine; the ratio is the median of the rounds' ratios. Goal: at least 0.5. For context also
   ``redis-benchmark ... EVALSHA`` of the lookup script itself (the server-side cost of a get).

The client processes, redis-benchmark and redis-server share the machine's cores (2 here), so
the figures depend on how busy the machine is: the load average is printed with them.

    python benchmarks/bench_redis.py
    python benchmarks/bench_redis.py --url redis://127.0.0.1:6379/0 --n 100000 --processes 2
    python benchmarks/bench_redis.py --json        # the figures as JSON as well
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

import hiredis
import numpy as np
import pandas as pd
import redis

from footcast.adapters.redaction import redact_url
from footcast.adapters.redis.layout import LOOKUP_MATCH_SCRIPT
from footcast.adapters.redis.store import PredictionStore, new_version

DEFAULT_URL = "redis://127.0.0.1:6379/0"


# --- data ------------------------------------------------------------------------------------------


def prediction_batch(n: int, version: str, seed: int = 0) -> pd.DataFrame:
    """``n`` plausible predictions: 40 leagues of 20 teams, fixtures every few minutes."""
    rng = np.random.default_rng(seed)
    index = np.arange(n)
    league = index % 40
    home = rng.integers(0, 20, n)
    away = (home + rng.integers(1, 20, n)) % 20
    raw = rng.dirichlet([4.5, 2.8, 3.2], n)
    probs = raw / raw.sum(axis=1, keepdims=True)
    return pd.DataFrame(
        {
            "match_id": [f"bm{i:07d}" for i in index],
            "league": [f"BL{g:02d}" for g in league],
            "season": 2026,
            "kickoff": pd.Timestamp("2026-08-01 11:30", tz="UTC") + pd.to_timedelta(index * 3, unit="min"),
            "home_team": [f"Bench {g:02d} Club {h:02d}" for g, h in zip(league, home, strict=True)],
            "away_team": [f"Bench {g:02d} Club {a:02d}" for g, a in zip(league, away, strict=True)],
            "p_home": probs[:, 0],
            "p_draw": probs[:, 1],
            "p_away": probs[:, 2],
            "fair_odds_home": 1 / probs[:, 0],
            "fair_odds_draw": 1 / probs[:, 1],
            "fair_odds_away": 1 / probs[:, 2],
            "model_name": "footcast-1x2",
            "model_version": "bench",
            "feature_set_version": "fs-bench",
            "generated_at": pd.Timestamp("2026-07-31 06:00", tz="UTC"),
            "publish_version": version,
        }
    )


# --- helpers ---------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


def latency_summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms),
        "max_ms": ms[-1],
    }


def client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5, socket_timeout=30)


def server_args(url: str, program: str) -> list[str]:
    """``program`` (redis-cli or redis-benchmark) with the host, port, credentials and db of ``url``."""
    parts = urlsplit(url)
    argv = [program, "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 6379)]
    if parts.password:
        argv += ["-a", parts.password] + (["--user", parts.username] if parts.username else [])
    db = (parts.path or "/0").strip("/") or "0"
    if db != "0":
        argv += ["--dbnum" if program == "redis-benchmark" else "-n", db]
    return argv


def redis_benchmark_command(url: str, clients: int, requests: int, *command: str) -> list[str]:
    return server_args(url, "redis-benchmark") + ["-c", str(clients), "-n", str(requests), "--csv", *command]


def shown(argv: list[str]) -> str:
    """The command line to print: quoted, without a password."""
    out = list(argv)
    if "-a" in out:
        out[out.index("-a") + 1] = "***"
    return shlex.join(out)


def run_redis_benchmark(argv: list[str]) -> dict[str, float]:
    """Run redis-benchmark with --csv and return its rps and latency columns."""
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith('"')]
    header = [h.strip('"') for h in lines[0].split('","')]
    values = [v.strip('"') for v in lines[-1].split('","')]
    row = dict(zip(header, values, strict=True))
    return {
        "rps": float(row["rps"]),
        "p50_ms": float(row["p50_latency_ms"]),
        "p99_ms": float(row["p99_latency_ms"]),
    }


def server_cpu_seconds(client: redis.Redis) -> float:
    """CPU seconds redis-server has used (user + system, all its threads and clients)."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def delete_prefix(client: redis.Redis, pattern: str) -> int:
    removed, keys = 0, []
    for key_name in client.scan_iter(match=pattern, count=5000):
        keys.append(key_name)
        if len(keys) >= 5000:
            removed += client.unlink(*keys)
            keys = []
    return removed + (client.unlink(*keys) if keys else 0)


# --- 1. publish ------------------------------------------------------------------------------------


def timed_publishes(
    client: redis.Redis, store: PredictionStore, batch: pd.DataFrame, publishes: int
) -> list[dict[str, object]]:
    runs = []
    for _ in range(publishes):
        version = new_version()
        batch = batch.assign(publish_version=version)
        server_before, cpu_before = server_cpu_seconds(client), time.process_time()
        started = time.perf_counter()
        result = store.publish(batch, version=version)
        seconds = time.perf_counter() - started
        run = {
            "version": version,
            "seconds": seconds,
            "client_cpu_seconds": time.process_time() - cpu_before,
            "server_cpu_seconds": server_cpu_seconds(client) - server_before,
            "chunks": result.chunks,
            "expired_versions": result.expired_versions,
            "load_average": os.getloadavg()[0],
        }
        assert result.count == len(batch)
        runs.append(run)
        print(
            f"publish: {len(batch):,} predictions in {seconds:.2f} s ({result.chunks} chunks, "
            f"{len(result.expired_versions)} old versions expired); CPU: client "
            f"{run['client_cpu_seconds']:.2f} s, redis-server {run['server_cpu_seconds']:.2f} s; "
            f"load {run['load_average']:.2f}",
            flush=True,
        )
    return runs


def hset_baselines(
    url: str, client: redis.Redis, prefix: str, batch: pd.DataFrame, chunk_size: int
) -> tuple[dict[str, float], list[str]]:
    """The same hashes, no indexes: redis-py's Pipeline, and redis-cli --pipe (C client)."""
    records = batch.astype(str).to_dict("records")
    started = time.perf_counter()
    for first in range(0, len(records), chunk_size):
        pipe = client.pipeline(transaction=False)
        for record in records[first : first + chunk_size]:
            pipe.hset(f"{prefix}:raw-py:{record['match_id']}", mapping=record)
        pipe.execute()
    redis_py_s = time.perf_counter() - started
    payload = b"".join(
        hiredis.pack_command(
            ("HSET", f"{prefix}:raw-cli:{r['match_id']}", *[x for kv in r.items() for x in kv])
        )
        for r in records
    )
    pipe_cli = server_args(url, "redis-cli") + ["--pipe"]
    started = time.perf_counter()
    done = subprocess.run(pipe_cli, input=payload, capture_output=True, check=True, timeout=600)
    redis_cli_s = time.perf_counter() - started
    if b"errors: 0" not in done.stdout:
        raise RuntimeError(f"redis-cli --pipe reported errors: {done.stdout[-500:]!r}")
    print(
        f"baselines: the same {len(records):,} hashes, no indexes: redis-py Pipeline {redis_py_s:.2f} s, "
        f"redis-cli --pipe {redis_cli_s:.2f} s",
        flush=True,
    )
    return {"redis_py_pipeline_seconds": redis_py_s, "redis_cli_pipe_seconds": redis_cli_s}, pipe_cli


# --- 3. throughput workers -------------------------------------------------------------------------


def _throughput_worker(
    url: str,
    prefix: str,
    ids: list[str],
    threads: int,
    per_thread: int,
    ready: mp.Barrier,
    start: mp.Event,
    results: mp.Queue,
    seed: int,
) -> None:
    client = redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=30, client_name=f"{prefix}-lookups"
    )
    store = PredictionStore(client, prefix=prefix)
    errors: list[int] = []
    warmed = threading.Barrier(threads)

    def loop(thread_seed: int) -> None:
        pick = random.Random(thread_seed)
        get = store.get
        store.get(ids[0])  # this thread's connection open and the script cached before the clock
        warmed.wait()
        if thread_seed % 1000 == 0:
            ready.wait()
        start.wait()
        missing = 0
        for _ in range(per_thread):
            if get(pick.choice(ids)) is None:
                missing += 1
        errors.append(missing)

    workers = [threading.Thread(target=loop, args=(seed * 1000 + i,)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    results.put((time.monotonic(), threads * per_thread, sum(errors)))


def lookup_throughput(
    url: str, prefix: str, ids: list[str], clients: int, requests: int, processes: int, admin: redis.Redis
) -> dict[str, object]:
    processes = max(1, min(processes, clients))
    threads = [clients // processes + (1 if p < clients % processes else 0) for p in range(processes)]
    per_thread = max(1, requests // clients)
    context = mp.get_context("fork")
    ready = context.Barrier(processes + 1)
    start = context.Event()
    results = context.Queue()
    procs = [
        context.Process(
            target=_throughput_worker,
            args=(url, prefix, ids, threads[p], per_thread, ready, start, results, p),
        )
        for p in range(processes)
    ]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for proc in procs:
        proc.start()
    ready.wait(timeout=120)
    began = time.monotonic()
    start.set()
    # Mid-run: every client has its own connection, and lookups are in flight on them.
    time.sleep(0.2)
    listed = [c for c in admin.client_list() if c.get("name") == f"{prefix}-lookups"]
    finished = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    children_cpu = sum(getattr(children, f) - getattr(children_before, f) for f in ("ru_utime", "ru_stime"))
    wall = max(end for end, _n, _e in finished) - began
    total = sum(n for _end, n, _e in finished)
    missing = sum(e for _end, _n, e in finished)
    if missing:
        raise RuntimeError(f"{missing} lookups found no prediction during the throughput run")
    if wall < 0.5:
        raise RuntimeError(f"the throughput run took {wall:.2f} s: too short to measure, raise --requests")
    return {
        "rps": total / wall,
        "requests": total,
        "seconds": wall,
        "processes": processes,
        "threads": threads,
        "connections_mid_run": len(listed),
        # whole worker processes (warm-up included): the client CPU a lookup costs under concurrency
        "client_cpu_us_per_get": children_cpu / total * 1e6,
    }


# --- the run ---------------------------------------------------------------------------------------


def lookup_latency(
    args, client, store, prefix: str, version: str, ids: list, key: str, commands: list
) -> dict:
    """Single-match lookup latency through the client, and its baselines.

    Baselines: redis-py HGETALL of the same keys and redis-benchmark -c 1 (a C client).
    """
    pick = random.Random(1)
    for _ in range(1000):  # warm up: connection, script cache
        store.get(pick.choice(ids))
    get_times, hgetall_times = [], []
    clock = time.perf_counter
    cpu_started = time.process_time()
    for _ in range(args.lookups):
        match_id = pick.choice(ids)
        t0 = clock()
        record = store.get(match_id)
        get_times.append(clock() - t0)
        assert record is not None and record["match_id"] == match_id
    # Client CPU per lookup (this process only): what caps the concurrent throughput when
    # the client processes share the cores with the server.
    get_cpu_us = (time.process_time() - cpu_started) / args.lookups * 1e6
    for _ in range(args.lookups):
        match_key = f"{prefix}:v:{version}:match:{pick.choice(ids)}"
        t0 = clock()
        client.hgetall(match_key)
        hgetall_times.append(clock() - t0)
    get_latency = latency_summary(get_times)
    hgetall_latency = latency_summary(hgetall_times)
    single = redis_benchmark_command(args.url, 1, args.lookups, "HGETALL", key)
    single_c = run_redis_benchmark(single)
    commands.append(("latency baseline (C client, 1 connection)", shown(single)))
    print(
        f"lookup latency: get p50 {get_latency['p50_ms']:.3f} ms p99 {get_latency['p99_ms']:.3f} ms; "
        f"redis-py HGETALL p50 {hgetall_latency['p50_ms']:.3f} p99 {hgetall_latency['p99_ms']:.3f}; "
        f"redis-benchmark -c 1 p50 {single_c['p50_ms']:.3f} p99 {single_c['p99_ms']:.3f}; "
        f"client CPU per get {get_cpu_us:.0f} us; load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    return {
        "lookups": args.lookups,
        "get": get_latency,
        "get_client_cpu_us": get_cpu_us,
        "redis_py_hgetall": hgetall_latency,
        "redis_benchmark_c1_hgetall": single_c,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"Redis to measure (default {DEFAULT_URL})")
    parser.add_argument("--n", type=int, default=100_000, help="predictions to publish (100000)")
    parser.add_argument(
        "--chunk-size", type=int, default=None, help="publish chunk size (default: PredictionStore's)"
    )
    parser.add_argument(
        "--publishes", type=int, default=4, help="publishes in a row (4: the last expires the oldest version)"
    )
    parser.add_argument("--lookups", type=int, default=20_000, help="sequential lookups timed (20000)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument(
        "--requests",
        type=int,
        default=50_000,
        help="get calls per throughput round (50000, over all clients)",
    )
    parser.add_argument("--baseline-requests", type=int, default=100_000, help="redis-benchmark -n (100000)")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds, ours then the baseline (3)")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="client processes sharing the concurrent clients as threads (default: the CPU count)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)

    for program in ("redis-benchmark", "redis-cli"):
        if shutil.which(program) is None:
            print(f"{program} is not installed: it runs a named baseline of this benchmark", file=sys.stderr)
            return 2
    where = redact_url(args.url, bare_userinfo_is_secret=False)
    client = client_for(args.url)
    try:
        server = client.info("server")
    except redis.RedisError as exc:
        print(f"cannot reach Redis at {where}: {exc}", file=sys.stderr)
        return 1
    prefix = f"footcast-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    load = os.getloadavg()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}: Redis {server['redis_version']} at {where}, redis-py "
        f"{redis.__version__}, hiredis {hiredis.__version__}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, key prefix {prefix}",
        flush=True,
    )
    options = {"chunk_size": args.chunk_size} if args.chunk_size else {}
    store = PredictionStore(client, prefix=prefix, **options)
    figures: dict[str, object] = {"redis": server["redis_version"], "url": where, "load_average": load}
    commands: list[tuple[str, str]] = []
    try:
        batch = prediction_batch(args.n, "unset")

        # 1. publish, and the plain-HSET baselines of the same records
        runs = timed_publishes(client, store, batch, args.publishes)
        baselines, pipe_cli = hset_baselines(args.url, client, prefix, batch, store.chunk_size)
        commands.append(("publish baseline (C client)", shown(pipe_cli) + " < <the HSET commands>"))
        figures["publish"] = {"n": args.n, "chunk_size": store.chunk_size, "runs": runs, **baselines}

        version = store.current_version()
        ids = batch["match_id"].tolist()
        key = f"{prefix}:v:{version}:match:{ids[len(ids) // 2]}"

        # 2. single-match lookup latency through the client, and the baselines
        figures["latency"] = lookup_latency(args, client, store, prefix, version, ids, key, commands)

        # 3. throughput with 50 concurrent clients vs redis-benchmark at the same concurrency,
        # alternating so that all see the same machine. redis-benchmark running the lookup script
        # itself (EVALSHA, C client) is the ceiling of any client of that script on this server.
        baseline = redis_benchmark_command(args.url, args.clients, args.baseline_requests, "HGETALL", key)
        sha = client.script_load(LOOKUP_MATCH_SCRIPT)
        lua = redis_benchmark_command(
            args.url,
            args.clients,
            args.baseline_requests,
            "EVALSHA",
            sha,
            "1",
            store.current_key,
            prefix,
            ids[0],
        )
        commands.append(("throughput baseline", shown(baseline)))
        commands.append(("the lookup script from a C client (ceiling)", shown(lua)))
        rounds = []
        for number in range(1, args.rounds + 1):
            ours = lookup_throughput(
                args.url, prefix, ids, args.clients, args.requests, args.processes, client
            )
            hgetall_c, evalsha_c = run_redis_benchmark(baseline), run_redis_benchmark(lua)
            rounds.append(
                {
                    "get": ours,
                    "redis_benchmark_hgetall": hgetall_c,
                    "redis_benchmark_evalsha_lookup": evalsha_c,
                    "ratio": ours["rps"] / hgetall_c["rps"],
                    "ratio_to_evalsha": ours["rps"] / evalsha_c["rps"],
                    "evalsha_to_hgetall": evalsha_c["rps"] / hgetall_c["rps"],
                }
            )
            print(
                f"throughput round {number}: get x {args.clients} clients ({ours['processes']} processes, "
                f"threads {ours['threads']}, {ours['connections_mid_run']} connections mid-run): "
                f"{ours['rps']:,.0f} lookups/s, client CPU {ours['client_cpu_us_per_get']:.0f} us each; "
                f"redis-benchmark -c {args.clients} HGETALL "
                f"{hgetall_c['rps']:,.0f} req/s, EVALSHA of the lookup script {evalsha_c['rps']:,.0f} req/s; "
                f"ratio {rounds[-1]['ratio']:.2f} (to EVALSHA {rounds[-1]['ratio_to_evalsha']:.2f}); "
                f"load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        figures["throughput"] = {
            "clients": args.clients,
            "rounds": rounds,
            **{
                name: statistics.median(r[name] for r in rounds)
                for name in ("ratio", "ratio_to_evalsha", "evalsha_to_hgetall")
            },
        }
    finally:
        removed = delete_prefix(client, f"{prefix}:*")
        print(f"cleaned up {removed:,} keys under {prefix}:", flush=True)

    publish, latency, throughput = figures["publish"], figures["latency"], figures["throughput"]
    get, py_hgetall = latency["get"], latency["redis_py_hgetall"]
    c_hgetall = latency["redis_benchmark_c1_hgetall"]
    first, last = publish["runs"][0], publish["runs"][-1]
    rounds = throughput["rounds"]
    ours_rps = statistics.median(r["get"]["rps"] for r in rounds)
    rb = statistics.median(r["redis_benchmark_hgetall"]["rps"] for r in rounds)
    rb_lua = statistics.median(r["redis_benchmark_evalsha_lookup"]["rps"] for r in rounds)
    publish_s = statistics.median(r["seconds"] for r in publish["runs"])

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    rows = [
        (
            f"publish {args.n:,} predictions (median of {len(publish['runs'])})",
            f"{publish_s:.2f} s",
            "< 2 s",
            f"same hashes, no indexes: redis-py Pipeline {publish['redis_py_pipeline_seconds']:.2f} s, "
            f"redis-cli --pipe {publish['redis_cli_pipe_seconds']:.2f} s",
            met(publish_s < 2),
        ),
        (
            "  first / last publish",
            f"{first['seconds']:.2f} / {last['seconds']:.2f} s",
            "",
            f"CPU of the last: client {last['client_cpu_seconds']:.2f} s, "
            f"redis-server {last['server_cpu_seconds']:.2f} s",
            "",
        ),
        (
            "get latency p50",
            f"{get['p50_ms']:.3f} ms",
            "",
            f"redis-py HGETALL {py_hgetall['p50_ms']:.3f} ms; "
            f"redis-benchmark -c 1 {c_hgetall['p50_ms']:.3f} ms",
            "",
        ),
        (
            "get latency p99",
            f"{get['p99_ms']:.3f} ms",
            "< 1 ms",
            f"redis-py HGETALL {py_hgetall['p99_ms']:.3f} ms; "
            f"redis-benchmark -c 1 {c_hgetall['p99_ms']:.3f} ms",
            met(get["p99_ms"] < 1),
        ),
        (
            f"get throughput, {args.clients} clients (median)",
            f"{ours_rps:,.0f} /s",
            "",
            f"redis-benchmark HGETALL -c {args.clients}: {rb:,.0f} /s "
            f"(EVALSHA lookup script: {rb_lua:,.0f} /s)",
            "",
        ),
        (
            f"throughput ratio (median of {len(rounds)})",
            f"{throughput['ratio']:.2f}",
            ">= 0.5",
            "rounds " + ", ".join(f"{r['ratio']:.2f}" for r in rounds) + "; "
            f"client CPU per get {latency['get_client_cpu_us']:.0f} us",
            met(throughput["ratio"] >= 0.5),
        ),
        (
            "  ceiling: EVALSHA / HGETALL (C client)",
            f"{throughput['evalsha_to_hgetall']:.2f}",
            "",
            "what redis-benchmark itself reaches running the lookup script; "
            f"get / EVALSHA {throughput['ratio_to_evalsha']:.2f}",
            "",
        ),
    ]
    table = [("figure", "value", "goal", "baseline (same run, same Redis)", "goal?"), *rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(5)]
    print()
    for row in table:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print()
    end_load = os.getloadavg()
    print(f"load average at the end: {end_load[0]:.2f} {end_load[1]:.2f} {end_load[2]:.2f}")
    print("commands:")
    print(f"  {shown([sys.executable, *sys.argv])}")
    for label, command in commands:
        print(f"  {label}: {command}")
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
