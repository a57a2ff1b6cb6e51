"""Snowflake SQL (plus the Databend forms in SEMANTICS) in, SQLite steps out.

`translate` first tries the regex fast path (no sqlglot import at all), then recognises the
statements sqlglot does not read the way Snowflake means them (transaction control, WITH CONSUME,
Databend's SET OPTIONS), and only then parses with sqlglot and dispatches on the statement's kind.
Rewrites live in `rewrites.py`, type mapping in `types.py`. Everything here is pure: no connection.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from taskshell.errors import CompilationError, ParseError
from taskshell.translate import fastpath
from taskshell.translate.context import SqlStep, TranslateContext, Translation

if TYPE_CHECKING:
    from sqlglot import exp

OK = "Statement executed successfully."

_TRANSACTION = re.compile(
    r"^\s*(BEGIN(?:\s+(?:TRANSACTION|WORK))?|START\s+TRANSACTION|COMMIT(?:\s+WORK)?|ROLLBACK(?:\s+WORK)?)"
    r"\s*;?\s*$", re.IGNORECASE)
_STRINGS = re.compile(r"'(?:[^'\\]|\\.|'')*'")
_CONSUME = re.compile(r"\bWITH\s+CONSUME\b|\bWITH\s*\(\s*CONSUME\b", re.IGNORECASE)
_SET_OPTIONS = re.compile(r"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?([\w$.\"]+)\s+SET\s+OPTIONS\s*\(",
                          re.IGNORECASE)


def translate(sql: str, ctx: TranslateContext) -> Translation:
    """One statement's SQLite steps; raises ParseError or CompilationError."""
    if ctx.streams and "STREAM" in sql.upper():
        from taskshell.translate.streams import status_query

        status = status_query(sql, ctx)
        if status is not None:
            return status
    fast = fastpath.passthrough(sql, allow_table=lambda name: fastpath_table_ok(name, ctx))
    if fast is not None:
        return fast
    return translate_with_sqlglot(sql, ctx)


def translate_with_sqlglot(sql: str, ctx: TranslateContext) -> Translation:
    """`translate` without the fast path (also what proves the fast path right in the tests)."""
    early = _without_parsing(sql)
    if early is not None:
        return early
    consume = False
    if _CONSUME.search(_STRINGS.sub("''", sql)):
        from taskshell.translate.streams import strip_consume

        sql, consume = strip_consume(sql)
    tree = _parse(sql)
    if not ctx.streams:
        if consume:
            raise _unsupported("WITH CONSUME on a table that is not a stream")
        return _dispatch(tree, sql, ctx)
    from taskshell.translate import streams

    ctx = streams.without_shadowed(tree, streams.check_ddl_target(tree, ctx))
    read = streams.streams_read(tree, ctx)
    if not read:
        if consume:
            raise _unsupported("WITH CONSUME on a table that is not a stream")
        return _dispatch(tree, sql, ctx)
    translation = _dispatch(streams.prepare(tree, read, ctx), sql, ctx)
    return streams.with_stream_steps(translation, read, consume, ctx)


def fastpath_table_ok(name: str, ctx: TranslateContext) -> bool:
    """Whether a table named in a simple statement may be read unchanged (a stream may not)."""
    return name.lower() not in ctx.streams


def _without_parsing(sql: str) -> Translation | None:
    if m := _TRANSACTION.match(sql):
        word = m.group(1).split()[0].upper()
        kind = {"BEGIN": "begin", "START": "begin", "COMMIT": "commit", "ROLLBACK": "rollback"}[word]
        return Translation(kind=kind, steps=(), status=OK)
    if m := _SET_OPTIONS.match(sql):
        # Databend's table options (change_tracking …) change nothing a local SQLite table needs.
        return Translation(kind="alter_table", steps=(), status=OK, object_name=m.group(1).strip('"'))
    return None


