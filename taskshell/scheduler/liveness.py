"""Process heartbeats, and the expiry of runs whose process stopped beating (DESIGN §3.2).

Heartbeats are wall-clock facts about processes, so they use real time whatever the scheduling
clock. A process that has not beaten for EXPIRY_BEATS of its own intervals is dead: whoever
notices marks its EXECUTING runs FAILED. A checker that could not write its own beat recently
(the catalog was locked for everyone) does not judge others from that stale window.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from taskshell.catalog.db import write_transaction

if TYPE_CHECKING:
    from taskshell.scheduler.runs import FinishedHook

EXPIRY_BEATS = 3
NO_HEARTBEAT_CODE = "100001"
NO_HEARTBEAT_MESSAGE = "process running the run stopped (no heartbeat)"


def real_us() -> int:
    return time.time_ns() // 1000


@lru_cache(maxsize=1)
def pid_space() -> str:
    """Which pids this process can see: its host and, where the system tells, its pid namespace
    (a container sharing the catalog's volume sees other pids)."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return f"{socket.gethostname()}:{namespace}"


def register(conn: sqlite3.Connection, process_id: str, heartbeat_ms: int | None) -> None:
    """Record this process; `heartbeat_ms` None means it never beats (virtual clock): it is judged
    dead only when its pid is gone, by a process that sees the same pids."""
    now = real_us()
    with write_transaction(conn):
        _record(conn, process_id, heartbeat_ms, now)


def _record(conn: sqlite3.Connection, process_id: str, heartbeat_ms: int | None, now: int) -> None:
    """This process's row, its beat at `now`."""
    conn.execute(
        "INSERT INTO _ts_processes(id, pid, started_at, heartbeat_at, heartbeat_ms, pid_space)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        (process_id, os.getpid(), now, now, heartbeat_ms, pid_space()))


def unregister(conn: sqlite3.Connection, process_id: str) -> None:
    with write_transaction(conn):
        conn.execute("DELETE FROM _ts_processes WHERE id = ?", (process_id,))


def beat_and_expire(conn: sqlite3.Connection, process_id: str, heartbeat_ms: int, clock_now_us: int,
                    hooks: Sequence[FinishedHook] = (), dialect: str = "snowflake",
                    beating: Callable[[], bool] = lambda: True) -> int:
    """Write this process's beat and fail the runs of dead processes; the number of runs failed.
    `beating`: asked once the write lock is held; False (the process is stopping and may have
    unregistered meanwhile) writes nothing."""
    now = real_us()
    with write_transaction(conn):
        if not beating():
            return 0
        row = conn.execute("SELECT heartbeat_at FROM _ts_processes WHERE id = ?", (process_id,)).fetchone()
        _record(conn, process_id, heartbeat_ms, now)
        if row is None or now - row[0] > heartbeat_ms * 1000 * 1.5:
            return 0
        dead = [r[0] for r in conn.execute(
            "SELECT id FROM _ts_processes WHERE id != ? AND heartbeat_ms IS NOT NULL"
            " AND heartbeat_at < ? - heartbeat_ms * 1000 * ?", (process_id, now, EXPIRY_BEATS))]
        return _expire(conn, dead + _gone(conn, process_id), clock_now_us, hooks, dialect)


def expire_gone(conn: sqlite3.Connection, process_id: str, clock_now_us: int,
                hooks: Sequence[FinishedHook] = (), dialect: str = "snowflake") -> int:
    """Fail the runs of every registered process that never beats and whose pid is gone (a
    scheduler starting on a virtual clock, which never beats and so never runs `beat_and_expire`,
    does this once). Processes that beat are left to those that beat too: this one could not
    tell a dead process from a live one whose beats wait for a write lock held for long."""
    with write_transaction(conn):
        return _expire(conn, _gone(conn, process_id), clock_now_us, hooks, dialect)


def _expire(conn: sqlite3.Connection, owners: list[str], clock_now_us: int, hooks: Sequence[FinishedHook],
            dialect: str) -> int:
    """Inside a write transaction: fail the runs of the dead `owners` and forget them."""
    failed = 0
    for owner in owners:
        failed += expire_owner(conn, owner, clock_now_us, hooks, dialect)
        conn.execute("DELETE FROM _ts_processes WHERE id = ?", (owner,))
    return failed


def _gone(conn: sqlite3.Connection, process_id: str) -> list[str]:
    """The other registered processes that never beat (virtual clock) and whose pid no longer runs,
    among those that see the same pids as this one (a reused pid only makes a dead process look
    alive; one registered elsewhere, or before pid spaces were recorded, is never judged by pid)."""
    return [owner for owner, pid in conn.execute(
        "SELECT id, pid FROM _ts_processes WHERE id != ? AND heartbeat_ms IS NULL AND pid_space = ?",
        (process_id, pid_space())) if not _alive(pid)]


def _alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours to signal
        return True
    return True


def _instant(us: int | None) -> datetime | None:
    return None if us is None else datetime.fromtimestamp(us / 1_000_000, UTC)


def expire_owner(conn: sqlite3.Connection, owner: str, now_us: int,
                 hooks: Sequence[FinishedHook] = (), dialect: str = "snowflake") -> int:
    """Fail a dead owner's EXECUTING runs; each counts towards SUSPEND_TASK_AFTER_NUM_FAILURES like a
    run that failed by itself (in a Snowflake graph, once per graph run against the root), and
    `hooks` (the runner's on_finished, e.g. the notification outbox) see each of them in this same
    transaction."""
    expiring = conn.execute(
        "SELECT r.seq, r.name, r.task_id, COALESCE(t.name, r.name), r.root_task_id, r.scheduled_time,"
        " r.query_start_time, r.run_id, r.query_id, r.attempt_number, r.graph_run_id, r.scheduled_from,"
        " t.id, (t.id IS NOT NULL AND (EXISTS (SELECT 1 FROM _ts_task_predecessors p WHERE p.predecessor_id = t.id)"
        "  OR EXISTS (SELECT 1 FROM _ts_tasks f WHERE f.finalize_id = t.id)))"
        " FROM _ts_task_runs r LEFT JOIN _ts_tasks t ON t.uuid = r.root_task_id"
        " WHERE r.claimed_by = ? AND r.state = 'EXECUTING' ORDER BY r.seq", (owner,)).fetchall()
    cur = conn.execute(
        "UPDATE _ts_task_runs SET state = 'FAILED', error_code = ?, error_message = ?, completed_time = ?"
        " WHERE claimed_by = ? AND state = 'EXECUTING'", (NO_HEARTBEAT_CODE, NO_HEARTBEAT_MESSAGE, now_us, owner))
    conn.execute(
        "UPDATE _ts_graph_runs SET state = 'FAILED', completed_time = ?, first_error_code = ?,"
        " first_error_message = ?, first_error_task_name = COALESCE(first_error_task_name,"
        " (SELECT r.name FROM _ts_task_runs r WHERE r.graph_run_id = _ts_graph_runs.id"
        "  AND r.error_message = ? ORDER BY r.seq LIMIT 1))"
        " WHERE claimed_by = ? AND state = 'EXECUTING'",
        (now_us, NO_HEARTBEAT_CODE, NO_HEARTBEAT_MESSAGE, NO_HEARTBEAT_MESSAGE, owner))
    states = _count_failures(conn, expiring, dialect, now_us)
    if hooks:
        from taskshell.scheduler.runs import FinishedRun

        for (seq, task, task_id, root, root_id, scheduled, started, run_id, query_id, attempt,
             graph_run_id, scheduled_from, _, _) in expiring:
            finished = FinishedRun(
                seq=seq, task=task, task_id=task_id, root=root, root_task_id=root_id, state=states[seq],
                error_code=NO_HEARTBEAT_CODE, error_message=NO_HEARTBEAT_MESSAGE,
                scheduled_time=_instant(scheduled), query_start_time=_instant(started),
                completed_time=_instant(now_us), run_id=run_id, query_id=query_id, attempt=attempt,
                graph_run_id=graph_run_id, scheduled_from=scheduled_from, return_value=None)
            for hook in hooks:
                hook(conn, finished)
    return max(cur.rowcount, 0)


def _count_failures(conn: sqlite3.Connection, expiring: list[tuple], dialect: str, now_us: int) -> dict[int, str]:
    """Count the expired runs as failures; each run's final state by seq."""
    from taskshell.scheduler.runs import count_failure

    states: dict[int, str] = {}
    expired = {row[0] for row in expiring}
    counted_graphs: set[int] = set()
    for row in expiring:
        seq, task_id, graph_run_id, root_id, in_graph = row[0], row[2], row[10], row[12], row[13]
        states[seq] = "FAILED"
        target = task_id
        if dialect == "snowflake" and in_graph and graph_run_id is not None:
            # a graph run counts once, against its root, unless a task of it had failed before
            if graph_run_id in counted_graphs:
                continue
            counted_graphs.add(graph_run_id)
            failed_before = [r[0] for r in conn.execute(
                "SELECT seq FROM _ts_task_runs WHERE graph_run_id = ?"
                " AND state IN ('FAILED', 'FAILED_AND_AUTO_SUSPENDED')", (graph_run_id,))]
            if any(other not in expired for other in failed_before):
                continue
            target = root_id
        state, _ = count_failure(conn, target, dialect, now_us)
        if state != "FAILED":
            states[seq] = state
            conn.execute("UPDATE _ts_task_runs SET state = ? WHERE seq = ?", (state, seq))
    return states
