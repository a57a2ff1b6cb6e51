"""Change capture: the change log and triggers of a tracked table, and the catalog's streams.

Tracking a table (its first stream, or CHANGE_TRACKING = TRUE) gives it a generation number `gen`,
a change log `_ts_log_<gen>` and four AFTER triggers `_ts_cap_<gen>_{i,u,k,d}` that append one row per
changed base row: (seq, rid, op, old image). `seq` is the log's INTEGER PRIMARY KEY, so it grows with
every write; `rid` is the base row's rowid; `op` is 1 insert, 2 update, 3 delete. Inserts carry no
image (the row itself, or the old image of its next change, holds it): the insert trigger stays as
cheap as SQLite allows. An update that changes the rowid (an INTEGER PRIMARY KEY) is logged as a
delete of the old row and an insert of the new one.

A row's identity is its rowid. Taskshell creates tables without INTEGER PRIMARY KEY and never
VACUUMs, so a row keeps its rowid for its life; a VACUUM by another program may renumber rowids of
such tables, and a rowid freed by deleting the highest row can be reused by the next insert (the
change is then reported as a DELETE and an INSERT, not an update).

A table dropped or replaced loses its triggers: its streams are stale from then on. Log columns are
named c0, c1 … by position, so a renamed column keeps working; an added column is added to the log by
`sync_tracking`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

INSERT, UPDATE, DELETE = 1, 2, 3


@dataclass(frozen=True)
class StreamInfo:
    """What translation needs to know about one stream (a catalog snapshot; no offsets)."""

    id: int
    name: str
    table: str  # the base table's current name ('' when stale)
    gen: int
    mode: str  # 'DEFAULT' | 'APPEND_ONLY' | 'INSERT_ONLY'
    flavour: str  # 'snowflake' | 'databend': whose net-change rules the stream follows
    columns: tuple[str, ...] = ()
    stale: bool = False

    @property
    def log(self) -> str:
        return log_table(self.gen)


def log_table(gen: int) -> str:
    return f"_ts_log_{int(gen)}"


def trigger_name(gen: int, kind: str) -> str:
    return f"_ts_cap_{int(gen)}_{kind}"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- tables and tracking
def table_name(conn: sqlite3.Connection, name: str) -> str | None:
    """The user table's name as stored, matched case-insensitively; None when there is none."""
    row = conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE"
                       " AND name NOT LIKE '\\_ts\\_%' ESCAPE '\\'", (name,)).fetchone()
    return row[0] if row else None


def _columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute("SELECT name, type FROM pragma_table_info(?) ORDER BY cid",
                                               (table,))]


def live_gen(conn: sqlite3.Connection, table: str) -> int | None:
    """The generation whose triggers are on `table` now, if it is tracked."""
    row = conn.execute(
        "SELECT t.gen FROM _ts_tracked t JOIN sqlite_schema m ON m.type = 'trigger'"
        " AND m.name = '_ts_cap_' || t.gen || '_i' WHERE m.tbl_name = ? COLLATE NOCASE"
        " ORDER BY t.gen DESC LIMIT 1", (table,)).fetchone()
    return int(row[0]) if row else None


def enable_tracking(conn: sqlite3.Connection, table: str, now_us: int, explicit: bool = False) -> int:
    """Track `table` (a no-op when it already is); returns its generation."""
    gen = live_gen(conn, table)
    if gen is not None:
        if explicit:
            conn.execute("UPDATE _ts_tracked SET explicit = 1 WHERE gen = ?", (gen,))
        return gen
    cur = conn.execute("INSERT INTO _ts_tracked(table_name, explicit, created_on) VALUES (?, ?, ?)",
                       (table, int(explicit), now_us))
    gen = int(cur.lastrowid)
    _install(conn, gen, table)
    return gen


def _install(conn: sqlite3.Connection, gen: int, table: str) -> None:
    columns = _columns(conn, table)
    defs = "".join(f", c{i} {kind}" for i, (_, kind) in enumerate(columns))
    conn.execute(f"CREATE TABLE {log_table(gen)} (seq INTEGER PRIMARY KEY, rid INTEGER NOT NULL, "
                 f"op INTEGER NOT NULL{defs})")
    _create_triggers(conn, table, gen, columns)


