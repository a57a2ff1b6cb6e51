"""Notification integrations: DDL, what SHOW/DESC/system tables print, payloads and the listener."""

from __future__ import annotations

import io
import json
import random
import threading
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from taskshell.errors import TaskshellError
from taskshell.notify import listener, payload
from taskshell.notify.delivery import DeliverySettings, backoff_seconds

SECRET = "Bearer s3cr3t-token-value"


def _create(shell, name: str = "notify", extra: str = "") -> None:
    shell(f"CREATE NOTIFICATION INTEGRATION {name} TYPE = webhook ENABLED = true "
          f"WEBHOOK = (url = 'http://localhost:8080/notify'{extra})")


def _options(shell, name: str = "notify") -> dict:
    rows = shell.rows(f"SELECT webhook_options FROM system.notifications WHERE name = '{name}'")
    return json.loads(rows[0][0])


# ---------------------------------------------------------------- DDL (Databend's notification test)
def test_url_only_webhook_defaults_to_get_without_header(databend):
    result = databend("CREATE NOTIFICATION INTEGRATION notify TYPE = webhook ENABLED = true "
                      "WEBHOOK = (url = 'http://localhost:8080/notify')")
    assert result.status == "Integration notify successfully created."
    assert _options(databend) == {"url": "http://localhost:8080/notify", "method": "GET",
                                  "authorization_header": ""}
    assert databend.rows("SELECT name, type, enabled, comment FROM system.notifications") == [
        ("notify", "webhook", 1, None)]


def test_alter_merges_only_the_given_webhook_keys(databend):
    _create(databend)
    databend("ALTER NOTIFICATION INTEGRATION notify SET WEBHOOK = (url = 'http://localhost:8080/other')")
    databend("ALTER NOTIFICATION INTEGRATION notify SET WEBHOOK = (method = 'POST')")
    databend("ALTER NOTIFICATION INTEGRATION notify SET ENABLED = false")
    databend("ALTER NOTIFICATION INTEGRATION notify SET COMMENT = 'ops channel'")
    assert _options(databend) == {"url": "http://localhost:8080/other", "method": "POST",
                                  "authorization_header": ""}
    assert databend.rows("SELECT enabled, comment FROM system.notifications") == [(0, "ops channel")]


def test_authorization_header_is_never_shown_in_full(databend, shell):
    for session in (databend, shell):
        _create(session, extra=f", method = 'POST', authorization_header = '{SECRET}'")
        outputs = [session("SHOW NOTIFICATION INTEGRATIONS"), session("DESC NOTIFICATION INTEGRATION notify"),
                   session("SELECT * FROM system.notifications")]
        for result in outputs:
            assert SECRET not in repr(result.rows) and "s3cr3t" not in repr(result.rows)
    assert _options(databend)["authorization_header"] == "Bearer ********"


def test_show_and_describe_in_snowflake_spelling(shell):
    _create(shell, name="my_webhook")
    show = shell("SHOW NOTIFICATION INTEGRATIONS LIKE 'my%'")
    assert show.columns[:4] == ("name", "type", "category", "enabled")
    assert show.rows[0][:4] == ("MY_WEBHOOK", "NOTIFICATION - WEBHOOK", "NOTIFICATION", "true")
    desc = dict((r[0], r[2]) for r in shell("DESCRIBE NOTIFICATION INTEGRATION my_webhook").rows)
    assert desc["WEBHOOK_URL"] == "http://localhost:8080/notify" and desc["WEBHOOK_METHOD"] == "GET"
    assert shell("SHOW NOTIFICATION INTEGRATIONS LIKE 'nothing%'").rows == ()


