"""Streams: exact change capture, net-change rules of both dialects, and exactly-once consumption."""

from __future__ import annotations

import sqlite3

import pytest

from taskshell.errors import TaskshellError


def rows(shell, sql: str) -> set[tuple]:
    return {tuple(r) for r in shell(sql).rows}


def delta(shell, stream: str, cols: str = "id, v") -> set[tuple]:
    return rows(shell, f"SELECT {cols}, METADATA$ACTION, METADATA$ISUPDATE FROM {stream}")


def changes(databend, stream: str, cols: str = "a") -> set[tuple]:
    return rows(databend, f"SELECT {cols}, change$action, change$is_update FROM {stream}")


@pytest.fixture
def tracked(shell):
    shell("CREATE TABLE t (id INT, v VARCHAR)")
    shell("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    shell("CREATE STREAM s ON TABLE t")
    shell("CREATE TABLE tgt (id INT, v VARCHAR)")
    return shell


# ---------------------------------------------------------------- SEMANTICS §6 item 8 (Snowflake)
def test_snowflake_net_delta_repeats_consumes_once_and_survives_rollback(tracked):
    shell = tracked
    shell("CREATE STREAM sa ON TABLE t APPEND_ONLY = TRUE")
    shell("UPDATE t SET v = 'x' WHERE id = 1")
    shell("DELETE FROM t WHERE id = 2")
    shell("INSERT INTO t VALUES (3, 'c')")
    shell("UPDATE t SET v = 'd' WHERE id = 3")
    expected = {(1, "a", "DELETE", True), (1, "x", "INSERT", True), (2, "b", "DELETE", False),
                (3, "d", "INSERT", False)}
    assert delta(shell, "s") == expected
    assert delta(shell, "s") == expected  # a SELECT never consumes
    ids = shell.column("SELECT METADATA$ROW_ID FROM s WHERE id = 1", "METADATA$ROW_ID")
    assert len(ids) == 2 and ids[0] == ids[1]  # an update pair shares the row id
    assert delta(shell, "sa") == {(3, "d", "INSERT", False)}

    shell("BEGIN")
    shell("INSERT INTO tgt SELECT id, v FROM s WHERE METADATA$ACTION = 'INSERT'")
    assert delta(shell, "s") == expected  # repeatable inside the transaction
    shell("ROLLBACK")
    assert delta(shell, "s") == expected

    assert shell.rows("INSERT INTO tgt SELECT id, v FROM s WHERE METADATA$ACTION = 'INSERT'") == [(2,)]
    assert rows(shell, "SELECT * FROM tgt") == {(1, "x"), (3, "d")}
    assert delta(shell, "s") == set()
    assert delta(shell, "sa") == {(3, "d", "INSERT", False)}  # another stream keeps its own offset


def test_snowflake_append_only_keeps_rows_inserted_then_deleted(shell):
    shell("CREATE TABLE t (id INT, v VARCHAR)")
    shell("CREATE STREAM sa ON TABLE t APPEND_ONLY = TRUE")
    shell("CREATE STREAM s ON TABLE t")
    shell("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    shell("DELETE FROM t WHERE id = 1")
    assert delta(shell, "sa") == {(1, "a", "INSERT", False), (2, "b", "INSERT", False)}
    assert delta(shell, "s") == {(2, "b", "INSERT", False)}


def test_several_updates_of_an_old_row_give_one_pair(tracked):
    for value in ("x", "y", "z"):
        tracked(f"UPDATE t SET v = '{value}' WHERE id = 1")
    assert delta(tracked, "s") == {(1, "a", "DELETE", True), (1, "z", "INSERT", True)}


def test_snowflake_default_is_standard_and_databend_default_is_append_only(shell, databend):
    for s in (shell, databend):
        s("CREATE TABLE t (a INT)")
        s("CREATE STREAM s ON TABLE t")
    assert shell.column("SHOW STREAMS", "mode") == ["DEFAULT"]
    assert databend.column("SHOW STREAMS", "mode") == ["append_only"]


# ---------------------------------------------------------------- SEMANTICS §6 item 2 (Databend)
def test_standard_versus_append_only_walkthrough(databend):
    db = databend
    for kind, flag in (("standard", "false"), ("append_only", "true")):
        db(f"CREATE TABLE t_{kind} (a INT)")
        db(f"CREATE STREAM s_{kind} ON TABLE t_{kind} APPEND_ONLY = {flag}")
        db(f"CREATE TABLE t_consume_{kind} (a INT)")
    both = ("standard", "append_only")
    for kind in both:
        db(f"INSERT INTO t_{kind} VALUES (2)")
        db(f"INSERT INTO t_{kind} VALUES (3)")
    for kind in both:
        assert changes(db, f"s_{kind}") == {(2, "INSERT", False), (3, "INSERT", False)}
        db(f"UPDATE t_{kind} SET a = 4 WHERE a = 2")
        assert changes(db, f"s_{kind}") == {(4, "INSERT", False), (3, "INSERT", False)}
        db(f"DELETE FROM t_{kind} WHERE a = 4")
        assert changes(db, f"s_{kind}") == {(3, "INSERT", False)}
        db(f"INSERT INTO t_consume_{kind} SELECT a FROM s_{kind}")
        assert rows(db, f"SELECT * FROM t_consume_{kind}") == {(3,)}
        assert changes(db, f"s_{kind}") == set()
        db(f"UPDATE t_{kind} SET a = 4 WHERE a = 3")
    pair = db.rows("SELECT a, change$action, change$is_update, change$row_id FROM s_standard")
    assert {r[:3] for r in pair} == {(3, "DELETE", True), (4, "INSERT", True)}
    assert pair[0][3] == pair[1][3]
    assert changes(db, "s_append_only") == set()
    for kind in both:
        db(f"DELETE FROM t_{kind} WHERE a = 4")
    assert changes(db, "s_standard") == {(3, "DELETE", False)}


# ---------------------------------------------------------------- SEMANTICS §6 item 4 (Databend)
def test_sensor_readings_with_consume(databend):
    db = databend
    db("CREATE TABLE sensor_readings (sensor_id INT, temperature DOUBLE)")
    db("CREATE STREAM sensor_stream ON TABLE sensor_readings")
    db("INSERT INTO sensor_readings VALUES (1, 21.5), (2, 19.7)")
    cols = "sensor_id, temperature"
    assert changes(db, "sensor_stream", cols) == {(1, 21.5, "INSERT", False), (2, 19.7, "INSERT", False)}
    consumed = db("SELECT sensor_id, temperature FROM sensor_stream WITH CONSUME")
    assert {tuple(r) for r in consumed.rows} == {(1, 21.5), (2, 19.7)}
    assert changes(db, "sensor_stream", cols) == set()

    db("CREATE STREAM sensor_standard ON TABLE sensor_readings APPEND_ONLY = false")
    db("DELETE FROM sensor_readings WHERE sensor_id = 1")
    db("INSERT INTO sensor_readings VALUES (1, 22)")
    db("DELETE FROM sensor_readings WHERE sensor_id = 2")
    db("INSERT INTO sensor_readings VALUES (3, 18.5)")
    # the printed documentation shows is_update = true for sensor 1; its own rules say false
    assert changes(db, "sensor_standard", cols) == {
        (1, 21.5, "DELETE", False), (1, 22.0, "INSERT", False), (2, 19.7, "DELETE", False),
        (3, 18.5, "INSERT", False)}
    # and an empty append-only stream; the rules give the two new rows
    assert changes(db, "sensor_stream", cols) == {(1, 22.0, "INSERT", False), (3, 18.5, "INSERT", False)}
    db("SELECT * FROM sensor_standard WITH (CONSUME = TRUE)")
    assert changes(db, "sensor_standard", cols) == set()


def test_databend_standard_stream_hides_updates_that_change_nothing(databend):
    databend("CREATE TABLE t (a INT, b INT)")
    databend("INSERT INTO t VALUES (1, 1)")
    databend("CREATE STREAM s ON TABLE t APPEND_ONLY = false")
    databend("UPDATE t SET b = 1")
    assert changes(databend, "s") == set()


# ---------------------------------------------------------------- SEMANTICS §5.4 (Databend walkthrough)
WALKTHROUGH = """
CREATE TABLE user_activities (user_id INT, activity VARCHAR, timestamp TIMESTAMP);
CREATE TABLE user_profiles (user_id INT, username VARCHAR, location VARCHAR);
INSERT INTO user_profiles VALUES (101, 'Alice', 'New York');
INSERT INTO user_profiles VALUES (102, 'Bob', 'San Francisco');
INSERT INTO user_profiles VALUES (103, 'Charlie', 'Los Angeles');
INSERT INTO user_profiles VALUES (104, 'Dana', 'Chicago');
CREATE TABLE user_activity_profiles (user_id INT, username VARCHAR, location VARCHAR, activity VARCHAR,
    activity_timestamp TIMESTAMP);
CREATE STREAM activities_stream ON TABLE user_activities;
INSERT INTO user_activities VALUES (102, 'logout', '2023-12-19 09:00:00');
INSERT INTO user_activities VALUES (103, 'view_profile', '2023-12-19 09:15:00');
INSERT INTO user_activities VALUES (104, 'edit_profile', '2023-12-19 10:00:00');
INSERT INTO user_activities VALUES (101, 'purchase', '2023-12-19 10:30:00');
INSERT INTO user_activities VALUES (102, 'login', '2023-12-19 11:00:00');
INSERT INTO user_activity_profiles
SELECT a.user_id, p.username, p.location, a.activity, a.timestamp
FROM activities_stream AS a JOIN user_profiles AS p ON a.user_id = p.user_id
WHERE a.change$action = 'INSERT';
"""
TASK = """CREATE TASK user_activity_task WAREHOUSE = 'default' SCHEDULE = 1 MINUTE
WHEN stream_status('activities_stream') AS
INSERT INTO user_activity_profiles
SELECT a.user_id, p.username, p.location, a.activity, a.timestamp
FROM activities_stream AS a JOIN user_profiles AS p ON a.user_id = p.user_id
WHERE a.change$action = 'INSERT'"""
FIVE = {
    (103, "Charlie", "Los Angeles", "view_profile", "2023-12-19 09:15:00"),
    (104, "Dana", "Chicago", "edit_profile", "2023-12-19 10:00:00"),
    (101, "Alice", "New York", "purchase", "2023-12-19 10:30:00"),
    (102, "Bob", "San Francisco", "login", "2023-12-19 11:00:00"),
    (102, "Bob", "San Francisco", "logout", "2023-12-19 09:00:00"),
}


def run_script(shell, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            shell(statement)


def test_databend_walkthrough_and_its_task(databend):
    run_script(databend, WALKTHROUGH)
    assert rows(databend, "SELECT * FROM user_activity_profiles") == FIVE
    assert rows(databend, "SELECT * FROM activities_stream") == set()
    assert rows(databend, "SELECT * FROM STREAM_STATUS('activities_stream')") == {(False,)}
    databend(TASK)
    databend("INSERT INTO user_activities VALUES (104, 'logout', '2023-12-19 12:00:00')")
    assert databend.rows("SELECT has_data FROM STREAM_STATUS('default.activities_stream')") == [(True,)]
    databend("EXECUTE TASK user_activity_task")
    assert len(rows(databend, "SELECT * FROM user_activity_profiles")) == 6
    assert rows(databend, "SELECT * FROM activities_stream") == set()
    databend("EXECUTE TASK user_activity_task")  # WHEN is false now: skipped, nothing added
    assert len(rows(databend, "SELECT * FROM user_activity_profiles")) == 6
    states = databend.column("SELECT state FROM system.task_history ORDER BY scheduled_time", "state")
    assert states[-2:] in (["SUCCEEDED", "SKIPPED"], ["SKIPPED", "SUCCEEDED"])


# ---------------------------------------------------------------- consumption
def test_dml_consumes_even_when_it_writes_nothing(tracked):
    tracked("INSERT INTO t VALUES (3, 'c')")
    tracked("INSERT INTO tgt SELECT id, v FROM s WHERE 1 = 0")
    assert delta(tracked, "s") == set()


def test_failed_statement_consumes_nothing(tracked):
    tracked("INSERT INTO t VALUES (3, 'c')")
    with pytest.raises(TaskshellError):
        tracked("INSERT INTO tgt SELECT id / 0, v FROM s")
    assert delta(tracked, "s") == {(3, "c", "INSERT", False)}


def test_commit_advances_and_a_second_consumer_in_the_transaction_sees_the_same_rows(tracked):
    tracked("INSERT INTO t VALUES (3, 'c')")
    tracked("CREATE TABLE other (id INT)")
    tracked("BEGIN")
    tracked("INSERT INTO tgt SELECT id, v FROM s")
    tracked("INSERT INTO other SELECT id FROM s")
    tracked("COMMIT")
    assert rows(tracked, "SELECT * FROM other") == {(3,)}
    assert delta(tracked, "s") == set()


def test_consuming_statement_that_writes_the_base_table_keeps_its_own_changes(tracked):
    tracked("INSERT INTO t VALUES (3, 'c')")
    tracked("INSERT INTO t SELECT id + 10, v FROM s")
    assert delta(tracked, "s") == {(13, "c", "INSERT", False)}


@pytest.mark.parametrize("statement", [
    "MERGE INTO tgt USING s ON tgt.id = s.id WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)",
    "UPDATE tgt SET v = s.v FROM s WHERE tgt.id = s.id",
    "DELETE FROM tgt USING s WHERE tgt.id = s.id",
    "CREATE TABLE copy AS SELECT id, v FROM s",
])
def test_every_dml_that_reads_a_stream_consumes_it(tracked, statement):
    tracked("INSERT INTO t VALUES (3, 'c')")
    tracked(statement)
    assert delta(tracked, "s") == set()


def test_merge_update_and_delete_use_the_stream_rows(tracked):
    tracked("INSERT INTO tgt VALUES (1, 'old'), (2, 'old')")
    tracked("UPDATE t SET v = 'new' WHERE id = 1")
    tracked("DELETE FROM t WHERE id = 2")
    tracked("""MERGE INTO tgt USING (SELECT * FROM s WHERE METADATA$ACTION = 'INSERT' OR NOT METADATA$ISUPDATE) c
               ON tgt.id = c.id
               WHEN MATCHED AND c.METADATA$ACTION = 'DELETE' THEN DELETE
               WHEN MATCHED THEN UPDATE SET v = c.v
               WHEN NOT MATCHED THEN INSERT (id, v) VALUES (c.id, c.v)""")
    assert rows(tracked, "SELECT * FROM tgt") == {(1, "new")}
    assert delta(tracked, "s") == set()


def test_stream_in_joins_subqueries_and_ctes(tracked):
    tracked("INSERT INTO t VALUES (3, 'c')")
    assert rows(tracked, "WITH c AS (SELECT id FROM s) SELECT count(*) FROM c") == {(1,)}
    assert rows(tracked, "SELECT t.v FROM t JOIN s ON t.id = s.id") == {("c",)}
    assert rows(tracked, "SELECT id FROM t WHERE id IN (SELECT id FROM s)") == {(3,)}


def test_show_initial_rows_returns_existing_rows_once(shell):
    shell("CREATE TABLE t (id INT, v VARCHAR)")
    shell("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    shell("CREATE STREAM s ON TABLE t SHOW_INITIAL_ROWS = TRUE")
    shell("CREATE TABLE tgt (id INT, v VARCHAR)")
    shell("UPDATE t SET v = 'x' WHERE id = 2")
    assert delta(shell, "s") == {(1, "a", "INSERT", False), (2, "x", "INSERT", False)}
    shell("INSERT INTO tgt SELECT id, v FROM s")
    assert delta(shell, "s") == set()
    shell("UPDATE t SET v = 'y' WHERE id = 1")
    assert delta(shell, "s") == {(1, "a", "DELETE", True), (1, "y", "INSERT", True)}


def test_stream_at_another_stream_starts_at_its_offset(tracked):
    tracked("INSERT INTO t VALUES (3, 'c')")
    tracked("CREATE STREAM s2 ON TABLE t AT (STREAM => 's')")
    assert delta(tracked, "s2") == {(3, "c", "INSERT", False)}
    with pytest.raises(TaskshellError, match="only STREAM"):
        tracked("CREATE STREAM s3 ON TABLE t AT (OFFSET => -60)")


def test_a_stream_cannot_be_written(tracked):
    with pytest.raises(TaskshellError, match="read-only"):
        tracked("INSERT INTO s VALUES (1, 'a')")


# ---------------------------------------------------------------- task bodies
def test_task_body_consumes_and_a_failed_run_consumes_nothing(tracked):
    tracked("CREATE TASK copy_changes SCHEDULE = '1 MINUTE' AS INSERT INTO tgt SELECT id, v FROM s")
    tracked("CREATE TASK broken SCHEDULE = '1 MINUTE' AS INSERT INTO tgt SELECT id / 0, v FROM s")
    tracked("INSERT INTO t VALUES (3, 'c')")
    tracked("EXECUTE TASK broken")
    assert delta(tracked, "s") == {(3, "c", "INSERT", False)}
    tracked("EXECUTE TASK copy_changes")
    assert rows(tracked, "SELECT * FROM tgt") == {(3, "c")}
    assert delta(tracked, "s") == set()


def test_when_system_stream_has_data_skips_an_empty_stream(tracked):
    tracked("CREATE TASK copy_changes SCHEDULE = '1 MINUTE' WHEN SYSTEM$STREAM_HAS_DATA('s')"
            " AS INSERT INTO tgt SELECT id, v FROM s")
    tracked("EXECUTE TASK copy_changes")
    assert tracked.column("SELECT STATE FROM TABLE(INFORMATION_SCHEMA.TASK_HISTORY())", "STATE") == ["SKIPPED"]


# ---------------------------------------------------------------- capture, staleness, pruning
def test_writes_of_another_program_are_captured(tracked, tmp_path):
    other = sqlite3.connect(tmp_path / "catalog.db")
    other.execute("INSERT INTO t VALUES (5, 'e')")
    other.execute("UPDATE t SET v = 'z' WHERE id = 2")
    other.commit()
    other.close()
    assert delta(tracked, "s") == {(5, "e", "INSERT", False), (2, "b", "DELETE", True), (2, "z", "INSERT", True)}


def test_stream_on_dropped_or_replaced_table_is_stale(tracked):
    tracked("CREATE OR REPLACE TABLE t (id INT, v VARCHAR)")
    with pytest.raises(TaskshellError, match="stale"):
        tracked("SELECT * FROM s")
    assert tracked.column("SHOW STREAMS", "stale") == ["true"]
    tracked("CREATE OR REPLACE STREAM s ON TABLE t")
    tracked("INSERT INTO t VALUES (9, 'n')")
    assert delta(tracked, "s") == {(9, "n", "INSERT", False)}
    tracked("DROP TABLE t")
    with pytest.raises(TaskshellError, match="stale"):
        tracked("SELECT SYSTEM$STREAM_HAS_DATA('s')")


def test_consumed_changes_are_pruned(tracked):
    tracked("CREATE STREAM s2 ON TABLE t")
    tracked("INSERT INTO t SELECT id + 10, v FROM t")
    log = "SELECT count(*) FROM _ts_log_1"
    assert tracked.rows(log) == [(2,)]
    tracked("INSERT INTO tgt SELECT id, v FROM s")
    assert tracked.rows(log) == [(2,)]  # s2 has not consumed them yet
    tracked("INSERT INTO tgt SELECT id, v FROM s2")
    assert tracked.rows(log)[0][0] <= 1
    tracked("DROP STREAM s")
    tracked("DROP STREAM s2")
    for i in range(5):
        tracked(f"INSERT INTO t VALUES ({i}, 'x')")
    tracked("CREATE STREAM s ON TABLE t")
    assert tracked.rows(log) == [(1,)]


def test_change_tracking_options_track_and_new_columns_follow(shell, databend):
    databend("CREATE TABLE t (a INT) CHANGE_TRACKING = TRUE")
    triggers = "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"
    assert databend.rows(triggers) == [(4,)]
    shell("CREATE TABLE u (a INT)")
    shell("ALTER TABLE u SET CHANGE_TRACKING = TRUE")
    assert shell.rows(triggers) == [(4,)]
    shell("CREATE STREAM s ON TABLE u")
    shell("ALTER TABLE u ADD COLUMN b VARCHAR")
    shell("INSERT INTO u VALUES (1, 'one')")
    shell("UPDATE u SET b = 'uno'")
    assert rows(shell, "SELECT a, b, METADATA$ACTION FROM s") == {(1, "uno", "INSERT")}


def test_a_tracked_table_can_drop_columns_and_its_streams_keep_the_old_values(shell):
    shell("CREATE TABLE t (id INT, b VARCHAR, v INT)")
    shell("CREATE STREAM s ON TABLE t")
    shell("INSERT INTO t VALUES (1, 'x', 10), (2, 'y', 20)")
    shell("CREATE STREAM s2 ON TABLE t")
    shell("UPDATE t SET v = 21 WHERE id = 2")  # s2 logs the old row (2, 'y', 20)
    shell("DELETE FROM t WHERE id = 1")  # and (1, 'x', 10)
    shell("ALTER TABLE t DROP COLUMN b")  # refused before: the capture triggers named the column
    shell("INSERT INTO t VALUES (3, 30)")
    assert shell.rows("SELECT * FROM t ORDER BY id") == [(2, 21), (3, 30)]
    assert delta(shell, "s") == {(2, 21, "INSERT", False), (3, 30, "INSERT", False)}
    assert delta(shell, "s2") == {(1, 10, "DELETE", False), (2, 20, "DELETE", True),
                                  (2, 21, "INSERT", True), (3, 30, "INSERT", False)}
    shell("ALTER TABLE t RENAME COLUMN v TO w")
    shell("ALTER TABLE t DROP COLUMN id")  # a column before the logged ones: they move down
    shell("UPDATE t SET w = 31 WHERE w = 30")
    assert rows(shell, "SELECT w, METADATA$ACTION FROM s2") == {
        (10, "DELETE"), (20, "DELETE"), (21, "INSERT"), (31, "INSERT")}
    assert shell.rows("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'") == [(4,)]


def test_table_ddl_on_a_streams_name_is_refused_clearly(tracked):
    shell = tracked
    for sql, text in [("CREATE TABLE s (a INT)", "Object 'S' already exists."),
                      ("CREATE TABLE s AS SELECT 1 AS x", "Object 'S' already exists."),
                      ("CREATE VIEW s AS SELECT 1 AS x", "Object 'S' already exists."),
                      ("DROP TABLE s", "Table 'S' does not exist or not authorized."),
                      ("ALTER TABLE s ADD COLUMN b INT", "Table 'S' does not exist or not authorized.")]:
        with pytest.raises(TaskshellError) as caught:
            shell(sql)
        assert text in str(caught.value), sql
    shell("DROP TABLE IF EXISTS s")  # no such table: nothing to do
    shell("INSERT INTO t VALUES (3, 'c')")
    assert delta(shell, "s") == {(3, "c", "INSERT", False)}  # the stream is untouched


def test_a_read_that_fails_leaves_no_window_behind(tmp_path):
    # session A's SELECT from the stream fails part-way; B consumes; A's next transaction must read
    # what is new since, not A's old window again (that consumed the same changes twice)
    from tests.conftest import Shell

    a, b = Shell(tmp_path / "c.db"), Shell(tmp_path / "c.db")
    try:
        a("CREATE TABLE t (id INT)")
        a("CREATE TABLE tgt (who VARCHAR, id INT)")
        a("CREATE STREAM s ON TABLE t")
        a("CREATE STREAM keep ON TABLE t")  # never consumed: the log keeps every change
        a("INSERT INTO t VALUES (1), (2)")
        with pytest.raises(TaskshellError):
            a("SELECT 1 / (id - id) FROM s")
        b("INSERT INTO tgt SELECT 'B', id FROM s")
        a("INSERT INTO t VALUES (3)")
        a("BEGIN")
        a("INSERT INTO tgt SELECT 'A', id FROM s")
        a("COMMIT")
        assert sorted(a.rows("SELECT who, id FROM tgt")) == [("A", 3), ("B", 1), ("B", 2)]
    finally:
        a.close()
        b.close()


def test_a_task_body_that_fails_reading_a_stream_leaves_no_window_behind(tracked):
    shell = tracked
    shell("CREATE TASK peek AS SELECT 1 / (id - id) FROM s")
    shell("INSERT INTO t VALUES (3, 'c')")
    shell("EXECUTE TASK peek")  # fails on a runner connection after pinning s's window
    pinned = []
    for conn, _, _ in shell.interpreter.executor.runner._idle:
        if conn.execute("SELECT 1 FROM sqlite_temp_master WHERE name = '_ts_stream_pins'").fetchone():
            pinned += conn.execute("SELECT stream_id FROM temp._ts_stream_pins").fetchall()
    assert pinned == []  # a later run on that connection would read the old window again


def test_a_cte_named_like_a_stream_stands_for_itself(tracked):
    shell = tracked
    assert shell.rows("WITH s AS (SELECT 99 AS id) SELECT id FROM s") == [(99,)]
    shell("INSERT INTO tgt WITH s AS (SELECT 42 AS id, 'x' AS v) SELECT id, v FROM s")
    assert shell.rows("SELECT id, v FROM tgt") == [(42, "x")]


def test_or_replace_may_start_a_stream_at_the_stream_it_replaces(tracked):
    shell = tracked
    shell("INSERT INTO t VALUES (3, 'c')")
    shell("CREATE OR REPLACE STREAM s ON TABLE t AT (STREAM => 's')")
    assert delta(shell, "s") == {(3, "c", "INSERT", False)}


# ---------------------------------------------------------------- DDL and listings
def test_stream_ddl_statuses_and_errors(tracked):
    assert tracked.rows("CREATE STREAM IF NOT EXISTS s ON TABLE t") == [("S already exists, statement succeeded.",)]
    with pytest.raises(TaskshellError, match="already exists"):
        tracked("CREATE STREAM s ON TABLE t")
    with pytest.raises(TaskshellError, match="Table 'NOPE' does not exist"):
        tracked("CREATE STREAM n ON TABLE nope")
    assert tracked.rows("DROP STREAM s") == [("S successfully dropped.",)]
    with pytest.raises(TaskshellError, match="Stream 'S' does not exist"):
        tracked("DROP STREAM s")
    assert "already dropped" in tracked.rows("DROP STREAM IF EXISTS s")[0][0]


def test_show_and_describe_in_both_dialects(tracked, databend):
    tracked("CREATE STREAM other ON TABLE t APPEND_ONLY = TRUE COMMENT = 'c'")
    assert tracked.column("SHOW STREAMS LIKE 'o%'", "name") == ["OTHER"]
    assert tracked.column("DESC STREAM other", "comment") == ["c"]
    assert tracked("SHOW TERSE STREAMS").columns == ("created_on", "name", "kind", "database_name", "schema_name")
    databend("CREATE TABLE t (a INT)")
    databend("CREATE STREAM s ON TABLE t")
    assert databend.rows("SHOW STREAMS") == [("s", "default.t", "append_only")]
    assert databend("SHOW STREAMS").columns == ("Streams_in_default", "table_on", "mode")
    full = databend("SHOW FULL STREAMS")
    assert full.columns == ("created_on", "name", "database", "catalog", "table_on", "owner", "comment", "mode",
                            "invalid_reason", "has_data")
    assert databend("DESC STREAM s").columns == full.columns
    assert databend.column("SELECT * FROM system.streams", "has_data") == [False]