def _create_triggers(conn: sqlite3.Connection, table: str, gen: int, columns: list[tuple[str, str]]) -> None:
    log, base = log_table(gen), quote(table)
    names = "".join(f", c{i}" for i in range(len(columns)))
    old = "".join(f", OLD.{quote(name)}" for name, _ in columns)
    for kind in "iukd":
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger_name(gen, kind)}")
    conn.execute(f"CREATE TRIGGER {trigger_name(gen, 'i')} AFTER INSERT ON {base} BEGIN "
                 f"INSERT INTO {log}(rid, op) VALUES (NEW.rowid, {INSERT}); END")
    conn.execute(f"CREATE TRIGGER {trigger_name(gen, 'u')} AFTER UPDATE ON {base} WHEN OLD.rowid = NEW.rowid "
                 f"BEGIN INSERT INTO {log}(rid, op{names}) VALUES (OLD.rowid, {UPDATE}{old}); END")
    conn.execute(f"CREATE TRIGGER {trigger_name(gen, 'k')} AFTER UPDATE ON {base} WHEN OLD.rowid <> NEW.rowid "
                 f"BEGIN INSERT INTO {log}(rid, op{names}) VALUES (OLD.rowid, {DELETE}{old}); "
                 f"INSERT INTO {log}(rid, op) VALUES (NEW.rowid, {INSERT}); END")
    conn.execute(f"CREATE TRIGGER {trigger_name(gen, 'd')} AFTER DELETE ON {base} BEGIN "
                 f"INSERT INTO {log}(rid, op{names}) VALUES (OLD.rowid, {DELETE}{old}); END")


def before_column_drop(conn: sqlite3.Connection, name: str) -> tuple[str, int, list[tuple[str, str]]] | None:
    """Before an ALTER TABLE that drops columns: SQLite refuses to drop a column that a trigger
    names, so a tracked table's capture triggers go first; what `after_column_drop` needs."""
    table = table_name(conn, name)
    gen = live_gen(conn, table) if table else None
    if table is None or gen is None:
        return None
    for kind in "iukd":
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger_name(gen, kind)}")
    return table, gen, _columns(conn, table)


def after_column_drop(conn: sqlite3.Connection, table: str, gen: int, before: list[tuple[str, str]]) -> None:
    """The log of a tracked table whose columns were dropped loses the same positions (a log's
    columns follow the table's by position), and the triggers come back for the columns left."""
    after = _columns(conn, table)
    kept = {name for name, _ in after}
    gone = [i for i, (name, _) in enumerate(before) if name not in kept]
    if [c for c in before if c[0] in kept] != after[:len(before) - len(gone)]:
        raise ValueError(f"the columns of {table} changed in a way its change log cannot follow")
    log, width = log_table(gen), len(before)
    for i in reversed(gone):
        conn.execute(f"ALTER TABLE {log} DROP COLUMN c{i}")
        for j in range(i + 1, width):
            conn.execute(f"ALTER TABLE {log} RENAME COLUMN c{j} TO c{j - 1}")
        width -= 1
    for j in range(width, len(after)):
        conn.execute(f"ALTER TABLE {log} ADD COLUMN c{j} {after[j][1]}")
    _create_triggers(conn, table, gen, after)


def disable_tracking(conn: sqlite3.Connection, table: str) -> None:
    """Stop tracking `table`: its triggers and log go, and its streams become stale."""
    gen = live_gen(conn, table)
    if gen is None:
        return
    for kind in "iukd":
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger_name(gen, kind)}")
    drop_unused_logs(conn)


def sync_tracking(conn: sqlite3.Connection) -> None:
    """After DDL: tracking requested by CREATE TABLE … CHANGE_TRACKING = TRUE is installed, and a
    tracked table that gained columns gets them in its log and triggers."""
    if conn.execute("SELECT 1 FROM _ts_tracked LIMIT 1").fetchone() is None:
        return
    for gen, name in conn.execute(
            "SELECT gen, table_name FROM _ts_tracked t WHERE NOT EXISTS (SELECT 1 FROM sqlite_schema m"
            " WHERE m.type = 'table' AND m.name = '_ts_log_' || t.gen)").fetchall():
        table = table_name(conn, name)
        if table is None or live_gen(conn, table) is not None:
            conn.execute("DELETE FROM _ts_tracked WHERE gen = ?", (gen,))
        else:
            _install(conn, gen, table)
    rows = conn.execute(
        "SELECT t.gen, m.tbl_name FROM _ts_tracked t JOIN sqlite_schema m ON m.type = 'trigger'"
        " AND m.name = '_ts_cap_' || t.gen || '_i'").fetchall()
    for gen, table in rows:
        columns = _columns(conn, table)
        logged = conn.execute("SELECT count(*) - 3 FROM pragma_table_info(?)", (log_table(gen),)).fetchone()[0]
        if len(columns) > logged:
            for i in range(logged, len(columns)):
                kind = columns[i][1]
                conn.execute(f"ALTER TABLE {log_table(gen)} ADD COLUMN c{i} {kind}")
            _create_triggers(conn, table, gen, columns)
        conn.execute("UPDATE _ts_tracked SET table_name = ? WHERE gen = ? AND table_name <> ?",
                     (table, gen, table))
    drop_unused_logs(conn)


