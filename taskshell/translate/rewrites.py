"""The rewrites from Snowflake's meaning to SQLite's: one small function per rewrite, as in sqlglot's
`transforms.py`. Each takes a node (and the context when it needs one) and returns its replacement;
`rewrite_tree` applies them all to a statement. Functions whose names start with `ts_` are the
engine's own (taskshell.catalog.functions); `system$…` ones are registered by the session.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from sqlglot import exp, transforms
from sqlglot.dialects.sqlite import SQLite

from taskshell.errors import CompilationError
from taskshell.translate import system_relations, types
from taskshell.translate.context import TranslateContext

Rewrite = Callable[[exp.Expression], exp.Expression]


def unsupported(construct: str) -> CompilationError:
    return CompilationError(f"Unsupported SQL: {construct}", code="002040")


def call(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


class RawSQL(exp.Expression):
    """SQLite text spliced into the output untouched (a system relation's SELECT)."""

    arg_types = {"this": True}


class TaskshellSQLite(SQLite):
    class Generator(SQLite.Generator):
        TRANSFORMS = {**SQLite.Generator.TRANSFORMS, RawSQL: lambda self, e: e.this}


def to_sqlite(node: exp.Expression) -> str:
    from sqlglot.errors import ErrorLevel, UnsupportedError

    try:
        return TaskshellSQLite().generate(node, unsupported_level=ErrorLevel.RAISE,
                                          normalize_functions=False)
    except UnsupportedError as exc:
        raise unsupported(str(exc).split("\n")[0]) from None


# ---------------------------------------------------------------- refusals
_REFUSED: dict[type, str] = {
    exp.Lateral: "LATERAL", exp.Copy: "COPY INTO", exp.MatchRecognize: "MATCH_RECOGNIZE",
    exp.Connect: "CONNECT BY", exp.TableSample: "SAMPLE", exp.HistoricalData: "AT/BEFORE (time travel)",
    exp.Lambda: "lambda expressions", exp.Placeholder: "bind variables", exp.Command: "this statement",
    exp.Explode: "FLATTEN", exp.Unnest: "UNNEST", exp.Changes: "CHANGES",
    exp.JSONExtract: "semi-structured paths (v:field)", exp.JSONExtractScalar: "semi-structured paths",
    exp.Struct: "OBJECT literals", exp.Array: "ARRAY literals", exp.Bracket: "element access (a[i])",
}


def refuse_untranslatable(node: exp.Expression) -> exp.Expression:
    """Constructs that SQLite cannot run with the same meaning are refused, naming the construct."""
    if isinstance(node, exp.Pivot):
        raise unsupported("UNPIVOT" if node.args.get("unpivot") else "PIVOT")
    for kind, construct in _REFUSED.items():
        if isinstance(node, kind):
            raise unsupported(construct)
    if isinstance(node, exp.Select) and node.args.get("qualify") and any(
            isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
            for e in node.expressions):
        raise unsupported("QUALIFY with SELECT * (list the columns)")
    return node


def is_session_value(node: exp.Expression) -> bool:
    """CURRENT_TIMESTAMP, CURRENT_ROLE() & co.: values of the moment and session, folded at translation."""
    return isinstance(node, _SESSION_NODES) or (isinstance(node, exp.Anonymous) and node.name.upper() in _NOW_NAMES)


def refuse_session_values(node: exp.Expression) -> exp.Expression:
    """In a view, CURRENT_TIMESTAMP & co. must be evaluated per query, so they cannot be folded."""
    if is_session_value(node):
        raise unsupported(f"{node.sql('snowflake')} inside a view definition")
    return node


# ---------------------------------------------------------------- expressions
def division_to_ts_div(node: exp.Expression) -> exp.Expression:
    """`/` with Snowflake's meaning: 1/3 = 0.333333, and division by zero is an error."""
    if isinstance(node, exp.Div):
        return call("ts_div", node.this, node.expression)
    return node


def quantified_comparisons(node: exp.Expression) -> exp.Expression:
    """sqlglot reads `x NOT IN (subquery)` as `x <> ALL (…)`, which SQLite lacks: back to (NOT) IN."""
    if isinstance(node, exp.NEQ | exp.EQ) and isinstance(node.expression, exp.All | exp.Any):
        quantifier = node.expression
        query = quantifier.this.unnest() if isinstance(quantifier.this, exp.Subquery) else quantifier.this
        if isinstance(node, exp.NEQ) and isinstance(quantifier, exp.All):
            return exp.Not(this=exp.Paren(this=node.this.isin(query)))
        if isinstance(node, exp.EQ) and isinstance(quantifier, exp.Any):
            return node.this.isin(query)
    pairs = ((exp.NEQ, exp.All), (exp.EQ, exp.Any))
    if isinstance(node, exp.All | exp.Any) and not any(
            isinstance(node.parent, op) and isinstance(node, q) for op, q in pairs):
        raise unsupported(f"comparison with {node.key.upper()}")
    return node


def ilike_to_lower_like(node: exp.Expression) -> exp.Expression:
    """ILIKE is LIKE on lower-cased operands (the session keeps LIKE case-sensitive)."""
    if isinstance(node, exp.ILike):
        return exp.Like(this=exp.Lower(this=node.this), expression=exp.Lower(this=node.expression))
    return node


def iff_to_case(node: exp.Expression) -> exp.Expression:
    """IFF(c, a, b) → CASE WHEN c THEN a ELSE b END (the WHEN branches of a CASE are If nodes too)."""
    if isinstance(node, exp.If) and node.arg_key != "ifs":
        case = exp.Case(ifs=[exp.If(this=node.this, true=node.args.get("true"))])
        return case.else_(node.args["false"]) if node.args.get("false") else case
    return node


def _strict_literal(safe: bool) -> exp.Literal:
    return exp.Literal.number(0 if safe else 1)


def casts_to_ts_cast(node: exp.Expression) -> exp.Expression:
    """CAST, ::, TRY_CAST and TO_<type>() with Snowflake's conversions (rounding, errors, formats)."""
    if isinstance(node, exp.Cast):
        safe = isinstance(node, exp.TryCast) or bool(node.args.get("safe"))
        return call("ts_cast", node.this, exp.Literal.string(types.cast_target(node.to)), _strict_literal(safe))
    if isinstance(node, exp.ToNumber):
        if node.args.get("format") is not None:
            raise unsupported("TO_NUMBER with a format")
        scale = node.args.get("scale")
        target = f"number:{scale.name if scale is not None else 0}"
        return call("ts_cast", node.this, exp.Literal.string(target), _strict_literal(bool(node.args.get("safe"))))
    simple = {exp.ToDouble: "float", exp.ToBoolean: "bool", exp.TsOrDsToDate: "date"}
    for kind, target in simple.items():
        if isinstance(node, kind):
            if node.args.get("format") is not None:
                raise unsupported(f"{node.sql('snowflake').split('(')[0]} with a format")
            return call("ts_cast", node.this, exp.Literal.string(target), _strict_literal(bool(node.args.get("safe"))))
    if isinstance(node, exp.TimeToStr):  # TO_VARCHAR of a typed timestamp: sqlglot already made it strftime
        from sqlglot.dialects.snowflake import Snowflake

        quoted = Snowflake().generator().format_time(node) or "''"
        return call("ts_to_char", node.this, exp.Literal.string(quoted[1:-1].replace("''", "'")))
    if isinstance(node, exp.StrToTime | exp.StrToDate):
        raise unsupported("TO_TIMESTAMP / TO_DATE with a format")
    if isinstance(node, exp.ToChar):
        if node.args.get("format") is not None:
            return call("ts_to_char", node.this, node.args["format"])
        return call("ts_cast", node.this, exp.Literal.string("text"), _strict_literal(False))
    if isinstance(node, exp.Anonymous) and node.name.upper() in _TO_TIMESTAMP:
        if len(node.expressions) != 1:
            raise unsupported(f"{node.name.upper()} with a format or scale")
        safe = node.name.upper().startswith("TRY_")
        return call("ts_cast", node.expressions[0], exp.Literal.string(_TO_TIMESTAMP[node.name.upper()]),
                    _strict_literal(safe))
    return node


_TO_TIMESTAMP = {f"{prefix}{name}": target
                 for prefix in ("", "TRY_")
                 for name, target in (("TO_TIMESTAMP", "timestamp"), ("TO_TIMESTAMP_NTZ", "timestamp"),
                                      ("TO_TIMESTAMP_LTZ", "timestamp"), ("TO_TIMESTAMP_TZ", "timestamp"),
                                      ("TO_TIME", "time"), ("TO_VARCHAR", "text"))}


def _unit(node: exp.Expression) -> exp.Literal:
    unit = node.args.get("unit")
    return exp.Literal.string(unit.name.lower() if unit is not None else "day")


def _interval_parts(interval: exp.Interval) -> tuple[exp.Expression, exp.Literal]:
    """INTERVAL '2 hours' / INTERVAL '2' HOUR → (amount, unit)."""
    unit = interval.args.get("unit")
    if unit is not None:
        return interval.this, exp.Literal.string(unit.name.lower())
    amount, _, name = interval.this.name.strip().partition(" ")
    if not name or not interval.this.is_string:
        raise unsupported(f"INTERVAL {interval.this.sql('snowflake')}")
    return exp.Literal.number(amount), exp.Literal.string(name.strip().lower())


def date_arithmetic(node: exp.Expression) -> exp.Expression:
    """DATEADD/TIMESTAMPADD/DATEDIFF/TIMESTAMPDIFF and `ts ± INTERVAL` keeping the time of day."""
    if isinstance(node, exp.DateAdd | exp.TimestampAdd | exp.TsOrDsAdd | exp.DateSub | exp.TimestampSub):
        amount, unit = node.expression, _unit(node)
        if isinstance(amount, exp.Interval):
            amount, unit = _interval_parts(amount)
        if isinstance(node, exp.DateSub | exp.TimestampSub):
            amount = exp.Neg(this=exp.Paren(this=amount))
        return call("ts_dateadd", unit, amount, node.this)
    if isinstance(node, exp.DateDiff | exp.TimestampDiff | exp.TsOrDsDiff):
        return call("ts_datediff", _unit(node), node.expression, node.this)
    if isinstance(node, exp.Add | exp.Sub):
        left, right = node.this, node.expression
        if isinstance(right, exp.Interval) or (isinstance(node, exp.Add) and isinstance(left, exp.Interval)):
            interval, value = (right, left) if isinstance(right, exp.Interval) else (left, right)
            amount, unit = _interval_parts(interval)
            if isinstance(node, exp.Sub):
                amount = exp.Neg(this=exp.Paren(this=amount))
            return call("ts_dateadd", unit, amount, value)
    return node


_SESSION_NODES = (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime, exp.Localtime,
                  exp.Localtimestamp, exp.CurrentRole, exp.CurrentDatabase, exp.CurrentSchema)
_NOW_NAMES = {"NOW", "SYSTIMESTAMP", "LOCALTIMESTAMP", "GETDATE", "SYSDATE", "CURRENT_TIMESTAMP"}


def fold_session_values(node: exp.Expression, ctx: TranslateContext) -> exp.Expression:
    """CURRENT_TIMESTAMP & co. become literals: one instant per statement, in the session's zone."""
    local = ctx.now.astimezone(ZoneInfo(ctx.timezone))
    if isinstance(node, exp.CurrentTimestamp | exp.Localtimestamp) or (
            isinstance(node, exp.Anonymous) and node.name.upper() in _NOW_NAMES):
        return exp.Literal.string(_timestamp_text(local))
    if isinstance(node, exp.CurrentDate):
        return exp.Literal.string(local.strftime("%Y-%m-%d"))
    if isinstance(node, exp.CurrentTime | exp.Localtime):
        return exp.Literal.string(local.strftime("%H:%M:%S"))
    values = {exp.CurrentRole: ctx.role, exp.CurrentDatabase: ctx.database, exp.CurrentSchema: ctx.schema}
    for kind, value in values.items():
        if isinstance(node, kind):
            return exp.Literal.string(value)
    return node


def _timestamp_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def system_functions(node: exp.Expression) -> exp.Expression:
    """SYSTEM$X(…) calls the session's `system$x` function (quoted: `$` is not portable)."""
    if isinstance(node, exp.Anonymous) and node.name.upper().startswith("SYSTEM$"):
        return exp.Anonymous(this=exp.to_identifier(node.name.lower(), quoted=True),
                             expressions=node.expressions)
    return node


def update_targets_unqualified(node: exp.Expression) -> exp.Expression:
    """SQLite's UPDATE … SET takes bare column names (`SET t.a = 1` → `SET a = 1`)."""
    if isinstance(node, exp.Update):
        for assignment in node.expressions:
            if isinstance(assignment, exp.EQ) and isinstance(assignment.this, exp.Column):
                assignment.set("this", exp.column(assignment.this.this))
    return node


def delete_using_to_rowid(node: exp.Expression) -> exp.Expression:
    """`DELETE FROM t USING s WHERE …` → `DELETE FROM t WHERE rowid IN (SELECT t.rowid FROM t, s WHERE …)`:
    names in WHERE resolve exactly as in the original join."""
    if not isinstance(node, exp.Delete) or not node.args.get("using"):
        return node
    target = node.this
    ref = target.alias_or_name
    inner = exp.select(exp.column("rowid", table=ref)).from_(target.copy())
    for source in node.args["using"]:
        inner = inner.join(source.copy())
    if node.args.get("where"):
        inner = inner.where(node.args["where"].this.copy())
    bare = exp.Table(this=target.this.copy())
    return exp.Delete(this=bare, where=exp.Where(this=exp.column("rowid").isin(inner)))


def strip_session_qualifiers(node: exp.Expression, ctx: TranslateContext) -> exp.Expression:
    """`db.schema.t` naming the session's own database and schema is just `t` in the one SQLite file."""
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier) and node.args.get("db"):
        catalog = node.args.get("catalog")
        if node.text("db").upper() == ctx.schema.upper() and (
                catalog is None or node.text("catalog").upper() == ctx.database.upper()):
            node.set("db", None)
            node.set("catalog", None)
    return node


