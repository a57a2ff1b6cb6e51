"""The prompt's defaults, read from a small TOML file in the user's config directory.

    # ~/.config/taskshell/config.toml
    format = "table"        # table | csv | tsv | json | markdown
    vi = false              # vi editing keys instead of emacs
    timing = false          # show each statement's elapsed time
    pager = "less -SRFX"    # long results go through this; "" turns paging off
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from taskshell.render import FORMATS

DEFAULT_PAGER = "less -SRFX"


@dataclass(frozen=True)
class ShellConfig:
    format: str = "table"
    vi: bool = False
    timing: bool = False
    pager: str = DEFAULT_PAGER


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "taskshell"


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "taskshell"


def history_path() -> Path:
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "history"


def load_config(path: Path | None = None) -> tuple[ShellConfig, list[str]]:
    """The configuration and a warning for every value that was ignored."""
    path = path or config_dir() / "config.toml"
    warnings: list[str] = []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default_config(), warnings
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return default_config(), [f"{path}: ignored ({exc})"]
    config = default_config()
    for key, value in data.items():
        if key == "format" and value in FORMATS:
            config = replace(config, format=value)
        elif key in ("vi", "timing") and isinstance(value, bool):
            config = replace(config, **{key: value})
        elif key == "pager" and isinstance(value, str):
            config = replace(config, pager=value)
        else:
            warnings.append(f"{path}: ignored {key} = {value!r}")
    return config, warnings


def default_config() -> ShellConfig:
    """The defaults, with $PAGER when it is set."""
    if sys.platform == "win32":
        return ShellConfig(pager="")
    return ShellConfig(pager=os.environ.get("PAGER") or DEFAULT_PAGER)
