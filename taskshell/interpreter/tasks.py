"""Task DDL, SHOW/DESC TASK and EXECUTE TASK."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from taskshell.catalog import tasks as rows
from taskshell.catalog.tasks import TaskRecord
from taskshell.errors import GRAPH_NOT_SUSPENDED, CompilationError, TaskshellError
from taskshell.grammar import ast
from taskshell.grammar.body import body_statements
from taskshell.interpreter.integrations import missing_integration_notices
from taskshell.interpreter.result import Result
from taskshell.interpreter.session import check_dialect, check_timezone
from taskshell.notify import store
from taskshell.scheduler import schedule as schedules
from taskshell.translate.system_relations import sql_literal, tasks_sql
from taskshell.translate.translator import translate

if TYPE_CHECKING:
    from taskshell.interpreter.interpreter import Interpreter

MAX_PREDECESSORS = 100
MAX_CHILDREN = 100
MAX_GRAPH_TASKS = 1000
RETRY_LAST_WINDOW_US = 14 * 24 * 3600 * 1_000_000  # RETRY LAST: first attempt at most 14 days ago
DONE = "Statement executed successfully."
BOTH_SCHEDULE_AND_AFTER = ("task must be defined with either given time schedule as a root task "
                           "or run after other task as a DAG")

# TaskProps field → _ts_tasks column, for the plain (copied as given) properties
_PLAIN = {
    "user_task_managed_initial_warehouse_size": "managed_warehouse_size",
    "allow_overlapping_execution": "allow_overlapping_execution",
    "overlap_policy": "overlap_policy",
    "user_task_timeout_ms": "user_task_timeout_ms",
    "suspend_task_after_num_failures": "suspend_task_after_num_failures",
    "error_integration": "error_integration",
    "success_integration": "success_integration",
    "comment": "comment",
    "task_auto_retry_attempts": "task_auto_retry_attempts",
    "user_task_minimum_trigger_interval_in_seconds": "min_trigger_interval_s",
}
# UNSET name → column (None = a session parameter)
_UNSETTABLE = {
    "WAREHOUSE": "warehouse", "SCHEDULE": "schedule", "CONFIG": "config",
    "ALLOW_OVERLAPPING_EXECUTION": "allow_overlapping_execution", "OVERLAP_POLICY": "overlap_policy",
    "USER_TASK_TIMEOUT_MS": "user_task_timeout_ms",
    "SUSPEND_TASK_AFTER_NUM_FAILURES": "suspend_task_after_num_failures",
    "ERROR_INTEGRATION": "error_integration", "SUCCESS_INTEGRATION": "success_integration",
    "COMMENT": "comment", "TASK_AUTO_RETRY_ATTEMPTS": "task_auto_retry_attempts",
    "USER_TASK_MINIMUM_TRIGGER_INTERVAL_IN_SECONDS": "min_trigger_interval_s",
    "USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE": "managed_warehouse_size",
}
_OVERLAP_POLICIES = ("NO_OVERLAP", "ALLOW_CHILD_OVERLAP", "ALLOW_ALL_OVERLAP")
_TASK_IDS = uuid.UUID("0e7c2f4a-9b1d-4e3f-8a6c-5d2b7f1e9c40")


def _new_uuid(interp: Interpreter, name: str) -> str:
    """A task's id; on a virtual clock it is derived from what the script did, so output repeats."""
    if not interp.session.clock.virtual:
        return str(uuid.uuid4())
    row = interp.session.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = '_ts_tasks'").fetchone()
    return str(uuid.uuid5(_TASK_IDS, f"{name}|{interp.now_us()}|{row[0] if row else 0}"))


# ---------------------------------------------------------------- names and errors
def task_name(interp: Interpreter, name: ast.QualifiedName) -> str:
    return interp.session.normalize(name.name)


def qualified(task: TaskRecord) -> str:
    return f"{task.database_name}.{task.schema_name}.{task.name}"


def not_found(interp: Interpreter, name: str, action: str) -> CompilationError:
    if interp.session.dialect == "databend":
        return CompilationError(f"Task not found: '{name}'; while {action} task", code="2611")
    return CompilationError(f"Task '{name}' does not exist or not authorized.", code="002003", sqlstate="02000")


def already_exists(interp: Interpreter, name: str) -> CompilationError:
    if interp.session.dialect == "databend":
        return CompilationError(f"Task already exists: '{name}'; ", code="2612")
    return CompilationError(f"Object '{name}' already exists.", code="002002", sqlstate="42710")


