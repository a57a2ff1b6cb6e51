"""Streams in SQL: a stream name becomes its net-change subquery, and a statement that reads streams
gets the steps that pin what it reads and, when it consumes, move the offsets.

Pins make a statement (or an explicit transaction) read one fixed window of the change log: before
the statement runs, each stream it reads gets a row (lo, hi) in the connection's temporary table
`_ts_stream_pins` — lo the stream's consumed position, hi the log's last sequence number at that
moment. Every part of the statement reads exactly that window, however many SQLite steps it takes
(MERGE) and whatever it writes meanwhile; a consuming statement then sets the offset to hi. Outside
an explicit transaction the pins are dropped at the end of the statement; inside one they last until
COMMIT or ROLLBACK, so every read in the transaction is the same (and a ROLLBACK undoes the advance
with everything else).

Net change (SEMANTICS §3, §5.3) is computed per row id over the log rows after lo: the first of them
says whether the row existed at lo (an update or delete carries its old image), the first one after hi
says what it looked like at hi (or the base table does, when there is none).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from taskshell.catalog.streams import DELETE, INSERT, StreamInfo, prune_sql, quote, trigger_name
from taskshell.errors import CompilationError
from taskshell.translate.context import SqlStep, TranslateContext, Translation

if TYPE_CHECKING:
    from sqlglot import exp

METADATA = {
    "snowflake": ("METADATA$ACTION", "METADATA$ISUPDATE", "METADATA$ROW_ID"),
    "databend": ("change$action", "change$is_update", "change$row_id"),
}
_ALL_METADATA = {name.lower(): i for names in METADATA.values() for i, name in enumerate(names)}
CONSUMING_KINDS = ("insert", "update", "delete", "merge", "ctas")
STATUS_FUNCTIONS = ("STREAM_STATUS", "SYSTEM$STREAM_HAS_DATA", "STREAM_HAS_DATA")
PINS = "temp._ts_stream_pins"
_CREATE_PINS = SqlStep("CREATE TEMP TABLE IF NOT EXISTS _ts_stream_pins (stream_id INTEGER PRIMARY KEY, "
                       "gen INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL, initial INTEGER NOT NULL)")
UNPIN_SQL = f"DELETE FROM {PINS}"

_STRINGS = re.compile(r"'(?:[^'\\]|\\.|'')*'")
_CONSUME = re.compile(r"\s+WITH\s+CONSUME\b|\s+WITH\s*\(\s*CONSUME\s*=\s*TRUE\s*(?P<rest>,[^)]*)?\)",
                      re.IGNORECASE)


# ---------------------------------------------------------------- names and errors
def not_found(name: str) -> CompilationError:
    return CompilationError(f"Stream '{name}' does not exist or not authorized.", code="002003", sqlstate="02000")


def stale_error(info: StreamInfo) -> CompilationError:
    return CompilationError(
        f"Stream '{info.name}' is stale: its base table was dropped or replaced after the stream was "
        "created, or its change tracking was turned off. Recreate the stream.", code="091901")


def lookup(name: str, ctx: TranslateContext) -> StreamInfo | None:
    """The stream a (possibly `db.`-qualified, possibly quoted) name refers to."""
    short = name.split(".")[-1].strip()
    if len(short) > 1 and short[0] == short[-1] == '"':
        short = short[1:-1]
    return ctx.streams.get(short.lower())


def readable(name: str, ctx: TranslateContext) -> StreamInfo:
    info = lookup(name, ctx)
    if info is None:
        raise not_found(name.split(".")[-1])
    if info.stale:
        raise stale_error(info)
    return info


# ---------------------------------------------------------------- WITH CONSUME
def strip_consume(sql: str) -> tuple[str, bool]:
    """Databend's `FROM s WITH CONSUME` / `WITH (CONSUME = TRUE)` hints, removed; whether there was one."""
    masked = _STRINGS.sub(lambda m: "'" + "_" * (len(m.group()) - 2) + "'", sql)
    found = list(_CONSUME.finditer(masked))
    if not found:
        return sql, False
    for match in found:
        if match.group("rest"):
            raise CompilationError(f"Unsupported SQL: WITH ({match.group()[match.group().index('(') + 1:-1].strip()})"
                                   " (only CONSUME = TRUE)", code="002040")
    for match in reversed(found):
        sql = sql[:match.start()] + sql[match.end():]
    return sql, True


