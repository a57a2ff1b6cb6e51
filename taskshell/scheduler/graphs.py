"""Graph runs: a root's run and every task after it, with the graph pinned when the run starts.

A child runs once all its predecessors in the graph have succeeded (a suspended task passes the
turn on without running); siblings run in parallel, each on its own thread, up to their
warehouse's limit; the finalizer runs after every other task has ended, whatever the outcome.
The graph run's row records its state and its first error (COMPLETE_TASK_GRAPHS); a failed graph
run is retried TASK_AUTO_RETRY_ATTEMPTS times, re-running only what failed and what came after.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from taskshell.catalog import tasks as task_rows
from taskshell.catalog.db import insert_many
from taskshell.catalog.tasks import TaskRecord
from taskshell.scheduler import events
from taskshell.scheduler.runs import (
    Closer,
    FinishedRun,
    GroupItem,
    RunOutcome,
    RunRequest,
    Started,
    TaskRunner,
    from_us,
    groupable,
    us,
)
from taskshell.scheduler.runtime import RunControl, Runtime

FAILED_STATES = ("FAILED", "FAILED_AND_AUTO_SUSPENDED")
_DONE_LOCK = threading.Lock()
_INSERT_GRAPH_RUN = """INSERT INTO _ts_graph_runs(claim_key, root_task_id, root_uuid, root_name, database_name,
    schema_name, state, scheduled_from, scheduled_time, completed_time, graph_version, run_id, attempt_number,
    config, claimed_by) VALUES """
SHUTDOWN_MESSAGE = "The process running the task stopped before the run finished."
_PASS = ("SUCCEEDED", "SUSPENDED")  # outcomes that let the next task run
OVERLAP_MESSAGE = {
    "snowflake": "Skipped: the previous run of this task graph is still executing and "
                 "ALLOW_OVERLAPPING_EXECUTION is FALSE.",
    "databend": "OVERLAPPING_EXECUTION: previous task run is still executing",
}
# overlapping graph runs are allowed, but a root never overlaps its own previous run
ROOT_OVERLAP_MESSAGE = "Skipped: the previous run of this root task is still executing."


@dataclass(slots=True)  # a record: never changed once made (frozen would cost ~2 µs more per run)
class GraphPlan:
    """The graph as it was when the run started."""

    root: TaskRecord
    members: dict[int, TaskRecord]
    preds: dict[int, list[int]]  # only predecessors inside this graph
    children: dict[int, list[int]]
    finalizer: TaskRecord | None


def claim_key(root_uuid: str, scheduled: datetime, attempt: int) -> str:
    """The unique key of a scheduled graph run: the process whose insert of it wins runs it. Time
    first: new keys go to the end of the index instead of all over it."""
    return f"{us(scheduled)}|{root_uuid}|{attempt}"


def load_plan(conn: sqlite3.Connection, root: TaskRecord) -> GraphPlan:
    finalizer = task_rows.finalizer_of(conn, root.id)
    members = {t.id: t for t in task_rows.graph_members(conn, root.id)}
    members[root.id] = root
    body = [i for i in members if finalizer is None or i != finalizer.id]
    all_preds = task_rows.predecessor_map(conn, body)
    preds = {i: [p for p in all_preds[i] if p in members] for i in body}
    children: dict[int, list[int]] = {i: [] for i in body}
    for task_id in sorted(body, key=lambda i: members[i].name):
        for pred in preds[task_id]:
            children[pred].append(task_id)
    return GraphPlan(root, members, preds, children, finalizer)


@dataclass
class GraphRun:
    id: int
    plan: GraphPlan
    scheduled_time: datetime
    scheduled_from: str
    run_id: int
    attempt: int
    outcomes: dict[int, RunOutcome | str] = field(default_factory=dict)
    started: set[int] = field(default_factory=set)
    failures: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    controls: dict[int, RunControl] = field(default_factory=dict)
    state: str | None = None
    retry: GraphRun | None = None
    ended: bool = False
    _done: threading.Event | None = field(default=None, repr=False)

    @property
    def done(self) -> threading.Event:
        """Set when this attempt has ended; made on first use (only EXECUTE TASK waits on it)."""
        with _DONE_LOCK:
            if self._done is None:
                self._done = threading.Event()
                if self.ended:
                    self._done.set()
            return self._done

    def mark_done(self) -> None:
        with _DONE_LOCK:
            self.ended = True
            event = self._done
        if event is not None:
            event.set()

    def final(self) -> GraphRun:
        """The last attempt of this run (automatic retries chain on)."""
        run = self
        while run.retry is not None:
            run = run.retry
        return run


class GraphRunner:
    """Starts graph runs and moves them on as their tasks end."""

    def __init__(self, runner: TaskRunner, runtime: Runtime, process_id: str) -> None:
        self.runner = runner
        self.runtime = runtime
        self.process_id = process_id
        self._lock = threading.RLock()
        self.active: dict[int, GraphRun] = {}
        self.on_idle: Callable[[], None] | None = None
        self.stopping = False  # shutting down: nothing new starts, what would have is CANCELLED

    # ------------------------------------------------------------------ rows
    def insert_graph_run(self, conn: sqlite3.Connection, root: TaskRecord, state: str, scheduled: datetime,
                         scheduled_from: str, run_id: int, attempt: int, claim_key: str | None,
                         config: str | None = None, completed: datetime | None = None) -> int | None:
        """Insert a graph run row; None when another process already holds `claim_key`."""
        row = conn.execute(
            _INSERT_GRAPH_RUN + "(" + ", ".join("?" * 15) + ") ON CONFLICT(claim_key) DO NOTHING RETURNING id",
            (claim_key, root.id, root.uuid, root.name, root.database_name, root.schema_name, state,
             scheduled_from, us(scheduled), us(completed) if completed else None, root.graph_version, run_id,
             attempt, config if config is not None else root.config, self.process_id)).fetchone()
        return int(row[0]) if row else None

    def claim_graph_runs(self, conn: sqlite3.Connection,
                         claims: list[tuple[TaskRecord, datetime, int, str]]) -> dict[str, int]:
        """Insert EXECUTING scheduled graph runs, (root, scheduled time, run id, claim key) each, a few
        statements in all; the ids of those whose key no other process held first, by key."""
        rows = [(key, root.id, root.uuid, root.name, root.database_name, root.schema_name, "EXECUTING",
                 "SCHEDULE", us(scheduled), None, root.graph_version, run_id, 1, root.config, self.process_id)
                for root, scheduled, run_id, key in claims]
        return {key: graph_id for graph_id, key in insert_many(
            conn, _INSERT_GRAPH_RUN, rows, " ON CONFLICT(claim_key) DO NOTHING RETURNING id, claim_key")}

    # ------------------------------------------------------------------ running
    def start(self, run: GraphRun, previous: dict[int, tuple[str, str | None]] | None = None,
              inline: bool = False, root_started: Started | None = None) -> None:
        """Start a graph run; `previous` (RETRY) maps tasks that need not run again to (state, value).
        `inline`: the calling run thread runs the first task itself. `root_started`: the claim
        already recorded the root EXECUTING."""
        if root_started is not None:
            self.adopt(run)
            self._run_task(run, run.plan.root.id, run.controls[run.plan.root.id], root_started)
            return
        with self._lock:
            self.active[run.id] = run
            for task_id, (state, value) in (previous or {}).items():
                if task_id in run.plan.preds and state in ("SUCCEEDED", "SKIPPED"):
                    run.outcomes[task_id] = RunOutcome(state, None, None, return_value=value)
            ready = [i for i in sorted(run.plan.preds, key=lambda i: run.plan.members[i].name)
                     if i not in run.outcomes]
            if run.plan.root.id in ready:
                run.started.add(run.plan.root.id)
                ready = [run.plan.root.id]
            else:
                ready = self._initial(run, ready)
        self._launch(run, ready, inline)

    def adopt(self, run: GraphRun) -> None:
        """Count a claimed graph run whose root is about to run as active (shutdown cancels it)."""
        with self._lock:
            self.active[run.id] = run
            run.started.add(run.plan.root.id)
            run.controls.setdefault(run.plan.root.id, RunControl())

    def _initial(self, run: GraphRun, candidates: list[int]) -> list[int]:
        ready: list[int] = []
        for task_id in candidates:
            if task_id in run.outcomes:
                continue
            states = [run.outcomes.get(p) for p in run.plan.preds[task_id]]
            if any(s is None for s in states):
                continue
            ready.extend(self._admit(run, task_id))
        return ready

    def _admit(self, run: GraphRun, task_id: int) -> list[int]:
        """A task whose predecessors have all ended: run it, pass over it, or rule it out."""
        states = [_state(run.outcomes[p]) for p in run.plan.preds[task_id]]
        if not all(s in _PASS for s in states):
            return self._decide(run, task_id, "NOT_RUN")
        if run.plan.members[task_id].state != "started" and task_id != run.plan.root.id:
            return self._decide(run, task_id, "SUSPENDED")
        run.started.add(task_id)
        return [task_id]

    def _decide(self, run: GraphRun, task_id: int, outcome: RunOutcome | str) -> list[int]:
        """Record a task's outcome; the tasks that may now run."""
        run.outcomes[task_id] = outcome
        state = _state(outcome)
        if state in FAILED_STATES and isinstance(outcome, RunOutcome):
            run.failures.append((run.plan.members[task_id].name, outcome.error_code, outcome.error_message))
        ready: list[int] = []
        for child in run.plan.children.get(task_id, ()):
            if child in run.outcomes or child in run.started:
                continue
            if all(p in run.outcomes for p in run.plan.preds[child]):
                ready.extend(self._admit(run, child))
        return ready

    def _launch(self, run: GraphRun, ready: list[int], inline: bool = False,
                released: dict[int, Started] | None = None) -> None:
        """Start the tasks of `ready`; `released`: those of them that the commit which let them
        start already recorded EXECUTING (see `_release`)."""
        while self.stopping and ready:
            with self._lock:
                task_id = ready.pop()
                run.started.discard(task_id)
                if run.plan.finalizer is not None and task_id == run.plan.finalizer.id:
                    run.outcomes[task_id] = "CANCELLED"
                else:
                    ready.extend(self._decide(run, task_id, "CANCELLED"))
        with self._lock:
            controls = [(task_id, run.controls.setdefault(task_id, RunControl())) for task_id in ready]
        begun = {task_id: released[task_id] for task_id, _ in controls if task_id in (released or ())}
        for task_id, started in (released or {}).items():
            if task_id not in begun:  # released, then not run after all (the process is stopping)
                self._abandon(run, task_id, started)
        if len(controls) > 1 and not self.runtime.virtual:
            begun.update(self._start_batch(run, [c for c in controls if c[0] not in begun]))
        # the tasks that the batch started and that never wait run as one group, one commit
        group = [(run, task_id, control, begun[task_id]) for task_id, control in controls
                 if task_id in begun and groupable(run.plan.members[task_id])]
        if len(group) > 1:
            grouped = {member[1] for member in group}
            for task_id, control in controls:
                if task_id not in grouped:
                    self.runtime.spawn(partial(self._run_task, run, task_id, control, begun.get(task_id)),
                                       name=run.plan.members[task_id].name)
            if inline:
                self.run_group(group)
            else:
                self.runtime.spawn(partial(self.run_group, group), name=run.plan.root.name)
            return
        # a thread that just finished a task runs the first next one itself: no hand-over, no lag
        for task_id, control in controls[1:] if inline else controls:
            self.runtime.spawn(partial(self._run_task, run, task_id, control, begun.get(task_id)),
                               name=run.plan.members[task_id].name)
        if inline and controls:
            self._run_task(run, *controls[0], begun.get(controls[0][0]))
        else:
            self._maybe_finish(run)

    def _abandon(self, run: GraphRun, task_id: int, started: Started) -> None:
        """A task recorded EXECUTING by its release that will not run: recorded CANCELLED."""
        control = RunControl()
        self.runtime.cancel(control, "CANCELLED", None, SHUTDOWN_MESSAGE)
        try:
            self.runner.run(started.req or self._request(run, task_id), control, started)
        except Exception:  # noqa: BLE001 - left EXECUTING: liveness settles it once this process is gone
            pass

    def _start_batch(self, run: GraphRun, controls: list[tuple[int, RunControl]]) -> dict[int, Started]:
        """Record every released task that can start at once EXECUTING in one transaction: one that
        has no WHEN and finds a free warehouse slot (it keeps the slot). On the real clock only: there
        the order of rows across tasks promises nothing, while a virtual clock's history must match
        the one-task-at-a-time order exactly."""
        taken: list[tuple[int, RunRequest]] = []
        for task_id, control in controls:
            task = run.plan.members[task_id]
            if task.condition or control.cancelled or not self.runtime.try_slot(task.warehouse):
                continue
            taken.append((task_id, self._request(run, task_id)))
        if not taken:
            return {}
        begun: dict[int, Started] = {}
        conn = self.runner.catalog_connection()
        try:
            with self.runtime.write(conn):
                starts = self.runner.start_many(conn, [req for _, req in taken])
                begun = {task_id: started for (task_id, _), started in zip(taken, starts, strict=True)}
        except sqlite3.Error:
            begun = {}  # each run records its own start, as if there were no batch
        finally:
            self.runner.release_connection(conn)
            for task_id, _ in taken:
                if task_id not in begun:
                    self.runtime.release_slot(run.plan.members[task_id].warehouse)
        return begun

    def _request(self, run: GraphRun, task_id: int,
                 outcomes: dict[int, RunOutcome | str] | None = None) -> RunRequest:
        plan = run.plan
        outcomes = run.outcomes if outcomes is None else outcomes
        values = tuple((plan.members[p].name, _value(outcomes.get(p)))
                       for p in plan.preds.get(task_id, ()) if p in outcomes)
        return RunRequest(task=plan.members[task_id], root=plan.root, scheduled_time=run.scheduled_time,
                          scheduled_from=run.scheduled_from, run_id=run.run_id,
                          graph_version=plan.root.graph_version, attempt=run.attempt, graph_run_id=run.id,
                          predecessor_values=values, in_graph=len(plan.members) > 1)

    def _run_task(self, run: GraphRun, task_id: int, control: RunControl, started: Started | None = None) -> None:
        released: dict[int, Started] = {}
        try:
            req = started.req if started is not None and started.req is not None else self._request(run, task_id)
            outcome = self.runner.run(req, control, started, self._closer(run, task_id, released))
        except Exception as exc:  # noqa: BLE001 - a broken run must not leave its graph hanging
            outcome = _internal_failure(exc)
        if not outcome.succeeded:  # the transaction that recorded the release did not commit
            for child in released:
                self.runtime.release_slot(run.plan.members[child].warehouse)
            released = {}
        self._after(run, task_id, outcome, inline=True, released=released)

    def run_group(self, members: list[tuple[GraphRun, int, RunControl, Started]]) -> None:
        """Run tasks already recorded EXECUTING as one group (`TaskRunner.run_group`: one commit),
        then move each one's graph run on."""
        items = [GroupItem(started.req or self._request(run, task_id), control, started,
                           self._closer(run, task_id))
                 for run, task_id, control, started in members]
        try:
            outcomes = self.runner.run_group(items)
        except Exception as exc:  # noqa: BLE001 - a broken run must not leave its graph hanging
            outcomes = [_internal_failure(exc)] * len(items)
        for (run, task_id, _, _), outcome in zip(members, outcomes, strict=True):
            self._after(run, task_id, outcome, inline=False)

    def _after(self, run: GraphRun, task_id: int, outcome: RunOutcome, inline: bool,
               released: dict[int, Started] | None = None) -> None:
        """A task of `run` has ended: record its outcome and start what comes next."""
        plan = run.plan
        if outcome.closed_graph:
            # the run's own commit ended the graph run too
            with self._lock:
                run.controls.pop(task_id, None)
                run.started.discard(task_id)
                run.outcomes[task_id] = outcome
                run.state = "SUCCEEDED"
            self._ended(run, None)
            return
        with self._lock:
            run.controls.pop(task_id, None)
            run.started.discard(task_id)
            if plan.finalizer is not None and task_id == plan.finalizer.id:
                run.outcomes[task_id] = outcome
                if _state(outcome) in FAILED_STATES:
                    task = plan.members[task_id]
                    run.failures.append((task.name, outcome.error_code, outcome.error_message))
                ready: list[int] = []
            else:
                ready = self._decide(run, task_id, outcome)
        self._launch(run, ready, inline=inline, released=released)

    def _maybe_finish(self, run: GraphRun) -> None:
        with self._lock:
            if run.state is not None or run.started:
                return
            plan = run.plan
            if not all(i in run.outcomes for i in plan.preds):
                return
            fin = plan.finalizer
            root_state = _state(run.outcomes[plan.root.id])
            if (fin is not None and fin.id not in run.outcomes and fin.state == "started"
                    and root_state != "SKIPPED"):
                run.started.add(fin.id)
                launch_finalizer = True
            else:
                run.state = self._graph_state(run, root_state)
                launch_finalizer = False
        if launch_finalizer:
            self._launch(run, [fin.id])  # type: ignore[union-attr]
            return
        self._complete(run)

    @staticmethod
    def _graph_state(run: GraphRun, root_state: str) -> str:
        if root_state == "SKIPPED":
            return "SKIPPED"
        states = {_state(o) for o in run.outcomes.values()}
        if run.failures or states & set(FAILED_STATES):
            return "FAILED"
        if "CANCELLED" in states:
            return "CANCELLED"
        return "SUCCEEDED"

    def _closer(self, run: GraphRun, task_id: int, released: dict[int, Started] | None = None) -> Closer:
        """What a succeeding task calls inside its commit: when it is the last task of a graph run
        that has succeeded so far, the graph run's row is completed in the same transaction;
        otherwise the tasks its success lets start are recorded EXECUTING in it (into `released`,
        on the real clock), so that they start without a commit of their own."""

        def close(conn: sqlite3.Connection, now: datetime, started: datetime, value: str | None) -> bool:
            with self._lock:
                if self.stopping or not self._ends_graph(run, task_id):
                    if released is not None and not self.stopping and not self.runtime.virtual:
                        released.update(self._release(conn, run, task_id, value))
                    return False
                if len(run.plan.members) == 1:
                    # the root alone: its start is the graph run's, and its own success reset the count
                    conn.execute("UPDATE _ts_graph_runs SET state = 'SUCCEEDED', completed_time = ?,"
                                 " query_start_time = ? WHERE id = ? AND state = 'EXECUTING'",
                                 (us(now), us(started), run.id))
                else:
                    conn.execute(
                        "UPDATE _ts_graph_runs SET state = 'SUCCEEDED', completed_time = ?, query_start_time ="
                        " (SELECT min(query_start_time) FROM _ts_task_runs WHERE graph_run_id = ?)"
                        " WHERE id = ? AND state = 'EXECUTING'", (us(now), run.id, run.id))
                    _reset_failures(conn, run)
                    self._report_success(conn, run, now)
                return True

        return close

    def _release(self, conn: sqlite3.Connection, run: GraphRun, task_id: int,
                 value: str | None) -> dict[int, Started]:
        """Inside the transaction that records `task_id`'s success (the caller holds the lock):
        record EXECUTING the tasks that its success lets start at once (see `_start_batch`), as
        `_decide` will find them once the success is committed."""
        plan = run.plan
        succeeded = RunOutcome("SUCCEEDED", None, None, return_value=value)
        outcomes = {**run.outcomes, task_id: succeeded}
        taken: list[tuple[int, RunRequest]] = []
        for child in plan.children.get(task_id, ()):
            task = plan.members[child]
            if (child in run.outcomes or child in run.started or task.state != "started" or task.condition
                    or not all(p in outcomes and _state(outcomes[p]) in _PASS for p in plan.preds[child])):
                continue
            if (control := run.controls.get(child)) is not None and control.cancelled:
                continue
            if not self.runtime.try_slot(task.warehouse):
                continue
            taken.append((child, self._request(run, child, outcomes)))
        if not taken:
            return {}
        try:
            starts = self.runner.start_many(conn, [req for _, req in taken])
        except BaseException:
            for child, _ in taken:
                self.runtime.release_slot(plan.members[child].warehouse)
            raise
        return {child: begun for (child, _), begun in zip(taken, starts, strict=True)}

    @staticmethod
    def _ends_graph(run: GraphRun, task_id: int) -> bool:
        """Whether `task_id` succeeding leaves nothing else to run and the graph run SUCCEEDED."""
        plan = run.plan
        if run.state is not None or run.started != {task_id} or run.failures:
            return False
        if any(_state(o) not in ("SUCCEEDED", "SUSPENDED", "SKIPPED") for o in run.outcomes.values()):
            return False
        if plan.root.id in run.outcomes and _state(run.outcomes[plan.root.id]) == "SKIPPED":
            return False
        fin = plan.finalizer
        if fin is not None and task_id == fin.id:
            return True
        if plan.children.get(task_id) or task_id not in plan.preds:
            return False
        if any(i not in run.outcomes for i in plan.preds if i != task_id):
            return False
        return fin is None or fin.id in run.outcomes or fin.state != "started"

    def _complete(self, run: GraphRun) -> None:
        first = run.failures[0] if run.failures else (None, None, None)
        now = self.runner.clock.now()
        conn = self.runner.catalog_connection()
        try:
            with self.runtime.write(conn, patient=True):
                conn.execute(
                    "UPDATE _ts_graph_runs SET state = ?, completed_time = ?, first_error_task_name = ?,"
                    " first_error_code = ?, first_error_message = ?, query_start_time ="
                    " (SELECT min(query_start_time) FROM _ts_task_runs WHERE graph_run_id = ?)"
                    " WHERE id = ? AND state = 'EXECUTING'",
                    (run.state, us(now), first[0], first[1], first[2], run.id, run.id))
                if run.state == "SUCCEEDED":
                    _reset_failures(conn, run)
                    self._report_success(conn, run, now)
                retry = self._auto_retry(conn, run)
        except Exception:  # noqa: BLE001 - e.g. the catalog cannot be written, or a hook refused
            # (or a stopping process gave up waiting for the lock): the row stays EXECUTING and the
            # run stays active, so that the process stays registered when it stops and liveness
            # fails the run; whoever waits for the run waits no longer
            run.mark_done()
            return
        finally:
            self.runner.release_connection(conn)
        self._ended(run, retry)

    def _report_success(self, conn: sqlite3.Connection, run: GraphRun, now: datetime) -> None:
        """Inside the transaction that records a graph run SUCCEEDED: its success notification, to
        the root's SUCCESS_INTEGRATION. As in Snowflake, only a task graph's success as a whole is
        reported, never a standalone task's, nor a child's (the `on_finished` hooks queue it)."""
        root = run.plan.root
        if len(run.plan.members) == 1 or not root.success_integration or not self.runner.on_finished:
            return
        first = conn.execute("SELECT seq, query_id, query_start_time FROM _ts_task_runs WHERE graph_run_id = ?"
                             " ORDER BY seq LIMIT 1", (run.id,)).fetchone()
        if first is None:
            return
        finished = FinishedRun(
            seq=first[0], task=root.name, task_id=root.id, root=root.name, root_task_id=root.uuid,
            state="SUCCEEDED", error_code=None, error_message=None, scheduled_time=run.scheduled_time,
            query_start_time=from_us(first[2]), completed_time=now, run_id=run.run_id, query_id=first[1],
            attempt=run.attempt, graph_run_id=run.id, scheduled_from=run.scheduled_from, return_value=None,
            integrations=(None, root.success_integration), graph_succeeded=True)
        for hook in self.runner.on_finished:
            hook(conn, finished)

    def _ended(self, run: GraphRun, retry: GraphRun | None) -> None:
        with self._lock:
            self.active.pop(run.id, None)
        if retry is not None:
            run.retry = retry
            self.start(retry, previous={i: (_state(o), _value(o)) for i, o in run.outcomes.items()})
        run.mark_done()
        if self.on_idle is not None:
            self.on_idle()

    def _auto_retry(self, conn: sqlite3.Connection, run: GraphRun) -> GraphRun | None:
        limit = run.plan.root.task_auto_retry_attempts or 0
        if run.state != "FAILED" or run.attempt > limit:
            return None
        current = task_rows.get_by_id(conn, run.plan.root.id)
        if current is None or current.graph_version != run.plan.root.graph_version:
            # like RETRY LAST: no retry of a graph that was changed (a task dropped, added or
            # altered) after its failed run began
            return None
        if current.state != "started" and run.plan.root.state == "started":
            return None  # suspended since the run began (by hand, or by this very failure)
        key = None
        if run.scheduled_from == "SCHEDULE":
            key = claim_key(current.uuid, run.scheduled_time, run.attempt + 1)
        graph_id = self.insert_graph_run(conn, run.plan.root, "EXECUTING", run.scheduled_time,
                                         run.scheduled_from, run.run_id, run.attempt + 1, key)
        if graph_id is None:
            return None
        return GraphRun(graph_id, run.plan, run.scheduled_time, run.scheduled_from, run.run_id, run.attempt + 1)

    # ------------------------------------------------------------------ cancelling
    def cancel_task(self, task_id: int, state: str, message: str) -> None:
        with self._lock:
            controls = [run.controls[task_id] for run in self.active.values() if task_id in run.controls]
        for control in controls:
            self.runtime.cancel(control, state, None, message)

    def cancel_all(self, message: str) -> None:
        with self._lock:
            controls = [c for run in self.active.values() for c in run.controls.values()]
        for control in controls:
            self.runtime.cancel(control, "CANCELLED", None, message)

    def running(self) -> int:
        with self._lock:
            return sum(len(run.controls) for run in self.active.values())


def _reset_failures(conn: sqlite3.Connection, run: GraphRun) -> None:
    """A succeeded graph run starts the root's count of consecutive failed graph runs again."""
    conn.execute("UPDATE _ts_tasks SET consecutive_failures = 0 WHERE id = ? AND consecutive_failures != 0",
                 (run.plan.root.id,))


def _internal_failure(exc: Exception) -> RunOutcome:
    _, code, message = TaskRunner.failure(None, exc)
    return RunOutcome("FAILED", None, None, code, message)


def _state(outcome: RunOutcome | str | None) -> str:
    if outcome is None:
        return "NONE"
    return outcome if isinstance(outcome, str) else outcome.state


def _value(outcome: RunOutcome | str | None) -> str | None:
    return outcome.return_value if isinstance(outcome, RunOutcome) else None


def publish_skip(bus: events.EventBus | None, root: TaskRecord, at: datetime, scheduled: datetime,
                 message: str, run_id: int) -> None:
    if bus is not None:
        bus.publish(events.SchedulerEvent(kind=events.RUN_SKIPPED, task_name=root.name, at=at, state="SKIPPED",
                                          scheduled_time=scheduled, error_message=message, run_id=run_id))
