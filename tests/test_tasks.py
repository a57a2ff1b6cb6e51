"""Task DDL, validation, SHOW/DESC and EXECUTE TASK through the interpreter on a real catalog file."""

from __future__ import annotations

import json

import pytest

from taskshell.errors import TaskshellError
from taskshell.interpreter import tasks as task_handlers

SF_SHOW_COLUMNS = (
    "created_on", "name", "id", "database_name", "schema_name", "owner", "comment", "warehouse",
    "schedule", "predecessors", "state", "definition", "condition", "allow_overlapping_execution",
    "error_integration", "last_committed_on", "last_suspended_on", "owner_role_type", "config", "budget",
    "task_relations", "last_suspended_reason", "success_integration")
DB_SHOW_COLUMNS = (
    "created_on", "name", "id", "owner", "comment", "warehouse", "schedule", "state", "definition",
    "condition_text", "after", "suspend_task_after_num_failures", "error_integration",
    "next_schedule_time", "last_committed_on", "last_suspended_on", "session_parameters")


def show(shell, sql="SHOW TASKS"):
    result = shell(sql)
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def error_of(shell, sql) -> TaskshellError:
    with pytest.raises(TaskshellError) as info:
        shell(sql)
    return info.value


# ---------------------------------------------------------------- CREATE
def test_create_task_answers_with_status_and_starts_suspended(shell):
    result = shell("CREATE TASK mytask SCHEDULE = '5 MINUTE' AS SELECT 1")
    assert result.status == "Task MYTASK successfully created."
    (row,) = show(shell)
    assert tuple(shell("SHOW TASKS").columns) == SF_SHOW_COLUMNS
    assert row["name"] == "MYTASK"
    assert row["state"] == "suspended"
    assert row["schedule"] == "5 MINUTE"
    assert row["definition"] == "SELECT 1"
    assert row["predecessors"] == "[]"
    assert row["created_on"] == "2026-11-01 00:00:00.000 -0700"
    assert row["database_name"] == "TASKSHELL" and row["schema_name"] == "PUBLIC"


def test_properties_in_any_order_are_all_kept(shell):
    shell("CREATE WAREHOUSE wh1")
    shell("""CREATE TASK t1 COMMENT = 'nightly' SUSPEND_TASK_AFTER_NUM_FAILURES = 3
             SCHEDULE = 'USING CRON 0 9 * * * America/Los_Angeles' WAREHOUSE = wh1
             ALLOW_OVERLAPPING_EXECUTION = TRUE USER_TASK_TIMEOUT_MS = 5000 TIMEZONE = 'UTC'
             AS INSERT INTO x VALUES (1)""")
    (row,) = show(shell)
    assert row["comment"] == "nightly"
    assert row["warehouse"] == "WH1"
    assert row["schedule"] == "USING CRON 0 9 * * * America/Los_Angeles"
    assert row["allow_overlapping_execution"] == "true"
    shell("ALTER SESSION SET DIALECT = 'databend'")
    (row,) = show(shell)
    assert tuple(row) == DB_SHOW_COLUMNS
    assert row["suspend_task_after_num_failures"] == 3
    assert json.loads(row["session_parameters"]) == {"TIMEZONE": "UTC"}


def test_databend_forms_keep_lower_case_names(databend):
    databend("CREATE TASK mytaskroot WAREHOUSE = 'default' SCHEDULE = USING CRON '0 0 0 1 1 ? 2100' AS SELECT 1")
    databend("CREATE TASK mytaskchild WAREHOUSE = 'default' AFTER 'mytaskroot' AS SELECT 2")
    rows = {r["name"]: r for r in show(databend)}
    assert rows["mytaskroot"]["schedule"] == "CRON 0 0 0 1 1 ? 2100"
    assert rows["mytaskroot"]["state"] == "Suspended"
    assert rows["mytaskchild"]["schedule"] is None
    assert rows["mytaskchild"]["after"] == "mytaskroot"
    databend("ALTER TASK mytaskchild REMOVE AFTER 'mytaskroot'")
    rows = {r["name"]: r for r in show(databend)}
    assert rows["mytaskchild"]["after"] is None
    assert rows["mytaskchild"]["schedule"] == "INTERVAL 0 SECOND"


