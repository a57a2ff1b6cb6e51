"""A run failed because its process stopped heart-beating notifies like any other failed run."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from taskshell.catalog.db import write_transaction
from taskshell.notify.outbox import record_finished_run
from taskshell.scheduler import liveness
from tests.conftest import Shell, run_program


def test_expired_run_queues_a_task_failed_message(shell):
    shell("CREATE NOTIFICATION INTEGRATION hook TYPE = WEBHOOK ENABLED = TRUE "
          "WEBHOOK = (url = 'http://127.0.0.1:9/', method = 'POST')")
    shell("CREATE TASK t ERROR_INTEGRATION = 'hook' AS SELECT 1")
    shell("EXECUTE TASK t")
    conn = shell.catalog.connect()
    try:
        # the run as a process that died mid-run would have left it
        conn.execute("UPDATE _ts_task_runs SET state = 'EXECUTING', completed_time = NULL, claimed_by = 'ghost'")
        with write_transaction(conn):
            failed = liveness.expire_owner(conn, "ghost", 1_000_000, [record_finished_run])
        assert failed == 1
        state, message = conn.execute("SELECT state, error_message FROM _ts_task_runs").fetchone()
        assert (state, message) == ("FAILED", liveness.NO_HEARTBEAT_MESSAGE)
        (body,) = conn.execute("SELECT message FROM _ts_notifications").fetchone()
    finally:
        conn.close()
    payload = json.loads(body)
    assert payload["messageType"] == "TASK_FAILED"
    assert payload["taskName"] == "T"
    assert payload["messages"][0]["errorMessage"] == liveness.NO_HEARTBEAT_MESSAGE


def _die_mid_run(conn, owner: str = "ghost") -> None:
    """Leave every run as a process that died while running it would have."""
    conn.execute("UPDATE _ts_task_runs SET state = 'EXECUTING', completed_time = NULL, claimed_by = ?", (owner,))
    conn.execute("UPDATE _ts_graph_runs SET state = 'EXECUTING', completed_time = NULL, claimed_by = ?", (owner,))


def test_expired_runs_count_towards_auto_suspend(shell):
    shell("CREATE TASK t SUSPEND_TASK_AFTER_NUM_FAILURES = 2 AS SELECT 1")
    shell("ALTER TASK t RESUME")
    shell("EXECUTE TASK t")
    shell("EXECUTE TASK t")
    conn = shell.catalog.connect()
    try:
        _die_mid_run(conn)
        with write_transaction(conn):
            assert liveness.expire_owner(conn, "ghost", 1_000_000) == 2
        # two failures in a row reach the limit: the second run says so and the task is suspended
        assert conn.execute("SELECT state FROM _ts_task_runs ORDER BY seq").fetchall() == [
            ("FAILED",), ("FAILED_AND_AUTO_SUSPENDED",)]
        assert conn.execute("SELECT state, consecutive_failures, last_suspended_reason FROM _ts_tasks").fetchone() == (
            "suspended", 0, "SUSPENDED_DUE_TO_ERRORS")
    finally:
        conn.close()


def test_an_expired_graph_run_counts_once_against_its_root(shell):
    shell("CREATE TASK root AS SELECT 1")
    shell("CREATE TASK a AFTER root AS SELECT 1")
    shell("CREATE TASK b AFTER root AS SELECT 1")
    shell("ALTER TASK a RESUME")
    shell("ALTER TASK b RESUME")
    shell("EXECUTE TASK root")
    conn = shell.catalog.connect()
    try:
        _die_mid_run(conn)
        conn.execute("UPDATE _ts_task_runs SET state = 'SUCCEEDED' WHERE name = 'ROOT'")
        with write_transaction(conn):
            assert liveness.expire_owner(conn, "ghost", 1_000_000) == 2
        counts = dict(conn.execute("SELECT name, consecutive_failures FROM _ts_tasks"))
        assert counts == {"ROOT": 1, "A": 0, "B": 0}
    finally:
        conn.close()


def _gone_pid() -> int:
    """The pid of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _left_by_a_virtual_process(conn, owner: str, space: str | None = None) -> None:
    """Every run as a `--clock` process (registered without a heartbeat) that was killed left it;
    `space`: the pids it saw (default: the same as this process)."""
    _die_mid_run(conn, owner)
    conn.execute("INSERT INTO _ts_processes(id, pid, started_at, heartbeat_at, heartbeat_ms, pid_space)"
                 " VALUES (?, ?, 0, 0, NULL, ?)", (owner, _gone_pid(), space or liveness.pid_space()))
    conn.commit()


