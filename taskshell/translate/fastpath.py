"""Statements that mean exactly the same in Snowflake and SQLite, recognised without sqlglot.

Parsing with sqlglot costs about 0.7 ms a statement and importing it far more, which a script of
10,000 INSERTs or a one-shot `taskshell -c "select 1"` cannot afford. `passthrough` tokenizes with one
compiled regex and runs a small recursive-descent recogniser over a whitelisted subset of SQL whose
meaning is identical in both engines. Anything outside it — a '/', '::', a double quote, a function
call, '$', a dotted name, ORDER BY (NULLs sort differently), chained comparisons, any keyword not
listed, or a syntax error — returns None and the statement takes the full translator, which also
gives syntax errors their Snowflake wording and position.

Subset:  SELECT [DISTINCT] items [FROM tables] [WHERE e] [LIMIT e [OFFSET e]]
         INSERT INTO t [(cols)] {VALUES (e, …), … | SELECT …}
         UPDATE t [[AS] a] SET c = e, … [WHERE e]       DELETE FROM t [WHERE e]
where e is built from numbers, 'strings' (no backslash), NULL/TRUE/FALSE, bare identifiers,
+ - *, one comparison, IS [NOT] NULL/TRUE/FALSE/DISTINCT FROM, [NOT] IN (list or subquery),
[NOT] BETWEEN, [NOT] LIKE, NOT/AND/OR and parentheses. LIMIT and OFFSET take a number.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from taskshell.translate.context import SqlStep, Translation

_TOKEN = re.compile(r"""
    (?P<ws>\s+|--[^\n]*)
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\w.$]))
  | (?P<str>'(?:[^'\\]|'')*')
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?![\w$"']))
  | (?P<op><=|>=|<>|!=|[=<>+\-*,()])
""", re.VERBOSE)

_KEYWORDS = frozenset("""
    SELECT DISTINCT FROM WHERE AND OR NOT IS NULL TRUE FALSE AS LIMIT OFFSET IN BETWEEN LIKE
    INSERT INTO VALUES UPDATE SET DELETE
""".split())

# Words that are keywords or special names in either engine (SQLite's keyword list, Snowflake's
# reserved words, niladic functions such as CURRENT_TIMESTAMP, SQLite's rowid aliases): never
# identifiers on the fast path.
_RESERVED = frozenset("""
    ABORT ACCOUNT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE ANY ASC ATTACH AUTOINCREMENT BEFORE BEGIN
    BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONNECT CONNECTION CONSTRAINT CREATE
    CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURRENT_ROLE
    CURRENT_DATABASE CURRENT_SCHEMA DATABASE DEFAULT DEFERRABLE DEFERRED DESC DETACH DO DROP EACH
    ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN
    FULL GENERATED GLOB GRANT GROUP GROUPS GSCLUSTER HAVING IF IGNORE ILIKE IMMEDIATE INCREMENT INDEX
    INDEXED INITIALLY INNER INSTEAD INTERSECT INTERVAL ISNULL ISSUE JOIN KEY LAST LATERAL LEFT
    LOCALTIME LOCALTIMESTAMP MATCH MATERIALIZED MINUS NATURAL NO NOTHING NOTNULL NULLS OF ORDER
    ORGANIZATION OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUALIFY QUERY RAISE RANGE
    RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING REVOKE RIGHT RLIKE
    ROLLBACK ROW ROWS SAMPLE SAVEPOINT SCHEMA SOME START SYSDATE SYSTIMESTAMP TABLE TABLESAMPLE TEMP
    TEMPORARY THEN TIES TO TOP TRANSACTION TRIGGER TRY_CAST UNBOUNDED UNION UNIQUE USING VACUUM VIEW
    VIRTUAL WHEN WHENEVER WINDOW WITH WITHOUT ROWID OID _ROWID_ CONSUME CHANGES MERGE
""".split())

_COMPARISONS = {"=", "<>", "!=", "<", ">", "<=", ">="}
_COMMANDS = {"SELECT": ("select", None), "INSERT": ("insert", "inserted"),
             "UPDATE": ("update", "updated"), "DELETE": ("delete", "deleted")}


# The commonest statement of all, `INSERT INTO t [(cols)] VALUES (literals), …`, recognised by one
# regular expression before the general recogniser runs: it is what scripts are made of.
_LITERAL = r"(?:-?\s*(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\w.$])|'(?:[^'\\]|'')*'|NULL|TRUE|FALSE)"
_ROW = rf"\(\s*{_LITERAL}(?:\s*,\s*{_LITERAL})*\s*\)"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?![\w$])"
_INSERT_VALUES = re.compile(
    rf"INSERT\s+INTO\s+(?P<table>{_NAME})\s*(?:\(\s*(?P<cols>{_NAME}(?:\s*,\s*{_NAME})*)\s*\)\s*)?"
    rf"VALUES\s*{_ROW}(?:\s*,\s*{_ROW})*", re.IGNORECASE)


def _plain_insert(text: str) -> tuple[str, ...] | None:
    """The names a literal-only INSERT … VALUES uses (table first), or None for any other statement."""
    match = _INSERT_VALUES.fullmatch(text)
    if match is None:
        return None
    names = (match.group("table"), *re.split(r"\s*,\s*", match.group("cols") or ""))
    if any(name.upper() in _RESERVED or name.upper() in _KEYWORDS for name in names if name):
        return None
    return names


class _Reject(Exception):
    """The statement is outside the subset."""


def _tokens(sql: str) -> list[tuple[str, str]] | None:
    """(kind, text) for every significant token; words become 'kw' (upper-cased) or 'ident'."""
    out: list[tuple[str, str]] = []
    pos, end = 0, len(sql)
    while pos < end:
        m = _TOKEN.match(sql, pos)
        if m is None:
            return None
        pos = m.end()
        kind, text = m.lastgroup or "", m.group()
        if kind == "ws":
            continue
        if kind == "word":
            upper = text.upper()
            if upper in _RESERVED:
                return None
            kind, text = ("kw", upper) if upper in _KEYWORDS else ("ident", text)
        out.append((kind, text))
    return out


class _Recogniser:
    """Accepts the subset in the module docstring and records the table names it meets."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.tables: list[str] = []

    # -- token helpers
    def peek(self, offset: int = 0) -> tuple[str, str]:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else ("end", "")

    def accept(self, kind: str, text: str | None = None) -> bool:
        token = self.peek()
        if token[0] == kind and (text is None or token[1] == text):
            self.pos += 1
            return True
        return False

    def expect(self, kind: str, text: str | None = None) -> str:
        token = self.peek()
        if not self.accept(kind, text):
            raise _Reject
        return token[1]

    def kw(self, word: str) -> bool:
        return self.accept("kw", word)

    def op(self, symbol: str) -> bool:
        return self.accept("op", symbol)

    # -- statements
    def statement(self) -> str:
        command = self.expect("kw")
        if command == "SELECT":
            self.select_body()
        elif command == "INSERT":
            self.insert()
        elif command == "UPDATE":
            self.update()
        elif command == "DELETE":
            self.expect("kw", "FROM")
            self.tables.append(self.expect("ident"))
            self.where()
        else:
            raise _Reject
        if self.peek()[0] != "end":
            raise _Reject
        return command

    def select_body(self) -> None:
        self.kw("DISTINCT")
        self.comma_list(self.select_item)
        if self.kw("FROM"):
            self.comma_list(self.table_ref)
        self.where()
        if self.kw("LIMIT"):
            self.expect("num")
            if self.kw("OFFSET"):
                self.expect("num")

    def select_item(self) -> None:
        if self.op("*"):
            return
        self.expr()
        self.alias()

    def alias(self) -> None:
        if self.kw("AS"):
            self.expect("ident")
        else:
            self.accept("ident")

    def table_ref(self) -> None:
        self.tables.append(self.expect("ident"))
        self.alias()

    def where(self) -> None:
        if self.kw("WHERE"):
            self.expr()

    def insert(self) -> None:
        self.expect("kw", "INTO")
        self.tables.append(self.expect("ident"))
        if self.op("("):
            self.comma_list(lambda: self.expect("ident"))
            self.expect("op", ")")
        if self.kw("VALUES"):
            self.comma_list(self.row)
        else:
            self.expect("kw", "SELECT")
            self.select_body()

    def row(self) -> None:
        self.expect("op", "(")
        self.comma_list(self.expr)
        self.expect("op", ")")

    def update(self) -> None:
        self.tables.append(self.expect("ident"))
        self.alias()
        self.expect("kw", "SET")
        self.comma_list(self.assignment)
        self.where()

    def assignment(self) -> None:
        self.expect("ident")
        self.expect("op", "=")
        self.expr()

    def comma_list(self, item: Callable[[], object]) -> None:
        item()
        while self.op(","):
            item()

    # -- expressions, loosest first
    def expr(self) -> None:
        self.conjunction()
        while self.kw("OR"):
            self.conjunction()

    def conjunction(self) -> None:
        self.negation()
        while self.kw("AND"):
            self.negation()

    def negation(self) -> None:
        if self.kw("NOT"):
            self.negation()
        else:
            self.predicate()

    def predicate(self) -> None:
        """One comparison at most: `a = b = c` groups differently across engines, so it is refused."""
        self.additive()
        if self.peek()[0] == "op" and self.peek()[1] in _COMPARISONS:
            self.pos += 1
            self.additive()
            return
        if self.kw("IS"):
            self.kw("NOT")
            if not (self.kw("NULL") or self.kw("TRUE") or self.kw("FALSE")):
                self.expect("kw", "DISTINCT")
                self.expect("kw", "FROM")
                self.additive()
            return
        negated = self.kw("NOT")
        if self.kw("IN"):
            self.expect("op", "(")
            if self.kw("SELECT"):
                self.select_body()
            else:
                self.comma_list(self.additive)
            self.expect("op", ")")
        elif self.kw("BETWEEN"):
            self.additive()
            self.expect("kw", "AND")
            self.additive()
        elif self.kw("LIKE"):
            self.additive()
        elif negated:
            raise _Reject

    def additive(self) -> None:
        self.multiplicative()
        while self.op("+") or self.op("-"):
            self.multiplicative()

    def multiplicative(self) -> None:
        self.unary()
        while self.op("*"):
            self.unary()

    def unary(self) -> None:
        if self.op("-") or self.op("+"):
            self.unary()
            return
        kind, text = self.peek()
        if kind in ("num", "str", "ident") or (kind == "kw" and text in ("NULL", "TRUE", "FALSE")):
            self.pos += 1
            if kind == "ident" and self.peek() == ("op", "("):
                raise _Reject  # a function call
            return
        self.expect("op", "(")
        self.expr()  # a scalar subquery is refused: SQLite does not fail on a second row, Snowflake does
        self.expect("op", ")")


def passthrough(sql: str, allow_table: Callable[[str], bool] | None = None) -> Translation | None:
    """A Translation running `sql` unchanged, or None when the statement needs the translator.

    `allow_table` may veto a statement by the name of a table it reads or writes (a stream, say,
    must be rewritten even in the simplest SELECT).
    """
    text = sql.strip().rstrip(";").rstrip()
    if not text or ";" in text:
        return None
    plain = _plain_insert(text) if text[:6].upper() == "INSERT" else None
    if plain is not None:
        if allow_table is not None and not allow_table(plain[0]):
            return None
        return Translation(kind="insert", steps=(SqlStep(text, counts_as="inserted"),),
                           tables_written=(plain[0],))
    tokens = _tokens(text)
    if not tokens:
        return None
    recogniser = _Recogniser(tokens)
    try:
        command = recogniser.statement()
    except _Reject:
        return None
    names = recogniser.tables
    if allow_table is not None and not all(allow_table(name) for name in names):
        return None
    kind, counts_as = _COMMANDS[command]
    written = tuple(names[:1]) if command != "SELECT" else ()
    step = SqlStep(text, counts_as=counts_as, returns_rows=command == "SELECT")
    return Translation(kind=kind, steps=(step,), tables_written=written)
