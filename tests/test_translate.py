"""Snowflake SQL in, rows out: every translation is run on a real SQLite connection."""

from __future__ import annotations

import importlib.util
import sqlite3
from datetime import UTC, datetime

import pytest

from taskshell.catalog import functions
from taskshell.errors import CompilationError, ExecutionError, ParseError, TaskshellError
from taskshell.translate import rewrites, system_relations
from taskshell.translate.context import TranslateContext
from taskshell.translate.translator import epoch_us, translate, translate_with_sqlglot

NOW = datetime(2026, 11, 1, 8, 30, 15, 123456, tzinfo=UTC)  # 01:30:15.123 in Los Angeles
CTX = TranslateContext(now=NOW, timezone="America/Los_Angeles")
DATABEND = TranslateContext(now=NOW, dialect="databend", database="default")


@pytest.fixture
def db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    functions.install(conn)
    conn.execute("PRAGMA case_sensitive_like=ON")
    conn.create_function("ts_format", 1, lambda us: None if us is None else f"us:{us}")
    conn.execute("CREATE TABLE _ts_tables (name TEXT PRIMARY KEY COLLATE NOCASE, created_on INTEGER, "
                 "owner TEXT, comment TEXT)")
    # CHANGE_TRACKING = TRUE records a tracking request here (the interpreter installs the triggers)
    conn.execute("CREATE TABLE _ts_tracked (gen INTEGER PRIMARY KEY, table_name TEXT, explicit INTEGER, "
                 "created_on INTEGER)")
    return conn


def run(conn: sqlite3.Connection, sql: str, ctx: TranslateContext = CTX) -> list[tuple] | None:
    """Translate and execute like the interpreter does; the rows of the last row-returning step."""
    rows = None
    for step in translate(sql, ctx).steps:
        try:
            cursor = conn.execute(step.sql, step.params)
            if step.returns_rows:
                rows = cursor.fetchall()
        except sqlite3.Error as exc:
            raise functions.translate_sqlite_error(exc) from None
    return rows


def one(conn: sqlite3.Connection, sql: str, ctx: TranslateContext = CTX) -> tuple:
    rows = run(conn, sql, ctx)
    assert rows is not None and len(rows) == 1
    return rows[0]


def script(conn: sqlite3.Connection, *statements: str, ctx: TranslateContext = CTX) -> None:
    for sql in statements:
        run(conn, sql, ctx)


# ---------------------------------------------------------------- division
def test_integer_division_keeps_six_decimals(db):
    assert one(db, "select 1/3, 10/4, 2/2") == (0.333333, 2.5, 1.0)


def test_a_float_operand_gives_a_float(db):
    assert one(db, "select 1.0/3, 3/0.5") == (1 / 3, 6.0)


def test_nested_divisions_are_all_snowflake_divisions(db):
    assert one(db, "select 1/2/4, (7/2)/(1/4)") == (0.125, 14.0)


def test_division_by_zero_fails_with_its_operands(db):
    with pytest.raises(ExecutionError) as err:
        run(db, "select 1/0")
    assert err.value.code == "1006"
    assert err.value.message == "divided by zero while evaluating function `divide(1, 0)`"


def test_division_by_zero_in_a_column_shows_the_values(db):
    script(db, "create table t (a int, b int)", "insert into t values (7, 0)")
    with pytest.raises(ExecutionError, match=r"`divide\(7, 0\)`"):
        run(db, "select a / b from t")


def test_null_operands_divide_to_null(db):
    assert one(db, "select null/0, 1/null") == (None, None)


# ---------------------------------------------------------------- expressions
def test_qualify_keeps_the_first_row_of_each_group(db):
    script(db, "create table t (g string, v int)", "insert into t values ('a', 1), ('a', 2), ('b', 3)")
    rows = run(db, "select g, v from t qualify row_number() over (partition by g order by v desc) = 1 order by g")
    assert rows == [("a", 2), ("b", 3)]


def test_qualify_with_select_star_is_refused(db):
    with pytest.raises(CompilationError, match="QUALIFY with SELECT"):
        translate("select * from t qualify row_number() over (order by a) = 1", CTX)


def test_ilike_ignores_case_and_like_does_not(db):
    script(db, "create table t (name string)", "insert into t values ('Alice'), ('alfred'), ('Bob')")
    assert run(db, "select name from t where name ilike 'al%' order by name") == [("Alice",), ("alfred",)]
    assert run(db, "select name from t where name like 'al%'") == [("alfred",)]


