"""The Lark front end: statement forms of both dialects, WHEN conditions, ownership and syntax errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from taskshell.errors import CompilationError, ParseError
from taskshell.grammar import ast
from taskshell.grammar import parser as front
from taskshell.grammar.parser import (
    INVALID_CONDITION,
    is_owned,
    keywords,
    lark_parser,
    parse,
    parse_condition,
    validate_condition,
)


@pytest.fixture(autouse=True, scope="module")
def private_table_cache(tmp_path_factory):
    """Keep Lark's table cache out of the user's cache directory while these tests run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TASKSHELL_CACHE_DIR", str(tmp_path_factory.mktemp("lark-cache")))
        front._lark.cache_clear()
        yield
    front._lark.cache_clear()


def qn(*parts: str) -> ast.QualifiedName:
    return ast.QualifiedName(tuple(ast.Ident(p) for p in parts))


def lit(value: ast.Value) -> ast.Literal:
    return ast.Literal(value)


# ---------------------------------------------------------------- CREATE TASK
def test_databend_acceptance_task_from_the_stream_guide():
    cmd = parse(
        "CREATE TASK user_activity_task\nWAREHOUSE = 'default'\nSCHEDULE = 1 MINUTE\n"
        "WHEN stream_status('activities_stream')\nAS\n"
        "INSERT INTO user_activity_profiles SELECT a.user_id FROM activities_stream AS a;"
    )
    assert isinstance(cmd, ast.CreateTask)
    assert cmd.name == qn("user_activity_task")
    assert cmd.props.warehouse == "default"
    assert cmd.props.schedule == ast.IntervalSpec(1, "MINUTE")
    assert cmd.props.when == ast.Condition(
        "stream_status('activities_stream')", ast.FuncCall("STREAM_STATUS", (lit("activities_stream"),)))
    assert cmd.body == ast.Body(
        "INSERT INTO user_activity_profiles SELECT a.user_id FROM activities_stream AS a", 6, 1)
    assert (cmd.or_replace, cmd.or_alter, cmd.if_not_exists, cmd.clone_of) == (False, False, False, None)


def test_snowflake_task_with_every_kind_of_property():
    text = (
        "create or replace task if not exists db.sch.t1 warehouse = my_wh "
        "schedule = 'USING CRON 0 9 * * * America/Los_Angeles' config = $${\"env\": \"prod\"}$$ "
        "allow_overlapping_execution = true overlap_policy = no_overlap user_task_timeout_ms = 60000 "
        "suspend_task_after_num_failures = 2 error_integration = my_int success_integration = 'ok_int' "
        "comment = 'it''s nightly' finalize = db.sch.root task_auto_retry_attempts = 3 "
        "user_task_minimum_trigger_interval_in_seconds = 30 timezone = 'UTC', query_tag = 'etl' "
        "log_level = debug statement_timeout_in_seconds = -1 as select 1"
    )
    cmd = parse(text)
    assert cmd.or_replace and cmd.if_not_exists and not cmd.or_alter
    assert cmd.name == qn("db", "sch", "t1")
    assert cmd.props == ast.TaskProps(
        warehouse="my_wh", schedule=ast.QuotedSchedule("USING CRON 0 9 * * * America/Los_Angeles"),
        config='{"env": "prod"}', allow_overlapping_execution=True, overlap_policy="NO_OVERLAP",
        user_task_timeout_ms=60000, suspend_task_after_num_failures=2, error_integration="my_int",
        success_integration="ok_int", comment="it's nightly", finalize=qn("db", "sch", "root"),
        task_auto_retry_attempts=3, user_task_minimum_trigger_interval_in_seconds=30,
        session_params=(("TIMEZONE", "UTC"), ("QUERY_TAG", "etl"), ("LOG_LEVEL", "debug"),
                        ("STATEMENT_TIMEOUT_IN_SECONDS", -1)),
    )
    assert cmd.body == ast.Body("select 1", 1, text.index("select 1") + 1)


def test_properties_are_accepted_in_any_order():
    orders = [
        "WAREHOUSE = wh SCHEDULE = '5 MINUTE' COMMENT = 'c' WHEN SYSTEM$STREAM_HAS_DATA('s')",
        "WHEN SYSTEM$STREAM_HAS_DATA('s') COMMENT = 'c' SCHEDULE = '5 MINUTE' WAREHOUSE = wh",
        "COMMENT = 'c', WHEN SYSTEM$STREAM_HAS_DATA('s'), WAREHOUSE = wh, SCHEDULE = '5 MINUTE'",
    ]
    props = {parse(f"CREATE TASK t {order} AS SELECT 1").props for order in orders}
    assert len(props) == 1
    (only,) = props
    assert (only.warehouse, only.schedule, only.comment) == ("wh", ast.QuotedSchedule("5 MINUTE"), "c")
    assert only.when.text == "SYSTEM$STREAM_HAS_DATA('s')"


def test_databend_task_options_in_any_order_with_settings_last():
    cmd = parse("CREATE TASK IF NOT EXISTS t COMMENTS = 'x' SUSPEND_TASK_AFTER_NUM_FAILURES = 4 "
                "ERROR_INTEGRATION = 'notify' SCHEDULE = 500 MILLISECOND WAREHOUSE = 'wh2' "
                "database = 'db1', timezone = 'Asia/Tokyo' AS SELECT 2")
    assert cmd.if_not_exists
    assert cmd.props.comment == "x"
    assert cmd.props.suspend_task_after_num_failures == 4
    assert cmd.props.error_integration == "notify"
    assert cmd.props.schedule == ast.IntervalSpec(500, "MILLISECOND")
    assert cmd.props.session_params == (("DATABASE", "db1"), ("TIMEZONE", "Asia/Tokyo"))


@pytest.mark.parametrize(("written", "spec"), [
    ("5 SECOND", ast.IntervalSpec(5, "SECOND")), ("10 seconds", ast.IntervalSpec(10, "SECOND")),
    ("100 MINUTE", ast.IntervalSpec(100, "MINUTE")), ("2 Minutes", ast.IntervalSpec(2, "MINUTE")),
    ("1 HOUR", ast.IntervalSpec(1, "HOUR")), ("3 hours", ast.IntervalSpec(3, "HOUR")),
    ("501 MILLISECONDS", ast.IntervalSpec(501, "MILLISECOND")),
    ("USING CRON '0 0 0 1 1 ? 2100'", ast.CronSpec("0 0 0 1 1 ? 2100", None)),
    ("using cron '0 30 9 * * *' 'America/Los_Angeles'", ast.CronSpec("0 30 9 * * *", "America/Los_Angeles")),
    ("'10 SECONDS'", ast.QuotedSchedule("10 SECONDS")),
    ("'USING CRON 0 1 * * * America/Los_Angeles'", ast.QuotedSchedule("USING CRON 0 1 * * * America/Los_Angeles")),
])
def test_schedule_spellings(written, spec):
    assert parse(f"CREATE TASK t SCHEDULE = {written} AS SELECT 1").props.schedule == spec


