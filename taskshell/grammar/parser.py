"""The Lark front end for the statements taskshell runs itself: tasks, warehouses, session settings,
streams, notification integrations and Databend's `CALL TASK_DEPENDENTS_ENABLE`.

`is_owned` decides, with one regular expression, whether a statement belongs here or to the SQL
translator; it runs on every statement, so this module imports lark only when something is parsed.
`parse` turns one statement into a command dataclass from `ast.py`; task bodies and the text of
`SHOW TASKS WHERE` are kept verbatim, WHEN conditions become expression trees. `lark_parser` and
`keywords` serve the interactive shell's completion and highlighting.
"""

from __future__ import annotations

import hashlib
import operator
import os
import re
import sys
import tempfile
from copy import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import taskshell.grammar
from taskshell.errors import CompilationError, ParseError
from taskshell.grammar import ast
from taskshell.grammar.router import GAP as _GAP
from taskshell.grammar.router import is_owned as is_owned

# ---------------------------------------------------------------- conditions
INVALID_CONDITION = (
    "Invalid expression for task condition expression. Only some data type conversions and the "
    "following functions are allowed: [SYSTEM$GET_PREDECESSOR_RETURN_VALUE, SYSTEM$STREAM_HAS_DATA]."
)
_CONDITION_FUNCTIONS = frozenset({
    "SYSTEM$STREAM_HAS_DATA", "STREAM_STATUS", "SYSTEM$GET_PREDECESSOR_RETURN_VALUE",
    "TO_BOOLEAN", "TO_NUMBER", "TO_NUMERIC", "TO_DECIMAL", "TO_VARCHAR", "TO_CHAR", "TO_DOUBLE",
    "TRY_TO_BOOLEAN", "TRY_TO_NUMBER",
})


def validate_condition(cond: ast.Condition) -> None:
    """Refuse a WHEN condition that uses anything but conversions and the stream/predecessor functions."""
    _check_condition(cond, None)


def _check_condition(cond: ast.Condition, position: tuple[int, int] | None) -> None:
    pending: list[ast.Expr] = [cond.expr]
    while pending:
        expr = pending.pop()
        if isinstance(expr, ast.ColumnRef) or (
                isinstance(expr, ast.FuncCall) and expr.name not in _CONDITION_FUNCTIONS):
            raise CompilationError(INVALID_CONDITION, code="002003", position=position)
        if isinstance(expr, ast.FuncCall):
            pending.extend(expr.args)
        elif isinstance(expr, ast.ArrayLiteral):
            pending.extend(expr.items)
        elif isinstance(expr, ast.BinaryOp):
            pending.extend((expr.left, expr.right))
        elif isinstance(expr, (ast.UnaryOp, ast.IsNull, ast.Cast)):
            pending.append(expr.operand)


# ---------------------------------------------------------------- entry points
def parse(text: str) -> ast.Command:
    """Parse one statement (a trailing ';' is ignored); raise ParseError with a position on bad input."""
    source = text.rstrip(" \t\r\n\f\v;")
    return _CommandBuilder(source).build(_parse_tree(source, "statement"))


def parse_condition(text: str) -> ast.Condition:
    """Parse a WHEN condition on its own; validation is left to `validate_condition`."""
    source = text.rstrip(" \t\r\n\f\v;")
    return _CommandBuilder(source).build(_parse_tree(source, "condition")).finish(0)


def lark_parser() -> Any:
    """The cached Lark LALR parser (start symbols 'statement' and 'condition'), for completion:
    `lark_parser().parse_interactive(text, start="statement")` then `.accepts()`."""
    return _lark()


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """Every keyword of the grammar, upper case (names may still use them: keywords are contextual)."""
    return frozenset(terminal.pattern.value.upper() for terminal in _lark().terminals
                     if terminal.pattern.type == "str" and _WORD.fullmatch(terminal.pattern.value))


def _parse_tree(source: str, start: str) -> Any:
    from lark.exceptions import UnexpectedInput

    parser = _lark()
    try:
        return parser.parse(source, start=start)
    except UnexpectedInput as error:
        raise _syntax_error(error, source, _human_names()) from None


# ---------------------------------------------------------------- loading the grammar
class _KeepIdentifiers:
    """Post-lexer that lets every lexer state see identifiers, so `RESUMEX` is one wrong word."""

    always_accept = ("IDENT",)

    def process(self, stream: Any) -> Any:
        return stream


def _grammar_path() -> Path:
    installed = Path(taskshell.grammar.__file__).parent / "taskshell.lark"
    return installed if installed.exists() else Path(__file__).parents[2] / "grammar" / "taskshell.lark"


