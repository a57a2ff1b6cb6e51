"""One task run: WHEN, a warehouse slot, the body in its own transaction, and the history row.

A run's DML and its SUCCEEDED history row commit in one transaction; a failing, timed-out or
cancelled body rolls back whole and the run is recorded FAILED or CANCELLED with the error's code
and text. Every state change of a run row is conditional on the row still being EXECUTING and ours:
DROP TASK and the expiry of a silent process may have decided its fate first.

`TaskRunner.on_finished` hooks run inside the transaction that records a run's final state, so a row
they write (a notification to send, a stream offset) commits with the run or not at all.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from taskshell.catalog import tasks as task_rows
from taskshell.catalog.db import Catalog, committed, insert_many
from taskshell.catalog.execute import run_steps
from taskshell.catalog.functions import translate_sqlite_error
from taskshell.catalog.streams import StreamInfo, read_streams
from taskshell.catalog.tasks import TaskRecord
from taskshell.errors import CONDITION_FALSE, TaskshellError
from taskshell.grammar.body import body_statements
from taskshell.scheduler import events, sqlenv
from taskshell.scheduler.clock import Clock
from taskshell.scheduler.runtime import RunControl, Runtime, make_runtime
from taskshell.translate.context import TranslateContext, Translation
from taskshell.translate.translator import translate

CONDITION_FALSE_MESSAGE = "Conditional expression for task evaluated to false."
DEFAULT_SUSPEND_AFTER = {"snowflake": 10, "databend": 0}
DEFAULT_TIMEOUT_MS = {"snowflake": 3_600_000, "databend": None}
TIMEOUT_CODE = "000630"
INTERNAL_CODE = "100000"
GROUP_HOLD_SECONDS = 0.05  # a group's transaction takes no further run after this long
SNOWFLAKE_DATABASE = "TASKSHELL"
_READ_KINDS = ("select", "show_tables", "describe_table")
_SCHEMA_KEPT = frozenset(_READ_KINDS + ("insert", "update", "delete", "merge"))
_QUERY_IDS = uuid.UUID("6f1c5b8e-3d2a-4c6b-9a57-2b4f0e8d1c3a")
# A translation is reused only if translating it at this far-off instant gives the same steps: one
# that folds CURRENT_TIMESTAMP (or any other value of the moment) differs, and is translated anew.
_TIME_PROBE = timedelta(days=397, hours=13, minutes=37, seconds=11, microseconds=123457)
_CACHE_LIMIT = 1024
_IDS_PER_STATEMENT = 500
_TIMED = object()  # the cache's mark for a text whose translation depends on the time


def us(instant: datetime) -> int:
    return int(instant.timestamp() * 1_000_000)


def from_us(value: int | None) -> datetime | None:
    """The instant `us` gave (None stays None)."""
    return None if value is None else datetime.fromtimestamp(value / 1_000_000, UTC)


_IDS = random.Random()  # seeded from the system's randomness; query ids need not be secret
os.register_at_fork(after_in_child=_IDS.seed)  # a forked process draws ids of its own


def _random_query_id() -> str:
    """A random (version 4) UUID's text, without a system call for every run's id."""
    h = f"{_IDS.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def timeout_message(timeout_ms: int) -> str:
    return (f"Task run reached its USER_TASK_TIMEOUT_MS of {timeout_ms} ms and was canceled; "
            "its changes were rolled back.")


@dataclass(slots=True)  # a record: never changed once made (frozen would cost ~2 µs more per run)
class RunRequest:
    task: TaskRecord
    root: TaskRecord
    scheduled_time: datetime
    scheduled_from: str  # 'SCHEDULE' | 'EXECUTE TASK' | 'RETRY'
    run_id: int  # the graph run group's id: epoch milliseconds of its original scheduled time
    graph_version: int
    attempt: int = 1
    graph_run_id: int | None = None
    predecessor_values: tuple[tuple[str, str | None], ...] = ()
    # the root has children or a finalizer: on Snowflake, failures count per graph run, against the root
    in_graph: bool = False


@dataclass(slots=True)  # a record: never changed once made (frozen would cost ~2 µs more per run)
class RunOutcome:
    state: str  # SUCCEEDED | FAILED | FAILED_AND_AUTO_SUSPENDED | SKIPPED | CANCELLED
    seq: int | None
    query_id: str | None
    error_code: str | None = None
    error_message: str | None = None
    return_value: str | None = None
    completed: datetime | None = None
    closed_graph: bool = False  # the run's commit also completed its graph run (see `Closer`)

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCEEDED"


@dataclass(slots=True)  # a record: never changed once made (frozen would cost ~2 µs more per run)
class FinishedRun:
    """A run's final row, as handed to `on_finished` hooks inside the recording transaction."""

    seq: int
    task: str
    task_id: int
    root: str
    root_task_id: str
    state: str
    error_code: str | None
    error_message: str | None
    scheduled_time: datetime
    query_start_time: datetime | None
    completed_time: datetime
    run_id: int
    query_id: str | None
    attempt: int
    graph_run_id: int | None
    scheduled_from: str
    return_value: str | None
    # the integrations the run can report to, (error, success), each its task's or else its root's,
    # as the graph was pinned; None when not known (a run failed by another process's expiry check)
    integrations: tuple[str | None, str | None] | None = None
    # not one run but a whole task graph run that succeeded (the only success that is reported)
    graph_succeeded: bool = False


FinishedHook = Callable[[sqlite3.Connection, FinishedRun], None]
# Called inside a successful run's recording transaction with the end, the start and the return
# value of the run; True when it also ended the graph run.
Closer = Callable[[sqlite3.Connection, datetime, datetime, str | None], bool]


