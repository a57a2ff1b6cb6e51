"""Stream DDL, SHOW/DESC STREAM(S) and change tracking (SEMANTICS §3, §5.3).

A stream is a row of `_ts_streams`: its table's tracking generation, its mode and the log position it
has consumed up to. Reading and consuming happen in SQL (taskshell.translate.streams); change capture
is in taskshell.catalog.streams.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskshell.catalog import streams as capture
from taskshell.errors import CompilationError
from taskshell.grammar import ast
from taskshell.interpreter.result import Result
from taskshell.translate.streams import not_found, streams_sql
from taskshell.translate.system_relations import sql_literal

if TYPE_CHECKING:
    from taskshell.interpreter.interpreter import Interpreter

DONE = "Statement executed successfully."
DEFAULT_APPEND_ONLY = {"snowflake": False, "databend": True}


def _stream_name(interp: Interpreter, name: ast.QualifiedName) -> str:
    return interp.session.normalize(name.name)


def _stream_row(interp: Interpreter, name: str) -> tuple | None:
    return interp.session.conn.execute(
        "SELECT id, name, gen, consumed_seq, initial_rows FROM _ts_streams WHERE name = ?", (name,)).fetchone()


def _base_table(interp: Interpreter, name: ast.QualifiedName) -> str:
    table = capture.table_name(interp.session.conn, name.name.value)
    if table is None:
        shown = name.name.value if name.name.quoted or interp.session.dialect == "databend" else name.name.value.upper()
        raise CompilationError(f"Table '{shown}' does not exist or not authorized.", code="002003", sqlstate="42S02")
    return table


def _mode(interp: Interpreter, cmd: ast.CreateStream) -> str:
    if cmd.insert_only:
        return "INSERT_ONLY"
    append_only = cmd.append_only
    if append_only is None:
        append_only = DEFAULT_APPEND_ONLY[interp.session.dialect]
    return "APPEND_ONLY" if append_only else "DEFAULT"


def _start(interp: Interpreter, cmd: ast.CreateStream, gen: int) -> tuple[int, int]:
    """(consumed position, initial rows pending) of a new stream."""
    conn = interp.session.conn
    if cmd.at is None:
        return capture.log_position(conn, gen), int(bool(cmd.show_initial_rows))
    if cmd.at.kind != "STREAM":
        raise CompilationError(f"Unsupported SQL: {'BEFORE' if cmd.at.before else 'AT'} ({cmd.at.kind} => …) "
                               "for a stream (only STREAM => '<stream>')", code="002040")
    other_name = str(cmd.at.value).split(".")[-1].strip('"')
    row = conn.execute("SELECT gen, consumed_seq, initial_rows FROM _ts_streams WHERE name = ?",
                       (other_name,)).fetchone()
    if row is None:
        raise not_found(other_name)
    if row[0] != gen:
        raise CompilationError(f"Stream '{other_name}' is not on table {cmd.table}.", code="002003")
    return int(row[1]), int(row[2])


def create_stream(interp: Interpreter, cmd: ast.CreateStream) -> Result:
    session = interp.session
    conn = session.conn
    name = _stream_name(interp, cmd.name)
    with interp.atomic():
        table = _base_table(interp, cmd.table)
        existing = _stream_row(interp, name)
        if existing is not None:
            if cmd.if_not_exists:
                return Result.of_status(f"{existing[1]} already exists, statement succeeded.")
            if not cmd.or_replace:
                raise CompilationError(f"Object '{existing[1]}' already exists.", code="002002", sqlstate="42710")
        elif capture.table_name(conn, name) is not None or conn.execute(
                "SELECT 1 FROM sqlite_schema WHERE type = 'view' AND name = ? COLLATE NOCASE", (name,)).fetchone():
            raise CompilationError(f"Object '{name}' already exists.", code="002002", sqlstate="42710")
        gen = capture.enable_tracking(conn, table, interp.now_us())
        # before the stream it replaces goes: AT (STREAM => …) may name that very stream
        consumed, initial = _start(interp, cmd, gen)
        if existing is not None:
            conn.execute("DELETE FROM _ts_streams WHERE id = ?", (existing[0],))
        conn.execute(
            "INSERT INTO _ts_streams (name, database_name, schema_name, owner, comment, table_name, gen, mode,"
            " flavour, consumed_seq, initial_rows, created_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (name, session.database, session.schema, session.role, cmd.comment, table, gen, _mode(interp, cmd),
             session.dialect, consumed, initial, interp.now_us()))
        if not session.user_transaction:  # a pinned read of the open transaction may still need the log
            capture.prune(conn, gen)
        capture.drop_unused_logs(conn)
    session.streams.invalidate()
    return Result.of_status(f"Stream {name} successfully created.")


def drop_stream(interp: Interpreter, cmd: ast.DropStream) -> Result:
    session = interp.session
    name = _stream_name(interp, cmd.name)
    with interp.atomic():
        row = _stream_row(interp, name)
        if row is None:
            if cmd.if_exists:
                return Result.of_status(f"Drop statement executed successfully ({name} already dropped).")
            raise not_found(name)
        session.conn.execute("DELETE FROM _ts_streams WHERE id = ?", (row[0],))
        if not session.user_transaction:
            capture.prune(session.conn, row[2])
        capture.drop_unused_logs(session.conn)
    session.streams.invalidate()
    return Result.of_status(f"{row[1]} successfully dropped.")


def describe_stream(interp: Interpreter, cmd: ast.DescribeStream) -> Result:
    name = _stream_name(interp, cmd.name)
    row = _stream_row(interp, name)
    if row is None:
        raise not_found(name)
    return interp.query(streams_sql(interp.session.context(), where=f"s.id = {int(row[0])}", full=True))


def show_streams(interp: Interpreter, cmd: ast.ShowStreams) -> Result:
    where: list[str] = []
    if cmd.like is not None:
        where.append(f"lower(s.name) LIKE lower({sql_literal(cmd.like)})")
    if cmd.starts_with is not None:
        where.append(f"substr(s.name, 1, {len(cmd.starts_with)}) = {sql_literal(cmd.starts_with)}")
    if cmd.limit_from is not None:
        where.append(f"s.name >= {sql_literal(cmd.limit_from)}")
    if cmd.in_scope and len(cmd.in_scope) > 1:
        scope, value = cmd.in_scope[0], cmd.in_scope[-1].split(".")
        if scope == "DATABASE" or interp.session.dialect == "databend":
            where.append(f"lower(s.database_name) = lower({sql_literal(value[0])})")
        elif scope == "SCHEMA":
            where.append(f"lower(s.schema_name) = lower({sql_literal(value[-1])})")
    sql = streams_sql(interp.session.context(), where=" AND ".join(where), terse=cmd.terse, full=cmd.full)
    if cmd.where:
        sql = f"SELECT * FROM ({sql}) WHERE {cmd.where}"
    if cmd.limit is not None:
        sql = f"SELECT * FROM ({sql}) LIMIT {int(cmd.limit)}"
    return interp.query(sql)


def set_change_tracking(interp: Interpreter, cmd: ast.SetChangeTracking) -> Result:
    session = interp.session
    with interp.atomic():
        table = capture.table_name(session.conn, cmd.table.name.value)
        if table is None:
            if cmd.if_exists:
                return Result.of_status(DONE)
            _base_table(interp, cmd.table)
        assert table is not None
        if cmd.enabled:
            capture.enable_tracking(session.conn, table, interp.now_us(), explicit=True)
        else:
            capture.disable_tracking(session.conn, table)
    session.streams.invalidate()
    return Result.of_status(DONE)