# ---------------------------------------------------------------- which streams a statement reads
def ddl_target(tree: exp.Expression) -> exp.Table | None:
    """The table or view that CREATE, ALTER or DROP TABLE/VIEW names (not one it reads)."""
    from sqlglot import exp

    if not isinstance(tree, exp.Create | exp.Drop | exp.Alter):
        return None
    if (tree.args.get("kind") or "").upper() not in ("TABLE", "VIEW"):
        return None
    if isinstance(tree, exp.Drop):
        tables = tree.args.get("tables") or []
        target = tables[0] if len(tables) == 1 else None
    else:
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    return target if isinstance(target, exp.Table) else None


def check_ddl_target(tree: exp.Expression, ctx: TranslateContext) -> TranslateContext:
    """A table or view statement that names a stream: CREATE finds the name taken, ALTER and DROP
    find no such table; DROP … IF EXISTS does nothing, as for any missing table (the context
    returned, to translate the statement with, does not know the stream)."""
    from sqlglot import exp

    target = ddl_target(tree)
    if target is None or target.name.lower() not in ctx.streams:
        return ctx
    if target.text("db") and target.text("db").lower() not in (ctx.schema.lower(), ctx.database.lower()):
        return ctx
    quoted = isinstance(target.this, exp.Identifier) and target.this.quoted
    shown = target.name if ctx.dialect == "databend" or quoted else target.name.upper()
    if isinstance(tree, exp.Create):
        raise CompilationError(f"Object '{shown}' already exists.", code="002002")
    if isinstance(tree, exp.Drop) and tree.args.get("exists"):
        return _forgetting(ctx, {target.name.lower()})
    kind = (tree.args.get("kind") or "TABLE").title()
    raise CompilationError(f"{kind} '{shown}' does not exist or not authorized.", code="002003")


def without_shadowed(tree: exp.Expression, ctx: TranslateContext) -> TranslateContext:
    """The context to translate `tree` with: a CTE named like a stream stands for itself, so that
    stream is not known while the statement is translated."""
    from sqlglot import exp

    shadowed = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)} & set(ctx.streams)
    return _forgetting(ctx, shadowed) if shadowed else ctx


def _forgetting(ctx: TranslateContext, names: set[str]) -> TranslateContext:
    return replace(ctx, streams={k: v for k, v in ctx.streams.items() if k not in names})


def streams_read(tree: exp.Expression, ctx: TranslateContext) -> tuple[StreamInfo, ...]:
    """The streams `tree` reads (translated with `check_ddl_target` and `without_shadowed` first:
    a DDL target or a CTE named like a stream is not one of them)."""
    from sqlglot import exp

    found: dict[int, StreamInfo] = {}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue
        if table.text("db") and table.text("db").lower() not in (ctx.schema.lower(), ctx.database.lower()):
            continue
        info = ctx.streams.get(table.name.lower())
        if info is not None:
            found.setdefault(info.id, info)
    return tuple(found.values())


def prepare(tree: exp.Expression, read: tuple[StreamInfo, ...], ctx: TranslateContext) -> exp.Expression:
    """Refuse what cannot read a stream, and let either dialect's metadata column names be used."""
    from sqlglot import exp

    for info in read:
        if info.stale:
            raise stale_error(info)
    if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "VIEW":
        raise CompilationError("Unsupported SQL: a stream inside a view definition", code="002040")
    target = tree.this if isinstance(tree, exp.Insert | exp.Update | exp.Delete | exp.Merge) else None
    if isinstance(target, exp.Schema):
        target = target.this
    if isinstance(target, exp.Table) and target.name.lower() in {i.name.lower() for i in read}:
        raise CompilationError(f"Stream '{target.name}' cannot be written to; it is read-only.", code="002003")
    names = METADATA[ctx.dialect]
    tree = tree.copy()
    for column in tree.find_all(exp.Column):
        index = _ALL_METADATA.get(column.name.lower())
        if index is not None and column.name != names[index]:
            column.set("this", exp.to_identifier(names[index], quoted=True))
    return tree


