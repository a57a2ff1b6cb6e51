"""The interactive prompt: multi-line input that submits when the statement is complete."""

from __future__ import annotations

import os
import shutil
import sys

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings

from taskshell.errors import TaskshellError
from taskshell.grammar.splitter import is_complete, split
from taskshell.interpreter.interpreter import Interpreter
from taskshell.render import format_error, render

QUIT = ("!quit", "!exit", "\\q", "quit", "exit")


def _history_path() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    path = os.path.join(base, "taskshell", "history")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def _bindings() -> KeyBindings:
    keys = KeyBindings()

    @keys.add("enter")
    def _submit_or_newline(event) -> None:  # noqa: ANN001
        buffer = event.current_buffer
        if buffer.cursor_position == len(buffer.text) and is_complete(buffer.text):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    @keys.add("escape", "enter")
    def _newline(event) -> None:  # noqa: ANN001
        event.current_buffer.insert_text("\n")

    return keys


def run_interactive(interpreter: Interpreter, fmt: str = "table") -> int:
    session: PromptSession[str] = PromptSession(
        history=FileHistory(_history_path()), multiline=True, key_bindings=_bindings(),
        prompt_continuation=lambda width, line, wrap: "." * (width - 1) + " ")
    catalog = interpreter.session.catalog.display_path
    print(f"taskshell — catalog {catalog}. End statements with ';'. !quit or Ctrl-D leaves.")
    while True:
        try:
            text = session.prompt("taskshell> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        if text.strip().rstrip(";").strip().lower() in QUIT:
            return 0
        for statement in split(text):
            try:
                result = interpreter.execute(statement.text)
            except KeyboardInterrupt:
                print("Statement cancelled.", file=sys.stderr)
                break
            except TaskshellError as error:
                sys.stderr.write(format_error(error, statement=statement.text,
                                              statement_line=statement.line,
                                              statement_column=statement.column))
                break
            for notice in result.notices:
                print(f"notice: {notice}", file=sys.stderr)
            width = shutil.get_terminal_size().columns
            sys.stdout.write(render(result, fmt, width=width, color=sys.stdout.isatty()))