@dataclass(slots=True)  # a record: never changed once made (frozen would cost ~2 µs more per run)
class Started:
    """A run whose EXECUTING row a batch already committed (with its warehouse slot taken)."""

    seq: int
    query_id: str
    at: datetime
    req: RunRequest | None = None  # the request the row was recorded for


@lru_cache(maxsize=512)
def _statements(definition: str) -> tuple[str, ...]:
    return tuple(body_statements(definition))


@lru_cache(maxsize=512)
def _params(session_params: str | None) -> dict[str, Any]:
    # shared between runs: read only
    return json.loads(session_params or "{}")


_INSERT_RUN = """INSERT INTO _ts_task_runs(query_id, task_id, task_uuid, name, database_name, schema_name,
    owner, comment, schedule, warehouse, query_text, condition_text, state, error_code, error_message,
    scheduled_time, query_start_time, completed_time, root_task_id, graph_version, run_id, scheduled_from,
    attempt_number, config, session_params, claimed_by, heartbeat_at, graph_run_id) VALUES """
_INSERT_ONE_RUN = _INSERT_RUN + "(" + ", ".join("?" * 28) + ")"


class _NotOurs(Exception):
    """The run row was decided by someone else (DROP TASK, expiry) while the body ran."""


class _GroupLost(Exception):
    """A group's whole transaction was rolled back, or must be, because of its run `index`: how
    that run ended (None: as someone else recorded it)."""

    def __init__(self, index: int, decision: tuple[str, str | None, str | None] | None) -> None:
        super().__init__(decision[2] if decision else "recorded elsewhere")
        self.index = index
        self.decision = decision


class _Watch:
    """USER_TASK_TIMEOUT_MS for a run, or for the runs of a group, which run one at a time: one call
    on the runtime's clock at the earliest deadline, moved on to the run under way when it comes,
    instead of a call made and dropped for every run."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._lock = threading.Lock()
        self._current: tuple[RunControl, datetime, int] | None = None
        self._handle: Any = None
        self._armed: datetime | None = None

    def watch(self, control: RunControl | None, timeout_ms: int | None = None,
              started: datetime | None = None) -> None:
        """The run under way (None: none) and its timeout, counted from `started`."""
        with self._lock:
            if control is None or not timeout_ms or started is None:
                self._current = None
                return
            at = started + timedelta(milliseconds=timeout_ms)
            self._current = (control, at, timeout_ms)
            if self._armed is None or at < self._armed:
                self._arm(at)

    def _arm(self, at: datetime) -> None:
        if self._handle is not None:
            self._runtime.cancel_call(self._handle)
        self._armed = at
        self._handle = self._runtime.call_at(at, self._fire)

    def _fire(self) -> None:
        with self._lock:
            self._handle = self._armed = None
            current = self._current
            if current is None:
                return
            control, at, timeout_ms = current
            if self._runtime.clock.now() < at:
                self._arm(at)  # the run that set this deadline has ended; the one under way has its own
                return
        self._runtime.cancel(control, "FAILED", TIMEOUT_CODE, timeout_message(timeout_ms))

    def close(self) -> None:
        with self._lock:
            self._current = None
            if self._handle is not None:
                self._runtime.cancel_call(self._handle)
                self._handle = self._armed = None


@dataclass(slots=True)
class _Body:
    """What became of a group run's body (`TaskRunner._grouped_body`), for its end to be recorded."""

    index: int
    item: GroupItem
    started: datetime | None = None  # the body ran from `started` to `ended`
    ended: datetime | None = None
    value: str | None = None  # its return value
    decision: tuple[str, str | None, str | None] | None = None  # it failed or did not run: how it ended
    recorded: bool = False  # someone else recorded how the run ended
    kept: bool = True  # the body surely left the schema as it was


def _return_value(env: sqlenv.SqlEnv) -> str | None:
    return env.task.return_value if env.task else None


@dataclass(slots=True)  # a record: never changed once made (frozen would cost ~2 µs more per run)
class GroupItem:
    """A run of a group (see `TaskRunner.run_group`)."""

    req: RunRequest
    control: RunControl
    started: Started
    close: Closer | None = None


def count_failure(conn: sqlite3.Connection, task_id: int, dialect: str, now_us: int) -> tuple[str, int | None]:
    """Inside the caller's transaction: one more consecutive failure of `task_id` (a task, or the
    root that a Snowflake graph run counts against). At SUSPEND_TASK_AFTER_NUM_FAILURES the task is
    suspended; returns the failed run's state and the id of the task suspended, if any."""
    current = task_rows.get_by_id(conn, task_id)
    if current is None:
        return "FAILED", None
    failures = current.consecutive_failures + 1
    limit = current.suspend_task_after_num_failures
    if limit is None:
        limit = DEFAULT_SUSPEND_AFTER.get(dialect, 10)
    if limit and failures >= limit:
        task_rows.update(conn, task_id, state="suspended", last_suspended_on=now_us,
                         last_suspended_reason="SUSPENDED_DUE_TO_ERRORS", consecutive_failures=0)
        return "FAILED_AND_AUTO_SUSPENDED", current.id
    task_rows.update(conn, task_id, consecutive_failures=failures)
    return "FAILED", None


def groupable(task: TaskRecord) -> bool:
    """Whether a run of `task` may share its transaction with other runs: its body never waits
    (SYSTEM$WAIT would hold the group's write lock while it waits)."""
    return "SYSTEM$WAIT" not in task.definition.upper()