def test_databend_task_lifecycle(databend):
    databend("CREATE TASK t WAREHOUSE = 'default' SCHEDULE = USING CRON '0 0 0 1 1 ? 2100' AS SELECT 1")
    databend("ALTER TASK t RESUME")
    assert show(databend)[0]["state"] == "Started"
    databend("ALTER TASK t SUSPEND")
    databend("ALTER TASK t MODIFY AS SELECT 2023")
    databend("CREATE WAREHOUSE warehouse2")
    databend("ALTER TASK t SET warehouse = 'warehouse2'")
    databend("ALTER TASK t SET SCHEDULE = 100 MINUTE")
    databend("ALTER TASK t SET SUSPEND_TASK_AFTER_NUM_FAILURES = 199 COMMENT = 'x'")
    (row,) = show(databend)
    assert row["schedule"] == "INTERVAL 6000 SECOND"
    assert row["warehouse"] == "warehouse2"
    assert row["suspend_task_after_num_failures"] == 199
    assert row["comment"] == "x"
    databend("EXECUTE TASK t")
    (run,) = show(databend, "SELECT * FROM system.task_history")
    assert run["state"] == "SUCCEEDED"
    assert run["definition"] == "SELECT 2023"


def test_millisecond_bounds(databend):
    databend("CREATE TASK a SCHEDULE = 500 MILLISECOND AS SELECT 1")
    databend("CREATE TASK b SCHEDULE = 501 MILLISECOND AS SELECT 1")
    for bad in (499, 1000):
        err = error_of(databend, f"CREATE TASK c SCHEDULE = {bad} MILLISECOND AS SELECT 1")
        assert err.message == f"invalid milliseconds_interval value {bad}, must be in [500, 1000)"
    assert [r["name"] for r in show(databend)] == ["a", "b"]


def test_duplicate_if_not_exists_and_or_replace(shell):
    shell("CREATE TASK t AS SELECT 1")
    assert error_of(shell, "CREATE TASK t AS SELECT 2").message == "Object 'T' already exists."
    assert shell("CREATE TASK IF NOT EXISTS t AS SELECT 2").status == "T already exists, statement succeeded."
    shell("CREATE OR REPLACE TASK t COMMENT = 'new' AS SELECT 3")
    (row,) = show(shell)
    assert (row["definition"], row["comment"]) == ("SELECT 3", "new")


def test_clone_copies_properties_and_is_suspended(shell):
    shell("CREATE TASK src SCHEDULE = '10 MINUTE' COMMENT = 'c' AS SELECT 1")
    shell("ALTER TASK src RESUME")
    shell("CREATE TASK copy CLONE src")
    rows = {r["name"]: r for r in show(shell)}
    assert rows["COPY"]["schedule"] == "10 MINUTE"
    assert rows["COPY"]["comment"] == "c"
    assert rows["COPY"]["state"] == "suspended"


# ---------------------------------------------------------------- validation
def test_schedule_and_after_are_exclusive(shell):
    shell("CREATE TASK root SCHEDULE = '1 MINUTE' AS SELECT 1")
    err = error_of(shell, "CREATE TASK child SCHEDULE = '1 MINUTE' AFTER root AS SELECT 1")
    assert err.message == task_handlers.BOTH_SCHEDULE_AND_AFTER
    shell("CREATE TASK child AFTER root AS SELECT 1")
    err = error_of(shell, "ALTER TASK root ADD AFTER child")
    assert err.message == "Task cannot have both `SCHEDULE` and `AFTER`: 'ROOT'"


def test_databend_says_an_empty_set_must_set_something(databend):
    databend("CREATE TASK r SCHEDULE = 1 MINUTE AS SELECT 1")
    assert error_of(databend, "ALTER TASK r SET").message == "alter task must set at least one option"


def test_databend_refuses_remove_after_on_a_scheduled_task_too(databend):
    databend("CREATE TASK a SCHEDULE = 1 MINUTE AS SELECT 1")
    databend("CREATE TASK s SCHEDULE = 1 MINUTE AS SELECT 1")
    for verb in ("ADD", "REMOVE"):
        assert error_of(databend, f"ALTER TASK s {verb} AFTER 'a'").message == \
            "Task cannot have both `SCHEDULE` and `AFTER`: 's'"


def test_unknown_predecessor_is_refused_and_nothing_is_created(shell):
    err = error_of(shell, "CREATE TASK child AFTER nowhere AS SELECT 1")
    assert err.message == "Task 'NOWHERE' does not exist or not authorized."
    assert show(shell) == []


