"""What the shell shows about the scheduler: the bottom toolbar and the event lines above the prompt.

Both are pure functions of values the shell already holds, so the UI thread never asks SQLite.
"""

from __future__ import annotations

from datetime import datetime

from taskshell.scheduler import events as ev
from taskshell.scheduler.clock import format_timestamp, zone


def toolbar_text(status: ev.SchedulerStatus | None, *, failures: int, now: datetime,
                 virtual_now: datetime | None, timezone: str) -> str:
    """One line: running runs, the next due task and when, failures since the last look, the clock."""
    parts: list[str] = []
    if status is None:
        parts.append("scheduler off")
    else:
        parts.append(f"{status.running} running")
        if status.next_task and status.next_at is not None:
            parts.append(f"next {status.next_task} at {_clock_time(status.next_at, timezone)}"
                         f" (in {_duration((status.next_at - now).total_seconds())})")
        else:
            parts.append("nothing scheduled")
    if failures:
        parts.append(f"{failures} failure{'s' if failures != 1 else ''} since !history")
    if virtual_now is not None:
        parts.append(f"clock {format_timestamp(virtual_now, timezone)[:19]} (virtual)")
    return " " + " │ ".join(parts) + " "


def event_line(event: ev.SchedulerEvent, timezone: str) -> str | None:
    """The line printed above the prompt for a scheduler event, or None for events not shown."""
    at = _clock_time(event.at, timezone)
    name = event.task_name
    if event.kind == ev.RUN_SUCCEEDED:
        return f"[{at}] task {name} succeeded"
    if event.kind == ev.RUN_FAILED:
        code = f"{event.error_code} " if event.error_code else ""
        return f"[{at}] task {name} failed: {code}{event.error_message or ''}".rstrip()
    if event.kind == ev.RUN_SKIPPED:
        reason = f": {event.error_message}" if event.error_message else ""
        return f"[{at}] task {name} skipped{reason}"
    if event.kind == ev.TASK_AUTO_SUSPENDED:
        reason = f": {event.error_message}" if event.error_message else ""
        return f"[{at}] task {name} was suspended automatically{reason}"
    return None


def _clock_time(instant: datetime, timezone: str) -> str:
    return instant.astimezone(zone(timezone)).strftime("%H:%M:%S")


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    return f"{hours // 24}d {hours % 24}h"
