"""SQL for taskshell's system relations: TASK_HISTORY, TASK_DEPENDENTS, system.tasks, SHOW TASKS.

Each relation is one SQLite SELECT over the catalog tables, with the columns and spellings of the
session's dialect (SEMANTICS §1, §2, §5.1). Times are epoch microseconds in the catalog and are
printed by the session function `ts_format`; schedules by `ts_schedule_text`, next fire times by
`ts_next_fire` (both registered on every session connection).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from taskshell.errors import CompilationError
from taskshell.translate.context import TranslateContext

RELATIONS = ("task_history", "task_dependents", "system.tasks", "system.task_history", "complete_task_graphs",
             "current_task_graphs", "system.notifications", "system.notification_history",
             "system.streams", "stream_status")
HISTORY_RETENTION = timedelta(days=7)
SCHEDULED_HORIZON = timedelta(days=8)
COMPLETE_GRAPHS_WINDOW = timedelta(minutes=60)


def is_system_relation(name: str) -> bool:
    return name.lower() in RELATIONS


def relation_sql(name: str, named: dict[str, object], positional: list[object],
                 ctx: TranslateContext) -> str:
    """A SQLite SELECT (no trailing semicolon) producing the relation `name`."""
    key = name.lower()
    if key in ("system.streams", "stream_status"):
        from taskshell.translate import streams

        return streams.relation_sql(key, positional, ctx)
    if key in ("system.notifications", "system.notification_history"):
        from taskshell.notify import relations

        return relations.relation_sql(key)
    if key == "task_history":
        return task_history_sql(_history_args(named, positional), ctx)
    if key == "system.task_history":
        return task_history_sql({"RESULT_LIMIT": None}, ctx, databend=True)
    if key == "system.tasks":
        return tasks_sql(ctx, databend=True)
    if key == "task_dependents":
        return task_dependents_sql(named, positional, ctx)
    if key == "complete_task_graphs":
        return complete_task_graphs_sql(_graph_args(named, positional, ("RESULT_LIMIT", "ROOT_TASK_NAME",
                                                                         "ERROR_ONLY"), 1000), ctx)
    if key == "current_task_graphs":
        return current_task_graphs_sql(_graph_args(named, positional, ("RESULT_LIMIT", "ROOT_TASK_NAME"), 1000),
                                       ctx)
    raise CompilationError(f"Unknown function {name.upper()}")


def sql_literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# ---------------------------------------------------------------- tasks
def _task_columns(ctx: TranslateContext, databend: bool) -> list[tuple[str, str]]:
    """(output column, SQL over `t` = _ts_tasks) in SHOW TASKS order."""
    def preds(agg: str, value: str) -> str:
        return (f"(SELECT {agg} FROM (SELECT {value} AS v FROM _ts_task_predecessors p"
                " JOIN _ts_tasks pt ON pt.id = p.predecessor_id WHERE p.task_id = t.id ORDER BY p.position))")

    qualified = "pt.database_name || '.' || pt.schema_name || '.' || pt.name"
    if databend:
        return [
            ("created_on", "ts_format(t.created_on)"),
            ("name", "t.name"),
            ("id", "t.id"),
            ("owner", "t.owner"),
            ("comment", "t.comment"),
            ("warehouse", "t.warehouse"),
            ("schedule", "CASE WHEN t.schedule IS NOT NULL THEN ts_schedule_text(t.schedule, 'databend')"
                         " WHEN t.had_predecessors AND NOT EXISTS (SELECT 1 FROM _ts_task_predecessors p"
                         " WHERE p.task_id = t.id) THEN 'INTERVAL 0 SECOND' END"),
            ("state", "CASE t.state WHEN 'started' THEN 'Started' ELSE 'Suspended' END"),
            ("definition", "t.definition"),
            ("condition_text", "t.condition"),
            ("after", preds("group_concat(v, ', ')", "pt.name")),
            ("suspend_task_after_num_failures", "t.suspend_task_after_num_failures"),
            ("error_integration", "t.error_integration"),
            ("next_schedule_time", "CASE WHEN t.state = 'started' THEN"
                                   " ts_format(ts_next_fire(t.schedule, t.resumed_on)) END"),
            ("last_committed_on", "ts_format(t.last_committed_on)"),
            ("last_suspended_on", "ts_format(t.last_suspended_on)"),
            ("session_parameters", "t.session_params"),
        ]
    return [
        ("created_on", "ts_format(t.created_on)"),
        ("name", "t.name"),
        ("id", "t.uuid"),
        ("database_name", "t.database_name"),
        ("schema_name", "t.schema_name"),
        ("owner", "t.owner"),
        ("comment", "COALESCE(t.comment, '')"),
        ("warehouse", "t.warehouse"),
        ("schedule", "ts_schedule_text(t.schedule, 'snowflake')"),
        ("predecessors", preds("json_group_array(v)", qualified)),
        ("state", "t.state"),
        ("definition", "t.definition"),
        ("condition", "t.condition"),
        ("allow_overlapping_execution", "CASE WHEN t.allow_overlapping_execution THEN 'true' ELSE 'false' END"),
        ("error_integration", "t.error_integration"),
        ("last_committed_on", "ts_format(t.last_committed_on)"),
        ("last_suspended_on", "ts_format(t.last_suspended_on)"),
        ("owner_role_type", "'ROLE'"),
        ("config", "t.config"),
        ("budget", "NULL"),
        ("task_relations", "json_object('Predecessors', json(" + preds("json_group_array(v)", qualified) + "), "
         "'FinalizerTask', (SELECT f.database_name || '.' || f.schema_name || '.' || f.name"
         " FROM _ts_tasks f WHERE f.finalize_id = t.id), "
         "'FinalizedRootTask', (SELECT r.database_name || '.' || r.schema_name || '.' || r.name"
         " FROM _ts_tasks r WHERE r.id = t.finalize_id))"),
        ("last_suspended_reason", "t.last_suspended_reason"),
        # added by Snowflake with success notifications: the root's, NULL for a child or finalizer
        ("success_integration", "CASE WHEN t.finalize_id IS NULL AND NOT EXISTS (SELECT 1 FROM"
                                " _ts_task_predecessors p WHERE p.task_id = t.id) THEN t.success_integration END"),
    ]


def tasks_sql(ctx: TranslateContext, *, databend: bool | None = None, where: str = "",
              terse: bool = False) -> str:
    """Every task with SHOW TASKS' columns, ordered by name; `where` filters over `t`."""
    if databend is None:
        databend = ctx.dialect == "databend"
    if terse:
        cols = [("created_on", "ts_format(t.created_on)"), ("name", "t.name"), ("kind", "'TASK'"),
                ("database_name", "t.database_name"), ("schema_name", "t.schema_name"),
                ("schedule", f"ts_schedule_text(t.schedule, '{'databend' if databend else 'snowflake'}')")]
    else:
        cols = _task_columns(ctx, databend)
    select = ", ".join(f'{expr} AS "{name}"' for name, expr in cols)
    return f"SELECT {select} FROM _ts_tasks t {('WHERE ' + where) if where else ''} ORDER BY t.name"


