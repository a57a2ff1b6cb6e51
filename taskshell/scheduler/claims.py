"""Claiming every fire time due at one instant in one transaction (DESIGN §3.2, §5.2).

Each due root gets its graph run row under the unique key (root, scheduled time, attempt): the
process whose insert wins runs it, so several processes on one catalog run each fire time once. A
root that can start at once (no WHEN, a free warehouse slot, which it keeps) is recorded EXECUTING
in the same commit, so a one-task graph run costs its share of two commits: this one, shared by
every root due with it, and its group's (see `TaskRunner.run_group`). The rows go in a few
multi-row INSERTs per batch, in due order. A root whose previous graph run is still executing is
recorded SKIPPED instead (unless overlap is allowed).

On a virtual clock the history must come out exactly as if each root had claimed and started at its
own turn: a batch holds the due roots only up to the first one whose run could write other rows
before the next root's turn (a graph with more tasks, WHEN, automatic retries, a busy warehouse).
The rest claim one by one, as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from taskshell.catalog import tasks as task_rows
from taskshell.catalog.tasks import TaskRecord
from taskshell.scheduler.graphs import (
    OVERLAP_MESSAGE,
    ROOT_OVERLAP_MESSAGE,
    GraphPlan,
    GraphRun,
    GraphRunner,
    claim_key,
    load_plan,
)
from taskshell.scheduler.runs import RunRequest, Started, TaskRunner

_CHUNK = 500  # bound parameters per IN (...) list
_KNOWN_LIMIT = 100_000


@dataclass(slots=True)  # a record: never changed once made (frozen would cost ~2 µs more per run)
class Due:
    task_id: int
    schedule: str
    resumed_on: int | None
    at: datetime


@dataclass(slots=True)  # a record: never changed once made (frozen would cost ~2 µs more per run)
class Claimed:
    """One handled fire time, in due order: a run to start (`run`) or a recorded skip (`skipped`)."""

    due: Due
    run: GraphRun | None = None
    started: Started | None = None
    skipped: tuple[TaskRecord, str] | None = None


def _policy(root: TaskRecord) -> str:
    return (root.overlap_policy or
            ("ALLOW_CHILD_OVERLAP" if root.allow_overlapping_execution else "NO_OVERLAP")).upper()


def overlaps(conn: sqlite3.Connection, root: TaskRecord, executing: set[int] | None = None) -> bool:
    """Whether a previous graph run of `root` still blocks a new one under its overlap policy.
    `executing`: the roots known to have a graph run executing (read in the same transaction)."""
    policy = _policy(root)
    if policy == "ALLOW_ALL_OVERLAP":
        return False
    if policy == "NO_OVERLAP" and executing is not None:
        return root.id in executing
    if policy == "ALLOW_CHILD_OVERLAP":
        # only the root itself may not overlap: a previous run whose root has not ended
        sql = ("SELECT 1 FROM _ts_graph_runs g WHERE g.root_task_id = ? AND g.state = 'EXECUTING'"
               " AND NOT EXISTS (SELECT 1 FROM _ts_task_runs r WHERE r.graph_run_id = g.id"
               " AND r.task_id = g.root_task_id AND r.state != 'EXECUTING') LIMIT 1")
    else:
        sql = "SELECT 1 FROM _ts_graph_runs WHERE root_task_id = ? AND state = 'EXECUTING' LIMIT 1"
    return conn.execute(sql, (root.id,)).fetchone() is not None


def claim(conn: sqlite3.Connection, due: list[Due], transaction: Callable[[], AbstractContextManager],
          runner: TaskRunner, graphs: GraphRunner, *, strict: bool,
          startable: Callable[[TaskRecord], bool] | None = None) -> tuple[list[Claimed], list[Due]]:
    """Claim `due` in one transaction; returns what was handled, in order, and what is left to claim
    one by one (`strict`: the virtual clock's order; otherwise nothing is left unless the catalog
    could not be written, and then everything is). `startable`: which roots the claim may record
    started (default: any that can start)."""
    out: list[Claimed | None] = []
    pending: list[_Pending] = []
    slots: list[str | None] = []
    try:
        # what overlapped when the fire times came due, read before the write lock is waited for:
        # a run whose body writes holds that lock, and by the time it is free that run has ended
        blocked, checked = _blocked(conn, [d.task_id for d in due]), runner.clock.now()
        with transaction():
            roots = _records(conn, [d.task_id for d in due])
            graphed = _with_more_tasks(conn, list(roots))
            executing = _executing(conn, list(roots))
            for item in due:
                root = roots.get(item.task_id)
                if (root is None or root.state != "started" or root.schedule != item.schedule
                        or root.resumed_on != item.resumed_on):
                    out.append(Claimed(item))
                    continue
                plan = load_plan(conn, root) if root.id in graphed else _alone(root)
                simple = not (root.condition or root.task_auto_retry_attempts or root.id in graphed)
                if strict and not simple:
                    break
                if root.id in blocked or overlaps(conn, root, executing):
                    _flush(conn, pending, out, runner, graphs, slots)  # rows go in in due order
                    out.append(_skip(conn, item, root, runner, graphs, checked if root.id in blocked else None))
                    continue
                # a strict batch starts every root it claims: take the slot before the claim, or stop
                can_start = (startable is None or startable(root)) and not root.condition \
                    and runner.runtime.try_slot(root.warehouse)
                if strict and not can_start:
                    break
                if can_start:
                    slots.append(root.warehouse)
                executing.add(root.id)  # a second fire time of the root in this batch overlaps it
                pending.append(_Pending(len(out), item, root, plan, can_start))
                out.append(None)
            _flush(conn, pending, out, runner, graphs, slots)
    except sqlite3.Error:
        for warehouse in slots:
            runner.runtime.release_slot(warehouse)
        return [], due
    handled = [claimed for claimed in out if claimed is not None]
    return handled, due[len(handled):]


@dataclass
class _Pending:
    index: int  # its place in the batch's outcome
    due: Due
    root: TaskRecord
    plan: GraphPlan
    can_start: bool  # a warehouse slot was taken for it


def _flush(conn: sqlite3.Connection, pending: list[_Pending], out: list[Claimed | None], runner: TaskRunner,
           graphs: GraphRunner, slots: list[str | None]) -> None:
    """Insert the graph run rows of `pending` (and the run rows of those that start now) together."""
    if not pending:
        return
    keys = [claim_key(p.root.uuid, p.due.at, 1) for p in pending]
    ids = graphs.claim_graph_runs(
        conn, [(p.root, p.due.at, _run_id(p.due.at), key) for p, key in zip(pending, keys, strict=True)])
    starting: list[tuple[_Pending, GraphRun, RunRequest]] = []
    for p, key in zip(pending, keys, strict=True):
        graph_id = ids.get(key)
        if graph_id is None:  # another process claimed this fire time
            if p.can_start:
                runner.runtime.release_slot(p.root.warehouse)
                slots.remove(p.root.warehouse)
            out[p.index] = Claimed(p.due)
            continue
        run = GraphRun(graph_id, p.plan, p.due.at, "SCHEDULE", _run_id(p.due.at), 1)
        if not p.can_start:
            out[p.index] = Claimed(p.due, run=run)
            continue
        req = RunRequest(task=p.root, root=p.root, scheduled_time=p.due.at, scheduled_from="SCHEDULE",
                         run_id=run.run_id, graph_version=p.root.graph_version, graph_run_id=graph_id,
                         in_graph=len(p.plan.members) > 1)
        starting.append((p, run, req))
    started = runner.start_many(conn, [req for _, _, req in starting])
    for (p, run, _), begun in zip(starting, started, strict=True):
        out[p.index] = Claimed(p.due, run=run, started=begun)
    pending.clear()


def _run_id(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _skip(conn: sqlite3.Connection, item: Due, root: TaskRecord, runner: TaskRunner,
          graphs: GraphRunner, decided: datetime | None = None) -> Claimed:
    """A fire time that comes while the root's previous graph run still executes: recorded SKIPPED
    (`decided`: when that was seen, if before now)."""
    at = item.at
    now = decided or runner.clock.now()
    message = OVERLAP_MESSAGE.get(runner.dialect, OVERLAP_MESSAGE["snowflake"])
    if runner.dialect == "snowflake" and _policy(root) != "NO_OVERLAP":
        message = ROOT_OVERLAP_MESSAGE
    graph_id = graphs.insert_graph_run(conn, root, "SKIPPED", at, "SCHEDULE", _run_id(at), 1,
                                       claim_key(root.uuid, at, 1), completed=now)
    if graph_id is None:
        return Claimed(item)
    req = RunRequest(task=root, root=root, scheduled_time=at, scheduled_from="SCHEDULE", run_id=_run_id(at),
                     graph_version=root.graph_version, graph_run_id=graph_id)
    runner.record_skip_in(conn, req, None, message, now)
    return Claimed(item, skipped=(root, message))


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


# the last record read of each task, by id, with its row: a row read again unchanged gives the same
# record (a task row has some thirty columns: a new record for every fire time costs more than the read)
_KNOWN: dict[int, tuple[tuple, TaskRecord]] = {}


def _records(conn: sqlite3.Connection, ids: list[int]) -> dict[int, TaskRecord]:
    found: dict[int, TaskRecord] = {}
    for part in _chunks(ids):
        marks = ", ".join("?" * len(part))
        for row in conn.execute(f"SELECT {', '.join(task_rows.COLUMNS)} FROM _ts_tasks WHERE id IN ({marks})",
                                part):
            known = _KNOWN.get(row[0])
            if known is not None and known[0] == row:
                found[row[0]] = known[1]
                continue
            record = TaskRecord(*row)
            if len(_KNOWN) >= _KNOWN_LIMIT:
                _KNOWN.clear()
            _KNOWN[row[0]] = (row, record)
            found[row[0]] = record
    return found


def _blocked(conn: sqlite3.Connection, ids: list[int]) -> set[int]:
    """The roots among `ids` whose previous graph run blocks a new one now (read outside any
    transaction; see `claim`)."""
    running = _executing(conn, ids)
    if not running:
        return set()
    roots = _records(conn, list(running))
    return {root_id for root_id, root in roots.items() if overlaps(conn, root, running)}


def _executing(conn: sqlite3.Connection, ids: list[int]) -> set[int]:
    """The roots among `ids` with a graph run still executing."""
    return _matching(conn, "SELECT root_task_id FROM _ts_graph_runs WHERE state = 'EXECUTING'"
                           " AND root_task_id IN ({ids})", ids)


def _with_more_tasks(conn: sqlite3.Connection, ids: list[int]) -> set[int]:
    """The roots among `ids` that have children or a finalizer (their graph needs loading)."""
    return _matching(conn, "SELECT predecessor_id FROM _ts_task_predecessors WHERE predecessor_id IN ({ids})"
                           " UNION SELECT finalize_id FROM _ts_tasks WHERE finalize_id IN ({ids})", ids)


def _matching(conn: sqlite3.Connection, sql: str, ids: list[int]) -> set[int]:
    """The first column of `sql` over `ids`, _CHUNK at a time; every `{ids}` stands for the chunk."""
    found: set[int] = set()
    for part in _chunks(ids):
        marks = ", ".join("?" * len(part))
        found.update(r[0] for r in conn.execute(sql.format(ids=marks), part * sql.count("{ids}")))
    return found


def _alone(root: TaskRecord) -> GraphPlan:
    """The plan `load_plan` gives a root with neither children nor a finalizer."""
    return GraphPlan(root, {root.id: root}, {root.id: []}, {root.id: []}, None)