def _cache_dirs() -> list[Path]:
    try:
        home = Path.home()
    except (RuntimeError, KeyError):  # no home directory: only the temporary one is left
        home = Path(tempfile.gettempdir())
    if sys.platform == "win32":
        user = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        user = home / "Library" / "Caches"
    else:
        user = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    owner = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    chosen = [Path(os.environ["TASKSHELL_CACHE_DIR"])] if os.environ.get("TASKSHELL_CACHE_DIR") else []
    return [*chosen, user / "taskshell", Path(tempfile.gettempdir()) / f"taskshell-{owner}"]


def _cache_file(grammar: str) -> str | None:
    """A writable place for Lark's table cache, or None (a read-only install still parses)."""
    name = f"grammar-{hashlib.sha256(grammar.encode()).hexdigest()[:16]}.lark-cache"
    for folder in _cache_dirs():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return str(folder / name)
    return None


def _new_lark(cache_file: str | None, grammar: str | None = None) -> Any:
    from lark import Lark

    grammar = grammar if grammar is not None else _grammar_path().read_text(encoding="utf-8")
    options: dict[str, Any] = dict(
        parser="lalr", lexer="contextual", start=["statement", "condition"],
        maybe_placeholders=True, postlex=_KeepIdentifiers(),
    )
    # Lark ignores a cache it cannot read or write; anything else odd falls back to no cache.
    try:
        return Lark(grammar, cache=cache_file or False, **options)
    except OSError:
        return Lark(grammar, **options)


@lru_cache(maxsize=1)
def _lark() -> Any:
    grammar = _grammar_path().read_text(encoding="utf-8")
    return _new_lark(_cache_file(grammar), grammar)


# ---------------------------------------------------------------- syntax errors
_TERMINAL_NAMES = {
    "IDENT": "identifier", "QUOTED_IDENT": "identifier", "STRING": "string", "DOLLAR_STRING": "string",
    "INT": "number", "DECIMAL": "number", "BODY": "statement", "FILTER_TEXT": "expression",
    "$END": "end of input",
}
_VALUE_START = re.compile(r"[\w$]+\s*=\s*")
_FIRST_WORD = re.compile(r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|[\w$]+|'(?:[^'\\]|\\.|'')*'?|\S")


@lru_cache(maxsize=1)
def _human_names() -> dict[str, str]:
    names = dict(_TERMINAL_NAMES)
    for terminal in _lark().terminals:
        if terminal.name not in names and terminal.pattern.type == "str":
            names[terminal.name] = f"'{terminal.pattern.value.upper()}'"
    return names


