"""Golden tests: a script in, exact stdout, stderr and exit code out, through the installed program.

Each `tests/golden/NAME.sql` may start with `-- args: …` (extra command-line arguments); the expected
output is `NAME.expected`: stdout, then `--- stderr ---`, stderr, then `--- exit N ---`.
Set TASKSHELL_UPDATE_GOLDEN=1 to rewrite the expected files after checking a change by eye.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from tests.conftest import run_program

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*.sql"))


def _args(script: str) -> list[str]:
    first = script.splitlines()[0] if script else ""
    return shlex.split(first[len("-- args:"):]) if first.startswith("-- args:") else []


def _actual(case: Path, tmp_path: Path) -> str:
    script = case.read_text()
    result = run_program([str(tmp_path / "catalog.db"), *_args(script), "-f", case.name],
                         cwd=case.parent)
    return f"{result.stdout}--- stderr ---\n{result.stderr}--- exit {result.returncode} ---\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path, tmp_path: Path) -> None:
    actual = _actual(case, tmp_path)
    expected_file = case.with_suffix(".expected")
    if os.environ.get("TASKSHELL_UPDATE_GOLDEN"):
        expected_file.write_text(actual)
    assert expected_file.exists(), f"{expected_file.name} is missing (TASKSHELL_UPDATE_GOLDEN=1 writes it)"
    assert actual == expected_file.read_text()
