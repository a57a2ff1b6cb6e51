"""Versioned migrations of the catalog tables.

Every catalog table lives under the reserved prefix `_ts_` and is hidden from the user's listings.
Times are integers: microseconds since the Unix epoch, UTC. A migration is appended, never edited.
"""

from __future__ import annotations

RESERVED_PREFIX = "_ts_"

MIGRATIONS: tuple[str, ...] = (
    # 1: tables, warehouses, tasks, their predecessors and their runs
    """
    CREATE TABLE _ts_meta (key TEXT PRIMARY KEY, value TEXT);

    CREATE TABLE _ts_tables (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        created_on INTEGER,
        owner TEXT,
        comment TEXT
    );

    CREATE TABLE _ts_warehouses (
        name TEXT PRIMARY KEY COLLATE NOCASE,
        size TEXT NOT NULL DEFAULT 'XSMALL',
        max_concurrency_level INTEGER,
        state TEXT NOT NULL DEFAULT 'STARTED',
        comment TEXT,
        owner TEXT,
        created_on INTEGER NOT NULL,
        properties TEXT NOT NULL DEFAULT '{}'
    );

    CREATE TABLE _ts_tasks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uuid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        database_name TEXT NOT NULL,
        schema_name TEXT NOT NULL,
        owner TEXT NOT NULL,
        comment TEXT,
        warehouse TEXT,
        managed_warehouse_size TEXT,
        schedule TEXT,
        state TEXT NOT NULL DEFAULT 'suspended',
        definition TEXT NOT NULL,
        condition TEXT,
        config TEXT,
        allow_overlapping_execution INTEGER,
        overlap_policy TEXT,
        user_task_timeout_ms INTEGER,
        suspend_task_after_num_failures INTEGER,
        error_integration TEXT,
        success_integration TEXT,
        finalize_id INTEGER REFERENCES _ts_tasks(id),
        task_auto_retry_attempts INTEGER,
        min_trigger_interval_s INTEGER,
        session_params TEXT NOT NULL DEFAULT '{}',
        created_on INTEGER NOT NULL,
        last_committed_on INTEGER,
        last_suspended_on INTEGER,
        last_suspended_reason TEXT,
        resumed_on INTEGER,
        graph_version INTEGER NOT NULL DEFAULT 1,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        had_predecessors INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE _ts_task_predecessors (
        task_id INTEGER NOT NULL REFERENCES _ts_tasks(id) ON DELETE CASCADE,
        predecessor_id INTEGER NOT NULL REFERENCES _ts_tasks(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        PRIMARY KEY (task_id, predecessor_id)
    );
    CREATE INDEX _ts_task_predecessors_by_pred ON _ts_task_predecessors(predecessor_id);

    CREATE TABLE _ts_task_runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        query_id TEXT,
        task_id INTEGER NOT NULL,
        task_uuid TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        database_name TEXT NOT NULL,
        schema_name TEXT NOT NULL,
        owner TEXT,
        comment TEXT,
        schedule TEXT,
        warehouse TEXT,
        query_text TEXT,
        condition_text TEXT,
        state TEXT NOT NULL,
        error_code TEXT,
        error_message TEXT,
        scheduled_time INTEGER NOT NULL,
        query_start_time INTEGER,
        completed_time INTEGER,
        root_task_id TEXT NOT NULL,
        graph_version INTEGER NOT NULL,
        run_id INTEGER NOT NULL,
        return_value TEXT,
        scheduled_from TEXT NOT NULL,
        attempt_number INTEGER NOT NULL DEFAULT 1,
        config TEXT,
        session_params TEXT,
        claimed_by TEXT,
        heartbeat_at INTEGER
    );
    CREATE INDEX _ts_task_runs_by_time ON _ts_task_runs(scheduled_time);
    CREATE INDEX _ts_task_runs_by_name ON _ts_task_runs(name, scheduled_time);
    CREATE INDEX _ts_task_runs_by_run ON _ts_task_runs(run_id, task_id);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
