"""Task rows: reading and writing `_ts_tasks` and `_ts_task_predecessors`."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class TaskRecord:
    id: int
    uuid: str
    name: str
    database_name: str
    schema_name: str
    owner: str
    comment: str | None
    warehouse: str | None
    managed_warehouse_size: str | None
    schedule: str | None  # JSON of scheduler.schedule.to_json, or None for children
    state: str  # 'started' | 'suspended'
    definition: str
    condition: str | None
    config: str | None
    allow_overlapping_execution: int | None
    overlap_policy: str | None
    user_task_timeout_ms: int | None
    suspend_task_after_num_failures: int | None
    error_integration: str | None
    success_integration: str | None
    finalize_id: int | None
    task_auto_retry_attempts: int | None
    min_trigger_interval_s: int | None
    session_params: str
    created_on: int
    last_committed_on: int | None
    last_suspended_on: int | None
    last_suspended_reason: str | None
    resumed_on: int | None
    graph_version: int
    consecutive_failures: int
    had_predecessors: int

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.session_params or "{}")

    def with_changes(self, **changes: Any) -> TaskRecord:
        return replace(self, **changes)


COLUMNS = tuple(f.name for f in fields(TaskRecord))
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM _ts_tasks"


def _record(row: tuple | None) -> TaskRecord | None:
    return TaskRecord(*row) if row else None


def get_by_name(conn: sqlite3.Connection, name: str) -> TaskRecord | None:
    return _record(conn.execute(f"{_SELECT} WHERE name = ?", (name,)).fetchone())


def get_by_id(conn: sqlite3.Connection, task_id: int) -> TaskRecord | None:
    return _record(conn.execute(f"{_SELECT} WHERE id = ?", (task_id,)).fetchone())


def all_tasks(conn: sqlite3.Connection) -> list[TaskRecord]:
    return [TaskRecord(*r) for r in conn.execute(f"{_SELECT} ORDER BY name")]


def insert(conn: sqlite3.Connection, values: dict[str, Any]) -> int:
    cols = [c for c in COLUMNS if c != "id" and c in values]
    cur = conn.execute(
        f"INSERT INTO _ts_tasks({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
        [values[c] for c in cols])
    return int(cur.lastrowid)


def update(conn: sqlite3.Connection, task_id: int, **values: Any) -> None:
    if not values:
        return
    sets = ", ".join(f"{c} = ?" for c in values)
    conn.execute(f"UPDATE _ts_tasks SET {sets} WHERE id = ?", [*values.values(), task_id])


def delete(conn: sqlite3.Connection, task_id: int) -> None:
    conn.execute("UPDATE _ts_tasks SET finalize_id = NULL WHERE finalize_id = ?", (task_id,))
    conn.execute("DELETE FROM _ts_tasks WHERE id = ?", (task_id,))


def predecessors(conn: sqlite3.Connection, task_id: int) -> list[TaskRecord]:
    cols = ", ".join(f"t.{c}" for c in COLUMNS)
    rows = conn.execute(
        f"SELECT {cols} FROM _ts_task_predecessors p JOIN _ts_tasks t ON t.id = p.predecessor_id"
        " WHERE p.task_id = ? ORDER BY p.position", (task_id,))
    return [TaskRecord(*r) for r in rows]


def children(conn: sqlite3.Connection, task_id: int) -> list[TaskRecord]:
    cols = ", ".join(f"t.{c}" for c in COLUMNS)
    rows = conn.execute(
        f"SELECT {cols} FROM _ts_task_predecessors p JOIN _ts_tasks t ON t.id = p.task_id"
        " WHERE p.predecessor_id = ? ORDER BY t.name", (task_id,))
    return [TaskRecord(*r) for r in rows]


def set_predecessors(conn: sqlite3.Connection, task_id: int, predecessor_ids: list[int]) -> None:
    conn.execute("DELETE FROM _ts_task_predecessors WHERE task_id = ?", (task_id,))
    conn.executemany(
        "INSERT INTO _ts_task_predecessors(task_id, predecessor_id, position) VALUES (?, ?, ?)",
        [(task_id, pid, i) for i, pid in enumerate(predecessor_ids)])


def finalizer_of(conn: sqlite3.Connection, root_id: int) -> TaskRecord | None:
    return _record(conn.execute(f"{_SELECT} WHERE finalize_id = ?", (root_id,)).fetchone())


def roots_of(conn: sqlite3.Connection, task_id: int) -> list[TaskRecord]:
    """The roots a task's graph hangs from (the task itself when it has no predecessors).

    A finalizer belongs to the graph of the root it finalizes.
    """
    rows = conn.execute(
        """
        WITH RECURSIVE up(id) AS (
            SELECT ? UNION
            SELECT p.predecessor_id FROM _ts_task_predecessors p JOIN up ON p.task_id = up.id
            UNION SELECT t.finalize_id FROM _ts_tasks t JOIN up ON t.id = up.id
                  WHERE t.finalize_id IS NOT NULL
        )
        SELECT id FROM up
        WHERE id NOT IN (SELECT task_id FROM _ts_task_predecessors)
          AND id NOT IN (SELECT id FROM _ts_tasks WHERE finalize_id IS NOT NULL)
        """, (task_id,)).fetchall()
    out = [get_by_id(conn, r[0]) for r in rows]
    return sorted((t for t in out if t), key=lambda t: t.name)


def graph_members(conn: sqlite3.Connection, root_id: int) -> list[TaskRecord]:
    """The root, every task below it, and its finalizer."""
    rows = conn.execute(
        """
        WITH RECURSIVE down(id) AS (
            SELECT ? UNION
            SELECT p.task_id FROM _ts_task_predecessors p JOIN down ON p.predecessor_id = down.id
        )
        SELECT id FROM down
        UNION SELECT id FROM _ts_tasks WHERE finalize_id = ?
        """, (root_id, root_id)).fetchall()
    out = [get_by_id(conn, r[0]) for r in rows]
    return [t for t in out if t]


def descendants(conn: sqlite3.Connection, task_id: int) -> list[int]:
    rows = conn.execute(
        """
        WITH RECURSIVE down(id) AS (
            SELECT p.task_id FROM _ts_task_predecessors p WHERE p.predecessor_id = ?
            UNION SELECT p.task_id FROM _ts_task_predecessors p JOIN down ON p.predecessor_id = down.id
        )
        SELECT id FROM down
        """, (task_id,)).fetchall()
    return [r[0] for r in rows]


def bump_graph_version(conn: sqlite3.Connection, task_id: int) -> None:
    """Any change to a graph's shape or a member's definition counts as a new graph version."""
    for root in roots_of(conn, task_id):
        conn.execute("UPDATE _ts_tasks SET graph_version = graph_version + 1 WHERE id = ?", (root.id,))


def enable_dependents(conn: sqlite3.Connection, name: str, now_us: int) -> list[str]:
    """SYSTEM$TASK_DEPENDENTS_ENABLE: resume a task, every task after it, and its finalizer."""
    task = get_by_name(conn, name)
    if task is None:
        return []
    ids = [task.id, *descendants(conn, task.id)]
    finalizer = finalizer_of(conn, task.id)
    if finalizer is not None:
        ids.append(finalizer.id)
    marks = ", ".join("?" for _ in ids)
    conn.execute(f"UPDATE _ts_tasks SET state = 'started', resumed_on = ? WHERE state != 'started'"
                 f" AND id IN ({marks})", (now_us, *ids))
    return [t.name for t in (get_by_id(conn, i) for i in ids) if t]


def predecessor_map(conn: sqlite3.Connection, task_ids: list[int]) -> dict[int, list[int]]:
    """task id → its predecessors' ids in AFTER order, for the given tasks."""
    out: dict[int, list[int]] = {t: [] for t in task_ids}
    if not task_ids:
        return out
    marks = ", ".join("?" for _ in task_ids)
    for task_id, pred in conn.execute(
            f"SELECT task_id, predecessor_id FROM _ts_task_predecessors WHERE task_id IN ({marks})"
            " ORDER BY task_id, position", task_ids):
        out[task_id].append(pred)
    return out