# ---------------------------------------------------------------- FROM items
def stream_reference(table: exp.Table, ctx: TranslateContext) -> exp.Expression:
    """Where a stream name becomes its net-change subquery (taskshell.translate.streams)."""
    if not ctx.streams:
        return table
    from taskshell.translate.streams import stream_subquery

    return stream_subquery(table, ctx)


def stream_functions(node: exp.Expression, ctx: TranslateContext) -> exp.Expression:
    """STREAM_STATUS('s') and SYSTEM$STREAM_HAS_DATA('s') as values: an index probe of the change log."""
    if isinstance(node, exp.Anonymous) and node.name.upper() in (
            "STREAM_STATUS", "SYSTEM$STREAM_HAS_DATA", "STREAM_HAS_DATA"):
        from taskshell.translate.streams import status_function

        return status_function(node, ctx)
    return node


def _relation_call(node: exp.Expression) -> tuple[str, exp.Anonymous | None] | None:
    """(relation name, its call) when a FROM item names a system relation."""
    inner = node.this if isinstance(node, exp.TableFromRows) else node
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
        name = f"{node.text('db')}.{node.name}".lower()
        return (name, None) if node.text("db") and system_relations.is_system_relation(name) else None
    if isinstance(inner, exp.Dot) and isinstance(inner.expression, exp.Anonymous):
        if inner.this.name.lower() != "information_schema":
            return None
        inner = inner.expression
    elif isinstance(inner, exp.Table) and isinstance(inner.this, exp.Anonymous):
        if inner.text("db") and inner.text("db").lower() != "information_schema":
            return None
        inner = inner.this
    if isinstance(inner, exp.Anonymous) and system_relations.is_system_relation(inner.name):
        return inner.name.lower(), inner
    return None