def test_after_takes_identifiers_or_strings():
    snowflake = parse("CREATE TASK c AFTER a, db.s.\"B\" AS SELECT 1").props.after
    assert snowflake == (qn("a"), ast.QualifiedName((ast.Ident("db"), ast.Ident("s"), ast.Ident("B", True))))
    databend = parse("CREATE TASK mytaskchild AFTER 'mytaskroot', 'other' AS SELECT 1").props.after
    assert databend == (ast.QualifiedName((ast.Ident("mytaskroot", True),)),
                        ast.QualifiedName((ast.Ident("other", True),)))


def test_create_or_alter_and_clone():
    assert parse("CREATE OR ALTER TASK t AS SELECT 1").or_alter
    clone = parse("create or replace task t2 clone db.s.t1")
    assert clone == ast.CreateTask(qn("t2"), ast.TaskProps(), None, or_replace=True, clone_of=qn("db", "s", "t1"))


@pytest.mark.parametrize("body", [
    "SELECT 1",
    "INSERT INTO t SELECT * FROM s WHERE METADATA$ACTION = 'INSERT'",
    "BEGIN INSERT INTO a VALUES (1); DELETE FROM b; END",
    "EXECUTE IMMEDIATE $$BEGIN SELECT 1; END;$$",
    "CALL p('x', 2)",
])
def test_body_is_kept_verbatim(body):
    assert parse(f"CREATE TASK t AS {body};").body.text == body


def test_multi_line_body_records_where_it_starts():
    text = "CREATE TASK t\n  SCHEDULE = '1 MINUTE'\nAS\n    BEGIN\n      SELECT 1;\n      SELECT 'a;b';\n    END;\n"
    body = parse(text).body
    assert body == ast.Body("BEGIN\n      SELECT 1;\n      SELECT 'a;b';\n    END", 4, 5)


def test_keywords_are_case_insensitive_and_names_need_not_avoid_them():
    cmd = parse("cReAtE tAsK task ScHeDuLe = 1 mInUtE comment = 'c' As SeLeCt 1")
    assert cmd.name == qn("task")
    assert cmd.props.schedule == ast.IntervalSpec(1, "MINUTE")
    assert parse("ALTER TASK schedule SUSPEND").name == qn("schedule")


def test_comments_are_ignored_outside_the_body():
    cmd = parse("-- lead\nCREATE /* inline */ TASK t // tail\n WAREHOUSE = wh AS SELECT 1")
    assert (cmd.name, cmd.props.warehouse, cmd.body.text) == (qn("t"), "wh", "SELECT 1")


# ---------------------------------------------------------------- ALTER / DROP / DESC / EXECUTE
@pytest.mark.parametrize(("text", "action"), [
    ("ALTER TASK t RESUME", ast.Resume()),
    ("alter task t suspend", ast.Suspend()),
    ("ALTER TASK t ADD AFTER a, b", ast.AddAfter((qn("a"), qn("b")))),
    ("ALTER TASK t ADD AFTER 'mytaskroot'", ast.AddAfter((ast.QualifiedName((ast.Ident("mytaskroot", True),)),))),
    ("ALTER TASK t REMOVE AFTER 'mytaskroot'",
     ast.RemoveAfter((ast.QualifiedName((ast.Ident("mytaskroot", True),)),))),
    ("ALTER TASK t REMOVE WHEN", ast.RemoveWhen()),
    ("ALTER TASK t UNSET COMMENTS, warehouse, timezone", ast.UnsetProps(("COMMENT", "WAREHOUSE", "TIMEZONE"))),
    ("ALTER TASK t UNSET FINALIZE", ast.UnsetFinalize()),
    ("ALTER TASK t SET FINALIZE = db.s.root", ast.SetFinalize(qn("db", "s", "root"))),
    ("ALTER TASK t MODIFY AS SELECT 2023", ast.ModifyAs(ast.Body("SELECT 2023", 1, 24))),
    ("ALTER TASK t SET warehouse = 'warehouse2'", ast.SetProps(ast.TaskProps(warehouse="warehouse2"))),
    ("ALTER TASK t SET schedule = 100 MINUTE", ast.SetProps(ast.TaskProps(schedule=ast.IntervalSpec(100, "MINUTE")))),
    ("ALTER TASK t SET SUSPEND_TASK_AFTER_NUM_FAILURES = 199, COMMENT = 'c'",
     ast.SetProps(ast.TaskProps(suspend_task_after_num_failures=199, comment="c"))),
    ("ALTER TASK t SET WAREHOUSE = wh x = 1, y = 'b'",
     ast.SetProps(ast.TaskProps(warehouse="wh", session_params=(("X", 1), ("Y", "b"))))),
])
def test_alter_task_actions(text, action):
    cmd = parse(text)
    assert cmd == ast.AlterTask(qn("t"), action)


def test_alter_task_modify_when_and_if_exists():
    cmd = parse("ALTER TASK IF EXISTS mytaskroot MODIFY WHEN SYSTEM$STREAM_HAS_DATA('mystream') = FALSE")
    assert cmd.if_exists
    assert cmd.action == ast.ModifyWhen(ast.Condition(
        "SYSTEM$STREAM_HAS_DATA('mystream') = FALSE",
        ast.BinaryOp("=", ast.FuncCall("SYSTEM$STREAM_HAS_DATA", (lit("mystream"),)), lit(False))))


