"""Webhook delivery against real HTTP servers on 127.0.0.1: payloads, retries, give-up, isolation
of a hanging endpoint, delivery after a restart, and the Databend guide's example end to end."""

from __future__ import annotations

import importlib.util
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from taskshell.notify.delivery import DeliverySettings
from taskshell.notify.notifier import Notifier
from tests.conftest import Shell, run_program

FAST = DeliverySettings(connect_timeout=1.0, read_timeout=2.0, max_attempts=3, backoff_base=0.01,
                        backoff_max=0.04, trust_env=False)
WAIT = 5.0  # seconds: the longest any test waits for the network


class Endpoint:
    """A webhook receiver that answers with the scripted statuses in turn (then the last one
    forever), or holds each request until `release` when `hang` is set."""

    def __init__(self, statuses: tuple[int, ...] = (200,), hang: bool = False) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        self.release = threading.Event()
        self._changed = threading.Condition()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with endpoint._changed:
                    endpoint.requests.append({"method": self.command, "path": self.path,
                                              "headers": dict(self.headers.items()), "body": body})
                    status = endpoint.statuses.pop(0) if len(endpoint.statuses) > 1 else endpoint.statuses[0]
                    endpoint._changed.notify_all()
                if hang:
                    endpoint.release.wait(WAIT)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def wait_for(self, count: int, timeout: float = WAIT) -> list[dict]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoints() -> Iterator[list[Endpoint]]:
    made: list[Endpoint] = []
    yield made
    for endpoint in made:
        endpoint.close()


def endpoint(endpoints: list[Endpoint], *statuses: int, hang: bool = False) -> Endpoint:
    made = Endpoint(statuses or (200,), hang=hang)
    endpoints.append(made)
    return made


@pytest.fixture
def notifier_for() -> Iterator:
    started: list[Notifier] = []

    def start(shell: Shell, settings: DeliverySettings = FAST) -> Notifier:
        notifier = Notifier(shell.catalog, shell.clock, settings, poll_seconds=0.02)
        notifier.start()
        started.append(notifier)
        return notifier

    yield start
    for notifier in started:
        notifier.stop(drain_seconds=0)


def integration(shell: Shell, name: str, url: str, extra: str = "") -> None:
    shell(f"CREATE NOTIFICATION INTEGRATION {name} TYPE = WEBHOOK ENABLED = TRUE "
          f"WEBHOOK = (url = '{url}', method = 'POST'{extra})")


def failing_task(shell: Shell, name: str, integration_name: str) -> None:
    shell(f"CREATE TASK {name} WAREHOUSE = 'default' SCHEDULE = 1 MINUTE "
          f"ERROR_INTEGRATION = '{integration_name}' AS SELECT 1 / 0")


def history(shell: Shell) -> list[tuple]:
    return shell.rows("SELECT integration_name, attempt_number, status, http_status, error_message"
                      " FROM system.notification_history")


# ---------------------------------------------------------------- payload and header
def test_failed_run_posts_databends_payload_with_the_authorization_header(databend, endpoints, notifier_for):
    hook = endpoint(endpoints)
    integration(databend, "my_webhook", hook.url, ", authorization_header = 'Bearer t0ken'")
    failing_task(databend, "my_task", "my_webhook")
    notifier = notifier_for(databend)
    databend("EXECUTE TASK my_task")
    [request] = hook.wait_for(1)
    assert notifier.wait_idle(WAIT)
    assert request["method"] == "POST" and request["path"] == "/notify"
    assert request["headers"]["Authorization"] == "Bearer t0ken"
    assert request["headers"]["Content-Type"] == "application/json"
    body = json.loads(request["body"])
    assert set(body) == {"version", "messageId", "messageType", "timestamp", "tenantId", "taskName", "taskId",
                         "rootTaskName", "rootTaskId", "messages"}
    assert (body["version"], body["messageType"], body["taskName"], body["rootTaskName"]) == (
        "1.0", "TASK_FAILED", "my_task", "my_task")
    assert all(isinstance(body[k], str) for k in body if k != "messages")
    [entry] = body["messages"]
    assert set(entry) == {"runId", "scheduledTime", "queryStartTime", "completedTime", "queryId", "errorKind",
                          "errorCode", "errorMessage"}
    assert all(isinstance(v, str) for v in entry.values())
    assert entry["scheduledTime"] == "2026-11-01T07:00:00.000000Z"  # the virtual clock, in UTC
    assert "divided by zero" in entry["errorMessage"]
    assert databend.rows("SELECT exception_text FROM system.task_history")[0][0] == entry["errorMessage"]
    assert history(databend) == [("my_webhook", 1, "SUCCEEDED", 200, None)]