def test_a_task_names_its_integration_as_it_was_created(shell):
    _create(shell, name="my_webhook")
    shell("CREATE TASK t ERROR_INTEGRATION = my_webhook SUCCESS_INTEGRATION = My_Webhook AS SELECT 1")
    shown = shell("SHOW TASKS")
    row = dict(zip(shown.columns, shown.rows[0], strict=True))
    assert row["error_integration"] == "MY_WEBHOOK"
    assert row["success_integration"] == "MY_WEBHOOK"
    shell("CREATE TASK child AFTER t SUCCESS_INTEGRATION = my_webhook AS SELECT 1")
    shown = shell("SHOW TASKS LIKE 'CHILD'")
    assert dict(zip(shown.columns, shown.rows[0], strict=True))["success_integration"] is None  # a child's: NULL


@pytest.mark.parametrize(("statement", "message"), [
    ("CREATE NOTIFICATION INTEGRATION n TYPE = email ENABLED = true WEBHOOK = (url = 'http://x/')",
     "Unsupported notification type: email"),
    ("CREATE NOTIFICATION INTEGRATION n TYPE = webhook ENABLED = true", "Webhook options are required"),
    ("CREATE NOTIFICATION INTEGRATION n TYPE = webhook ENABLED = true WEBHOOK = (method = 'GET')",
     "Webhook url is required in Webhook Type Notification"),
    ("CREATE NOTIFICATION INTEGRATION n TYPE = webhook ENABLED = true WEBHOOK = (url = 'http://x/', method = 'PUT')",
     "Unsupported webhook method: PUT"),
    ("CREATE NOTIFICATION INTEGRATION n TYPE = webhook ENABLED = true WEBHOOK = (url = 'ftp://x/')",
     "only http:// and https:// URLs are accepted"),
    ("CREATE NOTIFICATION INTEGRATION n TYPE = webhook ENABLED = true WEBHOOK = (url = 'localhost:8080')",
     "only http:// and https:// URLs are accepted"),
    ("ALTER NOTIFICATION INTEGRATION missing SET ENABLED = true", "'missing' does not exist"),
    ("DROP NOTIFICATION INTEGRATION missing", "'missing' does not exist"),
    ("DESC NOTIFICATION INTEGRATION missing", "'missing' does not exist"),
])
def test_errors_name_the_problem(databend, statement, message):
    with pytest.raises(TaskshellError) as caught:
        databend(statement)
    assert message in caught.value.message


def test_create_twice_if_not_exists_or_replace_and_drop(databend):
    _create(databend)
    with pytest.raises(TaskshellError, match="already exists"):
        _create(databend)
    result = databend("CREATE NOTIFICATION INTEGRATION IF NOT EXISTS notify TYPE = webhook ENABLED = false "
                      "WEBHOOK = (url = 'https://example.invalid/')")
    assert "already exists, statement succeeded" in result.status
    databend("CREATE OR REPLACE NOTIFICATION INTEGRATION notify TYPE = webhook ENABLED = false "
             "WEBHOOK = (url = 'https://example.invalid/')")
    assert _options(databend)["url"] == "https://example.invalid/"
    assert databend("ALTER NOTIFICATION INTEGRATION IF EXISTS gone SET ENABLED = true").status
    assert databend("DROP NOTIFICATION INTEGRATION notify").status == "notify successfully dropped."
    assert databend.rows("SELECT count(*) FROM system.notifications") == [(0,)]
    assert databend("DROP NOTIFICATION INTEGRATION IF EXISTS notify").status


# ---------------------------------------------------------------- tasks that name an integration
def test_task_may_name_an_integration_before_it_exists_with_a_notice(databend):
    created = databend("CREATE TASK my_task WAREHOUSE = 'default' SCHEDULE = 1 MINUTE "
                       "ERROR_INTEGRATION = 'my_webhook' AS SELECT 1 / 0")
    assert created.status == "Task my_task successfully created."
    assert created.notices and "'my_webhook' does not exist yet" in created.notices[0]
    _create(databend, name="my_webhook")
    altered = databend("ALTER TASK my_task SET ERROR_INTEGRATION = 'my_webhook'")
    assert altered.notices == ()
    assert databend.rows("SELECT error_integration FROM system.tasks") == [("my_webhook",)]


