"""An immutable picture of the catalog's names, for completion.

The shell's completer runs off the UI thread and must never wait on SQLite, so it reads a snapshot
that is rebuilt in the background after DDL and scheduler events and swapped in whole.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from taskshell.catalog.schema import RESERVED_PREFIX

if TYPE_CHECKING:
    from taskshell.catalog.db import Catalog


def _empty() -> Mapping:
    return MappingProxyType({})


# Catalog tables that hold streams and notification integrations, under the names they may have.
_STREAM_TABLES = ("_ts_streams",)
_INTEGRATION_TABLES = ("_ts_integrations", "_ts_notification_integrations")


@dataclass(frozen=True)
class CatalogSnapshot:
    tasks: tuple[str, ...] = ()
    task_states: Mapping[str, str] = field(default_factory=_empty)  # upper-cased name → state
    streams: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()  # user tables and views
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=_empty)  # lower-cased table → columns
    warehouses: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()
    built_at: float = 0.0  # time.monotonic() when it was read

    def columns_of(self, tables: tuple[str, ...] = ()) -> tuple[str, ...]:
        """Columns of the named tables (case-insensitive), or of every table when none is named."""
        wanted = [t.lower() for t in tables] if tables else list(self.columns)
        seen: dict[str, None] = {}
        for table in wanted:
            for column in self.columns.get(table, ()):
                seen.setdefault(column, None)
        return tuple(seen)


def build_snapshot(catalog: Catalog) -> CatalogSnapshot:
    """Read every name the completer offers, on a connection of its own."""
    conn = sqlite3.connect(catalog.path, timeout=1.0, check_same_thread=False)
    try:
        return read_snapshot(conn)
    finally:
        conn.close()


def read_snapshot(conn: sqlite3.Connection) -> CatalogSnapshot:
    present = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    tasks = conn.execute("SELECT name, state FROM _ts_tasks ORDER BY name").fetchall() \
        if "_ts_tasks" in present else []
    relations = conn.execute(
        "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE ? ESCAPE '\\'"
        " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        (RESERVED_PREFIX.replace("_", "\\_") + "%",)).fetchall()
    tables = tuple(r[0] for r in relations)
    columns: dict[str, list[str]] = {}
    if tables:
        marks = ",".join("?" * len(tables))
        for table, column in conn.execute(
                f"SELECT m.name, p.name FROM sqlite_schema AS m, pragma_table_info(m.name) AS p"
                f" WHERE m.name IN ({marks}) ORDER BY m.name, p.cid", tables):
            columns.setdefault(table.lower(), []).append(column)
    return CatalogSnapshot(
        tasks=tuple(r[0] for r in tasks),
        task_states=MappingProxyType({r[0].upper(): r[1] for r in tasks}),
        streams=_names(conn, present, _STREAM_TABLES),
        tables=tables,
        columns=MappingProxyType({k: tuple(v) for k, v in columns.items()}),
        warehouses=_names(conn, present, ("_ts_warehouses",)),
        integrations=_names(conn, present, _INTEGRATION_TABLES),
        built_at=time.monotonic(),
    )


def _names(conn: sqlite3.Connection, present: set[str], candidates: tuple[str, ...]) -> tuple[str, ...]:
    names: list[str] = []
    for table in candidates:
        if table in present:
            names.extend(r[0] for r in conn.execute(f"SELECT name FROM {table} ORDER BY name"))
    return tuple(names)
