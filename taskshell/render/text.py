"""Plain-text renderers for pipes and tools: csv, tsv, json and markdown.

Standard library only: `taskshell -c … --format csv` must start fast.
"""

from __future__ import annotations

import csv
import io
import json
import math
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from taskshell.interpreter.result import Result

# Floats between these magnitudes print positionally; beyond them an exponent is the clearer form.
_POSITIONAL_MIN = 1e-9
_POSITIONAL_MAX = 1e21


def shape(result: Result) -> tuple[tuple[str, ...], Sequence[tuple[Any, ...]]]:
    """Columns and rows to draw; a status result is a one-column `status` table."""
    if result.status is not None and not result.columns:
        return ("status",), ((result.status,),)
    return result.columns, result.rows


def format_float(value: float) -> str:
    """Fifteen significant digits, as SQLite prints REAL, without exponent noise for ordinary values.

    1/3 prints 0.333333333333333, 0.1 + 0.2 prints 0.3, 5.0 prints 5.0, 1e-05 prints 0.00001.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.15g}"
    if "e" in text and (value == 0 or _POSITIONAL_MIN <= abs(value) < _POSITIONAL_MAX):
        text = format(Decimal(text), "f")
    if "e" not in text and "." not in text:
        text += ".0"  # keep a float recognisable as one
    return text


def format_value(value: Any, null: str = "") -> str:
    """The text of one cell; `null` stands for NULL."""
    if value is None:
        return null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex().upper()  # BINARY shows as hex, as Snowflake prints it
    return str(value)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def render_delimited(result: Result, delimiter: str) -> str:
    columns, rows = shape(result)
    if not columns:
        return ""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([format_value(v) for v in row] for row in rows)
    return out.getvalue()


def render_csv(result: Result) -> str:
    return render_delimited(result, ",")


def render_tsv(result: Result) -> str:
    return render_delimited(result, "\t")


def unique_keys(columns: Sequence[str]) -> list[str]:
    """Column names as object keys: a repeated name becomes name_2, name_3, … ."""
    seen: set[str] = set()
    keys: list[str] = []
    for name in columns:
        key, n = name, 1
        while key in seen:
            n += 1
            key = f"{name}_{n}"
        seen.add(key)
        keys.append(key)
    return keys


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = format_float(value)
        # JSON has no NaN or infinity: those travel as strings.
        return text if math.isfinite(value) else json.dumps(text)
    return json.dumps(format_value(value), ensure_ascii=False)


def render_json(result: Result) -> str:
    """One line: a JSON array of row objects."""
    columns, rows = shape(result)
    keys = [json.dumps(k, ensure_ascii=False) + ": " for k in unique_keys(columns)]
    objects = (
        "{" + ", ".join(k + _json_value(v) for k, v in zip(keys, row, strict=False)) + "}" for row in rows
    )
    return "[" + ", ".join(objects) + "]\n"


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide East Asian characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _markdown_cell(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r\n", "<br>").replace("\n", "<br>")


def render_markdown(result: Result) -> str:
    """A GitHub table; numeric columns are right-aligned, NULL shows as NULL."""
    columns, rows = shape(result)
    if not columns:
        return ""
    header = [_markdown_cell(c) for c in columns]
    body = [[_markdown_cell(format_value(v, null="NULL")) for v in row] for row in rows]
    numeric = [
        any(v is not None for v in col) and all(v is None or is_number(v) for v in col)
        for col in zip(*rows, strict=False)
    ] if rows else [False] * len(columns)
    widths = [max(3, display_width(h), *(display_width(r[i]) for r in body)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        padded = []
        for cell, w, right in zip(cells, widths, numeric, strict=False):
            pad = " " * (w - display_width(cell))
            padded.append(pad + cell if right else cell + pad)
        return "| " + " | ".join(padded) + " |"

    rule = "| " + " | ".join(
        "-" * (w - 1) + ":" if right else "-" * w for w, right in zip(widths, numeric, strict=False)
    ) + " |"
    return "\n".join([line(header), rule, *(line(r) for r in body)]) + "\n"