def _lookup(interp: Interpreter, name: ast.QualifiedName, action: str) -> TaskRecord:
    found = rows.get_by_name(interp.session.conn, task_name(interp, name))
    if found is None:
        raise not_found(interp, task_name(interp, name), action)
    return found


def _check_roots_suspended(interp: Interpreter, task_ids: list[int]) -> None:
    """Snowflake refuses any change to a graph whose root is started (091421)."""
    conn = interp.session.conn
    for task_id in task_ids:
        for root in rows.roots_of(conn, task_id):
            if root.state == "started":
                raise TaskshellError(
                    f"Unable to update graph with root task {qualified(root).upper()} since that root "
                    "task is not suspended.", code=GRAPH_NOT_SUSPENDED, sqlstate="22000")


def _in_graph(conn: Any, task: TaskRecord) -> bool:
    return bool(rows.predecessors(conn, task.id) or rows.children(conn, task.id)
                or task.finalize_id or rows.finalizer_of(conn, task.id))


# ---------------------------------------------------------------- property checks
def _check_body(interp: Interpreter, body: ast.Body) -> str:
    """The body text, once every statement in it translates; errors point into the statement."""
    text = body.text.strip().rstrip(";").rstrip()
    ctx = interp.session.context()
    statements: list[str] = []
    try:
        statements = body_statements(text)
        for statement in statements:
            if translate(statement, ctx).kind in ("begin", "commit", "rollback"):
                raise CompilationError(
                    "Transaction control statements are not allowed in a task body; the whole body "
                    "runs in one transaction.")
    except TaskshellError as err:
        if interp.session.dialect == "databend":
            err.message = f"syntax error for task formatted sql: {err.message}"
            err.args = (err.message,)
        if err.position and statements == [text]:
            line, column = err.position
            err.position = (body.line + line - 1, body.column + column - 1 if line == 1 else column)
        else:
            err.position = None
        raise
    return text


def _prop_values(interp: Interpreter, props: ast.TaskProps, params: dict[str, Any]) -> dict[str, Any]:
    """Column values for the properties that were given (validated); `params` is updated in place."""
    values: dict[str, Any] = {}
    session = interp.session
    if props.warehouse is not None:
        found = session.conn.execute("SELECT name FROM _ts_warehouses WHERE name = ?",
                                     (props.warehouse,)).fetchone()
        if not found:
            raise CompilationError(f"Warehouse '{props.warehouse}' does not exist or not authorized.",
                                   code="002003", sqlstate="02000")
        values["warehouse"] = found[0]
    if props.schedule is not None:
        values["schedule"] = schedules.to_json(schedules.resolve(props.schedule))
    if props.when is not None:
        values["condition"] = props.when.text
    if props.config is not None:
        try:
            json.loads(props.config)
        except ValueError:
            raise CompilationError(f"Invalid CONFIG: {props.config!r} is not valid JSON.") from None
        values["config"] = props.config
    if props.overlap_policy is not None and props.overlap_policy.upper() not in _OVERLAP_POLICIES:
        raise CompilationError(f"Invalid value '{props.overlap_policy}' for OVERLAP_POLICY: expected one of "
                               f"{', '.join(_OVERLAP_POLICIES)}.")
    for field, column in _PLAIN.items():
        value = getattr(props, field)
        if value is None:
            continue
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise CompilationError(f"Invalid value {value} for {field.upper()}: it must not be negative.")
        values[column] = value.upper() if field == "overlap_policy" else value
    if props.allow_overlapping_execution is not None:
        values["allow_overlapping_execution"] = int(props.allow_overlapping_execution)
    for column in ("error_integration", "success_integration"):
        # an integration that exists is named as it was created (its names match whatever the case)
        if values.get(column) and (found := store.get(session.conn, values[column])) is not None:
            values[column] = found.name
    for name, value in props.session_params:
        if name == "TIMEZONE":
            value = check_timezone(str(value))
        elif name == "DIALECT":
            value = check_dialect(str(value))
        params[name] = value
    if props.session_params:
        values["session_params"] = json.dumps(params)
    return values