def test_cycles_are_refused(shell):
    shell("CREATE TASK a AS SELECT 1")
    shell("CREATE TASK b AFTER a AS SELECT 1")
    shell("CREATE TASK c AFTER b AS SELECT 1")
    err = error_of(shell, "ALTER TASK a ADD AFTER c")
    assert "Cycle" in err.message
    err = error_of(shell, "ALTER TASK a ADD AFTER a")
    assert "Cycle" in err.message
    assert show(shell, "SHOW TASKS LIKE 'A'")[0]["predecessors"] == "[]"


def test_at_most_100_predecessors_and_100_children(shell):
    for i in range(101):
        shell(f"CREATE TASK p{i} AS SELECT 1")
    names = ", ".join(f"p{i}" for i in range(101))
    err = error_of(shell, f"CREATE TASK many AFTER {names} AS SELECT 1")
    assert err.message == "Task MANY cannot have more than 100 predecessors."
    for i in range(100):
        shell(f"CREATE TASK c{i} AFTER p0 AS SELECT 1")
    err = error_of(shell, "CREATE TASK c100 AFTER p0 AS SELECT 1")
    assert err.message == "Task P0 cannot have more than 100 child tasks."


def test_graph_size_limit(shell, monkeypatch):
    monkeypatch.setattr(task_handlers, "MAX_GRAPH_TASKS", 5)
    shell("CREATE TASK r SCHEDULE = '1 MINUTE' AS SELECT 1")
    for i in range(4):
        shell(f"CREATE TASK k{i} AFTER r AS SELECT 1")
    err = error_of(shell, "CREATE TASK k4 AFTER r AS SELECT 1")
    assert err.message == "A task graph cannot have more than 5 tasks."


def test_started_root_blocks_graph_ddl_with_091421(shell):
    shell("CREATE TASK root SCHEDULE = '1 MINUTE' AS SELECT 1")
    shell("CREATE TASK a AFTER root AS SELECT 1")
    shell("ALTER TASK a RESUME")
    shell("ALTER TASK root RESUME")
    expected = ("Unable to update graph with root task TASKSHELL.PUBLIC.ROOT since that root task "
                "is not suspended.")
    for sql in ("ALTER TASK a MODIFY AS SELECT 2", "ALTER TASK a SET COMMENT = 'x'", "DROP TASK a",
                "ALTER TASK a SUSPEND", "CREATE OR REPLACE TASK a AFTER root AS SELECT 3",
                "CREATE TASK b AFTER root AS SELECT 1", "ALTER TASK a REMOVE AFTER root"):
        err = error_of(shell, sql)
        assert (err.code, err.message) == ("091421", expected), sql
    shell("ALTER TASK root SUSPEND")
    shell("ALTER TASK a MODIFY AS SELECT 2")
    assert show(shell, "SHOW TASKS LIKE 'a'")[0]["definition"] == "SELECT 2"


def test_task_body_syntax_is_checked_at_create_and_alter(shell):
    err = error_of(shell, "CREATE TASK t AS SELEC 1")
    assert err.code == "001003"
    shell("CREATE TASK t AS SELECT 1")
    error_of(shell, "ALTER TASK t MODIFY AS INSERT INTO")
    assert show(shell)[0]["definition"] == "SELECT 1"


def test_when_condition_allows_only_stream_functions(shell):
    err = error_of(shell, "CREATE TASK t SCHEDULE = '1 MINUTE' WHEN CURRENT_TIMESTAMP LIKE '20%' AS SELECT 1")
    assert err.message.startswith("Invalid expression for task condition expression.")
    shell("CREATE TASK t SCHEDULE = '1 MINUTE' WHEN SYSTEM$STREAM_HAS_DATA('s') AS SELECT 1")
    assert show(shell)[0]["condition"] == "SYSTEM$STREAM_HAS_DATA('s')"


def test_alter_forms(shell):
    shell("CREATE TASK root SCHEDULE = '1 MINUTE' AS SELECT 1")
    shell("CREATE TASK t AFTER root AS SELECT 1")
    shell("ALTER TASK t SET COMMENT = 'hello' USER_TASK_TIMEOUT_MS = 100")
    shell("ALTER TASK t MODIFY WHEN 1 = 1")
    (row,) = show(shell, "SHOW TASKS LIKE 't'")
    assert (row["comment"], row["condition"]) == ("hello", "1 = 1")
    shell("ALTER TASK t REMOVE WHEN")
    shell("ALTER TASK t UNSET COMMENT")
    (row,) = show(shell, "SHOW TASKS LIKE 't'")
    assert (row["comment"], row["condition"]) == ("", None)
    shell("CREATE TASK fin FINALIZE = root AS SELECT 1")
    relations = json.loads(show(shell, "SHOW TASKS LIKE 'root'")[0]["task_relations"])
    assert relations["FinalizerTask"] == "TASKSHELL.PUBLIC.FIN"
    shell("ALTER TASK fin UNSET FINALIZE")
    assert json.loads(show(shell, "SHOW TASKS LIKE 'root'")[0]["task_relations"])["FinalizerTask"] is None
    assert shell("ALTER TASK IF EXISTS nothing RESUME").status == "Statement executed successfully."
    assert error_of(shell, "ALTER TASK nothing RESUME").message == \
        "Task 'NOTHING' does not exist or not authorized."