# ---------------------------------------------------------------- the net-change relation
def change_relation(info: StreamInfo, ctx: TranslateContext) -> str:
    """A SELECT with the base table's columns and the three metadata columns: the stream's rows for
    its pinned window."""
    log, base, gen, k = info.log, quote(info.table), info.gen, info.id
    action, isupdate, row_id = (quote(n) for n in METADATA[ctx.dialect])
    columns = info.columns

    def select(src: str, base_image: bool, act: str, flag: str, rid: str, tail: str) -> str:
        values = [f"{src}.{quote(c)}" if base_image else f"{src}.c{i}" for i, c in enumerate(columns)]
        projected = ", ".join(f"{v} AS {quote(c)}" for v, c in zip(values, columns, strict=True))
        return (f"SELECT {projected}{', ' if projected else ''}'{act}' AS {action}, fv.v AS {isupdate}, "
                f"printf('%08x%032llx', {gen}, {rid}) AS {row_id} {tail} "
                f"JOIN _ts_flags fv ON fv.k = ({flag})")

    new_present = "CASE WHEN g.a IS NULL THEN b.rowid IS NOT NULL ELSE al.op <> 1 END"
    at_hi = (f"LEFT JOIN {log} al ON al.seq = g.a LEFT JOIN {base} b ON g.a IS NULL AND b.rowid = g.rid")
    databend = info.flavour == "databend"

    def differs(new: str) -> str:
        if not columns:
            return "0"
        return " OR ".join(f"fl.c{i} IS NOT {new.format(i=i, c=quote(c))}" for i, c in enumerate(columns))

    branches: list[str] = []
    if info.mode == "DEFAULT":
        changed_old = (f" AND (NOT ({new_present}) OR g.d IS NOT NULL OR "
                       f"{differs('CASE WHEN g.a IS NULL THEN b.{c} ELSE al.c{i} END')})") if databend else ""
        branches.append(select("fl", False, "DELETE", f"({new_present}) AND g.d IS NULL", "g.rid",
                               f"FROM g JOIN {log} fl ON fl.seq = g.f {at_hi}")
                        + f" WHERE fl.op <> {INSERT}{changed_old}")
        changed_base = f" AND (fl.op = {INSERT} OR g.d IS NOT NULL OR {differs('b.{c}')})" if databend else ""
        branches.append(select("b", True, "INSERT", f"fl.op <> {INSERT} AND g.d IS NULL", "g.rid",
                               f"FROM g JOIN {base} b ON b.rowid = g.rid JOIN {log} fl ON fl.seq = g.f")
                        + f" WHERE g.a IS NULL{changed_base}")
        changed_log = f" WHERE fl.op = {INSERT} OR g.d IS NOT NULL OR {differs('al.c{i}')}" if databend else ""
        branches.append(select("al", False, "INSERT", f"fl.op <> {INSERT} AND g.d IS NULL", "g.rid",
                               f"FROM g JOIN {log} al ON al.seq = g.a AND al.op <> {INSERT} "
                               f"JOIN {log} fl ON fl.seq = g.f") + changed_log)
    else:
        branches.append(select("b", True, "INSERT", "0", "g.rid", f"FROM g JOIN {base} b ON b.rowid = g.rid")
                        + " WHERE g.a IS NULL AND g.ins")
        branches.append(select("al", False, "INSERT", "0", "g.rid",
                               f"FROM g JOIN {log} al ON al.seq = g.a AND al.op <> {INSERT}") + " WHERE g.ins")
        if not databend:
            # Snowflake's append-only streams keep rows inserted and deleted again since the offset
            branches.append(select("dl", False, "INSERT", "0", "g.rid",
                                   f"FROM g JOIN {log} dl ON dl.seq = g.d {at_hi}")
                            + f" WHERE g.ins AND NOT ({new_present})")
    # SHOW_INITIAL_ROWS: until first consumed, the stream is every row present at hi
    branches.append(select("b", True, "INSERT", "0", "b.rowid", f"FROM p, {base} b")
                    + " WHERE p.initial <> 0 AND b.rowid NOT IN (SELECT rid FROM aft)")
    branches.append(select("al", False, "INSERT", "0", "aft.rid",
                           f"FROM aft JOIN {log} al ON al.seq = aft.a AND al.op <> {INSERT}"))
    return (
        f"WITH p AS MATERIALIZED (SELECT lo, hi, initial FROM {PINS} WHERE stream_id = {k}), "
        f"g AS MATERIALIZED (SELECT l.rid AS rid, min(l.seq) AS f, min(CASE WHEN l.seq > p.hi THEN l.seq END) AS a, "
        f"max(CASE WHEN l.op = {DELETE} AND l.seq <= p.hi THEN l.seq END) AS d, "
        f"max(l.op = {INSERT} AND l.seq <= p.hi) AS ins "
        f"FROM p, {log} l WHERE l.seq > p.lo AND p.initial = 0 GROUP BY l.rid "
        f"HAVING min(l.seq) <= (SELECT hi FROM p)), "
        f"aft AS MATERIALIZED (SELECT l.rid AS rid, min(l.seq) AS a FROM p, {log} l "
        f"WHERE l.seq > p.hi AND p.initial <> 0 GROUP BY l.rid) "
        + " UNION ALL ".join(branches))


