"""Catalog files written by an earlier taskshell are migrated in place, once, keeping their data."""

from __future__ import annotations

import sqlite3

import pytest

from taskshell.catalog import db
from taskshell.catalog.schema import MIGRATIONS, SCHEMA_VERSION
from taskshell.errors import ExecutionError


def _catalog_at(path: str, version: int) -> None:
    """A catalog file as the taskshell that knew only the first `version` migrations left it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    for number in range(1, version + 1):
        for statement in db._statements(MIGRATIONS[number - 1]):
            conn.execute(statement)
        if number == 1:
            db._seed(conn)
        conn.execute("INSERT OR REPLACE INTO _ts_meta(key, value) VALUES ('schema_version', ?)", (str(number),))
    conn.execute("COMMIT")
    conn.close()


def _indexes(path: str) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'index'")}
    finally:
        conn.close()


def test_version_5_gets_partial_indexes_of_executing_runs_and_keeps_its_history(tmp_path):
    path = str(tmp_path / "old.db")
    _catalog_at(path, 5)
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _ts_task_runs(task_id, task_uuid, name, database_name, schema_name, state, scheduled_time,"
        " root_task_id, graph_version, run_id, scheduled_from, claimed_by)"
        " VALUES (1, 'u', 'T', 'D', 'S', 'SUCCEEDED', 1, 'u', 1, 1, 'SCHEDULE', 'p')")
    conn.commit()
    conn.close()
    assert "_ts_task_runs_by_owner" in _indexes(path)

    db.Catalog(path)

    indexes = _indexes(path)
    assert {"_ts_task_runs_executing", "_ts_graph_runs_executing", "_ts_graph_runs_executing_by_owner",
            "_ts_graph_runs_by_root"} <= indexes
    assert not {"_ts_task_runs_by_owner", "_ts_graph_runs_by_owner"} & indexes
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM _ts_meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    assert conn.execute("SELECT name, state FROM _ts_task_runs").fetchall() == [("T", "SUCCEEDED")]
    conn.close()
    db.Catalog(path)  # a second open finds nothing to do
    assert _indexes(path) == indexes


def test_a_catalog_from_a_newer_taskshell_is_refused_untouched(tmp_path):
    path = str(tmp_path / "new.db")
    db.Catalog(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE _ts_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(ExecutionError, match="written by a newer taskshell"):
        db.Catalog(path)