def test_drop_predecessor_leaves_children_suspended_standalone(shell):
    shell("CREATE TASK root SCHEDULE = '1 MINUTE' AS SELECT 1")
    shell("CREATE TASK child AFTER root AS SELECT 1")
    shell("ALTER TASK child RESUME")
    assert shell("DROP TASK root").status == "ROOT successfully dropped."
    (row,) = show(shell)
    assert (row["name"], row["state"], row["predecessors"]) == ("CHILD", "suspended", "[]")
    assert shell("DROP TASK IF EXISTS root").status == "Statement executed successfully."


def test_show_tasks_filters(shell):
    for name in ("alpha", "beta", "gamma"):
        shell(f"CREATE TASK {name} SCHEDULE = '1 MINUTE' AS SELECT 1")
    shell("CREATE TASK alpha_child AFTER alpha AS SELECT 1")
    assert [r["name"] for r in show(shell, "SHOW TASKS LIKE 'a%'")] == ["ALPHA", "ALPHA_CHILD"]
    assert [r["name"] for r in show(shell, "SHOW TASKS STARTS WITH 'B'")] == ["BETA"]
    assert [r["name"] for r in show(shell, "SHOW TASKS ROOT ONLY")] == ["ALPHA", "BETA", "GAMMA"]
    assert [r["name"] for r in show(shell, "SHOW TASKS LIMIT 2 FROM 'B'")] == ["BETA", "GAMMA"]
    assert shell("SHOW TERSE TASKS").columns[:3] == ("created_on", "name", "kind")
    assert [r["name"] for r in show(shell, "DESC TASK beta")] == ["BETA"]
    assert [r["predecessors"] for r in show(shell, "DESCRIBE TASK alpha_child")] == \
        ['["TASKSHELL.PUBLIC.ALPHA"]']


def test_task_dependents(shell, databend):
    shell("CREATE TASK root SCHEDULE = '1 MINUTE' AS SELECT 1")
    shell("CREATE TASK a AFTER root AS SELECT 1")
    shell("CREATE TASK b AFTER a AS SELECT 1")
    names = shell.column("SELECT * FROM TABLE(TASK_DEPENDENTS(TASK_NAME => 'root', RECURSIVE => TRUE))", "name")
    assert names == ["ROOT", "A", "B"]
    names = shell.column("SELECT * FROM TABLE(TASK_DEPENDENTS(TASK_NAME => 'root', RECURSIVE => FALSE))", "name")
    assert names == ["ROOT", "A"]
    databend("CREATE TASK mytaskroot SCHEDULE = 1 MINUTE AS SELECT 1")
    databend("CREATE TASK mytaskchild AFTER 'mytaskroot' AS SELECT 1")
    rows = databend.rows("SELECT name, after FROM task_dependents(task_name => 'mytaskchild', recursive => true)")
    assert rows == [("mytaskroot", None), ("mytaskchild", "mytaskroot")]
    # as in Databend's own test of it (task_dag_test.test)
    rows = databend.rows("select name, predecessors from task_dependents(task_name => 'mytaskchild', recursive => true)")
    assert rows == [("mytaskroot", "[]"), ("mytaskchild", '["mytaskroot"]')]


