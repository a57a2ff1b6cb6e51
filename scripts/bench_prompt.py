"""The `prompt` benchmark case: how soon the interactive prompt appears, and how quickly completion
answers with a thousand tasks in the catalog. Registered by scripts/bench.py."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS, TABLES = 1000, 200
TYPED = ("ALTER TASK TASK_05", "alter task ", "EXECUTE TASK T", "CREATE TASK x AFTER TASK_00",
         "SELECT * FROM t1", "SELECT  FROM t12 WHERE ", "CREATE TASK x SUSPEND_", "!graph TASK_09")


def prompt(args: argparse.Namespace) -> None:
    """Launch to first prompt in a pseudo-terminal, and completion latency with 1,000 tasks."""
    try:
        import pexpect
    except ImportError:
        print("prompt     skipped: pexpect is not installed (pip install -e '.[test]')", flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "TASKSHELL_CATALOG"}
        env.update(HOME=tmp, XDG_DATA_HOME=f"{tmp}/data", XDG_CONFIG_HOME=f"{tmp}/config",
                   TERM="xterm-256color", PROMPT_TOOLKIT_NO_CPR="1")
        launch = _taskshell_argv() + [f"{tmp}/bench.db"]
        bare = [sys.executable, "-c", "from prompt_toolkit import prompt; prompt('taskshell> ')"]
        ours = _median(args.runs, lambda: _time_to_prompt(pexpect, launch, env))
        baseline = _median(args.runs, lambda: _time_to_prompt(pexpect, bare, env))
    _report("prompt", "launch to first prompt", ours * 1000, "ms",
            {"bare prompt_toolkit prompt": baseline * 1000}, "< 400 ms")
    latency = _completion_latency(max(5, args.runs))
    _report("prompt", f"completion, {TASKS} tasks", latency * 1000, "ms", {}, "< 20 ms")


def _taskshell_argv() -> list[str]:
    installed = Path(sys.executable).parent / "taskshell"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "taskshell"]


def _time_to_prompt(pexpect: object, argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", timeout=30,  # type: ignore[attr-defined]
                          dimensions=(40, 120))
    child.expect("taskshell>")
    elapsed = time.perf_counter() - started
    child.sendeof()
    child.expect(pexpect.EOF)  # type: ignore[attr-defined]
    child.close()
    return elapsed


def _completion_latency(rounds: int) -> float:
    """Median time of one completion request, over several kinds of input, as the prompt asks it."""
    sys.path.insert(0, str(ROOT))
    from prompt_toolkit.document import Document

    from taskshell.catalog.db import Catalog
    from taskshell.interpreter.interpreter import Interpreter
    from taskshell.interpreter.session import Session
    from taskshell.interpreter.snapshot import build_snapshot
    from taskshell.scheduler.clock import RealClock
    from taskshell.shell.completer import TaskshellCompleter
    from taskshell.shell.grammar_state import grammar_state

    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog(os.path.join(tmp, "many.db"))
        interpreter = Interpreter(Session(catalog=catalog, clock=RealClock()))
        for i in range(TABLES):
            interpreter.execute(f"CREATE TABLE t{i} (id INT, name VARCHAR, value_{i} FLOAT)")
        for i in range(TASKS):
            interpreter.execute(f"CREATE TASK task_{i:04d} SCHEDULE = '1 minute' AS SELECT 1")
        interpreter.close()
        snapshot = build_snapshot(catalog)
        catalog.close()
    grammar_state("")  # the shell loads the grammar in the background before anyone types
    completer = TaskshellCompleter(lambda: snapshot)
    timings = []
    for _ in range(rounds):
        for text in TYPED:
            started = time.perf_counter()
            list(completer.get_completions(Document(text), None))  # type: ignore[arg-type]
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _median(runs: int, fn: object) -> float:
    fn()  # type: ignore[operator]  # warm the page cache and the grammar cache first
    return statistics.median(fn() for _ in range(runs))  # type: ignore[operator]


def _report(case_name: str, metric: str, value: float, unit: str, baselines: dict[str, float], aim: str) -> None:
    parts = [f"{case_name:<10} {metric:<28} {value:10.3f} {unit}"]
    for name, base in baselines.items():
        parts.append(f"{value / base:6.2f}x {name} ({base:.3f} {unit})")
    parts.append(f"aim: {aim}")
    print("  ".join(parts), flush=True)