def test_get_method_sends_the_same_body(databend, endpoints, notifier_for):
    hook = endpoint(endpoints)
    databend(f"CREATE NOTIFICATION INTEGRATION n TYPE = webhook ENABLED = true WEBHOOK = (url = '{hook.url}')")
    failing_task(databend, "t", "n")
    notifier_for(databend)
    databend("EXECUTE TASK t")
    [request] = hook.wait_for(1)
    assert request["method"] == "GET"
    assert json.loads(request["body"])["messageType"] == "TASK_FAILED"


def test_success_integration_reports_a_task_graph_that_succeeds_as_a_whole(shell, endpoints, notifier_for):
    # Snowflake: set on the root; one message when the whole graph succeeds, none for a standalone
    # task's success, none for a child's, none for a graph with a failed task
    hook = endpoint(endpoints)
    integration(shell, "done", hook.url)
    shell("CREATE TABLE gate (ok INT)")
    shell("INSERT INTO gate VALUES (1)")
    shell("CREATE TASK alone SUCCESS_INTEGRATION = done AS SELECT 1")
    shell("CREATE TASK root SUCCESS_INTEGRATION = done AS SELECT 1")
    shell("CREATE TASK child AFTER root SUCCESS_INTEGRATION = done AS SELECT 1 / (SELECT ok FROM gate)")
    shell("ALTER TASK child RESUME")
    notifier = notifier_for(shell)
    shell("EXECUTE TASK alone")
    shell("EXECUTE TASK root")
    [request] = hook.wait_for(1)
    body = json.loads(request["body"])
    assert body["messageType"] == "TASK_SUCCEEDED" and body["taskName"] == "ROOT"
    assert body["messages"][0]["errorMessage"] is None
    shell("UPDATE gate SET ok = 0")
    shell("EXECUTE TASK root")  # the child fails: no success message for this graph run
    assert notifier.wait_idle(WAIT, settled=True)
    assert len(hook.requests) == 1
    assert shell.rows("SELECT message_type FROM _ts_notifications") == [("TASK_SUCCEEDED",)]


# ---------------------------------------------------------------- retries and giving up
def test_server_errors_are_retried_until_delivered(databend, endpoints, notifier_for):
    hook = endpoint(endpoints, 500, 503, 200)
    integration(databend, "flaky", hook.url)
    failing_task(databend, "t", "flaky")
    notifier = notifier_for(databend)
    databend("EXECUTE TASK t")
    requests = hook.wait_for(3)
    assert notifier.wait_idle(WAIT, settled=True)
    assert len(requests) == 3
    assert len({json.loads(r["body"])["messageId"] for r in requests}) == 1
    assert history(databend) == [
        ("flaky", 1, "RETRYING", 500, "HTTP 500 Internal Server Error"),
        ("flaky", 2, "RETRYING", 503, "HTTP 503 Service Unavailable"),
        ("flaky", 3, "SUCCEEDED", 200, None),
    ]


def test_gives_up_after_the_attempt_limit_and_records_why(databend, endpoints, notifier_for):
    hook = endpoint(endpoints, 503)
    integration(databend, "down", hook.url)
    failing_task(databend, "t", "down")
    notifier = notifier_for(databend)
    databend("EXECUTE TASK t")
    hook.wait_for(3)
    assert notifier.wait_idle(WAIT, settled=True)
    assert [r[1:3] for r in history(databend)] == [(1, "RETRYING"), (2, "RETRYING"), (3, "FAILED")]
    assert len(hook.requests) == 3
    outcome = databend.rows("SELECT status, error_message FROM _ts_notifications")
    assert outcome == [("FAILED", "Gave up after 3 attempts; last error: HTTP 503 Service Unavailable")]


