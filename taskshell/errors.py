"""Errors are values with a code, a SQL state and a message a user can act on.

Every package raises `TaskshellError` (or a subclass); the script runner and the shell turn it into
text. `position` is 1-based (line, column) inside the statement text, when the error has a place.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TaskshellError(Exception):
    message: str
    code: str = "000000"
    sqlstate: str = "42000"
    position: tuple[int, int] | None = None
    expected: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class ParseError(TaskshellError):
    """Input that the grammar or the SQL reader could not parse; carries a position."""

    def __init__(self, message: str, position: tuple[int, int] | None = None,
                 expected: tuple[str, ...] = (), code: str = "001003", sqlstate: str = "42000") -> None:
        super().__init__(message=message, code=code, sqlstate=sqlstate, position=position,
                         expected=tuple(expected))


class CompilationError(TaskshellError):
    """A statement that parsed but cannot be run as written (unknown object, bad option, unsupported SQL)."""

    def __init__(self, message: str, code: str = "002003", sqlstate: str = "42000",
                 position: tuple[int, int] | None = None) -> None:
        super().__init__(message=message, code=code, sqlstate=sqlstate, position=position)


class ExecutionError(TaskshellError):
    """A statement that failed while running (division by zero, constraint, busy catalog)."""

    def __init__(self, message: str, code: str = "100000", sqlstate: str = "22000") -> None:
        super().__init__(message=message, code=code, sqlstate=sqlstate)


# Codes that several packages share.
DIVISION_BY_ZERO = "1006"
GRAPH_NOT_SUSPENDED = "091421"
CONDITION_FALSE = "0040003"