def test_task_lifecycle_statements_of_the_databend_suite():
    # SEMANTICS §6 item 5
    create = parse("CREATE TASK MyTask1 SCHEDULE = USING CRON '0 0 0 1 1 ? 2100' AS SELECT 1")
    assert create.props.schedule == ast.CronSpec("0 0 0 1 1 ? 2100", None)
    assert parse("ALTER TASK MyTask1 RESUME").action == ast.Resume()
    assert parse("ALTER TASK MyTask1 SUSPEND").action == ast.Suspend()
    assert parse("ALTER TASK MyTask1 MODIFY AS SELECT 2023").action.body.text == "SELECT 2023"
    assert parse("ALTER TASK MyTask1 SET warehouse= 'warehouse2'").action.props.warehouse == "warehouse2"
    assert parse("ALTER TASK MyTask1 SET schedule = 100 MINUTE").action.props.schedule == ast.IntervalSpec(
        100, "MINUTE")
    assert parse("EXECUTE TASK MyTask1") == ast.ExecuteTask(qn("MyTask1"))
    for amount in (499, 500, 501, 1000):  # the range check belongs to the interpreter
        assert parse(f"CREATE TASK m SCHEDULE = {amount} MILLISECOND AS SELECT 1").props.schedule.amount == amount


def test_task_dag_statements_of_the_databend_suite():
    # SEMANTICS §6 item 6
    root = parse("CREATE TASK mytaskroot WAREHOUSE = 'mywh' SCHEDULE = USING CRON '0 0 0 1 1 ? 2100' "
                 "WHEN SYSTEM$STREAM_HAS_DATA('mystream') AS INSERT INTO t SELECT * FROM mystream")
    assert root.props.when.expr == ast.FuncCall("SYSTEM$STREAM_HAS_DATA", (lit("mystream"),))
    both = parse("CREATE TASK bad SCHEDULE = 1 MINUTE AFTER 'mytaskroot' AS SELECT 1")  # refused later
    assert both.props.schedule and both.props.after
    child = parse("CREATE TASK mytaskchild WAREHOUSE = 'mywh' AFTER 'mytaskroot' AS SELECT 1")
    assert child.props.schedule is None
    assert [str(n) for n in child.props.after] == ["mytaskroot"]
    assert isinstance(parse("ALTER TASK mytaskchild REMOVE AFTER 'mytaskroot'").action, ast.RemoveAfter)
    assert isinstance(parse("ALTER TASK mytaskchild ADD AFTER 'mytaskroot'").action, ast.AddAfter)


def test_drop_and_describe():
    assert parse("DROP TASK IF EXISTS db.s.t;") == ast.DropTask(qn("db", "s", "t"), if_exists=True)
    assert parse("drop task t") == ast.DropTask(qn("t"))
    assert parse("DESC TASK t") == parse("DESCRIBE TASK t") == ast.DescribeTask(qn("t"))


@pytest.mark.parametrize(("text", "expected"), [
    ("EXECUTE TASK t", ast.ExecuteTask(qn("t"))),
    ("EXECUTE TASK t RETRY LAST", ast.ExecuteTask(qn("t"), retry_last=True)),
    ("EXECUTE TASK t USING CONFIG = $${\"a\": 1}$$ AWAIT",
     ast.ExecuteTask(qn("t"), using_config='{"a": 1}', await_completion=True)),
    ("execute task db.s.t using config = '{\"b\": 2}'", ast.ExecuteTask(qn("db", "s", "t"), using_config='{"b": 2}')),
])
def test_execute_task(text, expected):
    assert parse(text) == expected


# ---------------------------------------------------------------- SHOW TASKS
@pytest.mark.parametrize(("text", "expected"), [
    ("SHOW TASKS", ast.ShowTasks()),
    ("show terse tasks", ast.ShowTasks(terse=True)),
    ("SHOW TASKS LIKE 'my%'", ast.ShowTasks(like="my%")),
    ("SHOW TASKS IN ACCOUNT", ast.ShowTasks(in_scope=("ACCOUNT",))),
    ("SHOW TASKS IN DATABASE", ast.ShowTasks(in_scope=("DATABASE",))),
    ("SHOW TASKS IN DATABASE d1 LIMIT 3", ast.ShowTasks(in_scope=("DATABASE", "d1"), limit=3)),
    ("SHOW TASKS IN SCHEMA d.s", ast.ShowTasks(in_scope=("SCHEMA", "d.s"))),
    ("SHOW TASKS IN d.s", ast.ShowTasks(in_scope=("SCHEMA", "d.s"))),
    ("SHOW TERSE TASKS LIKE '%a' IN SCHEMA STARTS WITH 'A' ROOT ONLY LIMIT 10 FROM 'B'",
     ast.ShowTasks(terse=True, like="%a", in_scope=("SCHEMA",), starts_with="A", root_only=True, limit=10,
                   limit_from="B")),
    ("SHOW TASKS WHERE name = 'x' AND state = 'Started';",
     ast.ShowTasks(where="name = 'x' AND state = 'Started'")),
])
def test_show_tasks(text, expected):
    assert parse(text) == expected


# ---------------------------------------------------------------- session and warehouses
def test_alter_session_set_and_unset():
    assert parse("ALTER SESSION SET TIMEZONE = 'UTC', dialect = databend") == ast.AlterSession(
        set=(("TIMEZONE", "UTC"), ("DIALECT", "databend")))
    assert parse("alter session set a = 1 b = true c = null d = 1.5") == ast.AlterSession(
        set=(("A", 1), ("B", True), ("C", None), ("D", 1.5)))
    assert parse("ALTER SESSION UNSET timezone, dialect") == ast.AlterSession(unset=("TIMEZONE", "DIALECT"))


def test_warehouse_statements():
    assert parse("CREATE OR REPLACE WAREHOUSE IF NOT EXISTS wh WITH WAREHOUSE_SIZE = XSMALL "
                 "MAX_CONCURRENCY_LEVEL = 8 COMMENT = '' AUTO_SUSPEND = 60") == ast.CreateWarehouse(
        ast.Ident("wh"), (("WAREHOUSE_SIZE", "XSMALL"), ("MAX_CONCURRENCY_LEVEL", 8), ("COMMENT", ""),
                          ("AUTO_SUSPEND", 60)), or_replace=True, if_not_exists=True)
    assert parse("create warehouse w2 warehouse_size = 'X-SMALL', initially_suspended = true").props == (
        ("WAREHOUSE_SIZE", "X-SMALL"), ("INITIALLY_SUSPENDED", True))
    assert parse("CREATE WAREHOUSE w3") == ast.CreateWarehouse(ast.Ident("w3"))
    assert parse("ALTER WAREHOUSE IF EXISTS 'default' SET MAX_CONCURRENCY_LEVEL = 2") == ast.AlterWarehouse(
        ast.Ident("default", True), set=(("MAX_CONCURRENCY_LEVEL", 2),), if_exists=True)
    assert parse("ALTER WAREHOUSE wh UNSET comment") == ast.AlterWarehouse(ast.Ident("wh"), unset=("COMMENT",))
    assert parse("ALTER WAREHOUSE wh SUSPEND").action == "SUSPEND"
    assert parse("ALTER WAREHOUSE wh RESUME").action == "RESUME"
    assert parse("DROP WAREHOUSE IF EXISTS wh") == ast.DropWarehouse(ast.Ident("wh"), if_exists=True)
    assert parse("SHOW WAREHOUSES") == ast.ShowWarehouses()
    assert parse("SHOW WAREHOUSES LIKE 'w%'") == ast.ShowWarehouses("w%")
    assert parse('USE WAREHOUSE "My WH"') == ast.UseWarehouse(ast.Ident("My WH", True))