def test_a_heart_beating_process_fails_the_runs_of_a_gone_virtual_clock_process(shell):
    shell("CREATE TASK t AS SELECT 1")
    shell("EXECUTE TASK t")
    conn = shell.catalog.connect()
    try:
        _left_by_a_virtual_process(conn, "ghost")
        liveness.register(conn, "me", 1000)
        assert liveness.beat_and_expire(conn, "me", 1000, 1_000_000) == 1
        assert conn.execute("SELECT state, error_message FROM _ts_task_runs").fetchall() == [
            ("FAILED", liveness.NO_HEARTBEAT_MESSAGE)]
        assert conn.execute("SELECT state FROM _ts_graph_runs").fetchall() == [("FAILED",)]
        assert conn.execute("SELECT id FROM _ts_processes").fetchall() == [("me",)]
    finally:
        conn.close()


def test_a_virtual_clock_scheduler_fails_the_runs_of_gone_processes_when_it_starts(tmp_path):
    from tests.test_scheduler import Scheduled

    first = Shell(tmp_path / "c.db")
    first("CREATE TASK t AS SELECT 1")
    first("EXECUTE TASK t")
    conn = first.catalog.connect()
    _left_by_a_virtual_process(conn, "ghost")
    conn.close()
    first.close()
    second = Scheduled(tmp_path / "c.db")  # starts its scheduler
    try:
        assert second.rows("SELECT state, error_message FROM _ts_task_runs") == [
            ("FAILED", liveness.NO_HEARTBEAT_MESSAGE)]
        assert second.rows("SELECT count(*) FROM _ts_processes WHERE id = 'ghost'") == [(0,)]
    finally:
        second.close()


def test_a_process_that_sees_other_pids_is_not_judged_by_its_pid(shell):
    # e.g. a --clock process in a container sharing the catalog's volume: its pid means nothing here
    shell("CREATE TASK t AS SELECT 1")
    shell("EXECUTE TASK t")
    conn = shell.catalog.connect()
    try:
        _left_by_a_virtual_process(conn, "elsewhere", space="another-host:4026531836")
        liveness.register(conn, "me", 1000)
        assert liveness.beat_and_expire(conn, "me", 1000, 1_000_000) == 0
        assert liveness.expire_gone(conn, "me", 1_000_000) == 0
        assert conn.execute("SELECT state FROM _ts_task_runs").fetchall() == [("EXECUTING",)]
    finally:
        conn.close()


def test_the_next_process_fails_a_dead_processs_run_and_queues_its_message(tmp_path):
    # the run of a killed --clock process: the next process (even one that only runs SELECT 1)
    # fails it, and its error integration gets the TASK_FAILED message
    first = Shell(tmp_path / "c.db")
    first("CREATE NOTIFICATION INTEGRATION hook TYPE = WEBHOOK ENABLED = TRUE "
          "WEBHOOK = (url = 'http://127.0.0.1:9/', method = 'POST')")
    first("CREATE TASK t ERROR_INTEGRATION = 'hook' AS SELECT 1")
    first("EXECUTE TASK t")
    conn = first.catalog.connect()
    _left_by_a_virtual_process(conn, "ghost")
    conn.close()
    first.close()
    result = run_program([str(tmp_path / "c.db"), "--clock", "2026-11-02T00:00:00Z", "-c", "SELECT 1"])
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(tmp_path / "c.db")
    try:
        assert conn.execute("SELECT state, error_code FROM _ts_task_runs").fetchall() == [("FAILED", "100001")]
        assert conn.execute("SELECT message_type FROM _ts_notifications").fetchall() == [("TASK_FAILED",)]
    finally:
        conn.close()
