"""Runs on the real clock against other connections: a catalog locked past the busy timeout (a
user's open transaction) must not leave runs EXECUTING — a run's end waits for the lock, and a
process that stops before it can record it stays registered, so that liveness fails the run —
and two sessions must not retry one failed graph run twice."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from taskshell.catalog import db
from taskshell.catalog.db import Catalog, write_transaction
from taskshell.errors import TaskshellError
from taskshell.interpreter.interpreter import Interpreter
from taskshell.interpreter.session import Session
from taskshell.scheduler import liveness
from taskshell.scheduler import scheduler as scheduler_module
from taskshell.scheduler.clock import RealClock
from taskshell.scheduler.scheduler import Scheduler
from tests.test_scheduler_processes import _rows


def _until(check, seconds: float = 10.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def locked_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A catalog with one task that waits half a second every second, and a short busy timeout."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "c.db"
    catalog = Catalog(str(path))
    interp = Interpreter(Session(catalog=catalog, clock=RealClock()))
    for sql in ["CREATE TASK w SCHEDULE = '1 SECONDS' AS SELECT SYSTEM$WAIT(0.5)", "ALTER TASK w RESUME"]:
        interp.execute(sql)
    interp.close()
    yield path, catalog
    catalog.close()


def _hold_lock_while_w_runs(path: Path) -> sqlite3.Connection:
    _until(lambda: _rows(path, "SELECT 1 FROM _ts_task_runs WHERE state = 'EXECUTING'"))
    user = sqlite3.connect(path, isolation_level=None, timeout=10)
    user.execute("BEGIN IMMEDIATE")  # like a user's BEGIN left open in the shell
    return user


def test_a_run_that_ends_while_the_catalog_is_locked_is_recorded_once_it_is_free(locked_catalog):
    path, catalog = locked_catalog
    scheduler = Scheduler(catalog, RealClock())
    scheduler.start()
    try:
        user = _hold_lock_while_w_runs(path)
        time.sleep(1.2)  # the body ends meanwhile; its end waits well past the 200 ms busy timeout
        user.execute("ROLLBACK")
        user.close()
        _until(lambda: _rows(path, "SELECT state FROM _ts_task_runs WHERE seq = 1") == [("SUCCEEDED",)])
        _until(lambda: _rows(path, "SELECT state FROM _ts_graph_runs WHERE id = 1") == [("SUCCEEDED",)])
    finally:
        scheduler.stop()
    assert _rows(path, "SELECT count(*) FROM _ts_task_runs WHERE state = 'EXECUTING'") == [(0,)]
    assert _rows(path, "SELECT count(*) FROM _ts_graph_runs WHERE state = 'EXECUTING'") == [(0,)]
    assert _rows(path, "SELECT count(*) FROM _ts_processes") == [(0,)]  # a clean stop unregisters


def test_a_process_that_stops_before_it_can_record_a_run_is_left_to_liveness(locked_catalog, monkeypatch):
    path, catalog = locked_catalog
    monkeypatch.setattr(scheduler_module, "BUSY_SECONDS", 0.3)
    scheduler = Scheduler(catalog, RealClock(), heartbeat_ms=200)
    scheduler.start()
    user = _hold_lock_while_w_runs(path)
    try:
        scheduler.stop()  # the run is cancelled, but its end cannot be written while the lock is held
        time.sleep(0.5)  # the write under way gives up at the end of its busy timeout
    finally:
        user.execute("ROLLBACK")
        user.close()
    assert _rows(path, "SELECT state FROM _ts_task_runs WHERE seq = 1") == [("EXECUTING",)]
    # the process stays registered and beats no more: another process fails the run once it expires
    assert _rows(path, "SELECT id FROM _ts_processes") == [(catalog.process_id,)]
    time.sleep(liveness.EXPIRY_BEATS * 0.2 + 0.1)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        liveness.register(other, "other", 200)
        with write_transaction(other):
            failed = liveness.expire_owner(other, catalog.process_id, 0)
            other.execute("DELETE FROM _ts_processes WHERE id = ?", (catalog.process_id,))
    finally:
        other.close()
    assert failed == 1
    assert _rows(path, "SELECT state, error_message FROM _ts_task_runs WHERE seq = 1") == [
        ("FAILED", liveness.NO_HEARTBEAT_MESSAGE)]
    assert _rows(path, "SELECT state FROM _ts_graph_runs WHERE id = 1") == [("FAILED",)]


def test_a_second_retry_last_while_the_first_runs_is_refused(tmp_path):
    # two sessions retry the same failed graph run: the second finds the retry under way, and the
    # tasks after the failed one run once
    path = tmp_path / "c.db"
    catalogs = [Catalog(str(path)), Catalog(str(path))]
    first, second = (Interpreter(Session(catalog=c, clock=RealClock())) for c in catalogs)
    try:
        for sql in ["CREATE TABLE flag (ok INT)", "INSERT INTO flag VALUES (0)", "CREATE TABLE t (a INT)",
                    "CREATE TASK r AS SELECT 1",
                    "CREATE TASK b AFTER r AS BEGIN SELECT SYSTEM$WAIT(1); SELECT 1 / (SELECT ok FROM flag); END",
                    "CREATE TASK c AFTER b AS INSERT INTO t VALUES (1)", "ALTER TASK b RESUME", "ALTER TASK c RESUME"]:
            first.execute(sql)
        first.execute("EXECUTE TASK r")  # B fails once its second is up
        first.execute("UPDATE flag SET ok = 1")
        retry = threading.Thread(target=first.execute, args=("EXECUTE TASK r RETRY LAST",))
        retry.start()
        _until(lambda: _rows(path, "SELECT 1 FROM _ts_graph_runs WHERE state = 'EXECUTING'"))
        with pytest.raises(TaskshellError) as caught:
            second.execute("EXECUTE TASK r RETRY LAST")
        assert "its last graph run is still executing" in caught.value.message
        retry.join(30)
    finally:
        first.close()
        second.close()
        for catalog in catalogs:
            catalog.close()
    assert _rows(path, "SELECT a FROM t") == [(1,)]
    assert _rows(path, "SELECT attempt_number, state FROM _ts_graph_runs ORDER BY id") == [
        (1, "FAILED"), (2, "SUCCEEDED")]


def test_fire_times_during_a_run_that_holds_the_write_lock_are_skipped_when_due(tmp_path):
    # the body writes, so it holds the write lock while it waits: the scheduler must still notice
    # each fire time meanwhile (its heartbeat, which waits for the lock, beats on its own thread)
    # and record it SKIPPED, neither queued behind the run nor lost
    path = tmp_path / "c.db"
    catalog = Catalog(str(path))
    interp = Interpreter(Session(catalog=catalog, clock=RealClock()))
    for sql in ["CREATE TABLE t (a INT)",
                "CREATE TASK w SCHEDULE = '1 SECONDS' AS BEGIN INSERT INTO t VALUES (1);"
                " SELECT SYSTEM$WAIT(2500, 'MILLISECONDS'); END",
                "ALTER TASK w RESUME"]:
        interp.execute(sql)
    interp.close()
    scheduler = Scheduler(catalog, RealClock())
    scheduler.start()
    try:
        _until(lambda: _rows(path, "SELECT count(*) FROM _ts_task_runs")[0][0] >= 4, 20)
    finally:
        scheduler.stop()
        catalog.close()
    rows = _rows(path, "SELECT state, scheduled_time, completed_time FROM _ts_task_runs ORDER BY scheduled_time")
    first = rows[0][1]
    assert [(at - first) // 1_000_000 for _, at, _ in rows[:4]] == [0, 1, 2, 3]  # every fire time has its row
    assert [state for state, _, _ in rows[:3]] == ["SUCCEEDED", "SKIPPED", "SKIPPED"]
    assert rows[3][0] != "SKIPPED"
    assert all(done - at < 500_000 for state, at, done in rows[1:3])  # skipped when due, not when the lock came free


def test_a_beat_waiting_for_the_lock_at_stop_does_not_register_the_process_again(tmp_path):
    path = tmp_path / "c.db"
    catalog = Catalog(str(path))
    scheduler = Scheduler(catalog, RealClock(), heartbeat_ms=100)
    scheduler.start()
    time.sleep(0.3)
    user = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    user.execute("BEGIN IMMEDIATE")  # another session holds the write lock across the stop
    release = threading.Timer(1.2, lambda: user.execute("ROLLBACK"))
    release.start()
    try:
        time.sleep(0.15)  # a beat now waits for the lock
        scheduler.stop()  # waits 1 s for the beat, then unregisters once the lock is free
        release.join()
        time.sleep(0.3)  # the beat gets the lock after the stop: it must write nothing
    finally:
        user.close()
        catalog.close()
    assert _rows(path, "SELECT count(*) FROM _ts_processes") == [(0,)]


def test_a_scheduler_starts_without_waiting_for_a_write_lock_held_elsewhere(tmp_path):
    # e.g. `taskshell -c "select 1"` on a catalog with started tasks while another process's run
    # writes: registering waits for nobody, the first beat registers the process later
    path = tmp_path / "c.db"
    catalog = Catalog(str(path))
    scheduler = Scheduler(catalog, RealClock(), heartbeat_ms=200)
    user = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    user.execute("BEGIN IMMEDIATE")
    started = threading.Thread(target=scheduler.start)
    try:
        started.start()
        started.join(3)  # the busy timeout is 10 s: a start that waited would still be waiting
        assert not started.is_alive()
        assert _rows(path, "SELECT count(*) FROM _ts_processes") == [(0,)]
    finally:
        user.execute("ROLLBACK")
        user.close()
    _until(lambda: _rows(path, "SELECT count(*) FROM _ts_processes") == [(1,)])  # the beat's
    scheduler.stop()
    catalog.close()


def test_on_a_virtual_clock_runs_wait_out_a_write_lock_another_connection_holds_briefly(tmp_path):
    # e.g. the notifier, a real thread, settling a message while EXECUTE TASK runs under --clock
    from tests.test_scheduler import Scheduled

    shell = Scheduled(tmp_path / "c.db")
    try:
        shell("CREATE TASK t AS SELECT 1")
        shell("CREATE TASK c AFTER t AS SELECT 2")
        shell("ALTER TASK c RESUME")
        other = sqlite3.connect(tmp_path / "c.db", isolation_level=None, check_same_thread=False)
        original = shell.scheduler.runner.run

        def run_with_the_lock_taken_meanwhile(req, *args, **kwargs):  # noqa: ANN001, ANN202
            if req.task.name == "C" and not other.in_transaction:
                other.execute("BEGIN IMMEDIATE")  # taken just before C records its start
                threading.Timer(0.3, lambda: other.execute("ROLLBACK")).start()
            return original(req, *args, **kwargs)

        shell.scheduler.runner.run = run_with_the_lock_taken_meanwhile  # type: ignore[method-assign]
        shell("EXECUTE TASK t")
        assert sorted(shell.rows("SELECT name, state FROM _ts_task_runs")) == [("C", "SUCCEEDED"), ("T", "SUCCEEDED")]
        other.close()
    finally:
        shell.close()
