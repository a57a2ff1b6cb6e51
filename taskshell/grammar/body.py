"""Task bodies: the statements inside `AS …`.

A body is one statement, a `BEGIN …; …; END` block (Databend and Snowflake Scripting without
variables), or `EXECUTE IMMEDIATE $$ … $$`. Blocks run all-or-nothing in the run's transaction.
"""

from __future__ import annotations

import re

from taskshell.errors import CompilationError
from taskshell.grammar.splitter import split

_BLOCK = re.compile(r"^\s*BEGIN\b(?!\s*(?:;|$|TRANSACTION\b|WORK\b|NAME\b))(?P<inner>.*)\bEND\s*;?\s*$",
                    re.IGNORECASE | re.DOTALL)
_IMMEDIATE = re.compile(r"^\s*EXECUTE\s+IMMEDIATE\s+(?:\$\$(?P<dollar>.*)\$\$|'(?P<quoted>(?:[^']|'')*)')\s*;?\s*$",
                        re.IGNORECASE | re.DOTALL)
_SCRIPTING = re.compile(r"^\s*(DECLARE|LET|IF|FOR|WHILE|LOOP|REPEAT|RETURN|CALL)\b", re.IGNORECASE)


def body_statements(body: str) -> list[str]:
    """The SQL statements a body runs, in order."""
    text = body.strip().rstrip(";").strip()
    match = _IMMEDIATE.match(text)
    if match:
        inner = match.group("dollar")
        if inner is None:
            inner = match.group("quoted").replace("''", "'")
        return body_statements(inner)
    match = _BLOCK.match(text + ";") or _BLOCK.match(text)
    statements = [s.text for s in split(match.group("inner"))] if match else [text]
    for statement in statements:
        keyword = _SCRIPTING.match(statement)
        if keyword:
            raise CompilationError(
                f"Unsupported SQL: {keyword.group(1).upper()} in a task body (only SQL statements, "
                "BEGIN … END blocks of them and EXECUTE IMMEDIATE are supported).")
    if not statements:
        raise CompilationError("A task body needs at least one statement.")
    return statements
