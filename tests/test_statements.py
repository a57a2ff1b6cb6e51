"""SQL statements through the interpreter: results, atomicity and transactions."""

from __future__ import annotations

import pytest

from taskshell.errors import TaskshellError


def test_dml_answers_with_counts(shell):
    shell("CREATE TABLE t (id INT, v STRING)")
    assert shell("INSERT INTO t VALUES (1, 'a'), (2, 'b')").rows == ((2,),)
    result = shell("UPDATE t SET v = 'z' WHERE id = 1")
    assert result.columns == ("number of rows updated", "number of multi-joined rows updated")
    assert result.rows == ((1, 0),)
    assert shell("DELETE FROM t WHERE id = 2").rows == ((1,),)
    shell("CREATE TABLE s (id INT, v STRING)")
    shell("INSERT INTO s VALUES (1, 'm'), (3, 'n')")
    result = shell("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v "
                   "WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)")
    assert dict(zip(result.columns, result.rows[0], strict=True)) == \
        {"number of rows inserted": 1, "number of rows updated": 1}
    assert shell.rows("SELECT id, v FROM t ORDER BY id") == [(1, "m"), (3, "n")]


def test_failing_merge_changes_nothing(shell):
    shell("CREATE TABLE t (id INT, v STRING)")
    shell("INSERT INTO t VALUES (1, 'a')")
    shell("CREATE TABLE s (id INT, v STRING)")
    shell("INSERT INTO s VALUES (1, 'x'), (1, 'y'), (2, 'new')")
    with pytest.raises(TaskshellError) as info:
        shell("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v "
              "WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)")
    assert info.value.message == "Duplicate row detected during DML action"
    assert shell.rows("SELECT id, v FROM t") == [(1, "a")]


def test_failing_statement_leaves_data_as_it_was(shell):
    shell("CREATE TABLE t (a INT)")
    shell("INSERT INTO t VALUES (1), (2)")
    with pytest.raises(TaskshellError):
        shell("UPDATE t SET a = a / (a - 2)")
    assert shell.rows("SELECT a FROM t ORDER BY a") == [(1,), (2,)]
    with pytest.raises(TaskshellError):
        shell("CREATE OR REPLACE TABLE t AS SELECT 1 / 0 AS a")
    assert shell.rows("SELECT a FROM t ORDER BY a") == [(1,), (2,)]


def test_transactions_commit_and_roll_back(shell):
    shell("CREATE TABLE t (a INT)")
    shell("BEGIN")
    shell("INSERT INTO t VALUES (1)")
    shell("ROLLBACK")
    assert shell.rows("SELECT count(*) FROM t") == [(0,)]
    shell("BEGIN TRANSACTION")
    shell("INSERT INTO t VALUES (1)")
    with pytest.raises(TaskshellError):
        shell("INSERT INTO t VALUES (1 / 0)")
    shell("INSERT INTO t VALUES (2)")
    shell("COMMIT")
    assert shell.rows("SELECT a FROM t ORDER BY a") == [(1,), (2,)]
    assert shell("COMMIT").status == "Statement executed successfully."


@pytest.mark.parametrize("ddl", ["CREATE TASK k AS SELECT 1", "CREATE TABLE u (b INT)",
                                 "CREATE STREAM s ON TABLE t", "ALTER TABLE t ADD COLUMN b INT"])
def test_ddl_inside_a_transaction_commits_it_first(shell, ddl):
    # Snowflake: a DDL statement commits the open transaction, runs as a transaction of its own,
    # and what follows runs in autocommit mode
    shell("CREATE TABLE t (a INT)")
    shell("BEGIN")
    shell("INSERT INTO t (a) VALUES (1)")
    shell(ddl)
    shell("INSERT INTO t (a) VALUES (2)")
    shell("ROLLBACK")  # nothing left to roll back
    assert shell.rows("SELECT a FROM t ORDER BY a") == [(1,), (2,)]
    kinds = {"TASK": "SHOW TASKS", "TABLE u": "SHOW TABLES LIKE 'U'", "STREAM": "SHOW STREAMS"}
    for word, listing in kinds.items():
        if word in ddl:
            assert len(shell(listing).rows) == 1


def test_reserved_catalog_names_are_refused(shell):
    with pytest.raises(TaskshellError) as info:
        shell("CREATE TABLE _ts_mine (a INT)")
    assert "reserved" in info.value.message


@pytest.mark.parametrize("statement", [
    "DELETE FROM _ts_tasks",
    "UPDATE _ts_tasks SET state = 'started'",
    "INSERT INTO _ts_tasks (name) VALUES ('x')",
    "MERGE INTO _ts_tasks USING (SELECT 1 AS a) s ON 1 = 0 WHEN NOT MATCHED THEN INSERT (name) VALUES ('x')",
])
def test_the_catalogs_own_tables_can_be_read_but_not_written(shell, statement):
    shell("CREATE TASK t AS SELECT 1")
    with pytest.raises(TaskshellError) as info:
        shell(statement)
    assert "reserved" in info.value.message
    assert shell.rows("SELECT name, state FROM _ts_tasks") == [("T", "suspended")]


def test_division_and_dates_follow_snowflake(shell):
    assert shell.rows("SELECT 1/3, 10/4") == [(0.333333, 2.5)]
    with pytest.raises(TaskshellError) as info:
        shell("SELECT 1/0")
    assert (info.value.code, info.value.message) == \
        ("1006", "divided by zero while evaluating function `divide(1, 0)`")
    assert shell.rows("SELECT DATEADD(hour, 2, '2026-11-01 00:30:00'::TIMESTAMP)") == \
        [("2026-11-01 02:30:00",)]
    assert shell.rows("SELECT 'Abc' LIKE 'a%', 'Abc' ILIKE 'a%'") == [(0, 1)]


def test_result_column_names_follow_what_was_written(shell):
    result = shell("SELECT 1/3, SYSTEM$WAIT(1)")
    assert result.columns == ("1 / 3", "SYSTEM$WAIT(1)")


def test_an_interrupt_ends_system_wait_on_the_real_clock_at_once(tmp_path):
    # Ctrl-C in the shell interrupts the session: a long SYSTEM$WAIT must not sleep on
    import threading
    import time

    from taskshell.catalog.db import Catalog
    from taskshell.interpreter.interpreter import Interpreter
    from taskshell.interpreter.session import Session
    from taskshell.scheduler.clock import RealClock

    catalog = Catalog(str(tmp_path / "c.db"))
    interp = Interpreter(Session(catalog=catalog, clock=RealClock()))
    outcome: list[BaseException | None] = []

    def waits() -> None:
        try:
            interp.execute("SELECT SYSTEM$WAIT(30)")
            outcome.append(None)
        except Exception as exc:  # noqa: BLE001
            outcome.append(exc)

    try:
        worker = threading.Thread(target=waits)
        worker.start()
        time.sleep(0.3)
        interp.interrupt()
        worker.join(5)
        assert not worker.is_alive() and outcome and isinstance(outcome[0], TaskshellError)
    finally:
        interp.close()
        catalog.close()