def test_string_literals_and_quoted_identifiers():
    cmd = parse(r'''CREATE TASK "a""b" COMMENT = 'it''s \'quoted\'\n' AS SELECT 1''')
    assert cmd.name == ast.QualifiedName((ast.Ident('a"b', True),))
    assert cmd.props.comment == "it's 'quoted'\n"


# ---------------------------------------------------------------- WHEN conditions
def test_condition_precedence():
    cond = parse_condition("NOT a = 1 OR b < 2 + 3 * 4 AND c || 'x' LIKE 'y%'")
    assert cond.expr == ast.BinaryOp(
        "OR",
        ast.UnaryOp("NOT", ast.BinaryOp("=", ast.ColumnRef("a"), lit(1))),
        ast.BinaryOp(
            "AND",
            ast.BinaryOp("<", ast.ColumnRef("b"),
                         ast.BinaryOp("+", lit(2), ast.BinaryOp("*", lit(3), lit(4)))),
            ast.BinaryOp("LIKE", ast.BinaryOp("||", ast.ColumnRef("c"), lit("x")), lit("y%")),
        ),
    )


def test_condition_casts_unary_minus_arrays_and_is_null():
    cond = parse_condition("-x::NUMBER(10, 2) <> CAST('1' AS boolean) AND [1, 'a', []] IS NOT NULL "
                           "AND y IS NULL AND z NOT ILIKE 'q'")
    compare = ast.BinaryOp("!=", ast.UnaryOp("-", ast.Cast(ast.ColumnRef("x"), "NUMBER(10,2)")),
                           ast.Cast(lit("1"), "BOOLEAN"))
    array_check = ast.IsNull(ast.ArrayLiteral((lit(1), lit("a"), ast.ArrayLiteral(()))), True)
    null_check = ast.IsNull(ast.ColumnRef("y"), False)
    not_ilike = ast.UnaryOp("NOT", ast.BinaryOp("ILIKE", ast.ColumnRef("z"), lit("q")))
    assert cond.expr == ast.BinaryOp("AND", ast.BinaryOp("AND", ast.BinaryOp("AND", compare, array_check),
                                                         null_check), not_ilike)


def test_condition_text_is_kept_as_written():
    cmd = parse("CREATE TASK t WHEN  (SYSTEM$GET_PREDECESSOR_RETURN_VALUE() = 'ok')  -- why\n"
                "  AND TO_BOOLEAN('true')  AS SELECT 1")
    assert cmd.props.when.text == ("(SYSTEM$GET_PREDECESSOR_RETURN_VALUE() = 'ok')  -- why\n"
                                   "  AND TO_BOOLEAN('true')")
    assert parse("CREATE TASK t WHEN SYSTEM$STREAM_HAS_DATA('s') IS NULL AS SELECT 1").props.when.text == (
        "SYSTEM$STREAM_HAS_DATA('s') IS NULL")
    assert parse_condition("  true  ").text == "true"


def test_bare_boolean_function_is_a_valid_condition():
    cond = parse_condition("stream_status('activities_stream')")
    validate_condition(cond)
    assert cond.expr == ast.FuncCall("STREAM_STATUS", (lit("activities_stream"),))


@pytest.mark.parametrize("condition", [
    "SYSTEM$STREAM_HAS_DATA('s') AND TRY_TO_BOOLEAN(SYSTEM$GET_PREDECESSOR_RETURN_VALUE('a'))",
    "TO_NUMBER(SYSTEM$GET_PREDECESSOR_RETURN_VALUE()) > 3 OR TO_DOUBLE('1.5') = 1.5",
    "TO_VARCHAR(1) || TO_CHAR(2) = '12' AND TO_DECIMAL('1') = TO_NUMERIC('1') AND TRY_TO_NUMBER('x') IS NULL",
    "'1'::BOOLEAN AND CAST(SYSTEM$GET_PREDECESSOR_RETURN_VALUE(['a']) AS NUMBER) > 0",
])
def test_allowed_conditions(condition):
    validate_condition(parse_condition(condition))


@pytest.mark.parametrize("condition", [
    "CURRENT_TIMESTAMP LIKE '20%'",
    "CURRENT_TIMESTAMP() > '2020-01-01'",
    "SYSTEM$STREAM_HAS_DATA('s') AND UPPER('a') = 'A'",
    "some_column = 1",
    "TO_BOOLEAN(x)",
])
def test_refused_conditions(condition):
    with pytest.raises(CompilationError) as refused:
        validate_condition(parse_condition(condition))
    assert refused.value.code == "002003"
    assert str(refused.value) == INVALID_CONDITION


def test_create_task_refuses_a_disallowed_condition_with_snowflakes_text():
    with pytest.raises(CompilationError) as refused:
        parse("CREATE TASK t SCHEDULE = '1 MINUTE' WHEN CURRENT_TIMESTAMP LIKE '20%' AS SELECT 1")
    assert str(refused.value) == (
        "Invalid expression for task condition expression. Only some data type conversions and the "
        "following functions are allowed: [SYSTEM$GET_PREDECESSOR_RETURN_VALUE, SYSTEM$STREAM_HAS_DATA].")
    assert refused.value.code == "002003"
    with pytest.raises(CompilationError):
        parse("ALTER TASK t MODIFY WHEN CURRENT_DATE() IS NULL")



# ---------------------------------------------------------------- streams
def test_databend_stream_of_the_acceptance_walkthrough():
    assert parse("CREATE STREAM activities_stream ON TABLE user_activities;") == ast.CreateStream(
        qn("activities_stream"), qn("user_activities"))


