"""The installed `taskshell` in a real pseudo-terminal: typing, pasting, Ctrl-C and the scheduler."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import program

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

TIMEOUT = 30
PROMPT = "taskshell>"


@pytest.fixture
def taskshell(tmp_path: Path) -> Iterator[object]:
    env = {k: v for k, v in os.environ.items() if k != "TASKSHELL_CATALOG"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1",
               PAGER="cat")
    argv = program()
    child = pexpect.spawn(argv[0], [*argv[1:], str(tmp_path / "catalog.db")], env=env, encoding="utf-8",
                          timeout=TIMEOUT, dimensions=(40, 120))
    child.expect(PROMPT)
    yield child
    child.close(force=True)


def test_type_a_multi_line_create_task_and_see_its_status(taskshell, tmp_path: Path) -> None:  # noqa: ANN001
    taskshell.send("CREATE TASK nightly\r")
    taskshell.send("  SCHEDULE = 'USING CRON 0 1 * * * America/Los_Angeles'\r")
    taskshell.send("  AS SELECT 1;\r")
    taskshell.expect("Task NIGHTLY successfully created.")
    taskshell.send("SHOW TASKS;\r")
    taskshell.expect("suspended")
    taskshell.send("!quit\r")
    taskshell.expect(pexpect.EOF)
    history = (tmp_path / "data" / "taskshell" / "history").read_text()
    assert "+CREATE TASK nightly\n+  SCHEDULE = 'USING CRON 0 1 * * * America/Los_Angeles'\n+  AS SELECT 1;" in history


def test_paste_three_statements_and_all_run_in_order(taskshell) -> None:  # noqa: ANN001
    taskshell.send("\x1b[200~CREATE TABLE p (a INT);\rINSERT INTO p VALUES (1), (2);\r"
                   "SELECT count(*) AS total FROM p;\r\x1b[201~")
    taskshell.expect("Table P successfully created.")
    taskshell.expect("number of rows inserted")
    taskshell.expect("TOTAL|total")
    taskshell.expect("2")
    taskshell.expect(PROMPT)  # Ctrl-D is a key only once the prompt has the terminal in raw mode
    taskshell.sendeof()
    taskshell.expect(pexpect.EOF)


def test_ctrl_c_cancels_a_long_query_and_the_session_goes_on(taskshell) -> None:  # noqa: ANN001
    # The marker's result shows that the prompt has handed the terminal back: Ctrl-C is now a signal.
    taskshell.send("SELECT 'run' || 'ning' AS marker; "
                   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;\r")
    taskshell.expect("running")
    taskshell.sendintr()
    taskshell.expect("Statement cancelled.")
    taskshell.send("SELECT 6 * 7 AS answer;\r")
    taskshell.expect("42")
    taskshell.send("!quit\r")
    taskshell.expect(pexpect.EOF)


def test_ctrl_c_ends_a_long_system_wait_at_once(taskshell) -> None:  # noqa: ANN001
    taskshell.send("SELECT 'wait' || 'ing' AS marker; SELECT SYSTEM$WAIT(60);\r")
    taskshell.expect("waiting")
    taskshell.sendintr()
    taskshell.expect("Statement cancelled.", timeout=10)  # not after the minute is up
    taskshell.send("!quit\r")
    taskshell.expect(pexpect.EOF)


def test_sourcing_a_file_that_is_not_utf8_warns_and_the_session_goes_on(taskshell, tmp_path: Path) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.sql"
    bad.write_bytes(b"select 1;\n\xff\xfe;\n")
    taskshell.send(f"!source {bad}\r")
    taskshell.expect("it is not UTF-8 text")
    taskshell.send("SELECT 6 * 7 AS answer;\r")
    taskshell.expect("42")
    taskshell.send("!quit\r")
    taskshell.expect(pexpect.EOF)


def _scheduler_present() -> bool:
    return any(importlib.util.find_spec(f"taskshell.scheduler.{name}") is not None
               for name in ("loop", "scheduler"))


@pytest.mark.skipif(not _scheduler_present(), reason="the background scheduler is not part of this build yet")
def test_a_task_failure_appears_above_the_idle_prompt(taskshell) -> None:  # noqa: ANN001
    taskshell.send("CREATE TASK t SCHEDULE = '1 SECOND' AS SELECT 1/0;\r")
    taskshell.expect("Task T successfully created.")
    taskshell.send("ALTER TASK t RESUME;\r")
    taskshell.expect("Statement executed successfully.")
    taskshell.expect(r"task T failed: \S+ .*divi")
    taskshell.send("!quit\r")
    taskshell.expect(pexpect.EOF)