# ---------------------------------------------------------------- parsing
def _parse(sql: str) -> exp.Expression:
    import logging

    import sqlglot
    from sqlglot.errors import ParseError as GlotParseError
    from sqlglot.errors import TokenError

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its fallback warnings are ours to report
    try:
        trees = [t for t in sqlglot.parse(sql, read="snowflake") if t is not None]
    except GlotParseError as exc:
        raise _syntax_error(sql, exc.errors[0] if exc.errors else {}) from None
    except TokenError:
        raise _syntax_error(sql, {}) from None
    if not trees:
        raise _syntax_error(sql, {})
    if len(trees) > 1:
        raise CompilationError("Multiple SQL statements in a single API call are not supported; "
                               "use one call per statement instead.", code="000008", sqlstate="0A000")
    return trees[0]


def _syntax_error(sql: str, error: dict) -> ParseError:
    """Snowflake's wording: 'syntax error line L at position C unexpected 'TOKEN'.' (C is 0-based)."""
    token = error.get("highlight") or ""
    if error.get("line"):
        line, start = error["line"], max(0, error["col"] - len(token))
    else:  # a token error (unterminated string …): point at the end
        lines = sql.rstrip().split("\n")
        line, start, token = len(lines), len(lines[-1]), ""
    shown = token or "<EOF>"
    return ParseError(f"syntax error line {line} at position {start} unexpected '{shown}'.",
                      position=(line, start + 1))


# ---------------------------------------------------------------- dispatch
def _dispatch(tree: exp.Expression, sql: str, ctx: TranslateContext) -> Translation:
    from sqlglot import exp

    handlers = (
        ((exp.Query, exp.Values), _select), (exp.Insert, _insert), (exp.Update, _update),
        (exp.Delete, _delete), (exp.Merge, _merge), (exp.Create, _create), (exp.Drop, _drop),
        (exp.Alter, _alter), (exp.Show, _show), (exp.Describe, _describe),
        (exp.TruncateTable, _truncate),
    )
    for kinds, handler in handlers:
        if isinstance(tree, kinds):
            return handler(tree, ctx)
    raise _unsupported(_construct(tree, sql))


def _construct(tree: exp.Expression, sql: str) -> str:
    """A short name for a statement kind sqlglot could only read as text (CALL, EXECUTE IMMEDIATE …)."""
    words = re.findall(r"[A-Za-z_$]+", sql)
    if words and words[0].upper() == "CALL":
        return "CALL (stored procedures)"
    return " ".join(words[:2]).upper() or "this statement"


def _unsupported(construct: str) -> CompilationError:
    return CompilationError(f"Unsupported SQL: {construct}", code="002040")


def _sqlite(tree: exp.Expression, ctx: TranslateContext, fold: bool = True) -> str:
    from taskshell.translate import rewrites

    return rewrites.to_sqlite(rewrites.rewrite_tree(tree, ctx, fold))


def _table_name(table: exp.Expression) -> str:
    from sqlglot import exp

    found = table if isinstance(table, exp.Table) else table.find(exp.Table)
    return found.name if found is not None else ""


def _shown_name(table: exp.Expression, ctx: TranslateContext) -> str:
    """Object names in status texts: upper-cased like Snowflake's unquoted names; Databend keeps them."""
    from sqlglot import exp

    found = table if isinstance(table, exp.Table) else table.find(exp.Table)
    quoted = found is not None and isinstance(found.this, exp.Identifier) and found.this.quoted
    name = _table_name(table)
    return name if ctx.dialect == "databend" or quoted else name.upper()


# ---------------------------------------------------------------- DML
def _select(tree: exp.Expression, ctx: TranslateContext) -> Translation:
    return Translation(kind="select", steps=(SqlStep(_sqlite(_named_projections(tree), ctx),
                                                     returns_rows=True),))


