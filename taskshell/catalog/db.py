"""The catalog file: where it lives, how connections are opened, migrations and transactions.

One SQLite file is the whole account (DESIGN §3.1). Connections run in autocommit mode and every
write transaction starts with BEGIN IMMEDIATE: a deferred read that later upgrades to a write fails at
once with SQLITE_BUSY_SNAPSHOT whatever the busy timeout, an immediate one waits its turn.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from taskshell.catalog import functions
from taskshell.catalog.schema import MIGRATIONS, SCHEMA_VERSION
from taskshell.errors import ExecutionError

BUSY_TIMEOUT_MS = 10_000

# SQLite stores BOOLEAN as 0/1; a column declared BOOLEAN reads back as True/False, as in Snowflake.
sqlite3.register_converter("BOOLEAN", lambda raw: raw not in (b"0", b"0.0", b""))
# Dates and times are text in the catalog; keep them text (Python's own converters would parse them).
for _text_type in ("DATE", "TIMESTAMP"):
    sqlite3.register_converter(_text_type, lambda raw: raw.decode("utf-8", "replace"))
MEMORY = ":memory:"


def default_catalog_path() -> str:
    """$TASKSHELL_CATALOG, else <user data dir>/taskshell/default.db."""
    env = os.environ.get("TASKSHELL_CATALOG")
    if env:
        return env
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "taskshell", "default.db")


def now_us() -> int:
    return time.time_ns() // 1000


class Catalog:
    """A catalog file. `:memory:` is a private file in a temporary directory, removed on close,
    so that it behaves exactly like a file-backed catalog (WAL, several connections)."""

    def __init__(self, path: str) -> None:
        self._tmpdir: str | None = None
        if path == MEMORY:
            self._tmpdir = tempfile.mkdtemp(prefix="taskshell-")
            path = os.path.join(self._tmpdir, "memory.db")
        else:
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            path = str(Path(path).expanduser())
        self.path = path
        self.display_path = MEMORY if self._tmpdir else path
        self.connection_setup: list[Callable[[sqlite3.Connection], None]] = []
        self.process_id = f"{os.getpid()}-{os.urandom(4).hex()}"
        conn = self._open()
        try:
            self._migrate(conn)
        finally:
            conn.close()

    # ------------------------------------------------------------------ connections
    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=BUSY_TIMEOUT_MS / 1000, detect_types=sqlite3.PARSE_DECLTYPES)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -16384")
        conn.execute("PRAGMA foreign_keys = ON")
        # Snowflake's LIKE is case-sensitive; ILIKE is rewritten to lower() LIKE lower().
        conn.execute("PRAGMA case_sensitive_like = ON")
        return conn

    def connect(self) -> sqlite3.Connection:
        """A new connection with the engine's SQL functions and every registered setup applied."""
        conn = self._open()
        functions.install(conn)
        for setup in self.connection_setup:
            setup(conn)
        return conn

    def close(self) -> None:
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # ------------------------------------------------------------------ migrations
    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = _schema_version(conn)
        if version == SCHEMA_VERSION:
            return
        with write_transaction(conn):
            version = _schema_version(conn)  # another process may have migrated meanwhile
            if version > SCHEMA_VERSION:
                raise ExecutionError(
                    f"Catalog {self.path} was written by a newer taskshell (schema {version}, "
                    f"this one knows {SCHEMA_VERSION}).")
            for number in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _statements(MIGRATIONS[number - 1]):
                    conn.execute(statement)
                if number == 1:
                    _seed(conn)
                conn.execute("INSERT OR REPLACE INTO _ts_meta(key, value) VALUES ('schema_version', ?)",
                             (str(number),))


def _schema_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_ts_meta'").fetchone()
    if not exists:
        return 0
    row = conn.execute("SELECT value FROM _ts_meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _seed(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO _ts_meta(key, value) VALUES ('account_id', ?)", (os.urandom(5).hex()[:9],))
    conn.execute(
        "INSERT INTO _ts_warehouses(name, size, max_concurrency_level, state, comment, owner, created_on)"
        " VALUES ('default', 'XSMALL', 8, 'STARTED', 'Always present.', 'ACCOUNTADMIN', ?)", (now_us(),))


def has_background_work(catalog: Catalog) -> bool:
    """Started tasks or undelivered notifications: work for a scheduler as soon as a process opens."""
    conn = catalog._open()
    try:
        return conn.execute(
            "SELECT EXISTS (SELECT 1 FROM _ts_tasks WHERE state = 'started')"
            " OR EXISTS (SELECT 1 FROM _ts_notifications WHERE status IN ('PENDING', 'RETRYING'))"
        ).fetchone()[0] == 1
    finally:
        conn.close()


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, rolled back whole on any error."""
    conn.execute("BEGIN IMMEDIATE")
    with committed(conn):
        yield conn


@contextmanager
def committed(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """The rest of a transaction already begun on `conn`: COMMIT after it, ROLLBACK if it raises."""
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


ROWS_PER_INSERT = 200  # rows that one multi-row INSERT writes


def insert_many(conn: sqlite3.Connection, head: str, rows: list[tuple], tail: str = "") -> Iterator[tuple]:
    """`head` (an `INSERT INTO t(columns) VALUES `) for every row of `rows`, ROWS_PER_INSERT rows to a
    statement, followed by `tail` (`ON CONFLICT …`, `RETURNING …`); yields what RETURNING gives."""
    if not rows:
        return
    marks = "(" + ", ".join("?" * len(rows[0])) + ")"
    for first in range(0, len(rows), ROWS_PER_INSERT):
        part = rows[first:first + ROWS_PER_INSERT]
        yield from conn.execute(head + ", ".join([marks] * len(part)) + tail, [v for row in part for v in row])


@contextmanager
def savepoint(conn: sqlite3.Connection, name: str = "ts_statement") -> Iterator[sqlite3.Connection]:
    """A statement inside the user's open transaction: undone alone when it fails."""
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield conn
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    else:
        conn.execute(f"RELEASE {name}")