def task_dependents_sql(named: dict[str, object], positional: list[object], ctx: TranslateContext) -> str:
    task_name = named.get("TASK_NAME", positional[0] if positional else None)
    if not isinstance(task_name, str):
        raise CompilationError("TASK_DEPENDENTS needs TASK_NAME => '<task name>'.")
    recursive = named.get("RECURSIVE", positional[1] if len(positional) > 1 else True)
    short = task_name.split(".")[-1].strip('"')
    databend = ctx.dialect == "databend"
    # Snowflake lists the task and the tasks that run after it; Databend lists the task and the
    # tasks it runs after, root first.
    step = ("SELECT p.predecessor_id, d.depth + 1 FROM _ts_task_predecessors p JOIN dep d ON p.task_id = d.id"
            if databend else
            "SELECT p.task_id, d.depth + 1 FROM _ts_task_predecessors p JOIN dep d ON p.predecessor_id = d.id")
    if not recursive:
        step += " WHERE d.depth = 0"
    order = "DESC" if databend else "ASC"
    cols = _task_columns(ctx, databend)
    if databend:
        # Databend's task_dependents also gives each task's predecessors as a JSON array of names
        cols.append(("predecessors", "(SELECT coalesce(json_group_array(v), '[]') FROM (SELECT pt.name AS v"
                                     " FROM _ts_task_predecessors p JOIN _ts_tasks pt ON pt.id = p.predecessor_id"
                                     " WHERE p.task_id = t.id ORDER BY p.position))"))
    select = ", ".join(f'{expr} AS "{name}"' for name, expr in cols)
    return (
        f"SELECT {select} FROM (WITH RECURSIVE dep(id, depth) AS ("
        f"SELECT id, 0 FROM _ts_tasks WHERE name = {sql_literal(short)} UNION {step}) "
        f"SELECT id, min(depth) AS depth FROM dep GROUP BY id) AS d JOIN _ts_tasks t ON t.id = d.id "
        f"ORDER BY d.depth {order}, t.name"
    )