def _resolve_predecessors(interp: Interpreter, names: tuple[ast.QualifiedName, ...],
                          task: TaskRecord | None, name: str) -> list[TaskRecord]:
    conn = interp.session.conn
    found: list[TaskRecord] = []
    for qn in names:
        pred = _lookup(interp, qn, "create")
        if pred.finalize_id:
            raise CompilationError(f"Task {pred.name} is a finalizer task and cannot have child tasks.")
        if pred.name.lower() == name.lower() or (task and pred.id in rows.descendants(conn, task.id)):
            raise CompilationError(
                f"Cycle detected: {name} cannot run after {pred.name}, because {pred.name} already "
                f"runs after {name}.")
        if all(p.id != pred.id for p in found):
            found.append(pred)
    return found


def _check_limits(interp: Interpreter, task: TaskRecord | None, name: str, preds: list[TaskRecord]) -> None:
    conn = interp.session.conn
    if len(preds) > MAX_PREDECESSORS:
        raise CompilationError(f"Task {name} cannot have more than {MAX_PREDECESSORS} predecessors.")
    for pred in preds:
        siblings = [c for c in rows.children(conn, pred.id) if not task or c.id != task.id]
        if len(siblings) + 1 > MAX_CHILDREN:
            raise CompilationError(f"Task {pred.name} cannot have more than {MAX_CHILDREN} child tasks.")
    if preds:
        members: set[int] = set()
        for pred in preds:
            for root in rows.roots_of(conn, pred.id):
                members.update(t.id for t in rows.graph_members(conn, root.id))
        if task:
            members.update(rows.descendants(conn, task.id))
            members.add(task.id)
        else:
            members.add(-1)
        if len(members) > MAX_GRAPH_TASKS:
            raise CompilationError(f"A task graph cannot have more than {MAX_GRAPH_TASKS} tasks.")


def _check_finalizer(interp: Interpreter, root_name: ast.QualifiedName, task: TaskRecord | None,
                     values: dict[str, Any], has_preds: bool) -> int:
    conn = interp.session.conn
    root = _lookup(interp, root_name, "create")
    if values.get("schedule") or has_preds:
        raise CompilationError("A finalizer task cannot have a SCHEDULE or predecessors (AFTER).")
    if rows.predecessors(conn, root.id) or root.finalize_id:
        raise CompilationError(f"Task {root.name} is not a root task; FINALIZE must name a root task.")
    other = rows.finalizer_of(conn, root.id)
    if other and (task is None or other.id != task.id):
        raise CompilationError(f"Root task {root.name} already has a finalizer task: {other.name}.")
    if task and rows.children(conn, task.id):
        raise CompilationError(f"Task {task.name} has child tasks and cannot be a finalizer task.")
    return root.id


# ---------------------------------------------------------------- CREATE
def create_task(interp: Interpreter, cmd: ast.CreateTask) -> Result:
    session = interp.session
    conn = session.conn
    name = task_name(interp, cmd.name)
    now = interp.now_us()
    with interp.atomic():
        existing = rows.get_by_name(conn, name)
        if existing and cmd.if_not_exists:
            return Result.of_status(f"{existing.name} already exists, statement succeeded.")
        if existing and not (cmd.or_replace or cmd.or_alter):
            raise already_exists(interp, name)
        if existing:
            name = existing.name if not cmd.name.name.quoted else name
            _check_roots_suspended(interp, [existing.id])
        if cmd.clone_of is not None:
            source = _lookup(interp, cmd.clone_of, "clone")
            values = {c: getattr(source, c) for c in rows.COLUMNS
                      if c not in ("id", "uuid", "name", "state", "created_on", "last_committed_on",
                                   "last_suspended_on", "last_suspended_reason", "resumed_on",
                                   "graph_version", "consecutive_failures", "had_predecessors")}
            preds = rows.predecessors(conn, source.id)
            values["finalize_id"] = None
        else:
            params: dict[str, Any] = {}
            values = _prop_values(interp, cmd.props, params)
            values["session_params"] = json.dumps(params)
            assert cmd.body is not None
            values["definition"] = _check_body(interp, cmd.body)
            after = cmd.props.after or ()
            if values.get("schedule") and after:
                raise CompilationError(BOTH_SCHEDULE_AND_AFTER)
            preds = _resolve_predecessors(interp, after, existing, name)
            if cmd.props.finalize is not None:
                values["finalize_id"] = _check_finalizer(interp, cmd.props.finalize, existing, values,
                                                         bool(preds))
        _check_limits(interp, existing, name, preds)
        _check_roots_suspended(interp, [p.id for p in preds])
        values.update(name=name, database_name=session.database, schema_name=session.schema,
                      owner=session.role, created_on=now, last_committed_on=now,
                      had_predecessors=int(bool(preds)))
        if existing:
            blank = {c: None for c in rows.COLUMNS if c not in ("id", "uuid")}
            blank.update(state="suspended" if cmd.or_replace else existing.state, graph_version=1,
                         consecutive_failures=0, session_params="{}")
            if cmd.or_alter:
                blank.update(created_on=existing.created_on, graph_version=existing.graph_version + 1,
                             last_suspended_on=existing.last_suspended_on,
                             last_suspended_reason=existing.last_suspended_reason,
                             resumed_on=existing.resumed_on)
                values.pop("created_on")
            blank.update(values)
            if cmd.or_replace:
                blank["uuid"] = _new_uuid(interp, name)
            rows.update(conn, existing.id, **blank)
            task_id = existing.id
        else:
            values.update(uuid=_new_uuid(interp, name), state="suspended")
            task_id = rows.insert(conn, values)
        rows.set_predecessors(conn, task_id, [p.id for p in preds])
        if cmd.or_alter or preds:
            rows.bump_graph_version(conn, task_id)
    return Result.of_status(f"Task {name} successfully created.",
                            notices=missing_integration_notices(conn, cmd.props))


