"""SQL functions that depend on who is asking: the session's time zone and clock, the running task.

Registered on every connection a session or a task run uses. The engine's context-free functions
(division and friends) live in `taskshell.catalog.functions`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from taskshell.catalog.functions import sql_function
from taskshell.errors import ExecutionError
from taskshell.scheduler.clock import Clock, format_timestamp_us, wait_amount_to_seconds, wait_message

if TYPE_CHECKING:
    from taskshell.scheduler.schedule import Schedule


@dataclass
class TaskRunInfo:
    """What a task body can ask about the run it is part of."""

    task_name: str
    root_task_name: str
    root_task_uuid: str
    run_id: int
    scheduled_time: datetime
    return_value: str | None = None
    predecessor_values: dict[str, str | None] = field(default_factory=dict)  # predecessor name → value


@dataclass
class SqlEnv:
    clock: Clock
    timezone: Callable[[], str]
    task: TaskRunInfo | None = None
    waited: list[float] = field(default_factory=list)
    # How SYSTEM$WAIT waits: a task run waits on its runtime, a session with a scheduler lets due
    # work run; None moves (or sleeps on) the clock.
    wait: Callable[[float], None] | None = None
    # Catalog changes a function asked for (SYSTEM$TASK_DEPENDENTS_ENABLE); the interpreter applies
    # them in a write transaction once the statement is done, since a function must not write.
    deferred: list[Callable[[sqlite3.Connection], None]] = field(default_factory=list)


@lru_cache(maxsize=256)
def _schedule(text: str) -> Schedule:
    # imported here: croniter takes tens of milliseconds to load, and start-up matters
    from taskshell.scheduler import schedule as schedules

    return schedules.from_json(text)


def schedule_text(schedule_json: str | None, dialect: str) -> str | None:
    if schedule_json is None:
        return None
    return _schedule(schedule_json).describe(dialect)


def next_fire_us(schedule_json: str | None, base_us: int | None, now: datetime) -> int | None:
    if schedule_json is None:
        return None
    from taskshell.scheduler import schedule as schedules

    base = datetime.fromtimestamp(base_us / 1_000_000, UTC) if base_us is not None else None
    nxt = schedules.next_fire_after(_schedule(schedule_json), now, base=base)
    return int(nxt.timestamp() * 1_000_000) if nxt else None


def install(conn: sqlite3.Connection, env: SqlEnv) -> None:
    @sql_function
    def ts_format(us: int | None) -> str | None:
        return format_timestamp_us(us, env.timezone()) if us is not None else None

    @sql_function
    def ts_schedule_text(schedule_json: str | None, dialect: str) -> str | None:
        return schedule_text(schedule_json, dialect)

    @sql_function
    def ts_next_fire(schedule_json: str | None, base_us: int | None) -> int | None:
        return next_fire_us(schedule_json, base_us, env.clock.now())

    @sql_function
    def system_wait(amount: float, unit: str | None = None) -> str:
        seconds = wait_amount_to_seconds(amount, unit)
        env.waited.append(seconds)
        (env.wait or env.clock.sleep)(seconds)
        return wait_message(amount, unit)

    @sql_function
    def current_user_task_name() -> str | None:
        return env.task.task_name if env.task else None

    @sql_function
    def task_runtime_info(arg: str) -> str:
        if env.task is None:
            raise ExecutionError("SYSTEM$TASK_RUNTIME_INFO can only be called from within a task run.")
        key = str(arg).upper()
        task = env.task
        values = {
            "CURRENT_TASK_NAME": task.task_name,
            "CURRENT_ROOT_TASK_NAME": task.root_task_name,
            "CURRENT_ROOT_TASK_UUID": task.root_task_uuid,
            "CURRENT_TASK_GRAPH_RUN_GROUP_ID": str(task.run_id),
            "CURRENT_TASK_GRAPH_ORIGINAL_SCHEDULED_TIMESTAMP":
                format_timestamp_us(int(task.scheduled_time.timestamp() * 1_000_000), env.timezone()),
        }
        if key not in values:
            raise ExecutionError(f"Invalid argument for SYSTEM$TASK_RUNTIME_INFO: '{arg}'.")
        return values[key]

    @sql_function
    def set_return_value(value: object) -> str:
        if env.task is None:
            raise ExecutionError("SYSTEM$SET_RETURN_VALUE can only be called from within a task run.")
        env.task.return_value = None if value is None else str(value)
        return "Return value set."

    @sql_function
    def get_predecessor_return_value(name: str | None = None) -> str | None:
        if env.task is None:
            raise ExecutionError(
                "SYSTEM$GET_PREDECESSOR_RETURN_VALUE can only be called from within a task run.")
        values = env.task.predecessor_values
        if name is None:
            if len(values) > 1:
                raise ExecutionError("SYSTEM$GET_PREDECESSOR_RETURN_VALUE needs the name of a predecessor "
                                     "when the task has several.")
            return next(iter(values.values()), None)
        short = str(name).split(".")[-1].strip('"').lower()
        for key, value in values.items():
            if key.lower() == short:
                return value
        raise ExecutionError(f"Task {name} is not a predecessor of task {env.task.task_name}.")

    @sql_function
    def task_dependents_enable(name: str) -> str:
        from taskshell.catalog import tasks as task_rows

        short = str(name).split(".")[-1]
        short = short[1:-1] if short.startswith('"') and short.endswith('"') else short
        if task_rows.get_by_name(conn, short) is None:
            raise ExecutionError(f"Task '{short.upper()}' does not exist or not authorized.", code="002003")
        now_us = int(env.clock.now().timestamp() * 1_000_000)
        env.deferred.append(lambda c: task_rows.enable_dependents(c, short, now_us))
        return "Statement executed successfully."

    conn.create_function("ts_format", 1, ts_format, deterministic=False)
    conn.create_function("ts_schedule_text", 2, ts_schedule_text, deterministic=True)
    conn.create_function("ts_next_fire", 2, ts_next_fire, deterministic=False)
    conn.create_function("system$wait", 1, system_wait)
    conn.create_function("system$wait", 2, system_wait)
    conn.create_function("system$current_user_task_name", 0, current_user_task_name)
    conn.create_function("system$task_runtime_info", 1, task_runtime_info)
    conn.create_function("system$set_return_value", 1, set_return_value)
    conn.create_function("system$get_predecessor_return_value", 0, get_predecessor_return_value)
    conn.create_function("system$get_predecessor_return_value", 1, get_predecessor_return_value)
    conn.create_function("system$task_dependents_enable", 1, task_dependents_enable)