def test_history_ends_with_why_a_retried_message_was_given_up(databend, endpoints, notifier_for):
    # the integration is disabled while the message waits to be tried again: the history's last
    # row says so, not the earlier attempt's RETRYING
    hook = endpoint(endpoints, 503)
    integration(databend, "down", hook.url)
    failing_task(databend, "t", "down")
    notifier = notifier_for(databend, replace(FAST, backoff_base=0.5, backoff_max=0.5))
    databend("EXECUTE TASK t")
    hook.wait_for(1)
    databend("ALTER NOTIFICATION INTEGRATION down SET ENABLED = FALSE")
    assert notifier.wait_idle(WAIT, settled=True)
    rows = history(databend)
    assert [r[1:3] for r in rows] == [(1, "RETRYING"), (2, "FAILED")]
    assert "disabled" in rows[-1][4]
    assert len(hook.requests) == 1


def test_a_client_error_is_not_retried(databend, endpoints, notifier_for):
    hook = endpoint(endpoints, 404)
    integration(databend, "wrong", hook.url)
    failing_task(databend, "t", "wrong")
    notifier = notifier_for(databend)
    databend("EXECUTE TASK t")
    hook.wait_for(1)
    assert notifier.wait_idle(WAIT)
    assert history(databend) == [("wrong", 1, "FAILED", 404, "HTTP 404 Not Found")]


def test_an_unreachable_endpoint_fails_after_the_attempt_limit(databend, notifier_for):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    integration(databend, "gone", f"http://127.0.0.1:{port}/notify")
    failing_task(databend, "t", "gone")
    notifier = notifier_for(databend)
    databend("EXECUTE TASK t")
    assert notifier.wait_idle(WAIT, settled=True)
    rows = history(databend)
    assert [r[1:3] for r in rows] == [(1, "RETRYING"), (2, "RETRYING"), (3, "FAILED")]
    assert all(r[4].startswith("connection error") for r in rows)


# ---------------------------------------------------------------- isolation
def test_a_hanging_endpoint_delays_no_run_and_no_other_integration(databend, endpoints, notifier_for):
    stuck = endpoint(endpoints, hang=True)
    healthy = endpoint(endpoints)
    integration(databend, "stuck", stuck.url)
    integration(databend, "healthy", healthy.url)
    failing_task(databend, "slow_side", "stuck")
    failing_task(databend, "fast_side", "healthy")
    notifier_for(databend)
    databend("EXECUTE TASK slow_side")
    stuck.wait_for(1)  # the stuck endpoint now holds its request open
    for _ in range(3):  # runs keep being recorded while it hangs
        databend("EXECUTE TASK fast_side")
        databend("EXECUTE TASK slow_side")
        databend.advance(60)
    assert len(healthy.wait_for(3)) == 3
    assert databend.rows("SELECT count(*) FROM system.task_history WHERE state = 'FAILED'") == [(7,)]
    assert len(stuck.requests) == 1
    pending = databend.rows("SELECT count(*) FROM _ts_notifications WHERE integration_name = 'stuck'"
                            " AND status = 'PENDING'")
    assert pending == [(4,)]


# ---------------------------------------------------------------- nothing is lost across restarts
def test_a_pending_message_is_delivered_by_the_next_process(tmp_path, endpoints):
    hook = endpoint(endpoints)
    first = Shell(tmp_path / "catalog.db", dialect="databend")
    integration(first, "later", hook.url)
    failing_task(first, "t", "later")
    first("EXECUTE TASK t")  # no notifier runs in this process
    assert first.rows("SELECT status FROM system.notification_history") == [("PENDING",)]
    first.close()
    assert hook.requests == []

    second = Shell(tmp_path / "catalog.db", dialect="databend")
    notifier = Notifier(second.catalog, second.clock, FAST, poll_seconds=0.02)
    notifier.start()
    try:
        [request] = hook.wait_for(1)
        assert notifier.wait_idle(WAIT)
    finally:
        notifier.stop(drain_seconds=0)
    assert json.loads(request["body"])["taskName"] == "t"
    assert second.rows("SELECT status FROM system.notification_history") == [("SUCCEEDED",)]
    second.close()


