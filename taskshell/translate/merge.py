"""Snowflake MERGE as a sequence of SQLite statements run in one transaction.

SQLite has no MERGE whose semantics match Snowflake's, so the statement is rebuilt from parts:

1. the source is copied into a temp table with a row number, so every later step sees the same rows;
2. every (target row, source row) pair that satisfies ON is recorded with the first WHEN MATCHED
   clause that applies to it, judged on the rows as they were before the MERGE;
3. the pairs that carry an action go into an actions table, and a check step fails the statement
   with Snowflake's duplicate-row error when one target row carries more than one action;
4. DELETE, then one UPDATE per update clause, then one INSERT per insert clause, each driven by the
   tables above and never by the target's changing contents;
5. the temp tables are dropped.

Deletes run before updates so that an update which changes an INTEGER PRIMARY KEY (and so the rowid)
cannot make a later step pick the wrong row.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot.expressions as exp

from taskshell.errors import CompilationError, ExecutionError
from taskshell.translate.context import SqlStep, TranslateContext

ACTIONS_TABLE_PREFIX = "_merge_actions_"
DUPLICATE_ROW_MESSAGE = "Duplicate row detected during DML action"
DUPLICATE_ROW_CODE = "100090"
DUPLICATE_ROW_SQLSTATE = "42P18"

_ROW = '"_merge_src_row"'
_TARGET_ROWID = '"_merge_target_rowid"'
_CLAUSE = '"_merge_clause"'
_ACTION_ALIAS = '"_merge_action"'

# Temp names only need to be unique while one MERGE runs on a connection; a counter also keeps two
# MERGEs translated for the same transaction apart.
_serial = itertools.count(1)


def duplicate_row_error() -> ExecutionError:
    return ExecutionError(DUPLICATE_ROW_MESSAGE, code=DUPLICATE_ROW_CODE, sqlstate=DUPLICATE_ROW_SQLSTATE)


@dataclass(frozen=True)
class _Clause:
    number: int  # 1-based position among clauses of the same side (matched / not matched)
    kind: str  # 'update' | 'delete' | 'insert'
    when: exp.When


def merge_steps(node: exp.Merge, ctx: TranslateContext,
                to_sql: Callable[[exp.Expression], str]) -> tuple[SqlStep, ...]:
    """The SQLite steps that perform `node` with Snowflake's MERGE semantics."""
    matched, not_matched = _clauses(node)
    n = next(_serial)
    src_table = f'"_merge_source_{n}"'
    pairs_table = f'"_merge_pairs_{n}"'
    actions_table = f'"{ACTIONS_TABLE_PREFIX}{n}"'

    target = node.this.copy()
    target_alias = target.alias_or_name
    target.set("alias", None)
    target_sql = to_sql(target)
    target_ref = to_sql(exp.to_identifier(target_alias))

    source = node.args["using"].copy()
    if not source.alias:
        # A table is referred to by its own name; a subquery without an alias only by bare columns.
        name = source.name if isinstance(source, exp.Table) else "_merge_source"
        source.set("alias", exp.TableAlias(this=exp.to_identifier(name)))
    source_ref = to_sql(exp.to_identifier(source.alias_or_name))

    steps = [
        SqlStep(f"CREATE TEMP TABLE {src_table} AS SELECT ROW_NUMBER() OVER () AS {_ROW}, "
                f"{source_ref}.* FROM {to_sql(source)}"),
        SqlStep(f"CREATE TEMP TABLE {pairs_table} AS SELECT {target_ref}.rowid AS {_TARGET_ROWID}, "
                f"{source_ref}.{_ROW} AS {_ROW}, {_first_clause(matched, to_sql)} AS {_CLAUSE} "
                f"FROM {target_sql} AS {target_ref} JOIN {src_table} AS {source_ref} "
                f"ON {to_sql(node.args['on'])}"),
    ]
    if matched:
        steps += _actions_steps(matched, pairs_table, actions_table)
        steps += _delete_steps(matched, target_sql, actions_table)
        steps += _update_steps(matched, target_sql, target_ref, source_ref, src_table, actions_table,
                               to_sql)
    steps += _insert_steps(not_matched, target_sql, source_ref, src_table, pairs_table, to_sql)
    drops = [actions_table] if matched else []
    steps += [SqlStep(f"DROP TABLE temp.{name}") for name in (*drops, pairs_table, src_table)]
    return tuple(steps)


