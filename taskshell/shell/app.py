"""The interactive shell: a prompt_toolkit session over the interpreter, with the scheduler alongside.

Statements run on one worker thread; the UI thread only edits, draws and prints. Scheduler events
print above the prompt while it is idle, and the bottom toolbar shows the scheduler's state.
"""

from __future__ import annotations

import contextvars
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any, TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.application import run_in_terminal
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.history import FileHistory, History
from prompt_toolkit.lexers import PygmentsLexer

from taskshell import __version__
from taskshell.errors import TaskshellError
from taskshell.grammar.splitter import split
from taskshell.render import format_error, render
from taskshell.scheduler import events as ev
from taskshell.shell.commands import REGISTRY
from taskshell.shell.completer import TaskshellCompleter
from taskshell.shell.config import ShellConfig, history_path, load_config
from taskshell.shell.keys import build_key_bindings
from taskshell.shell.lexer import TaskshellLexer
from taskshell.shell.meta import Quit
from taskshell.shell.pager import needs_pager, page, pager_available
from taskshell.shell.style import STYLE, event_colour
from taskshell.shell.toolbar import event_line, toolbar_text
from taskshell.shell.watcher import CatalogWatcher
from taskshell.shell.worker import Cancelled, StatementWorker

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from taskshell.interpreter.interpreter import Interpreter
    from taskshell.interpreter.result import Result

PROMPT = "taskshell> "
_READ_ONLY_STARTS = ("SELECT", "SHOW", "DESC", "DESCRIBE", "WITH", "EXPLAIN", "VALUES")


def run_interactive(interpreter: Interpreter, fmt: str | None = None) -> int:
    """Run the prompt until !quit or Ctrl-D; `fmt` (from --format) overrides the config file."""
    config, warnings = load_config()
    if fmt:
        config = replace(config, format=fmt)
    for warning in warnings:
        print(f"taskshell: {warning}", file=sys.stderr)
    return InteractiveShell(interpreter, config).run()