class TaskRunner:
    """Runs task bodies on pooled connections of its own."""

    def __init__(self, catalog: Catalog, clock: Clock, dialect: str = "snowflake",
                 timezone: str = "America/Los_Angeles", runtime: Runtime | None = None,
                 bus: events.EventBus | None = None) -> None:
        self.catalog = catalog
        self.clock = clock
        self.dialect = dialect
        self.timezone = timezone
        self.runtime = runtime or make_runtime(clock)
        self.bus = bus
        self.on_finished: list[FinishedHook] = []
        self.on_catalog_change: Callable[[], None] | None = None  # a body changed task definitions
        self._lock = threading.Lock()
        self._idle: list[tuple[sqlite3.Connection, sqlenv.SqlEnv, list[str]]] = []
        self._closed = False
        self._lent: dict[int, tuple[sqlite3.Connection, sqlenv.SqlEnv, list[str]]] = {}
        # the catalog's streams, re-read only when the schema or the stream rows change
        # (probe key, streams, token), replaced whole so that readers never see half of a change
        self._snapshot: tuple[object, Mapping[str, StreamInfo], int] = (None, MappingProxyType({}), 0)
        self._translations: dict[tuple, object] = {}
        self._bodies: dict[tuple, tuple[list[Translation], bool]] = {}  # see `_body`

    # ------------------------------------------------------------------ connections
    def _checkout(self) -> tuple[sqlite3.Connection, sqlenv.SqlEnv, list[str]]:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        zone = [self.timezone]
        env = sqlenv.SqlEnv(clock=self.clock, timezone=lambda: zone[0])
        conn = self.catalog.connect()
        self.runtime.prepare(conn)
        sqlenv.install(conn, env)
        return conn, env, zone

    def catalog_connection(self) -> sqlite3.Connection:
        """A pooled connection for bookkeeping; give it back with `release_connection`."""
        conn, env, zone = pair = self._checkout()
        self._lent[id(conn)] = pair
        return conn

    def release_connection(self, conn: sqlite3.Connection) -> None:
        self._return(self._lent.pop(id(conn)))

    def _return(self, pair: tuple[sqlite3.Connection, sqlenv.SqlEnv, list[str]]) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(pair)
                return
        pair[0].close()  # closed meanwhile: a connection still in use is closed when it comes back

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn, _, _ in idle:
            conn.close()

    # ------------------------------------------------------------------ a run
    def run(self, req: RunRequest, control: RunControl | None = None, started: Started | None = None,
            close: Closer | None = None) -> RunOutcome:
        """Run one task. `started`: a batch already recorded it EXECUTING and took its slot.
        `close`: called in the success transaction to end the graph run in the same commit."""
        control = control or RunControl()
        conn, env, zone = pair = self._checkout()
        try:
            return self._run(conn, env, zone, req, control, started, close)
        finally:
            env.task, env.wait = None, None
            self._return(pair)

    def _run(self, conn: sqlite3.Connection, env: sqlenv.SqlEnv, zone: list[str], req: RunRequest,
             control: RunControl, started: Started | None = None, close: Closer | None = None) -> RunOutcome:
        task = req.task
        ctx = self._prepare(conn, env, zone, req, control)
        if started is not None:
            try:
                if control.cancelled:
                    return self._record_end(conn, req, started.seq, started.query_id, started.at,
                                            control.state or "CANCELLED", control.code, control.message)
                return self._execute(conn, env, req, control, ctx, started, close)
            finally:
                self.runtime.release_slot(task.warehouse)
        if control.cancelled:
            return self._record_end(conn, req, None, None, None, control.state or "CANCELLED",
                                    control.code, control.message)
        if task.condition:
            databend = ctx.dialect == "databend"  # its own words for WHEN outcomes (SEMANTICS §5.1)
            try:
                holds = self._condition_holds(conn, task.condition, ctx)
            except TaskshellError as err:
                message = f"WHEN_CONDITION_EVALUATION_ERROR: {err.message}" if databend else err.message
                return self._record_end(conn, req, None, None, None, "FAILED", err.code, message)
            if not holds:
                if databend:
                    code, message = None, f"WHEN_CONDITION_FALSE: condition '{task.condition}' evaluated to false"
                else:
                    code, message = CONDITION_FALSE, CONDITION_FALSE_MESSAGE
                return self._record_end(conn, req, None, None, None, "SKIPPED", code, message)
        if not self.runtime.acquire_slot(task.warehouse, control):
            return self._record_end(conn, req, None, None, None, control.state or "CANCELLED",
                                    control.code, control.message)
        try:
            return self._execute(conn, env, req, control, ctx, None, close)
        finally:
            self.runtime.release_slot(task.warehouse)

    def _prepare(self, conn: sqlite3.Connection, env: sqlenv.SqlEnv, zone: list[str], req: RunRequest,
                 control: RunControl) -> TranslateContext:
        """The run's translation setting, and its task functions' view of the run."""
        dialect = self._enter(env, zone, req, control)
        return self._context(req.task, zone[0], dialect, self._stream_snapshot(conn))

    def _enter(self, env: sqlenv.SqlEnv, zone: list[str], req: RunRequest, control: RunControl) -> str:
        """Set the task functions' view of the run and the run's time zone; the run's dialect."""
        task = req.task
        params = _params(task.session_params)
        zone[0] = str(params.get("TIMEZONE") or self.timezone)
        env.deferred.clear()  # what a body before this one asked for and did not get
        env.task = sqlenv.TaskRunInfo(task.name, req.root.name, req.root.uuid, req.run_id, req.scheduled_time,
                                      None, dict(req.predecessor_values))
        env.wait = lambda seconds: self.runtime.wait(control, seconds)
        return str(params.get("DIALECT") or self.dialect).lower()

    def _context(self, task: TaskRecord, zone: str, dialect: str,
                 streams: Mapping[str, StreamInfo]) -> TranslateContext:
        return TranslateContext(now=self.clock.now(), timezone=zone, dialect=dialect, database=task.database_name,
                                schema=task.schema_name, role=task.owner, in_task=True, streams=streams)

    # ------------------------------------------------------------------ runs that share a commit
    def run_group(self, items: list[GroupItem]) -> list[RunOutcome]:
        """Run tasks that a batch already recorded EXECUTING (their slots taken), one after another
        in a write transaction, each body in a savepoint of its own: a body that fails rolls back
        alone, and the runs share one commit. The bodies run first, one right after the other, and
        then each run's end is recorded in the same transaction, so that a run's start does not wait
        for the bookkeeping of the runs before it. A transaction takes further runs only for
        GROUP_HOLD_SECONDS, so that the write lock is never held long for many runs; the rest go on
        in the next one. Events are published once a transaction has committed.

        When SQLite rolls the whole transaction back (it does so when it interrupts a write), or a
        run's end cannot be recorded after its body (someone else decided the run meanwhile, or an
        `on_finished` hook refused it), the transaction is run again from its first run up to that
        run, which is recorded as what happened to it without running its body; the runs after it
        go on in the next transaction. A run decided elsewhere has the retried transaction first
        look for every other run of the group decided elsewhere too."""
        conn, env, zone = pair = self._checkout()
        outcomes: list[RunOutcome] = []
        decided: dict[int, tuple[str, str | None, str | None] | None] = {}  # None: as recorded elsewhere
        stop, recheck = len(items), False
        watch = _Watch(self.runtime)
        try:
            while len(outcomes) < len(items):
                first = len(outcomes)
                notices: list[tuple] = []
                done: list[RunOutcome] = []
                resets: list[int] = []
                try:
                    with self.runtime.write(conn):
                        if recheck:
                            self._decided_elsewhere(conn, items, first, decided)
                        until = time.monotonic() + GROUP_HOLD_SECONDS
                        streams = self._stream_snapshot(conn)
                        bodies: list[_Body] = []
                        for index in range(first, stop):
                            body = self._grouped_body(conn, env, zone, items[index], index, decided, streams,
                                                      watch)
                            bodies.append(body)
                            if time.monotonic() > until:
                                break
                            if not body.kept:
                                streams = self._stream_snapshot(conn)
                        for body in bodies:
                            done.append(self._settle(conn, body, notices, resets))
                        self._reset_counts(conn, resets)
                except _GroupLost as lost:
                    # the next attempt ends with the run that sent this one back, so that the bodies
                    # after it do not run again for every run lost before them; a run recorded
                    # elsewhere may not be the only one: the next attempt first looks at all of them
                    decided[lost.index] = lost.decision
                    stop, recheck = lost.index + 1, lost.decision is None
                    continue
                except Exception as exc:  # noqa: BLE001 - the transaction failed as a whole (could not
                    # begin or commit): each of its runs is recorded alone
                    _, code, message = self.failure(None, exc)
                    return outcomes + [self._record_alone(conn, item, code, message) for item in items[first:]]
                self._publish_all(notices)
                outcomes.extend(done)
                stop, recheck = len(items), False
            return outcomes
        finally:
            watch.close()
            for item in items:
                self.runtime.release_slot(item.req.task.warehouse)
            env.task, env.wait = None, None
            self._return(pair)

    def _decided_elsewhere(self, conn: sqlite3.Connection, items: list[GroupItem], first: int,
                           decided: dict[int, tuple[str, str | None, str | None] | None]) -> None:
        """Inside a retried attempt's transaction: mark decided (as recorded elsewhere) every run of
        `items[first:]` whose row is no longer this process's EXECUTING row."""
        pending = {items[i].started.seq: i for i in range(first, len(items)) if i not in decided}
        seqs = list(pending)
        for at in range(0, len(seqs), _IDS_PER_STATEMENT):
            part = seqs[at:at + _IDS_PER_STATEMENT]
            for (seq,) in conn.execute(
                    "SELECT seq FROM _ts_task_runs WHERE state = 'EXECUTING' AND claimed_by = ?"
                    f" AND seq IN ({', '.join('?' * len(part))})", [self.catalog.process_id, *part]):
                pending.pop(seq, None)
        for index in pending.values():
            decided[index] = None

    def _record_alone(self, conn: sqlite3.Connection, item: GroupItem, code: str | None,
                      message: str | None) -> RunOutcome:
        """A run of a group whose transaction failed as a whole, recorded FAILED on its own; if even
        that fails, the row stays EXECUTING for liveness to settle when this process is gone."""
        begun = item.started
        try:
            return self._record_end(conn, item.req, begun.seq, begun.query_id, begun.at, "FAILED", code, message)
        except Exception:  # noqa: BLE001 - nothing more can be written now
            return RunOutcome("FAILED", begun.seq, begun.query_id, code, message, completed=self.clock.now())

    def _grouped_body(self, conn: sqlite3.Connection, env: sqlenv.SqlEnv, zone: list[str], item: GroupItem,
                      index: int, decided: dict[int, tuple[str, str | None, str | None] | None],
                      streams: Mapping[str, StreamInfo], watch: _Watch) -> _Body:
        """The body of one run of a group, in a savepoint: what happened, for `_settle` to record.
        A run decided before (cancelled, or by an earlier attempt of the transaction) does not run."""
        req, control = item.req, item.control
        dialect = self._enter(env, zone, req, control)
        if index in decided:
            decision = decided[index]
            return _Body(index, item, decision=decision, recorded=decision is None)
        if control.cancelled:
            return _Body(index, item, decision=(control.state or "CANCELLED", control.code, control.message))
        started = self.clock.now()
        task = req.task
        watch.watch(control, self._timeout_of(task, dialect), started)
        conn.execute("SAVEPOINT ts_run")
        try:
            translations, kept = self._body(task, zone[0], dialect, streams)
            self._run_body(conn, translations, control, env)
        except Exception as exc:  # noqa: BLE001 - whatever a body raises, its run is recorded
            decision = self.failure(control, exc)
            if not conn.in_transaction:
                raise _GroupLost(index, decision) from exc
            self._undo(conn)
            return _Body(index, item, started, self.clock.now(), decision=decision, kept=False)
        finally:
            watch.watch(None)
        conn.execute("RELEASE ts_run")
        return _Body(index, item, started, self.clock.now(), _return_value(env), kept=kept)

    def _settle(self, conn: sqlite3.Connection, body: _Body, notices: list[tuple], resets: list[int]) -> RunOutcome:
        """Inside the group's transaction: record how a run of the group ended. A run whose body
        succeeded but whose end cannot be recorded sends the transaction back (`_GroupLost`)."""
        item = body.item
        req, begun = item.req, item.started
        if body.recorded:
            return self._as_recorded(conn, begun.seq, begun.query_id)
        if body.decision is not None:
            if body.started is not None:
                notices.append((events.RUN_STARTED, req, "EXECUTING"))
            return self._end_in_group(conn, req, begun, body.started, body.decision, notices, resets, body.ended)
        assert body.started is not None and body.ended is not None
        try:
            outcome = self._succeed(conn, req, begun.seq, begun.query_id, body.started, body.value, item.close,
                                    resets, body.ended)
        except _NotOurs as exc:
            raise _GroupLost(body.index, None) from exc
        except Exception as exc:  # noqa: BLE001 - e.g. an on_finished hook refused the run: it fails whole
            raise _GroupLost(body.index, self.failure(None, exc)) from exc
        notices.append((events.RUN_STARTED, req, "EXECUTING"))
        notices.append((events.RUN_SUCCEEDED, req, "SUCCEEDED"))
        return outcome

    def _body(self, task: TaskRecord, zone: str, dialect: str,
              streams: Mapping[str, StreamInfo]) -> tuple[list[Translation], bool]:
        """The translations of `task`'s body, and whether none of them changes the schema; a body
        whose translation does not depend on the moment is translated once per setting."""
        _, snapshot, token = self._snapshot
        key = (task.definition, dialect, zone, task.database_name, task.schema_name, task.owner, token)
        found = self._bodies.get(key) if streams is snapshot else None
        if found is not None:
            return found
        translations = self._translations_of(task, self._context(task, zone, dialect, streams))
        body = (translations, all(t.kind in _SCHEMA_KEPT for t in translations))
        if streams is snapshot and all(self._translations.get(self._key(s, dialect, zone, task, token))
                                       is t for s, t in zip(_statements(task.definition), translations,
                                                             strict=True)):
            if len(self._bodies) >= _CACHE_LIMIT:
                self._bodies.clear()
            self._bodies[key] = body
        return body

    @staticmethod
    def _undo(conn: sqlite3.Connection) -> None:
        conn.execute("ROLLBACK TO ts_run")
        conn.execute("RELEASE ts_run")

    def _end_in_group(self, conn: sqlite3.Connection, req: RunRequest, begun: Started, started: datetime | None,
                      decision: tuple[str, str | None, str | None], notices: list[tuple],
                      resets: list[int], ended: datetime | None = None) -> RunOutcome:
        state, code, message = decision
        self._reset_counts(conn, resets)  # a failure counts on from the successes before it
        try:
            outcome, more = self._end_rows(conn, req, begun.seq, begun.query_id, started, state, code, message,
                                           ended or self.clock.now())
        except _NotOurs:
            return self._as_recorded(conn, begun.seq, begun.query_id)
        notices.extend(more)
        return outcome

    def _execute(self, conn: sqlite3.Connection, env: sqlenv.SqlEnv, req: RunRequest,
                 control: RunControl, ctx: TranslateContext, begun: Started | None,
                 close: Closer | None) -> RunOutcome:
        task = req.task
        if begun is None:
            started = self.clock.now()
            query_id = self._query_id(req, started)
            with self.runtime.write(conn):
                seq = self._insert_run(conn, req, "EXECUTING", query_id, started)
        else:
            seq, query_id, started = begun.seq, begun.query_id, begun.at
        self._publish(events.RUN_STARTED, req, "EXECUTING")
        watch = _Watch(self.runtime)
        watch.watch(control, self._timeout_of(task, ctx.dialect), started)
        try:
            translations = self._translations_of(task, ctx)
            if any(t.kind not in _READ_KINDS for t in translations) or self._read_under_lock(task):
                with self.runtime.write(conn):
                    self._run_body(conn, translations, control, env)
                    outcome = self._succeed(conn, req, seq, query_id, started, _return_value(env), close)
            else:
                # a body that only reads needs no write lock while it runs (or waits)
                conn.execute("BEGIN")
                with committed(conn):  # a failure rolls back: the stream windows it pinned go too
                    self._run_body(conn, translations, control, env, apply=False)
                with self.runtime.write(conn, patient=True):  # the body has run: record it
                    self._apply_deferred(conn, env)
                    outcome = self._succeed(conn, req, seq, query_id, started, _return_value(env), close)
        except _NotOurs:
            return self._taken(conn, seq, query_id)
        except Exception as exc:  # noqa: BLE001 - whatever a body raises, its run is recorded
            state, code, message = self.failure(control, exc)
            return self._record_end(conn, req, seq, query_id, started, state, code, message)
        finally:
            watch.close()
        self._publish(events.RUN_SUCCEEDED, req, "SUCCEEDED")
        return outcome

    @staticmethod
    def _timeout_of(task: TaskRecord, dialect: str) -> int | None:
        timeout_ms = task.user_task_timeout_ms
        if timeout_ms is None:
            timeout_ms = DEFAULT_TIMEOUT_MS.get(dialect)
        return timeout_ms or None

    def _translations_of(self, task: TaskRecord, ctx: TranslateContext) -> list[Translation]:
        translations = [self._translate(s, ctx) for s in _statements(task.definition)]
        if any(t.kind in ("begin", "commit", "rollback") for t in translations):
            raise TaskshellError(
                "Transaction control statements are not allowed in a task body; "
                "the whole body runs in one transaction.", code="000603")
        return translations

    @staticmethod
    def failure(control: RunControl | None, exc: Exception) -> tuple[str, str | None, str | None]:
        """A run's end state, code and message after its body (or its bookkeeping) raised `exc`."""
        if control is not None and control.cancelled:
            return control.state or "CANCELLED", control.code, control.message
        if isinstance(exc, TaskshellError):
            return "FAILED", exc.code, exc.message
        if isinstance(exc, sqlite3.Error):
            err = translate_sqlite_error(exc)
            return "FAILED", err.code, err.message
        return "FAILED", INTERNAL_CODE, f"Internal error while running the task: {exc}"

    def _read_under_lock(self, task: TaskRecord) -> bool:
        """Whether a body that only reads may run in the transaction that records its end: on the real
        clock, when it cannot wait (SYSTEM$WAIT) and so holds the write lock only for as long as it
        reads; one commit fewer. A virtual clock keeps the read apart, where the history shows it."""
        return not self.runtime.virtual and "SYSTEM$WAIT" not in task.definition.upper()

    def _run_body(self, conn: sqlite3.Connection, translations: list, control: RunControl,
                  env: sqlenv.SqlEnv, apply: bool = True) -> None:
        """Run a body's statements; `apply`: the catalog changes they ask for too (the caller holds
        the write lock), else the caller applies them in the transaction that records the run."""
        with control.lock:
            control.conn = conn
        try:
            for translation in translations:
                control.check()
                run_steps(conn, translation.steps)
                if apply:
                    self._apply_deferred(conn, env)
        finally:
            with control.lock:
                control.conn = None
        control.check()

    def _apply_deferred(self, conn: sqlite3.Connection, env: sqlenv.SqlEnv) -> None:
        """Catalog changes a function of the body asked for (SYSTEM$TASK_DEPENDENTS_ENABLE): part
        of the run, committed or rolled back with it."""
        while env.deferred:
            env.deferred.pop(0)(conn)
            if self.on_catalog_change is not None:
                self.on_catalog_change()

    def _condition_holds(self, conn: sqlite3.Connection, condition: str, ctx: TranslateContext) -> bool:
        translation = self._translate(f"SELECT ({condition})", ctx)
        outcome = run_steps(conn, translation.steps)
        value = outcome.rows[0][0] if outcome.rows else None
        if isinstance(value, str):
            return value.strip().lower() in ("true", "t", "yes", "y", "on", "1")
        return bool(value)

    # ------------------------------------------------------------------ translations
    def _stream_snapshot(self, conn: sqlite3.Connection) -> Mapping[str, StreamInfo]:
        # the snapshot is derived from the schema (triggers, columns) and the stream rows alone
        key = conn.execute(
            "SELECT (SELECT schema_version FROM pragma_schema_version), group_concat(id || ',' || name"
            " || ',' || gen || ',' || mode || ',' || flavour, ';') FROM _ts_streams").fetchone()
        snapshot = self._snapshot
        if key != snapshot[0]:
            with self._lock:
                snapshot = (key, read_streams(conn), self._snapshot[2] + 1)
                self._snapshot = snapshot
        return snapshot[1]

    def _translate(self, sql: str, ctx: TranslateContext) -> Translation:
        """`translate`, reusing an earlier translation of the same text in the same setting when it
        does not depend on the moment (CURRENT_TIMESTAMP and friends are folded into literals)."""
        _, streams, token = self._snapshot
        if ctx.streams is not streams:
            return translate(sql, ctx)
        key = (sql, ctx.dialect, ctx.timezone, ctx.database, ctx.schema, ctx.role, token)
        found = self._translations.get(key)
        if isinstance(found, Translation):
            return found
        translation = translate(sql, ctx)
        if found is None:
            later = translate(sql, replace(ctx, now=ctx.now + _TIME_PROBE))
            if len(self._translations) >= _CACHE_LIMIT:
                self._translations.clear()  # also forgets texts of snapshots gone by
            self._translations[key] = translation if later == translation else _TIMED
        return translation

    @staticmethod
    def _key(sql: str, dialect: str, zone: str, task: TaskRecord, token: int) -> tuple:
        """The key of `_translate`'s cache for a statement of `task`'s body."""
        return (sql, dialect, zone, task.database_name, task.schema_name, task.owner, token)

    def _query_id(self, req: RunRequest, started: datetime) -> str:
        if not self.runtime.virtual:
            return _random_query_id()
        # a virtual clock promises the same output for the same script: no random ids
        key = f"{req.task.uuid}|{req.graph_run_id}|{req.run_id}|{req.attempt}|{us(started)}"
        return str(uuid.uuid5(_QUERY_IDS, key))

    # ------------------------------------------------------------------ recording
    def _insert_run(self, conn: sqlite3.Connection, req: RunRequest, state: str, query_id: str | None,
                    started: datetime | None, error: tuple[str | None, str | None] = (None, None),
                    completed: datetime | None = None) -> int:
        cur = conn.execute(_INSERT_ONE_RUN,
                           self._run_values(req, state, query_id, started, error, completed, us(self.clock.now())))
        return int(cur.lastrowid)

    def _run_values(self, req: RunRequest, state: str, query_id: str | None, started: datetime | None,
                    error: tuple[str | None, str | None], completed: datetime | None, now_us: int) -> tuple:
        return self._row(req, state, query_id, us(req.scheduled_time), us(started) if started else None,
                         us(completed) if completed else None, error, now_us)

    def _row(self, req: RunRequest, state: str, query_id: str | None, scheduled_us: int, started_us: int | None,
             completed_us: int | None, error: tuple[str | None, str | None], now_us: int) -> tuple:
        task = req.task
        return (query_id, task.id, task.uuid, task.name, task.database_name, task.schema_name, task.owner,
                task.comment, task.schedule, task.warehouse, task.definition, task.condition, state,
                error[0], error[1], scheduled_us, started_us, completed_us, req.root.uuid, req.graph_version,
                req.run_id, req.scheduled_from, req.attempt, task.config, task.session_params,
                self.catalog.process_id, now_us, req.graph_run_id)

    def start_many(self, conn: sqlite3.Connection, reqs: list[RunRequest]) -> list[Started]:
        """Inside the caller's write transaction: record every run of `reqs` (each of its own graph
        run, or of one graph run with different tasks) EXECUTING as of now, a few statements in all."""
        now = self.clock.now()
        now_us = us(now)
        ids = [self._query_id(req, now) for req in reqs]
        scheduled: dict[datetime, int] = {}  # the runs of a batch share few scheduled times
        rows = []
        for req, query_id in zip(reqs, ids, strict=True):
            at = scheduled.get(req.scheduled_time)
            if at is None:
                at = scheduled[req.scheduled_time] = us(req.scheduled_time)
            rows.append(self._row(req, "EXECUTING", query_id, at, now_us, None, (None, None), now_us))
        seqs = {(graph_run_id, task_id): seq for seq, graph_run_id, task_id
                in insert_many(conn, _INSERT_RUN, rows, " RETURNING seq, graph_run_id, task_id")}
        return [Started(seqs[(req.graph_run_id, req.task.id)], query_id, now, req)
                for req, query_id in zip(reqs, ids, strict=True)]

    def _finished(self, req: RunRequest, seq: int, state: str, code: str | None, message: str | None,
                  query_id: str | None, started: datetime | None, completed: datetime,
                  return_value: str | None = None) -> FinishedRun:
        return FinishedRun(seq=seq, task=req.task.name, task_id=req.task.id, root=req.root.name,
                           root_task_id=req.root.uuid, state=state, error_code=code, error_message=message,
                           scheduled_time=req.scheduled_time, query_start_time=started,
                           completed_time=completed, run_id=req.run_id, query_id=query_id,
                           attempt=req.attempt, graph_run_id=req.graph_run_id,
                           scheduled_from=req.scheduled_from, return_value=return_value,
                           integrations=(req.task.error_integration or req.root.error_integration,
                                         req.task.success_integration or req.root.success_integration))

    def _succeed(self, conn: sqlite3.Connection, req: RunRequest, seq: int, query_id: str,
                 started: datetime, value: str | None, close: Closer | None = None,
                 resets: list[int] | None = None, ended: datetime | None = None) -> RunOutcome:
        """Record a run whose body succeeded (`value`: its return value; `ended`: when its body
        ended, default now)."""
        now = ended or self.clock.now()
        cur = conn.execute(
            "UPDATE _ts_task_runs SET state = 'SUCCEEDED', completed_time = ?, return_value = ?,"
            " query_start_time = ? WHERE seq = ? AND state = 'EXECUTING' AND claimed_by = ?",
            (us(now), value, us(started), seq, self.catalog.process_id))
        if cur.rowcount == 0:
            raise _NotOurs()
        if not self._counts_per_graph(req):
            # a graph's count is reset by the graph run succeeding (GraphRunner), not by one task
            if resets is None:
                self._reset_counts(conn, [req.task.id])
            else:
                resets.append(req.task.id)
        if self.on_finished:
            finished = self._finished(req, seq, "SUCCEEDED", None, None, query_id, started, now, value)
            for hook in self.on_finished:
                hook(conn, finished)
        closed = close is not None and close(conn, now, started, value)
        return RunOutcome("SUCCEEDED", seq, query_id, return_value=value, completed=now, closed_graph=closed)

    @staticmethod
    def _reset_counts(conn: sqlite3.Connection, task_ids: list[int]) -> None:
        """A success starts its task's count of consecutive failures again; empties `task_ids`."""
        for first in range(0, len(task_ids), _IDS_PER_STATEMENT):
            part = task_ids[first:first + _IDS_PER_STATEMENT]
            conn.execute("UPDATE _ts_tasks SET consecutive_failures = 0 WHERE consecutive_failures != 0"
                         f" AND id IN ({', '.join('?' * len(part))})", part)
        task_ids.clear()

    def _record_end(self, conn: sqlite3.Connection, req: RunRequest, seq: int | None, query_id: str | None,
                    started: datetime | None, state: str, code: str | None,
                    message: str | None) -> RunOutcome:
        """Record a run that did not succeed: FAILED (counted), SKIPPED or CANCELLED."""
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        now = self.clock.now()
        try:
            return self._record_end_in_transaction(conn, req, seq, query_id, started, state, code,
                                                   message, now)
        except _NotOurs:
            assert seq is not None and query_id is not None
            return self._taken(conn, seq, query_id)

    def _record_end_in_transaction(self, conn: sqlite3.Connection, req: RunRequest, seq: int | None,
                                   query_id: str | None, started: datetime | None, state: str,
                                   code: str | None, message: str | None, now: datetime) -> RunOutcome:
        with self.runtime.write(conn, patient=True):
            outcome, notices = self._end_rows(conn, req, seq, query_id, started, state, code, message, now)
        self._publish_all(notices)
        return outcome

    def _end_rows(self, conn: sqlite3.Connection, req: RunRequest, seq: int | None, query_id: str | None,
                  started: datetime | None, state: str, code: str | None, message: str | None,
                  now: datetime) -> tuple[RunOutcome, list[tuple]]:
        """Inside the caller's write transaction: the rows of a run that did not succeed; the events
        to publish once they are committed."""
        suspended: int | None = None
        if seq is not None:
            cur = conn.execute(
                "UPDATE _ts_task_runs SET state = ?, error_code = ?, error_message = ?, completed_time = ?,"
                " query_start_time = coalesce(?, query_start_time)"
                " WHERE seq = ? AND state = 'EXECUTING' AND claimed_by = ?",
                (state, code, message, us(now), us(started) if started else None, seq, self.catalog.process_id))
            if cur.rowcount == 0:
                raise _NotOurs()
        if state == "FAILED":
            state, suspended = self._count_failure(conn, req, seq, now)
        if seq is None:
            seq = self._insert_run(conn, req, state, query_id, started, (code, message), completed=now)
        elif state != "FAILED":
            conn.execute("UPDATE _ts_task_runs SET state = ? WHERE seq = ?", (state, seq))
        finished = self._finished(req, seq, state, code, message, query_id, started, now)
        for hook in self.on_finished:
            hook(conn, finished)
        kind = {"SKIPPED": events.RUN_SKIPPED}.get(state, events.RUN_FAILED)
        notices: list[tuple] = [(kind, req, state, code, message)]
        if suspended is not None:
            target = req if suspended == req.task.id else replace(req, task=req.root)
            notices.append((events.TASK_AUTO_SUSPENDED, target, state, code, message))
        return RunOutcome(state, seq, query_id, code, message, completed=now), notices

    def record_skip_in(self, conn: sqlite3.Connection, req: RunRequest, code: str | None,
                       message: str, now: datetime | None = None) -> None:
        """Inside the caller's write transaction: a SKIPPED run row (an overlapping fire time,
        seen at `now`, default now)."""
        now = now or self.clock.now()
        seq = self._insert_run(conn, req, "SKIPPED", None, None, (code, message), completed=now)
        finished = self._finished(req, seq, "SKIPPED", code, message, None, None, now)
        for hook in self.on_finished:
            hook(conn, finished)

    def _counts_per_graph(self, req: RunRequest) -> bool:
        return req.in_graph and self.dialect == "snowflake"

    def _count_failure(self, conn: sqlite3.Connection, req: RunRequest, seq: int | None,
                       now: datetime) -> tuple[str, int | None]:
        """Count a failed run towards SUSPEND_TASK_AFTER_NUM_FAILURES; the run's state and the id
        of the task suspended, if any. In a Snowflake graph a graph run counts once, against the
        root, at its first failed task (the rows committed before this one show whether there was one)."""
        task_id = req.task.id
        if self._counts_per_graph(req):
            task_id = req.root.id
            earlier = conn.execute(
                "SELECT 1 FROM _ts_task_runs WHERE graph_run_id = ? AND seq != ?"
                " AND state IN ('FAILED', 'FAILED_AND_AUTO_SUSPENDED') LIMIT 1",
                (req.graph_run_id, -1 if seq is None else seq)).fetchone()
            if earlier is not None:
                return "FAILED", None
        return count_failure(conn, task_id, self.dialect, us(now))

    def _taken(self, conn: sqlite3.Connection, seq: int, query_id: str) -> RunOutcome:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return self._as_recorded(conn, seq, query_id)

    def _as_recorded(self, conn: sqlite3.Connection, seq: int, query_id: str) -> RunOutcome:
        """The outcome someone else recorded for the run (DROP TASK, expiry)."""
        row = conn.execute("SELECT state, error_code, error_message FROM _ts_task_runs WHERE seq = ?",
                           (seq,)).fetchone()
        state, code, message = row if row else ("CANCELLED", None, None)
        return RunOutcome(state, seq, query_id, code, message, completed=self.clock.now())

    def _publish_all(self, notices: list[tuple]) -> None:
        for notice in notices:
            self._publish(*notice)

    def _publish(self, kind: str, req: RunRequest, state: str, code: str | None = None,
                 message: str | None = None) -> None:
        if self.bus is None or not self.bus.wants(kind):
            return
        self.bus.publish(events.SchedulerEvent(
            kind=kind, task_name=req.task.name, at=self.clock.now(), state=state,
            scheduled_time=req.scheduled_time, error_code=code, error_message=message, run_id=req.run_id))