def _named_projections(tree: exp.Expression) -> exp.Expression:
    """Unnamed result columns keep the name the user wrote (`1 / 3`, `SYSTEM$WAIT(90)`), not the
    name of the SQLite expression they were rewritten into."""
    from sqlglot import exp

    if not isinstance(tree, exp.Select):
        return tree
    tree = tree.copy()
    named = []
    for projection in tree.expressions:
        if isinstance(projection, exp.Alias | exp.Column | exp.Star) or projection.find(exp.Star):
            named.append(projection)
        else:
            named.append(exp.alias_(projection, projection.sql(dialect="snowflake"), quoted=True))
    tree.set("expressions", named)
    return tree


def _insert(tree: exp.Insert, ctx: TranslateContext) -> Translation:
    name = _table_name(tree.this)
    steps = []
    if tree.args.get("overwrite"):
        steps.append(SqlStep(f"DELETE FROM {_quote(name)}"))
        tree = tree.copy()
        tree.set("overwrite", None)
    steps.append(SqlStep(_sqlite(tree, ctx), counts_as="inserted"))
    return Translation(kind="insert", steps=tuple(steps), tables_written=(name,))


def _update(tree: exp.Update, ctx: TranslateContext) -> Translation:
    step = SqlStep(_sqlite(tree, ctx), counts_as="updated")
    return Translation(kind="update", steps=(step,), tables_written=(_table_name(tree.this),))


def _delete(tree: exp.Delete, ctx: TranslateContext) -> Translation:
    step = SqlStep(_sqlite(tree, ctx), counts_as="deleted")
    return Translation(kind="delete", steps=(step,), tables_written=(_table_name(tree.this),))


def _truncate(tree: exp.TruncateTable, ctx: TranslateContext) -> Translation:
    names = [_table_name(t) for t in tree.expressions]
    steps = tuple(SqlStep(f"DELETE FROM {_quote(n)}") for n in names)
    return Translation(kind="other", steps=steps, status=OK, tables_written=tuple(names))


def _merge(tree: exp.Merge, ctx: TranslateContext) -> Translation:
    from taskshell.translate.merge import merge_steps

    steps = merge_steps(tree, ctx, lambda node: _sqlite(node, ctx))
    return Translation(kind="merge", steps=tuple(steps), tables_written=(_table_name(tree.this),))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- DDL