# ---------------------------------------------------------------- history
_ARG_NAMES = ("SCHEDULED_TIME_RANGE_START", "SCHEDULED_TIME_RANGE_END", "RESULT_LIMIT", "TASK_NAME",
              "ERROR_ONLY", "ROOT_TASK_ID")


def _history_args(named: dict[str, object], positional: list[object]) -> dict[str, object]:
    args = dict(named)
    for key in args:
        if key not in _ARG_NAMES:
            raise CompilationError(f"unknown param {key.lower()} for task_history")
    # Databend's guide: task_history('<task name>', <result limit>)
    for key, value in zip(("TASK_NAME", "RESULT_LIMIT"), positional, strict=False):
        args.setdefault(key, value)
    if len(positional) > 2:
        raise CompilationError("TASK_HISTORY takes at most two positional arguments (task name, limit).")
    return args


def _instant_us(value: object, ctx: TranslateContext, arg: str) -> int:
    if isinstance(value, datetime):
        instant = value
    elif isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value.strip().replace(" +", "+").replace(" -", "-"))
        except ValueError as exc:
            raise CompilationError(f"Invalid argument {arg}: '{value}' is not a timestamp.") from exc
    else:
        raise CompilationError(f"Invalid argument {arg}: expected a timestamp.")
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=ZoneInfo(ctx.timezone))
    return int(instant.timestamp() * 1_000_000)


def task_history_sql(args: dict[str, object], ctx: TranslateContext, *, databend: bool | None = None) -> str:
    if databend is None:
        databend = ctx.dialect == "databend"
    where = [f"r.scheduled_time >= {int((ctx.now - HISTORY_RETENTION).timestamp() * 1_000_000)}"]
    if args.get("SCHEDULED_TIME_RANGE_START") is not None:
        where.append(f"r.scheduled_time >= {_instant_us(args['SCHEDULED_TIME_RANGE_START'], ctx, 'SCHEDULED_TIME_RANGE_START')}")
    if args.get("SCHEDULED_TIME_RANGE_END") is not None:
        where.append(f"r.scheduled_time < {_instant_us(args['SCHEDULED_TIME_RANGE_END'], ctx, 'SCHEDULED_TIME_RANGE_END')}")
    if args.get("TASK_NAME") is not None:
        short = str(args["TASK_NAME"]).split(".")[-1].strip('"')
        where.append(f"r.name = {sql_literal(short)} COLLATE NOCASE")
    if args.get("ERROR_ONLY"):
        where.append("r.state IN ('FAILED', 'CANCELLED', 'FAILED_AND_AUTO_SUSPENDED')")
    if args.get("ROOT_TASK_ID") is not None:
        where.append(f"r.root_task_id = {sql_literal(str(args['ROOT_TASK_ID']))}")
    limit = args.get("RESULT_LIMIT", 100)
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10000:
            raise CompilationError(
                f"Invalid argument [RESULT_LIMIT]: {limit!r} is not an integer between 1 and 10000.")
    if databend:
        cols = [
            ("name", "r.name"), ("id", "r.task_id"), ("owner", "r.owner"), ("comment", "r.comment"),
            ("schedule", "ts_schedule_text(r.schedule, 'databend')"), ("warehouse", "r.warehouse"),
            ("state", "r.state"), ("definition", "r.query_text"), ("condition_text", "r.condition_text"),
            ("run_id", "r.run_id"), ("query_id", "r.query_id"), ("exception_code", "r.error_code"),
            ("exception_text", "r.error_message"), ("attempt_number", "r.attempt_number"),
            ("completed_time", "ts_format(r.completed_time)"),
            ("scheduled_time", "ts_format(r.scheduled_time)"), ("root_task_id", "r.root_task_id"),
            ("session_parameters", "r.session_params"),
        ]
    else:
        cols = [
            ("QUERY_ID", "r.query_id"), ("NAME", "r.name"), ("DATABASE_NAME", "r.database_name"),
            ("SCHEMA_NAME", "r.schema_name"), ("QUERY_TEXT", "r.query_text"),
            ("CONDITION_TEXT", "r.condition_text"), ("STATE", "r.state"), ("ERROR_CODE", "r.error_code"),
            ("ERROR_MESSAGE", "r.error_message"), ("SCHEDULED_TIME", "ts_format(r.scheduled_time)"),
            ("QUERY_START_TIME", "ts_format(r.query_start_time)"),
            ("NEXT_SCHEDULED_TIME", "CASE WHEN r.state = 'SCHEDULED' THEN ts_format(r.scheduled_time) END"),
            ("COMPLETED_TIME", "ts_format(r.completed_time)"), ("ROOT_TASK_ID", "r.root_task_id"),
            ("GRAPH_VERSION", "r.graph_version"), ("RUN_ID", "r.run_id"),
            ("RETURN_VALUE", "r.return_value"), ("SCHEDULED_FROM", "r.scheduled_from"),
            ("ATTEMPT_NUMBER", "r.attempt_number"), ("CONFIG", "r.config"),
            ("GRAPH_RUN_GROUP_ID", "r.run_id"),
        ]
    select = ", ".join(f'{expr} AS "{name}"' for name, expr in cols)
    limit_sql = f" LIMIT {limit}" if limit is not None else ""
    return (f"SELECT {select} FROM ({_runs_with_next_scheduled(ctx)}) r WHERE {' AND '.join(where)}"
            f" ORDER BY r.scheduled_time DESC, r.seq DESC{limit_sql}")