def test_a_message_held_by_a_process_that_died_is_taken_over_when_its_lease_ends(databend, endpoints,
                                                                                  notifier_for):
    hook = endpoint(endpoints)
    integration(databend, "orphan", hook.url)
    failing_task(databend, "t", "orphan")
    databend("EXECUTE TASK t")
    conn = databend.catalog.connect()  # claimed by a process that is gone; its lease has ended
    conn.execute("UPDATE _ts_notifications SET claimed_by = 'gone-process', claimed_until = 1")
    conn.close()
    notifier = notifier_for(databend)
    hook.wait_for(1)
    assert notifier.wait_idle(WAIT, settled=True)
    assert history(databend) == [("orphan", 1, "SUCCEEDED", 200, None)]


def test_stop_hands_back_messages_waiting_out_a_backoff(databend, endpoints):
    hook = endpoint(endpoints, 503, 200)
    integration(databend, "later", hook.url)
    failing_task(databend, "t", "later")
    slow = DeliverySettings(connect_timeout=1.0, read_timeout=2.0, max_attempts=3, backoff_base=60.0,
                            backoff_max=60.0, trust_env=False)
    notifier = Notifier(databend.catalog, databend.clock, slow, poll_seconds=0.02)
    notifier.start()
    databend("EXECUTE TASK t")
    hook.wait_for(1)
    assert notifier.wait_idle(WAIT)  # the retry is a minute away: nothing is due now
    notifier.stop(drain_seconds=0)
    assert databend.rows("SELECT status, attempts, claimed_by FROM _ts_notifications") == [("PENDING", 1, None)]


# ---------------------------------------------------------------- the Databend guide's example
SEED_SCRIPT = """\
CREATE TASK my_task
WAREHOUSE = 'default'
SCHEDULE = 1 MINUTE
ERROR_INTEGRATION = 'my_webhook'
AS
SELECT 1 / 0;

CREATE NOTIFICATION INTEGRATION my_webhook
TYPE = WEBHOOK
ENABLED = TRUE
WEBHOOK = (
    url = '{url}',
    method = 'POST'
);

ALTER TASK my_task RESUME;
SELECT SYSTEM$WAIT(2, 'MINUTES');
"""


@pytest.mark.skipif(importlib.util.find_spec("taskshell.scheduler.scheduler") is None,
                    reason="needs the scheduler")
def test_seed_example_as_a_script_under_the_virtual_clock(tmp_path: Path, endpoints):
    hook = endpoint(endpoints)
    script = tmp_path / "seed.sql"
    script.write_text(SEED_SCRIPT.format(url=hook.url))
    done = run_program([str(tmp_path / "catalog.db"), "--dialect", "databend", "--clock",
                        "2026-11-01T00:00:00-07:00", "-f", str(script)])
    assert done.returncode == 0, done.stderr
    assert "'my_webhook' does not exist yet" in done.stderr
    requests = hook.wait_for(2)
    assert len(requests) == 2  # one failed run a minute
    bodies = [json.loads(r["body"]) for r in requests]
    assert [b["messages"][0]["scheduledTime"] for b in bodies] == [
        "2026-11-01T07:01:00.000000Z", "2026-11-01T07:02:00.000000Z"]
    assert all("divided by zero" in b["messages"][0]["errorMessage"] for b in bodies)


def test_seed_example_through_execute_task(databend, endpoints, notifier_for):
    hook = endpoint(endpoints)
    failing_task(databend, "my_task", "my_webhook")
    integration(databend, "my_webhook", hook.url)
    databend("ALTER TASK my_task RESUME")
    notifier_for(databend)
    databend("EXECUTE TASK my_task")
    [request] = hook.wait_for(1)
    assert "divided by zero" in json.loads(request["body"])["messages"][0]["errorMessage"]
