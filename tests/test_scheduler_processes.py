"""The scheduler across real processes and the real clock: claims, heartbeats, the worker, determinism."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import program, run_program

FAST_BEATS = {"TASKSHELL_HEARTBEAT_MS": "100", "TASKSHELL_WORKER_GRACE_SECONDS": "0.2"}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TASKSHELL_CATALOG", None)
    env.update(FAST_BEATS)
    return env


def _spawn(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(program() + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())


def _rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _until(path: Path, sql: str, deadline_s: float = 15.0) -> list[tuple]:
    """Poll the catalog file (another process is writing it) until `sql` returns rows."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        rows = _rows(path, sql)
        if rows:
            return rows
        time.sleep(0.05)
    raise AssertionError(f"nothing matched within {deadline_s} s: {sql}")


def test_same_clock_script_gives_identical_output(tmp_path):
    script = tmp_path / "graph.sql"
    script.write_text("""
CREATE TABLE log (name VARCHAR, at TIMESTAMP);
CREATE TASK root SCHEDULE = '1 MINUTE' AS INSERT INTO log SELECT 'root', CURRENT_TIMESTAMP;
CREATE TASK a AFTER root AS BEGIN SELECT SYSTEM$WAIT(20); INSERT INTO log SELECT 'a', CURRENT_TIMESTAMP; END;
CREATE TASK b AFTER root AS INSERT INTO log SELECT 'b', 1/0;
SELECT SYSTEM$TASK_DEPENDENTS_ENABLE('root');
SELECT SYSTEM$WAIT(150);
SELECT * FROM TABLE(TASK_HISTORY());
SELECT * FROM TABLE(COMPLETE_TASK_GRAPHS());
SELECT * FROM log;
SHOW TASKS;
""")
    outputs = []
    for attempt in range(2):
        result = run_program([str(tmp_path / f"c{attempt}.db"), "--clock", "2026-11-01T00:00:00-07:00",
                              "--format", "csv", "-f", str(script)])
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count("SUCCEEDED") >= 4 and "FAILED" in outputs[0]


def test_two_processes_run_each_due_run_exactly_once(tmp_path):
    path = tmp_path / "shared.db"
    setup = run_program([str(path), "--no-scheduler", "-c",
                         "CREATE TABLE hits (at TIMESTAMP); "
                         "CREATE TASK tick SCHEDULE = '1 SECONDS' AS INSERT INTO hits SELECT CURRENT_TIMESTAMP; "
                         "ALTER TASK tick RESUME"])
    assert setup.returncode == 0, setup.stderr
    both = [_spawn([str(path), "-c", "SELECT SYSTEM$WAIT(3)"]) for _ in range(2)]
    for proc in both:
        assert proc.wait(timeout=30) == 0, proc.stderr.read()  # type: ignore[union-attr]
    runs = _rows(path, "SELECT scheduled_time, state, claimed_by FROM _ts_task_runs ORDER BY scheduled_time")
    times = [r[0] for r in runs]
    assert len(times) >= 2
    assert len(times) == len(set(times)), "a fire time ran twice"
    assert all(r[1] in ("SUCCEEDED", "CANCELLED") for r in runs)
    succeeded = sum(1 for r in runs if r[1] == "SUCCEEDED")
    assert _rows(path, "SELECT count(*) FROM hits") == [(succeeded,)]


@pytest.mark.parametrize("options", [[], ["--no-scheduler"]], ids=["scheduler", "no-scheduler"])
def test_runs_of_a_killed_process_are_failed_by_another(tmp_path, options):
    path = tmp_path / "shared.db"
    setup = run_program([str(path), "--no-scheduler", "-c", "CREATE TASK slow AS SELECT SYSTEM$WAIT(30)"])
    assert setup.returncode == 0, setup.stderr
    doomed = _spawn([str(path), *options, "-c", "EXECUTE TASK slow"])
    _until(path, "SELECT 1 FROM _ts_task_runs WHERE state = 'EXECUTING'")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    survivor = _spawn(["worker", str(path)])
    try:
        rows = _until(path, "SELECT state, error_message FROM _ts_task_runs WHERE state != 'EXECUTING'")
    finally:
        survivor.send_signal(signal.SIGTERM)
        survivor.wait(timeout=10)
    assert rows == [("FAILED", "process running the run stopped (no heartbeat)")]
    assert _rows(path, "SELECT state FROM _ts_graph_runs") == [("FAILED",)]


def test_worker_stops_cleanly_on_sigterm(tmp_path):
    path = tmp_path / "worker.db"
    setup = run_program([str(path), "--no-scheduler", "-c",
                         "CREATE TASK slow SCHEDULE = '1 SECONDS' AS SELECT SYSTEM$WAIT(30); "
                         "ALTER TASK slow RESUME"])
    assert setup.returncode == 0, setup.stderr
    worker = _spawn(["worker", str(path)])
    _until(path, "SELECT 1 FROM _ts_task_runs WHERE state = 'EXECUTING'")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0
    assert "stopped" in worker.stderr.read()  # type: ignore[union-attr]
    states = {r[0] for r in _rows(path, "SELECT state FROM _ts_task_runs")}
    assert "EXECUTING" not in states and "CANCELLED" in states
    assert _rows(path, "SELECT count(*) FROM _ts_graph_runs WHERE state = 'EXECUTING'") == [(0,)]
    assert _rows(path, "SELECT count(*) FROM _ts_processes") == [(0,)]
