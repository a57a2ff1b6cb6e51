"""Scheduler benchmarks, registered into scripts/bench.py: lag, lag-burst, child-lag and simulate.

    python scripts/bench.py lag lag-burst child-lag simulate
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
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
    print(f"{name:<10} runs {len(lags)}, started early {early[0]}, fire times of a second within "
          f"{(last - first) / 1000:.0f} ms", flush=True)
    _print(name, "p50 query start - scheduled", _percentile(lags, 0.5), "ms", "-")
    _print(name, "p99 query start - scheduled", _percentile(lags, 0.99), "ms", "< 50 ms" if spread else "-")
    _print(name, "CPU while running 1,000 tasks/s", busy_cpu * 100, "%", "-")
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
    _print("child-lag", f"p50 child start - root end ({len(lags)})", _percentile(lags, 0.5), "ms", "-")
    _print("child-lag", "p99 child start - root end", _percentile(lags, 0.99), "ms", "< 10 ms")


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
    print(f"simulate   {runs} runs in {elapsed:.1f} s", flush=True)
    _print("simulate", "runs per second", runs / elapsed, "/s", ">= 2,000/s")


CASES = (lag, lag_burst, child_lag, simulate)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parsed = parser.parse_args()
    for fn in CASES:
        fn(parsed)