def test_iff_and_the_null_functions(db):
    assert one(db, "select iff(2 > 1, 'yes', 'no'), iff(null, 1, 2), nvl(null, 'n'), ifnull(null, 'i'), "
                   "coalesce(null, null, 'c'), nvl2(1, 'set', 'unset')") == ("yes", 2, "n", "i", "c", "set")


def test_concat_and_pipes_are_null_if_any_part_is(db):
    assert one(db, "select concat('a', 1, 'b'), 'x' || 2, concat('a', null)") == ("a1b", "x2", None)


def test_casts_follow_snowflake(db):
    row = one(db, "select '1.5'::int, cast('2.346' as number(10,2)), try_cast('abc' as int), 2.0::string, "
                  "'yes'::boolean, '2024-01-02 10:00:00'::date, '2024-01-02'::timestamp_ntz, "
                  "to_varchar(3), to_number('12'), to_double('1.5'), to_boolean('off')")
    assert row == (2, 2.35, None, "2", 1, "2024-01-02", "2024-01-02 00:00:00", "3", 12, 1.5, 0)


def test_a_bad_numeric_cast_fails(db):
    with pytest.raises(ExecutionError) as err:
        run(db, "select 'abc'::int")
    assert err.value.code == "100038"
    assert err.value.message == "Numeric value 'abc' is not recognized"


def test_to_varchar_with_a_date_format(db):
    assert one(db, "select to_varchar('2024-03-05 14:07:09.25'::timestamp, 'DD/MM/YYYY HH24:MI:SS.FF3'), "
                   "to_char('2024-03-05', 'MON DD, YYYY')") == ("05/03/2024 14:07:09.250", "Mar 05, 2024")


def test_dateadd_keeps_the_time_of_day(db):
    row = one(db, "select dateadd(day, 1, '2024-01-31 10:30:00'), dateadd('hour', 2, '2024-01-31 23:15:00'), "
                  "timestampadd(minute, 5, '2024-01-01 00:00:00.000'), dateadd(day, -1, '2024-03-01')")
    assert row == ("2024-02-01 10:30:00", "2024-02-01 01:15:00", "2024-01-01 00:05:00.000", "2024-02-29")


def test_dateadd_months_clamp_to_the_month_end(db):
    assert one(db, "select dateadd(month, 1, '2024-01-31'), dateadd(year, 1, '2024-02-29')") == (
        "2024-02-29", "2025-02-28")


def test_datediff_counts_unit_boundaries(db):
    row = one(db, "select datediff(day, '2024-01-01 23:00', '2024-01-02 01:00'), "
                  "datediff(hour, '2024-01-01 10:59', '2024-01-01 11:01'), "
                  "timestampdiff(second, '2024-01-01 00:00:00', '2024-01-01 00:01:00'), "
                  "datediff(month, '2024-01-31', '2024-02-01'), datediff(year, '2024-12-31', '2023-01-01')")
    assert row == (1, 1, 60, 1, -1)


def test_interval_arithmetic(db):
    assert one(db, "select '2024-01-01 10:00:00'::timestamp + interval '90 minutes', "
                   "'2024-01-10'::date - interval '1 week'") == ("2024-01-01 11:30:00", "2024-01-03")


def test_current_timestamp_is_the_session_instant_in_its_zone(db):
    row = one(db, "select current_timestamp, current_timestamp(), sysdate(), getdate(), now(), localtimestamp")
    assert set(row) == {"2026-11-01 01:30:15.123"}
    assert one(db, "select current_date, current_date(), current_time") == ("2026-11-01", "2026-11-01", "01:30:15")


def test_session_functions_fold_to_the_context(db):
    assert one(db, "select current_role(), current_database(), current_schema()") == (
        "ACCOUNTADMIN", "TASKSHELL", "PUBLIC")


def test_system_functions_call_the_session_function_lower_case(db):
    db.create_function("system$wait", 1, lambda n: f"waited {n} seconds")
    assert one(db, "select SYSTEM$WAIT(10)") == ("waited 10 seconds",)
    assert '"system$wait"(10)' in translate("select system$wait(10)", CTX).steps[0].sql


def test_names_qualified_with_the_session_schema_are_local(db):
    script(db, "create table t (a int)", "insert into t values (1)")
    assert run(db, "select a from taskshell.public.t") == [(1,)]


