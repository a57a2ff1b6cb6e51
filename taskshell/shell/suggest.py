"""What kind of thing fits at the cursor: pure, and tested without a terminal or a catalog.

`suggest(before, after)` answers with the word being typed and the kinds that fit there — keywords
(from the grammar's parser state for the statements taskshell parses, from word lists for plain
SQL) and names of tasks, streams, tables, columns, warehouses or integrations. Matching those kinds
against the catalog's names is the completer's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taskshell.grammar.router import is_owned
from taskshell.grammar.splitter import split
from taskshell.shell import sqlwords as words
from taskshell.shell.grammar_state import GrammarState, grammar_loaded, grammar_state

# Name kinds the completer knows how to fill.
TASK, STREAM, TABLE, COLUMN, WAREHOUSE, INTEGRATION = "task", "stream", "table", "column", "warehouse", \
    "integration"
META, FORMAT, FILE = "meta", "format", "file"


@dataclass(frozen=True)
class Keyword:
    words: tuple[str, ...]


@dataclass(frozen=True)
class Name:
    kind: str
    tables: tuple[str, ...] = ()  # for columns: the tables in scope (empty: every table)


@dataclass(frozen=True)
class Suggestions:
    word: str  # the part of the word before the cursor that completions replace
    kinds: tuple[Keyword | Name, ...] = ()


_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>--[^\n]*|//[^\n]*|/\*.*?\*/)
    | (?P<open_comment>/\*.*\Z)
    | (?P<dollar>\$\$.*?\$\$)
    | (?P<open_dollar>\$\$)
    | (?P<string>'(?:[^'\\]|\\.|'')*')
    | (?P<open_string>'(?:[^'\\]|\\.|'')*\Z)
    | (?P<qident>"(?:[^"]|"")*")
    | (?P<open_qident>"(?:[^"]|"")*\Z)
    | (?P<word>[A-Za-z_][\w$]*)
    | (?P<number>\d+(?:\.\d*)?)
    | (?P<op>=>|::|<=|>=|<>|!=|\|\||.)
    """,
    re.DOTALL | re.VERBOSE,
)
_WORD_AT_END = re.compile(r'(?:([A-Za-z_][\w$]*|"(?:[^"]|"")*")\.)?([A-Za-z_][\w$]*)?\Z')
_META_COMMANDS_WITH_TASK = ("!graph", "!history", "\\graph", "\\history")
_RELATION_WORDS = frozenset({"FROM", "JOIN", "UPDATE", "INTO", "USING", "TABLE"})
_COLUMN_AFTER = frozenset({"SELECT", "WHERE", "AND", "OR", "BY", "SET", "HAVING", "ON", "DISTINCT",
                           "NOT", "WHEN", "THEN", "ELSE", "CASE", "QUALIFY"})
_CLAUSES = frozenset({"SELECT", "FROM", "JOIN", "WHERE", "GROUP", "ORDER", "HAVING", "SET", "VALUES",
                      "INTO", "ON", "UPDATE", "USING", "LIMIT", "QUALIFY"})
_OPERATORS = frozenset({"(", ",", "=", "<", ">", "<=", ">=", "<>", "!=", "+", "-", "*", "/", "||"})


def suggest(before: str, after: str = "", *, load_grammar: bool = True) -> Suggestions:
    """The word at the cursor and what fits there; `before`/`after` are the input either side.
    With `load_grammar` False, keywords come from word lists until the grammar has been loaded."""
    stripped = before.lstrip()
    if stripped[:1] in ("!", "\\"):
        return _meta(stripped)
    statement = current_statement(before)
    rest = after.split(";", 1)[0]
    return _suggest_statement(statement, rest, load_grammar or grammar_loaded())


def current_statement(before: str) -> str:
    """The text of the statement the cursor is in, from its first code character."""
    statements = split(before)
    if not statements:
        return ""
    last = statements[-1]
    tail = before[last.offset + len(last.text):]
    # A ';' outside comments after the last statement finished it: the cursor starts a new one.
    if any(kind == "op" and text == ";" for kind, text in tokenize(tail)):
        return ""
    return before[last.offset:]


