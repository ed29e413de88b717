"""Benchmark of predictions in Redis (footcast.pipelines.redis_store), against raw Redis baselines.

In one run, against one Redis server (default the local 127.0.0.1:6379; every key under a
unique prefix, deleted at the end):

1. publish: ``PredictionStore.publish`` of 100,000 predictions (versioned keys, indexes, atomic
   switch). Goal: under 2 s. Baseline: the same 100,000 hashes written with plain pipelined
   ``HSET`` through redis-py (no indexes, no conversion), same chunk size.
2. single-match lookup latency: ``PredictionStore.get`` of random match ids, one client, one at
   a time, p50/p99. Goal: p99 under 1 ms on loopback. Baselines: plain redis-py ``HGETALL`` of
   the same keys, and ``redis-benchmark -c 1 ... HGETALL <key>`` (C client).
3. lookup throughput: ``PredictionStore.get`` from 50 concurrent clients (connections), spread
   over worker processes with threads (the GIL caps one Python process), as a ratio to
   ``redis-benchmark -c 50 -n 200000 HGETALL <a real match key of the published version>``.
   Goal: ratio at least 0.5. For context also ``redis-benchmark ... EVALSHA`` of the lookup
   script itself (the server-side cost of one ``get``).

The client processes and redis-benchmark share the machine's cores with the Redis server, so
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
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import redis

from footcast.pipelines import redis_store

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


def redis_benchmark_command(url: str, clients: int, requests: int, *command: str) -> list[str]:
    parts = urlsplit(url)
    argv = ["redis-benchmark", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 6379)]
    if parts.password:
        argv += ["-a", parts.password] + (["--user", parts.username] if parts.username else [])
    db = (parts.path or "/0").strip("/") or "0"
    if db != "0":
        argv += ["--dbnum", db]
    return argv + ["-c", str(clients), "-n", str(requests), "--csv", *command]


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
    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=30, max_connections=threads + 1)
    store = redis_store.PredictionStore(client, prefix=prefix)
    errors: list[int] = []

    def loop(thread_seed: int) -> None:
        pick = random.Random(thread_seed)
        get = store.get
        missing = 0
        for _ in range(per_thread):
            if get(pick.choice(ids)) is None:
                missing += 1
        errors.append(missing)

    # Open every connection (and load the script) before the clock starts.
    warm = [threading.Thread(target=lambda: [store.get(ids[0]) for _ in range(3)]) for _ in range(threads)]
    for t in warm:
        t.start()
    for t in warm:
        t.join()
    workers = [threading.Thread(target=loop, args=(seed * 1000 + i,)) for i in range(threads)]
    ready.wait()
    start.wait()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    results.put((time.monotonic(), threads * per_thread, sum(errors)))


def lookup_throughput(
    url: str, prefix: str, ids: list[str], clients: int, requests: int, processes: int
) -> dict[str, float]:
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
    for proc in procs:
        proc.start()
    ready.wait(timeout=120)
    began = time.monotonic()
    start.set()
    finished = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    wall = max(end for end, _n, _e in finished) - began
    total = sum(n for _end, n, _e in finished)
    missing = sum(e for _end, _n, e in finished)
    if missing:
        raise RuntimeError(f"{missing} lookups found no prediction during the throughput run")
    return {
        "rps": total / wall,
        "requests": total,
        "seconds": wall,
        "processes": processes,
        "threads": threads,
    }


# --- the run ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help=f"Redis to measure (default {DEFAULT_URL})")
    parser.add_argument("--n", type=int, default=100_000, help="predictions to publish (100000)")
    parser.add_argument("--chunk-size", type=int, default=2000, help="publish chunk size (2000, the default)")
    parser.add_argument("--lookups", type=int, default=20_000, help="sequential lookups timed (20000)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument(
        "--requests",
        type=int,
        default=50_000,
        help="get calls in the throughput run (50000, over all clients)",
    )
    parser.add_argument("--baseline-requests", type=int, default=200_000, help="redis-benchmark -n (200000)")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="client processes sharing the concurrent clients as threads (default: the CPU count)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)

    if shutil.which("redis-benchmark") is None:
        print("redis-benchmark is not installed: it is the named baseline of this benchmark", file=sys.stderr)
        return 2
    where = redis_store.redact_url(args.url)
    client = client_for(args.url)
    try:
        server = client.info("server")
    except redis.RedisError as exc:
        print(f"cannot reach Redis at {where}: {exc}", file=sys.stderr)
        return 1
    prefix = f"footcast-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    load = os.getloadavg()
    print(
        f"Redis {server['redis_version']} at {where}, redis-py {redis.__version__}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, key prefix {prefix}",
        flush=True,
    )
    store = redis_store.PredictionStore(client, prefix=prefix, chunk_size=args.chunk_size)
    figures: dict[str, object] = {"redis": server["redis_version"], "url": where, "load_average": load}
    commands: list[tuple[str, str]] = []
    try:
        version = redis_store.new_version()
        batch = prediction_batch(args.n, version)

        # 1. publish, and the plain-HSET baseline of the same records
        started = time.perf_counter()
        result = store.publish(batch, version=version)
        publish_s = time.perf_counter() - started
        assert result.count == args.n
        print(f"publish: {args.n:,} predictions in {publish_s:.2f} s ({result.chunks} chunks)", flush=True)
        records = batch.astype(str).to_dict("records")
        started = time.perf_counter()
        for first in range(0, len(records), args.chunk_size):
            pipe = client.pipeline(transaction=False)
            for record in records[first : first + args.chunk_size]:
                pipe.hset(f"{prefix}:raw:{record['match_id']}", mapping=record)
            pipe.execute()
        raw_hset_s = time.perf_counter() - started
        print(f"baseline: pipelined HSET of the same {args.n:,} hashes in {raw_hset_s:.2f} s", flush=True)
        figures["publish"] = {"n": args.n, "seconds": publish_s, "raw_hset_seconds": raw_hset_s}

        ids = batch["match_id"].tolist()
        key = f"{prefix}:v:{version}:match:{ids[len(ids) // 2]}"

        # 2. single-match lookup latency through the client, and the baselines
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
            f"client CPU per get {get_cpu_us:.0f} us",
            flush=True,
        )
        figures["latency"] = {
            "lookups": args.lookups,
            "get": get_latency,
            "get_client_cpu_us": get_cpu_us,
            "redis_py_hgetall": hgetall_latency,
            "redis_benchmark_c1_hgetall": single_c,
        }

        # 3. throughput with 50 concurrent clients vs redis-benchmark at the same concurrency
        ours = lookup_throughput(args.url, prefix, ids, args.clients, args.requests, args.processes)
        print(
            f"throughput: get x {args.clients} clients ({ours['processes']} processes, threads "
            f"{ours['threads']}): {ours['rps']:,.0f} lookups/s",
            flush=True,
        )
        baseline = redis_benchmark_command(args.url, args.clients, args.baseline_requests, "HGETALL", key)
        baseline_c = run_redis_benchmark(baseline)
        commands.append(("throughput baseline", shown(baseline)))
        sha = client.script_load(redis_store._LOOKUP_MATCH)
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
        lua_c = run_redis_benchmark(lua)
        commands.append(("server-side cost of get (context)", shown(lua)))
        print(
            f"redis-benchmark HGETALL -c {args.clients}: {baseline_c['rps']:,.0f} req/s; "
            f"EVALSHA lookup script: {lua_c['rps']:,.0f} req/s",
            flush=True,
        )
        figures["throughput"] = {
            "clients": args.clients,
            "get": ours,
            "redis_benchmark_hgetall": baseline_c,
            "redis_benchmark_evalsha_lookup": lua_c,
            "ratio": ours["rps"] / baseline_c["rps"],
        }
    finally:
        removed = 0
        keys: list[str] = []
        for key_name in client.scan_iter(match=f"{prefix}:*", count=5000):
            keys.append(key_name)
            if len(keys) >= 5000:
                removed += client.unlink(*keys)
                keys = []
        if keys:
            removed += client.unlink(*keys)
        print(f"cleaned up {removed:,} keys under {prefix}:", flush=True)

    publish, latency, throughput = figures["publish"], figures["latency"], figures["throughput"]
    get, py_hgetall = latency["get"], latency["redis_py_hgetall"]
    c_hgetall = latency["redis_benchmark_c1_hgetall"]
    rb = throughput["redis_benchmark_hgetall"]["rps"]
    rb_lua = throughput["redis_benchmark_evalsha_lookup"]["rps"]

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    rows = [
        (
            f"publish {args.n:,} predictions",
            f"{publish['seconds']:.2f} s",
            "< 2 s",
            f"plain pipelined HSET of the same hashes, no indexes: {publish['raw_hset_seconds']:.2f} s",
            met(publish["seconds"] < 2),
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
            f"get throughput, {args.clients} clients",
            f"{throughput['get']['rps']:,.0f} /s",
            "",
            f"redis-benchmark HGETALL -c {args.clients}: {rb:,.0f} /s "
            f"(EVALSHA lookup script: {rb_lua:,.0f} /s)",
            "",
        ),
        (
            "throughput ratio",
            f"{throughput['ratio']:.2f}",
            ">= 0.5",
            f"(client CPU per get: {latency['get_client_cpu_us']:.0f} us in Python)",
            met(throughput["ratio"] >= 0.5),
        ),
    ]
    table = [("figure", "value", "goal", "baseline (same run, same Redis)", "goal?"), *rows]
    widths = [max(len(str(row[i])) for row in table) for i in range(5)]
    print()
    for row in table:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print()
    print("commands:")
    print(f"  {shown([sys.executable, *sys.argv])}")
    for label, command in commands:
        print(f"  {label}: {command}")
    if args.json:
        print(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