# ---------------------------------------------------------------- DDL
def test_create_table_keeps_string_values_as_text(db):
    script(db, "create table t (code string, n number(38,0), amount number(10,2), ts timestamp_ntz, v variant)",
           "insert into t values ('007', '12', '1.50', '2024', '{\"a\": 1}')")
    assert run(db, "select code, n, amount, ts, v from t") == [("007", 12, 1.5, "2024", '{"a": 1}')]


def test_create_table_status_and_catalog_row(db):
    translation = translate("create table orders (id int) comment = 'daily'", CTX)
    assert translation.kind == "create_table"
    assert translation.status == "Table ORDERS successfully created."
    run(db, "create table orders (id int) comment = 'daily'")
    assert db.execute("select name, created_on, owner, comment from _ts_tables").fetchall() == [
        ("orders", epoch_us(NOW), "ACCOUNTADMIN", "daily")]


def test_databend_keeps_the_name_as_written_and_accepts_change_tracking(db):
    translation = translate("CREATE TABLE user_activities(user_id INT, activity VARCHAR, timestamp TIMESTAMP) "
                            "CHANGE_TRACKING = TRUE", DATABEND)
    assert translation.status == "Table user_activities successfully created."
    run(db, "CREATE TABLE user_activities(user_id INT, activity VARCHAR, timestamp TIMESTAMP) CHANGE_TRACKING = TRUE")
    run(db, "ALTER TABLE user_activities SET OPTIONS (change_tracking = true)", DATABEND)
    run(db, "insert into user_activities values (102, 'logout', '2023-12-19 09:00:00')", DATABEND)
    assert run(db, "select * from user_activities") == [(102, "logout", "2023-12-19 09:00:00")]


def test_create_or_replace_starts_empty(db):
    script(db, "create table t (a int)", "insert into t values (1)", "create or replace table t (a int, b string)")
    assert run(db, "select * from t") == []


def test_create_if_not_exists_keeps_the_table(db):
    script(db, "create table t (a int)", "insert into t values (1)", "create table if not exists t (a int)")
    assert run(db, "select * from t") == [(1,)]


def test_primary_keys_are_informational_but_not_null(db):
    script(db, "create table t (id int primary key, b int unique)", "insert into t values (1, 1), (1, 1)")
    assert run(db, "select count(*) from t") == [(2,)]
    with pytest.raises(ExecutionError, match="NULL result in a non-nullable column"):
        run(db, "insert into t values (null, 2)")


def test_ctas_copies_rows_and_counts_as_ctas(db):
    script(db, "create table t (a int, b string)", "insert into t values (1, 'x'), (2, 'y')")
    translation = translate("create table t2 as select a * 2 as d, b from t", CTX)
    assert (translation.kind, translation.status) == ("ctas", "Table T2 successfully created.")
    run(db, "create table t2 as select a * 2 as d, b from t")
    assert run(db, "select * from t2 order by d") == [(2, "x"), (4, "y")]
    run(db, "create or replace table t3 (code string) as select '007'")
    assert run(db, "select code from t3") == [("007",)]


def test_drop_table_status_and_catalog_row(db):
    script(db, "create table t (a int)")
    translation = translate("drop table t", CTX)
    assert (translation.kind, translation.status) == ("drop_table", "T successfully dropped.")
    run(db, "drop table t")
    assert db.execute("select count(*) from _ts_tables").fetchone() == (0,)
    run(db, "drop table if exists t")
    with pytest.raises(CompilationError, match="Object 'T' does not exist or not authorized."):
        run(db, "drop table t")


def test_alter_table_add_column_and_rename(db):
    script(db, "create table t (a int)", "alter table t add column b string", "insert into t values (1, '01')",
           "alter table t rename to u")
    assert run(db, "select a, b from u") == [(1, "01")]
    assert db.execute("select name from _ts_tables").fetchall() == [("u",)]


def test_views_translate_their_query_and_refuse_frozen_values(db):
    script(db, "create table t (a int)", "insert into t values (1)", "create or replace view v as select a / 2 as h from t")
    assert run(db, "select h from v") == [(0.5,)]
    assert translate("create view w as select 1", CTX).status == "View W successfully created."
    with pytest.raises(CompilationError, match="CURRENT_TIMESTAMP.* inside a view definition"):
        translate("create view w as select current_timestamp", CTX)