def test_snowflake_stream_with_every_option():
    cmd = parse("create or replace stream if not exists db.s.st copy grants on table db.s.t "
                "before (statement => '8e5d0ca9-005e-44e6-b858-a8f5b37c5726') append_only = false "
                "insert_only = true show_initial_rows = TRUE comment = 'it''s mine'")
    assert cmd == ast.CreateStream(
        qn("db", "s", "st"), qn("db", "s", "t"), or_replace=True, if_not_exists=True, append_only=False,
        insert_only=True, show_initial_rows=True, comment="it's mine",
        at=ast.StreamPoint(True, "STATEMENT", "8e5d0ca9-005e-44e6-b858-a8f5b37c5726"))


def test_stream_options_in_any_order():
    written = ["COMMENT = 'c' APPEND_ONLY = TRUE AT (OFFSET => -60)",
               "AT(OFFSET => -60) COMMENT = 'c' APPEND_ONLY = TRUE",
               "APPEND_ONLY = TRUE AT (OFFSET => -60) COMMENT = 'c'"]
    commands = {parse(f"CREATE STREAM s ON TABLE t {options}") for options in written}
    assert commands == {ast.CreateStream(qn("s"), qn("t"), append_only=True, comment="c",
                                         at=ast.StreamPoint(False, "OFFSET", -60))}


@pytest.mark.parametrize(("point", "expected"), [
    ("AT (STREAM => 'other')", ast.StreamPoint(False, "STREAM", "other")),
    ("AT (STREAM => s2)", ast.StreamPoint(False, "STREAM", "s2")),
    ("at (stream => db.s2)", ast.StreamPoint(False, "STREAM", "db.s2")),
    ("AT (TIMESTAMP => '2024-05-01 10:00:00')", ast.StreamPoint(False, "TIMESTAMP", "2024-05-01 10:00:00")),
    ("AT (TIMESTAMP => '2024-05-01 10:00:00'::TIMESTAMP_LTZ)",
     ast.StreamPoint(False, "TIMESTAMP", "2024-05-01 10:00:00")),
    ("BEFORE (TIMESTAMP => TO_TIMESTAMP_TZ('2024-05-01 10:00:00 +02:00'))",
     ast.StreamPoint(True, "TIMESTAMP", "2024-05-01 10:00:00 +02:00")),
    ("AT (TIMESTAMP => 1714550400)", ast.StreamPoint(False, "TIMESTAMP", 1714550400)),
    ("AT (OFFSET => -60*5)", ast.StreamPoint(False, "OFFSET", -300)),
    ("AT (OFFSET => -(60 + 30) / 2)", ast.StreamPoint(False, "OFFSET", -45)),
    ("AT (OFFSET => -1.5)", ast.StreamPoint(False, "OFFSET", -1.5)),
    ("BEFORE (STATEMENT => 'q1')", ast.StreamPoint(True, "STATEMENT", "q1")),
    ("AT (SNAPSHOT => '46d4e7d0a6b74f58ac4c5a9ef4dbc1b6')",
     ast.StreamPoint(False, "SNAPSHOT", "46d4e7d0a6b74f58ac4c5a9ef4dbc1b6")),
])
def test_stream_starting_points(point, expected):
    assert parse(f"CREATE STREAM s ON TABLE t {point}").at == expected


@pytest.mark.parametrize(("point", "message"), [
    ("AT (OFFSET => 'yesterday')", "Unsupported SQL: AT (OFFSET => ...) takes a number of seconds"),
    ("BEFORE (STATEMENT => 42)", "Unsupported SQL: BEFORE (STATEMENT => ...) takes a query id string"),
    ("AT (TIMESTAMP => CURRENT_TIMESTAMP())",
     "Unsupported SQL: AT (TIMESTAMP => ...) takes a timestamp string or number"),
    ("AT (OFFSET => 1 / 0)", "Unsupported SQL: AT (OFFSET => ...) takes a number of seconds"),
])
def test_stream_starting_point_must_be_a_constant_of_the_right_kind(point, message):
    with pytest.raises(CompilationError) as refused:
        parse(f"CREATE STREAM s ON TABLE t {point}")
    assert str(refused.value) == message
    assert refused.value.code == "002040"


@pytest.mark.parametrize(("source", "kind"), [
    ("VIEW v", "views"), ("EXTERNAL TABLE db.s.ext", "external tables"), ("STAGE my_stage", "stages"),
    ("EVENT TABLE events APPEND_ONLY = TRUE", "event tables"),
])
def test_streams_on_anything_but_a_table_are_refused(source, kind):
    with pytest.raises(CompilationError) as refused:
        parse(f"CREATE STREAM s ON {source}")
    assert str(refused.value) == f"Unsupported SQL: streams on {kind}"
    assert refused.value.code == "002040"


def test_repeated_stream_option_is_a_syntax_error_at_the_repeat():
    assert parse_error("CREATE STREAM s ON TABLE t APPEND_ONLY = TRUE append_only = FALSE").position == (1, 47)
    assert parse_error("CREATE STREAM s ON TABLE t AT (OFFSET => 1) BEFORE (OFFSET => 2)").position == (1, 45)


def test_stream_flags_take_booleans_only():
    error = parse_error("CREATE STREAM s ON TABLE t APPEND_ONLY = 'yes'")
    assert error.expected == ("'FALSE'", "'TRUE'")


def test_drop_and_describe_stream():
    assert parse("DROP STREAM IF EXISTS db.s") == ast.DropStream(qn("db", "s"), if_exists=True)
    assert parse("drop stream s") == ast.DropStream(qn("s"))
    assert parse("DESC STREAM s") == parse("DESCRIBE STREAM s") == ast.DescribeStream(qn("s"))