# ---------------------------------------------------------------- ALTER
def alter_task(interp: Interpreter, cmd: ast.AlterTask) -> Result:
    conn = interp.session.conn
    with interp.atomic():
        name = task_name(interp, cmd.name)
        task = rows.get_by_name(conn, name)
        if task is None:
            if cmd.if_exists:
                return Result.of_status(DONE)
            raise not_found(interp, name, "alter")
        action = cmd.action
        now = interp.now_us()
        if isinstance(action, ast.Resume):
            if rows.predecessors(conn, task.id) or task.finalize_id:
                _check_roots_suspended(interp, [task.id])
            if task.state != "started":
                rows.update(conn, task.id, state="started", resumed_on=now)
            return Result.of_status(DONE)
        if isinstance(action, ast.Suspend):
            if rows.predecessors(conn, task.id) or task.finalize_id:
                _check_roots_suspended(interp, [task.id])
            if task.state != "suspended":
                rows.update(conn, task.id, state="suspended", last_suspended_on=now,
                            last_suspended_reason="USER_SUSPENDED")
            return Result.of_status(DONE)
        _check_roots_suspended(interp, [task.id])
        changes = _alter_changes(interp, task, action)
        changes["last_committed_on"] = now
        rows.update(conn, task.id, **changes)
        rows.bump_graph_version(conn, task.id)
    return Result.of_status(DONE, notices=missing_integration_notices(conn, getattr(action, "props", None)))


def _alter_changes(interp: Interpreter, task: TaskRecord, action: ast.AlterTaskAction) -> dict[str, Any]:
    conn = interp.session.conn
    if isinstance(action, ast.SetProps):
        params = task.params
        values = _prop_values(interp, action.props, params)
        if values.get("schedule") and rows.predecessors(conn, task.id):
            raise CompilationError(f"Task cannot have both `SCHEDULE` and `AFTER`: '{task.name}'")
        if action.props.after is not None:
            raise CompilationError("Use ALTER TASK … ADD AFTER to add predecessors.")
        if action.props.finalize is not None:
            values["finalize_id"] = _check_finalizer(interp, action.props.finalize, task, values,
                                                     bool(rows.predecessors(conn, task.id)))
        return values
    if isinstance(action, ast.UnsetProps):
        params = task.params
        values: dict[str, Any] = {}
        for unset in action.names:
            column = _UNSETTABLE.get(unset)
            if column:
                values[column] = None
            else:
                params.pop(unset, None)
        values["session_params"] = json.dumps(params)
        return values
    if isinstance(action, ast.AddAfter):
        if task.schedule:
            raise CompilationError(f"Task cannot have both `SCHEDULE` and `AFTER`: '{task.name}'")
        if task.finalize_id:
            raise CompilationError("A finalizer task cannot have a SCHEDULE or predecessors (AFTER).")
        current = rows.predecessors(conn, task.id)
        added = _resolve_predecessors(interp, action.names, task, task.name)
        preds = current + [p for p in added if all(p.id != c.id for c in current)]
        _check_limits(interp, task, task.name, preds)
        _check_roots_suspended(interp, [p.id for p in added])
        rows.set_predecessors(conn, task.id, [p.id for p in preds])
        return {"had_predecessors": 1}
    if isinstance(action, ast.RemoveAfter):
        if task.schedule and interp.session.dialect == "databend":
            # Databend refuses REMOVE AFTER on a scheduled task as it refuses ADD AFTER (§5.1)
            raise CompilationError(f"Task cannot have both `SCHEDULE` and `AFTER`: '{task.name}'")
        removed = {_lookup(interp, qn, "alter").id for qn in action.names}
        remaining = [p for p in rows.predecessors(conn, task.id) if p.id not in removed]
        rows.set_predecessors(conn, task.id, [p.id for p in remaining])
        changes: dict[str, Any] = {}
        if not remaining:
            # a child that loses its last predecessor becomes a standalone task, suspended
            changes.update(state="suspended", last_suspended_on=interp.now_us(),
                           last_suspended_reason="PREDECESSOR_REMOVED")
        return changes
    if isinstance(action, ast.ModifyAs):
        return {"definition": _check_body(interp, action.body)}
    if isinstance(action, ast.ModifyWhen):
        return {"condition": action.condition.text}
    if isinstance(action, ast.RemoveWhen):
        return {"condition": None}
    if isinstance(action, ast.SetFinalize):
        return {"finalize_id": _check_finalizer(interp, action.root, task, {"schedule": task.schedule},
                                                bool(rows.predecessors(conn, task.id)))}
    if isinstance(action, ast.UnsetFinalize):
        return {"finalize_id": None}
    raise CompilationError(f"Unsupported ALTER TASK action {type(action).__name__}")


