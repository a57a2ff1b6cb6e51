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
    # 2: the scheduler: graph runs (claimed by a unique key), the processes that run them, and the
    # graph run each task run belongs to
    """
    ALTER TABLE _ts_task_runs ADD COLUMN graph_run_id INTEGER;
    CREATE UNIQUE INDEX _ts_task_runs_once_per_graph_run ON _ts_task_runs(graph_run_id, task_id)
        WHERE graph_run_id IS NOT NULL;
    CREATE INDEX _ts_task_runs_by_owner ON _ts_task_runs(claimed_by, state);

    CREATE TABLE _ts_graph_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        claim_key TEXT UNIQUE,
        root_task_id INTEGER NOT NULL,
        root_uuid TEXT NOT NULL,
        root_name TEXT NOT NULL COLLATE NOCASE,
        database_name TEXT NOT NULL,
        schema_name TEXT NOT NULL,
        state TEXT NOT NULL,
        scheduled_from TEXT NOT NULL,
        scheduled_time INTEGER NOT NULL,
        query_start_time INTEGER,
        completed_time INTEGER,
        graph_version INTEGER NOT NULL,
        run_id INTEGER NOT NULL,
        attempt_number INTEGER NOT NULL DEFAULT 1,
        config TEXT,
        first_error_task_name TEXT,
        first_error_code TEXT,
        first_error_message TEXT,
        claimed_by TEXT
    );
    CREATE INDEX _ts_graph_runs_by_root ON _ts_graph_runs(root_task_id, state);
    CREATE INDEX _ts_graph_runs_by_completion ON _ts_graph_runs(completed_time);
    CREATE INDEX _ts_graph_runs_by_owner ON _ts_graph_runs(claimed_by, state);

    CREATE TABLE _ts_processes (
        id TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL,
        heartbeat_ms INTEGER
    );
    """,
    # 3: notification integrations, the outbox of messages to deliver and every delivery attempt.
    # next_attempt_at and claimed_until are wall-clock times: the network runs on real time.
    """
    CREATE TABLE _ts_notification_integrations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        type TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        url TEXT,
        method TEXT NOT NULL DEFAULT 'GET',
        authorization_header TEXT NOT NULL DEFAULT '',
        comment TEXT,
        owner TEXT,
        created_on INTEGER NOT NULL
    );

    CREATE TABLE _ts_notifications (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL UNIQUE,
        created_on INTEGER NOT NULL,
        message_source TEXT NOT NULL DEFAULT 'webhook',
        message_type TEXT NOT NULL,
        integration_name TEXT NOT NULL COLLATE NOCASE,
        message TEXT NOT NULL,
        task_run_seq INTEGER,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        claimed_by TEXT,
        claimed_until INTEGER,
        processed INTEGER,
        error_message TEXT
    );
    CREATE INDEX _ts_notifications_due ON _ts_notifications(status, next_attempt_at);

    CREATE TABLE _ts_notification_attempts (
        notification_id INTEGER NOT NULL REFERENCES _ts_notifications(id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        processed INTEGER NOT NULL,
        status TEXT NOT NULL,
        http_status INTEGER,
        error_message TEXT,
        PRIMARY KEY (notification_id, attempt)
    );
    """,
    # 4: streams: tracked tables (their change logs and triggers are named by `gen`), streams with
    # their consumed position in that log, and a two-row BOOLEAN table that gives computed flags a
    # declared type
    """
    CREATE TABLE _ts_tracked (
        gen INTEGER PRIMARY KEY AUTOINCREMENT,
        table_name TEXT NOT NULL COLLATE NOCASE,
        explicit INTEGER NOT NULL DEFAULT 0,
        created_on INTEGER NOT NULL
    );

    CREATE TABLE _ts_streams (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        database_name TEXT NOT NULL,
        schema_name TEXT NOT NULL,
        owner TEXT NOT NULL,
        comment TEXT,
        table_name TEXT NOT NULL,
        gen INTEGER NOT NULL,
        mode TEXT NOT NULL,
        flavour TEXT NOT NULL,
        consumed_seq INTEGER NOT NULL,
        initial_rows INTEGER NOT NULL DEFAULT 0,
        created_on INTEGER NOT NULL
    );
    CREATE INDEX _ts_streams_by_gen ON _ts_streams(gen, consumed_seq);

    CREATE TABLE _ts_flags (k INTEGER PRIMARY KEY, v BOOLEAN NOT NULL);
    INSERT INTO _ts_flags(k, v) VALUES (0, 0), (1, 1);
    """,
    # 5: the scheduler asks for a root's finalizer at every claim; without this it reads every task
    """
    CREATE INDEX _ts_tasks_by_finalized_root ON _ts_tasks(finalize_id) WHERE finalize_id IS NOT NULL;
    """,
    # 6: every run inserts and ends two run rows; an index whose key holds `state` moves at each end.
    # The scheduler only ever looks for EXECUTING rows by state: partial indexes of those rows stay
    # a page or two, and the lookups by root use a key that never changes
    """
    DROP INDEX _ts_task_runs_by_owner;
    CREATE INDEX _ts_task_runs_executing ON _ts_task_runs(claimed_by) WHERE state = 'EXECUTING';
    DROP INDEX _ts_graph_runs_by_root;
    CREATE INDEX _ts_graph_runs_by_root ON _ts_graph_runs(root_task_id);
    CREATE INDEX _ts_graph_runs_executing ON _ts_graph_runs(root_task_id) WHERE state = 'EXECUTING';
    DROP INDEX _ts_graph_runs_by_owner;
    CREATE INDEX _ts_graph_runs_executing_by_owner ON _ts_graph_runs(claimed_by) WHERE state = 'EXECUTING';
    """,
    # 7: where a process's pid means something: a process that never beats (virtual clock) is
    # judged by its pid, but only by processes that see the same pids (same host, same namespace)
    """
    ALTER TABLE _ts_processes ADD COLUMN pid_space TEXT;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