def _position_at(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _syntax_error(error: Any, source: str, human: dict[str, str]) -> ParseError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    offset, shown = len(source), None  # unexpected end of input unless a token or character says where
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        offset, shown = error.token.start_pos, str(error.token.value)
        if error.token.type in ("BODY", "FILTER_TEXT"):  # the rest of the input: name its first word
            offset += len(shown) - len(shown.lstrip())
            shown = _FIRST_WORD.match(source, offset).group(0)
    elif isinstance(error, UnexpectedCharacters) and error.pos_in_stream < len(source):
        offset = error.pos_in_stream
        shown = _FIRST_WORD.match(source, offset).group(0)
    acceptable = (_acceptable(getattr(error, "state", None))
                  or set(getattr(error, "expected", None) or getattr(error, "allowed", None) or ()))
    expected = tuple(sorted({human.get(name, name) for name in acceptable}))
    return _error_at(source, offset, shown, expected)


def _acceptable(state: Any) -> set[str]:
    """Terminals that really advance the parser from `state` (LALR tables over-approximate)."""
    if state is None or not hasattr(state, "parse_conf"):
        return set()
    from lark import Token
    from lark.exceptions import UnexpectedToken

    quiet = copy(state.parse_conf)
    quiet.callbacks = {}
    acceptable = set()
    for name in state.parse_conf.states[state.position]:
        if not name.isupper():
            continue
        trial = state.copy(deepcopy_values=False)
        trial.parse_conf = quiet
        try:
            trial.feed_token(Token(name, ""))
        except UnexpectedToken:
            continue
        acceptable.add(name)
    return acceptable


def _error_at(source: str, offset: int, shown: str | None, expected: tuple[str, ...] = ()) -> ParseError:
    line, column = _position_at(source, offset)
    what = f"'{shown}'" if shown is not None else "end of input"
    message = f"syntax error line {line} at position {column - 1} unexpected {what}."
    if expected:
        message += "\nExpected one of: " + ", ".join(expected) + "."
    return ParseError(message, position=(line, column), expected=expected)


# ---------------------------------------------------------------- tree → commands
class _PendingCondition:
    """A parsed condition whose text is cut from the statement once its start is known."""

    __slots__ = ("expr", "end", "source")

    def __init__(self, expr: ast.Expr, end: int, source: str) -> None:
        self.expr, self.end, self.source = expr, end, source

    def finish(self, after: int) -> ast.Condition:
        start = _SKIP_GAP.match(self.source, after).end()
        return ast.Condition(self.source[start:self.end].strip(), self.expr)


_SKIP_GAP = re.compile(_GAP + "*", re.DOTALL)


class _Prop:
    """One `NAME = value` (or SCHEDULE / AFTER / WHEN) as written, before it lands in TaskProps."""

    __slots__ = ("name", "value", "offset")

    def __init__(self, name: str, value: Any, offset: int) -> None:
        self.name, self.value, self.offset = name, value, offset


def _unquote_string(token: str) -> str:
    if token.startswith("$$"):
        return token[2:-2]
    return _ESCAPE.sub(_unescape, token[1:-1])


_ESCAPE = re.compile(r"''|\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0"}


def _unescape(match: re.Match[str]) -> str:
    if match.group(0) == "''":
        return "'"
    return _ESCAPES.get(match.group(1), match.group(1))


def _plain(value: Any) -> ast.Value:
    """A property value as Python: literals as themselves, bare names as their text."""
    return value.value if isinstance(value, ast.Literal) else str(value)


class _CommandBuilder:
    """Turns a Lark tree into `ast` dataclasses; one per statement, since conditions quote the text."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.last_end = 0  # end of the latest token seen: children are built left to right

    def build(self, node: Any) -> Any:
        children = getattr(node, "children", None)
        if children is None:
            if node is not None:
                self.last_end = node.end_pos
            return node
        return getattr(self, node.data)(*[self.build(child) for child in children])

    def _position(self, offset: int) -> tuple[int, int]:
        return _position_at(self.source, offset)

    # names and literals
    def ident(self, token: Any) -> ast.Ident:
        if token.type == "QUOTED_IDENT":
            return ast.Ident(token[1:-1].replace('""', '"'), quoted=True)
        return ast.Ident(str(token))

    def qualified_name(self, *parts: ast.Ident) -> ast.QualifiedName:
        return ast.QualifiedName(parts)

    def string_literal(self, token: str) -> ast.Literal:
        return ast.Literal(_unquote_string(token))

    def int_literal(self, token: str) -> ast.Literal:
        return ast.Literal(int(token))

    def decimal_literal(self, token: str) -> ast.Literal:
        return ast.Literal(float(token))

    def true_literal(self, _token: str) -> ast.Literal:
        return ast.Literal(True)

    def false_literal(self, _token: str) -> ast.Literal:
        return ast.Literal(False)

    def null_literal(self, _token: str) -> ast.Literal:
        return ast.Literal(None)

    def negative(self, token: Any) -> ast.Literal:
        return ast.Literal(-(int(token) if token.type == "INT" else float(token)))

    def string_name(self, token: str) -> ast.Ident:
        return ast.Ident(_unquote_string(token), quoted=True)

    def string_ref(self, token: str) -> ast.QualifiedName:
        return ast.QualifiedName((ast.Ident(_unquote_string(token), quoted=True),))

    def task_refs(self, *names: ast.QualifiedName) -> tuple[ast.QualifiedName, ...]:
        return names

    def name_list(self, *names: str) -> tuple[str, ...]:
        return tuple(name.upper() for name in names)

    def setting(self, name: str, value: Any) -> tuple[str, ast.Value]:
        return name.upper(), _plain(value)

    # flags
    def or_replace(self) -> str:
        return "OR REPLACE"

    def or_alter(self) -> str:
        return "OR ALTER"

    def if_not_exists(self) -> bool:
        return True

    if_exists = terse = root_only = retry_last = await_completion = copy_grants = if_not_exists

    # schedules and task properties
    def schedule_quoted(self, token: str) -> ast.QuotedSchedule:
        return ast.QuotedSchedule(_unquote_string(token))

    def interval_unit(self, token: str) -> str:
        return token.upper().removesuffix("S")

    def schedule_interval(self, amount: str, unit: str) -> ast.IntervalSpec:
        return ast.IntervalSpec(int(amount), unit)

    def schedule_cron(self, expr: str, timezone: str | None) -> ast.CronSpec:
        return ast.CronSpec(_unquote_string(expr), _unquote_string(timezone) if timezone else None)

    def prop_schedule(self, keyword: Any, spec: ast.ScheduleSpec) -> _Prop:
        return _Prop("SCHEDULE", spec, keyword.start_pos)

    def prop_assign(self, name: Any, value: Any) -> _Prop:
        return _Prop(name.upper(), value, name.start_pos)

    def prop_after(self, keyword: Any, names: tuple[ast.QualifiedName, ...]) -> _Prop:
        return _Prop("AFTER", names, keyword.start_pos)

    def prop_when(self, keyword: Any, pending: _PendingCondition) -> _Prop:
        return _Prop("WHEN", pending.finish(keyword.end_pos), keyword.start_pos)

    def condition(self, expr: ast.Expr) -> _PendingCondition:
        return _PendingCondition(expr, self.last_end, self.source)

    def _body(self, token: Any) -> ast.Body:
        text = str(token)
        offset = token.start_pos + len(text) - len(text.lstrip())
        line, column = self._position(offset)
        return ast.Body(text.strip(), line, column)

    def _validated(self, cond: ast.Condition, offset: int) -> ast.Condition:
        _check_condition(cond, self._position(offset))
        return cond

    def _task_props(self, props: tuple[_Prop, ...]) -> ast.TaskProps:
        fields: dict[str, Any] = {}
        session: list[tuple[str, ast.Value]] = []
        seen: set[str] = set()
        for prop in props:
            name = "COMMENT" if prop.name == "COMMENTS" else prop.name
            if name in seen:
                raise _error_at(self.source, prop.offset, prop.name)
            seen.add(name)
            if name == "WHEN":
                fields["when"] = self._validated(prop.value, prop.offset)
            elif name in ("SCHEDULE", "AFTER"):
                fields[name.lower()] = prop.value
            elif name in _PROPERTY_KINDS:
                fields[name.lower()] = self._coerce(name, _PROPERTY_KINDS[name], prop)
            else:
                session.append((name, _plain(prop.value)))
        return ast.TaskProps(**fields, session_params=tuple(session))

    def _coerce(self, name: str, kind: str, prop: _Prop) -> Any:
        value = prop.value
        if kind == "name" and isinstance(value, ast.QualifiedName):
            return value
        if kind == "name" and isinstance(value, ast.Literal) and isinstance(value.value, str):
            return ast.QualifiedName((ast.Ident(value.value, quoted=True),))
        if kind == "text" and (isinstance(value, ast.QualifiedName) or isinstance(value.value, str)):
            return _plain(value)
        if kind == "upper" and (isinstance(value, ast.QualifiedName) or isinstance(value.value, str)):
            return str(_plain(value)).upper()
        if kind == "string" and isinstance(value, ast.Literal) and isinstance(value.value, str):
            return value.value
        if kind == "bool" and isinstance(value, ast.Literal):
            if isinstance(value.value, bool):
                return value.value
            if str(value.value).upper() in ("TRUE", "FALSE"):
                return str(value.value).upper() == "TRUE"
        if kind == "int" and isinstance(value, ast.Literal) and type(value.value) is int:
            return value.value
        after_equals = _VALUE_START.match(self.source, prop.offset)
        shown = _FIRST_WORD.match(self.source, after_equals.end()).group(0) if after_equals else name
        raise CompilationError(f"invalid value [{shown}] for parameter '{name}'",
                               position=self._position(prop.offset))

    # task statements
    def create_task(self, mode: str | None, if_not_exists: bool | None, name: ast.QualifiedName,
                    *rest: Any) -> ast.CreateTask:
        *props, body = rest
        return ast.CreateTask(name, self._task_props(tuple(props)), self._body(body),
                              or_replace=mode == "OR REPLACE", or_alter=mode == "OR ALTER",
                              if_not_exists=bool(if_not_exists))

    def clone_task(self, mode: str | None, if_not_exists: bool | None, name: ast.QualifiedName,
                   source: ast.QualifiedName) -> ast.CreateTask:
        return ast.CreateTask(name, ast.TaskProps(), None, or_replace=mode == "OR REPLACE",
                              or_alter=mode == "OR ALTER", if_not_exists=bool(if_not_exists),
                              clone_of=source)

    def alter_task(self, if_exists: bool | None, name: ast.QualifiedName,
                   action: ast.AlterTaskAction) -> ast.AlterTask:
        return ast.AlterTask(name, action, if_exists=bool(if_exists))

    def resume(self) -> ast.Resume:
        return ast.Resume()

    def suspend(self) -> ast.Suspend:
        return ast.Suspend()

    def add_after(self, names: tuple[ast.QualifiedName, ...]) -> ast.AddAfter:
        return ast.AddAfter(names)

    def remove_after(self, names: tuple[ast.QualifiedName, ...]) -> ast.RemoveAfter:
        return ast.RemoveAfter(names)

    def remove_when(self) -> ast.RemoveWhen:
        return ast.RemoveWhen()

    def set_props(self, *props: _Prop) -> ast.SetProps | ast.SetFinalize:
        task_props = self._task_props(props)
        if len(props) == 1 and task_props.finalize is not None:
            return ast.SetFinalize(task_props.finalize)
        return ast.SetProps(task_props)

    def unset_props(self, names: tuple[str, ...]) -> ast.UnsetProps | ast.UnsetFinalize:
        names = tuple("COMMENT" if name == "COMMENTS" else name for name in names)  # Databend spelling
        return ast.UnsetFinalize() if names == ("FINALIZE",) else ast.UnsetProps(names)

    def modify_as(self, body: Any) -> ast.ModifyAs:
        return ast.ModifyAs(self._body(body))

    def modify_when(self, keyword: Any, pending: _PendingCondition) -> ast.ModifyWhen:
        return ast.ModifyWhen(self._validated(pending.finish(keyword.end_pos), keyword.start_pos))

    def drop_task(self, if_exists: bool | None, name: ast.QualifiedName) -> ast.DropTask:
        return ast.DropTask(name, if_exists=bool(if_exists))

    def describe_task(self, name: ast.QualifiedName) -> ast.DescribeTask:
        return ast.DescribeTask(name)

    def show_like(self, pattern: str) -> str:
        return _unquote_string(pattern)

    starts_with = show_like

    def in_account(self) -> tuple[str, ...]:
        return ("ACCOUNT",)

    def in_database(self, name: ast.Ident | None) -> tuple[str, ...]:
        return ("DATABASE", name.value) if name else ("DATABASE",)

    def in_schema(self, name: ast.QualifiedName | None) -> tuple[str, ...]:
        return ("SCHEMA", str(name)) if name else ("SCHEMA",)

    def limit(self, count: str, start: str | None) -> tuple[int, str | None]:
        return int(count), _unquote_string(start) if start else None

    def show_tasks(self, terse: bool | None, like: str | None, scope: tuple[str, ...] | None,
                   starts_with: str | None, root_only: bool | None,
                   limit: tuple[int, str | None] | None) -> ast.ShowTasks:
        count, start = limit or (None, None)
        return ast.ShowTasks(terse=bool(terse), like=like, in_scope=scope, starts_with=starts_with,
                             root_only=bool(root_only), limit=count, limit_from=start)

    def show_tasks_where(self, terse: bool | None, where: str) -> ast.ShowTasks:
        return ast.ShowTasks(terse=bool(terse), where=where.strip())

    def using_config(self, token: str) -> str:
        return _unquote_string(token)

    def execute_task(self, name: ast.QualifiedName, retry_last: bool | None, config: str | None,
                     await_completion: bool | None) -> ast.ExecuteTask:
        return ast.ExecuteTask(name, retry_last=bool(retry_last), using_config=config,
                               await_completion=bool(await_completion))

    # session and warehouses
    def alter_session_set(self, *settings: tuple[str, ast.Value]) -> ast.AlterSession:
        return ast.AlterSession(set=settings)

    def alter_session_unset(self, names: tuple[str, ...]) -> ast.AlterSession:
        return ast.AlterSession(unset=names)

    def create_warehouse(self, or_replace: str | None, if_not_exists: bool | None, name: ast.Ident,
                         *settings: tuple[str, ast.Value]) -> ast.CreateWarehouse:
        return ast.CreateWarehouse(name, settings, or_replace=bool(or_replace),
                                   if_not_exists=bool(if_not_exists))

    def warehouse_set(self, *settings: tuple[str, ast.Value]) -> dict[str, Any]:
        return {"set": settings}

    def warehouse_unset(self, names: tuple[str, ...]) -> dict[str, Any]:
        return {"unset": names}

    def warehouse_suspend(self) -> dict[str, Any]:
        return {"action": "SUSPEND"}

    def warehouse_resume(self) -> dict[str, Any]:
        return {"action": "RESUME"}

    def alter_warehouse(self, if_exists: bool | None, name: ast.Ident,
                        action: dict[str, Any]) -> ast.AlterWarehouse:
        return ast.AlterWarehouse(name, if_exists=bool(if_exists), **action)

    def drop_warehouse(self, if_exists: bool | None, name: ast.Ident) -> ast.DropWarehouse:
        return ast.DropWarehouse(name, if_exists=bool(if_exists))

    def show_warehouses(self, like: str | None) -> ast.ShowWarehouses:
        return ast.ShowWarehouses(like)

    def use_warehouse(self, name: ast.Ident) -> ast.UseWarehouse:
        return ast.UseWarehouse(name)

    # option lists written in any order
    def _options(self, props: tuple[_Prop, ...]) -> dict[str, Any]:
        """Options by name; a repeated one is a syntax error at its second appearance."""
        found: dict[str, Any] = {}
        for prop in props:
            if prop.name in found:
                raise _error_at(self.source, prop.offset, _FIRST_WORD.match(self.source, prop.offset).group(0))
            found[prop.name] = prop.value
        return found

    def true_value(self, _token: str) -> bool:
        return True

    def false_value(self, _token: str) -> bool:
        return False

    # streams
    def create_stream(self, or_replace: str | None, if_not_exists: bool | None, name: ast.QualifiedName,
                      _copy_grants: bool | None, table: ast.QualifiedName, *props: _Prop) -> ast.CreateStream:
        options = self._options(props)
        return ast.CreateStream(
            name, table, or_replace=bool(or_replace), if_not_exists=bool(if_not_exists),
            append_only=options.get("APPEND_ONLY"), insert_only=options.get("INSERT_ONLY"),
            show_initial_rows=options.get("SHOW_INITIAL_ROWS"), at=options.get("AT"),
            comment=options.get("COMMENT"))

    def on_table(self, name: ast.QualifiedName) -> ast.QualifiedName:
        return name

    def stream_flag(self, keyword: Any, _equals: str, value: bool) -> _Prop:
        return _Prop(keyword.upper(), value, keyword.start_pos)

    def stream_comment(self, keyword: Any, _equals: str, text: str) -> _Prop:
        return _Prop("COMMENT", _unquote_string(text), keyword.start_pos)

    def point_anchor(self, token: Any) -> Any:
        return token

    point_kind = point_anchor

    def stream_point(self, anchor: Any, kind: Any, expr: ast.Expr, _close: str) -> _Prop:
        before, kind_name = anchor.upper() == "BEFORE", kind.upper()
        value = expr.name if kind_name == "STREAM" and isinstance(expr, ast.ColumnRef) else _constant(expr)
        wanted = _POINT_VALUES[kind_name]
        if value is _NOT_CONSTANT or type(value) not in wanted[0]:
            raise CompilationError(f"Unsupported SQL: {anchor.upper()} ({kind_name} => ...) takes {wanted[1]}",
                                   code="002040", position=self._position(anchor.start_pos))
        return _Prop("AT", ast.StreamPoint(before, kind_name, value), anchor.start_pos)

    def drop_stream(self, if_exists: bool | None, name: ast.QualifiedName) -> ast.DropStream:
        return ast.DropStream(name, if_exists=bool(if_exists))

    def describe_stream(self, name: ast.QualifiedName) -> ast.DescribeStream:
        return ast.DescribeStream(name)

    def show_detail(self, token: str) -> str:
        return token.upper()

    def show_streams(self, detail: str | None, like: str | None, scope: tuple[str, ...] | None,
                     starts_with: str | None, limit: tuple[int, str | None] | None) -> ast.ShowStreams:
        count, start = limit or (None, None)
        return ast.ShowStreams(terse=detail == "TERSE", full=detail == "FULL", like=like, in_scope=scope,
                               starts_with=starts_with, limit=count, limit_from=start)

    def show_streams_scope_first(self, detail: str | None, scope: tuple[str, ...], like: str,
                                 starts_with: str | None, limit: tuple[int, str | None] | None) -> ast.ShowStreams:
        return self.show_streams(detail, like, scope, starts_with, limit)

    def show_streams_where(self, detail: str | None, scope: tuple[str, ...] | None, where: str) -> ast.ShowStreams:
        return ast.ShowStreams(terse=detail == "TERSE", full=detail == "FULL", in_scope=scope, where=where.strip())

    def alter_table_tracking(self, if_exists: bool | None, table: ast.QualifiedName,
                             enabled: bool) -> ast.SetChangeTracking:
        return ast.SetChangeTracking(table, enabled, if_exists=bool(if_exists))

    def tracking_option(self, enabled: bool, _close: str) -> bool:
        return enabled

    def string_bool(self, token: Any) -> bool:
        text = _unquote_string(token).strip().upper()
        if text not in ("TRUE", "FALSE"):
            raise CompilationError(f"invalid value [{token}] for option 'change_tracking'",
                                   position=self._position(token.start_pos))
        return text == "TRUE"

    # notification integrations
    def create_notification(self, or_replace: str | None, if_not_exists: bool | None, name: ast.Ident,
                            *props: _Prop) -> ast.CreateNotificationIntegration:
        options = self._options(props)
        missing = tuple(f"'{key}'" for key in ("TYPE", "ENABLED") if key not in options)
        if missing:  # both are required but may come in any order: the statement ended without one
            raise _error_at(self.source, len(self.source), None, missing)
        return ast.CreateNotificationIntegration(
            name, options["TYPE"], options["ENABLED"], webhook=options.get("WEBHOOK"),
            comment=options.get("COMMENT"), or_replace=bool(or_replace), if_not_exists=bool(if_not_exists))

    def alter_notification(self, if_exists: bool | None, name: ast.Ident,
                           change: _Prop) -> ast.AlterNotificationIntegration:
        return ast.AlterNotificationIntegration(name, if_exists=bool(if_exists), **{change.name.lower(): change.value})

    def notification_type(self, keyword: Any, _equals: str, value: Any) -> _Prop:
        text = _unquote_string(value) if value.type == "STRING" else str(value)
        return _Prop("TYPE", text, keyword.start_pos)

    def notification_enabled(self, keyword: Any, _equals: str, value: bool) -> _Prop:
        return _Prop("ENABLED", value, keyword.start_pos)

    def notification_webhook(self, keyword: Any, _equals: str, options: ast.WebhookOptions) -> _Prop:
        return _Prop("WEBHOOK", options, keyword.start_pos)

    def notification_comment(self, keyword: Any, _equals: str, text: str) -> _Prop:
        return _Prop("COMMENT", _unquote_string(text), keyword.start_pos)

    def webhook(self, *options: Any) -> ast.WebhookOptions:
        return tuple(self._options(options[:-1]).items())  # the last child is the closing parenthesis

    def webhook_option(self, keyword: Any, _equals: str, value: str) -> _Prop:
        return _Prop(keyword.lower(), _unquote_string(value), keyword.start_pos)

    def integration_kind(self) -> None:
        return None

    def drop_notification(self, _kind: None, if_exists: bool | None,
                          name: ast.Ident) -> ast.DropNotificationIntegration:
        return ast.DropNotificationIntegration(name, if_exists=bool(if_exists))

    def describe_notification(self, _kind: None, name: ast.Ident) -> ast.DescribeNotificationIntegration:
        return ast.DescribeNotificationIntegration(name)

    def show_notifications(self, like: str | None) -> ast.ShowNotificationIntegrations:
        return ast.ShowNotificationIntegrations(like)

    def task_dependents_enable(self, name: ast.QualifiedName, _close: str) -> ast.TaskDependentsEnable:
        return ast.TaskDependentsEnable(name)

    # condition expressions
    def not_op(self, operand: ast.Expr) -> ast.UnaryOp:
        return ast.UnaryOp("NOT", operand)

    def neg(self, operand: ast.Expr) -> ast.UnaryOp:
        return ast.UnaryOp("-", operand)

    def not_like(self, left: ast.Expr, right: ast.Expr) -> ast.UnaryOp:
        return ast.UnaryOp("NOT", ast.BinaryOp("LIKE", left, right))

    def not_ilike(self, left: ast.Expr, right: ast.Expr) -> ast.UnaryOp:
        return ast.UnaryOp("NOT", ast.BinaryOp("ILIKE", left, right))

    def is_null(self, operand: ast.Expr, _null: str) -> ast.IsNull:
        return ast.IsNull(operand, negated=False)

    def is_not_null(self, operand: ast.Expr, _null: str) -> ast.IsNull:
        return ast.IsNull(operand, negated=True)

    def type_name(self, name: str, *sizes: str) -> str:
        sizes = sizes[:-1]  # the closing parenthesis
        return name.upper() + (f"({','.join(sizes)})" if sizes else "")

    def cast_op(self, operand: ast.Expr, type_name: str) -> ast.Cast:
        return ast.Cast(operand, type_name)

    def cast_fn(self, operand: ast.Expr, type_name: str, _close: str) -> ast.Cast:
        return ast.Cast(operand, type_name)

    def parenthesised(self, expr: ast.Expr, _close: str) -> ast.Expr:
        return expr

    def arguments(self, *exprs: ast.Expr) -> tuple[ast.Expr, ...]:
        return exprs

    def func_call(self, name: str, args: tuple[ast.Expr, ...] | None, _close: str) -> ast.FuncCall:
        return ast.FuncCall(name.upper(), args or ())

    def array(self, items: tuple[ast.Expr, ...] | None, _close: str) -> ast.ArrayLiteral:
        return ast.ArrayLiteral(items or ())

    def column_ref(self, name: ast.QualifiedName) -> ast.ColumnRef:
        return ast.ColumnRef(str(name))


def _binary(op: str) -> Any:
    def build(self: _CommandBuilder, left: ast.Expr, right: ast.Expr) -> ast.BinaryOp:
        return ast.BinaryOp(op, left, right)
    return build


for _rule, _op in (("or_op", "OR"), ("and_op", "AND"), ("eq", "="), ("ne", "!="), ("lt", "<"),
                   ("le", "<="), ("gt", ">"), ("ge", ">="), ("like", "LIKE"), ("ilike", "ILIKE"),
                   ("concat_op", "||"), ("add", "+"), ("sub", "-"), ("mul", "*"), ("div", "/")):
    setattr(_CommandBuilder, _rule, _binary(_op))


def _unsupported_source(kind: str) -> Any:
    def build(self: _CommandBuilder, _name: ast.QualifiedName) -> ast.QualifiedName:
        raise CompilationError(f"Unsupported SQL: streams on {kind}", code="002040")
    return build


for _rule, _kind in (("on_view", "views"), ("on_external_table", "external tables"), ("on_stage", "stages"),
                     ("on_event_table", "event tables")):
    setattr(_CommandBuilder, _rule, _unsupported_source(_kind))


# ---------------------------------------------------------------- AT | BEFORE values
_NOT_CONSTANT = object()
_TIMESTAMP_FUNCTIONS = frozenset({"TO_TIMESTAMP", "TO_TIMESTAMP_LTZ", "TO_TIMESTAMP_NTZ", "TO_TIMESTAMP_TZ"})
# The Python types each AT | BEFORE kind takes, and how the refusal describes them.
_POINT_VALUES: dict[str, tuple[tuple[type, ...], str]] = {
    "STREAM": ((str,), "a stream name"), "TIMESTAMP": ((str, int, float), "a timestamp string or number"),
    "OFFSET": ((int, float), "a number of seconds"), "STATEMENT": ((str,), "a query id string"),
    "SNAPSHOT": ((str,), "a snapshot id string"),
}


def _constant(expr: ast.Expr) -> Any:
    """Fold an AT | BEFORE value to a Python constant, or `_NOT_CONSTANT`; casts keep their operand."""
    if isinstance(expr, ast.Literal):
        return expr.value
    if isinstance(expr, ast.Cast):
        return _constant(expr.operand)
    if isinstance(expr, ast.FuncCall) and expr.name in _TIMESTAMP_FUNCTIONS and len(expr.args) == 1:
        return _constant(expr.args[0])
    if isinstance(expr, ast.UnaryOp) and expr.op == "-":
        value = _constant(expr.operand)
        return -value if _is_number(value) else _NOT_CONSTANT
    if isinstance(expr, ast.BinaryOp) and expr.op in _ARITHMETIC:
        left, right = _constant(expr.left), _constant(expr.right)
        if not (_is_number(left) and _is_number(right)) or (expr.op == "/" and right == 0):
            return _NOT_CONSTANT
        if expr.op == "/" and type(left) is type(right) is int and left % right == 0:
            return left // right  # `-600 / 2` stays a whole number of seconds
        return _ARITHMETIC[expr.op](left, right)
    return _NOT_CONSTANT


_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


# How each known task property's value is read; every other name is a session parameter.
_PROPERTY_KINDS = {
    "WAREHOUSE": "text", "USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE": "text", "CONFIG": "string",
    "ALLOW_OVERLAPPING_EXECUTION": "bool", "OVERLAP_POLICY": "upper", "USER_TASK_TIMEOUT_MS": "int",
    "SUSPEND_TASK_AFTER_NUM_FAILURES": "int", "ERROR_INTEGRATION": "text", "SUCCESS_INTEGRATION": "text",
    "COMMENT": "string", "FINALIZE": "name", "TASK_AUTO_RETRY_ATTEMPTS": "int",
    "USER_TASK_MINIMUM_TRIGGER_INTERVAL_IN_SECONDS": "int",
}
