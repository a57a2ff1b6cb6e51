"""The interpreter: one statement in, one Result out, atomically. It never prints."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import TYPE_CHECKING

from taskshell.catalog.db import savepoint, write_transaction
from taskshell.catalog.execute import run_steps
from taskshell.catalog.schema import RESERVED_PREFIX
from taskshell.catalog.streams import after_column_drop, before_column_drop, sync_tracking
from taskshell.catalog.streams import unpin as unpin_streams
from taskshell.errors import CompilationError, TaskshellError
from taskshell.grammar.router import is_owned
from taskshell.interpreter.result import Result
from taskshell.interpreter.session import Session
from taskshell.translate.translator import translate

if TYPE_CHECKING:
    from taskshell.scheduler.runs import TaskRunner
    from taskshell.scheduler.scheduler import Scheduler

_READ_KINDS = ("select", "show_tables", "describe_table")
_EMPTY_SET = re.compile(r"\s*alter\s+task\s+(?:if\s+exists\s+)?\S+\s+set\s*;?\s*$", re.IGNORECASE)
_DDL_KINDS = ("create_table", "ctas", "drop_table", "alter_table", "create_view", "drop_view")
_COUNT_COLUMNS = {
    "inserted": "number of rows inserted",
    "updated": "number of rows updated",
    "deleted": "number of rows deleted",
}
_DONE = "Statement executed successfully."
# command class → (handler module, function); modules load on first use so that plain SQL
# (and start-up) never pays for the grammar, the task machinery or croniter.
_HANDLERS = {
    "CreateTask": ("tasks", "create_task"),
    "AlterTask": ("tasks", "alter_task"),
    "DropTask": ("tasks", "drop_task"),
    "DescribeTask": ("tasks", "describe_task"),
    "ShowTasks": ("tasks", "show_tasks"),
    "ExecuteTask": ("tasks", "execute_task"),
    "AlterSession": ("settings", "alter_session"),
    "CreateWarehouse": ("warehouses", "create_warehouse"),
    "AlterWarehouse": ("warehouses", "alter_warehouse"),
    "DropWarehouse": ("warehouses", "drop_warehouse"),
    "ShowWarehouses": ("warehouses", "show_warehouses"),
    "UseWarehouse": ("warehouses", "use_warehouse"),
    "CreateStream": ("streams", "create_stream"),
    "DropStream": ("streams", "drop_stream"),
    "DescribeStream": ("streams", "describe_stream"),
    "ShowStreams": ("streams", "show_streams"),
    "SetChangeTracking": ("streams", "set_change_tracking"),
    "TaskDependentsEnable": ("tasks", "task_dependents_enable"),
    "CreateNotificationIntegration": ("integrations", "create_integration"),
    "AlterNotificationIntegration": ("integrations", "alter_integration"),
    "DropNotificationIntegration": ("integrations", "drop_integration"),
    "DescribeNotificationIntegration": ("integrations", "describe_integration"),
    "ShowNotificationIntegrations": ("integrations", "show_integrations"),
}


class Interpreter:
    def __init__(self, session: Session) -> None:
        self.session = session
        # The process's background scheduler (None with --no-scheduler); the shell reads its
        # `bus` and `status()`.
        self.scheduler: Scheduler | None = None
        # Starts the process's scheduler on first need (see ensure_scheduler); None = never.
        self.scheduler_factory: Callable[[], Scheduler] | None = None
        self._starting = threading.Lock()
        self._engine: Scheduler | None = None
        # SYSTEM$WAIT on the real clock sleeps here, so that `interrupt` (Ctrl-C) ends it at once;
        # SQLite then stops the statement it was called from
        self._woken = threading.Event()
        if not session.clock.virtual and session.env.wait is None:
            session.env.wait = self._sleep

    def ensure_scheduler(self) -> Scheduler | None:
        """Start the background scheduler if this process may have one and it is not running yet.

        Plain SQL never needs it, so a one-shot `taskshell -c "select 1"` does not pay for it; any
        statement about tasks, streams or integrations starts it (and the command line starts it at
        once when the catalog already has started tasks or undelivered messages).
        """
        with self._starting:
            # not inside the session's own transaction: starting registers the process, a write
            # that would wait for the very lock this session holds (the next statement starts it)
            if self.scheduler is None and self.scheduler_factory is not None \
                    and not self.session.user_transaction:
                factory, self.scheduler_factory = self.scheduler_factory, None
                self.attach_scheduler(factory())
        return self.scheduler

    def attach_scheduler(self, scheduler: Scheduler) -> None:
        """Use a started scheduler: EXECUTE TASK runs through it, and on a virtual clock SYSTEM$WAIT
        lets the work due meanwhile run before it returns."""
        self.scheduler = scheduler
        self._serve(scheduler)
        if scheduler.virtual:
            self.session.env.wait = scheduler.advance

    def _serve(self, scheduler: Scheduler) -> None:
        """What any scheduler running this session's tasks needs from it."""
        from taskshell.notify.outbox import attach

        attach(scheduler.runner)  # failed runs queue their notifications in their own commit
        scheduler.session_holds_lock = lambda: self.session.user_transaction

    def execute(self, text: str) -> Result:
        """Run one statement (no trailing ';')."""
        started = time.perf_counter()
        self.session.env.deferred.clear()
        if is_owned(text):
            from taskshell.grammar.parser import parse

            if self.session.dialect == "databend" and _EMPTY_SET.match(text):
                raise CompilationError("alter task must set at least one option")  # Databend's words
            command = parse(text)
            if type(command).__name__ not in _HANDLERS:
                raise CompilationError(f"Unsupported SQL: {type(command).__name__} is not available yet.",
                                       code="002040")
            name = type(command).__name__
            module, function = _HANDLERS[name]
            handler = getattr(import_module(f"taskshell.interpreter.{module}"), function)
            if name.startswith(("Create", "Alter", "Drop", "SetChangeTracking")) and name != "AlterSession":
                self._end_transaction_for_ddl()
            if module != "settings":
                self.ensure_scheduler()
            result = handler(self, command)
            if self.scheduler is not None:
                self.scheduler.notify_changed()
        else:
            result = self._run_sql(text)
            if self.session.env.deferred:
                self._apply_deferred()
        return Result(result.columns, result.rows, result.status, result.notices,
                      elapsed=time.perf_counter() - started)

    def _end_transaction(self, how: str) -> None:
        """COMMIT or ROLLBACK the session's open transaction, if it has one."""
        session = self.session
        if session.user_transaction:
            session.user_transaction = False
            session.streams.invalidate()
            if session.conn.in_transaction:
                session.conn.execute(how)
            unpin_streams(session.conn)

    def _end_transaction_for_ddl(self) -> None:
        """As in Snowflake, a DDL statement commits the open transaction first and then runs as a
        transaction of its own; the statements after it run in autocommit mode."""
        self._end_transaction("COMMIT")

    def _apply_deferred(self) -> None:
        actions = list(self.session.env.deferred)
        self.session.env.deferred.clear()
        with self.atomic():
            for action in actions:
                action(self.session.conn)
        if self.scheduler is not None:
            self.scheduler.notify_changed()

    @property
    def executor(self) -> Scheduler:
        """What runs task graphs for EXECUTE TASK: the scheduler, else a private one that never
        schedules anything by itself."""
        if self.ensure_scheduler() is not None:
            return self.scheduler
        if self._engine is None:
            from taskshell.scheduler.scheduler import Scheduler

            self._engine = Scheduler(self.session.catalog, self.session.clock)
            self._serve(self._engine)
            self._engine.keep_alive()  # its runs must not outlive this process as EXECUTING
        self._engine.runner.dialect = self.session.dialect
        self._engine.runner.timezone = self.session.timezone
        return self._engine

    @property
    def runner(self) -> TaskRunner:
        """Runs task bodies on connections of its own (its `on_finished` hooks see every run)."""
        return self.executor.runner

    def interrupt(self) -> None:
        """Abort the statement running on the session's connection (from any thread)."""
        self._woken.set()
        self.session.conn.interrupt()

    def _sleep(self, seconds: float) -> None:
        self._woken.clear()
        if seconds > 0:
            self._woken.wait(seconds)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.stop()
        self.session.close()

    def now_us(self) -> int:
        return int(self.session.clock.now().timestamp() * 1_000_000)

    # ------------------------------------------------------------------ transactions
    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A write: its own BEGIN IMMEDIATE transaction, or a savepoint inside the user's."""
        conn = self.session.conn
        if self.session.user_transaction:
            with savepoint(conn):
                yield
        else:
            if self.scheduler is not None:
                self.scheduler.before_session_write()
            with write_transaction(conn):
                yield

    def query(self, sql: str, params: tuple = ()) -> Result:
        """A read over the catalog with the session's functions, as a Result."""
        outcome = run_steps(self.session.conn, (_Step(sql, params),))
        return Result(outcome.columns, tuple(outcome.rows))

    # ------------------------------------------------------------------ SQL
    def _run_sql(self, text: str) -> Result:
        session = self.session
        translation = translate(text, session.context())
        kind = translation.kind
        if kind == "begin":
            if session.user_transaction:
                return Result.of_status(_DONE, notices=("A transaction is already open; BEGIN ignored.",))
            if self.scheduler is not None:
                self.scheduler.before_session_write()
            session.conn.execute("BEGIN IMMEDIATE")
            session.user_transaction = True
            return Result.of_status(_DONE)
        if kind in ("commit", "rollback"):
            self._end_transaction(kind.upper())
            return Result.of_status(_DONE)
        if kind in _DDL_KINDS:
            self._end_transaction_for_ddl()
        named = (translation.object_name,) if kind in _DDL_KINDS else translation.tables_written
        if any(name and name.lower().startswith(RESERVED_PREFIX) for name in named):
            # the catalog's own tables can be read, but only taskshell's statements change them
            raise CompilationError(
                f"Object names starting with {RESERVED_PREFIX} are reserved for the taskshell catalog.")
        if kind in _READ_KINDS:
            try:
                outcome = run_steps(session.conn, translation.steps)
            except Exception:
                if not session.user_transaction:
                    # a read that failed part-way must not leave its stream windows pinned: the
                    # next transaction would read (and consume) that old window again
                    unpin_streams(session.conn)
                raise
            return Result(outcome.columns, tuple(outcome.rows))
        with self.atomic():
            tracked = before_column_drop(session.conn, translation.object_name or "") \
                if translation.drops_columns else None
            outcome = run_steps(session.conn, translation.steps)
            if tracked is not None:
                try:
                    after_column_drop(session.conn, *tracked)
                except ValueError as exc:
                    raise CompilationError(f"SQL compilation error: {exc}.") from None
            if kind in _DDL_KINDS:
                sync_tracking(session.conn)  # change tracking follows the table's columns
                session.streams.invalidate()
        if translation.status:
            return Result.of_status(translation.status)
        if outcome.counts or kind in ("insert", "update", "delete", "merge"):
            return _count_result(kind, outcome.counts, translation.steps)
        if outcome.columns:
            return Result(outcome.columns, tuple(outcome.rows))
        return Result.of_status(_DONE)


class _Step:
    __slots__ = ("sql", "params", "counts_as", "returns_rows")

    def __init__(self, sql: str, params: tuple = ()) -> None:
        self.sql, self.params, self.counts_as, self.returns_rows = sql, params, None, True


def _count_result(kind: str, counts: dict[str, int], steps: tuple) -> Result:
    if kind == "merge":
        present = [c for c in ("inserted", "updated", "deleted") if any(s.counts_as == c for s in steps)]
    else:
        present = [{"insert": "inserted", "update": "updated", "delete": "deleted"}.get(kind, "inserted")]
    columns = [_COUNT_COLUMNS[c] for c in present]
    values = [counts.get(c, 0) for c in present]
    if kind == "update":
        columns.append("number of multi-joined rows updated")
        values.append(0)
    return Result(tuple(columns), (tuple(values),))


def describe_error(err: TaskshellError) -> str:
    return f"{err.code} ({err.sqlstate}): {err.message}"