def test_a_failed_run_whose_integration_does_not_exist_is_recorded(databend):
    databend("CREATE TASK t SCHEDULE = 1 MINUTE ERROR_INTEGRATION = 'nowhere' AS SELECT 1 / 0")
    databend("EXECUTE TASK t")
    rows = databend.rows("SELECT integration_name, status, error_message FROM system.notification_history")
    assert rows == [("nowhere", "FAILED",
                     "Notification integration 'nowhere' does not exist; the message was not sent.")]


def test_a_disabled_integration_queues_nothing(databend):
    databend("CREATE NOTIFICATION INTEGRATION off TYPE = webhook ENABLED = false "
             "WEBHOOK = (url = 'http://127.0.0.1:9/')")
    databend("CREATE TASK t SCHEDULE = 1 MINUTE ERROR_INTEGRATION = 'off' AS SELECT 1 / 0")
    databend("EXECUTE TASK t")
    assert databend.rows("SELECT count(*) FROM system.notification_history") == [(0,)]


def test_successful_runs_stay_quiet_without_a_success_integration(databend):
    _create(databend)
    databend("CREATE TASK ok SCHEDULE = 1 MINUTE ERROR_INTEGRATION = 'notify' AS SELECT 1")
    databend("EXECUTE TASK ok")
    assert databend.rows("SELECT count(*) FROM system.notification_history") == [(0,)]


def test_auto_suspending_failure_is_a_failure_message(databend):
    _create(databend)
    databend("CREATE TASK t SCHEDULE = 1 MINUTE SUSPEND_TASK_AFTER_NUM_FAILURES = 1 "
             "ERROR_INTEGRATION = 'notify' AS SELECT 1 / 0")
    databend("EXECUTE TASK t")
    assert databend.rows("SELECT state FROM system.task_history") == [("FAILED_AND_AUTO_SUSPENDED",)]
    rows = databend.rows("SELECT message_type, status FROM system.notification_history")
    assert rows == [("TASK_FAILED", "PENDING")]


# ---------------------------------------------------------------- payloads and backoff
def test_payload_has_exactly_databends_fields_in_rfc3339():
    at = datetime(2026, 11, 1, 0, 1, tzinfo=timezone(timedelta(hours=-7)))
    facts = payload.RunFacts(tenant_id="tn1", task_name="my_task", task_id="15", root_task_name="my_task",
                             root_task_id="15", run_id="42", state="FAILED", scheduled_time=at,
                             query_start_time=at, completed_time=at + timedelta(seconds=1), query_id="q1",
                             error_code="1006", error_message="divided by zero", run_seq=7)
    body = payload.task_message(facts, "my_webhook", payload.TASK_FAILED, at)
    assert list(body) == ["version", "messageId", "messageType", "timestamp", "tenantId", "taskName", "taskId",
                          "rootTaskName", "rootTaskId", "messages"]
    assert list(body["messages"][0]) == ["runId", "scheduledTime", "queryStartTime", "completedTime",
                                         "queryId", "errorKind", "errorCode", "errorMessage"]
    assert body["timestamp"] == "2026-11-01T07:01:00.000000Z"
    assert body["messages"][0]["completedTime"] == "2026-11-01T07:01:01.000000Z"
    assert body["messages"][0]["errorKind"] == "UnexpectedError"
    assert body["messages"][0]["errorCode"] == "500"  # Databend's, whatever the run's own code (1006)
    # the same run always gives the same message id: a receiver can drop repeats
    assert body["messageId"] == payload.task_message(facts, "MY_WEBHOOK", payload.TASK_FAILED, at)["messageId"]