# ---------------------------------------------------------------- EXECUTE TASK and history
def test_execute_task_runs_body_and_records_history(shell):
    shell("CREATE TABLE hourly (taken_at TIMESTAMP, n INT)")
    shell("CREATE TASK summarize AS INSERT INTO hourly SELECT CURRENT_TIMESTAMP, 42")
    shell.advance(90)
    result = shell("EXECUTE TASK summarize")
    assert result.status == "Task SUMMARIZE is scheduled to run immediately."
    assert shell.rows("SELECT * FROM hourly") == [("2026-11-01 00:01:30.000", 42)]
    history = shell("SELECT * FROM TABLE(INFORMATION_SCHEMA.TASK_HISTORY())")
    (run,) = [dict(zip(history.columns, r, strict=True)) for r in history.rows]
    assert run["NAME"] == "SUMMARIZE"
    assert run["STATE"] == "SUCCEEDED"
    assert run["SCHEDULED_FROM"] == "EXECUTE TASK"
    assert run["SCHEDULED_TIME"] == run["QUERY_START_TIME"] == run["COMPLETED_TIME"] == \
        "2026-11-01 00:01:30.000 -0700"
    assert run["ATTEMPT_NUMBER"] == 1 and run["GRAPH_VERSION"] == 1
    assert run["QUERY_ID"] and run["ROOT_TASK_ID"] and run["RUN_ID"]
    assert run["QUERY_TEXT"] == "INSERT INTO hourly SELECT CURRENT_TIMESTAMP, 42"


def test_failed_block_body_rolls_back_whole_and_records_error(shell):
    shell("CREATE TABLE t (a INT)")
    shell("CREATE TASK bad AS BEGIN INSERT INTO t VALUES (1); SELECT 1 / 0; END")
    result = shell("EXECUTE TASK bad")
    assert "divided by zero" in result.notices[0]
    assert shell.rows("SELECT count(*) FROM t") == [(0,)]
    (row,) = shell.rows("SELECT STATE, ERROR_CODE, ERROR_MESSAGE FROM TABLE(TASK_HISTORY(TASK_NAME => 'bad'))")
    assert row == ("FAILED", "1006", "divided by zero while evaluating function `divide(1, 0)`")


def test_block_body_runs_all_statements(shell):
    shell("CREATE TABLE t (a INT)")
    shell("CREATE TASK good AS BEGIN INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); END")
    shell("EXECUTE TASK good")
    assert shell.rows("SELECT a FROM t ORDER BY a") == [(1,), (2,)]


def test_when_false_is_skipped_with_snowflake_code(shell):
    shell("CREATE TASK t WHEN 1 = 0 AS SELECT 1")
    shell("EXECUTE TASK t")
    (row,) = shell.rows("SELECT STATE, ERROR_CODE, ERROR_MESSAGE FROM TABLE(TASK_HISTORY())")
    assert row == ("SKIPPED", "0040003", "Conditional expression for task evaluated to false.")


def test_execute_task_on_child_is_refused(shell):
    shell("CREATE TASK root AS SELECT 1")
    shell("CREATE TASK child AFTER root AS SELECT 1")
    assert "standalone and root tasks only" in error_of(shell, "EXECUTE TASK child").message


def test_retry_last(shell):
    shell("CREATE TABLE flag (ok INT)")
    shell("CREATE TASK t AS INSERT INTO flag SELECT 1 / (SELECT count(*) FROM flag)")
    assert "did not fail" in error_of(shell, "EXECUTE TASK t RETRY LAST").message
    shell("EXECUTE TASK t")
    shell("INSERT INTO flag VALUES (1)")
    shell("EXECUTE TASK t RETRY LAST")
    rows = shell.rows("SELECT STATE, SCHEDULED_FROM, ATTEMPT_NUMBER, RUN_ID FROM TABLE(TASK_HISTORY()) "
                      "ORDER BY ATTEMPT_NUMBER")
    assert [r[:3] for r in rows] == [("FAILED", "EXECUTE TASK", 1), ("SUCCEEDED", "RETRY", 2)]
    assert rows[0][3] == rows[1][3]


def test_task_history_arguments(shell, databend):
    shell("CREATE TASK ok AS SELECT 1")
    shell("CREATE TASK bad AS SELECT 1 / 0")
    for _ in range(3):
        shell("EXECUTE TASK ok")
        shell.advance(60)
        shell("EXECUTE TASK bad")
        shell.advance(60)
    assert len(shell.rows("SELECT * FROM TABLE(INFORMATION_SCHEMA.TASK_HISTORY())")) == 6
    assert len(shell.rows("SELECT * FROM TABLE(INFORMATION_SCHEMA.TASK_HISTORY(RESULT_LIMIT => 2))")) == 2
    assert set(shell.column("SELECT * FROM TABLE(TASK_HISTORY(ERROR_ONLY => TRUE))", "NAME")) == {"BAD"}
    assert set(shell.column("SELECT * FROM TABLE(TASK_HISTORY(TASK_NAME => 'ok'))", "NAME")) == {"OK"}
    times = shell.column("SELECT * FROM TABLE(TASK_HISTORY())", "SCHEDULED_TIME")
    assert times == sorted(times, reverse=True)
    recent = shell.rows("SELECT NAME FROM TABLE(TASK_HISTORY(SCHEDULED_TIME_RANGE_START => "
                        "'2026-11-01 00:04:00'))")
    assert recent == [("BAD",), ("OK",)]
    with pytest.raises(TaskshellError):
        shell("SELECT * FROM TABLE(TASK_HISTORY(RESULT_LIMIT => 0))")
    databend("CREATE TASK t1 AS SELECT 1")
    for _ in range(3):
        databend("EXECUTE TASK t1")
    assert len(databend.rows("SELECT * FROM task_history('t1', 2)")) == 2
    assert databend("SELECT * FROM task_history('t1', 2)").columns[:3] == ("name", "id", "owner")


