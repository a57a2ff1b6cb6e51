"""The fast path runs statements unchanged only where that gives exactly the translator's result."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from taskshell.catalog import functions
from taskshell.translate.context import TranslateContext
from taskshell.translate.fastpath import passthrough
from taskshell.translate.translator import translate, translate_with_sqlglot

CTX = TranslateContext()
ROOT = Path(__file__).resolve().parents[1]

SETUP = (
    "CREATE TABLE t (a INTEGER, b TEXT, c REAL)",
    "INSERT INTO t VALUES (1, 'one', 1.5), (2, 'Two', NULL), (3, NULL, -0.25), (NULL, 'x''y', 10)",
    "CREATE TABLE s (a INTEGER, b TEXT)",
    "INSERT INTO s VALUES (1, 'one'), (3, 'three')",
)

QUERIES = [
    "select 1",
    "SELECT 1, 'a', NULL, TRUE, FALSE, -2.5e1, .5",
    "select * from t",
    "select a, b from t where a > 1 and b is not null",
    "select a from t where not a = 2 or c <= 0",
    "select a + 2 * 3 - c as total from t where c <> 10",
    "select distinct b from t where b like 'T%'",
    "select a from t where a in (1, 3) and c between -1 and 2",
    "select a from t where a not in (select a from s where a is not null)",
    "select b from t where b is distinct from 'one'",
    "select c x, c as y from t, s where c = 1.5 limit 1",
    "select a from t where a is null -- trailing comment",
    "select * from t limit 2 offset 1;",
]

WRITES = [
    ("insert into t values (5, 'five', 5.5), (6, NULL, 0)", "select * from t"),
    ("INSERT INTO t (b, a) VALUES ('seven', 7)", "select * from t"),
    ("insert into s select a, b from t where a >= 2", "select * from s"),
    ("update t set b = 'upd', c = c * 2 where a = 1", "select * from t"),
    ("update t set c = -c", "select * from t"),
    ("delete from t where b is null", "select * from t"),
    ("delete from s", "select * from s"),
]

NOT_FAST = [
    "select 1/2", "select a::int from t", 'select "a" from t', "select count(*) from t",
    "select $1", "select a from t order by a", "select t.a from t", "select * from system.tasks",
    "select current_timestamp", "select a from t qualify a = 1", "select a from t where b ilike 'x'",
    "select a from t where a is 1", "select a = b = c from t", "select (select 1)", "select x'41'",
    "select 0x10", "select 'a\\b'", "select a from t join s using (a)", "select 1; select 2",
    "select a form t", "select 1 +", "insert into t default values", "delete t", "begin", "commit",
    "create table u (a int)", "select a from t where a = 1 /* c */", "select rowid from t",
    "select a from t limit 1 + 1", "select iff(a, 1, 2) from t", "select 'a' || 'b'",
    "select a from t sample (10)", "select * from s with consume",
]


def _db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    functions.install(conn)
    conn.execute("PRAGMA case_sensitive_like=ON")
    for sql in SETUP:
        conn.execute(sql)
    return conn


def _rows(conn: sqlite3.Connection, translation) -> Counter:
    rows = None
    for step in translation.steps:
        cursor = conn.execute(step.sql, step.params)
        if step.returns_rows:
            rows = cursor.fetchall()
    return Counter(rows or [])


@pytest.mark.parametrize("sql", QUERIES)
def test_fast_queries_give_the_translators_rows(sql):
    fast = passthrough(sql)
    assert fast is not None and fast.kind == "select"
    conn = _db()
    assert _rows(conn, fast) == _rows(conn, translate_with_sqlglot(sql, CTX))


@pytest.mark.parametrize(("sql", "check"), WRITES)
def test_fast_writes_leave_the_same_tables(sql, check):
    fast = passthrough(sql)
    assert fast is not None
    slow = translate_with_sqlglot(sql, CTX)
    assert (fast.kind, fast.steps[0].counts_as, fast.tables_written) == (
        slow.kind, slow.steps[-1].counts_as, slow.tables_written)
    fast_db, slow_db = _db(), _db()
    assert fast_db.execute(fast.steps[0].sql).rowcount == slow_db.execute(slow.steps[0].sql).rowcount
    assert Counter(fast_db.execute(check).fetchall()) == Counter(slow_db.execute(check).fetchall())


@pytest.mark.parametrize("sql", NOT_FAST)
def test_statements_needing_translation_do_not_take_the_fast_path(sql):
    assert passthrough(sql) is None


def test_a_table_can_be_vetoed_by_name():
    assert passthrough("select * from s", allow_table=lambda name: name != "s") is None
    assert passthrough("insert into t select a from s", allow_table=lambda name: name != "s") is None
    assert passthrough("select * from t", allow_table=lambda name: name != "s") is not None


def test_simple_statements_do_not_import_sqlglot():
    code = ("import sys; from taskshell.translate.translator import translate; "
            "from taskshell.translate.context import TranslateContext; "
            "translate('select 1', TranslateContext()); "
            "translate(\"insert into t values (1, 'a')\", TranslateContext()); "
            "translate('begin', TranslateContext()); print('sqlglot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "False"


def test_insert_throughput_is_measured():
    statements = [f"INSERT INTO t VALUES ({i}, 'name {i}', {i}.5)" for i in range(10_000)]
    start = time.perf_counter()
    for sql in statements:
        translate(sql, CTX)
    rate = len(statements) / (time.perf_counter() - start)
    print(f"\nfast path: {rate:,.0f} INSERT statements/s through translate()")
    assert all(translate(sql, CTX).steps[0].sql == sql for sql in statements[:3])


def test_literal_inserts_take_the_one_regex_shortcut_with_the_same_answer():
    from taskshell.translate.fastpath import _plain_insert

    taken = ["INSERT INTO readings VALUES (1, 'sensor-1', 0.5)",
             "insert into t (a, b) values (1, 'x'), (2, NULL)",
             "INSERT INTO t VALUES (-5, TRUE, 1e5, .5, 'it''s')"]
    refused = ["INSERT INTO t VALUES (1/2)", "INSERT INTO select VALUES (1)",
               "INSERT INTO t VALUES ('a\\'b')", "INSERT INTO t VALUES (now())",
               "INSERT INTO t SELECT 1", "INSERT INTO t.x VALUES (1)"]
    for sql in taken:
        assert _plain_insert(sql) is not None, sql
        translation = passthrough(sql)
        assert translation is not None and translation.steps[0].sql == sql
        assert translation.kind == "insert" and translation.steps[0].counts_as == "inserted"
    for sql in refused:
        assert _plain_insert(sql) is None, sql
    assert passthrough("INSERT INTO s VALUES (1)", allow_table=lambda name: name != "s") is None