# ---------------------------------------------------------------- DML
def test_update_from_another_table(db):
    script(db, "create table t (id int, name string)", "insert into t values (1, 'a'), (2, 'b')",
           "create table s (id int, name string)", "insert into s values (1, 'A')")
    translation = translate("update t set t.name = s.name from s where t.id = s.id", CTX)
    assert (translation.kind, translation.steps[0].counts_as) == ("update", "updated")
    run(db, "update t set t.name = s.name from s where t.id = s.id")
    assert run(db, "select id, name from t order by id") == [(1, "A"), (2, "b")]


def test_delete_using_deletes_the_joined_rows(db):
    script(db, "create table t (id int)", "insert into t values (1), (2), (3)",
           "create table s (id int)", "insert into s values (1), (3)")
    translation = translate("delete from t using s where t.id = s.id", CTX)
    assert (translation.kind, translation.steps[0].counts_as) == ("delete", "deleted")
    run(db, "delete from t as x using s where x.id = s.id")
    assert run(db, "select id from t") == [(2,)]


def test_insert_counts_and_overwrite(db):
    script(db, "create table t (a int)", "insert into t values (1)")
    translation = translate("insert overwrite into t select 5", CTX)
    assert translation.kind == "insert" and translation.steps[-1].counts_as == "inserted"
    run(db, "insert overwrite into t select 5")
    assert run(db, "select a from t") == [(5,)]


def test_not_in_and_any_subqueries(db):
    script(db, "create table t (a int)", "insert into t values (1), (2), (3)",
           "create table s (a int)", "insert into s values (1), (3)")
    assert run(db, "select a from t where a not in (select a from s) order by a") == [(2,)]
    assert run(db, "select a from t where a = any (select a from s) order by a") == [(1,), (3,)]
    with pytest.raises(CompilationError, match="comparison with ALL"):
        translate("select a from t where a > all (select a from s)", CTX)


def test_order_by_puts_nulls_last_like_snowflake(db):
    script(db, "create table t (a int)", "insert into t values (2), (null), (1)")
    assert run(db, "select a from t order by a") == [(1,), (2,), (None,)]


@pytest.mark.skipif(importlib.util.find_spec("taskshell.translate.merge") is None, reason="MERGE not there yet")
def test_merge_updates_and_inserts(db):
    script(db, "create table t (id int, v string)", "insert into t values (1, 'a'), (2, 'b')",
           "create table s (id int, v string)", "insert into s values (1, 'x'), (3, 'c')")
    sql = ("merge into t using s on t.id = s.id when matched then update set v = s.v || '!' "
           "when not matched then insert (id, v) values (s.id, s.v / 1)")
    assert translate(sql, CTX).kind == "merge"
    with pytest.raises(ExecutionError, match="Numeric value 'c'"):
        run(db, sql)
    run(db, sql.replace("s.v / 1", "s.v"))
    assert run(db, "select id, v from t order by id") == [(1, "x!"), (2, "b"), (3, "c")]


# ---------------------------------------------------------------- SHOW, DESCRIBE, transactions
def test_show_tables_hides_catalog_tables(db):
    script(db, "create table orders (a int) comment = 'c'", "create table items (a int)")
    db.execute("create table _ts_secret (x)")
    rows = run(db, "show tables")
    assert [r[1] for r in rows] == ["ITEMS", "ORDERS"]
    assert rows[1] == (f"us:{epoch_us(NOW)}", "ORDERS", "TASKSHELL", "PUBLIC", "TABLE", "c", "ACCOUNTADMIN")
    assert [r[1] for r in run(db, "show tables like 'ORD%'")] == ["ORDERS"]


def test_show_tables_in_databend_has_one_column(db):
    script(db, "create table orders (a int)", ctx=DATABEND)
    cursor = db.execute(translate("show tables", DATABEND).steps[0].sql)
    assert [d[0] for d in cursor.description] == ["Tables_in_default"]
    assert cursor.fetchall() == [("orders",)]


def test_describe_table_lists_columns(db):
    run(db, "create table t (id int not null, name string, ts timestamp_ntz, amount number(10,2))")
    for sql in ("desc table t", "describe table t", "describe t"):
        assert run(db, sql) == [
            ("ID", "INT", "COLUMN", "N", None, "N"), ("NAME", "TEXT", "COLUMN", "Y", None, "N"),
            ("TS", "TIMESTAMP_NTZ", "COLUMN", "Y", None, "N"), ("AMOUNT", "NUMBER(10, 2)", "COLUMN", "Y", None, "N")]
    with pytest.raises(CompilationError) as err:
        run(db, "desc table nope")
    assert (err.value.code, err.value.message) == ("002003", "Table 'NOPE' does not exist or not authorized.")


