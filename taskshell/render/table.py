"""The `table` format: a rich table, or the bare status line for statements that answer with one.

rich is imported here only, on first use, so that the csv/tsv/json paths never pay for it.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from taskshell.interpreter.result import Result
from taskshell.render.text import format_value, is_number

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

EMPTY_FOOTER = "(0 rows)"
# Width of the console a table is drawn on when nothing limits it.
_UNBOUNDED = 1 << 30
# Text that rich treats specially (tabs, control codes); such tables are always drawn by rich.
_NEEDS_RICH = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_GAP = "   "  # rich's SIMPLE_HEAD layout: one padding space, a blank divider, one padding space


def render_table(result: Result, *, width: int | None = None, color: bool = False) -> str:
    """Draw `result`. With no `width` the table takes its natural width: no cell is cut or wrapped,
    so scripts and tests see the same text everywhere. With a `width` (a terminal) it fits the way
    rich fits tables."""
    if result.status is not None:
        return result.status + "\n"
    if not result.columns:
        return ""
    if width is None and not color:
        cells = [[format_value(v, null="NULL") for v in row] for row in result.rows]
        if not any(_NEEDS_RICH.search(c) for c in (*result.columns, *(c for r in cells for c in r))):
            return _draw_plain(result, cells)
    return _draw_rich(result, width, color)


def _draw_rich(result: Result, width: int | None, color: bool) -> str:
    # Without expand, a table on an unbounded console takes exactly its natural width.
    console = _console(_UNBOUNDED if width is None else width, color)
    console.print(_build(result, color))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    if not color:
        # Cells are padded to the column width; trailing blanks are noise in files and diffs.
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    if not result.rows:
        text += EMPTY_FOOTER + "\n"
    return text


def _console(width: int, color: bool) -> Console:
    from rich.console import Console

    # Every setting is explicit so that the environment (COLUMNS, FORCE_COLOR, TERM …) changes nothing.
    return Console(
        file=io.StringIO(),
        width=width,
        force_terminal=color,
        force_jupyter=False,
        force_interactive=False,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
        safe_box=False,
    )


def _build(result: Result, color: bool) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, header_style="bold" if color else "", show_edge=False, pad_edge=False)
    for name, right in zip(result.columns, _right_aligned(result), strict=True):
        table.add_column(Text(name), justify="right" if right else "left")
    null = Text("NULL", style="dim" if color else "")
    for row in result.rows:
        table.add_row(*(null if v is None else Text(format_value(v)) for v in row))
    return table


def _draw_plain(result: Result, cells: list[list[str]]) -> str:
    """The same text rich draws for this table at natural width, without colour, much faster:
    large result sets in scripts would otherwise spend seconds in rich's layout engine."""
    from rich.cells import cell_len

    grid = [[c.split("\n") for c in row] for row in cells]
    header = [name.split("\n") for name in result.columns]
    widths = [max(cell_len(line) for line in lines) for lines in header]
    for row in grid:
        for i, lines in enumerate(row):
            widths[i] = max(widths[i], *(cell_len(line) for line in lines))
    right = _right_aligned(result)

    def draw(row: list[list[str]], bottom: bool = False) -> list[str]:
        height = max(len(lines) for lines in row)
        if bottom:  # rich sits header cells on the rule
            row = [[""] * (height - len(lines)) + lines for lines in row]
        out = []
        for n in range(height):
            parts = []
            for lines, w, r in zip(row, widths, right, strict=True):
                text = lines[n] if n < len(lines) else ""
                pad = " " * (w - cell_len(text))
                parts.append(pad + text if r else text + pad)
            out.append(_GAP.join(parts).rstrip())
        return out

    total = sum(widths) + len(_GAP) * (len(widths) - 1)
    lines = [*draw(header, bottom=True), "\u2500" * total]
    for row in grid:
        lines.extend(draw(row))
    if not result.rows:
        lines.append(EMPTY_FOOTER)
    return "\n".join(lines) + "\n"


def _right_aligned(result: Result) -> list[bool]:
    """Numeric columns (every non-NULL value a number) are right-aligned."""
    if not result.rows:
        return [False] * len(result.columns)
    return [
        any(v is not None for v in values) and all(v is None or is_number(v) for v in values)
        for values in zip(*result.rows, strict=True)
    ]