@pytest.mark.parametrize(("text", "expected"), [
    ("SHOW STREAMS", ast.ShowStreams()),
    ("show terse streams", ast.ShowStreams(terse=True)),
    ("SHOW FULL STREAMS", ast.ShowStreams(full=True)),
    ("SHOW STREAMS LIKE 'line%' IN ACCOUNT", ast.ShowStreams(like="line%", in_scope=("ACCOUNT",))),
    ("SHOW STREAMS IN DATABASE d1 STARTS WITH 'a' LIMIT 5 FROM 'b'",
     ast.ShowStreams(in_scope=("DATABASE", "d1"), starts_with="a", limit=5, limit_from="b")),
    ("SHOW STREAMS IN SCHEMA d.s", ast.ShowStreams(in_scope=("SCHEMA", "d.s"))),
    ("SHOW FULL STREAMS FROM db1 LIKE 's%'", ast.ShowStreams(full=True, like="s%", in_scope=("SCHEMA", "db1"))),
    ("SHOW STREAMS IN db1 LIKE 's%'", ast.ShowStreams(like="s%", in_scope=("SCHEMA", "db1"))),
    ("SHOW STREAMS FROM DATABASE db1", ast.ShowStreams(in_scope=("DATABASE", "db1"))),
    ("SHOW FULL STREAMS FROM db1 WHERE mode = 'standard';",
     ast.ShowStreams(full=True, in_scope=("SCHEMA", "db1"), where="mode = 'standard'")),
    ("SHOW STREAMS WHERE name LIKE 'a%'", ast.ShowStreams(where="name LIKE 'a%'")),
])
def test_show_streams(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("ALTER TABLE t SET CHANGE_TRACKING = TRUE", ast.SetChangeTracking(qn("t"), True)),
    ("alter table if exists db.s.t set change_tracking = false",
     ast.SetChangeTracking(qn("db", "s", "t"), False, if_exists=True)),
    ("ALTER TABLE user_activities SET OPTIONS (change_tracking = true)",
     ast.SetChangeTracking(qn("user_activities"), True)),
    ("ALTER TABLE t SET OPTIONS(CHANGE_TRACKING = 'false')", ast.SetChangeTracking(qn("t"), False)),
])
def test_change_tracking(text, expected):
    assert parse(text) == expected


def test_change_tracking_refuses_other_values_and_options():
    with pytest.raises(CompilationError, match=r"invalid value \['yes'\] for option 'change_tracking'"):
        parse("ALTER TABLE t SET OPTIONS (change_tracking = 'yes')")
    assert parse_error("ALTER TABLE t SET OPTIONS (change_tracking = true, x = 1)").expected == ("')'",)


# ---------------------------------------------------------------- notification integrations
SEED_INTEGRATION = """CREATE NOTIFICATION INTEGRATION my_webhook
TYPE = WEBHOOK
ENABLED = TRUE
WEBHOOK = (
    url = '<YOUR-WEBHOOK_URL>',
    method = 'POST'
);"""


def test_databend_guide_notification_integration_and_the_task_that_uses_it():
    assert parse(SEED_INTEGRATION) == ast.CreateNotificationIntegration(
        ast.Ident("my_webhook"), "WEBHOOK", True, webhook=(("url", "<YOUR-WEBHOOK_URL>"), ("method", "POST")))
    task = parse("CREATE TASK my_task\nWAREHOUSE = 'default'\nSCHEDULE = 1 MINUTE\n"
                 "ERROR_INTEGRATION = 'my_webhook'\nAS\nSELECT 1 / 0;")
    assert task.props.error_integration == "my_webhook"
    assert task.body.text == "SELECT 1 / 0"


def test_notification_integration_options_in_any_order_any_case_and_commas():
    cmd = parse("create or replace notification integration if not exists n comments = 'c', "
                "webhook = (AUTHORIZATION_HEADER = 'Bearer x' Method = 'get', URL = 'http://h') "
                "enabled = false, type = 'webhook'")
    assert cmd == ast.CreateNotificationIntegration(
        ast.Ident("n"), "webhook", False,
        webhook=(("authorization_header", "Bearer x"), ("method", "get"), ("url", "http://h")),
        comment="c", or_replace=True, if_not_exists=True)


def test_type_and_method_are_left_for_the_interpreter_to_judge():
    cmd = parse("CREATE NOTIFICATION INTEGRATION n TYPE = email ENABLED = TRUE WEBHOOK = (method = 'PUT')")
    assert (cmd.type, cmd.webhook, cmd.comment) == ("email", (("method", "PUT"),), None)
    assert parse("CREATE NOTIFICATION INTEGRATION n TYPE = webhook ENABLED = TRUE WEBHOOK = ()").webhook == ()


def test_notification_integration_needs_type_and_enabled():
    error = parse_error("CREATE NOTIFICATION INTEGRATION n TYPE = webhook COMMENT = 'c'")
    assert error.expected == ("'ENABLED'",)
    assert "unexpected end of input." in str(error)
    assert parse_error("CREATE NOTIFICATION INTEGRATION n").expected == ("'TYPE'", "'ENABLED'")
    assert parse_error("CREATE NOTIFICATION INTEGRATION n ENABLED = TRUE").expected == ("'TYPE'",)


def test_webhook_keys_are_known_and_not_repeated():
    error = parse_error("CREATE NOTIFICATION INTEGRATION n TYPE = webhook ENABLED = TRUE WEBHOOK = (secret = 'a')")
    assert error.expected == ("')'", "'AUTHORIZATION_HEADER'", "'METHOD'", "'URL'")
    repeated = parse_error("CREATE NOTIFICATION INTEGRATION n TYPE = webhook ENABLED = TRUE "
                           "WEBHOOK = (url = 'a', URL = 'b')")
    assert str(repeated).startswith("syntax error line 1 at position 86 unexpected 'URL'.")


@pytest.mark.parametrize(("change", "expected"), [
    ("SET ENABLED = FALSE", {"enabled": False}),
    ("SET WEBHOOK = (method = 'GET')", {"webhook": (("method", "GET"),)}),
    ("SET COMMENT = 'new'", {"comment": "new"}),
    ("set comments = 'new'", {"comment": "new"}),
])
def test_alter_notification_integration(change, expected):
    assert parse(f"ALTER NOTIFICATION INTEGRATION n {change}") == ast.AlterNotificationIntegration(
        ast.Ident("n"), **expected)
    assert parse(f"ALTER NOTIFICATION INTEGRATION IF EXISTS n {change}").if_exists


def test_alter_notification_integration_sets_exactly_one_thing():
    error = parse_error("ALTER NOTIFICATION INTEGRATION n SET")
    assert error.expected == ("'COMMENT'", "'COMMENTS'", "'ENABLED'", "'WEBHOOK'")
    assert "unexpected end of input." in str(error)
    error = parse_error("ALTER NOTIFICATION INTEGRATION n SET ENABLED = TRUE COMMENT = 'c'")
    assert str(error) == "syntax error line 1 at position 52 unexpected 'COMMENT'.\nExpected one of: end of input."


