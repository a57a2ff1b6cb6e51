"""Long output goes through a pager when it would scroll off the screen."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from functools import lru_cache

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def needs_pager(text: str, screen_lines: int, screen_columns: int = 0) -> bool:
    """True when `text` has more lines than fit above the prompt, or a line wider than the screen."""
    if screen_lines > 0 and text.count("\n") > max(1, screen_lines - 3):
        return True
    return screen_columns > 0 and any(_width(line) > screen_columns for line in text.splitlines())


def _width(line: str) -> int:
    return len(_ANSI.sub("", line))


@lru_cache(maxsize=8)
def pager_available(command: str) -> bool:
    """True when `command` names a program that can be run."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    return bool(argv) and shutil.which(argv[0]) is not None


def page(text: str, command: str) -> bool:
    """Show `text` through `command` (e.g. 'less -SRFX'); False when the pager could not run."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    if not argv:
        return False
    try:
        subprocess.run(argv, input=text.encode("utf-8", "replace"), check=False)
    except (OSError, KeyboardInterrupt):
        return False
    return True
