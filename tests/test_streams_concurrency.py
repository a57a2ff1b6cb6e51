"""Exactly-once consumption while another process keeps writing, and the scheduler's WHEN on a stream."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Shell

ROWS = 400
WRITER = """
import sys
from taskshell.catalog.db import Catalog
from taskshell.interpreter.interpreter import Interpreter
from taskshell.interpreter.session import Session
from taskshell.scheduler.clock import RealClock

interp = Interpreter(Session(catalog=Catalog(sys.argv[1]), clock=RealClock()))
for i in range(int(sys.argv[2])):
    if i % 3 == 0:
        interp.execute(f"INSERT INTO events VALUES ({i})")
    else:  # some in transactions of two rows
        interp.execute("BEGIN")
        interp.execute(f"INSERT INTO events VALUES ({i})")
        interp.execute("COMMIT")
interp.close()
"""


def test_consumer_gets_every_row_of_a_concurrent_writer_exactly_once(tmp_path: Path):
    path = tmp_path / "catalog.db"
    shell = Shell(path)
    try:
        shell("CREATE TABLE events (id INT)")
        shell("CREATE TABLE copied (id INT)")
        shell("CREATE STREAM s ON TABLE events")
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(ROWS)],
                                  cwd=Path(__file__).resolve().parent.parent)
        rounds = 0
        while True:
            done = writer.poll() is not None
            shell("INSERT INTO copied SELECT id FROM s")
            rounds += 1
            if done and not shell.rows("SELECT SYSTEM$STREAM_HAS_DATA('s')")[0][0]:
                break
        assert writer.returncode == 0
        ids = [r[0] for r in shell.rows("SELECT id FROM copied ORDER BY id")]
        assert ids == list(range(ROWS))
        assert rounds > 1
    finally:
        shell.close()


HAS_SCHEDULER = importlib.util.find_spec("taskshell.scheduler.scheduler") is not None


@pytest.mark.skipif(not HAS_SCHEDULER, reason="needs the scheduler")
def test_task_when_stream_status_runs_once_per_new_data_under_the_virtual_clock(tmp_path: Path):
    from taskshell.scheduler.scheduler import Scheduler
    from tests.test_streams import FIVE, TASK, WALKTHROUGH, run_script

    shell = Shell(tmp_path / "catalog.db", dialect="databend")
    scheduler = Scheduler(shell.catalog, shell.clock, dialect="databend",
                          timezone=shell.interpreter.session.timezone)
    scheduler.start()
    shell.interpreter.attach_scheduler(scheduler)
    try:
        run_script(shell, WALKTHROUGH)
        assert {tuple(r) for r in shell.rows("SELECT * FROM user_activity_profiles")} == FIVE
        shell(TASK)
        shell("ALTER TASK user_activity_task RESUME")
        shell("INSERT INTO user_activities VALUES (104, 'logout', '2023-12-19 12:00:00')")
        shell("SELECT SYSTEM$WAIT(61)")
        assert len(shell.rows("SELECT * FROM user_activity_profiles")) == 6
        assert shell.rows("SELECT * FROM activities_stream") == []
        shell("SELECT SYSTEM$WAIT(60)")
        assert len(shell.rows("SELECT * FROM user_activity_profiles")) == 6
        states = shell.column("SELECT state FROM system.task_history ORDER BY scheduled_time", "state")
        assert [s for s in states if s != "SCHEDULED"] == ["SUCCEEDED", "SKIPPED"]
    finally:
        scheduler.stop()
        shell.close()