def stream_subquery(table: exp.Table, ctx: TranslateContext) -> exp.Expression:
    """`FROM s [AS a]` → `FROM (<net change of s>) AS a`; any other table is left alone."""
    from sqlglot import exp

    from taskshell.translate.rewrites import RawSQL

    info = ctx.streams.get(table.name.lower()) if ctx.streams else None
    if info is None:
        return table
    if info.stale:
        raise stale_error(info)
    alias = table.alias or table.name
    return exp.Subquery(this=RawSQL(this=change_relation(info, ctx)),
                        alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))


# ---------------------------------------------------------------- pins, offsets, pruning
def with_stream_steps(translation: Translation, read: Iterable[StreamInfo], consume: bool,
                      ctx: TranslateContext) -> Translation:
    """The statement's steps between the pins of the streams it reads and, when it consumes them,
    the offset advances (and the pruning of what every stream on the table has consumed)."""
    read = tuple(read)
    consume = consume or translation.kind in CONSUMING_KINDS
    before = [_CREATE_PINS]
    for info in read:
        before.append(SqlStep(
            "SELECT ts_raise('091901', CASE WHEN NOT EXISTS (SELECT 1 FROM _ts_streams WHERE id = ?) "
            "THEN ? ELSE ? END) WHERE NOT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'trigger' "
            "AND name = ?) OR NOT EXISTS (SELECT 1 FROM _ts_streams WHERE id = ?)",
            params=(info.id, not_found(info.name).message, stale_error(info).message,
                    trigger_name(info.gen, "i"), info.id)))
        # the first read of an explicit transaction pins it; elsewhere every statement pins afresh
        verb = "INSERT OR IGNORE" if ctx.in_transaction else "INSERT OR REPLACE"
        before.append(SqlStep(
            f"{verb} INTO {PINS} (stream_id, gen, lo, hi, initial) SELECT id, gen, consumed_seq, "
            f"(SELECT coalesce(max(seq), 0) FROM {info.log}), initial_rows FROM _ts_streams WHERE id = ?",
            params=(info.id,)))
    after: list[SqlStep] = []
    if consume:
        after.extend(SqlStep(f"UPDATE _ts_streams SET consumed_seq = (SELECT hi FROM {PINS} WHERE stream_id = ?), "
                             "initial_rows = 0 WHERE id = ?", params=(info.id, info.id)) for info in read)
    if not ctx.in_transaction:
        after.append(SqlStep(UNPIN_SQL))
    if consume:
        after.extend(SqlStep(pinned_prune_sql(gen)) for gen in sorted({i.gen for i in read}))
    kind = "other" if consume and translation.kind == "select" else translation.kind
    return Translation(kind=kind, steps=(*before, *translation.steps, *after), status=translation.status,
                       object_name=translation.object_name, tables_written=translation.tables_written)


