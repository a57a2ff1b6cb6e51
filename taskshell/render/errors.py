"""Error text for stderr: where it happened, the code and message, and a caret under the position."""

from __future__ import annotations

import re

from taskshell.errors import TaskshellError

# Beyond this many, a list of expected tokens stops helping.
_MAX_EXPECTED = 20
# "expected" as a word: "unexpected 'FOO'" does not list what was expected.
_MENTIONS_EXPECTED = re.compile(r"\bexpected\b", re.IGNORECASE)


def format_error(err: TaskshellError, *, source: str | None = None, statement: str | None = None,
                 statement_line: int = 1, statement_column: int = 1) -> str:
    """`source:line: code (sqlstate): message`, then the offending line with a caret and what was
    expected there. `source` ("script.sql", "<stdin>", "-c") adds the place; `statement_line` and
    `statement_column` say where the statement starts in that source."""
    err_line = err.position[0] if err.position else 1
    line = statement_line + err_line - 1
    prefix = f"{source}:{line}: " if source else ""
    lines = [f"{prefix}{err.code} ({err.sqlstate}): {err.message}"]
    if err.position and statement is not None:
        lines.extend(_caret(statement, err.position, statement_column))
    if err.expected and not _MENTIONS_EXPECTED.search(err.message):
        shown = list(err.expected[:_MAX_EXPECTED])
        if len(err.expected) > _MAX_EXPECTED:
            shown.append("…")
        lines.append("Expected one of: " + ", ".join(shown))
    return "\n".join(lines) + "\n"


def _caret(statement: str, position: tuple[int, int], statement_column: int) -> list[str]:
    err_line, err_column = position
    source_lines = statement.splitlines()
    if not 1 <= err_line <= len(source_lines):
        return []
    text = source_lines[err_line - 1]
    if err_line == 1 and statement_column > 1:
        # The statement starts mid-line in its source: keep the caret at the source column.
        text = " " * (statement_column - 1) + text
        err_column += statement_column - 1
    # Copy tabs from the line so that the caret lines up however wide the terminal draws a tab.
    lead = "".join("\t" if ch == "\t" else " " for ch in text[: max(0, err_column - 1)])
    lead += " " * max(0, err_column - 1 - len(text))
    return [text, lead + "^"]