def test_history_default_limit_is_100(shell):
    shell("CREATE TASK t AS SELECT 1")
    for _ in range(101):
        shell("EXECUTE TASK t")
    assert len(shell.rows("SELECT * FROM TABLE(INFORMATION_SCHEMA.TASK_HISTORY())")) == 100
    assert shell.rows("SELECT count(*) FROM system.task_history") == [(101,)]


# ---------------------------------------------------------------- session, warehouses, clock
def test_alter_session_timezone_changes_printed_times(shell):
    shell("CREATE TASK t AS SELECT 1")
    shell("ALTER SESSION SET TIMEZONE = 'UTC'")
    assert show(shell)[0]["created_on"] == "2026-11-01 07:00:00.000 +0000"
    err = error_of(shell, "ALTER SESSION SET TIMEZONE = 'Mars/Olympus'")
    assert "Mars/Olympus" in err.message
    shell("ALTER SESSION UNSET TIMEZONE")
    assert show(shell)[0]["created_on"] == "2026-11-01 00:00:00.000 -0700"


def test_system_wait_advances_the_virtual_clock(shell):
    assert shell.rows("SELECT SYSTEM$WAIT(10)") == [("waited 10 seconds",)]
    assert shell.rows("SELECT CURRENT_TIMESTAMP") == [("2026-11-01 00:00:10.000",)]
    shell("SELECT SYSTEM$WAIT(2, 'MINUTES')")
    assert shell.rows("SELECT CURRENT_TIMESTAMP") == [("2026-11-01 00:02:10.000",)]


def test_warehouses(shell):
    names = shell.column("SHOW WAREHOUSES", "name")
    assert names == ["default"]
    shell("CREATE WAREHOUSE etl WAREHOUSE_SIZE = 'MEDIUM'")
    shell("CREATE WAREHOUSE capped WITH WAREHOUSE_SIZE = XSMALL MAX_CONCURRENCY_LEVEL = 3")
    rows = {r["name"]: r for r in show(shell, "SHOW WAREHOUSES")}
    assert rows["ETL"]["size"] == "MEDIUM" and rows["ETL"]["max_concurrency_level"] == 4
    assert rows["CAPPED"]["max_concurrency_level"] == 3
    shell("ALTER WAREHOUSE etl SET MAX_CONCURRENCY_LEVEL = 6")
    assert {r["name"]: r for r in show(shell, "SHOW WAREHOUSES LIKE 'e%'")}["ETL"]["max_concurrency_level"] == 6
    shell("ALTER WAREHOUSE etl SET AUTO_SUSPEND = 60 AUTO_RESUME = TRUE")  # kept, not acted on
    shell("ALTER WAREHOUSE etl UNSET AUTO_SUSPEND")
    for typo, name in [("CREATE WAREHOUSE w2 MAX_CONCURENCY_LEVEL = 5", "MAX_CONCURENCY_LEVEL"),
                       ("ALTER WAREHOUSE etl SET AUTO_SUSPENDD = 5", "AUTO_SUSPENDD"),
                       ("ALTER WAREHOUSE etl UNSET MAX_CONCURENCY_LEVEL", "MAX_CONCURENCY_LEVEL")]:
        assert error_of(shell, typo).message == f"invalid property '{name}' for 'WAREHOUSE'"
    assert "W2" not in shell.column("SHOW WAREHOUSES", "name")
    assert shell("DROP WAREHOUSE etl").status == "ETL successfully dropped."
    error_of(shell, "DROP WAREHOUSE default")
    error_of(shell, "CREATE TASK t WAREHOUSE = missing AS SELECT 1")
    shell("CREATE TASK t WAREHOUSE = capped AS SELECT 1")
