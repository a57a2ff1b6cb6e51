"""Which front end a statement goes to: the Lark grammar (objects taskshell owns) or the translator.

It runs on every statement, so it is one compiled regular expression and imports nothing heavy.
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------- ownership
# Whitespace or a comment; atomic, so text inside a comment can never be read as a keyword.
GAP = r"(?>\s|--[^\n]*|//[^\n]*|/\*.*?\*/)"
_OWNED_FORMS = (
    r"CREATE(?:{g}+OR{g}+(?:REPLACE|ALTER))?{g}+TASK",
    r"(?:ALTER|DROP|EXECUTE|DESC|DESCRIBE){g}+TASK",
    r"SHOW(?:{g}+TERSE)?{g}+TASKS",
    r"ALTER{g}+SESSION",
    r"CREATE(?:{g}+OR{g}+REPLACE)?{g}+WAREHOUSE",
    r"(?:ALTER|DROP|USE){g}+WAREHOUSE",
    r"SHOW{g}+WAREHOUSES",
)
_OWNED = re.compile(
    GAP + "*(?:" + "|".join(f.format(g=GAP) for f in _OWNED_FORMS) + r")(?![\w$])",
    re.IGNORECASE | re.DOTALL,
)


def is_owned(text: str) -> bool:
    """True when the statement is one the Lark grammar parses (tasks, warehouses, ALTER SESSION)."""
    return _OWNED.match(text) is not None
