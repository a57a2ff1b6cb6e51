"""Fire times claimed together: the same history as one by one, exactly once across processes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from taskshell.scheduler import workers
from taskshell.scheduler.scheduler import Scheduler
from tests.test_scheduler import Scheduled
from tests.test_scheduler_processes import _rows, _spawn

SAME_INSTANT = [
    "CREATE TABLE log (name VARCHAR, at TIMESTAMP)",
    "CREATE WAREHOUSE wh WITH MAX_CONCURRENCY_LEVEL = 1",
    "CREATE TASK a SCHEDULE = '1 MINUTE' AS INSERT INTO log SELECT 'a', CURRENT_TIMESTAMP",
    "CREATE TASK b SCHEDULE = '1 MINUTE' AS INSERT INTO log SELECT 'b', 1/0",
    "CREATE TASK x SCHEDULE = '1 MINUTE' TASK_AUTO_RETRY_ATTEMPTS = 1 AS SELECT 1/0",
    "CREATE TASK d SCHEDULE = '1 MINUTE' AS SELECT SYSTEM$WAIT(90)",
    "CREATE TASK e SCHEDULE = '1 MINUTE' WAREHOUSE = wh AS SELECT SYSTEM$WAIT(20)",
    "CREATE TASK f SCHEDULE = '1 MINUTE' WAREHOUSE = wh AS INSERT INTO log SELECT 'f', CURRENT_TIMESTAMP",
    "CREATE TASK g SCHEDULE = '1 MINUTE' WHEN 1 = 0 AS SELECT 1",
    "CREATE TASK h SCHEDULE = '1 MINUTE' AS SELECT 1",
    "CREATE TASK h1 AFTER h AS INSERT INTO log SELECT 'h1', CURRENT_TIMESTAMP",
    "CREATE TASK i SCHEDULE = '1 MINUTE' AS SELECT 2",
    *[f"ALTER TASK {name} RESUME" for name in "abdefgix"],
    "SELECT SYSTEM$TASK_DEPENDENTS_ENABLE('h')",
    "SELECT SYSTEM$WAIT(200)",
]


def _history(path: Path, one_by_one: bool, monkeypatch: pytest.MonkeyPatch) -> list[list[tuple]]:
    if one_by_one:
        monkeypatch.setattr(Scheduler, "_claim", lambda self, due: ([], due))
    shell = Scheduled(path)
    try:
        for sql in SAME_INSTANT:
            shell(sql)
        return [shell.rows("SELECT * FROM TABLE(TASK_HISTORY(RESULT_LIMIT => 1000))"),
                shell.rows("SELECT * FROM TABLE(COMPLETE_TASK_GRAPHS(RESULT_LIMIT => 1000))"),
                shell.rows("SELECT * FROM log"),
                shell.rows("SELECT seq, name, state, graph_run_id FROM _ts_task_runs ORDER BY seq")]
    finally:
        shell.close()
        monkeypatch.undo()


def test_roots_due_together_leave_the_history_of_one_by_one_claims(tmp_path, monkeypatch):
    together = _history(tmp_path / "together.db", False, monkeypatch)
    alone = _history(tmp_path / "alone.db", True, monkeypatch)
    assert together == alone
    states = {row[2] for row in together[3]}
    assert {"SUCCEEDED", "FAILED", "SKIPPED"} <= states


def test_current_timestamp_is_read_anew_at_every_run(sched):
    sched("CREATE TABLE stamps (at TIMESTAMP)")
    sched("CREATE TASK stamp SCHEDULE = '1 MINUTE' AS INSERT INTO stamps SELECT CURRENT_TIMESTAMP")
    sched("ALTER TASK stamp RESUME")
    sched.wait(185)
    assert sched.rows("SELECT at FROM stamps ORDER BY at") == [
        ("2026-11-01 00:01:00.000",), ("2026-11-01 00:02:00.000",), ("2026-11-01 00:03:00.000",)]


@pytest.fixture
def sched(tmp_path: Path):
    shell = Scheduled(tmp_path / "catalog.db")
    yield shell
    shell.close()


def test_many_roots_on_two_processes_run_each_fire_time_once(tmp_path):
    path = tmp_path / "shared.db"
    script = ["CREATE TABLE hits (task VARCHAR, at TIMESTAMP)"]
    for i in range(30):
        script.append(f"CREATE TASK t{i} SCHEDULE = '1 SECONDS' AS INSERT INTO hits SELECT 't{i}', CURRENT_TIMESTAMP")
        script.append(f"ALTER TASK t{i} RESUME")
    setup = _spawn([str(path), "--no-scheduler", "-c", "; ".join(script)])
    assert setup.wait(timeout=30) == 0, setup.stderr.read()  # type: ignore[union-attr]
    both = [_spawn([str(path), "-c", "SELECT SYSTEM$WAIT(3)"]) for _ in range(2)]
    for proc in both:
        assert proc.wait(timeout=30) == 0, proc.stderr.read()  # type: ignore[union-attr]
    runs = _rows(path, "SELECT name, scheduled_time, state FROM _ts_task_runs")
    keys = [(name, at) for name, at, _ in runs]
    assert len(runs) >= 30 and len(keys) == len(set(keys)), "a fire time ran twice"
    assert _rows(path, "SELECT count(*) FROM _ts_graph_runs") == [(len(runs),)]
    succeeded = sum(1 for *_, state in runs if state == "SUCCEEDED")
    assert _rows(path, "SELECT count(*) FROM hits") == [(succeeded,)]
    assert all(state in ("SUCCEEDED", "CANCELLED") for *_, state in runs)


def test_a_waiting_run_thread_lets_a_queued_job_compute():
    pool = workers.WorkerPool("test", limit=1)
    release, second_ran = threading.Event(), threading.Event()

    def waits() -> None:
        with pool.blocking():
            release.wait(10)

    pool.submit(waits)
    pool.submit(second_ran.set)
    try:
        assert second_ran.wait(5), "the queued job waited for the blocked one"
    finally:
        release.set()


def test_a_job_that_raises_is_reported_and_the_jobs_queued_behind_it_still_run(monkeypatch):
    reported: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: reported.append(args.exc_value))
    pool = workers.WorkerPool("test", limit=1)
    go, ran = threading.Event(), threading.Event()

    def fails() -> None:
        go.wait(5)  # until the next job has queued behind this one
        raise RuntimeError("broken job")

    pool.submit(fails)
    pool.submit(ran.set)
    go.set()
    assert ran.wait(5), "the job queued behind a failing one never ran"
    assert [str(e) for e in reported] == ["broken job"]
