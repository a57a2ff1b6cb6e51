"""Process heartbeats, and the expiry of runs whose process stopped beating (DESIGN §3.2).

Heartbeats are wall-clock facts about processes, so they use real time whatever the scheduling
clock. A process that has not beaten for EXPIRY_BEATS of its own intervals is dead: whoever
notices marks its EXECUTING runs FAILED. A checker that could not write its own beat recently
(the catalog was locked for everyone) does not judge others from that stale window.
"""

from __future__ import annotations

import os
import sqlite3
import time

from taskshell.catalog.db import write_transaction

EXPIRY_BEATS = 3
NO_HEARTBEAT_CODE = "100001"
NO_HEARTBEAT_MESSAGE = "process running the run stopped (no heartbeat)"


def real_us() -> int:
    return time.time_ns() // 1000


def register(conn: sqlite3.Connection, process_id: str, heartbeat_ms: int | None) -> None:
    """Record this process; `heartbeat_ms` None means it never beats (virtual clock) and never expires."""
    now = real_us()
    with write_transaction(conn):
        conn.execute(
            "INSERT INTO _ts_processes(id, pid, started_at, heartbeat_at, heartbeat_ms) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            (process_id, os.getpid(), now, now, heartbeat_ms))


def unregister(conn: sqlite3.Connection, process_id: str) -> None:
    with write_transaction(conn):
        conn.execute("DELETE FROM _ts_processes WHERE id = ?", (process_id,))


def beat_and_expire(conn: sqlite3.Connection, process_id: str, heartbeat_ms: int, clock_now_us: int) -> int:
    """Write this process's beat and fail the runs of dead processes; the number of runs failed."""
    now = real_us()
    failed = 0
    with write_transaction(conn):
        row = conn.execute("SELECT heartbeat_at FROM _ts_processes WHERE id = ?", (process_id,)).fetchone()
        conn.execute(
            "INSERT INTO _ts_processes(id, pid, started_at, heartbeat_at, heartbeat_ms) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
            (process_id, os.getpid(), now, now, heartbeat_ms))
        if row is None or now - row[0] > heartbeat_ms * 1000 * 1.5:
            return 0
        dead = [r[0] for r in conn.execute(
            "SELECT id FROM _ts_processes WHERE id != ? AND heartbeat_ms IS NOT NULL"
            " AND heartbeat_at < ? - heartbeat_ms * 1000 * ?", (process_id, now, EXPIRY_BEATS))]
        for owner in dead:
            failed += expire_owner(conn, owner, clock_now_us)
            conn.execute("DELETE FROM _ts_processes WHERE id = ?", (owner,))
    return failed


def expire_owner(conn: sqlite3.Connection, owner: str, now_us: int) -> int:
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
    return max(cur.rowcount, 0)