def tokenize(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup or "op", m.group()) for m in _TOKEN.finditer(text)]


# ---------------------------------------------------------------- statements
def _suggest_statement(statement: str, after: str, use_grammar: bool = True) -> Suggestions:
    tokens = tokenize(statement)
    code = [(kind, text) for kind, text in tokens if kind not in ("ws", "comment")]
    if code and code[-1][0] in ("open_comment",) or (tokens and tokens[-1][0] == "comment"
                                                       and not tokens[-1][1].startswith("/*")):
        return Suggestions("")  # the cursor is inside a comment
    if code and code[-1][0] == "open_string":
        return _inside_string(code)
    if code and code[-1][0] == "open_dollar":
        body = statement[statement.rfind("$$") + 2:]
        return _suggest_statement(body.lstrip(), "", use_grammar)
    match = _WORD_AT_END.search(statement)
    word = match.group(2) or "" if match else ""
    qualifier = match.group(1) if match else None
    prefix = statement[: match.start()] if match else statement
    if qualifier is not None:
        return Suggestions(word, _qualified(qualifier, statement + after))
    if not prefix.strip():
        return Suggestions(word, (Keyword(_statement_starts(use_grammar)),))
    if not use_grammar:
        return Suggestions(word, _from_sql(prefix, statement + after))
    if is_owned(prefix) or _first_word(prefix) in ("CREATE", "ALTER", "DROP", "SHOW", "DESC",
                                                    "DESCRIBE", "EXECUTE", "USE"):
        state = grammar_state(prefix)
        if state is not None:
            if state.body is not None:
                return _suggest_statement(_strip_body(state.body), "", use_grammar)
            return Suggestions(word, _from_grammar(state, prefix))
        if is_owned(prefix):
            return Suggestions(word)  # a syntax error before the cursor: nothing fits
    return Suggestions(word, _from_sql(prefix, statement + after))


def _statement_starts(use_grammar: bool) -> tuple[str, ...]:
    state = grammar_state("") if use_grammar else None
    grammar = state.keywords if state else ()
    return tuple(sorted({*grammar, *words.SQL_STATEMENT_STARTS}))


def _first_word(text: str) -> str:
    for kind, value in tokenize(text):
        if kind == "word":
            return value.upper()
        if kind not in ("ws", "comment"):
            return ""
    return ""


def _strip_body(body: str) -> str:
    body = body.lstrip()
    return body[2:].lstrip() if body.startswith("$$") else body


# ---------------------------------------------------------------- the grammar's statements
def _from_grammar(state: GrammarState, prefix: str) -> tuple[Keyword | Name, ...]:
    kinds: list[Keyword | Name] = []
    keywords = list(state.keywords)
    types = [t for t, _ in state.tokens]
    if len(types) == 1:
        keywords.extend(words.SQL_AFTER_FIRST.get(state.tokens[0][1], ()))
    if state.accepts_name or state.accepts_string:
        kinds.extend(_grammar_names(state, keywords))
    if keywords:
        kinds.insert(0, Keyword(tuple(sorted(set(keywords)))))
    return tuple(kinds)


_SUBJECTS = frozenset({"TASK", "TASKS", "SESSION", "WAREHOUSE", "WAREHOUSES", "STREAM", "STREAMS",
                       "INTEGRATION", "INTEGRATIONS"})
# The keyword just before the cursor that names the kind of object whose name comes next.
_NAME_AFTER = {"TASK": TASK, "CLONE": TASK, "AFTER": TASK, "FINALIZE": TASK, "WAREHOUSE": WAREHOUSE,
               "STREAM": STREAM, "INTEGRATION": INTEGRATION, "TABLE": TABLE, "VIEW": TABLE}


