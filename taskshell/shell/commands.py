"""The meta commands themselves, each registered once in REGISTRY."""

from __future__ import annotations

import re
from pathlib import Path

from taskshell.render import FORMATS
from taskshell.render.graph import draw_graph, nodes_from_rows
from taskshell.render.timeline import draw_timeline, runs_from_rows
from taskshell.scheduler.clock import format_timestamp
from taskshell.shell.meta import MetaRegistry, Quit, ShellContext

REGISTRY = MetaRegistry()
HISTORY_RUNS = 20
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)", re.IGNORECASE)
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


@REGISTRY.command("!help", "\\?", "\\h", summary="Show this list.")
def _help(ctx: ShellContext, argument: str) -> None:
    ctx.write(REGISTRY.help_text())


@REGISTRY.command("!format", "\\pset", args="FMT", summary=f"Set the output format: {', '.join(FORMATS)}.")
def _format(ctx: ShellContext, argument: str) -> None:
    value = argument.removeprefix("format").strip().lower()  # psql spells it \pset format csv
    if not value:
        ctx.write(f"Output format is {ctx.fmt}.\n")
    elif value not in FORMATS:
        ctx.warn(f"Unknown format {value!r}; choose one of: {', '.join(FORMATS)}.")
    else:
        ctx.fmt = value
        ctx.write(f"Output format is {value}.\n")


@REGISTRY.command("!timing", "\\timing", args="[on|off]", summary="Show how long each statement took.")
def _timing(ctx: ShellContext, argument: str) -> None:
    value = argument.lower()
    if value in ("on", "off"):
        ctx.timing = value == "on"
    elif value:
        ctx.warn("Usage: !timing [on|off]")
        return
    else:
        ctx.timing = not ctx.timing
    ctx.write(f"Timing is {'on' if ctx.timing else 'off'}.\n")


@REGISTRY.command("!source", "\\i", args="FILE", summary="Run the statements of a file.")
def _source(ctx: ShellContext, argument: str) -> None:
    if not argument:
        ctx.warn("Usage: !source FILE")
        return
    path = Path(argument).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        ctx.warn(f"cannot read {argument}: {exc.strerror or exc}")
        return
    except UnicodeDecodeError:
        ctx.warn(f"cannot read {argument}: it is not UTF-8 text")
        return
    ctx.run_text(text, source=argument)


@REGISTRY.command("!clock", args="[+DURATION]",
                  summary="Show the clock; with a virtual clock, move it on (!clock +10m) and run what fell due.")
def _clock(ctx: ShellContext, argument: str) -> None:
    session = ctx.interpreter.session
    clock = session.clock
    virtual = bool(getattr(clock, "virtual", False))
    if argument:
        seconds = parse_duration(argument)
        if seconds is None:
            ctx.warn("Usage: !clock +DURATION, e.g. !clock +10m, +90s, +1h30m, +2d")
            return
        if not virtual:
            ctx.warn("The clock is the real one; start taskshell with --clock INSTANT to move time by hand.")
            return
        # SYSTEM$WAIT moves a virtual clock and runs the work that falls due, as in a script.
        ctx.query(f"SELECT SYSTEM$WAIT({seconds!r}, 'SECONDS')")
    kind = "virtual" if virtual else "real"
    ctx.write(f"{format_timestamp(clock.now(), session.timezone)} ({kind} clock, {session.timezone})\n")


def parse_duration(text: str) -> float | None:
    """Seconds in '+10m', '90s', '+1h30m', '500ms'; None when it is not a duration."""
    body = text.strip().removeprefix("+").strip()
    parts = list(_DURATION_PART.finditer(body))
    if not parts or "".join(p.group(0) for p in parts).replace(" ", "") != body.replace(" ", ""):
        return None
    return sum(float(p.group(1)) * _SECONDS[p.group(2).lower()] for p in parts)


@REGISTRY.command("!graph", args="TASK", summary="Draw a task's graph: each task's state and last run.")
def _graph(ctx: ShellContext, argument: str) -> None:
    if not argument:
        ctx.warn("Usage: !graph TASK")
        return
    tasks = ctx.query("SHOW TASKS")
    runs = ctx.query("SELECT NAME, STATE, ERROR_MESSAGE, SCHEDULED_TIME, COMPLETED_TIME"
                     " FROM TABLE(INFORMATION_SCHEMA.TASK_HISTORY(RESULT_LIMIT => 10000))")
    nodes = nodes_from_rows(tasks.columns, tasks.rows, runs.columns, runs.rows)
    name = _task_name(argument)
    if name.upper() not in nodes:
        ctx.warn(f"Task '{name}' does not exist or not authorized.")
        return
    ctx.show(draw_graph(name, nodes))
    ctx.looked_at_runs()


@REGISTRY.command("!history", args="[TASK]",
                  summary=f"The last {HISTORY_RUNS} runs as a timeline: queued and executing time as bars.")
def _history(ctx: ShellContext, argument: str) -> None:
    named = f", TASK_NAME => '{_task_name(argument).replace(chr(39), chr(39) * 2)}'" if argument else ""
    result = ctx.query(
        "SELECT NAME, STATE, ERROR_MESSAGE, SCHEDULED_TIME, QUERY_START_TIME, COMPLETED_TIME FROM"
        f" TABLE(INFORMATION_SCHEMA.TASK_HISTORY(RESULT_LIMIT => {HISTORY_RUNS}{named}))")
    runs = runs_from_rows(result.columns, result.rows)
    now = ctx.interpreter.session.clock.now()
    ctx.show(draw_timeline(runs, width=ctx.terminal_width(), now=now))
    ctx.looked_at_runs()


@REGISTRY.command("!quit", "!exit", "\\q", summary="Leave taskshell (Ctrl-D does too).")
def _quit(ctx: ShellContext, argument: str) -> None:
    raise Quit()


def _task_name(text: str) -> str:
    name = text.strip().rstrip(";").strip().rsplit(".", 1)[-1]
    if name.startswith('"') and name.endswith('"') and len(name) > 1:
        return name[1:-1].replace('""', '"')
    return name