def drop_unused_logs(conn: sqlite3.Connection) -> None:
    """Logs of tables no longer tracked, once no stream refers to them, are dropped."""
    for (gen,) in conn.execute(
            "SELECT gen FROM _ts_tracked t WHERE NOT EXISTS (SELECT 1 FROM sqlite_schema m"
            " WHERE m.type = 'trigger' AND m.name = '_ts_cap_' || t.gen || '_i')"
            " AND NOT EXISTS (SELECT 1 FROM _ts_streams s WHERE s.gen = t.gen)").fetchall():
        conn.execute(f"DROP TABLE IF EXISTS {log_table(gen)}")
        conn.execute("DELETE FROM _ts_tracked WHERE gen = ?", (gen,))


def unpin(conn: sqlite3.Connection) -> None:
    """Forget the stream windows pinned by the transaction that just ended on `conn`."""
    try:
        conn.execute("DELETE FROM temp._ts_stream_pins")
    except sqlite3.OperationalError:  # no stream was read on this connection
        pass


def log_position(conn: sqlite3.Connection, gen: int) -> int:
    return int(conn.execute(f"SELECT coalesce(max(seq), 0) FROM {log_table(gen)}").fetchone()[0])


def prune_sql(gen: int) -> str:
    """Delete the log rows every stream on the table has consumed (all but the newest when there is
    no stream: the newest keeps the sequence from starting over). Rows a pinned read of this
    connection still needs stay."""
    log = log_table(gen)
    return (f"DELETE FROM {log} WHERE seq < (SELECT min(x) FROM ("
            f"SELECT consumed_seq AS x FROM _ts_streams WHERE gen = {int(gen)} "
            f"UNION ALL SELECT max(seq) FROM {log} WHERE NOT EXISTS "
            f"(SELECT 1 FROM _ts_streams WHERE gen = {int(gen)})))")


def prune(conn: sqlite3.Connection, gen: int) -> None:
    conn.execute(prune_sql(gen))


# ---------------------------------------------------------------- the snapshot translation reads
def read_streams(conn: sqlite3.Connection) -> Mapping[str, StreamInfo]:
    """Every stream, keyed by lower-cased name (stream names are unique case-insensitively)."""
    rows = conn.execute(
        "SELECT s.id, s.name, s.gen, s.mode, s.flavour, (SELECT m.tbl_name FROM sqlite_schema m"
        " WHERE m.type = 'trigger' AND m.name = '_ts_cap_' || s.gen || '_i') FROM _ts_streams s").fetchall()
    found: dict[str, StreamInfo] = {}
    for stream_id, name, gen, mode, flavour, table in rows:
        columns = tuple(c for c, _ in _columns(conn, table)) if table else ()
        found[name.lower()] = StreamInfo(id=stream_id, name=name, table=table or "", gen=gen, mode=mode,
                                         flavour=flavour, columns=columns, stale=table is None)
    return MappingProxyType(found)


_EMPTY: Mapping[str, StreamInfo] = MappingProxyType({})


class StreamCache:
    """The streams snapshot of one connection, re-read only when the catalog may have changed:
    another connection committed (PRAGMA data_version), or this one ran DDL or stream DDL and said so
    with `invalidate()`. One PRAGMA per statement (a few microseconds) is all it costs otherwise."""

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._generation = 0
        self._value: Mapping[str, StreamInfo] = _EMPTY

    def invalidate(self) -> None:
        self._generation += 1

    def get(self, conn: sqlite3.Connection) -> Mapping[str, StreamInfo]:
        key = (conn.execute("PRAGMA data_version").fetchone()[0], self._generation)
        if key != self._key:
            self._value = read_streams(conn)
            self._key = key
        return self._value
