"""Scheduler benchmarks, registered into scripts/bench.py: lag, lag-burst, child-lag and simulate.
Each also measures, in the same run, a bare hand-written baseline for the same job and prints the
ratio to it.

    python scripts/bench.py lag lag-burst child-lag simulate
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from taskshell.catalog.db import Catalog
from taskshell.interpreter.interpreter import Interpreter
from taskshell.interpreter.session import Session
from taskshell.scheduler.clock import RealClock, VirtualClock
from taskshell.scheduler.scheduler import Scheduler


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _print(name: str, metric: str, value: float, unit: str, aim: str) -> None:
    print(f"{name:<10} {metric:<34} {value:10.3f} {unit:<4}  aim: {aim}", flush=True)


def _ratio(name: str, metric: str, value: float, base: float, unit: str, baseline: str) -> None:
    print(f"{name:<10} {metric:<34} {value / base:10.2f} x     {baseline} ({base:.3f} {unit})", flush=True)


# ---------------------------------------------------------------- baselines, measured in the same run
# Each is the least a hand-written Python program does for the same job: it sleeps until a fire time
# and records the run in a SQLite file of its own (WAL, as the catalog), with nothing else to do —
# no catalog, no claims, no graphs, no translation.

def _wal(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS runs (task INT, scheduled REAL, started REAL, state TEXT)")
    return conn


def _baseline_lag(tmp: str, burst_ms: float, seconds: float = 5.0) -> tuple[float, float, float]:
    """1,000 fire times a second, spread over `burst_ms` of each second, for `seconds`: one thread
    sleeps until each, runs `SELECT 1` and records the run in its own commit. p50, p99 of start −
    scheduled (ms) and CPU use (%)."""
    conn = _wal(os.path.join(tmp, "baseline-lag.db"))
    begin = time.time() + 0.2
    times = [begin + second + (i * burst_ms / 1000 / 1000) for second in range(int(seconds)) for i in range(1000)]
    lags = []
    cpu, wall = time.process_time(), time.perf_counter()
    for task, due in enumerate(times):
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        started = time.time()
        conn.execute("SELECT 1").fetchone()
        conn.execute("BEGIN")
        conn.execute("INSERT INTO runs VALUES (?, ?, ?, 'SUCCEEDED')", (task % 1000, due, started))
        conn.execute("COMMIT")
        lags.append((started - due) * 1000)
    busy = (time.process_time() - cpu) / (time.perf_counter() - wall) * 100
    conn.close()
    return _percentile(lags, 0.5), _percentile(lags, 0.99), busy


def _baseline_children(tmp: str, children: int = 100, repeats: int = 10) -> tuple[float, float]:
    """A root's end hands 100 children to a pool of 8 threads; each child records its run in a
    commit of its own. p50, p99 of child start − root end (ms)."""
    path = os.path.join(tmp, "baseline-children.db")
    _wal(path).close()
    local = threading.local()
    lags: list[float] = []

    def child(ended: float, task: int) -> None:
        started = time.perf_counter()
        conn = getattr(local, "conn", None) or _wal(path)
        local.conn = conn
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO runs VALUES (?, ?, ?, 'EXECUTING')", (task, ended, started))
        conn.execute("COMMIT")
        conn.execute("SELECT 1").fetchone()
        lags.append((started - ended) * 1000)

    with ThreadPoolExecutor(8) as pool:
        for _ in range(repeats):
            ended = time.perf_counter()
            for future in [pool.submit(child, ended, task) for task in range(children)]:
                future.result()
    return _percentile(lags, 0.5), _percentile(lags, 0.99)


def _baseline_simulate(tmp: str, runs: int) -> float:
    """`runs` runs of 100 tasks, a minute's 100 at a time: each minute's runs recorded EXECUTING in
    one commit, each body (`SELECT 1`) run and its row updated SUCCEEDED in a second. Runs per second."""
    conn = _wal(os.path.join(tmp, "baseline-simulate.db"))
    wall = time.perf_counter()
    for minute in range(runs // 100):
        conn.execute("BEGIN")
        first = conn.execute("SELECT coalesce(max(rowid), 0) FROM runs").fetchone()[0] + 1
        conn.executemany("INSERT INTO runs VALUES (?, ?, NULL, 'EXECUTING')",
                         [(task, minute * 60.0) for task in range(100)])
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        for rowid in range(first, first + 100):
            conn.execute("SELECT 1").fetchone()
            conn.execute("UPDATE runs SET state = 'SUCCEEDED', started = ? WHERE rowid = ?", (time.time(), rowid))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - wall
    conn.close()
    return runs / elapsed


def _setup(path: str, clock: object, statements: list[str]) -> None:
    catalog = Catalog(path)
    interp = Interpreter(Session(catalog=catalog, clock=clock))  # type: ignore[arg-type]
    for sql in statements:
        interp.execute(sql)
    interp.close()
    catalog.close()


def _lag(name: str, spread: bool) -> None:
    """1,000 tasks on a 1-second interval for BENCH_LAG_SECONDS (30) of real time. `spread`: the
    tasks are resumed 1 ms apart, so that their fire times come at an even 1,000 a second; otherwise
    they are resumed one after another as fast as the interpreter goes, and their fire times come in
    a burst as long as that took (reported)."""
    tasks, seconds = 1000, float(os.environ.get("BENCH_LAG_SECONDS", "30"))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lag.db")
        statements = [f"CREATE TASK t{i} SCHEDULE = '1 SECONDS' AS SELECT 1" for i in range(tasks)]
        resumes = [f"ALTER TASK t{i} RESUME" for i in range(tasks)]
        if spread:
            _setup(path, RealClock(), statements)
            # each resume at its own instant, 1 ms after the one before (a clock set by hand)
            clock = VirtualClock(datetime.now(UTC))
            catalog = Catalog(path)
            interp = Interpreter(Session(catalog=catalog, clock=clock))
            start = clock.now()
            for i, sql in enumerate(resumes):
                clock.set(start + timedelta(milliseconds=i))
                interp.execute(sql)
            interp.close()
            catalog.close()
        else:
            _setup(path, RealClock(), statements + resumes)
        catalog = Catalog(path)
        conn = catalog.connect()
        first, last = conn.execute("SELECT min(resumed_on), max(resumed_on) FROM _ts_tasks").fetchone()
        conn.close()
        scheduler = Scheduler(catalog, RealClock())
        cpu, wall = time.process_time(), time.perf_counter()
        scheduler.start()
        time.sleep(seconds)
        busy_cpu = (time.process_time() - cpu) / (time.perf_counter() - wall)
        scheduler.stop()
        conn = catalog.connect()
        lags = [(start - scheduled) / 1000 for scheduled, start in conn.execute(
            "SELECT scheduled_time, query_start_time FROM _ts_task_runs WHERE query_start_time IS NOT NULL")]
        early = conn.execute("SELECT count(*) FROM _ts_task_runs WHERE query_start_time < scheduled_time").fetchone()
        # idle: the same catalog with every task suspended
        conn.execute("UPDATE _ts_tasks SET state = 'suspended'")
        conn.close()
        idle_cpu = None
        if spread:
            idle = Scheduler(catalog, RealClock())
            idle.start()
            cpu, wall = time.process_time(), time.perf_counter()
            time.sleep(min(seconds, 10.0))
            idle_cpu = (time.process_time() - cpu) / (time.perf_counter() - wall)
            idle.stop()
        catalog.close()
        base50, base99, base_cpu = _baseline_lag(tmp, max(1.0, (last - first) / 1000))
    print(f"{name:<10} runs {len(lags)}, started early {early[0]}, fire times of a second within "
          f"{(last - first) / 1000:.0f} ms", flush=True)
    baseline = "a bare loop: sleep, SELECT 1, one commit per run"
    p50, p99 = _percentile(lags, 0.5), _percentile(lags, 0.99)
    _print(name, "p50 query start - scheduled", p50, "ms", "-")
    _ratio(name, "  against", p50, base50, "ms", baseline)
    _print(name, "p99 query start - scheduled", p99, "ms", "< 50 ms" if spread else "-")
    _ratio(name, "  against", p99, base99, "ms", baseline)
    _print(name, "CPU while running 1,000 tasks/s", busy_cpu * 100, "%", "-")
    _ratio(name, "  against", busy_cpu * 100, base_cpu, "%", baseline)
    if idle_cpu is not None:
        _print(name, "CPU idle (tasks suspended)", idle_cpu * 100, "%", "< 2 %")


def lag(args: argparse.Namespace) -> None:
    """1,000 tasks on a 1-second interval, fire times spread evenly, for 30 s: query start minus
    scheduled time, and CPU use (busy and idle)."""
    _lag("lag", spread=True)


def lag_burst(args: argparse.Namespace) -> None:
    """As `lag`, with the tasks resumed back to back: each second's fire times come in one burst."""
    _lag("lag-burst", spread=False)


