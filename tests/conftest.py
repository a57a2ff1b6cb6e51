"""Shared fixtures: an interpreter over a real catalog file, and the installed program."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from taskshell.catalog.db import Catalog
from taskshell.interpreter.interpreter import Interpreter
from taskshell.interpreter.session import Session
from taskshell.scheduler.clock import VirtualClock, parse_instant

START = "2026-11-01T00:00:00-07:00"


def program() -> list[str]:
    """The installed `taskshell` beside this Python, else `python -m taskshell`."""
    candidate = Path(sys.executable).parent / "taskshell"
    if candidate.exists():
        return [str(candidate)]
    found = shutil.which("taskshell")
    return [found] if found else [sys.executable, "-m", "taskshell"]


def run_program(args: list[str], stdin: str | None = None, cwd: Path | None = None,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("TASKSHELL_CATALOG", None)
    full_env.update(env or {})
    return subprocess.run(program() + args, input=stdin, capture_output=True, text=True, cwd=cwd,
                          env=full_env, timeout=60)


class Shell:
    """An interpreter over a catalog file, with a virtual clock: `shell("select 1")` → Result."""

    def __init__(self, path: Path, dialect: str = "snowflake", start: str = START) -> None:
        self.catalog = Catalog(str(path))
        self.clock = VirtualClock(parse_instant(start))
        self.interpreter = Interpreter(Session(catalog=self.catalog, clock=self.clock, dialect=dialect))

    def __call__(self, sql: str):  # noqa: ANN204
        return self.interpreter.execute(sql.strip().rstrip(";"))

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self(sql).rows]

    def column(self, sql: str, name: str) -> list:
        result = self(sql)
        index = [c.lower() for c in result.columns].index(name.lower())
        return [r[index] for r in result.rows]

    def advance(self, seconds: float) -> datetime:
        return self.clock.advance(seconds)

    def close(self) -> None:
        self.interpreter.close()
        self.catalog.close()


@pytest.fixture
def shell(tmp_path: Path):
    s = Shell(tmp_path / "catalog.db")
    yield s
    s.close()


@pytest.fixture
def databend(tmp_path: Path):
    s = Shell(tmp_path / "databend.db", dialect="databend")
    yield s
    s.close()