# ---------------------------------------------------------------- DROP
def drop_task(interp: Interpreter, cmd: ast.DropTask) -> Result:
    conn = interp.session.conn
    with interp.atomic():
        name = task_name(interp, cmd.name)
        task = rows.get_by_name(conn, name)
        if task is None:
            if cmd.if_exists:
                return Result.of_status(DONE)
            raise not_found(interp, name, "drop")
        if _in_graph(conn, task):
            _check_roots_suspended(interp, [task.id])
        now = interp.now_us()
        for child in rows.children(conn, task.id):
            # children of a dropped predecessor become standalone tasks or roots, suspended
            rows.update(conn, child.id, state="suspended", last_suspended_on=now,
                        last_suspended_reason="PREDECESSOR_DROPPED")
        rows.bump_graph_version(conn, task.id)
        conn.execute(
            "UPDATE _ts_task_runs SET state = 'CANCELLED', completed_time = ?, error_message ="
            " 'Task was dropped while the run was in progress.' WHERE task_id = ? AND state IN"
            " ('EXECUTING', 'SCHEDULED')", (now, task.id))
        rows.delete(conn, task.id)
    interp.executor.cancel_task(task.id)
    return Result.of_status(f"{task.name} successfully dropped.")


# ---------------------------------------------------------------- DESC / SHOW
def describe_task(interp: Interpreter, cmd: ast.DescribeTask) -> Result:
    task = _lookup(interp, cmd.name, "describe")
    return interp.query(tasks_sql(interp.session.context(), where=f"t.id = {task.id}"))


def show_tasks(interp: Interpreter, cmd: ast.ShowTasks) -> Result:
    ctx = interp.session.context()
    where: list[str] = []
    if cmd.like is not None:
        where.append(f"lower(t.name) LIKE lower({sql_literal(cmd.like)})")
    if cmd.starts_with is not None:
        where.append(f"substr(t.name, 1, {len(cmd.starts_with)}) = {sql_literal(cmd.starts_with)}")
    if cmd.root_only:
        where.append("NOT EXISTS (SELECT 1 FROM _ts_task_predecessors p WHERE p.task_id = t.id)"
                     " AND t.finalize_id IS NULL")
    if cmd.limit_from is not None:
        where.append(f"t.name >= {sql_literal(cmd.limit_from)}")
    if cmd.in_scope and len(cmd.in_scope) > 1:
        scope, value = cmd.in_scope[0], cmd.in_scope[-1].split(".")
        if scope == "DATABASE":
            where.append(f"lower(t.database_name) = lower({sql_literal(value[0])})")
        elif scope == "SCHEMA":
            where.append(f"lower(t.schema_name) = lower({sql_literal(value[-1])})")
    sql = tasks_sql(ctx, where=" AND ".join(where), terse=cmd.terse)
    if cmd.where:
        sql = f"SELECT * FROM ({sql}) WHERE {cmd.where}"
    if cmd.limit is not None:
        sql = f"SELECT * FROM ({sql}) LIMIT {int(cmd.limit)}"
    return interp.query(sql)


