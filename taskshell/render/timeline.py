"""Recent task runs as a timeline: the time each run waited in the queue and the time it executed,
drawn as bars on one shared time axis (the diagrams of Snowflake's warehouse-sizing guidance).

Fed by TASK_HISTORY rows; pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

QUEUED, EXECUTING, MARK = "░", "█", "·"
_MIN_BAR = 10


@dataclass(frozen=True)
class RunSpan:
    name: str
    state: str
    scheduled: datetime
    started: datetime | None = None
    completed: datetime | None = None
    error: str | None = None


def parse_timestamp(text: Any) -> datetime | None:
    """'2026-11-01 00:00:00.000 -0700' (or with 'Z' / ISO 8601) as an aware datetime; None if not one."""
    if text is None:
        return None
    if isinstance(text, datetime):
        return text
    value = str(text).strip()
    for pattern in ("%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S %z"):
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def runs_from_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[RunSpan]:
    """RunSpans from TASK_HISTORY rows, oldest first."""
    index = {c.upper(): i for i, c in enumerate(columns)}

    def cell(row: Sequence[Any], name: str) -> Any:
        return row[index[name]] if name in index else None

    runs = []
    for row in rows:
        scheduled = parse_timestamp(cell(row, "SCHEDULED_TIME"))
        if scheduled is None:
            continue
        runs.append(RunSpan(
            name=str(cell(row, "NAME")), state=str(cell(row, "STATE")), scheduled=scheduled,
            started=parse_timestamp(cell(row, "QUERY_START_TIME")),
            completed=parse_timestamp(cell(row, "COMPLETED_TIME")),
            error=cell(row, "ERROR_MESSAGE")))
    return sorted(runs, key=lambda r: (r.scheduled, r.name))


def draw_timeline(runs: Sequence[RunSpan], *, width: int = 80, now: datetime | None = None) -> str:
    """One line per run: when it was scheduled, the task, its state, a bar and the durations."""
    if not runs:
        return "No task runs.\n"
    name_width = min(24, max(len(r.name) for r in runs))
    state_width = max(len(r.state) for r in runs)
    start = min(r.scheduled for r in runs)
    end = max(_end(r, now) for r in runs)
    span = max((end - start).total_seconds(), 1.0)
    label_width = 8 + 2 + name_width + 2 + state_width + 2
    notes = [_durations(r, now) for r in runs]
    note_width = max(len(n) for n in notes)
    bar_width = max(_MIN_BAR, width - label_width - 2 - 2 - note_width)

    def column(instant: datetime) -> int:
        return min(bar_width - 1, int((instant - start).total_seconds() / span * (bar_width - 1) + 0.5))

    lines = []
    for run, note in zip(runs, notes, strict=True):
        cells = [" "] * bar_width
        if run.started is None:
            cells[column(run.scheduled)] = MARK
        else:
            _fill(cells, column(run.scheduled), column(run.started), QUEUED)
            stop = run.completed or now or run.started
            _fill(cells, column(run.started), max(column(stop), column(run.started) + 1), EXECUTING)
        name = run.name if len(run.name) <= name_width else run.name[: name_width - 1] + "…"
        lines.append(f"{run.scheduled.strftime('%H:%M:%S')}  {name:<{name_width}}  {run.state:<{state_width}}"
                     f"  │{''.join(cells)}│  {note}".rstrip())
    left, right = start.strftime("%H:%M:%S"), end.strftime("%H:%M:%S")
    axis = " " * (label_width + 1) + left + " " * max(1, bar_width - len(left) - len(right) + 2) + right
    legend = f"{QUEUED} queued   {EXECUTING} executing   {MARK} not started"
    return "\n".join([*lines, axis.rstrip(), legend]) + "\n"


def _end(run: RunSpan, now: datetime | None) -> datetime:
    if run.completed is not None:
        return run.completed
    if run.started is not None and now is not None:
        return max(now, run.started)
    return run.started or run.scheduled


def _fill(cells: list[str], first: int, stop: int, char: str) -> None:
    for i in range(first, min(stop, len(cells))):
        cells[i] = char


def _durations(run: RunSpan, now: datetime | None) -> str:
    if run.started is None:
        return run.error.splitlines()[0][:40] if run.error and run.state == "SKIPPED" else ""
    queued = (run.started - run.scheduled).total_seconds()
    stop = run.completed or now
    executing = f"{(stop - run.started).total_seconds():.1f}s" if stop else "…"
    return f"queued {queued:.1f}s, executed {executing}"