def _clauses(node: exp.Merge) -> tuple[list[_Clause], list[_Clause]]:
    if node.args.get("using_cond"):
        raise CompilationError("MERGE … USING (columns) is not supported")
    whens = node.args.get("whens")
    matched: list[_Clause] = []
    not_matched: list[_Clause] = []
    for when in whens.expressions if whens else ():
        if when.args.get("source"):
            raise CompilationError("MERGE … WHEN NOT MATCHED BY SOURCE is not supported")
        then = when.args.get("then")
        kind = _kind(then)
        if isinstance(then, exp.Update | exp.Insert) and _is_by_name(then):
            raise CompilationError(f"MERGE … {kind.upper()} ALL BY NAME is not supported")
        if when.args.get("matched"):
            if kind == "insert":
                raise CompilationError("MERGE … WHEN MATCHED THEN INSERT is not allowed")
            matched.append(_Clause(len(matched) + 1, kind, when))
        else:
            if kind != "insert":
                raise CompilationError(f"MERGE … WHEN NOT MATCHED THEN {kind.upper()} is not allowed")
            not_matched.append(_Clause(len(not_matched) + 1, kind, when))
    return matched, not_matched


def _kind(then: exp.Expression | None) -> str:
    if isinstance(then, exp.Update):
        return "update"
    if isinstance(then, exp.Insert):
        return "insert"
    if isinstance(then, exp.Var) and then.name.upper() == "DELETE":
        return "delete"
    raise CompilationError(f"MERGE action {then.sql(dialect='snowflake') if then else ''} is not supported")


def _is_by_name(then: exp.Update | exp.Insert) -> bool:
    parts = then.expressions if isinstance(then, exp.Update) else [then.this]
    return any(isinstance(part, exp.Star) for part in parts)


def _first_clause(clauses: list[_Clause], to_sql: Callable[[exp.Expression], str]) -> str:
    """A CASE naming the first clause whose condition holds, NULL when none does."""
    if not clauses:
        return "NULL"
    arms = []
    for clause in clauses:
        condition = clause.when.args.get("condition")
        if condition is None:
            # An unconditional clause shadows every later one.
            return f"CASE {' '.join(arms)} ELSE {clause.number} END" if arms else str(clause.number)
        arms.append(f"WHEN {to_sql(condition)} THEN {clause.number}")
    return f"CASE {' '.join(arms)} END"


def _numbers(clauses: list[_Clause], kind: str) -> str:
    return ", ".join(str(c.number) for c in clauses if c.kind == kind)


def _actions_steps(matched: list[_Clause], pairs_table: str, actions_table: str) -> list[SqlStep]:
    # Snowflake calls a merge deterministic when, for each target row, either any number of source
    # rows select DELETE clauses and none selects an UPDATE, or exactly one source row selects an
    # UPDATE and no other selects any clause. Grouping DELETE pairs into one row per target and
    # keeping UPDATE pairs apart leaves more than one row for a target exactly when that rule is
    # broken, and the check step (ts_raise, an engine function) turns that into the error.
    updates = _numbers(matched, "update")
    split = f", CASE WHEN {_CLAUSE} IN ({updates}) THEN {_ROW} END" if updates else ""
    return [
        SqlStep(f"CREATE TEMP TABLE {actions_table} ({_TARGET_ROWID} INTEGER NOT NULL, "
                f"{_ROW} INTEGER NOT NULL, {_CLAUSE} INTEGER NOT NULL)"),
        SqlStep(f"INSERT INTO {actions_table} ({_TARGET_ROWID}, {_ROW}, {_CLAUSE}) "
                f"SELECT {_TARGET_ROWID}, MIN({_ROW}), MIN({_CLAUSE}) FROM {pairs_table} "
                f"WHERE {_CLAUSE} IS NOT NULL GROUP BY {_TARGET_ROWID}{split}"),
        SqlStep(f"SELECT ts_raise('{DUPLICATE_ROW_CODE}', '{DUPLICATE_ROW_MESSAGE}', "
                f"'{DUPLICATE_ROW_SQLSTATE}') FROM {actions_table} "
                f"GROUP BY {_TARGET_ROWID} HAVING count(*) > 1 LIMIT 1"),
    ]