def test_drop_describe_and_show_notification_integrations():
    name = ast.Ident("n")
    assert parse("DROP NOTIFICATION INTEGRATION IF EXISTS n") == ast.DropNotificationIntegration(name, True)
    assert parse("drop integration n") == ast.DropNotificationIntegration(name)
    for text in ("DESC NOTIFICATION INTEGRATION n", "DESCRIBE NOTIFICATION INTEGRATION n", "desc integration n"):
        assert parse(text) == ast.DescribeNotificationIntegration(name)
    assert parse("SHOW NOTIFICATION INTEGRATIONS") == ast.ShowNotificationIntegrations()
    assert parse("show integrations like 'my%'") == ast.ShowNotificationIntegrations("my%")


# ---------------------------------------------------------------- task graph helper
def test_call_task_dependents_enable():
    assert parse("CALL TASK_DEPENDENTS_ENABLE('mytaskroot');") == ast.TaskDependentsEnable(
        ast.QualifiedName((ast.Ident("mytaskroot", True),)))
    assert parse("call task_dependents_enable(db.root)") == ast.TaskDependentsEnable(qn("db", "root"))


# ---------------------------------------------------------------- completion and highlighting
def test_interactive_parser_lists_what_may_come_next():
    state = lark_parser().parse_interactive("CREATE STREAM s ON TABLE t ", start="statement")
    state.exhaust_lexer()
    assert {"APPEND_ONLY", "INSERT_ONLY", "SHOW_INITIAL_ROWS", "AT", "BEFORE", "COMMENT"} <= state.accepts()
    state = lark_parser().parse_interactive("ALTER NOTIFICATION INTEGRATION n SET ", start="statement")
    state.exhaust_lexer()
    assert state.accepts() == {"ENABLED", "WEBHOOK", "COMMENT", "COMMENTS"}


@pytest.mark.parametrize("word", [
    "TYPE", "ENABLED", "WEBHOOK", "URL", "METHOD", "APPEND_ONLY", "INSERT_ONLY", "SHOW_INITIAL_ROWS", "STREAM",
    "TABLE", "ON", "AT", "BEFORE", "OFFSET", "TIMESTAMP", "STATEMENT", "SNAPSHOT", "OPTIONS", "CHANGE_TRACKING",
    "NOTIFICATION", "INTEGRATION", "FULL", "COPY", "VIEW", "STAGE", "EVENT", "EXTERNAL", "CALL",
])
def test_words_of_the_stream_and_integration_statements_stay_names_elsewhere(word):
    task = parse(f"CREATE TASK {word} WAREHOUSE = {word} {word} = 1 AS SELECT 1")
    assert (task.name, task.props.warehouse) == (qn(word), word)
    assert task.props.session_params == ((word, 1),)
    assert parse(f"ALTER SESSION SET a = {word} {word} = 2").set == (("A", word), (word, 2))
    assert parse(f"CREATE STREAM {word} ON TABLE {word}") == ast.CreateStream(qn(word), qn(word))


def test_keywords_cover_every_statement_and_nothing_else():
    words = keywords()
    assert {"CREATE", "TASK", "SCHEDULE", "WAREHOUSE", "STREAM", "STREAMS", "APPEND_ONLY", "CHANGE_TRACKING",
            "NOTIFICATION", "INTEGRATION", "WEBHOOK", "AUTHORIZATION_HEADER", "TASK_DEPENDENTS_ENABLE",
            "TRUE", "NULL"} <= words
    assert all(word.isupper() or word.replace("_", "").isalpha() for word in words)
    assert not words & {"=", "(", "=>", "IDENT", "STRING", "SELECT"}

# ---------------------------------------------------------------- ownership
@pytest.mark.parametrize("text", [
    "CREATE TASK t AS SELECT 1", "create or replace task t as select 1", "CREATE OR ALTER TASK t AS SELECT 1",
    "ALTER TASK t RESUME", "DROP TASK t", "DESC TASK t", "describe task t", "SHOW TASKS", "show terse tasks",
    "EXECUTE TASK t", "ALTER SESSION SET TIMEZONE = 'UTC'", "CREATE WAREHOUSE w",
    "CREATE OR REPLACE WAREHOUSE w", "ALTER WAREHOUSE w SUSPEND", "DROP WAREHOUSE w", "SHOW WAREHOUSES",
    "USE WAREHOUSE w", "  -- a comment\n  CREATE TASK t AS SELECT 1", "/* block\n comment */ SHOW TASKS",
    "// note\nDROP TASK t", "CREATE\n  /* x */ OR -- y\n REPLACE\tTASK t AS SELECT 1",
    "CREATE STREAM s ON TABLE t", "create or replace stream s on view v", "DROP STREAM s", "DESC STREAM s",
    "SHOW STREAMS", "show full streams", "SHOW TERSE STREAMS", "ALTER TABLE t SET CHANGE_TRACKING = TRUE",
    'ALTER TABLE db."My ""T""" SET\n  change_tracking = false', "alter table if exists a.b.c set change_tracking=true",
    "ALTER TABLE t SET OPTIONS(change_tracking = true)", "ALTER TABLE t /* why */ SET OPTIONS ( CHANGE_TRACKING = 1)",
    "CREATE NOTIFICATION INTEGRATION n TYPE = webhook ENABLED = TRUE",
    "create or replace notification integration n", "ALTER NOTIFICATION INTEGRATION n SET ENABLED = TRUE",
    "DROP NOTIFICATION INTEGRATION n", "DROP INTEGRATION n", "DESC NOTIFICATION INTEGRATION n",
    "DESCRIBE INTEGRATION n", "SHOW NOTIFICATION INTEGRATIONS", "SHOW INTEGRATIONS",
    "CALL TASK_DEPENDENTS_ENABLE('t')", "call\n task_dependents_enable ('t')",
])
def test_owned_statements(text):
    assert is_owned(text)


