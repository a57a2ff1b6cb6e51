"""A run failed because its process stopped heart-beating notifies like any other failed run."""

from __future__ import annotations

import json

from taskshell.catalog.db import write_transaction
from taskshell.notify.outbox import record_finished_run
from taskshell.scheduler import liveness


def test_expired_run_queues_a_task_failed_message(shell):
    shell("CREATE NOTIFICATION INTEGRATION hook TYPE = WEBHOOK ENABLED = TRUE "
          "WEBHOOK = (url = 'http://127.0.0.1:9/', method = 'POST')")
    shell("CREATE TASK t ERROR_INTEGRATION = 'hook' AS SELECT 1")
    shell("EXECUTE TASK t")
    conn = shell.catalog.connect()
    try:
        # the run as a process that died mid-run would have left it
        conn.execute("UPDATE _ts_task_runs SET state = 'EXECUTING', completed_time = NULL, claimed_by = 'ghost'")
        with write_transaction(conn):
            failed = liveness.expire_owner(conn, "ghost", 1_000_000, [record_finished_run])
        assert failed == 1
        state, message = conn.execute("SELECT state, error_message FROM _ts_task_runs").fetchone()
        assert (state, message) == ("FAILED", liveness.NO_HEARTBEAT_MESSAGE)
        (body,) = conn.execute("SELECT message FROM _ts_notifications").fetchone()
    finally:
        conn.close()
    payload = json.loads(body)
    assert payload["messageType"] == "TASK_FAILED"
    assert payload["taskName"] == "T"
    assert payload["messages"][0]["errorMessage"] == liveness.NO_HEARTBEAT_MESSAGE
