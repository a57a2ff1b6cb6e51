"""Run groups on the real clock: runs claimed together share one commit, each in a savepoint."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from taskshell.catalog.db import Catalog
from taskshell.interpreter.interpreter import Interpreter
from taskshell.interpreter.session import Session
from taskshell.scheduler import claims
from taskshell.scheduler.clock import RealClock
from taskshell.scheduler.scheduler import Scheduler

ENDLESS_INSERT = ("INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
                  " SELECT x FROM c")


def _catalog(path: Path, statements: list[str]) -> Catalog:
    catalog = Catalog(str(path))
    interp = Interpreter(Session(catalog=catalog, clock=RealClock()))
    for sql in statements:
        interp.execute(sql)
    interp.close()
    return catalog


def _run_as_group(catalog: Catalog, names: list[str], hooks: tuple = (),
                  scheduler: Scheduler | None = None) -> Scheduler:
    """Claim one fire time of every root in `names` in one transaction and run them as one group,
    the way the scheduler's claimer does (`hooks`: the runner's on_finished hooks)."""
    scheduler = scheduler or Scheduler(catalog, RealClock())
    scheduler.runner.on_finished.extend(hooks)
    conn = catalog.connect()
    try:
        scheduler._refresh(conn)
    finally:
        conn.close()
    roots = sorted((r for r in scheduler._roots.values() if r.name in names), key=lambda r: names.index(r.name))
    at = RealClock().now() - timedelta(milliseconds=5)
    handled, rest = scheduler._claim([claims.Due(r.task_id, r.schedule, r.resumed_on, at) for r in roots])
    assert not rest and all(item.started is not None for item in handled)
    members = []
    for item in handled:
        scheduler.graphs.adopt(item.run)
        root_id = item.run.plan.root.id
        members.append((item.run, root_id, item.run.controls[root_id], item.started))
    scheduler.graphs.run_group(members)
    return scheduler


def _history(catalog: Catalog) -> dict[str, tuple]:
    conn = sqlite3.connect(catalog.path)
    try:
        return {name: (state, code, message, start >= scheduled) for name, state, code, message, start, scheduled
                in conn.execute("SELECT name, state, error_code, error_message, query_start_time, scheduled_time"
                                " FROM _ts_task_runs")}
    finally:
        conn.close()


def test_a_failing_body_rolls_back_alone_and_the_group_commits_once(tmp_path):
    catalog = _catalog(tmp_path / "c.db", [
        "CREATE TABLE log (name VARCHAR)",
        "CREATE TASK a SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('a')",
        "CREATE TASK b SCHEDULE = '1 MINUTE' AS BEGIN INSERT INTO log VALUES ('b'); SELECT 1/0; END",
        "CREATE TASK c SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('c')",
        *[f"ALTER TASK {name} RESUME" for name in "abc"],
    ])
    scheduler = _run_as_group(catalog, ["A", "B", "C"])
    scheduler.runner.close()
    conn = sqlite3.connect(catalog.path)
    assert sorted(r[0] for r in conn.execute("SELECT name FROM log")) == ["a", "c"]
    history = _history(catalog)
    assert history["A"] == ("SUCCEEDED", None, None, True)
    assert history["C"] == ("SUCCEEDED", None, None, True)
    assert history["B"][:2] == ("FAILED", "1006")  # divided by zero; its insert was undone
    graphs = dict(conn.execute("SELECT root_name, state FROM _ts_graph_runs"))
    assert graphs == {"A": "SUCCEEDED", "B": "FAILED", "C": "SUCCEEDED"}
    assert conn.execute("SELECT consecutive_failures FROM _ts_tasks WHERE name = 'B'").fetchone() == (1,)


def test_a_run_refused_by_a_hook_after_its_body_fails_whole_and_the_others_commit(tmp_path, monkeypatch):
    # the bodies of a group run first and their ends are recorded after: a hook that refuses B's
    # success sends the transaction back; A runs again, B is recorded failed with nothing kept, and
    # C goes on in a transaction of its own
    from taskshell.scheduler import runs
    monkeypatch.setattr(runs, "GROUP_HOLD_SECONDS", 60.0)  # all three bodies in the first transaction
    catalog = _catalog(tmp_path / "c.db", [
        "CREATE TABLE log (name VARCHAR)",
        *[f"CREATE TASK {name} SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('{name}')" for name in "abc"],
        *[f"ALTER TASK {name} RESUME" for name in "abc"],
    ])
    seen: list[tuple[str, str]] = []

    def refuse_b(conn, run):
        seen.append((run.task, run.state))
        if run.task == "B" and run.state == "SUCCEEDED":
            raise sqlite3.OperationalError("the outbox is full")

    scheduler = _run_as_group(catalog, ["A", "B", "C"], hooks=(refuse_b,))
    scheduler.runner.close()
    conn = sqlite3.connect(catalog.path)
    assert sorted(r[0] for r in conn.execute("SELECT name FROM log")) == ["a", "c"]
    history = _history(catalog)
    assert history["A"] == ("SUCCEEDED", None, None, True)
    assert history["C"] == ("SUCCEEDED", None, None, True)
    assert history["B"][0] == "FAILED" and "the outbox is full" in history["B"][2]
    assert seen == [("A", "SUCCEEDED"), ("B", "SUCCEEDED"), ("A", "SUCCEEDED"), ("B", "FAILED"), ("C", "SUCCEEDED")]
    assert dict(conn.execute("SELECT root_name, state FROM _ts_graph_runs")) == {
        "A": "SUCCEEDED", "B": "FAILED", "C": "SUCCEEDED"}


def test_an_interrupted_write_reruns_the_runs_before_it_and_records_the_timeout(tmp_path):
    # SQLite rolls a whole transaction back when it interrupts a write: A's insert is lost with it
    # and A must run again; B is recorded as timed out, C runs after it
    catalog = _catalog(tmp_path / "c.db", [
        "CREATE TABLE log (name VARCHAR)",
        "CREATE TABLE big (x INT)",
        "CREATE TASK a SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('a')",
        f"CREATE TASK b SCHEDULE = '1 MINUTE' USER_TASK_TIMEOUT_MS = 300 AS {ENDLESS_INSERT}",
        "CREATE TASK c SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('c')",
        *[f"ALTER TASK {name} RESUME" for name in "abc"],
    ])
    scheduler = _run_as_group(catalog, ["A", "B", "C"])
    scheduler.runner.close()
    conn = sqlite3.connect(catalog.path)
    assert sorted(r[0] for r in conn.execute("SELECT name FROM log")) == ["a", "c"]
    assert conn.execute("SELECT count(*) FROM big").fetchone() == (0,)
    history = _history(catalog)
    assert history["A"] == ("SUCCEEDED", None, None, True)
    assert history["C"] == ("SUCCEEDED", None, None, True)
    assert history["B"][:2] == ("FAILED", "000630")
    assert "USER_TASK_TIMEOUT_MS of 300 ms" in history["B"][2]
    assert conn.execute("SELECT count(*) FROM _ts_task_runs").fetchone() == (3,)


def test_a_run_decided_elsewhere_before_the_group_began_is_left_as_recorded(tmp_path):
    catalog = _catalog(tmp_path / "c.db", [
        "CREATE TABLE log (name VARCHAR)",
        "CREATE TASK a SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('a')",
        "CREATE TASK b SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('b')",
        *[f"ALTER TASK {name} RESUME" for name in "ab"],
    ])
    original = claims.claim

    def claim_then_cancel_b(conn, due, *args, **kwargs):
        handled, rest = original(conn, due, *args, **kwargs)
        # another process decided B's run (DROP TASK does this) between the claim and the group
        other = sqlite3.connect(catalog.path)
        other.execute("UPDATE _ts_task_runs SET state = 'CANCELLED', error_message = 'elsewhere'"
                      " WHERE name = 'B'")
        other.commit()
        other.close()
        return handled, rest

    claims.claim = claim_then_cancel_b
    try:
        scheduler = _run_as_group(catalog, ["A", "B"])
    finally:
        claims.claim = original
    scheduler.runner.close()
    conn = sqlite3.connect(catalog.path)
    assert [r[0] for r in conn.execute("SELECT name FROM log")] == ["a"]
    assert _history(catalog)["B"][:3] == ("CANCELLED", None, "elsewhere")


def test_runs_decided_elsewhere_send_a_group_back_once_not_once_each(tmp_path, monkeypatch):
    from taskshell.scheduler import runs
    monkeypatch.setattr(runs, "GROUP_HOLD_SECONDS", 60.0)
    names = ["A", "B", "C", "D", "E"]
    catalog = _catalog(tmp_path / "c.db", [
        "CREATE TABLE log (name VARCHAR)",
        *[f"CREATE TASK {n} SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('{n}')" for n in names],
        *[f"ALTER TASK {n} RESUME" for n in names],
    ])
    original = claims.claim

    def claim_then_cancel(conn, due, *args, **kwargs):
        handled, rest = original(conn, due, *args, **kwargs)
        other = sqlite3.connect(catalog.path)  # another process decides three of the five runs
        other.execute("UPDATE _ts_task_runs SET state = 'CANCELLED', error_message = 'elsewhere'"
                      " WHERE name IN ('B', 'C', 'E')")
        other.commit()
        other.close()
        return handled, rest

    seen: list[str] = []
    monkeypatch.setattr(claims, "claim", claim_then_cancel)
    scheduler = _run_as_group(catalog, names, hooks=(lambda conn, run: seen.append(run.task),))
    scheduler.runner.close()
    conn = sqlite3.connect(catalog.path)
    assert sorted(r[0] for r in conn.execute("SELECT name FROM log")) == ["A", "D"]
    history = _history(catalog)
    assert {n: history[n][0] for n in names} == {
        "A": "SUCCEEDED", "B": "CANCELLED", "C": "CANCELLED", "D": "SUCCEEDED", "E": "CANCELLED"}
    # A's end is recorded before B's is found lost; the second attempt knows about C and E at once
    assert seen == ["A", "A", "D"]


def test_a_graph_run_left_open_by_a_retried_attempt_is_still_completed(tmp_path, monkeypatch):
    # A's success completes its (one-task) graph run in the first attempt; B's refused success sends
    # the transaction back, and by then the process is stopping, so the second attempt leaves A's
    # graph run to be completed afterwards: it must not stay EXECUTING
    from taskshell.scheduler import runs
    monkeypatch.setattr(runs, "GROUP_HOLD_SECONDS", 60.0)
    catalog = _catalog(tmp_path / "c.db", [
        *[f"CREATE TASK {n} SCHEDULE = '1 MINUTE' AS SELECT 1" for n in "ab"],
        *[f"ALTER TASK {n} RESUME" for n in "ab"],
    ])
    scheduler = Scheduler(catalog, RealClock())

    def refuse_b_once(conn, run):
        if run.task == "B" and run.state == "SUCCEEDED" and not scheduler.graphs.stopping:
            scheduler.graphs.stopping = True
            raise sqlite3.OperationalError("the outbox is full")

    _run_as_group(catalog, ["A", "B"], hooks=(refuse_b_once,), scheduler=scheduler)
    scheduler.runner.close()
    conn = sqlite3.connect(catalog.path)
    assert dict(conn.execute("SELECT name, state FROM _ts_task_runs")) == {"A": "SUCCEEDED", "B": "FAILED"}
    assert dict(conn.execute("SELECT root_name, state FROM _ts_graph_runs")) == {"A": "SUCCEEDED", "B": "FAILED"}


def test_the_claimer_runs_every_root_due_together_once(tmp_path):
    names = [f"t{i}" for i in range(40)]
    catalog = _catalog(tmp_path / "c.db", [
        "CREATE TABLE log (name VARCHAR)",
        *[f"CREATE TASK {n} SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('{n}')" for n in names],
        *[f"ALTER TASK {n} RESUME" for n in names],
    ])
    scheduler = Scheduler(catalog, RealClock())
    conn = catalog.connect()
    scheduler._refresh(conn)
    at = RealClock().now() - timedelta(milliseconds=1)
    with scheduler._lock:
        scheduler._heap = sorted((at, r.name, r.task_id, r.generation) for r in scheduler._roots.values())
    scheduler.scheduling = True
    scheduler._firing += 1
    scheduler._claimers += 1
    scheduler._claimer()  # on this thread, as the run thread would
    scheduler.scheduling = False
    scheduler.runner.close()
    assert sorted(r[0] for r in conn.execute("SELECT name FROM log")) == sorted(names)
    rows = conn.execute("SELECT state, query_start_time >= scheduled_time FROM _ts_task_runs").fetchall()
    assert rows == [("SUCCEEDED", 1)] * len(names)
    assert scheduler._claimers == 0 and scheduler._firing == 0
    conn.close()


def test_a_shorter_timeout_later_in_the_group_is_still_kept(tmp_path):
    # A's deadline (the default hour) is armed first; B's 200 ms must move the group's one call
    # earlier. B only reads, so its interrupt leaves the group's transaction and A's insert alone.
    endless_read = ("SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
                    " SELECT x FROM c)")
    catalog = _catalog(tmp_path / "c.db", [
        "CREATE TABLE log (name VARCHAR)",
        "CREATE TASK a SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('a')",
        f"CREATE TASK b SCHEDULE = '1 MINUTE' USER_TASK_TIMEOUT_MS = 200 AS {endless_read}",
        *[f"ALTER TASK {name} RESUME" for name in "ab"],
    ])
    scheduler = _run_as_group(catalog, ["A", "B"])
    scheduler.runner.close()
    conn = sqlite3.connect(catalog.path)
    assert [r[0] for r in conn.execute("SELECT name FROM log")] == ["a"]
    history = _history(catalog)
    assert history["A"] == ("SUCCEEDED", None, None, True)
    assert history["B"][:2] == ("FAILED", "000630")


def test_events_nobody_wants_are_not_made_and_failures_are_always_counted():
    from taskshell.scheduler import events

    bus = events.EventBus()
    seen: list[str] = []
    assert not bus.wants(events.RUN_STARTED) and bus.wants(events.RUN_FAILED)
    stop = bus.subscribe(lambda e: seen.append(e.kind), kinds=(events.TASK_AUTO_SUSPENDED,))
    assert bus.wants(events.TASK_AUTO_SUSPENDED) and not bus.wants(events.RUN_SUCCEEDED)
    at = RealClock().now()
    for kind in (events.RUN_SUCCEEDED, events.RUN_FAILED, events.TASK_AUTO_SUSPENDED):
        bus.publish(events.SchedulerEvent(kind=kind, task_name="T", at=at))
    assert seen == [events.TASK_AUTO_SUSPENDED] and bus.take_failures() == 1
    everything = bus.subscribe(lambda e: seen.append(e.kind))
    assert bus.wants(events.RUN_STARTED)
    everything()
    stop()
    assert not bus.wants(events.TASK_AUTO_SUSPENDED)


def test_a_group_commits_in_parts_when_its_runs_take_long(tmp_path, monkeypatch):
    from taskshell.scheduler import runs

    catalog = _catalog(tmp_path / "c.db", [
        "CREATE TABLE log (name VARCHAR)",
        *[f"CREATE TASK {n} SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('{n}')" for n in "abc"],
        *[f"ALTER TASK {n} RESUME" for n in "abc"],
    ])
    monkeypatch.setattr(runs, "GROUP_HOLD_SECONDS", 0.0)  # every run is "too long": one per transaction
    transactions = []
    original = runs.TaskRunner._stream_snapshot

    def snapshot(self, conn):  # read once at the start of every transaction of a group
        transactions.append(1)
        return original(self, conn)

    monkeypatch.setattr(runs.TaskRunner, "_stream_snapshot", snapshot)
    scheduler = _run_as_group(catalog, ["A", "B", "C"])
    scheduler.runner.close()
    assert len(transactions) == 3
    conn = sqlite3.connect(catalog.path)
    assert sorted(r[0] for r in conn.execute("SELECT name FROM log")) == ["a", "b", "c"]
    assert {v[0] for v in _history(catalog).values()} == {"SUCCEEDED"}


def test_a_body_that_breaks_unexpectedly_is_recorded_failed_and_its_group_goes_on(tmp_path, monkeypatch):
    from taskshell.scheduler import runs

    catalog = _catalog(tmp_path / "c.db", [
        "CREATE TABLE log (name VARCHAR)",
        *[f"CREATE TASK {n} SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('{n}')" for n in "abc"],
        *[f"ALTER TASK {n} RESUME" for n in "abc"],
    ])
    original = runs.TaskRunner._translations_of

    def translations_of(self, task, ctx):
        if task.name == "B":
            raise RuntimeError("a bug")
        return original(self, task, ctx)

    monkeypatch.setattr(runs.TaskRunner, "_translations_of", translations_of)
    scheduler = _run_as_group(catalog, ["A", "B", "C"])
    scheduler.runner.close()
    history = _history(catalog)
    assert history["A"][0] == history["C"][0] == "SUCCEEDED"
    assert history["B"][:3] == ("FAILED", "100000", "Internal error while running the task: a bug")
    conn = sqlite3.connect(catalog.path)
    assert sorted(r[0] for r in conn.execute("SELECT name FROM log")) == ["a", "c"]


def test_a_claimer_hands_what_comes_after_a_root_to_run_threads(tmp_path):
    # the child waits, so it never joins a group: the claimer must not run it itself, or nothing
    # would be claimed while it waits
    catalog = _catalog(tmp_path / "c.db", [
        "CREATE TASK r SCHEDULE = '1 MINUTE' AS SELECT 1",
        "CREATE TASK c AFTER r AS SELECT SYSTEM$WAIT(1)",
        "ALTER TASK c RESUME",
        "ALTER TASK r RESUME",
    ])
    scheduler = Scheduler(catalog, RealClock())
    conn = catalog.connect()
    scheduler._refresh(conn)
    at = RealClock().now() - timedelta(milliseconds=1)
    with scheduler._lock:
        scheduler._heap = [(at, r.name, r.task_id, r.generation) for r in scheduler._roots.values()]
    scheduler.scheduling = True
    scheduler._firing += 1
    scheduler._claimers += 1
    began = time.monotonic()
    scheduler._claimer()
    assert time.monotonic() - began < 0.8  # back before the child's second of waiting is over
    deadline = time.monotonic() + 10
    while scheduler.graphs.active and time.monotonic() < deadline:
        time.sleep(0.02)
    scheduler.scheduling = False
    scheduler.runner.close()
    assert dict(conn.execute("SELECT name, state FROM _ts_task_runs")) == {"R": "SUCCEEDED", "C": "SUCCEEDED"}
    conn.close()


def test_a_second_claimer_starts_beside_one_that_has_not_moved_on(tmp_path):
    catalog = _catalog(tmp_path / "c.db", ["CREATE TASK r SCHEDULE = '1 MINUTE' AS SELECT 1", "ALTER TASK r RESUME"])
    scheduler = Scheduler(catalog, RealClock())
    started: list[object] = []
    scheduler.runtime.spawn = lambda job, name="run": started.append(job)  # type: ignore[method-assign]
    now = RealClock().now()
    scheduler._heap = [(now - timedelta(seconds=1), "R", 1, 1)]
    scheduler._claimers, scheduler._claimed_at = 1, time.monotonic()
    scheduler._kick(now)
    assert started == []  # the claimer under way moved on a moment ago: it takes this fire time
    scheduler._claimed_at = time.monotonic() - 1.0
    scheduler._kick(now)
    assert len(started) == 1 and scheduler._claimers == 2  # it is stuck in a long body: one more
    scheduler._kick(now)
    assert len(started) == 1  # and not a third at once


def test_when_a_groups_transaction_fails_as_a_whole_each_run_is_recorded_alone(tmp_path, monkeypatch):
    from taskshell.scheduler import runs

    catalog = _catalog(tmp_path / "c.db", [
        "CREATE TABLE log (name VARCHAR)",
        *[f"CREATE TASK {n} SCHEDULE = '1 MINUTE' AS INSERT INTO log VALUES ('{n}')" for n in "ab"],
        *[f"ALTER TASK {n} RESUME" for n in "ab"],
    ])
    def broken(self, *args, **kwargs):  # the bookkeeping of B's failure breaks inside the transaction
        raise RuntimeError("bookkeeping broke")

    def fail_b(self, task, ctx):
        if task.name == "B":
            raise runs.TaskshellError("B fails", code="100001")
        return original_translations(self, task, ctx)

    original_translations = runs.TaskRunner._translations_of
    monkeypatch.setattr(runs.TaskRunner, "_translations_of", fail_b)
    monkeypatch.setattr(runs.TaskRunner, "_end_in_group", broken)
    scheduler = _run_as_group(catalog, ["A", "B"])
    scheduler.runner.close()
    history = _history(catalog)
    # A's insert went with the transaction: A is recorded failed too, nothing stays EXECUTING
    assert history["A"][:3] == ("FAILED", "100000", "Internal error while running the task: bookkeeping broke")
    assert history["B"][0] == "FAILED"
    conn = sqlite3.connect(catalog.path)
    assert conn.execute("SELECT count(*) FROM log").fetchone() == (0,)


def test_a_root_on_the_real_clock_starts_its_children_in_its_own_commit(tmp_path, monkeypatch):
    # on the real clock a task's success records EXECUTING the children it lets start (`_release`),
    # each holding a warehouse slot: all of them run, and every slot is given back
    from taskshell.scheduler.graphs import GraphRunner
    released: list[int] = []
    original = GraphRunner._release

    def counting(self, conn, run, task_id, value):
        taken = original(self, conn, run, task_id, value)
        released.extend(taken)
        return taken

    monkeypatch.setattr(GraphRunner, "_release", counting)
    catalog = Catalog(str(tmp_path / "c.db"))
    interp = Interpreter(Session(catalog=catalog, clock=RealClock()))
    try:
        for sql in ["CREATE TABLE log (name VARCHAR)",
                    "CREATE WAREHOUSE two WITH MAX_CONCURRENCY_LEVEL = 2",
                    "CREATE TASK r WAREHOUSE = two AS INSERT INTO log VALUES ('r')",
                    *[f"CREATE TASK c{i} WAREHOUSE = two AFTER r AS INSERT INTO log VALUES ('c{i}')" for i in range(5)],
                    "CREATE TASK d AFTER c0, c1 AS INSERT INTO log VALUES ('d')",
                    *[f"ALTER TASK c{i} RESUME" for i in range(5)], "ALTER TASK d RESUME"]:
            interp.execute(sql)
        interp.execute("EXECUTE TASK r")
        engine = interp.executor
        deadline = time.monotonic() + 10
        while engine.graphs.active and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not engine.graphs.active
        assert engine.runtime._used.get("two", 0) == 0  # no slot kept by a released run
        conn = sqlite3.connect(catalog.path)
        assert sorted(r[0] for r in conn.execute("SELECT name FROM log")) == ["c0", "c1", "c2", "c3", "c4", "d", "r"]
        states = dict(conn.execute("SELECT name, state FROM _ts_task_runs"))
        assert states == {name: "SUCCEEDED" for name in ["R", "C0", "C1", "C2", "C3", "C4", "D"]}
        assert conn.execute("SELECT state FROM _ts_graph_runs").fetchall() == [("SUCCEEDED",)]
        conn.close()
    finally:
        interp.close()
        catalog.close()
    # the root, still holding one of the two slots, released one child; the others came later from
    # its siblings' successes or from threads that found a slot
    assert released and len(released) == len(set(released))
