"""One task run: WHEN, the body in its own transaction, and the history row.

A run's DML and its SUCCEEDED history row commit in one transaction; a failing body rolls back
whole and the run is recorded FAILED with the error's code and text.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

from taskshell.catalog import tasks as task_rows
from taskshell.catalog.db import Catalog, write_transaction
from taskshell.catalog.execute import run_steps
from taskshell.catalog.tasks import TaskRecord
from taskshell.errors import CONDITION_FALSE, TaskshellError
from taskshell.grammar.body import body_statements
from taskshell.scheduler import sqlenv
from taskshell.scheduler.clock import Clock
from taskshell.translate.context import TranslateContext
from taskshell.translate.translator import translate

CONDITION_FALSE_MESSAGE = "Conditional expression for task evaluated to false."
DEFAULT_SUSPEND_AFTER = {"snowflake": 10, "databend": 0}
SNOWFLAKE_DATABASE = "TASKSHELL"


def us(instant: datetime) -> int:
    return int(instant.timestamp() * 1_000_000)


@dataclass(frozen=True)
class RunRequest:
    task: TaskRecord
    root: TaskRecord
    scheduled_time: datetime
    scheduled_from: str  # 'SCHEDULE' | 'EXECUTE TASK' | 'RETRY'
    run_id: int  # the graph run's id: epoch milliseconds of its original scheduled time
    graph_version: int
    attempt: int = 1


@dataclass(frozen=True)
class RunOutcome:
    state: str  # SUCCEEDED | FAILED | FAILED_AND_AUTO_SUSPENDED | SKIPPED
    seq: int
    query_id: str | None
    error_code: str | None = None
    error_message: str | None = None
    return_value: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCEEDED"


class TaskRunner:
    """Runs task bodies on connections of its own (one per thread)."""

    def __init__(self, catalog: Catalog, clock: Clock, dialect: str = "snowflake",
                 timezone: str = "America/Los_Angeles") -> None:
        self.catalog = catalog
        self.clock = clock
        self.dialect = dialect
        self.timezone = timezone
        self._local = threading.local()

    def _connection(self) -> tuple[sqlite3.Connection, sqlenv.SqlEnv]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            env = sqlenv.SqlEnv(clock=self.clock, timezone=lambda: self._local.tz)
            conn = self.catalog.connect()
            sqlenv.install(conn, env)
            self._local.conn, self._local.env = conn, env
        return conn, self._local.env

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ------------------------------------------------------------------ a run
    def run(self, req: RunRequest) -> RunOutcome:
        conn, env = self._connection()
        task = req.task
        params = task.params
        self._local.tz = str(params.get("TIMEZONE") or self.timezone)
        ctx = TranslateContext(now=self.clock.now(), timezone=self._local.tz,
                               dialect=str(params.get("DIALECT") or self.dialect).lower(),
                               database=task.database_name, schema=task.schema_name,
                               role=task.owner, in_task=True)
        env.task = sqlenv.TaskRunInfo(task_name=task.name, root_task_name=req.root.name,
                                      root_task_uuid=req.root.uuid, run_id=req.run_id,
                                      scheduled_time=req.scheduled_time)
        try:
            if task.condition:
                try:
                    holds = self._condition_holds(conn, task.condition, ctx)
                except TaskshellError as err:
                    return self._record_failure(conn, req, None, None, err)
                if not holds:
                    return self._record_skip(conn, req, CONDITION_FALSE, CONDITION_FALSE_MESSAGE)
            query_id = str(uuid.uuid4())
            started = self.clock.now()
            with write_transaction(conn):
                seq = self._insert_run(conn, req, "EXECUTING", query_id, started)
            try:
                with write_transaction(conn):
                    for statement in body_statements(task.definition):
                        translation = translate(statement, ctx)
                        if translation.kind in ("begin", "commit", "rollback"):
                            raise TaskshellError(
                                "Transaction control statements are not allowed in a task body; "
                                "the whole body runs in one transaction.", code="000603")
                        run_steps(conn, translation.steps)
                    conn.execute(
                        "UPDATE _ts_task_runs SET state = 'SUCCEEDED', completed_time = ?, return_value = ?"
                        " WHERE seq = ?", (us(self.clock.now()), env.task.return_value, seq))
                    conn.execute("UPDATE _ts_tasks SET consecutive_failures = 0 WHERE id = ?", (task.id,))
            except TaskshellError as err:
                return self._record_failure(conn, req, seq, query_id, err)
            return RunOutcome("SUCCEEDED", seq, query_id, return_value=env.task.return_value)
        finally:
            env.task = None

    def _condition_holds(self, conn: sqlite3.Connection, condition: str, ctx: TranslateContext) -> bool:
        translation = translate(f"SELECT ({condition})", ctx)
        outcome = run_steps(conn, translation.steps)
        value = outcome.rows[0][0] if outcome.rows else None
        if isinstance(value, str):
            return value.strip().lower() in ("true", "t", "yes", "y", "on", "1")
        return bool(value)

    def _insert_run(self, conn: sqlite3.Connection, req: RunRequest, state: str, query_id: str | None,
                    started: datetime | None, error: tuple[str | None, str | None] = (None, None),
                    completed: datetime | None = None) -> int:
        task = req.task
        cur = conn.execute(
            """INSERT INTO _ts_task_runs(query_id, task_id, task_uuid, name, database_name, schema_name,
                   owner, comment, schedule, warehouse, query_text, condition_text, state, error_code,
                   error_message, scheduled_time, query_start_time, completed_time, root_task_id,
                   graph_version, run_id, scheduled_from, attempt_number, config, session_params,
                   claimed_by, heartbeat_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (query_id, task.id, task.uuid, task.name, task.database_name, task.schema_name, task.owner,
             task.comment, task.schedule, task.warehouse, task.definition, task.condition, state,
             error[0], error[1], us(req.scheduled_time), us(started) if started else None,
             us(completed) if completed else None, req.root.uuid, req.graph_version, req.run_id,
             req.scheduled_from, req.attempt, task.config, task.session_params,
             self.catalog.process_id, us(self.clock.now())))
        return int(cur.lastrowid)

    def _record_skip(self, conn: sqlite3.Connection, req: RunRequest, code: str, message: str) -> RunOutcome:
        now = self.clock.now()
        with write_transaction(conn):
            seq = self._insert_run(conn, req, "SKIPPED", None, None, (code, message), completed=now)
        return RunOutcome("SKIPPED", seq, None, code, message)

    def _record_failure(self, conn: sqlite3.Connection, req: RunRequest, seq: int | None,
                        query_id: str | None, err: TaskshellError) -> RunOutcome:
        now = self.clock.now()
        with write_transaction(conn):
            current = task_rows.get_by_id(conn, req.task.id)
            failures = (current.consecutive_failures if current else 0) + 1
            limit = current.suspend_task_after_num_failures if current else None
            if limit is None:
                limit = DEFAULT_SUSPEND_AFTER.get(self.dialect, 10)
            state = "FAILED"
            if current is not None:
                task_rows.update(conn, current.id, consecutive_failures=failures)
                if limit and failures >= limit:
                    state = "FAILED_AND_AUTO_SUSPENDED"
                    task_rows.update(conn, current.id, state="suspended", last_suspended_on=us(now),
                                     last_suspended_reason="SUSPENDED_DUE_TO_ERRORS",
                                     consecutive_failures=0)
            if seq is None:
                seq = self._insert_run(conn, req, state, query_id, None, (err.code, err.message),
                                       completed=now)
            else:
                conn.execute(
                    "UPDATE _ts_task_runs SET state = ?, error_code = ?, error_message = ?,"
                    " completed_time = ? WHERE seq = ?", (state, err.code, err.message, us(now), seq))
        return RunOutcome(state, seq, query_id, err.code, err.message)