def test_backoff_doubles_with_jitter_up_to_a_ceiling():
    settings = DeliverySettings(backoff_base=1.0, backoff_max=8.0)
    rng = random.Random(1)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)):
        delays = [backoff_seconds(attempt, settings, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1
    assert backoff_seconds(1, settings, rng, retry_after=5.0) == 5.0
    assert backoff_seconds(1, settings, rng, retry_after=500.0) == 8.0


# ---------------------------------------------------------------- webhook-listen
def test_listener_prints_method_headers_and_pretty_json():
    out = io.StringIO()
    server = listener.make_server(0, out)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        response = httpx.post(f"http://127.0.0.1:{port}/notify", json={"messageType": "TASK_FAILED"},
                              headers={"Authorization": "Bearer abc"}, trust_env=False, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200
    text = out.getvalue()
    assert text.startswith("POST /notify\n")
    assert "Authorization: Bearer abc" in text
    assert '{\n  "messageType": "TASK_FAILED"\n}' in text


def test_rfc3339_is_utc_with_z():
    assert payload.rfc3339(datetime(2024, 3, 19, 2, 37, 21, 160705, tzinfo=UTC)) == "2024-03-19T02:37:21.160705Z"
    assert payload.rfc3339(None) is None


def test_webhook_listen_command_prints_what_it_receives():
    import os
    import select
    import subprocess

    from tests.conftest import program

    def read_until(stream, marker: bytes) -> bytes:
        data = b""
        while marker not in data:
            ready, _, _ = select.select([stream], [], [], 10)
            assert ready, f"nothing more printed after {data!r}"
            data += os.read(stream.fileno(), 4096)
        return data

    with subprocess.Popen(program() + ["webhook-listen", "--port", "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        try:
            url = read_until(proc.stderr, b"\n").decode().split()[2]
            assert url.startswith("http://127.0.0.1:")
            httpx.post(url + "hook", json={"taskName": "my_task"}, trust_env=False, timeout=5)
            lines = read_until(proc.stdout, b"\n}\n").decode().splitlines()
        finally:
            proc.terminate()
    assert lines[0] == "POST /hook"
    assert '  "taskName": "my_task"' in lines


def test_a_graph_that_ends_without_its_last_task_succeeding_is_still_reported(shell):
    # the graph run is recorded SUCCEEDED after its tasks (a suspended child counts as skipped; a
    # finalizer runs last): its success message is queued with that record, once
    _create(shell, name="done")
    shell("CREATE TASK r1 SUCCESS_INTEGRATION = done AS SELECT 1")
    shell("CREATE TASK idle AFTER r1 AS SELECT 1")  # left suspended
    shell("CREATE TASK r2 SUCCESS_INTEGRATION = done AS SELECT 1")
    shell("CREATE TASK fin FINALIZE = r2 AS SELECT 1")
    shell("ALTER TASK fin RESUME")
    shell("EXECUTE TASK r1")
    shell("EXECUTE TASK r2")
    conn = shell.catalog.connect()
    try:
        rows = [(kind, json.loads(body)["taskName"]) for kind, body in
                conn.execute("SELECT message_type, message FROM _ts_notifications ORDER BY id")]
    finally:
        conn.close()
    assert rows == [("TASK_SUCCEEDED", "R1"), ("TASK_SUCCEEDED", "R2")]


def test_a_hook_that_fails_at_a_graph_runs_end_does_not_leave_execute_task_waiting(shell):
    # the graph run's end cannot be recorded (its success message cannot be queued): EXECUTE TASK
    # still returns, and the row is left EXECUTING for liveness to settle
    _create(shell, name="done")
    shell("CREATE TASK r1 SUCCESS_INTEGRATION = done AS SELECT 1")
    shell("CREATE TASK idle AFTER r1 AS SELECT 1")  # suspended: the graph ends after R1 is recorded

    def broken(conn, run):  # noqa: ANN001
        if run.graph_succeeded:
            raise RuntimeError("the outbox is broken")

    shell.interpreter.executor.runner.on_finished.append(broken)
    shell("EXECUTE TASK r1")
    assert shell.rows("SELECT name, state FROM _ts_task_runs") == [("R1", "SUCCEEDED")]
    assert shell.rows("SELECT state FROM _ts_graph_runs") == [("EXECUTING",)]