def system_relation_to_subquery(node: exp.Expression, ctx: TranslateContext,
                                evaluate: Callable[[exp.Expression], object]) -> exp.Expression:
    """TASK_HISTORY(…), TABLE(INFORMATION_SCHEMA.TASK_HISTORY(…)), system.tasks … → (SELECT …) AS alias."""
    if not isinstance(node, exp.Table | exp.TableFromRows):
        return node
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier) and not node.text("db"):
        return stream_reference(node, ctx)
    found = _relation_call(node)
    if found is None:
        if isinstance(node, exp.TableFromRows) or isinstance(node.this, exp.Anonymous | exp.Dot):
            raise unsupported(f"table function {node.this.sql('snowflake').split('(')[0].upper()}")
        return node
    name, fn = found
    named: dict[str, object] = {}
    positional: list[object] = []
    for arg in fn.expressions if fn is not None else []:
        if isinstance(arg, exp.Kwarg):
            named[arg.this.name.upper()] = evaluate(arg.expression)
        else:
            positional.append(evaluate(arg))
    sql = system_relations.relation_sql(name, named, positional, ctx)
    alias = node.alias or name.split(".")[-1]
    return exp.Subquery(this=RawSQL(this=sql), alias=exp.TableAlias(this=exp.to_identifier(alias)))


