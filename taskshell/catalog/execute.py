"""Running the SQLite steps of a translated statement on a connection.

The caller owns the transaction; this only runs the steps in order, gathers the result rows of the
step that returns rows and the DML counts, and turns SQLite's errors into taskshell errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from taskshell.catalog.functions import translate_sqlite_error


class Step(Protocol):
    sql: str
    params: tuple[Any, ...]
    counts_as: str | None
    returns_rows: bool


@dataclass
class StepsOutcome:
    columns: tuple[str, ...] = ()
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def run_steps(conn: sqlite3.Connection, steps: Iterable[Step]) -> StepsOutcome:
    outcome = StepsOutcome()
    try:
        for step in steps:
            cur = conn.execute(step.sql, step.params)
            if step.returns_rows:
                outcome.columns = tuple(d[0] for d in cur.description or ())
                outcome.rows = cur.fetchall()
            elif cur.description is not None:
                cur.fetchall()  # a step that is a SELECT for its side effects (checks) runs to the end
            if step.counts_as:
                outcome.counts[step.counts_as] = outcome.counts.get(step.counts_as, 0) + max(cur.rowcount, 0)
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc) from None
    return outcome
