"""ALTER SESSION SET / UNSET."""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskshell.grammar import ast
from taskshell.interpreter.result import Result
from taskshell.interpreter.session import check_dialect, check_timezone

if TYPE_CHECKING:
    from taskshell.interpreter.interpreter import Interpreter


def alter_session(interp: Interpreter, cmd: ast.AlterSession) -> Result:
    session = interp.session
    changes: dict[str, object] = {}
    for name, value in cmd.set:
        if name == "DIALECT":
            changes[name] = check_dialect(str(value))
        elif name == "TIMEZONE":
            changes[name] = check_timezone(str(value))
        else:
            changes[name] = value
    # validate everything before changing anything: a failing statement changes nothing
    for name, value in changes.items():
        if name == "DIALECT":
            session.dialect = str(value)
        else:
            session.settings[name] = value
    for name in cmd.unset:
        if name == "DIALECT":
            session.dialect = "snowflake"
        session.settings.pop(name, None)
    return Result.of_status("Statement executed successfully.")