def constant_value(node: exp.Expression) -> object:
    """A constant argument as a Python value; expressions (DATEADD(…, CURRENT_TIMESTAMP())) are
    evaluated by SQLite with the engine's functions, on a private in-memory database."""
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else _number(node.this)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        return -_number(node.this.this)
    if node.find(exp.Column, exp.Select, exp.Subquery):
        raise unsupported(f"a non-constant argument {node.sql('snowflake')}")
    from taskshell.catalog import functions

    conn = sqlite3.connect(":memory:")
    try:
        functions.install(conn)
        return conn.execute(f"SELECT {to_sqlite(node)}").fetchone()[0]
    except sqlite3.Error as exc:
        raise functions.translate_sqlite_error(exc) from None
    finally:
        conn.close()


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


# ---------------------------------------------------------------- all together
def expression_rewrites(ctx: TranslateContext, fold: bool = True) -> list[Rewrite]:
    """The per-node rewrites in the order they apply; `fold=False` refuses session values instead."""
    return [
        refuse_untranslatable,
        transforms.eliminate_qualify,
        partial(strip_session_qualifiers, ctx=ctx),
        partial(fold_session_values, ctx=ctx) if fold else refuse_session_values,
        division_to_ts_div,
        quantified_comparisons,
        ilike_to_lower_like,
        iff_to_case,
        date_arithmetic,
        casts_to_ts_cast,
        partial(stream_functions, ctx=ctx),
        system_functions,
        update_targets_unqualified,
        delete_using_to_rowid,
    ]