def epoch_us(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _create(tree: exp.Create, ctx: TranslateContext) -> Translation:
    kind = (tree.args.get("kind") or "").upper()
    if kind == "TABLE":
        return _create_table(tree, ctx)
    if kind == "VIEW":
        return _create_view(tree, ctx)
    raise _unsupported(f"CREATE {kind}")


# Table options with no local meaning (storage, retention); CHANGE_TRACKING is read by `_change_tracking`.
_IGNORED_OPTIONS = {"CHANGE_TRACKING", "DATA_RETENTION_TIME_IN_DAYS", "MAX_DATA_EXTENSION_TIME_IN_DAYS",
                    "ENABLE_SCHEMA_EVOLUTION", "DEFAULT_DDL_COLLATION", "BLOCK_PER_SEGMENT",
                    "ROW_PER_BLOCK", "STORAGE_FORMAT", "COMPRESSION", "BLOOM_INDEX_COLUMNS"}


def _table_comment(tree: exp.Create, allowed: tuple[type, ...]) -> str | None:
    """The COMMENT among the table's options; an option that would change meaning is refused."""
    from sqlglot import exp

    comment = None
    props = tree.args.get("properties")
    for prop in props.expressions if props else []:
        if isinstance(prop, exp.SchemaCommentProperty):
            comment = prop.this.name
        elif isinstance(prop, exp.Property) and type(prop) is exp.Property:
            if prop.name.upper() not in _IGNORED_OPTIONS:
                raise _unsupported(f"table option {prop.name.upper()}")
        elif not isinstance(prop, allowed):
            raise _unsupported(prop.sql("snowflake") or type(prop).__name__)
    return comment


def _change_tracking(tree: exp.Create) -> bool:
    """Whether the table option CHANGE_TRACKING = TRUE (Databend's way to track a new table) is given."""
    from sqlglot import exp

    props = tree.args.get("properties")
    for prop in props.expressions if props else []:
        if type(prop) is exp.Property and prop.name.upper() == "CHANGE_TRACKING":
            value = prop.args.get("value")
            return bool(value.this) if isinstance(value, exp.Boolean) else str(value.name).lower() == "true"
    return False


def _column_defs(schema: exp.Schema) -> list[exp.ColumnDef]:
    """Column definitions with SQLite declared types and the constraints Snowflake enforces.

    Snowflake enforces NOT NULL only: PRIMARY KEY and UNIQUE are informational there, so they are
    dropped here (a primary key still implies NOT NULL), and so are foreign keys and comments."""
    from sqlglot import exp

    from taskshell.translate import rewrites, types

    pk_columns = {ident.name.lower() for pk in schema.expressions if isinstance(pk, exp.PrimaryKey)
                  for ident in pk.expressions}
    columns = []
    for item in schema.expressions:
        if not isinstance(item, exp.ColumnDef):
            if isinstance(item, exp.PrimaryKey | exp.UniqueColumnConstraint | exp.ForeignKey | exp.Constraint):
                continue
            raise _unsupported(item.sql("snowflake"))
        if item.args.get("kind") is None:
            raise _unsupported(f"a column without a type ({item.name})")
        column = item.copy()
        column.set("kind", exp.Var(this=types.declared_type(item.args["kind"])))
        not_null = item.name.lower() in pk_columns
        kept = []
        for constraint in item.constraints:
            kind = constraint.args.get("kind")
            if isinstance(kind, exp.PrimaryKeyColumnConstraint):
                not_null = True
            elif isinstance(kind, exp.NotNullColumnConstraint):
                not_null = not_null or not kind.args.get("allow_null")
            elif isinstance(kind, exp.DefaultColumnConstraint):
                if any(rewrites.is_session_value(node) for node in kind.walk()):
                    raise _unsupported(f"DEFAULT {kind.this.sql('snowflake')} (a default evaluated at insert time)")
                kept.append(constraint)
            elif not isinstance(kind, exp.UniqueColumnConstraint | exp.CommentColumnConstraint | exp.Reference):
                raise _unsupported(constraint.sql("snowflake"))
        if not_null:
            kept.insert(0, exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
        column.set("constraints", kept)
        columns.append(column)
    return columns


def _create_table(tree: exp.Create, ctx: TranslateContext) -> Translation:
    from sqlglot import exp

    if tree.args.get("clone") is not None:
        raise _unsupported("CREATE TABLE … CLONE")
    comment = _table_comment(tree, (exp.TransientProperty, exp.CopyGrantsProperty, exp.EngineProperty,
                                    exp.ClusterProperty, exp.ClusteredByProperty))
    table = tree.this if isinstance(tree.this, exp.Table) else tree.this.this
    target = _sqlite(table, ctx)
    name = _table_name(table)
    exists = " IF NOT EXISTS" if tree.args.get("exists") else ""
    steps = [SqlStep(f"DROP TABLE IF EXISTS {target}")] if tree.args.get("replace") else []
    query = tree.args.get("expression")
    if isinstance(tree.this, exp.Schema):
        defs = ", ".join(_sqlite(c, ctx) for c in _column_defs(tree.this))
        steps.append(SqlStep(f"CREATE TABLE{exists} {target} ({defs})"))
        if query is not None:
            steps.append(SqlStep(f"INSERT INTO {target} {_sqlite(query, ctx)}"))
    elif query is not None:
        steps.append(SqlStep(f"CREATE TABLE{exists} {target} AS {_sqlite(query, ctx)}"))
    else:
        raise _unsupported("CREATE TABLE without columns")
    verb = "INSERT OR IGNORE" if exists else "INSERT OR REPLACE"
    steps.append(SqlStep(f"{verb} INTO _ts_tables (name, created_on, owner, comment) VALUES (?, ?, ?, ?)",
                         params=(name, epoch_us(ctx.now), ctx.role, comment)))
    if _change_tracking(tree):
        # a request: the interpreter installs the triggers once the table exists (catalog.streams)
        steps.append(SqlStep("INSERT INTO _ts_tracked (table_name, explicit, created_on) VALUES (?, 1, ?)",
                             params=(name, epoch_us(ctx.now))))
    return Translation(kind="ctas" if query is not None else "create_table", steps=tuple(steps),
                       status=f"Table {_shown_name(table, ctx)} successfully created.",
                       object_name=name, tables_written=(name,))


def _create_view(tree: exp.Create, ctx: TranslateContext) -> Translation:
    from sqlglot import exp

    _table_comment(tree, (exp.SecureProperty, exp.CopyGrantsProperty))
    table = tree.this if isinstance(tree.this, exp.Table) else tree.this.this
    head = _sqlite(tree.this, ctx)
    exists = " IF NOT EXISTS" if tree.args.get("exists") else ""
    steps = [SqlStep(f"DROP VIEW IF EXISTS {_sqlite(table, ctx)}")] if tree.args.get("replace") else []
    steps.append(SqlStep(f"CREATE VIEW{exists} {head} AS {_sqlite(tree.expression, ctx, fold=False)}"))
    return Translation(kind="create_view", steps=tuple(steps), object_name=_table_name(table),
                       status=f"View {_shown_name(table, ctx)} successfully created.")


def _drop(tree: exp.Drop, ctx: TranslateContext) -> Translation:
    kind = (tree.args.get("kind") or "").upper()
    tables = tree.args.get("tables") or []
    if kind not in ("TABLE", "VIEW") or len(tables) != 1:
        raise _unsupported(f"DROP {kind}" if kind not in ("TABLE", "VIEW") else f"DROP {kind} with several names")
    table = tables[0]
    name = _table_name(table)
    exists = " IF EXISTS" if tree.args.get("exists") else ""
    steps = [SqlStep(f"DROP {kind}{exists} {_sqlite(table, ctx)}")]
    if kind == "TABLE":
        steps.append(SqlStep("DELETE FROM _ts_tables WHERE name = ?", params=(name,)))
    return Translation(kind=f"drop_{kind.lower()}", steps=tuple(steps), object_name=name,
                       status=f"{_shown_name(table, ctx)} successfully dropped.",
                       tables_written=(name,) if kind == "TABLE" else ())


def _alter(tree: exp.Alter, ctx: TranslateContext) -> Translation:
    from sqlglot import exp

    if (tree.args.get("kind") or "").upper() != "TABLE":
        raise _unsupported(f"ALTER {(tree.args.get('kind') or '').upper()}")
    if tree.args.get("exists"):
        raise _unsupported("ALTER TABLE IF EXISTS")
    table = _sqlite(tree.this, ctx)
    name = _table_name(tree.this)
    steps = []
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            steps.append(SqlStep(f"ALTER TABLE {table} ADD COLUMN {_sqlite(_column_def(action), ctx)}"))
        elif isinstance(action, exp.AlterRename):
            new = _table_name(action.this)
            steps.append(SqlStep(f"ALTER TABLE {table} RENAME TO {_sqlite(action.this, ctx)}"))
            steps.append(SqlStep("UPDATE _ts_tables SET name = ? WHERE name = ?", params=(new, name)))
        elif isinstance(action, exp.RenameColumn | exp.Drop) and (
                not isinstance(action, exp.Drop) or (action.args.get("kind") or "").upper() == "COLUMN"):
            steps.append(SqlStep(f"ALTER TABLE {table} {_sqlite(action, ctx)}"))
        elif isinstance(action, exp.AlterSet):
            steps.extend(_alter_set(action, name))
        else:
            raise _unsupported(f"ALTER TABLE {action.sql('snowflake').split(' ')[0].upper()}")
    drops = any(isinstance(a, exp.Drop) for a in tree.args.get("actions") or [])
    return Translation(kind="alter_table", steps=tuple(steps), status=OK, object_name=name,
                       tables_written=(name,), drops_columns=drops)


def _column_def(column: exp.ColumnDef) -> exp.ColumnDef:
    from sqlglot import exp

    return _column_defs(exp.Schema(expressions=[column.copy()]))[0]


def _alter_set(action: exp.AlterSet, name: str) -> list[SqlStep]:
    from sqlglot import exp

    steps = []
    for props in action.expressions:
        for prop in props.expressions if isinstance(props, exp.Properties) else [props]:
            if isinstance(prop, exp.SchemaCommentProperty):
                steps.append(SqlStep("UPDATE _ts_tables SET comment = ? WHERE name = ?",
                                     params=(prop.this.name, name)))
            elif not (type(prop) is exp.Property and prop.name.upper() in _IGNORED_OPTIONS):
                raise _unsupported(f"ALTER TABLE SET {prop.sql('snowflake')}")
    return steps


# ---------------------------------------------------------------- SHOW TABLES, DESCRIBE
_USER_TABLES = ("FROM sqlite_schema m LEFT JOIN _ts_tables c ON c.name = m.name "
                "WHERE m.type = 'table' AND lower(substr(m.name, 1, 4)) <> '_ts_' "
                "AND lower(substr(m.name, 1, 7)) <> 'sqlite_'")


def _show(tree: exp.Show, ctx: TranslateContext) -> Translation:
    what = (tree.name or "").upper()
    if what != "TABLES":
        raise _unsupported(f"SHOW {what}")
    like = tree.args.get("like")
    where, params = ("", ())
    if like is not None:
        where, params = " AND lower(m.name) LIKE lower(?)", (like.name,)
    if ctx.dialect == "databend":
        column = _quote(f"Tables_in_{ctx.database}")
        sql = f"SELECT m.name AS {column} {_USER_TABLES}{where} ORDER BY m.name"
    else:
        sql = ("SELECT ts_format(c.created_on) AS created_on, upper(m.name) AS name, "
               "? AS database_name, ? AS schema_name, 'TABLE' AS kind, coalesce(c.comment, '') AS comment, "
               f"coalesce(c.owner, '') AS owner {_USER_TABLES}{where} ORDER BY upper(m.name)")
        params = (ctx.database, ctx.schema, *params)
    return Translation(kind="show_tables", steps=(SqlStep(sql, params=params, returns_rows=True),))


def _describe(tree: exp.Describe, ctx: TranslateContext) -> Translation:
    from taskshell.translate import types

    kind = (tree.args.get("kind") or "TABLE").upper()
    if kind not in ("TABLE", "VIEW"):
        raise _unsupported(f"DESCRIBE {kind}")
    name = _table_name(tree.this)
    missing = f"{kind.title()} '{_shown_name(tree.this, ctx)}' does not exist or not authorized."
    check = SqlStep("SELECT ts_raise('002003', ?) WHERE NOT EXISTS (SELECT 1 FROM sqlite_schema "
                    "WHERE type IN ('table', 'view') AND name = ? COLLATE NOCASE)", params=(missing, name))
    if ctx.dialect == "databend":
        columns = (f"name AS Field, {types.USER_TYPE_SQL} AS Type, "
                   "CASE WHEN \"notnull\" THEN 'NO' ELSE 'YES' END AS \"Null\", "
                   "dflt_value AS \"Default\", '' AS Extra")
    else:
        columns = (
            f"upper(name) AS name, {types.USER_TYPE_SQL} AS type, 'COLUMN' AS kind, "
            "CASE WHEN \"notnull\" THEN 'N' ELSE 'Y' END AS \"null?\", dflt_value AS \"default\", "
            "CASE WHEN pk > 0 THEN 'Y' ELSE 'N' END AS \"primary key\"")
    rows = SqlStep(f"SELECT {columns} FROM pragma_table_info(?) ORDER BY cid", params=(name,), returns_rows=True)
    return Translation(kind="describe_table", steps=(check, rows), object_name=name)
