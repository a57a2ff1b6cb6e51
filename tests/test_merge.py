"""MERGE runs on SQLite with Snowflake's semantics: first applicable clause wins, matching is judged on
the rows as they were, and a target row joined by several source rows fails the statement."""

from __future__ import annotations

import sqlite3

import pytest
import sqlglot

from taskshell.catalog import functions
from taskshell.catalog.execute import run_steps
from taskshell.errors import ExecutionError, TaskshellError
from taskshell.translate.context import TranslateContext
from taskshell.translate.merge import merge_steps


def to_sqlite(expression: sqlglot.exp.Expression) -> str:
    return expression.sql(dialect="sqlite")


@pytest.fixture
def db(tmp_path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "merge.db", isolation_level=None)
    functions.install(conn)
    conn.executescript("""
        CREATE TABLE target (id INT, v TEXT, n INT);
        INSERT INTO target VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30);
        CREATE TABLE source (id INT, v TEXT, n INT);
    """)
    yield conn
    conn.close()


def merge(conn: sqlite3.Connection, sql: str) -> dict[str, int]:
    """Run a Snowflake MERGE the way the interpreter does: all steps in one transaction."""
    node = sqlglot.parse_one(sql, read="snowflake")
    conn.execute("BEGIN IMMEDIATE")
    try:
        outcome = run_steps(conn, merge_steps(node, TranslateContext(), to_sqlite))
    except TaskshellError:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return outcome.counts


def rows(conn: sqlite3.Connection, table: str = "target") -> list[tuple]:
    return conn.execute(f"SELECT id, v, n FROM {table} ORDER BY id, v").fetchall()


def fill_source(conn: sqlite3.Connection, *values: tuple) -> None:
    conn.executemany("INSERT INTO source VALUES (?, ?, ?)", values)


