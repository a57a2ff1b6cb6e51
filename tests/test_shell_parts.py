"""The shell's pure parts: graph and timeline drawings, toolbar and event lines, the lexer, the meta
command registry and the config file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pygments.token import Keyword, String

from taskshell.render.graph import draw_graph, nodes_from_rows
from taskshell.render.timeline import EXECUTING, QUEUED, RunSpan, draw_timeline, runs_from_rows
from taskshell.scheduler import events as ev
from taskshell.shell.commands import REGISTRY, parse_duration
from taskshell.shell.config import ShellConfig, load_config
from taskshell.shell.grammar_state import grammar_keywords
from taskshell.shell.lexer import TaskshellLexer
from taskshell.shell.meta import MetaRegistry
from taskshell.shell.toolbar import event_line, toolbar_text

SHOW_COLUMNS = ("name", "state", "predecessors", "task_relations")
T0 = "2026-11-01 00:00:00.000 -0700"


def show_row(name: str, state: str, *preds: str, finalizer: str | None = None) -> tuple:
    qualified = [f"TASKSHELL.PUBLIC.{p}" for p in preds]
    relations = '{"Predecessors": [], "FinalizerTask": %s}' % (
        f'"TASKSHELL.PUBLIC.{finalizer}"' if finalizer else "null")
    return (name, state, str(qualified).replace("'", '"'), relations)


# ---------------------------------------------------------------- graph
def test_graph_draws_children_under_their_root_with_states_and_outcomes() -> None:
    rows = [show_row("ROOT", "started", finalizer="CLEANUP"), show_row("LOAD", "started", "ROOT"),
            show_row("REPORT", "suspended", "LOAD", "ROOT"), show_row("CLEANUP", "started")]
    runs = [("ROOT", "SUCCEEDED", None, T0, T0), ("LOAD", "FAILED", "Division by zero\nmore", T0, T0)]
    nodes = nodes_from_rows(SHOW_COLUMNS, rows, ("NAME", "STATE", "ERROR_MESSAGE", "SCHEDULED_TIME",
                                                 "COMPLETED_TIME"), runs)
    assert draw_graph("load", nodes) == (
        "ROOT  [started]  last run SUCCEEDED\n"
        "├── LOAD  [started]  last run FAILED: Division by zero  ◀\n"
        "│   └── REPORT  [suspended]  never run\n"
        "└── REPORT  (shown above)\n"
        "finalizer: CLEANUP  [started]  never run\n")


def test_graph_of_an_unknown_task_is_an_error() -> None:
    with pytest.raises(KeyError):
        draw_graph("missing", {})


# ---------------------------------------------------------------- timeline
def at(seconds: float) -> datetime:
    return datetime(2026, 11, 1, 7, 0, tzinfo=UTC) + timedelta(seconds=seconds)


def test_timeline_shows_queued_then_executing_time_on_one_axis() -> None:
    runs = [RunSpan("LOAD", "SUCCEEDED", at(0), at(20), at(60)),
            RunSpan("LOAD", "SKIPPED", at(30), error="skipped because the previous run was executing")]
    text = draw_timeline(runs, width=80)
    first, second, axis, legend = text.splitlines()
    bar = first[first.index("│") + 1: first.rindex("│")]
    assert bar.startswith(QUEUED) and bar.rstrip().endswith(EXECUTING)
    assert 0.25 < bar.count(QUEUED) / len(bar) < 0.42  # 20 of 60 seconds queued
    assert first.endswith("queued 20.0s, executed 40.0s")
    assert "·" in second and "SKIPPED" in second
    assert axis.split() == ["07:00:00", "07:01:00"]
    assert legend.startswith(QUEUED + " queued")


def test_timeline_reads_task_history_rows() -> None:
    columns = ("NAME", "STATE", "ERROR_MESSAGE", "SCHEDULED_TIME", "QUERY_START_TIME", "COMPLETED_TIME")
    rows = [("B", "SUCCEEDED", None, "2026-11-01 00:01:00.000 -0700", "2026-11-01 00:01:05.000 -0700",
             "2026-11-01 00:01:10.500 -0700"),
            ("A", "SCHEDULED", None, "2026-11-01 00:00:00.000 -0700", None, None)]
    runs = runs_from_rows(columns, rows)
    assert [r.name for r in runs] == ["A", "B"]
    assert runs[1].completed - runs[1].started == timedelta(seconds=5.5)
    assert draw_timeline([]) == "No task runs.\n"


# ---------------------------------------------------------------- toolbar and events
def test_toolbar_shows_running_next_failures_and_virtual_clock() -> None:
    now = at(0)
    status = ev.SchedulerStatus(running=2, next_task="NIGHTLY", next_at=at(125))
    text = toolbar_text(status, failures=3, now=now, virtual_now=now, timezone="America/Los_Angeles")
    assert text.strip() == ("2 running │ next NIGHTLY at 00:02:05 (in 2m 05s) │ 3 failures since !history"
                            " │ clock 2026-11-01 00:00:00 (virtual)")
    assert toolbar_text(None, failures=0, now=now, virtual_now=None, timezone="UTC").strip() == "scheduler off"


def test_event_lines_say_what_happened_to_which_task() -> None:
    failed = ev.SchedulerEvent(ev.RUN_FAILED, "LOAD", at(61), error_code="100051", error_message="Division by zero")
    assert event_line(failed, "UTC") == "[07:01:01] task LOAD failed: 100051 Division by zero"
    suspended = ev.SchedulerEvent(ev.TASK_AUTO_SUSPENDED, "LOAD", at(61))
    assert event_line(suspended, "UTC") == "[07:01:01] task LOAD was suspended automatically"
    assert event_line(ev.SchedulerEvent(ev.RUN_STARTED, "LOAD", at(0)), "UTC") is None


# ---------------------------------------------------------------- lexer
def tokens(text: str) -> dict[str, object]:
    return {value: token for token, value in TaskshellLexer().get_tokens(text) if value.strip()}


def test_lexer_marks_taskshell_keywords_and_dollar_bodies() -> None:
    found = tokens("CREATE TASK t SCHEDULE = 'USING CRON 0 * * * * UTC' "
                   "SUSPEND_TASK_AFTER_NUM_FAILURES = 3 AFTER a WHEN x AS $$ SELECT 1 FROM s $$")
    for word in ("TASK", "SCHEDULE", "SUSPEND_TASK_AFTER_NUM_FAILURES", "AFTER", "WHEN"):
        assert found[word] in Keyword.Reserved
    assert found["$$"] in String
    assert found["SELECT"] in Keyword and found["FROM"] in Keyword  # the body is SQL, not a string


def test_lexer_highlights_every_grammar_keyword() -> None:
    for word in sorted(grammar_keywords()):
        assert tokens(word)[word] in Keyword, word


# ---------------------------------------------------------------- meta commands
def test_registry_knows_each_command_by_name_and_alias() -> None:
    assert REGISTRY.find("\\q") is REGISTRY.find("!QUIT")
    assert REGISTRY.find("\\timing").name == "!timing"  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        registry = MetaRegistry()
        registry.command("!a", summary="A.")(lambda ctx, arg: None)
        registry.command("!b", "!a", summary="B.")(lambda ctx, arg: None)


@pytest.mark.parametrize(("text", "seconds"), [
    ("+10m", 600), ("90s", 90), ("+1h30m", 5400), ("+2d", 172800), ("500ms", 0.5), ("ten", None), ("+", None),
])
def test_clock_durations(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


# ---------------------------------------------------------------- config
def test_config_file_sets_defaults_and_names_what_it_ignores(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('format = "csv"\nvi = true\ntiming = true\npager = ""\ncolour = "red"\n')
    config, warnings = load_config(path)
    assert config == ShellConfig(format="csv", vi=True, timing=True, pager="")
    assert warnings == [f"{path}: ignored colour = 'red'"]
    assert load_config(tmp_path / "missing.toml")[0].format == "table"