_RUN_COLUMNS = ("seq", "query_id", "task_id", "task_uuid", "name", "database_name", "schema_name", "owner",
                "comment", "schedule", "warehouse", "query_text", "condition_text", "state", "error_code",
                "error_message", "scheduled_time", "query_start_time", "completed_time", "root_task_id",
                "graph_version", "run_id", "return_value", "scheduled_from", "attempt_number", "config",
                "session_params")
_ROOTS = ("t.state = 'started' AND t.schedule IS NOT NULL AND t.finalize_id IS NULL"
          " AND NOT EXISTS (SELECT 1 FROM _ts_task_predecessors p WHERE p.task_id = t.id)")


def _runs_with_next_scheduled(ctx: TranslateContext) -> str:
    """The run rows plus, for every started root, its next run as a SCHEDULED row (as Snowflake shows)."""
    horizon = int((ctx.now + SCHEDULED_HORIZON).timestamp() * 1_000_000)
    scheduled = {
        "seq": "NULL", "query_id": "NULL", "task_id": "t.id", "task_uuid": "t.uuid", "name": "t.name",
        "database_name": "t.database_name", "schema_name": "t.schema_name", "owner": "t.owner",
        "comment": "t.comment", "schedule": "t.schedule", "warehouse": "t.warehouse",
        "query_text": "t.definition", "condition_text": "t.condition", "state": "'SCHEDULED'",
        "error_code": "NULL", "error_message": "NULL", "scheduled_time": "t.next_fire",
        "query_start_time": "NULL", "completed_time": "NULL", "root_task_id": "t.uuid",
        "graph_version": "t.graph_version", "run_id": "t.next_fire / 1000", "return_value": "NULL",
        "scheduled_from": "'SCHEDULE'", "attempt_number": "1", "config": "t.config",
        "session_params": "t.session_params",
    }
    runs = ", ".join(_RUN_COLUMNS)
    nexts = ", ".join(f"{scheduled[c]} AS {c}" for c in _RUN_COLUMNS)
    return (f"SELECT {runs} FROM _ts_task_runs UNION ALL SELECT {nexts} FROM"
            f" (SELECT t.*, ts_next_fire(t.schedule, t.resumed_on) AS next_fire FROM _ts_tasks t WHERE {_ROOTS}) t"
            f" WHERE t.next_fire IS NOT NULL AND t.next_fire <= {horizon}")


# ---------------------------------------------------------------- graph runs
def _graph_args(named: dict[str, object], positional: list[object], names: tuple[str, ...],
                default_limit: int) -> dict[str, object]:
    args = dict(zip(names, positional, strict=False))
    for key, value in named.items():
        if key not in names:
            raise CompilationError(f"Invalid argument {key}: expected one of {', '.join(names)}.")
        args[key] = value
    limit = args.get("RESULT_LIMIT", default_limit)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10000:
        raise CompilationError(
            f"Invalid argument [RESULT_LIMIT]: {limit!r} is not an integer between 1 and 10000.")
    args["RESULT_LIMIT"] = limit
    return args


