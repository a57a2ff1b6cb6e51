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
    parser.add_argument("-c", "--command", action="append", default=[], metavar="SQL",
                        help="run SQL (one or more statements) and exit; may repeat")
    parser.add_argument("-f", "--file", action="append", default=[], metavar="PATH",
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
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)

    from taskshell.catalog.db import Catalog, default_catalog_path
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
    try:
        if args.command or args.file or not sys.stdin.isatty():
            return _run_script(interpreter, args)
        from taskshell.shell.app import run_interactive

        return run_interactive(interpreter, fmt=args.format)
    finally:
        interpreter.close()
        catalog.close()


def _run_script(interpreter: object, args: argparse.Namespace) -> int:
    from taskshell.script import ScriptRunner

    runner = ScriptRunner(interpreter, sys.stdout, sys.stderr, fmt=args.format, echo=args.echo,  # type: ignore[arg-type]
                          continue_on_error=args.continue_on_error)
    sources: list[tuple[str, str]] = [(text, "-c") for text in args.command]
    for path in args.file:
        if path == "-":
            sources.append((sys.stdin.read(), "<stdin>"))
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                sources.append((handle.read(), path))
        except OSError as exc:
            print(f"taskshell: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return ExitCode.USAGE
    if not args.command and not args.file:
        sources.append((sys.stdin.read(), "<stdin>"))
    for text, source in sources:
        if not runner.run(text, source) and not args.continue_on_error:
            break
    sys.stdout.flush()
    return ExitCode.STATEMENT_FAILED if runner.failed else ExitCode.OK
