"""Command line: arguments, mode choice and exit codes (DESIGN §4).

The -c / -f / stdin path must stay light: it never imports prompt_toolkit.
"""

from __future__ import annotations

import argparse
import sys
from enum import IntEnum

from taskshell import __version__

FORMATS = ("table", "csv", "tsv", "json", "markdown")


class ExitCode(IntEnum):
    OK = 0
    STATEMENT_FAILED = 1
    USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskshell",
        description="A SQL shell in which Snowflake- and Databend-style tasks and streams really run.",
        epilog="Interactive when stdin is a terminal, else runs stdin.")
    parser.add_argument("catalog", nargs="?", metavar="CATALOG",
                        help="catalog file (created if missing) or :memory:; default $TASKSHELL_CATALOG, "
                             "else <user data dir>/taskshell/default.db")
    parser.add_argument("-c", "--command", action=_InOrder, default=[], metavar="SQL",
                        help="run SQL (one or more statements) and exit; may repeat")
    parser.add_argument("-f", "--file", action=_InOrder, default=[], metavar="PATH",
                        help="run a script and exit; '-' is stdin; may repeat")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("--echo", action="store_true", help="print each statement before its result")
    parser.add_argument("--continue-on-error", action="store_true",
                        help="keep going after a failing statement (default: stop)")
    parser.add_argument("--clock", metavar="INSTANT",
                        help="virtual clock starting at an ISO-8601 instant with offset")
    parser.add_argument("--dialect", choices=("snowflake", "databend"), default="snowflake")
    parser.add_argument("--no-scheduler", action="store_true", help="do not start the background scheduler")
    parser.add_argument("--version", action="version", version=f"taskshell {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["worker"]:
        return _worker(argv[1:])
    if argv[:1] == ["webhook-listen"]:
        from taskshell.notify.listener import main as listen

        return listen(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)

    from taskshell.catalog.db import Catalog, default_catalog_path, has_background_work
    from taskshell.errors import TaskshellError
    from taskshell.scheduler.clock import Clock, RealClock, VirtualClock, parse_instant

    clock: Clock
    if args.clock:
        try:
            clock = VirtualClock(parse_instant(args.clock))
        except ValueError as exc:
            parser.print_usage(sys.stderr)
            print(f"taskshell: error: --clock: {exc}", file=sys.stderr)
            return ExitCode.USAGE
    else:
        clock = RealClock()

    try:
        catalog = Catalog(args.catalog or default_catalog_path())
    except (OSError, TaskshellError) as exc:
        print(f"taskshell: cannot open catalog: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except Exception as exc:  # sqlite3.DatabaseError: not a database, locked, …
        print(f"taskshell: cannot open catalog {args.catalog or default_catalog_path()}: {exc}",
              file=sys.stderr)
        return ExitCode.USAGE

    from taskshell.interpreter.interpreter import Interpreter
    from taskshell.interpreter.session import Session

    interpreter = Interpreter(Session(catalog=catalog, clock=clock, dialect=args.dialect))
    background = Background(interpreter)
    interactive = not (args.command or args.file or not sys.stdin.isatty())
    if not args.no_scheduler:
        interpreter.scheduler_factory = background.start
        # Start now when there is work waiting (or time is virtual, where SYSTEM$WAIT drives it);
        # otherwise the first statement about tasks starts it, and the shell once its prompt is up.
        if clock.virtual or has_background_work(catalog):
            interpreter.ensure_scheduler()
    try:
        if not interactive:
            return _run_script(interpreter, args)
        from taskshell.shell.app import run_interactive

        # --format given on the command line wins over the config file's default
        chosen = any(a.startswith("--fo") for a in argv)
        return run_interactive(interpreter, fmt=args.format if chosen else None)
    finally:
        # the session goes first: a transaction the user left open is rolled back, so that it does
        # not hold the write lock that the runs still going need to record their ends. Those runs
        # are cancelled, never left EXECUTING; the notifier delivers what is due for a moment and
        # leaves the rest to the next process
        interpreter.close()
        background.stop()
        catalog.close()


class Background:
    """The process's scheduler and notifier, started together on first need."""

    def __init__(self, interpreter: object) -> None:
        self.interpreter = interpreter
        self.scheduler: object | None = None
        self.notifier: object | None = None

    def start(self) -> object:
        from taskshell.notify.notifier import start_notifier
        from taskshell.notify.outbox import attach
        from taskshell.scheduler.scheduler import Scheduler

        session = self.interpreter.session  # type: ignore[attr-defined]
        self.scheduler = Scheduler(session.catalog, session.clock, dialect=session.dialect,
                                   timezone=session.timezone)
        # before it starts: the runs it fails at once for processes that died queue their messages
        attach(self.scheduler.runner)  # type: ignore[attr-defined]
        self.scheduler.start()  # type: ignore[attr-defined]
        self.notifier = start_notifier(session.catalog, session.clock, self.scheduler.runner)  # type: ignore[attr-defined]
        return self.scheduler

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()  # type: ignore[attr-defined]
        if self.notifier is not None:
            self.notifier.stop()  # type: ignore[attr-defined]


WORKER_GRACE_SECONDS = 5.0


def _worker(argv: list[str]) -> int:
    """`taskshell worker [CATALOG]`: a headless scheduler until Ctrl-C or SIGTERM."""
    import os
    import signal
    import threading

    parser = argparse.ArgumentParser(prog="taskshell worker",
                                     description="Run the scheduler without a prompt until Ctrl-C or SIGTERM.")
    parser.add_argument("catalog", nargs="?", metavar="CATALOG", help="catalog file (default as for taskshell)")
    parser.add_argument("--dialect", choices=("snowflake", "databend"), default="snowflake")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)

    from taskshell.catalog.db import Catalog, default_catalog_path
    from taskshell.interpreter.session import DEFAULT_TIMEZONE
    from taskshell.scheduler.clock import RealClock
    from taskshell.scheduler.scheduler import Scheduler

    path = args.catalog or default_catalog_path()
    try:
        catalog = Catalog(path)
    except Exception as exc:  # OSError, sqlite3.DatabaseError, a newer schema
        print(f"taskshell: cannot open catalog {path}: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    timezone = DEFAULT_TIMEZONE[args.dialect]
    scheduler = Scheduler(catalog, RealClock(), dialect=args.dialect, timezone=timezone)
    from taskshell.notify.notifier import start_notifier
    from taskshell.notify.outbox import attach

    attach(scheduler.runner)  # before it starts, as in the shell
    scheduler.start()

    notifier = start_notifier(catalog, scheduler.clock, scheduler.runner)
    print(f"taskshell worker: scheduling tasks of {catalog.display_path} (Ctrl-C or SIGTERM stops)",
          file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        grace = float(os.environ.get("TASKSHELL_WORKER_GRACE_SECONDS", WORKER_GRACE_SECONDS))
        scheduler.stop(grace_seconds=grace)
        notifier.stop()
        catalog.close()
    print("taskshell worker: stopped", file=sys.stderr, flush=True)
    return ExitCode.OK


class _InOrder(argparse._AppendAction):
    """-c and -f append to their own lists, and to one list of both in command-line order."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        super().__call__(parser, namespace, values, option_string)
        order = list(getattr(namespace, "in_order", None) or [])
        order.append((self.dest, values))
        namespace.in_order = order


def _run_script(interpreter: object, args: argparse.Namespace) -> int:
    from taskshell.script import ScriptRunner

    runner = ScriptRunner(interpreter, sys.stdout, sys.stderr, fmt=args.format, echo=args.echo,  # type: ignore[arg-type]
                          continue_on_error=args.continue_on_error)
    sources: list[tuple[str, str]] = []
    for kind, value in getattr(args, "in_order", None) or []:  # as given on the command line
        if kind == "command":
            sources.append((value, "-c"))
            continue
        try:
            if value == "-":
                sources.append((sys.stdin.read(), "<stdin>"))
                continue
            with open(value, encoding="utf-8") as handle:
                sources.append((handle.read(), value))
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
            print(f"taskshell: cannot read {value}: {why}", file=sys.stderr)
            return ExitCode.USAGE
    if not args.command and not args.file:
        try:
            sources.append((sys.stdin.read(), "<stdin>"))
        except UnicodeDecodeError:
            print("taskshell: cannot read <stdin>: it is not UTF-8 text", file=sys.stderr)
            return ExitCode.USAGE
    for text, source in sources:
        if not runner.run(text, source) and not args.continue_on_error:
            break
    sys.stdout.flush()
    return ExitCode.STATEMENT_FAILED if runner.failed else ExitCode.OK
