"""The interpreter: one statement in, one Result out, atomically. It never prints."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from typing import TYPE_CHECKING

from taskshell.catalog.db import savepoint, write_transaction
from taskshell.catalog.execute import run_steps
from taskshell.catalog.schema import RESERVED_PREFIX
from taskshell.errors import CompilationError, TaskshellError
from taskshell.grammar.router import is_owned
from taskshell.interpreter.result import Result
from taskshell.interpreter.session import Session
from taskshell.translate.translator import translate

if TYPE_CHECKING:
    from taskshell.scheduler.runs import TaskRunner

_READ_KINDS = ("select", "show_tables", "describe_table")
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
}


class Interpreter:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._runner: TaskRunner | None = None

    def execute(self, text: str) -> Result:
        """Run one statement (no trailing ';')."""
        started = time.perf_counter()
        if is_owned(text):
            from taskshell.grammar.parser import parse

            command = parse(text)
            if type(command).__name__ not in _HANDLERS:
                raise CompilationError(f"Unsupported SQL: {type(command).__name__} is not available yet.",
                                       code="002040")
            module, function = _HANDLERS[type(command).__name__]
            handler = getattr(import_module(f"taskshell.interpreter.{module}"), function)
            result = handler(self, command)
        else:
            result = self._run_sql(text)
        return Result(result.columns, result.rows, result.status, result.notices,
                      elapsed=time.perf_counter() - started)

    @property
    def runner(self) -> TaskRunner:
        """Runs task bodies on a connection of its own, with the session's defaults."""
        if self._runner is None:
            from taskshell.scheduler.runs import TaskRunner

            self._runner = TaskRunner(self.session.catalog, self.session.clock)
        self._runner.dialect = self.session.dialect
        self._runner.timezone = self.session.timezone
        return self._runner

    def interrupt(self) -> None:
        """Abort the statement running on the session's connection (from any thread)."""
        self.session.conn.interrupt()

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()
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
            session.conn.execute("BEGIN IMMEDIATE")
            session.user_transaction = True
            return Result.of_status(_DONE)
        if kind in ("commit", "rollback"):
            if session.user_transaction:
                session.user_transaction = False
                if session.conn.in_transaction:
                    session.conn.execute(kind.upper())
            return Result.of_status(_DONE)
        if kind in _DDL_KINDS and translation.object_name and \
                translation.object_name.lower().startswith(RESERVED_PREFIX):
            raise CompilationError(
                f"Object names starting with {RESERVED_PREFIX} are reserved for the taskshell catalog.")
        if kind in _READ_KINDS:
            outcome = run_steps(session.conn, translation.steps)
            return Result(outcome.columns, tuple(outcome.rows))
        with self.atomic():
            outcome = run_steps(session.conn, translation.steps)
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
