"""The scheduler on the virtual clock: schedules, cron and daylight saving, overlaps, WHEN, failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskshell.errors import TaskshellError
from taskshell.scheduler import events
from taskshell.scheduler.scheduler import Scheduler
from tests.conftest import Shell


class Scheduled(Shell):
    """A shell whose process runs the scheduler, as `taskshell --clock …` does."""

    def __init__(self, path: Path, start: str = "2026-11-01T00:00:00-07:00", dialect: str = "snowflake") -> None:
        super().__init__(path, dialect=dialect, start=start)
        self.scheduler = Scheduler(self.catalog, self.clock, dialect=dialect,
                                   timezone=self.interpreter.session.timezone)
        self.scheduler.start()
        self.interpreter.attach_scheduler(self.scheduler)

    def wait(self, seconds: float) -> None:
        self(f"SELECT SYSTEM$WAIT({seconds})")

    def history(self, columns: str = "NAME, STATE, SCHEDULED_TIME", where: str = "STATE != 'SCHEDULED'") -> list[tuple]:
        # TASK_HISTORY lists the latest first; oldest first reads better here
        return self.rows(f"SELECT {columns} FROM TABLE(TASK_HISTORY(RESULT_LIMIT => 1000)) WHERE {where}")[::-1]

    def close(self) -> None:
        self.scheduler.stop()
        super().close()


@pytest.fixture
def sched(tmp_path: Path):
    shell = Scheduled(tmp_path / "catalog.db")
    yield shell
    shell.close()


def at_zone(tmp_path: Path, start: str) -> Scheduled:
    shell = Scheduled(tmp_path / f"cron-{start[:10]}.db", start=start)
    shell("ALTER SESSION SET TIMEZONE = 'UTC'")
    return shell


# ---------------------------------------------------------------- intervals
def test_interval_fires_at_resume_time_plus_multiples(sched):
    sched("CREATE TASK tick SCHEDULE = '1 MINUTE' AS SELECT 1")
    sched.wait(30)
    sched("ALTER TASK tick RESUME")
    sched.wait(200)
    assert sched.history("SCHEDULED_TIME, QUERY_START_TIME") == [
        ("2026-11-01 00:01:30.000 -0700", "2026-11-01 00:01:30.000 -0700"),
        ("2026-11-01 00:02:30.000 -0700", "2026-11-01 00:02:30.000 -0700"),
        ("2026-11-01 00:03:30.000 -0700", "2026-11-01 00:03:30.000 -0700"),
    ]


def test_databend_seconds_and_milliseconds(tmp_path):
    shell = Scheduled(tmp_path / "db.db", start="2026-11-01T00:00:00Z", dialect="databend")
    try:
        shell("CREATE TASK fast SCHEDULE = 500 MILLISECOND AS SELECT 1")
        shell("CREATE TASK slow SCHEDULE = 2 SECOND AS SELECT 1")
        shell("ALTER TASK fast RESUME")
        shell("ALTER TASK slow RESUME")
        shell.wait(2)
        names = [r[0] for r in shell.rows("SELECT name FROM system.task_history WHERE state = 'SUCCEEDED'")]
        assert names.count("fast") == 4 and names.count("slow") == 1
    finally:
        shell.close()


def test_suspend_stops_future_runs_but_the_run_in_progress_finishes(sched):
    sched("CREATE TASK slow SCHEDULE = '1 MINUTE' AS SELECT SYSTEM$WAIT(30)")
    sched("ALTER TASK slow RESUME")
    sched.wait(70)
    assert sched.history("STATE") == [("EXECUTING",)]
    sched("ALTER TASK slow SUSPEND")
    sched.wait(300)
    assert sched.history("STATE, COMPLETED_TIME") == [("SUCCEEDED", "2026-11-01 00:01:30.000 -0700")]


def test_no_back_fill_of_fire_times_missed_while_no_process_ran(tmp_path):
    path = tmp_path / "catalog.db"
    offline = Shell(path)
    offline("CREATE TASK tick SCHEDULE = '1 MINUTE' AS SELECT 1")
    offline("ALTER TASK tick RESUME")
    offline("SELECT SYSTEM$WAIT(10, 'MINUTES')")  # no scheduler in this process: nothing runs
    assert offline.rows("SELECT count(*) FROM system.task_history WHERE state != 'SCHEDULED'") == [(0,)]
    later = offline.clock.now().isoformat()
    offline.close()
    online = Scheduled(path, start=later)
    try:
        online.wait(150)
        assert online.history("SCHEDULED_TIME") == [("2026-11-01 00:11:00.000 -0700",),
                                                    ("2026-11-01 00:12:00.000 -0700",)]
    finally:
        online.close()


# ---------------------------------------------------------------- cron and daylight saving
def cron_fires(tmp_path: Path, start: str, expr: str, days: int = 2) -> list[str]:
    shell = at_zone(tmp_path, start)
    try:
        shell(f"CREATE TASK c SCHEDULE = 'USING CRON {expr}' AS SELECT 1")
        shell("ALTER TASK c RESUME")
        shell.wait(days * 86400)
        return [r[0] for r in shell.history("SCHEDULED_TIME")]
    finally:
        shell.close()


def test_fall_back_runs_one_am_job_twice_in_los_angeles(tmp_path):
    assert cron_fires(tmp_path, "2026-10-31T12:00:00Z", "0 1 * * * America/Los_Angeles") == [
        "2026-11-01 08:00:00.000 +0000", "2026-11-01 09:00:00.000 +0000", "2026-11-02 09:00:00.000 +0000"]


def test_spring_forward_never_runs_a_job_in_the_gap(tmp_path):
    assert cron_fires(tmp_path, "2026-03-07T12:00:00Z", "30 2 * * * America/Los_Angeles") == [
        "2026-03-09 09:30:00.000 +0000"]


def test_lord_howe_half_hour_shift_repeats_and_skips(tmp_path):
    # 2026-04-05 02:00 +11 falls back to 01:30 +10:30; 2026-10-04 02:00 +10:30 jumps to 02:30 +11
    assert cron_fires(tmp_path, "2026-04-04T00:00:00Z", "45 1 * * * Australia/Lord_Howe", days=1) == [
        "2026-04-04 14:45:00.000 +0000", "2026-04-04 15:15:00.000 +0000"]
    assert cron_fires(tmp_path, "2026-10-03T00:00:00Z", "15 2 * * * Australia/Lord_Howe") == [
        "2026-10-04 15:15:00.000 +0000"]


def test_santiago_midnight_transition(tmp_path):
    # 2026-04-05 00:00 -03 falls back to 04-04 23:00 -04; 2026-09-06 00:00 -04 jumps to 01:00 -03
    assert cron_fires(tmp_path, "2026-04-04T12:00:00Z", "30 23 * * * America/Santiago", days=1) == [
        "2026-04-05 02:30:00.000 +0000", "2026-04-05 03:30:00.000 +0000"]
    assert cron_fires(tmp_path, "2026-09-05T12:00:00Z", "30 0 * * * America/Santiago") == [
        "2026-09-07 03:30:00.000 +0000"]


def test_databend_six_field_cron_with_separate_zone(tmp_path):
    shell = Scheduled(tmp_path / "db.db", start="2026-10-31T12:00:00Z", dialect="databend")
    try:
        shell("CREATE TASK c SCHEDULE = USING CRON '0 30 0 * * *' 'America/Havana' AS SELECT 1")
        shell("ALTER TASK c RESUME")
        shell.wait(2 * 86400)
        times = [r[0] for r in shell.rows("SELECT scheduled_time FROM system.task_history"
                                          " WHERE state = 'SUCCEEDED' ORDER BY scheduled_time")]
        # Havana falls back at 01:00 to 00:00 on 2026-11-01: 00:30 happens twice
        assert times == ["2026-11-01 04:30:00.000 +0000", "2026-11-01 05:30:00.000 +0000",
                         "2026-11-02 05:30:00.000 +0000"]
    finally:
        shell.close()


# ---------------------------------------------------------------- what the shell and history show
def test_show_tasks_next_schedule_time_and_history_scheduled_row(tmp_path):
    shell = Scheduled(tmp_path / "db.db", start="2026-11-01T00:00:00Z", dialect="databend")
    try:
        shell("CREATE TASK t SCHEDULE = 1 MINUTE AS SELECT 1")
        shell("ALTER TASK t RESUME")
        shell.wait(90)
        assert shell.rows("SELECT next_schedule_time FROM system.tasks") == [("2026-11-01 00:02:00.000 +0000",)]
        rows = shell.rows("SELECT state, scheduled_time FROM system.task_history ORDER BY scheduled_time DESC")
        assert rows[0] == ("SCHEDULED", "2026-11-01 00:02:00.000 +0000")
        assert rows[1] == ("SUCCEEDED", "2026-11-01 00:01:00.000 +0000")
    finally:
        shell.close()


def test_task_history_returns_the_next_scheduled_run(sched):
    sched("CREATE TASK t SCHEDULE = '5 MINUTE' AS SELECT 1")
    sched("ALTER TASK t RESUME")
    (row,) = sched.rows("SELECT STATE, SCHEDULED_TIME, NEXT_SCHEDULED_TIME, QUERY_ID FROM TABLE(TASK_HISTORY())")
    assert row == ("SCHEDULED", "2026-11-01 00:05:00.000 -0700", "2026-11-01 00:05:00.000 -0700", None)
    (row,) = sched.rows("SELECT ROOT_TASK_NAME, STATE, SCHEDULED_TIME FROM TABLE(CURRENT_TASK_GRAPHS())")
    assert row == ("T", "SCHEDULED", "2026-11-01 00:05:00.000 -0700")


def test_current_task_graphs_shows_a_running_graphs_start_and_lists_the_latest_first(sched):
    sched("CREATE TASK t SCHEDULE = '1 MINUTE' AS SELECT SYSTEM$WAIT(90)")
    sched("CREATE TASK early SCHEDULE = '5 MINUTE' AS SELECT 1")
    sched("ALTER TASK t RESUME")
    sched("ALTER TASK early RESUME")
    sched.wait(80)  # T's run from 00:01 goes on until 00:02:30
    rows = sched.rows("SELECT ROOT_TASK_NAME, STATE, SCHEDULED_TIME, QUERY_START_TIME FROM TABLE(CURRENT_TASK_GRAPHS())")
    assert rows[-1] == ("T", "EXECUTING", "2026-11-01 00:01:00.000 -0700", "2026-11-01 00:01:00.000 -0700")
    assert [r[2] for r in rows] == sorted((r[2] for r in rows), reverse=True)
    (latest,) = sched.rows("SELECT ROOT_TASK_NAME FROM TABLE(CURRENT_TASK_GRAPHS(RESULT_LIMIT => 1))")
    assert latest == ("EARLY",)  # 00:05, the latest scheduled time


def test_events_are_published_for_runs(sched):
    seen: list[tuple[str, str]] = []
    sched.scheduler.bus.subscribe(lambda e: seen.append((e.kind, e.task_name)))
    sched("CREATE TASK ok SCHEDULE = '1 MINUTE' AS SELECT 1")
    sched("CREATE TASK bad SCHEDULE = '1 MINUTE' SUSPEND_TASK_AFTER_NUM_FAILURES = 1 AS SELECT 1/0")
    sched("ALTER TASK ok RESUME")
    sched("ALTER TASK bad RESUME")
    sched.wait(60)
    assert (events.RUN_STARTED, "OK") in seen and (events.RUN_SUCCEEDED, "OK") in seen
    assert (events.RUN_FAILED, "BAD") in seen and (events.TASK_AUTO_SUSPENDED, "BAD") in seen
    status = sched.scheduler.status()
    assert status.next_task == "OK" and status.virtual_now is not None


# ---------------------------------------------------------------- overlaps
def test_overlapping_fire_time_is_skipped_with_a_reason(sched):
    sched("CREATE TASK slow SCHEDULE = '1 MINUTE' AS SELECT SYSTEM$WAIT(90)")
    sched("ALTER TASK slow RESUME")
    sched.wait(185)
    rows = sched.history("STATE, SCHEDULED_TIME, ERROR_MESSAGE")
    assert [r[:2] for r in rows] == [
        ("SUCCEEDED", "2026-11-01 00:01:00.000 -0700"),
        ("SKIPPED", "2026-11-01 00:02:00.000 -0700"),
        ("EXECUTING", "2026-11-01 00:03:00.000 -0700"),
    ]
    assert "still executing" in rows[1][2]


@pytest.mark.parametrize("allow, second_run", [("FALSE", "SKIPPED"), ("TRUE", "SUCCEEDED")])
def test_allow_overlapping_execution_lets_a_new_run_start_while_children_run(sched, allow, second_run):
    sched(f"CREATE TASK root SCHEDULE = '1 MINUTE' ALLOW_OVERLAPPING_EXECUTION = {allow} AS SELECT 1")
    sched("CREATE TASK child AFTER root AS SELECT SYSTEM$WAIT(90)")
    sched("SELECT SYSTEM$TASK_DEPENDENTS_ENABLE('root')")
    sched.wait(125)
    roots = sched.history("STATE, SCHEDULED_TIME", "NAME = 'ROOT' AND STATE != 'SCHEDULED'")
    assert roots == [("SUCCEEDED", "2026-11-01 00:01:00.000 -0700"),
                     (second_run, "2026-11-01 00:02:00.000 -0700")]


def test_a_root_allowed_to_overlap_is_still_skipped_while_it_runs_itself_and_says_why(sched):
    sched("CREATE TASK root SCHEDULE = '1 MINUTE' ALLOW_OVERLAPPING_EXECUTION = TRUE AS SELECT SYSTEM$WAIT(90)")
    sched("ALTER TASK root RESUME")
    sched.wait(155)
    rows = sched.history("STATE, ERROR_MESSAGE")
    assert rows == [("SUCCEEDED", None), ("SKIPPED", "Skipped: the previous run of this root task is still executing.")]


# ---------------------------------------------------------------- WHEN
def test_when_false_skips_with_snowflake_code_and_children_do_not_run(sched):
    sched("CREATE TABLE flags (on_ INT)")
    sched("CREATE TASK root SCHEDULE = '1 MINUTE' WHEN SYSTEM$GET_PREDECESSOR_RETURN_VALUE() = 'x' AS SELECT 1")
    sched("CREATE TASK child AFTER root AS SELECT 1")
    sched("SELECT SYSTEM$TASK_DEPENDENTS_ENABLE('root')")
    sched.wait(60)
    assert sched.history("NAME, STATE, ERROR_CODE, ERROR_MESSAGE") == [
        ("ROOT", "SKIPPED", "0040003", "Conditional expression for task evaluated to false.")]
    assert sched.rows("SELECT count(*) FROM TABLE(COMPLETE_TASK_GRAPHS())") == [(0,)]


def test_databend_words_its_when_outcomes_its_own_way(tmp_path):
    shell = Scheduled(tmp_path / "d.db", dialect="databend")
    try:
        shell("CREATE TABLE src (a INT)")
        shell("CREATE STREAM s ON TABLE src")
        shell("CREATE TASK w SCHEDULE = 1 MINUTE WHEN STREAM_STATUS('default.s') AS SELECT 1")
        shell("CREATE TASK e SCHEDULE = 1 MINUTE WHEN STREAM_STATUS('default.nosuch') AS SELECT 1")
        shell("ALTER TASK w RESUME")
        shell("ALTER TASK e RESUME")
        shell.wait(60)
        rows = dict(shell.rows("SELECT name, exception_text FROM system.task_history WHERE state != 'SCHEDULED'"))
        assert rows["w"] == "WHEN_CONDITION_FALSE: condition 'STREAM_STATUS('default.s')' evaluated to false"
        assert rows["e"].startswith("WHEN_CONDITION_EVALUATION_ERROR: Stream 'nosuch' does not exist")
    finally:
        shell.close()


# ---------------------------------------------------------------- graphs
def make_graph(shell: Scheduled, b_body: str = "INSERT INTO log VALUES ('B')") -> None:
    shell("CREATE TABLE log (name VARCHAR)")
    shell("CREATE TASK root SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('ROOT')")
    shell("CREATE TASK a AFTER root AS INSERT INTO log VALUES ('A')")
    shell(f"CREATE TASK b AFTER root AS {b_body}")
    shell("CREATE TASK c AFTER a, b AS INSERT INTO log VALUES ('C')")
    shell("CREATE TASK f FINALIZE = root AS INSERT INTO log VALUES ('F')")
    shell("SELECT SYSTEM$TASK_DEPENDENTS_ENABLE('root')")


def test_graph_runs_siblings_then_join_then_finalizer(sched):
    make_graph(sched)
    assert set(sched.column("SHOW TASKS", "state")) == {"started"}
    result = sched("EXECUTE TASK root")
    assert result.status == "Task ROOT is scheduled to run immediately."
    assert [r[0] for r in sched.rows("SELECT name FROM log")] == ["ROOT", "A", "B", "C", "F"]
    rows = sched.history("NAME, STATE, SCHEDULED_FROM")
    assert rows == [(n, "SUCCEEDED", "EXECUTE TASK") for n in ("ROOT", "A", "B", "C", "F")]
    (graph,) = sched.rows("SELECT ROOT_TASK_NAME, STATE, FIRST_ERROR_TASK_NAME FROM TABLE(COMPLETE_TASK_GRAPHS())")
    assert graph == ("ROOT", "SUCCEEDED", None)


def test_failing_sibling_stops_the_join_but_not_the_finalizer(sched):
    make_graph(sched, b_body="INSERT INTO log SELECT 1/0")
    sched.wait(60)
    assert [r[0] for r in sched.rows("SELECT name FROM log")] == ["ROOT", "A", "F"]
    states = dict(sched.history("NAME, STATE"))
    assert states == {"ROOT": "SUCCEEDED", "A": "SUCCEEDED", "B": "FAILED", "F": "SUCCEEDED"}
    (graph,) = sched.rows("SELECT STATE, FIRST_ERROR_TASK_NAME, FIRST_ERROR_CODE, SCHEDULED_FROM"
                          " FROM TABLE(INFORMATION_SCHEMA.COMPLETE_TASK_GRAPHS(ERROR_ONLY => TRUE))")
    assert graph == ("FAILED", "B", "1006", "SCHEDULE")


def test_retry_last_reruns_the_failed_task_and_then_its_children(sched):
    sched("CREATE TABLE gate (ok INT)")
    make_graph(sched, b_body="INSERT INTO log SELECT 'B' WHERE 1 / (SELECT count(*) FROM gate) = 1")
    sched("EXECUTE TASK root")
    sched("INSERT INTO gate VALUES (1)")
    sched("EXECUTE TASK root RETRY LAST")
    assert [r[0] for r in sched.rows("SELECT name FROM log")] == ["ROOT", "A", "F", "B", "C", "F"]
    rows = sched.history("NAME, STATE, SCHEDULED_FROM, ATTEMPT_NUMBER", "SCHEDULED_FROM = 'RETRY'")
    assert rows == [("B", "SUCCEEDED", "RETRY", 2), ("C", "SUCCEEDED", "RETRY", 2), ("F", "SUCCEEDED", "RETRY", 2)]
    assert len({r[0] for r in sched.history("RUN_ID")}) == 1


def test_suspended_child_is_passed_over_and_the_graph_goes_on(sched):
    make_graph(sched)
    sched("ALTER TASK root SUSPEND")
    sched("ALTER TASK b SUSPEND")
    sched("EXECUTE TASK root")
    assert [r[0] for r in sched.rows("SELECT name FROM log")] == ["ROOT", "A", "C", "F"]


def test_return_values_flow_from_predecessor_to_child(sched):
    sched("CREATE TABLE got (v VARCHAR, task VARCHAR, root VARCHAR)")
    sched("CREATE TASK root AS SELECT SYSTEM$SET_RETURN_VALUE('batch-42')")
    sched("CREATE TASK child AFTER root AS INSERT INTO got SELECT SYSTEM$GET_PREDECESSOR_RETURN_VALUE('ROOT'),"
          " SYSTEM$CURRENT_USER_TASK_NAME(), SYSTEM$TASK_RUNTIME_INFO('CURRENT_ROOT_TASK_NAME')")
    sched("ALTER TASK child RESUME")
    sched("EXECUTE TASK root")
    assert sched.rows("SELECT * FROM got") == [("batch-42", "CHILD", "ROOT")]
    assert sched.history("NAME, RETURN_VALUE") == [("ROOT", "batch-42"), ("CHILD", None)]


def test_graph_version_is_pinned_when_the_run_starts(sched):
    sched("CREATE TABLE log (v INT)")
    sched("CREATE TASK root SCHEDULE = '1 MINUTE' AS SELECT SYSTEM$WAIT(30)")
    sched("CREATE TASK child AFTER root AS INSERT INTO log VALUES (1)")
    sched("SELECT SYSTEM$TASK_DEPENDENTS_ENABLE('root')")
    sched.wait(70)  # the run started at 00:01:00 with version 1 of the graph
    sched("ALTER TASK root SUSPEND")
    sched("ALTER TASK child MODIFY AS INSERT INTO log VALUES (2)")
    sched.wait(30)
    assert sched.rows("SELECT v FROM log") == [(1,)]


def test_drop_task_cancels_its_run_in_progress(sched):
    sched("CREATE TASK slow SCHEDULE = '1 MINUTE' AS SELECT SYSTEM$WAIT(50)")
    sched("ALTER TASK slow RESUME")
    sched.wait(70)
    sched("DROP TASK slow")
    sched.wait(60)
    assert sched.history("STATE") == [("CANCELLED",)]


# ---------------------------------------------------------------- failures
def test_auto_suspend_at_the_failure_limit(sched):
    sched("CREATE TASK bad SCHEDULE = '1 MINUTE' SUSPEND_TASK_AFTER_NUM_FAILURES = 2 AS SELECT 1/0")
    sched("ALTER TASK bad RESUME")
    sched.wait(300)
    assert sched.history("STATE") == [("FAILED",), ("FAILED_AND_AUTO_SUSPENDED",)]
    (row,) = sched.rows("SHOW TASKS")
    shown = dict(zip(sched("SHOW TASKS").columns, row, strict=True))
    assert (shown["state"], shown["last_suspended_reason"]) == ("suspended", "SUSPENDED_DUE_TO_ERRORS")


def test_a_success_resets_the_failure_count(sched):
    sched("CREATE TABLE gate (ok INT)")
    sched("CREATE TASK t SCHEDULE = '1 MINUTE' SUSPEND_TASK_AFTER_NUM_FAILURES = 2"
          " AS SELECT 1 / (SELECT count(*) FROM gate)")
    sched("ALTER TASK t RESUME")
    sched.wait(60)
    sched("INSERT INTO gate VALUES (1)")
    sched.wait(60)
    sched("DELETE FROM gate")
    sched.wait(60)
    assert [r[0] for r in sched.history("STATE")] == ["FAILED", "SUCCEEDED", "FAILED"]
    assert sched.column("SHOW TASKS", "state") == ["started"]


def test_task_auto_retry_attempts_retries_a_failed_graph_run(sched):
    sched("CREATE TASK bad SCHEDULE = '1 MINUTE' TASK_AUTO_RETRY_ATTEMPTS = 2 AS SELECT 1/0")
    sched("ALTER TASK bad RESUME")
    sched.wait(60)
    rows = sched.history("STATE, ATTEMPT_NUMBER, RUN_ID")
    assert [r[:2] for r in rows] == [("FAILED", 1), ("FAILED", 2), ("FAILED", 3)]
    assert len({r[2] for r in rows}) == 1


@pytest.mark.parametrize("body", ["SELECT SYSTEM$WAIT(150)",
                                  "BEGIN INSERT INTO t VALUES (1); SELECT SYSTEM$WAIT(150); END"])
def test_fire_times_during_a_run_are_skipped_whether_or_not_its_body_writes(sched, body):
    # a body that writes holds the write lock while it waits: the claims of the fire times meanwhile
    # wait for it, yet must still see that the run was going on when they came due
    sched("CREATE TABLE t (a INT)")
    sched(f"CREATE TASK w SCHEDULE = '1 MINUTE' AS {body}")
    sched("ALTER TASK w RESUME")
    sched.wait(9 * 60 + 30)
    rows = sched.history("STATE, SCHEDULED_TIME, COMPLETED_TIME")
    assert [r[0] for r in rows] == ["SUCCEEDED", "SKIPPED", "SKIPPED"] * 3
    skipped = [r for r in rows if r[0] == "SKIPPED"]
    assert all(completed == scheduled for _, scheduled, completed in skipped)  # skipped when due


def test_no_automatic_retry_once_the_failure_has_suspended_the_task(sched):
    sched("CREATE TASK rt SCHEDULE = '1 MINUTE' TASK_AUTO_RETRY_ATTEMPTS = 2"
          " SUSPEND_TASK_AFTER_NUM_FAILURES = 2 AS SELECT 1/0")
    sched("ALTER TASK rt RESUME")
    sched.wait(200)
    assert sched.history("STATE, ATTEMPT_NUMBER") == [("FAILED", 1), ("FAILED_AND_AUTO_SUSPENDED", 2)]
    assert sched.column("SHOW TASKS", "state") == ["suspended"]


def test_no_automatic_retry_of_a_graph_changed_after_its_run_began(sched):
    # B fails while C still runs; B is then dropped (its root suspended first): the graph changed,
    # so, as for RETRY LAST, the failed run is not retried and neither B nor D after it runs again
    sched("CREATE TABLE t (who VARCHAR)")
    sched("CREATE TABLE gate (ok INT)")
    sched("INSERT INTO gate VALUES (0)")
    sched("CREATE TASK r SCHEDULE = '10 MINUTE' TASK_AUTO_RETRY_ATTEMPTS = 1 AS SELECT 1")
    sched("CREATE TASK b AFTER r AS INSERT INTO t SELECT 'b' WHERE 1 / (SELECT ok FROM gate) = 1")
    sched("CREATE TASK c AFTER r AS SELECT SYSTEM$WAIT(60)")
    sched("CREATE TASK d AFTER b AS INSERT INTO t VALUES ('d')")
    sched("SELECT SYSTEM$TASK_DEPENDENTS_ENABLE('r')")
    sched.wait(630)
    sched("ALTER TASK r SUSPEND")
    sched("DROP TASK b")
    sched("UPDATE gate SET ok = 1")
    sched.wait(300)
    assert sorted(sched.history("NAME, STATE, ATTEMPT_NUMBER")) == [
        ("B", "FAILED", 1), ("C", "SUCCEEDED", 1), ("R", "SUCCEEDED", 1)]
    assert sched.rows("SELECT who FROM t") == []


def test_user_task_timeout_rolls_the_run_back_whole(sched):
    sched("CREATE TABLE t (a INT)")
    sched("CREATE TASK slow SCHEDULE = '1 MINUTE' USER_TASK_TIMEOUT_MS = 5000"
          " AS BEGIN INSERT INTO t VALUES (1); SELECT SYSTEM$WAIT(10); INSERT INTO t VALUES (2); END")
    sched("ALTER TASK slow RESUME")
    sched.wait(70)
    (row,) = sched.history("STATE, ERROR_CODE, ERROR_MESSAGE, COMPLETED_TIME")
    assert row[:2] == ("FAILED", "000630")
    assert "USER_TASK_TIMEOUT_MS of 5000 ms" in row[2]
    assert row[3] == "2026-11-01 00:01:05.000 -0700"
    assert sched.rows("SELECT count(*) FROM t") == [(0,)]


def test_session_write_waits_for_a_run_holding_the_write_lock(sched):
    sched("CREATE TABLE t (a INT)")
    sched("CREATE TASK slow SCHEDULE = '1 MINUTE' AS BEGIN INSERT INTO t VALUES (1); SELECT SYSTEM$WAIT(5); END")
    sched("ALTER TASK slow RESUME")
    sched.wait(62)
    sched("INSERT INTO t VALUES (2)")  # waits (in virtual time) for the run's transaction
    assert sched.rows("SELECT a FROM t ORDER BY a") == [(1,), (2,)]
    assert sched.rows("SELECT CURRENT_TIMESTAMP") == [("2026-11-01 00:01:05.000",)]


# ---------------------------------------------------------------- warehouses
def test_warehouse_limit_queues_runs_and_history_shows_the_wait(sched):
    sched("CREATE WAREHOUSE one WITH MAX_CONCURRENCY_LEVEL = 1")
    for name in ("a", "b", "c"):
        sched(f"CREATE TASK {name} WAREHOUSE = one SCHEDULE = '10 MINUTE' AS SELECT SYSTEM$WAIT(20)")
        sched(f"ALTER TASK {name} RESUME")
    sched.wait(700)
    rows = sched.rows("SELECT NAME, DATEDIFF('second', SCHEDULED_TIME, QUERY_START_TIME) FROM TABLE(TASK_HISTORY())"
                      " WHERE STATE = 'SUCCEEDED' ORDER BY QUERY_START_TIME")
    assert rows == [("A", 0), ("B", 20), ("C", 40)]


def test_size_sets_the_default_concurrency(sched):
    sched("CREATE WAREHOUSE two WITH WAREHOUSE_SIZE = SMALL")
    for name in ("a", "b", "c"):
        sched(f"CREATE TASK {name} WAREHOUSE = two SCHEDULE = '10 MINUTE' AS SELECT SYSTEM$WAIT(20)")
        sched(f"ALTER TASK {name} RESUME")
    sched.wait(700)
    waits = sched.rows("SELECT DATEDIFF('second', SCHEDULED_TIME, QUERY_START_TIME) FROM TABLE(TASK_HISTORY())"
                       " WHERE STATE = 'SUCCEEDED' ORDER BY QUERY_START_TIME")
    assert waits == [(0,), (0,), (20,)]


# ---------------------------------------------------------------- functions and hooks
def test_task_dependents_enable_resumes_the_whole_graph(sched, tmp_path):
    make_graph(sched)
    assert set(sched.column("SHOW TASKS", "state")) == {"started"}
    databend = Scheduled(tmp_path / "db.db", dialect="databend")
    try:
        databend("CREATE TASK r SCHEDULE = 1 MINUTE AS SELECT 1")
        databend("CREATE TASK k AFTER 'r' AS SELECT 1")
        assert databend("CALL TASK_DEPENDENTS_ENABLE('r')").status == "Statement executed successfully."
        assert databend.rows("SELECT name, state FROM system.tasks ORDER BY name") == [
            ("k", "Started"), ("r", "Started")]
    finally:
        databend.close()
    with pytest.raises(TaskshellError):
        sched("SELECT SYSTEM$TASK_DEPENDENTS_ENABLE('nothing')")


def test_task_dependents_enable_in_a_task_body_resumes_the_graph_with_the_run(sched):
    sched("CREATE TABLE ticks (n INT)")
    sched("CREATE TASK r SCHEDULE = '1 MINUTE' AS INSERT INTO ticks VALUES (1)")
    sched("CREATE TASK k AFTER r AS INSERT INTO ticks VALUES (2)")
    sched("CREATE TASK starter AS SELECT SYSTEM$TASK_DEPENDENTS_ENABLE('r')")
    sched("CREATE TASK broken AS BEGIN SELECT SYSTEM$TASK_DEPENDENTS_ENABLE('r'); SELECT 1/0; END")
    sched("EXECUTE TASK broken")  # its run fails: the change it asked for is rolled back with it
    assert set(sched.column("SHOW TASKS", "state")) == {"suspended"}
    sched("EXECUTE TASK starter")
    states = dict(zip(sched.column("SHOW TASKS", "name"), sched.column("SHOW TASKS", "state"), strict=True))
    assert states == {"R": "started", "K": "started", "STARTER": "suspended", "BROKEN": "suspended"}
    sched.wait(61)  # the scheduler noticed: the graph runs on its schedule
    assert sorted(sched.rows("SELECT n FROM ticks")) == [(1,), (2,)]


def test_on_finished_hook_commits_inside_the_run_transaction(sched):
    sched("CREATE TABLE outbox (task VARCHAR, state VARCHAR, attempt INT)")
    sched("CREATE TABLE t (a INT)")

    def outbox(conn, run):
        conn.execute("INSERT INTO outbox VALUES (?, ?, ?)", (run.task, run.state, run.attempt))

    def refuse_good_runs(conn, run):
        if run.task == "REFUSED" and run.state == "SUCCEEDED":
            raise TaskshellError("hook refused the run")

    sched.scheduler.runner.on_finished.extend([outbox, refuse_good_runs])
    sched("CREATE TASK good AS INSERT INTO t VALUES (1)")
    sched("CREATE TASK bad AS SELECT 1/0")
    sched("CREATE TASK refused AS INSERT INTO t VALUES (2)")
    for name in ("good", "bad", "refused"):
        sched(f"EXECUTE TASK {name}")
    assert sched.rows("SELECT * FROM outbox") == [("GOOD", "SUCCEEDED", 1), ("BAD", "FAILED", 1),
                                                  ("REFUSED", "FAILED", 1)]
    assert sched.rows("SELECT a FROM t") == [(1,)]  # the refused run's insert rolled back with it