@pytest.mark.parametrize(("sql", "kind"), [("begin", "begin"), ("BEGIN TRANSACTION;", "begin"),
                                           ("start transaction", "begin"), ("commit", "commit"),
                                           ("rollback", "rollback")])
def test_transaction_control_has_no_steps(sql, kind):
    translation = translate(sql, CTX)
    assert (translation.kind, translation.steps) == (kind, ())


# ---------------------------------------------------------------- system relations
@pytest.fixture
def relations(monkeypatch) -> list:
    calls = []

    def fake(name, named, positional, ctx):
        calls.append((name, named, positional))
        return "SELECT 'run' AS state, 1 AS n"

    monkeypatch.setattr(system_relations, "relation_sql", fake)
    return calls


@pytest.mark.parametrize("sql", [
    "select * from table(information_schema.task_history(task_name => 'T1', result_limit => 5)) h",
    "select * from table(task_history(TASK_NAME => 'T1', RESULT_LIMIT => 5)) as h",
    "select * from information_schema.task_history(task_name=>'T1', result_limit=>5) h",
    "select * from task_history(task_name => 'T1', result_limit => 5) h",
])
def test_task_history_forms_become_one_subquery(db, relations, sql):
    assert run(db, sql.replace("*", "h.state, n")) == [("run", 1)]
    assert relations == [("task_history", {"TASK_NAME": "T1", "RESULT_LIMIT": 5}, [])]


def test_relation_arguments_are_evaluated(db, relations):
    run(db, "select * from table(task_history(scheduled_time_range_start => "
            "dateadd('hour', -1, current_timestamp()), error_only => true))")
    assert relations == [("task_history", {"SCHEDULED_TIME_RANGE_START": "2026-11-01 00:30:15.123",
                                           "ERROR_ONLY": True}, [])]


def test_databend_relations_keep_positional_arguments_and_short_names(db, relations):
    assert run(db, "select task_history.state from task_history('mytask', 5)", DATABEND) == [("run",)]
    assert run(db, "select tasks.n from system.tasks", DATABEND) == [(1,)]
    assert run(db, "select d.n from task_dependents(task_name => 'c', recursive => false) d") == [(1,)]
    assert relations == [("task_history", {}, ["mytask", 5]), ("system.tasks", {}, []),
                         ("task_dependents", {"TASK_NAME": "c", "RECURSIVE": False}, [])]


def test_stream_seam_leaves_tables_alone():
    from sqlglot import exp

    table = exp.to_table("t")
    assert rewrites.stream_reference(table, CTX) is table


# ---------------------------------------------------------------- refusals and errors
@pytest.mark.parametrize(("sql", "construct"), [
    ("select * from t pivot (sum(a) for b in ('x', 'y'))", "PIVOT"),
    ("select * from t unpivot (v for k in (a, b))", "UNPIVOT"),
    ("select f.value from t, lateral flatten(input => t.v) f", "FLATTEN"),
    ("select * from table(flatten(input => parse_json('[1]')))", "FLATTEN"),
    ("copy into t from @stage", "COPY INTO"),
    ("call my_proc()", "CALL"),
    ("create procedure p() returns int language sql as $$ begin return 1; end $$", "CREATE PROCEDURE"),
    ("create temporary table t (a int)", "TEMPORARY"),
    ("create table t (id int autoincrement)", "AUTOINCREMENT"),
    ("create table t (ts timestamp default current_timestamp())", "DEFAULT CURRENT_TIMESTAMP"),
    ("select * from t at(offset => -60)", "AT/BEFORE"),
    ("select * from t sample (10)", "SAMPLE"),
    ("select v:a from t", "semi-structured"),
    ("select * from s with consume", "not a stream"),
    ("select * from table(generator(rowcount => 3))", "table function GENERATOR"),
])
def test_untranslatable_sql_is_refused_naming_the_construct(sql, construct):
    with pytest.raises(CompilationError) as err:
        translate(sql, CTX)
    assert err.value.message.startswith("Unsupported SQL: ")
    assert construct in err.value.message


@pytest.mark.parametrize(("sql", "line", "position", "token"), [
    ("select a form t", 1, 14, "t"),
    ("select 1 +", 1, 9, "+"),
    ("select a\nfrom t where", 2, 7, "where"),
])
def test_parse_errors_say_where(sql, line, position, token):
    with pytest.raises(ParseError) as err:
        translate(sql, CTX)
    assert err.value.message == f"syntax error line {line} at position {position} unexpected '{token}'."
    assert err.value.position == (line, position + 1)