def _graph_columns(complete: bool) -> list[tuple[str, str]]:
    cols = [
        ("ROOT_TASK_NAME", "g.root_name"), ("DATABASE_NAME", "g.database_name"), ("SCHEMA_NAME", "g.schema_name"),
        ("STATE", "g.state"), ("SCHEDULED_FROM", "g.scheduled_from"),
        ("FIRST_ERROR_TASK_NAME", "g.first_error_task_name"), ("FIRST_ERROR_CODE", "g.first_error_code"),
        ("FIRST_ERROR_MESSAGE", "g.first_error_message"), ("SCHEDULED_TIME", "ts_format(g.scheduled_time)"),
        ("QUERY_START_TIME", "ts_format(g.query_start_time)"),
        ("NEXT_SCHEDULED_TIME", "ts_format(g.next_scheduled_time)"),
        ("COMPLETED_TIME", "ts_format(g.completed_time)"), ("ROOT_TASK_ID", "g.root_uuid"),
        ("GRAPH_VERSION", "g.graph_version"), ("RUN_ID", "g.run_id"), ("ATTEMPT_NUMBER", "g.attempt_number"),
        ("CONFIG", "g.config"), ("GRAPH_RUN_GROUP_ID", "g.run_id"),
    ]
    return cols if complete else [c for c in cols if c[0] != "COMPLETED_TIME"]


_NEXT_OF_ROOT = ("(SELECT CASE WHEN t.state = 'started' THEN ts_next_fire(t.schedule, t.resumed_on) END"
                 " FROM _ts_tasks t WHERE t.id = g.root_task_id)")


def complete_task_graphs_sql(args: dict[str, object], ctx: TranslateContext) -> str:
    """Graph runs that ended in the last 60 minutes, latest first (a skipped root has no row)."""
    since = int((ctx.now - COMPLETE_GRAPHS_WINDOW).timestamp() * 1_000_000)
    where = [f"g.completed_time >= {since}", "g.state IN ('SUCCEEDED', 'FAILED', 'CANCELLED')"]
    if args.get("ROOT_TASK_NAME"):
        where.append(f"g.root_name = {sql_literal(str(args['ROOT_TASK_NAME']).split('.')[-1].strip(chr(34)))}")
    if args.get("ERROR_ONLY"):
        where.append("g.state IN ('FAILED', 'CANCELLED')")
    select = ", ".join(f'{expr} AS "{name}"' for name, expr in _graph_columns(True))
    return (f"SELECT {select} FROM (SELECT *, {_NEXT_OF_ROOT} AS next_scheduled_time FROM _ts_graph_runs g) g"
            f" WHERE {' AND '.join(where)} ORDER BY g.completed_time DESC, g.id DESC LIMIT {args['RESULT_LIMIT']}")


def current_task_graphs_sql(args: dict[str, object], ctx: TranslateContext) -> str:
    """Graph runs executing now, and the next scheduled run of every started root, latest
    scheduled time first (RESULT_LIMIT keeps the latest)."""
    horizon = int((ctx.now + SCHEDULED_HORIZON).timestamp() * 1_000_000)
    executing = (f"SELECT g.id, g.root_name, g.database_name, g.schema_name, g.state, g.scheduled_from,"
                 f" g.first_error_task_name, g.first_error_code, g.first_error_message, g.scheduled_time,"
                 # the graph run's row gets its start when it ends; until then its first task's
                 f" coalesce(g.query_start_time, (SELECT min(r.query_start_time) FROM _ts_task_runs r"
                 f" WHERE r.graph_run_id = g.id)) AS query_start_time, {_NEXT_OF_ROOT} AS next_scheduled_time,"
                 f" g.completed_time,"
                 f" g.root_uuid,"
                 f" g.graph_version, g.run_id, g.attempt_number, g.config"
                 f" FROM _ts_graph_runs g WHERE g.state = 'EXECUTING'")
    scheduled = ("SELECT NULL, t.name, t.database_name, t.schema_name, 'SCHEDULED', 'SCHEDULE', NULL, NULL, NULL,"
                 " t.next_fire, NULL, t.next_fire, NULL, t.uuid, t.graph_version, t.next_fire / 1000, 1, t.config"
                 " FROM (SELECT t.*, ts_next_fire(t.schedule, t.resumed_on) AS next_fire FROM _ts_tasks t"
                 f" WHERE {_ROOTS}) t WHERE t.next_fire IS NOT NULL AND t.next_fire <= {horizon}")
    where = ""
    if args.get("ROOT_TASK_NAME"):
        where = f" WHERE g.root_name = {sql_literal(str(args['ROOT_TASK_NAME']).split('.')[-1].strip(chr(34)))} COLLATE NOCASE"
    select = ", ".join(f'{expr} AS "{name}"' for name, expr in _graph_columns(False))
    return (f"SELECT {select} FROM ({executing} UNION ALL {scheduled}) g{where}"
            f" ORDER BY g.scheduled_time DESC, g.root_name LIMIT {args['RESULT_LIMIT']}")
