"""The prompt without a terminal: submit rules through prompt_toolkit's pipe input, and whole
sessions of the interactive shell over a real catalog with a virtual clock."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prompt_toolkit import PromptSession
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from taskshell.scheduler.events import RUN_FAILED, EventBus, SchedulerEvent, SchedulerStatus
from taskshell.shell.app import InteractiveShell
from taskshell.shell.config import ShellConfig
from taskshell.shell.keys import build_key_bindings, should_submit

PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
ESC_ENTER = "\x1b\r"
LEFT = "\x1b[D"


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


def submitted(pipe: PipeInput, keys: str) -> str:
    """What one prompt returns after `keys` are typed."""
    session: PromptSession[str] = PromptSession(
        "> ", multiline=True, key_bindings=build_key_bindings(), input=pipe, output=DummyOutput(),
        history=InMemoryHistory())
    pipe.send_text(keys)
    return session.prompt()


# ---------------------------------------------------------------- submit rules
@pytest.mark.parametrize(("text", "submits"), [
    ("select 1;", True),
    ("select 1", False),
    ("select ';'", False),
    ("select 1 -- done;", False),
    ("create task t as $$ select 1; $$", False),
    ("create task t as $$ select 1; $$;", True),
    ("create task t as begin select 1; select 2;", False),
    ("create task t as begin select 1; select 2; end;", True),
    ("!help", True),
    ("\\q", True),
    ("", True),
    ("select 1;  ", True),
])
def test_enter_submits_only_a_finished_statement(text: str, submits: bool) -> None:
    assert should_submit(text, len(text)) is submits


def test_enter_in_the_middle_of_the_input_does_not_submit() -> None:
    assert not should_submit("select 1;", 3)


def test_multi_line_statement_submits_at_its_semicolon(pipe: PipeInput) -> None:
    assert submitted(pipe, "create task t\r  schedule = '1 minute'\r  as select 1;\r") == \
        "create task t\n  schedule = '1 minute'\n  as select 1;"


def test_escape_enter_inserts_a_newline_after_a_finished_statement(pipe: PipeInput) -> None:
    assert submitted(pipe, "select 1;" + ESC_ENTER + "select 2;\r") == "select 1;\nselect 2;"


def test_enter_with_the_cursor_inside_inserts_a_newline(pipe: PipeInput) -> None:
    assert submitted(pipe, "select 1;" + LEFT + "\r" + "\x1b[F" + "\r") == "select 1\n;"


def test_a_pasted_script_is_submitted_whole(pipe: PipeInput) -> None:
    script = "create table p (a int);\rinsert into p values (1);\rselect a from p;\r"
    assert submitted(pipe, PASTE_START + script + PASTE_END) == script.replace("\r", "\n")


def test_meta_commands_submit_without_a_semicolon(pipe: PipeInput) -> None:
    assert submitted(pipe, "!timing\r") == "!timing"


# ---------------------------------------------------------------- whole sessions
class Session:
    """An InteractiveShell over the `shell` fixture's interpreter, fed keys through a pipe."""

    def __init__(self, shell, pipe: PipeInput, scheduler: object | None = None) -> None:  # noqa: ANN001
        if scheduler is not None:
            shell.interpreter.scheduler = scheduler
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.pipe = pipe
        self.shell = InteractiveShell(shell.interpreter, ShellConfig(format="csv", pager=""), input=pipe,
                                      output=DummyOutput(), out=self.out, err=self.err,
                                      history=InMemoryHistory())

    def run(self, keys: str) -> tuple[str, str]:
        self.pipe.send_text(keys)
        self.pipe.close()  # end of input: the shell leaves as on Ctrl-D
        assert self.shell.run() == 0
        return self.out.getvalue(), self.err.getvalue()


def test_statements_run_in_order_and_results_print(shell, pipe: PipeInput) -> None:  # noqa: ANN001
    out, err = Session(shell, pipe).run(
        PASTE_START + "create table p (a int);\rinsert into p values (1), (2);\rselect count(*) as n from p;\r"
        + PASTE_END)
    assert "Table P successfully created.\n" in out
    assert out.index("Table P") < out.index("number of rows inserted\n2\n") < out.index("n\n2\n")
    assert err == ""


def test_failing_statement_shows_the_line_with_a_caret_and_stops(shell, pipe: PipeInput) -> None:  # noqa: ANN001
    out, err = Session(shell, pipe).run("alter task t resumex;\rselect 1 as after_error;\r")
    assert "alter task t resumex\n" in err
    assert "             ^\n" in err
    assert "after_error\n1\n" in out  # the next statement typed still runs