def _delete_steps(matched: list[_Clause], target_sql: str, actions_table: str) -> list[SqlStep]:
    deletes = _numbers(matched, "delete")
    if not deletes:
        return []
    return [SqlStep(f"DELETE FROM {target_sql} WHERE rowid IN (SELECT {_TARGET_ROWID} FROM {actions_table} "
                    f"WHERE {_CLAUSE} IN ({deletes}))", counts_as="deleted")]


def _update_steps(matched: list[_Clause], target_sql: str, target_ref: str, source_ref: str,
                  src_table: str, actions_table: str,
                  to_sql: Callable[[exp.Expression], str]) -> list[SqlStep]:
    steps = []
    for clause in matched:
        if clause.kind != "update":
            continue
        assignments = ", ".join(f"{to_sql(_column_name(eq.this))} = {to_sql(eq.expression)}"
                                for eq in clause.when.args["then"].expressions)
        # SET expressions see the source row that selected this clause and the target row as it was:
        # each target row is written by at most one statement.
        steps.append(SqlStep(
            f"UPDATE {target_sql} AS {target_ref} SET {assignments} "
            f"FROM {actions_table} AS {_ACTION_ALIAS} JOIN {src_table} AS {source_ref} "
            f"ON {source_ref}.{_ROW} = {_ACTION_ALIAS}.{_ROW} "
            f"WHERE {target_ref}.rowid = {_ACTION_ALIAS}.{_TARGET_ROWID} "
            f"AND {_ACTION_ALIAS}.{_CLAUSE} = {clause.number}",
            counts_as="updated"))
    return steps


def _insert_steps(not_matched: list[_Clause], target_sql: str, source_ref: str, src_table: str,
                  pairs_table: str, to_sql: Callable[[exp.Expression], str]) -> list[SqlStep]:
    if not not_matched:
        return []
    # A source row is "not matched" only if it met no target row before any change, so an update
    # that moves a join key cannot make the same row be inserted as well.
    chosen = _first_clause(not_matched, to_sql)
    steps = []
    for clause in not_matched:
        insert = clause.when.args["then"]
        columns = ""
        if insert.this is not None:
            columns = " (" + ", ".join(to_sql(_column_name(c)) for c in insert.this.expressions) + ")"
        values = ", ".join(to_sql(v) for v in insert.expression.expressions)
        steps.append(SqlStep(
            f"INSERT INTO {target_sql}{columns} SELECT {values} FROM {src_table} AS {source_ref} "
            f"WHERE {source_ref}.{_ROW} NOT IN (SELECT {_ROW} FROM {pairs_table}) "
            f"AND ({chosen}) = {clause.number} ORDER BY {source_ref}.{_ROW}",
            counts_as="inserted"))
    return steps


def _column_name(column: exp.Expression) -> exp.Identifier:
    """The bare target column of a SET or INSERT list entry (`t.v` names column v)."""
    if isinstance(column, exp.Column):
        return column.this
    if isinstance(column, exp.Identifier):
        return column
    raise CompilationError(f"MERGE target column {column.sql(dialect='snowflake')} is not a column name")
