"""Results: what every statement returns and every renderer draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Result:
    """Column names and rows of plain values (None, int, float, str, bool, bytes).

    Timestamps arrive already formatted as text. `status` is set for statements that answer with a
    one-row status (DDL); such a result also carries that row as a single `status` column.
    `notices` are warnings to show beside the result (stderr in script mode).
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    status: str | None = None
    notices: tuple[str, ...] = field(default_factory=tuple)
    elapsed: float = 0.0

    @classmethod
    def of_status(cls, text: str, notices: tuple[str, ...] = ()) -> Result:
        return cls(columns=("status",), rows=((text,),), status=text, notices=notices)
