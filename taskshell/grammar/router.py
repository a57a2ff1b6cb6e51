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
    r"CREATE(?:{g}+OR{g}+REPLACE)?{g}+STREAM",
    r"(?:DROP|DESC|DESCRIBE){g}+STREAM",
    r"SHOW(?:{g}+(?:TERSE|FULL))?{g}+STREAMS",
    # Only the change-tracking forms of ALTER TABLE; every other ALTER TABLE is plain SQL.
    r"ALTER{g}+TABLE{g}+(?:IF{g}+EXISTS{g}+)?{name}{g}*SET{g}+"
    r"(?:CHANGE_TRACKING|OPTIONS{g}*\({g}*CHANGE_TRACKING)",
    r"CREATE(?:{g}+OR{g}+REPLACE)?{g}+NOTIFICATION{g}+INTEGRATION",
    r"(?:ALTER|DROP|DESC|DESCRIBE){g}+NOTIFICATION{g}+INTEGRATION",
    r"(?:DROP|DESC|DESCRIBE){g}+INTEGRATION",
    r"SHOW{g}+(?:NOTIFICATION{g}+)?INTEGRATIONS",
    r"CALL{g}+TASK_DEPENDENTS_ENABLE",
)
# A possibly qualified, possibly quoted object name; possessive so a long name cannot backtrack.
_IDENT = r'(?:[A-Za-z_][\w$]*+|"(?:[^"]|"")++")'
_NAME = _IDENT + r"(?:{g}*\.{g}*" + _IDENT + r")*+(?![\w$])"
_OWNED = re.compile(
    GAP + "*(?:" + "|".join(f.format(g=GAP, name=_NAME.format(g=GAP)) for f in _OWNED_FORMS) + r")(?![\w$])",
    re.IGNORECASE | re.DOTALL,
)


def is_owned(text: str) -> bool:
    """True when the statement is one the Lark grammar parses (tasks, warehouses, ALTER SESSION,
    streams, change tracking, notification integrations, CALL TASK_DEPENDENTS_ENABLE)."""
    return _OWNED.match(text) is not None