def child_lag(args: argparse.Namespace) -> None:
    """A root with 100 children: time from the root's completion to each child's start."""
    runs = max(5, args.runs // 2)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "children.db")
        statements = ["CREATE TASK root AS SELECT 1"]
        statements += [f"CREATE TASK c{i} AFTER root AS SELECT 1" for i in range(100)]
        statements += [f"ALTER TASK c{i} RESUME" for i in range(100)]
        _setup(path, RealClock(), statements)
        catalog = Catalog(path)
        interp = Interpreter(Session(catalog=catalog, clock=RealClock()))
        scheduler = Scheduler(catalog, RealClock())
        scheduler.start()
        interp.attach_scheduler(scheduler)
        for _ in range(runs):
            interp.execute("EXECUTE TASK root")
        conn = catalog.connect()
        lags = [(start - done) / 1000 for start, done in conn.execute(
            "SELECT c.query_start_time, r.completed_time FROM _ts_task_runs c JOIN _ts_task_runs r"
            " ON r.graph_run_id = c.graph_run_id AND r.name = 'ROOT' WHERE c.name != 'ROOT'")]
        conn.close()
        scheduler.stop()
        interp.close()
        catalog.close()
        base50, base99 = _baseline_children(tmp)
    baseline = "8 threads, a commit per child"
    p50, p99 = _percentile(lags, 0.5), _percentile(lags, 0.99)
    _print("child-lag", f"p50 child start - root end ({len(lags)})", p50, "ms", "-")
    _ratio("child-lag", "  against", p50, base50, "ms", baseline)
    _print("child-lag", "p99 child start - root end", p99, "ms", "< 10 ms")
    _ratio("child-lag", "  against", p99, base99, "ms", baseline)


def simulate(args: argparse.Namespace) -> None:
    """24 virtual hours of 100 one-minute tasks with trivial bodies (144,000 runs) on the virtual clock."""
    hours = float(os.environ.get("BENCH_SIMULATE_HOURS", "24"))
    start = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "simulate.db")
        statements = [f"CREATE TASK t{i} SCHEDULE = '1 MINUTE' AS SELECT 1" for i in range(100)]
        statements += [f"ALTER TASK t{i} RESUME" for i in range(100)]
        _setup(path, VirtualClock(start), statements)
        catalog = Catalog(path)
        clock = VirtualClock(start)
        scheduler = Scheduler(catalog, clock)
        scheduler.start()
        wall = time.perf_counter()
        scheduler.advance(hours * 3600)
        elapsed = time.perf_counter() - wall
        scheduler.stop()
        conn = catalog.connect()
        runs = conn.execute("SELECT count(*) FROM _ts_task_runs WHERE state = 'SUCCEEDED'").fetchone()[0]
        conn.close()
        catalog.close()
        base = _baseline_simulate(tmp, runs)
    print(f"simulate   {runs} runs in {elapsed:.1f} s", flush=True)
    _print("simulate", "runs per second", runs / elapsed, "/s", ">= 2,000/s")
    _ratio("simulate", "  against", runs / elapsed, base, "/s", "bare SQLite: two commits per minute's runs")


CASES = (lag, lag_burst, child_lag, simulate)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parsed = parser.parse_args()
    for fn in CASES:
        fn(parsed)