@pytest.mark.parametrize("text", [
    "SELECT 1", "INSERT INTO t VALUES (1)", "CREATE TABLE task (a INT)",
    "SHOW TABLES", "DROP TABLE tasks", "EXECUTE IMMEDIATE $$SELECT 1$$", "CREATE TASKS t", "USE DATABASE d",
    "-- CREATE TASK t AS SELECT 1\nSELECT 1", "ALTER TABLE t SET x = 1", "SHOW TASKSX", "",
    "CREATE OR REPLACE TABLE t (a INT)", "DESC TABLE t",
    "ALTER TABLE t ADD COLUMN c INT", "CREATE TABLE stream_x (a int)", "SELECT * FROM streams", "CALL my_proc()",
    "ALTER TABLE change_tracking SET COMMENT = 'x'", "ALTER TABLE t SET DATA_RETENTION_TIME_IN_DAYS = 1",
    "ALTER TABLE t SET OPTIONS (block_per_segment = 10)", "ALTER TABLE t RENAME TO change_tracking",
    "ALTER TABLE t SET CHANGE_TRACKINGS = TRUE", "ALTER TABLE t.SET CHANGE_TRACKING = TRUE",
    "ALTER TABLE tSET CHANGE_TRACKING = TRUE", "-- ALTER TABLE t SET CHANGE_TRACKING = TRUE\nSELECT 1",
    "CREATE STREAMLIT app", "SHOW STREAMSX", "CREATE STORAGE INTEGRATION s", "ALTER INTEGRATION n SET ENABLED = TRUE",
    "CALL TASK_DEPENDENTS_ENABLE_ALL('t')", "SELECT TASK_DEPENDENTS_ENABLE('t')", "SHOW INTEGRATION",
])
def test_statements_left_to_the_sql_translator(text):
    assert not is_owned(text)


def test_ownership_check_does_not_load_lark():
    code = ("import sys; from taskshell.grammar.parser import is_owned; "
            "assert is_owned('SHOW TASKS'); print('lark' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "False"


# ---------------------------------------------------------------- syntax errors
def parse_error(text: str) -> ParseError:
    with pytest.raises(ParseError) as failed:
        parse(text)
    return failed.value


def test_error_names_the_unexpected_word_and_what_would_fit():
    error = parse_error("CREATE TASK t FOO AS SELECT 1")
    assert error.position == (1, 19)
    assert error.expected == ("'='",)
    assert str(error) == "syntax error line 1 at position 18 unexpected 'AS'.\nExpected one of: '='."
    assert error.code == "001003"


def test_error_on_a_misspelt_keyword_reports_the_whole_word():
    error = parse_error("ALTER TASK t\n  RESUMEX")
    assert error.position == (2, 3)
    assert str(error).startswith("syntax error line 2 at position 2 unexpected 'RESUMEX'.")
    assert error.expected == ("'ADD'", "'MODIFY'", "'REMOVE'", "'RESUME'", "'SET'", "'SUSPEND'", "'UNSET'")


def test_error_at_end_of_input():
    error = parse_error("CREATE TASK t AS ;")
    assert error.position == (1, 17)
    assert error.expected == ("statement",)
    assert str(error) == "syntax error line 1 at position 16 unexpected end of input.\nExpected one of: statement."


def test_alter_task_set_without_a_property_is_a_syntax_error():
    error = parse_error("ALTER TASK t SET")
    assert error.expected == ("'SCHEDULE'", "identifier")
    assert "unexpected end of input." in str(error)


def test_error_on_a_stray_character_inside_a_statement():
    error = parse_error("CREATE TASK t WAREHOUSE = wh ^ AS SELECT 1")
    assert error.position == (1, 30)
    assert str(error).startswith("syntax error line 1 at position 29 unexpected '^'.")
    assert "'AS'" in error.expected and "identifier" in error.expected


def test_error_for_a_bad_schedule_unit_and_a_string_where_a_name_belongs():
    assert parse_error("CREATE TASK t SCHEDULE = 5 DAYS AS SELECT 1").expected == (
        "'HOUR'", "'HOURS'", "'MILLISECOND'", "'MILLISECONDS'", "'MINUTE'", "'MINUTES'", "'SECOND'", "'SECONDS'")
    error = parse_error("DROP TASK 'x'")
    assert str(error).startswith("syntax error line 1 at position 10 unexpected ''x''.")
    assert "identifier" in error.expected


def test_duplicate_property_is_refused():
    error = parse_error("CREATE TASK t COMMENT = 'a' COMMENTS = 'b' AS SELECT 1")
    assert error.position == (1, 29)


def test_property_values_of_the_wrong_kind_are_refused():
    with pytest.raises(CompilationError, match=r"invalid value \[5\] for parameter 'WAREHOUSE'"):
        parse("CREATE TASK t WAREHOUSE = 5 AS SELECT 1")
    with pytest.raises(CompilationError, match="USER_TASK_TIMEOUT_MS"):
        parse("CREATE TASK t USER_TASK_TIMEOUT_MS = 'long' AS SELECT 1")
    # the whole number is shown, not its integer part
    with pytest.raises(CompilationError, match=r"invalid value \[1\.5\] for parameter 'USER_TASK_TIMEOUT_MS'"):
        parse("CREATE TASK t USER_TASK_TIMEOUT_MS = 1.5 AS SELECT 1")


def test_lexer_level_errors_are_reported_the_same_way():
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF

    source = "SHOW TASKS LIKE ~"
    chars = UnexpectedCharacters(source, 16, 1, 17, allowed={"STRING"})
    error = front._syntax_error(chars, source, front._human_names())
    assert (error.position, error.expected) == ((1, 17), ("string",))
    assert str(error).startswith("syntax error line 1 at position 16 unexpected '~'.")
    eof = front._syntax_error(UnexpectedEOF(["IDENT"]), "DROP TASK", front._human_names())
    assert (eof.position, eof.expected) == ((1, 10), ("identifier",))
    assert "unexpected end of input." in str(eof)


# ---------------------------------------------------------------- the table cache
def test_first_parse_writes_the_table_cache_where_asked():
    parse("SHOW TASKS")
    assert list(Path(os.environ["TASKSHELL_CACHE_DIR"]).glob("grammar-*.lark-cache"))


def test_parser_tables_are_cached_and_reloaded(tmp_path):
    cache = tmp_path / "grammar.cache"
    built = front._new_lark(str(cache))
    assert cache.exists() and cache.stat().st_size > 0
    loaded = front._new_lark(str(cache))
    text = "ALTER TASK t SET SCHEDULE = 5 MINUTE"
    assert loaded.parse(text, start="statement") == built.parse(text, start="statement")
    from lark.exceptions import UnexpectedToken

    with pytest.raises(UnexpectedToken) as failed:  # the reloaded lexer still reads whole words
        loaded.parse("ALTER TASK t RESUMEX", start="statement")
    assert failed.value.token == "RESUMEX"


def test_an_unwritable_cache_does_not_stop_parsing(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    lark = front._new_lark(str(blocker / "grammar.cache"))
    assert lark.parse("SHOW TASKS", start="statement") is not None