def pinned_prune_sql(gen: int) -> str:
    """`prune_sql`, keeping what a read pinned in this connection's open transaction still needs."""
    return prune_sql(gen).replace(
        "UNION ALL SELECT max(seq)",
        f"UNION ALL SELECT lo FROM {PINS} WHERE gen = {int(gen)} UNION ALL SELECT max(seq)", 1)


# ---------------------------------------------------------------- STREAM_STATUS / SYSTEM$STREAM_HAS_DATA
def has_data_sql(info: StreamInfo) -> str:
    """An index probe: is there any log row after the offset (or initial rows still to return)?"""
    return (f"(SELECT EXISTS (SELECT 1 FROM {info.log} WHERE seq > s.consumed_seq) OR s.initial_rows <> 0"
            f" FROM _ts_streams s WHERE s.id = {info.id})")


def status_function(node: exp.Expression, ctx: TranslateContext) -> exp.Expression:
    """`STREAM_STATUS('s')` / `SYSTEM$STREAM_HAS_DATA('s')` as a scalar → the probe."""
    from sqlglot import exp

    from taskshell.translate.rewrites import RawSQL

    if not isinstance(node, exp.Anonymous) or node.name.upper() not in STATUS_FUNCTIONS \
            or isinstance(node.parent, exp.Table):
        return node
    return exp.Paren(this=RawSQL(this=has_data_sql(readable(_stream_argument(node), ctx))))


def _stream_argument(node: exp.Anonymous) -> str:
    from sqlglot import exp

    args = node.expressions
    if len(args) != 1 or not (isinstance(args[0], exp.Literal) and args[0].is_string):
        raise CompilationError(f"{node.name.upper()} takes one argument: the stream's name as a string.",
                               code="002040")
    return args[0].name


_STATUS_QUERY = re.compile(
    r"\s*SELECT\s+(?:(?P<star>\*|has_data)\s+FROM\s+STREAM_STATUS|(?P<open>\(\s*)?(?P<fn>"
    r"SYSTEM\$STREAM_HAS_DATA|STREAM_STATUS|STREAM_HAS_DATA))\s*\(\s*'(?P<name>[^'\\]*)'\s*\)"
    r"(?(open)\s*\))\s*;?\s*", re.IGNORECASE)


def status_query(sql: str, ctx: TranslateContext) -> Translation | None:
    """`SELECT * FROM STREAM_STATUS('s')` and `SELECT [(]SYSTEM$STREAM_HAS_DATA('s')[)]` without sqlglot:
    the probe answers in microseconds, and parsing would cost a millisecond (WHEN runs this often)."""
    match = _STATUS_QUERY.fullmatch(sql)
    if match is None or lookup(match.group("name"), ctx) is None:
        return None
    info = readable(match.group("name"), ctx)
    if match.group("star"):
        sql = status_relation_sql([match.group("name")], ctx)
    else:
        column = sql.strip().rstrip(";").strip()[len("SELECT"):].strip().replace('"', '""')
        sql = f'SELECT {has_data_sql(info)} AS "{column}"'
    return Translation(kind="select", steps=(SqlStep(sql, returns_rows=True),))


