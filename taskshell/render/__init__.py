"""Results to text: rich tables for people, csv, tsv, json and markdown for pipes and tools.

Only the `table` format imports rich, and only when it is used.
"""

from __future__ import annotations

from taskshell.interpreter.result import Result
from taskshell.render.errors import format_error
from taskshell.render.text import render_csv, render_json, render_markdown, render_tsv

FORMATS = ("table", "csv", "tsv", "json", "markdown")

_PLAIN = {"csv": render_csv, "tsv": render_tsv, "json": render_json, "markdown": render_markdown}


def render(result: Result, fmt: str, *, width: int | None = None, color: bool = False) -> str:
    """The text of one result set in format `fmt` (one of FORMATS), ending with a newline.

    `width` is the terminal width for `table` (None: natural width, nothing cut); `color` adds ANSI
    styles to `table`. The other formats ignore both.
    """
    if fmt == "table":
        from taskshell.render.table import render_table

        return render_table(result, width=width, color=color)
    try:
        renderer = _PLAIN[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}") from None
    return renderer(result)


__all__ = ["FORMATS", "format_error", "render"]
