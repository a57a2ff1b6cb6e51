"""Failure counting per graph run and RETRY LAST's age limit, on the virtual clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskshell.errors import TaskshellError
from taskshell.scheduler import events
from tests.test_scheduler import Scheduled


@pytest.fixture
def sched(tmp_path: Path):
    shell = Scheduled(tmp_path / "catalog.db")
    yield shell
    shell.close()


def graph(shell: Scheduled, limit: int, b_body: str, c_body: str = "SELECT 1") -> None:
    shell("CREATE TABLE gate (ok INT)")
    shell(f"CREATE TASK root SCHEDULE = '1 MINUTE' SUSPEND_TASK_AFTER_NUM_FAILURES = {limit} AS SELECT 1")
    shell(f"CREATE TASK b AFTER root AS {b_body}")
    shell(f"CREATE TASK c AFTER root AS {c_body}")
    shell("SELECT SYSTEM$TASK_DEPENDENTS_ENABLE('root')")


def shown(shell: Scheduled, name: str) -> dict:
    result = shell(f"SHOW TASKS LIKE '{name}'")
    return dict(zip(result.columns, result.rows[0], strict=True))


def test_a_failing_child_counts_against_the_root_and_suspends_it(sched):
    suspended: list[str] = []
    sched.scheduler.bus.subscribe(
        lambda e: suspended.append(e.task_name) if e.kind == events.TASK_AUTO_SUSPENDED else None)
    graph(sched, 2, "SELECT 1/0")
    sched.wait(60)
    assert shown(sched, "root")["state"] == "started"
    sched.wait(60)
    rows = sched.history("NAME, STATE")
    assert rows == [("ROOT", "SUCCEEDED"), ("B", "FAILED"), ("C", "SUCCEEDED"),
                    ("ROOT", "SUCCEEDED"), ("B", "FAILED_AND_AUTO_SUSPENDED"), ("C", "SUCCEEDED")]
    root = shown(sched, "root")
    assert (root["state"], root["last_suspended_reason"]) == ("suspended", "SUSPENDED_DUE_TO_ERRORS")
    assert shown(sched, "b")["state"] == "started"
    assert suspended == ["ROOT"]
    sched.wait(180)
    assert len(sched.history("NAME")) == 6  # the suspended root fires no more


def test_a_graph_run_with_two_failed_tasks_counts_once(sched):
    graph(sched, 2, "SELECT 1/0", "SELECT 1/0")
    sched.wait(60)
    assert [r[1] for r in sched.history("NAME, STATE")] == ["SUCCEEDED", "FAILED", "FAILED"]
    assert shown(sched, "root")["state"] == "started"
    sched.wait(60)
    states = [r[1] for r in sched.history("NAME, STATE")][3:]
    assert states == ["SUCCEEDED", "FAILED_AND_AUTO_SUSPENDED", "FAILED"]
    assert shown(sched, "root")["state"] == "suspended"


def test_a_succeeded_graph_run_resets_the_count_but_a_root_success_alone_does_not(sched):
    graph(sched, 2, "SELECT 1 / (SELECT count(*) FROM gate)")
    sched.wait(60)  # failed graph run (the root itself succeeded)
    sched("INSERT INTO gate VALUES (1)")
    sched.wait(60)  # succeeded graph run: the count starts again
    sched("DELETE FROM gate")
    sched.wait(60)  # failed graph run: one in a row
    assert shown(sched, "root")["state"] == "started"
    sched.wait(60)  # two in a row
    assert shown(sched, "root")["state"] == "suspended"
    graphs = sched.rows("SELECT STATE FROM TABLE(COMPLETE_TASK_GRAPHS()) ORDER BY SCHEDULED_TIME")
    assert [g[0] for g in graphs] == ["FAILED", "SUCCEEDED", "FAILED", "FAILED"]


def test_standalone_task_still_counts_its_own_failures(sched):
    sched("CREATE TASK bad SCHEDULE = '1 MINUTE' SUSPEND_TASK_AFTER_NUM_FAILURES = 3 AS SELECT 1/0")
    sched("ALTER TASK bad RESUME")
    sched.wait(300)
    assert sched.history("STATE") == [("FAILED",), ("FAILED",), ("FAILED_AND_AUTO_SUSPENDED",)]


def retry_graph(shell: Scheduled) -> None:
    shell("CREATE TABLE gate (ok INT)")
    shell("CREATE TABLE log (v INT)")
    shell("CREATE TASK root AS SELECT 1")
    shell("CREATE TASK b AFTER root AS INSERT INTO log SELECT 1 / (SELECT count(*) FROM gate)")
    shell("ALTER TASK b RESUME")
    shell("EXECUTE TASK root")
    shell("INSERT INTO gate VALUES (1)")


def test_retry_last_refuses_a_graph_run_first_attempted_over_14_days_ago(sched):
    retry_graph(sched)
    sched.wait(14 * 86400 + 1)
    with pytest.raises(TaskshellError, match="first attempted more than 14 days ago"):
        sched("EXECUTE TASK root RETRY LAST")
    assert sched.rows("SELECT count(*) FROM log") == [(0,)]


def test_retry_last_is_allowed_up_to_14_days_after_the_first_attempt(sched):
    retry_graph(sched)
    sched.wait(14 * 86400)
    sched("EXECUTE TASK root RETRY LAST")
    assert sched.history("NAME, STATE, ATTEMPT_NUMBER", "SCHEDULED_FROM = 'RETRY'") == [("B", "SUCCEEDED", 2)]
    assert sched.rows("SELECT v FROM log") == [(1,)]