def status_relation_sql(positional: list[object], ctx: TranslateContext) -> str:
    """`SELECT * FROM STREAM_STATUS('s')`: one row, one BOOLEAN column has_data."""
    if len(positional) != 1 or not isinstance(positional[0], str):
        raise CompilationError("STREAM_STATUS takes one argument: the stream's name as a string.", code="002040")
    info = readable(positional[0], ctx)
    return f"SELECT f.v AS has_data FROM _ts_flags f WHERE f.k = {has_data_sql(info)}"


# ---------------------------------------------------------------- SHOW / DESC / system.streams
def _has_data_case(ctx: TranslateContext) -> str:
    live = [i for i in ctx.streams.values() if not i.stale]
    if not live:
        return "0"
    whens = " ".join(f"WHEN {i.id} THEN EXISTS (SELECT 1 FROM {i.log} WHERE seq > s.consumed_seq)" for i in live)
    return f"(CASE s.id {whens} ELSE 0 END OR s.initial_rows <> 0)"


def _stale_case(ctx: TranslateContext) -> str:
    stale = [str(i.id) for i in ctx.streams.values() if i.stale]
    return f"s.id IN ({', '.join(stale)})" if stale else "0"


def streams_sql(ctx: TranslateContext, *, where: str = "", terse: bool = False, full: bool = False,
                databend: bool | None = None) -> str:
    """Every stream with the columns of SHOW STREAMS in the dialect, ordered by name; `where`
    filters over `s` (= _ts_streams)."""
    if databend is None:
        databend = ctx.dialect == "databend"
    stale = _stale_case(ctx)
    if databend and not full:
        cols = [(f"Streams_in_{ctx.database}", "s.name"), ("table_on", "s.database_name || '.' || s.table_name"),
                ("mode", "CASE s.mode WHEN 'DEFAULT' THEN 'standard' ELSE 'append_only' END")]
    elif databend:
        cols = [("created_on", "ts_format(s.created_on)"), ("name", "s.name"), ("database", "s.database_name"),
                ("catalog", "'default'"), ("table_on", "s.database_name || '.' || s.table_name"),
                ("owner", "s.owner"), ("comment", "coalesce(s.comment, '')"),
                ("mode", "CASE s.mode WHEN 'DEFAULT' THEN 'standard' ELSE 'append_only' END"),
                ("invalid_reason", f"CASE WHEN {stale} THEN 'base table dropped or replaced' ELSE '' END"),
                ("has_data", "hd.v")]
    elif terse:
        cols = [("created_on", "ts_format(s.created_on)"), ("name", "s.name"), ("kind", "'STREAM'"),
                ("database_name", "s.database_name"), ("schema_name", "s.schema_name")]
    else:
        qualified = "s.database_name || '.' || s.schema_name || '.' || upper(s.table_name)"
        cols = [("created_on", "ts_format(s.created_on)"), ("name", "s.name"), ("database_name", "s.database_name"),
                ("schema_name", "s.schema_name"), ("owner", "s.owner"), ("comment", "coalesce(s.comment, '')"),
                ("table_name", qualified), ("source_type", "'Table'"), ("base_tables", qualified),
                ("type", "'DELTA'"), ("stale", f"CASE WHEN {stale} THEN 'true' ELSE 'false' END"),
                ("mode", "s.mode"), ("stale_after", "NULL"),
                ("invalid_reason", f"CASE WHEN {stale} THEN 'Base table dropped or replaced' ELSE 'N/A' END"),
                ("owner_role_type", "'ROLE'")]
    select = ", ".join(f"{expr} AS {quote(name)}" for name, expr in cols)
    joins = f" JOIN _ts_flags hd ON hd.k = {_has_data_case(ctx)}" if any(e == "hd.v" for _, e in cols) else ""
    filters = f" WHERE {where}" if where else ""
    return f"SELECT {select} FROM _ts_streams s{joins}{filters} ORDER BY s.name"


def relation_sql(name: str, positional: list[object], ctx: TranslateContext) -> str:
    """`system.streams` (Databend's full listing) and the table function `STREAM_STATUS('s')`."""
    if name == "stream_status":
        return status_relation_sql(positional, ctx)
    return streams_sql(ctx, full=True, databend=True)
