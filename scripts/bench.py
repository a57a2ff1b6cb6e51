#!/usr/bin/env python3
"""taskshell benchmarks. Each case prints medians and ratios against a baseline measured in the
same run, on the same machine.

    python scripts/bench.py              # every case
    python scripts/bench.py startup      # one case (see --list)

Run it with the Python of the environment where taskshell is installed (e.g. .venv/bin/python).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

CASES: dict[str, Callable[[argparse.Namespace], None]] = {}


def case(fn: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
    CASES[fn.__name__.replace("_", "-")] = fn
    return fn


def taskshell_command() -> list[str]:
    installed = Path(sys.executable).parent / "taskshell"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "taskshell"]


def timed(argv: list[str], *, stdin: bytes | None = None, cwd: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   cwd=cwd)
    return time.perf_counter() - start


def median_of(runs: int, fn: Callable[[], float]) -> float:
    fn()  # warm the page cache and any on-disk caches first
    return statistics.median(fn() for _ in range(runs))


def report(case_name: str, metric: str, value: float, unit: str, baselines: dict[str, float],
           aim: str) -> None:
    parts = [f"{case_name:<10} {metric:<28} {value:10.3f} {unit}"]
    for name, base in baselines.items():
        parts.append(f"{value / base:6.2f}x {name} ({base:.3f} {unit})")
    parts.append(f"aim: {aim}")
    print("  ".join(parts), flush=True)


@case
def startup(args: argparse.Namespace) -> None:
    """`taskshell -c "select 1"` against `python -c pass` and `sqlite3 :memory: "select 1"`."""
    with tempfile.TemporaryDirectory() as tmp:
        catalog = os.path.join(tmp, "bench.db")
        ours = median_of(args.runs, lambda: timed(taskshell_command() + [catalog, "-c", "select 1"]))
        baselines = {"python -c pass": median_of(args.runs, lambda: timed([sys.executable, "-c", "pass"]))}
        if shutil.which("sqlite3"):
            baselines["sqlite3"] = median_of(args.runs, lambda: timed(["sqlite3", ":memory:", "select 1"]))
    report("startup", "median wall time", ours * 1000, "ms",
           {k: v * 1000 for k, v in baselines.items()}, "< 200 ms")


@case
def script(args: argparse.Namespace) -> None:
    """10,000 INSERTs through `taskshell -f --format csv` against the sqlite3 shell on a WAL file."""
    n = 10_000
    body = "".join(f"INSERT INTO readings VALUES ({i}, 'sensor-{i % 97}', {i * 0.5});\n" for i in range(n))
    create = "CREATE TABLE readings (id INT, sensor VARCHAR, value FLOAT);\n"
    with tempfile.TemporaryDirectory() as tmp:
        script_path = Path(tmp, "inserts.sql")
        script_path.write_text(body)

        def ours() -> float:
            catalog = os.path.join(tmp, f"ours-{time.perf_counter_ns()}.db")
            subprocess.run(taskshell_command() + [catalog, "-c", create], check=True,
                           stdout=subprocess.DEVNULL)
            return timed(taskshell_command() + [catalog, "--format", "csv", "--no-scheduler", "-f",
                                                str(script_path)])

        def sqlite_shell() -> float:
            db = os.path.join(tmp, f"sqlite-{time.perf_counter_ns()}.db")
            setup = "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n" + create
            subprocess.run(["sqlite3", db], input=setup.encode(), check=True, stdout=subprocess.DEVNULL)
            settings = b"PRAGMA synchronous=NORMAL;\n"
            return timed(["sqlite3", db], stdin=settings + body.encode())

        runs = max(3, args.runs // 4)
        seconds = median_of(runs, ours)
        baselines = {}
        if shutil.which("sqlite3"):
            baselines["sqlite3 shell"] = n / median_of(runs, sqlite_shell)
    rate = n / seconds
    parts = [f"{'script':<10} {'statements per second':<28} {rate:10.0f}"]
    for name, base in baselines.items():
        parts.append(f"{rate / base:6.2f}x {name} ({base:.0f}/s)")
    parts.append("aim: >= 5,000/s")
    print("  ".join(parts), flush=True)


# the scheduler's cases live beside this file
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_scheduler  # noqa: E402

for _case in bench_scheduler.CASES:
    case(_case)
case(__import__("bench_prompt").prompt)  # the interactive prompt's case
case(__import__("bench_streams").cdc)  # change capture and stream consumption


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", help="cases to run (default: all)")
    parser.add_argument("--runs", type=int, default=20, help="repetitions per measurement (default 20)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args()
    if args.list:
        for name, fn in CASES.items():
            print(f"{name:<12} {(fn.__doc__ or '').strip()}")
        return 0
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}; see --list")
    for name in args.cases or list(CASES):
        CASES[name](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
