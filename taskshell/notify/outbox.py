"""The outbox: messages written in a run's own commit, claimed and settled by notifiers.

A message row is PENDING until an attempt delivers it (SUCCEEDED) or the notifier gives up (FAILED).
Claims are leases: a notifier that dies mid-attempt leaves a claim that expires, and any process that
opens the catalog later takes the message over. Every attempt is a row of its own.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from taskshell.catalog.db import write_transaction
from taskshell.notify import payload, store

if TYPE_CHECKING:
    from taskshell.scheduler.runs import FinishedRun, TaskRunner

PENDING, SUCCEEDED, FAILED, RETRYING = "PENDING", "SUCCEEDED", "FAILED", "RETRYING"


def wall_us() -> int:
    return time.time_ns() // 1000


def _us(instant: datetime) -> int:
    return int(instant.timestamp() * 1_000_000)


def missing_message(name: str) -> str:
    return f"Notification integration '{name}' does not exist; the message was not sent."


# ---------------------------------------------------------------- writing (inside a run's commit)
def may_report(run: FinishedRun) -> bool:
    """Whether `run` can have a message to queue: its state has a message type and, where the
    pinned integrations are known, one of them is set for that type."""
    message_type = payload.message_type_for(run.state)
    if message_type is None:
        return False
    if message_type == payload.TASK_SUCCEEDED and not run.graph_succeeded:
        return False  # only a task graph's success as a whole is reported (GraphRunner)
    return run.integrations is None or bool(run.integrations[0 if message_type == payload.TASK_FAILED else 1])


def record_finished_run(conn: sqlite3.Connection, run: FinishedRun) -> None:
    """An `on_finished` hook: queue the run's message for its task's integration, if it has one."""
    if not may_report(run):
        return
    message_type = payload.message_type_for(run.state)
    column = "error_integration" if message_type == payload.TASK_FAILED else "success_integration"
    # a child without an integration of its own reports through its root's (Snowflake's rule)
    if run.integrations is not None:
        # as the graph was pinned when its run started, like the rest of the task's definition
        name = run.integrations[0 if message_type == payload.TASK_FAILED else 1]
        root = conn.execute("SELECT id, NULL FROM _ts_tasks WHERE uuid = ?", (run.root_task_id,)).fetchone()
    else:
        own = conn.execute(f"SELECT {column} FROM _ts_tasks WHERE id = ?", (run.task_id,)).fetchone()
        root = conn.execute(f"SELECT id, {column} FROM _ts_tasks WHERE uuid = ?", (run.root_task_id,)).fetchone()
        name = (own[0] if own else None) or (root[1] if root else None)
        if not name:
            return
    integration = store.get(conn, name)
    if integration is not None and not integration.enabled:
        return
    tenant = conn.execute("SELECT value FROM _ts_meta WHERE key = 'account_id'").fetchone()
    facts = payload.RunFacts(
        tenant_id=tenant[0] if tenant else "", task_name=run.task, task_id=str(run.task_id),
        root_task_name=run.root, root_task_id=str(root[0]) if root else run.root_task_id,
        run_id=str(run.run_id), state=run.state, scheduled_time=run.scheduled_time,
        query_start_time=run.query_start_time, completed_time=run.completed_time, query_id=run.query_id,
        error_code=run.error_code, error_message=run.error_message, run_seq=run.seq)
    body = payload.task_message(facts, name, message_type, run.completed_time)
    created = _us(run.completed_time)
    if integration is None:
        status, next_at, processed, error = FAILED, None, created, missing_message(name)
    else:
        name, status, next_at, processed, error = integration.name, PENDING, wall_us(), None, None
    conn.execute(
        "INSERT OR IGNORE INTO _ts_notifications(message_id, created_on, message_type, integration_name,"
        " message, task_run_seq, status, next_attempt_at, processed, error_message)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (body["messageId"], created, message_type, name, json.dumps(body), run.seq, status, next_at,
         processed, error))


def attach(runner: TaskRunner) -> None:
    """Make `runner` queue notifications for the runs it records (idempotent)."""
    if record_finished_run not in runner.on_finished:
        runner.on_finished.append(record_finished_run)


# ---------------------------------------------------------------- claiming and settling
@dataclass(frozen=True)
class Claimed:
    id: int
    integration_name: str
    message: str
    attempts: int  # attempts made before this one


_CLAIMABLE = "status = 'PENDING' AND (claimed_until IS NULL OR claimed_until < :now)"


def due_integrations(conn: sqlite3.Connection, now_us: int) -> list[str]:
    rows = conn.execute(
        f"SELECT DISTINCT integration_name FROM _ts_notifications WHERE {_CLAIMABLE}"
        " AND next_attempt_at <= :now", {"now": now_us}).fetchall()
    return [r[0] for r in rows]


def next_due_us(conn: sqlite3.Connection) -> int | None:
    """The earliest time a pending message becomes claimable (its backoff or a lease ends)."""
    row = conn.execute("SELECT min(max(next_attempt_at, COALESCE(claimed_until, 0))) FROM _ts_notifications"
                       " WHERE status = 'PENDING'").fetchone()
    return row[0] if row else None


def claim_next(conn: sqlite3.Connection, integration: str, owner: str, now_us: int,
               lease_us: int) -> Claimed | None:
    """Take the oldest due message of `integration` for `lease_us`; None when there is none."""
    with write_transaction(conn):
        row = conn.execute(
            "UPDATE _ts_notifications SET claimed_by = :owner, claimed_until = :until WHERE id = ("
            f"SELECT id FROM _ts_notifications WHERE {_CLAIMABLE} AND next_attempt_at <= :now"
            " AND integration_name = :name ORDER BY next_attempt_at, id LIMIT 1)"
            " RETURNING id, integration_name, message, attempts",
            {"owner": owner, "until": now_us + lease_us, "now": now_us, "name": integration}).fetchone()
    return Claimed(*row) if row else None


def settle(conn: sqlite3.Connection, claimed: Claimed, owner: str, *, status: str, processed_us: int,
           attempt_status: str | None, http_status: int | None = None, error: str | None = None,
           next_attempt_us: int | None = None, message_error: str | None = None) -> bool:
    """Record one attempt (when `attempt_status` is given) and the message's new state;
    `message_error` (default `error`) is what the message row keeps.

    Conditional on our claim: False when the lease ran out and someone else took the message.
    """
    attempt = claimed.attempts + (1 if attempt_status else 0)
    with write_transaction(conn):
        cur = conn.execute(
            "UPDATE _ts_notifications SET status = ?, attempts = ?, next_attempt_at = ?, claimed_by = NULL,"
            " claimed_until = NULL, processed = ?, error_message = ? WHERE id = ? AND claimed_by = ?",
            (status, attempt, next_attempt_us, processed_us if status != PENDING else None,
             message_error or error, claimed.id, owner))
        if cur.rowcount == 0:
            return False
        if attempt_status:
            conn.execute(
                "INSERT OR REPLACE INTO _ts_notification_attempts(notification_id, attempt, processed, status,"
                " http_status, error_message) VALUES (?, ?, ?, ?, ?, ?)",
                (claimed.id, attempt, processed_us, attempt_status, http_status, error))
    return True


def release_claims(conn: sqlite3.Connection, owner: str, keep: set[int] | frozenset[int] = frozenset()) -> None:
    """Hand back what `owner` holds, so the next process can deliver it at once; messages in `keep`
    (an attempt still in flight) stay claimed until their lease ends."""
    kept = f" AND id NOT IN ({','.join('?' * len(keep))})" if keep else ""
    with write_transaction(conn):
        conn.execute("UPDATE _ts_notifications SET claimed_by = NULL, claimed_until = NULL"
                     f" WHERE claimed_by = ? AND status = 'PENDING'{kept}", (owner, *keep))