def apply_bottom_up(tree: exp.Expression, rewrite: Rewrite) -> exp.Expression:
    """`rewrite` on every node, children before parents, so nested matches are all rewritten
    (sqlglot's `transform` does not descend into a node it has just replaced)."""
    for node in reversed(list(tree.walk(bfs=False))):
        new = rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def rewrite_tree(tree: exp.Expression, ctx: TranslateContext, fold: bool = True) -> exp.Expression:
    """Every rewrite applied to `tree` (a copy is rewritten; `tree` is left as it was)."""
    tree = tree.copy()
    for rewrite in expression_rewrites(ctx, fold):
        tree = apply_bottom_up(tree, rewrite)
    relations = partial(system_relation_to_subquery, ctx=ctx, evaluate=constant_value)
    if not fold:
        relations = partial(_no_relations_in_views, ctx=ctx)
    return apply_bottom_up(tree, relations)


def _no_relations_in_views(node: exp.Expression, ctx: TranslateContext) -> exp.Expression:
    """A view is evaluated later, so a system relation's arguments (relative to now) cannot be fixed."""
    if isinstance(node, exp.Table | exp.TableFromRows) and (found := _relation_call(node)):
        raise unsupported(f"{found[0].upper()} inside a view definition")
    return system_relation_to_subquery(node, ctx, evaluate=constant_value)