def test_an_unterminated_string_is_a_parse_error():
    with pytest.raises(ParseError, match="unexpected '<EOF>'"):
        translate("select 'abc", CTX)


def test_one_statement_at_a_time():
    with pytest.raises(CompilationError, match="Multiple SQL statements"):
        translate_with_sqlglot("select 1; select 2", CTX)


def test_sqlite_errors_read_like_snowflake(db):
    with pytest.raises(CompilationError) as err:
        run(db, "select * from nope")
    assert (err.value.code, err.value.message) == ("002003", "Object 'NOPE' does not exist or not authorized.")
    run(db, "create table t (a int)")
    with pytest.raises(CompilationError, match="invalid identifier 'NOCOL'"):
        run(db, "select nocol from t")
    with pytest.raises(CompilationError, match="Unknown function"):
        run(db, "select no_such_function(1)")


def test_a_udf_error_is_kept_with_its_code_then_cleared(db):
    with pytest.raises(sqlite3.OperationalError) as raw:
        db.execute("select ts_div(1, 0)")
    error = functions.translate_sqlite_error(raw.value)
    assert isinstance(error, TaskshellError) and error.code == "1006"
    assert functions.take_pending_error() is None


# ---------------------------------------------------------------- each rewrite on its own
def _one_rewrite(rewrite, sql: str) -> str:
    import sqlglot

    return rewrites.to_sqlite(rewrites.apply_bottom_up(sqlglot.parse_one(sql, read="snowflake"), rewrite))


@pytest.mark.parametrize(("rewrite", "sql", "expected"), [
    (rewrites.division_to_ts_div, "select a / b / 2", "SELECT ts_div(ts_div(a, b), 2)"),
    (rewrites.ilike_to_lower_like, "select a ilike 'X%'", "SELECT LOWER(a) LIKE LOWER('X%')"),
    (rewrites.iff_to_case, "select iff(a, 1, 2)", "SELECT CASE WHEN a THEN 1 ELSE 2 END"),
    (rewrites.quantified_comparisons, "select 1 from t where a not in (select b from s)",
     "SELECT 1 FROM t WHERE NOT (a IN (SELECT b FROM s))"),
    (rewrites.date_arithmetic, "select dateadd(hour, 2, ts), datediff(day, a, b)",
     "SELECT ts_dateadd('hour', 2, ts), ts_datediff('day', a, b)"),
    (rewrites.casts_to_ts_cast, "select a::number(10,2), try_cast(b as date)",
     "SELECT ts_cast(a, 'number:2', 1), ts_cast(b, 'date', 0)"),
    (rewrites.system_functions, "select SYSTEM$STREAM_HAS_DATA('s')", "SELECT \"system$stream_has_data\"('s')"),
    (rewrites.update_targets_unqualified, "update t set t.a = 1", "UPDATE t SET a = 1"),
    (rewrites.delete_using_to_rowid, "delete from t using s where t.id = s.id",
     "DELETE FROM t WHERE rowid IN (SELECT t.rowid FROM t, s WHERE t.id = s.id)"),
    (lambda n: rewrites.fold_session_values(n, CTX), "select current_date, current_role()",
     "SELECT '2026-11-01', 'ACCOUNTADMIN'"),
    (lambda n: rewrites.strip_session_qualifiers(n, CTX), "select * from taskshell.public.t, other.t",
     "SELECT * FROM t, other.t"),
])
def test_each_rewrite_alone(rewrite, sql, expected):
    assert _one_rewrite(rewrite, sql) == expected


def test_types_keep_the_affinity_snowflake_means():
    import sqlglot

    from taskshell.translate import types

    def declared(name: str) -> str:
        return types.declared_type(sqlglot.exp.DataType.build(name, dialect="snowflake"))

    assert [declared(n) for n in ("string", "varchar(10)", "int", "number(38,0)", "number(10,2)", "float",
                                  "boolean", "timestamp_ntz(9)", "date", "variant", "binary")] == [
        "TEXT", "VARCHAR(10)", "INT", "INTEGER", "NUMBER(10, 2)", "DOUBLE", "BOOLEAN",
        "TIMESTAMP_NTZ TEXT", "DATE TEXT", "VARIANT TEXT", "BINARY BLOB"]
    assert types.user_type("TIMESTAMP_NTZ TEXT") == "TIMESTAMP_NTZ"
