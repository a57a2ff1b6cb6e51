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

RELATIONS = ("task_history", "task_dependents", "system.tasks", "system.task_history")
HISTORY_RETENTION = timedelta(days=7)


def is_system_relation(name: str) -> bool:
    return name.lower() in RELATIONS


def relation_sql(name: str, named: dict[str, object], positional: list[object],
                 ctx: TranslateContext) -> str:
    """A SQLite SELECT (no trailing semicolon) producing the relation `name`."""
    key = name.lower()
    if key == "task_history":
        return task_history_sql(_history_args(named, positional), ctx)
    if key == "system.task_history":
        return task_history_sql({"RESULT_LIMIT": None}, ctx, databend=True)
    if key == "system.tasks":
        return tasks_sql(ctx, databend=True)
    if key == "task_dependents":
        return task_dependents_sql(named, positional, ctx)
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
    return (f"SELECT {select} FROM _ts_task_runs r WHERE {' AND '.join(where)}"
            f" ORDER BY r.scheduled_time DESC, r.seq DESC{limit_sql}")