# ---------------------------------------------------------------- EXECUTE TASK
def execute_task(interp: Interpreter, cmd: ast.ExecuteTask) -> Result:
    """Run a root's graph now, as a scheduled run would; returns when the graph run has ended."""
    session = interp.session
    conn = session.conn
    task = _lookup(interp, cmd.name, "execute")
    if rows.predecessors(conn, task.id) or task.finalize_id:
        raise CompilationError(
            f"Cannot execute task {task.name}: EXECUTE TASK runs standalone and root tasks only.",
            code="091085")
    if session.user_transaction:
        raise CompilationError("EXECUTE TASK cannot run inside an open transaction; COMMIT or ROLLBACK first.")
    if cmd.using_config is not None:
        try:
            json.loads(cmd.using_config)
        except ValueError:
            raise CompilationError(f"Invalid CONFIG: {cmd.using_config!r} is not valid JSON.") from None
    engine = interp.executor
    previous: dict[int, tuple[str, str | None]] | None = None
    with interp.atomic():
        attempt, run_id, scheduled_from = 1, int(session.clock.now().timestamp() * 1000), "EXECUTE TASK"
        if cmd.retry_last:
            run_id, attempt, previous = _last_failed_graph_run(interp, task)
            scheduled_from = "RETRY"
        run = engine.begin_graph(conn, task, scheduled_from, run_id, attempt, cmd.using_config)
    final = engine.run_graph(run, previous)
    notices: list[str] = []
    outcome = final.outcomes.get(task.id)
    state = getattr(outcome, "state", "SUCCEEDED")
    if state != "SUCCEEDED":
        message = getattr(outcome, "error_message", None)
        notices.append(f"Task {task.name} run {state}" + (f": {message}" if message else ""))
    elif final.state not in ("SUCCEEDED", None) and final.failures:
        name, _code, message = final.failures[0]
        notices.append(f"Task graph {task.name} run {final.state}: task {name} failed: {message}")
    return Result.of_status(f"Task {task.name} is scheduled to run immediately.", notices=tuple(notices))


def _last_failed_graph_run(interp: Interpreter, task: TaskRecord) -> tuple[int, int, dict[int, tuple[str, str | None]]]:
    """RETRY LAST: the last graph run of the root, which must have failed on the current graph."""
    conn = interp.session.conn
    last = conn.execute(
        "SELECT id, run_id, state, graph_version, attempt_number FROM _ts_graph_runs"
        " WHERE root_task_id = ? AND state != 'SKIPPED' ORDER BY id DESC LIMIT 1",
        (task.id,)).fetchone()
    if last and last[2] == "EXECUTING":
        # a retry (or a new run) is under way: a second RETRY LAST would run the same tasks again
        raise CompilationError(
            f"Cannot perform RETRY LAST on task {task.name}: its last graph run is still executing.",
            code="091427")
    if not last or last[2] not in ("FAILED", "CANCELLED"):
        raise CompilationError(
            f"Cannot perform RETRY LAST on task {task.name}: its last graph run did not fail.", code="091427")
    if last[3] != task.graph_version:
        raise CompilationError(
            f"Cannot perform RETRY LAST on task {task.name}: the task graph was modified after the "
            "failed run.", code="091428")
    first_us = conn.execute("SELECT min(scheduled_time) FROM _ts_graph_runs WHERE root_task_id = ? AND run_id = ?",
                            (task.id, last[1])).fetchone()[0]
    if first_us is not None and interp.now_us() - first_us > RETRY_LAST_WINDOW_US:
        raise CompilationError(
            f"Cannot perform RETRY LAST on task {task.name}: the failed graph run was first attempted more "
            "than 14 days ago.", code="091429")
    previous = {task_id: (state, value) for task_id, state, value in conn.execute(
        "SELECT task_id, state, return_value FROM _ts_task_runs WHERE graph_run_id = ?", (last[0],))}
    return last[1], last[4] + 1, previous


# ---------------------------------------------------------------- CALL TASK_DEPENDENTS_ENABLE
def task_dependents_enable(interp: Interpreter, cmd: ast.TaskDependentsEnable) -> Result:
    with interp.atomic():
        task = _lookup(interp, cmd.name, "enable")
        rows.enable_dependents(interp.session.conn, task.name, interp.now_us())
    return Result.of_status(DONE)