def temp_tables(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table'")]


def test_upsert_updates_matches_and_inserts_the_rest(db):
    fill_source(db, (2, 'B', 21), (4, 'd', 40))
    counts = merge(db, """
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN MATCHED THEN UPDATE SET v = s.v, n = s.n
        WHEN NOT MATCHED THEN INSERT (id, v, n) VALUES (s.id, s.v, s.n)""")
    assert counts == {"updated": 1, "inserted": 1}
    assert rows(db) == [(1, 'a', 10), (2, 'B', 21), (3, 'c', 30), (4, 'd', 40)]
    assert temp_tables(db) == []


def test_first_matching_clause_wins_in_order(db):
    fill_source(db, (1, 'x', 1), (2, 'y', 2), (3, 'z', 3))
    counts = merge(db, """
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN MATCHED AND s.n >= 2 THEN UPDATE SET v = 'first'
        WHEN MATCHED AND s.n >= 1 THEN UPDATE SET v = 'second'
        WHEN MATCHED THEN UPDATE SET v = 'never'""")
    assert counts == {"updated": 3}
    assert rows(db) == [(1, 'second', 10), (2, 'first', 20), (3, 'first', 30)]


def test_delete_clause_removes_matched_rows_and_later_clauses_do_not_apply(db):
    fill_source(db, (1, 'gone', 0), (2, 'kept', 5))
    counts = merge(db, """
        MERGE INTO target AS t USING source AS s ON t.id = s.id
        WHEN MATCHED AND s.v = 'gone' THEN DELETE
        WHEN MATCHED THEN UPDATE SET n = t.n + s.n""")
    assert counts == {"deleted": 1, "updated": 1}
    assert rows(db) == [(2, 'b', 25), (3, 'c', 30)]


def test_set_expressions_use_the_target_row_as_it_was(db):
    fill_source(db, (1, 'x', 1))
    merge(db, """
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN MATCHED THEN UPDATE SET n = t.n * 2, v = t.v || t.n""")
    assert rows(db)[0] == (1, 'a10', 20)


def test_not_matched_clauses_with_conditions(db):
    fill_source(db, (5, 'big', 500), (6, 'small', 6), (7, 'none', None), (1, 'old', 1))
    counts = merge(db, """
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN NOT MATCHED AND s.n > 100 THEN INSERT (id, v) VALUES (s.id, 'large')
        WHEN NOT MATCHED AND s.n > 0 THEN INSERT VALUES (s.id, s.v, s.n)""")
    assert counts == {"inserted": 2}
    assert rows(db) == [(1, 'a', 10), (2, 'b', 20), (3, 'c', 30), (5, 'large', None), (6, 'small', 6)]


def test_source_subquery(db):
    fill_source(db, (1, 'x', 100), (2, 'y', 200), (9, 'z', 900))
    counts = merge(db, """
        MERGE INTO target USING (SELECT id, n * 2 AS doubled FROM source WHERE id <> 2) AS src
        ON target.id = src.id
        WHEN MATCHED THEN UPDATE SET n = src.doubled
        WHEN NOT MATCHED THEN INSERT (id, v, n) VALUES (src.id, 'new', src.doubled)""")
    assert counts == {"updated": 1, "inserted": 1}
    assert rows(db) == [(1, 'a', 200), (2, 'b', 20), (3, 'c', 30), (9, 'new', 1800)]


def test_unaliased_tables_are_referenced_by_name(db):
    fill_source(db, (3, 'C', 33))
    counts = merge(db, """
        MERGE INTO target USING source ON target.id = source.id
        WHEN MATCHED THEN UPDATE SET target.v = source.v""")
    assert counts == {"updated": 1}
    assert rows(db)[2] == (3, 'C', 30)


def test_unaliased_subquery_and_case_insensitive_names(db):
    fill_source(db, (1, 'x', 5), (4, 'y', 6))
    counts = merge(db, """
        MERGE INTO TARGET T USING (SELECT ID AS SID, N AS SN FROM SOURCE) ON t.Id = SID
        WHEN MATCHED THEN UPDATE SET N = SN
        WHEN NOT MATCHED THEN INSERT (ID, V, N) VALUES (SID, 'new', SN)""")
    assert counts == {"updated": 1, "inserted": 1}
    assert rows(db) == [(1, 'a', 5), (2, 'b', 20), (3, 'c', 30), (4, 'new', 6)]


def test_update_that_changes_the_join_key_does_not_insert_the_row_again(db):
    fill_source(db, (1, 'moved', 0), (2, 'moved', 0))
    counts = merge(db, """
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN MATCHED THEN UPDATE SET id = t.id + 100, v = s.v
        WHEN NOT MATCHED THEN INSERT (id, v, n) VALUES (s.id, 'duplicate', 0)""")
    assert counts == {"updated": 2, "inserted": 0}
    assert rows(db) == [(3, 'c', 30), (101, 'moved', 10), (102, 'moved', 20)]


def test_updated_row_is_not_matched_again_by_a_later_clause(db):
    # Clause 1 turns row 1's n into 2; clause 2's condition must still see the original n = 10.
    fill_source(db, (1, 'x', 0))
    merge(db, """
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN MATCHED AND t.n = 10 THEN UPDATE SET n = 2
        WHEN MATCHED AND t.n = 2 THEN DELETE""")
    assert rows(db)[0] == (1, 'a', 2)


def test_integer_primary_key_target_can_change_keys(tmp_path):
    conn = sqlite3.connect(tmp_path / "pk.db", isolation_level=None)
    functions.install(conn)
    conn.executescript("""
        CREATE TABLE target (id INTEGER PRIMARY KEY, v TEXT, n INT);
        INSERT INTO target VALUES (1, 'a', 1), (2, 'b', 2);
        CREATE TABLE source (id INT, v TEXT, n INT);
        INSERT INTO source VALUES (1, 'up', 0), (2, 'del', 0);
    """)
    counts = merge(conn, """
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN MATCHED AND s.v = 'del' THEN DELETE
        WHEN MATCHED THEN UPDATE SET id = 2""")
    assert counts == {"deleted": 1, "updated": 1}
    assert rows(conn) == [(2, 'a', 1)]
    conn.close()


def test_target_row_joined_by_several_source_rows_fails_an_update(db):
    fill_source(db, (1, 'x', 1), (1, 'y', 2))
    with pytest.raises(ExecutionError) as raised:
        merge(db, """
            MERGE INTO target t USING source s ON t.id = s.id
            WHEN MATCHED THEN UPDATE SET v = s.v
            WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)""")
    assert raised.value.message == "Duplicate row detected during DML action"
    assert (raised.value.code, raised.value.sqlstate) == ("100090", "42P18")
    assert rows(db) == [(1, 'a', 10), (2, 'b', 20), (3, 'c', 30)]


def test_failed_merge_leaves_table_and_temp_schema_unchanged_after_rollback(db):
    fill_source(db, (2, 'x', 1), (3, 'del', 1), (3, 'upd', 2), (8, 'new', 8))
    with pytest.raises(TaskshellError):
        merge(db, """
            MERGE INTO target t USING source s ON t.id = s.id
            WHEN MATCHED AND s.v = 'del' THEN DELETE
            WHEN MATCHED THEN UPDATE SET v = s.v
            WHEN NOT MATCHED THEN INSERT (id, v, n) VALUES (s.id, s.v, s.n)""")
    assert rows(db) == [(1, 'a', 10), (2, 'b', 20), (3, 'c', 30)]
    assert temp_tables(db) == []


def test_several_source_rows_may_delete_the_same_target_row(db):
    fill_source(db, (1, 'x', 1), (1, 'y', 2))
    counts = merge(db, """
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN MATCHED THEN DELETE""")
    assert counts == {"deleted": 1}
    assert rows(db) == [(2, 'b', 20), (3, 'c', 30)]


def test_duplicate_source_rows_that_select_no_clause_are_fine(db):
    fill_source(db, (1, 'x', 1), (1, 'ignored', 2))
    counts = merge(db, """
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN MATCHED AND s.n = 1 THEN UPDATE SET v = s.v""")
    assert counts == {"updated": 1}
    assert rows(db)[0] == (1, 'x', 10)


def test_duplicate_source_rows_with_only_insert_clauses_are_fine(db):
    fill_source(db, (1, 'x', 1), (1, 'y', 2), (7, 'p', 7), (7, 'q', 8))
    counts = merge(db, """
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN NOT MATCHED THEN INSERT (id, v, n) VALUES (s.id, s.v, s.n)""")
    assert counts == {"inserted": 2}
    assert rows(db)[-2:] == [(7, 'p', 7), (7, 'q', 8)]


def test_counts_cover_every_kind_of_change(db):
    fill_source(db, (1, 'del', 0), (2, 'upd', 0), (4, 'ins', 0), (5, 'ins', 0))
    counts = merge(db, """
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN MATCHED AND s.v = 'del' THEN DELETE
        WHEN MATCHED THEN UPDATE SET v = s.v
        WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)""")
    assert counts == {"deleted": 1, "updated": 1, "inserted": 2}


def test_each_clause_kind_present_has_a_counted_step():
    node = sqlglot.parse_one("""
        MERGE INTO target t USING source s ON t.id = s.id
        WHEN MATCHED THEN UPDATE SET v = s.v""", read="snowflake")
    kinds = {step.counts_as for step in merge_steps(node, TranslateContext(), to_sqlite)}
    assert kinds == {None, "updated"}


@pytest.mark.parametrize("sql, construct", [
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE ALL BY NAME", "ALL BY NAME"),
    ("MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE", "NOT MATCHED BY SOURCE"),
])
def test_unsupported_forms_are_refused_by_name(sql, construct):
    with pytest.raises(TaskshellError, match=construct):
        merge_steps(sqlglot.parse_one(sql, read="snowflake"), TranslateContext(), to_sqlite)