def _grammar_names(state: GrammarState, keywords: list[str]) -> list[Keyword | Name]:
    tokens = state.tokens
    types = [t for t, _ in tokens]
    last = types[-1] if types else ""
    first = tokens[0][1] if tokens else ""
    subject = next((t for t in types[1:5] if t in _SUBJECTS), "")
    if last == "EQUAL" and len(tokens) >= 2:
        values = _property_value(tokens[-2][1])
        if values:
            keywords.clear()
        return values
    if not state.accepts_name:
        return []
    if "WHEN" in types and "AS" not in types:
        return [Keyword(words.CONDITION_FUNCTIONS)]
    if last == "EXISTS" and subject:
        last = subject
    if last in _NAME_AFTER:
        return [Name(_NAME_AFTER[last])]
    if (last == "COMMA" and _in_after_list(types)) or types[-2:] == ["TASK_DEPENDENTS_ENABLE", "LPAR"]:
        return [Name(TASK)]
    if first in ("SHOW", "DROP", "DESC", "DESCRIBE", "EXECUTE", "USE", "CALL"):
        return []
    if subject == "SESSION":
        keywords.extend(words.SESSION_PARAMETERS)
    elif subject == "WAREHOUSE":
        keywords.extend(words.WAREHOUSE_PROPERTIES)
    elif subject == "TASK":
        keywords.extend(words.TASK_PROPERTIES)
    return []


def _in_after_list(types: list[str]) -> bool:
    """True when the cursor follows `AFTER a, b,` (or `ADD AFTER …`)."""
    for kind in reversed(types):
        if kind == "AFTER":
            return True
        if kind not in ("COMMA", "IDENT", "QUOTED_IDENT", "DOT", "STRING"):
            return False
    return False


def _property_value(name: str) -> list[Keyword | Name]:
    if name in ("WAREHOUSE",):
        return [Name(WAREHOUSE)]
    if name in ("ERROR_INTEGRATION", "SUCCESS_INTEGRATION"):
        return [Name(INTEGRATION)]
    if name == "FINALIZE":
        return [Name(TASK)]
    if name in words.PROPERTY_VALUES:
        return [Keyword(words.PROPERTY_VALUES[name])]
    return []


# ---------------------------------------------------------------- plain SQL
def _from_sql(prefix: str, whole: str) -> tuple[Keyword | Name, ...]:
    code = [(k, v.upper() if k == "word" else v) for k, v in tokenize(prefix) if k not in ("ws", "comment")]
    values = [v for _, v in code]
    last = values[-1] if values else ""
    if len(values) == 1 and last in words.SQL_AFTER_FIRST:
        return (Keyword(words.SQL_AFTER_FIRST[last]),)
    clause = next((v for k, v in reversed(code) if k == "word" and v in _CLAUSES), "")
    scope = tables_in_scope(whole)
    columns = Name(COLUMN, tuple(table for table, _ in scope))
    expression = Keyword(tuple(sorted({*words.SQL_FUNCTIONS, "CASE", "NOT", "NULL", "TRUE", "FALSE",
                                       "DISTINCT", "EXISTS", "CAST"})))
    if last in ("FROM", "JOIN") or (last == "," and clause in ("FROM", "JOIN")):
        return (Name(TABLE), Name(STREAM), Keyword(("TABLE",)))
    if last in ("INTO", "UPDATE", "TRUNCATE", "TABLE"):
        return (Name(TABLE),)
    if last == "USING":
        return (Name(TABLE), Name(STREAM))
    if last in ("TASK", "AFTER") or (last == "," and "AFTER" in values):
        return (Name(TASK),)
    if last == "WAREHOUSE":
        return (Name(WAREHOUSE),)
    if last == "STREAM" or (last == "EXISTS" and "STREAM" in values):
        return (Name(STREAM),)
    if last == "INTEGRATION":
        return (Name(INTEGRATION),)
    if last == "VIEW":
        return (Name(TABLE),)
    if last == "ON" and "STREAM" in values:
        return (Keyword(("TABLE", "VIEW")),)
    if clause == "INTO" and last in ("(", ","):
        return (Name(COLUMN, tuple(t for t, _ in scope[:1])),)
    if clause == "VALUES":
        return ()
    if last in _COLUMN_AFTER or last in _OPERATORS:
        return (columns, expression)
    if code and code[-1][0] in ("word", "qident"):
        if clause in ("FROM", "JOIN", "UPDATE", "INTO", "USING"):
            return (Keyword(words.AFTER_RELATION),)
        return (Keyword(words.AFTER_EXPRESSION), columns)
    if code and code[-1][0] in ("number", "string") or last == ")":
        return (Keyword(words.AFTER_EXPRESSION),)
    return (Keyword(words.SQL_KEYWORDS),)