def test_format_and_timing_meta_commands(shell, pipe: PipeInput) -> None:  # noqa: ANN001
    out, _ = Session(shell, pipe).run("!format json\rselect 1 as one;\r!timing\rselect 2 as two;\r")
    assert 'Output format is json.\n[{"one": 1}]\n' in out
    assert "Timing is on.\n" in out
    assert '[{"two": 2}]\nTime: ' in out and out.rstrip().endswith("ms")


def test_help_is_generated_from_the_registry(shell, pipe: PipeInput) -> None:  # noqa: ANN001
    out, _ = Session(shell, pipe).run("\\?\r")
    for usage in ("!help", "!format FMT", "!timing", "!source FILE", "!clock [+DURATION]", "!graph TASK",
                  "!history [TASK]", "!quit", "\\q", "\\i", "\\timing"):
        assert usage in out


def test_source_runs_a_file_and_names_its_failing_line(shell, pipe: PipeInput, tmp_path: Path) -> None:  # noqa: ANN001
    script = tmp_path / "setup.sql"
    script.write_text("create table s (a int);\ninsert into s values (3);\n\nselect 1/0;\nselect 9;\n")
    out, err = Session(shell, pipe).run(f"!source {script}\r")
    assert out.endswith("number of rows inserted\n1\n")  # the statement after the failure never ran
    assert err.startswith(f"{script}:4: 1006 (22012): divided by zero")


def test_quit_leaves_before_later_input(shell, pipe: PipeInput) -> None:  # noqa: ANN001
    out, _ = Session(shell, pipe).run("!quit\rselect 5 as never;\r")
    assert "never" not in out


def test_virtual_clock_moves_on_and_runs_what_fell_due(shell, pipe: PipeInput) -> None:  # noqa: ANN001
    shell("CREATE TASK ticker SCHEDULE = '5 minute' AS SELECT 1")
    out, _ = Session(shell, pipe).run("!clock\r!clock +10m\r")
    assert "2026-11-01 00:00:00.000 -0700 (virtual clock, America/Los_Angeles)\n" in out
    assert "2026-11-01 00:10:00.000 -0700 (virtual clock, America/Los_Angeles)\n" in out


def test_graph_shows_each_task_state_and_last_outcome(shell, pipe: PipeInput) -> None:  # noqa: ANN001
    shell("CREATE TASK root SCHEDULE = '1 minute' AS SELECT 1")
    shell("CREATE TASK child AFTER root AS SELECT 1/0")
    shell("EXECUTE TASK root")
    shell.advance(5)
    out, _ = Session(shell, pipe).run("!graph child\r")
    lines = out.splitlines()
    root_line = next(line for line in lines if line.startswith("ROOT"))
    assert "[suspended]" in root_line and "last run SUCCEEDED" in root_line
    assert any(line.startswith("└── CHILD  [suspended]") and line.endswith("◀") for line in lines)


def test_history_draws_recent_runs_as_a_timeline(shell, pipe: PipeInput) -> None:  # noqa: ANN001
    shell("CREATE TASK nightly SCHEDULE = '1 minute' AS SELECT 1")
    shell("EXECUTE TASK nightly")
    out, _ = Session(shell, pipe).run("!history nightly\r")
    assert "NIGHTLY  SUCCEEDED" in out
    assert "░ queued" in out and "█ executing" in out


class FakeScheduler:
    def __init__(self) -> None:
        self.bus = EventBus()

    def status(self) -> SchedulerStatus:
        return SchedulerStatus(running=1, next_task="NIGHTLY", next_at=datetime(2026, 11, 1, 8, 5, tzinfo=UTC))


def test_a_task_failure_prints_above_the_idle_prompt(shell, pipe: PipeInput) -> None:  # noqa: ANN001
    scheduler = FakeScheduler()
    session = Session(shell, pipe, scheduler)
    prompt_up = threading.Event()
    shown = session.shell._prompt_shown

    def on_prompt_shown() -> None:
        shown()
        prompt_up.set()

    session.shell._prompt_shown = on_prompt_shown  # type: ignore[method-assign]

    def fail_then_quit() -> None:
        prompt_up.wait(10)
        scheduler.bus.publish(SchedulerEvent(
            RUN_FAILED, "NIGHTLY", datetime(2026, 11, 1, 7, 1, tzinfo=UTC), state="FAILED",
            error_code="100051", error_message="Division by zero"))
        pipe.send_text("!quit\r")

    threading.Thread(target=fail_then_quit, daemon=True).start()
    session.pipe.send_text("")
    assert session.shell.run() == 0
    assert "[00:01:00] task NIGHTLY failed: 100051 Division by zero\n" in session.out.getvalue()