class InteractiveShell:
    def __init__(self, interpreter: Interpreter, config: ShellConfig, *, input: Input | None = None,
                 output: Output | None = None, out: TextIO | None = None, err: TextIO | None = None,
                 history: History | None = None) -> None:
        self.interpreter = interpreter
        self.config = config
        self.fmt = config.format
        self.timing = config.timing
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.scheduler = getattr(interpreter, "scheduler", None)
        self._unsubscribe: Callable[[], None] | None = None
        self.worker = StatementWorker(interpreter.interrupt)
        self.watcher = CatalogWatcher(interpreter.session.catalog, self.scheduler, self._invalidate)
        self._events: SimpleQueue[ev.SchedulerEvent] = SimpleQueue()
        self._failures = 0
        self._ui: tuple[Any, contextvars.Context] | None = None  # (event loop, context) while prompting
        virtual = bool(getattr(interpreter.session.clock, "virtual", False))
        if history is None:
            history = FileHistory(str(history_path()))
        self.session: PromptSession[str] = PromptSession(
            PROMPT, multiline=True, key_bindings=build_key_bindings(), history=history,
            lexer=PygmentsLexer(TaskshellLexer),
            completer=TaskshellCompleter(lambda: self.watcher.snapshot, REGISTRY.completions()),
            complete_in_thread=True, complete_while_typing=True, auto_suggest=AutoSuggestFromHistory(),
            bottom_toolbar=self._toolbar, style=STYLE, include_default_pygments_style=False,
            vi_mode=config.vi, prompt_continuation=lambda width, line, wrap: "." * (width - 1) + " ",
            refresh_interval=1.0 if self._may_schedule() or virtual else 0,
            input=input, output=output)

    # ------------------------------------------------------------------ the loop
    def run(self) -> int:
        catalog = self.interpreter.session.catalog.display_path
        self.write(f"taskshell {__version__} — catalog {catalog}. End statements with ';' "
                   "(Esc-Enter for a newline). !help lists commands; Ctrl-D leaves.\n")
        self._unsubscribe = self.scheduler.bus.subscribe(self._on_event) if self.scheduler is not None else None
        previous_sigint = _catch_sigint(lambda signum, frame: self.worker.request_cancel())
        try:
            while True:
                self._write_events(self._drain_events())
                try:
                    text = self.session.prompt(pre_run=self._prompt_shown)
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    return 0
                finally:
                    self._ui = None
                try:
                    self.handle(text)
                except Quit:
                    return 0
        finally:
            if previous_sigint is not None:
                signal.signal(signal.SIGINT, previous_sigint)
            if self._unsubscribe is not None:
                self._unsubscribe()
            self.watcher.stop()
            self.worker.close()

    def handle(self, text: str) -> None:
        """Run what was submitted: a meta command or SQL statements. Raises Quit to leave."""
        stripped = text.strip()
        if not stripped:
            return
        if stripped[0] in "!\\":
            try:
                REGISTRY.dispatch(self, stripped)
            except Cancelled:
                self.warn("Statement cancelled.")
            except TaskshellError as error:
                self.err.write(format_error(error))
            return
        if stripped.rstrip(";").strip().lower() in ("quit", "exit"):
            raise Quit()
        self.run_text(text)

    def run_text(self, text: str, source: str | None = None) -> bool:
        """Run every statement of `text` in order; stop at the first failure. False if one failed."""
        changed = False
        try:
            for statement in split(text):
                changed = changed or not statement.text.lstrip("( \n\t").upper().startswith(_READ_ONLY_STARTS)
                try:
                    result = self.worker.call(self.interpreter.execute, statement.text)
                except Cancelled:
                    self.warn("Statement cancelled.")
                    return False
                except TaskshellError as error:
                    self.out.flush()
                    self.err.write(format_error(error, source=source, statement=statement.text,
                                                statement_line=statement.line,
                                                statement_column=statement.column))
                    self.err.flush()
                    return False
                self._show_result(result)
            return True
        finally:
            if changed:
                self.watcher.refresh()

    # ------------------------------------------------------------------ what meta commands use
    def query(self, sql: str) -> Result:
        return self.worker.call(self.interpreter.execute, sql)

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def warn(self, text: str) -> None:
        self.err.write(text.rstrip("\n") + "\n")
        self.err.flush()

    def show(self, text: str) -> None:
        """Write `text`, through the pager when it is longer or wider than the screen."""
        pager = self.config.pager
        if pager and self.out.isatty():
            size = shutil.get_terminal_size()
            if needs_pager(text, size.lines, size.columns) and page(text, pager):
                return
        self.write(text)

    def looked_at_runs(self) -> None:
        self._failures = 0
        if self.scheduler is not None:
            self.scheduler.bus.take_failures()
        self._invalidate()

    def terminal_width(self) -> int:
        return shutil.get_terminal_size().columns

    # ------------------------------------------------------------------ output
    def _show_result(self, result: Result) -> None:
        for notice in result.notices:
            self.warn(f"notice: {notice}")
        tty = self.out.isatty()
        # With a pager, tables keep their natural width and the pager scrolls sideways: nothing is cut.
        width = self.terminal_width() if tty and not pager_available(self.config.pager) else None
        self.show(render(result, self.fmt, width=width, color=tty))
        if self.timing:
            self.write(f"Time: {result.elapsed * 1000:.3f} ms\n")

    def _toolbar(self) -> str:
        session = self.interpreter.session
        clock = session.clock
        status = self.watcher.status if self.scheduler is not None else None
        if self.scheduler is not None and status is None:
            status = ev.SchedulerStatus()
        virtual_now = clock.now() if getattr(clock, "virtual", False) else None
        return toolbar_text(status, failures=self._failures, now=clock.now(), virtual_now=virtual_now,
                            timezone=session.timezone)

    # ------------------------------------------------------------------ scheduler events
    def _prompt_shown(self) -> None:
        # From here until the prompt closes, Ctrl-C is a key of the prompt's own; a cancel asked
        # for before it belongs to the statements already run.
        self.worker.reset_cancel()
        app = self.session.app
        self._ui = (app.loop, contextvars.copy_context())
        # The watcher loads the grammar and reads the catalog: let the prompt paint first.
        app.after_render += self._start_watcher
        self._print_events_above()

    def _start_watcher(self, app: Any) -> None:
        app.after_render -= self._start_watcher
        self.watcher.start()
        if self.scheduler is None and self._may_schedule():
            # The scheduler starts once the prompt is up, so that it never delays the first prompt.
            threading.Thread(target=self._start_scheduler, name="taskshell-start-scheduler",
                             daemon=True).start()

    def _may_schedule(self) -> bool:
        return self.scheduler is not None or getattr(self.interpreter, "scheduler_factory", None) is not None

    def _start_scheduler(self) -> None:
        scheduler = self.interpreter.ensure_scheduler()
        if scheduler is None or self.scheduler is not None:
            return
        self.scheduler = scheduler
        self._unsubscribe = scheduler.bus.subscribe(self._on_event)
        self.watcher.set_scheduler(scheduler)

    def _on_event(self, event: ev.SchedulerEvent) -> None:
        """Called on the scheduler's thread: queue the event, and print it now if the prompt is idle."""
        self._events.put(event)
        self.watcher.refresh()
        ui = self._ui
        if ui is not None:
            loop, context = ui
            try:
                loop.call_soon_threadsafe(self._print_events_above, context=context)
            except RuntimeError:  # the prompt just closed: the loop prints it before the next one
                pass

    def _print_events_above(self) -> None:
        lines = self._drain_events()
        if lines:
            run_in_terminal(lambda: self._write_events(lines))

    def _drain_events(self) -> list[tuple[str, str]]:
        lines = []
        timezone = self.interpreter.session.timezone
        while True:
            try:
                event = self._events.get_nowait()
            except Empty:
                return lines
            if event.kind == ev.RUN_FAILED:
                self._failures += 1
            line = event_line(event, timezone)
            if line is not None:
                lines.append((event.kind, line))

    def _write_events(self, lines: list[tuple[str, str]]) -> None:
        tty = self.out.isatty()
        for kind, line in lines:
            self.out.write(event_colour(kind, line) if tty else line)
            self.out.write("\n")
        self.out.flush()

    def _invalidate(self) -> None:
        app = self.session.app
        if app.is_running:
            app.invalidate()


def _catch_sigint(handler: Any) -> Any:
    """Install `handler` for SIGINT while the shell runs; the previous handler, or None off the
    main thread (where signals cannot be caught)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, handler)