def tables_in_scope(statement: str) -> list[tuple[str, str | None]]:
    """(table, alias) for every relation the statement names after FROM, JOIN, UPDATE, INTO, USING."""
    code = [(k, v) for k, v in tokenize(statement) if k not in ("ws", "comment")]
    found: list[tuple[str, str | None]] = []
    in_from = False
    i = 0
    while i < len(code):
        kind, value = code[i]
        upper = value.upper()
        if kind == "word" and upper in _RELATION_WORDS or (in_from and value == ","):
            in_from = upper in ("FROM", "JOIN") or (in_from and value == ",")
            name, i = _relation_name(code, i + 1)
            if name:
                alias = None
                if i < len(code) and code[i][1].upper() == "AS":
                    i += 1
                if i < len(code) and code[i][0] in ("word", "qident") and \
                        code[i][1].upper() not in _ALIAS_STOPS:
                    alias = _unquote(code[i][1])
                    i += 1
                found.append((name, alias))
                continue
        elif kind == "word" and upper in _CLAUSES:
            in_from = False
        i += 1
    return found


_ALIAS_STOPS = frozenset({*_CLAUSES, "LEFT", "RIGHT", "INNER", "OUTER", "FULL", "CROSS", "NATURAL",
                          "GROUP", "ORDER", "UNION", "EXCEPT", "INTERSECT", "WHEN", "AS", "SELECT"})


def _relation_name(code: list[tuple[str, str]], i: int) -> tuple[str | None, int]:
    parts = []
    while i < len(code) and code[i][0] in ("word", "qident"):
        if code[i][1].upper() in _ALIAS_STOPS:
            break
        parts.append(_unquote(code[i][1]))
        i += 1
        if i < len(code) and code[i][1] == ".":
            i += 1
            continue
        break
    return (parts[-1] if parts else None), i


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _qualified(qualifier: str, whole: str) -> tuple[Keyword | Name, ...]:
    name = _unquote(qualifier)
    if name.upper() == "INFORMATION_SCHEMA":
        return (Keyword(words.INFORMATION_SCHEMA_FUNCTIONS),)
    for table, alias in tables_in_scope(whole):
        if alias and alias.lower() == name.lower():
            return (Name(COLUMN, (table,)),)
    return (Name(COLUMN, (name,)),)


def _inside_string(code: list[tuple[str, str]]) -> Suggestions:
    """Inside an unfinished string: task names for TASK_NAME => '…', streams for STREAM_HAS_DATA('…')."""
    typed = code[-1][1][1:]
    before = [v.upper() for _, v in code[-4:-1]]
    if before[-2:] in (["TASK_NAME", "=>"], ["ROOT_TASK_NAME", "=>"]) or \
            before[-2:] == ["SYSTEM$TASK_DEPENDENTS_ENABLE", "("]:
        return Suggestions(typed, (Name(TASK),))
    if before[-2:] == ["SYSTEM$STREAM_HAS_DATA", "("]:
        return Suggestions(typed, (Name(STREAM),))
    return Suggestions("")


# ---------------------------------------------------------------- meta commands
def _meta(text: str) -> Suggestions:
    head, _, argument = text.partition(" ")
    if not _:
        return Suggestions(head, (Name(META),))
    word = argument.split(" ")[-1] if argument else ""
    command = head.lower()
    if command in _META_COMMANDS_WITH_TASK:
        return Suggestions(word, (Name(TASK),))
    if command in ("!format", "\\format", "\\pset"):
        return Suggestions(word, (Name(FORMAT),))
    if command in ("!source", "\\i"):
        return Suggestions(argument, (Name(FILE),))
    return Suggestions(word)
