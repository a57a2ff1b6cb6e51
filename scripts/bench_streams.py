#!/usr/bin/env python3
"""The `cdc` benchmark of scripts/bench.py: the cost of change capture and of consuming a stream.

    python scripts/bench.py cdc          (or: python scripts/bench_streams.py)

1. 1,000,000 rows inserted in one transaction (1,000 INSERT statements of 1,000 rows each, through
   the interpreter) into a tracked table, against the same into an untracked table. Aim: <= 2.0x.
   The same ratio for one `INSERT … SELECT` of 1,000,000 rows is printed too (SQLite's own floor).
2. Consuming the 1,000,000 pending inserts through a stream into another table. Aim: >= 300,000 rows/s.
3. STREAM_STATUS with 1,000,000 pending changes, as a whole statement. Aim: < 1 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from taskshell.catalog.db import Catalog  # noqa: E402
from taskshell.interpreter.interpreter import Interpreter  # noqa: E402
from taskshell.interpreter.session import Session  # noqa: E402
from taskshell.scheduler.clock import RealClock  # noqa: E402

ROWS = 1_000_000
BATCH = 1_000


def _interpreter(directory: str, name: str) -> Interpreter:
    return Interpreter(Session(catalog=Catalog(os.path.join(directory, name)), clock=RealClock()))


def _statements() -> list[str]:
    out = []
    for start in range(0, ROWS, BATCH):
        values = ", ".join(f"({i}, 'name-{i}', {i * 0.5})" for i in range(start, start + BATCH))
        out.append(f"INSERT INTO t VALUES {values}")
    return out


def _load(directory: str, name: str, tracked: bool, statements: list[str]) -> tuple[Interpreter, float]:
    interp = _interpreter(directory, name)
    interp.execute("CREATE TABLE t (id INT, name VARCHAR, v FLOAT)")
    if tracked:
        interp.execute("CREATE STREAM s ON TABLE t")
    started = time.perf_counter()
    interp.execute("BEGIN")
    for statement in statements:
        interp.execute(statement)
    interp.execute("COMMIT")
    return interp, time.perf_counter() - started


def _bulk(directory: str, name: str, tracked: bool) -> float:
    interp = _interpreter(directory, name)
    interp.execute("CREATE TABLE t (id INT, name VARCHAR, v FLOAT)")
    if tracked:
        interp.execute("CREATE STREAM s ON TABLE t")
    conn = interp.session.conn
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(f"WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {ROWS}) "
                 "INSERT INTO t SELECT i, 'name-' || i, i * 0.5 FROM g")
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    interp.close()
    return elapsed


def cdc(args: argparse.Namespace) -> None:
    """Change capture: tracked vs untracked inserts, consuming 1M changes, STREAM_STATUS latency."""
    runs = max(1, min(3, args.runs))
    statements = _statements()
    with tempfile.TemporaryDirectory() as tmp:
        plain, tracked = [], []
        bulk_plain, bulk_tracked = [], []
        for run in range(runs):
            interp, seconds = _load(tmp, f"plain-{run}.db", False, statements)
            interp.close()
            plain.append(seconds)
            interp, seconds = _load(tmp, f"tracked-{run}.db", True, statements)
            tracked.append(seconds)
            if run < runs - 1:
                interp.close()
            bulk_plain.append(_bulk(tmp, f"bulk-plain-{run}.db", False))
            bulk_tracked.append(_bulk(tmp, f"bulk-tracked-{run}.db", True))
        p, t = statistics.median(plain), statistics.median(tracked)
        print(f"{'cdc':<10} {'insert 1M rows, tracked':<28} {t:10.3f} s  {t / p:6.2f}x untracked ({p:.3f} s)"
              "  aim: <= 2.0x", flush=True)
        bp, bt = statistics.median(bulk_plain), statistics.median(bulk_tracked)
        print(f"{'cdc':<10} {'INSERT…SELECT 1M, tracked':<28} {bt:10.3f} s  {bt / bp:6.2f}x untracked "
              f"({bp:.3f} s)  (SQLite's trigger floor)", flush=True)

        probes = []
        for _ in range(200):
            started = time.perf_counter()
            interp.execute("SELECT has_data FROM STREAM_STATUS('s')")
            probes.append(time.perf_counter() - started)
        status_ms = statistics.median(probes) * 1000
        print(f"{'cdc':<10} {'STREAM_STATUS, 1M pending':<28} {status_ms:10.3f} ms  aim: < 1 ms", flush=True)

        interp.execute("CREATE TABLE target (id INT, name VARCHAR, v FLOAT)")
        started = time.perf_counter()
        result = interp.execute("INSERT INTO target SELECT id, name, v FROM s")
        seconds = time.perf_counter() - started
        consumed = result.rows[0][0]
        assert consumed == ROWS, consumed
        left = interp.execute("SELECT count(*) FROM _ts_log_1").rows[0][0]
        interp.close()
        print(f"{'cdc':<10} {'consume 1M via a stream':<28} {ROWS / seconds:10.0f} rows/s  ({seconds:.3f} s, "
              f"{left} log rows left)  aim: >= 300,000/s", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    cdc(parser.parse_args())
