"""Meta commands (`!help`, `!format`, …): registered once, and `!help` is generated from the registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from taskshell.interpreter.interpreter import Interpreter
    from taskshell.interpreter.result import Result


class ShellContext(Protocol):
    """What a meta command may use of the shell."""

    fmt: str
    timing: bool
    interpreter: Interpreter

    def write(self, text: str) -> None: ...
    def warn(self, text: str) -> None: ...
    def show(self, text: str) -> None: ...  # through the pager when long
    def query(self, sql: str) -> Result: ...  # on the statement worker
    def run_text(self, text: str, source: str | None = None) -> bool: ...
    def looked_at_runs(self) -> None: ...
    def terminal_width(self) -> int: ...


Handler = Callable[[ShellContext, str], None]


class Quit(Exception):
    """Leave the shell."""


@dataclass(frozen=True)
class MetaCommand:
    name: str  # '!format'
    aliases: tuple[str, ...]  # '\\pset', …
    args: str  # 'FMT', '[TASK]'
    summary: str
    handler: Handler

    @property
    def usage(self) -> str:
        return f"{self.name} {self.args}".rstrip()


class MetaRegistry:
    def __init__(self) -> None:
        self._commands: list[MetaCommand] = []
        self._lookup: dict[str, MetaCommand] = {}

    def command(self, name: str, *aliases: str, args: str = "", summary: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            entry = MetaCommand(name, aliases, args, summary, handler)
            for word in (name, *aliases):
                if word.lower() in self._lookup:
                    raise ValueError(f"meta command {word} registered twice")
                self._lookup[word.lower()] = entry
            self._commands.append(entry)
            return handler

        return register

    def __iter__(self) -> Iterator[MetaCommand]:
        return iter(self._commands)

    def find(self, word: str) -> MetaCommand | None:
        return self._lookup.get(word.lower())

    def dispatch(self, ctx: ShellContext, line: str) -> None:
        """Run the meta command on `line` (`!name args`); raises Quit to leave the shell."""
        word, _, argument = line.strip().rstrip(";").strip().partition(" ")
        entry = self.find(word)
        if entry is None:
            ctx.warn(f"Unknown command {word}. Type !help for the list.")
            return
        entry.handler(ctx, argument.strip())

    def help_text(self) -> str:
        rows = [(c.usage, ", ".join(c.aliases), c.summary) for c in self._commands]
        usage_width = max(len(r[0]) for r in rows)
        alias_width = max(len(r[1]) for r in rows)
        lines = [f"  {u:<{usage_width}}  {a:<{alias_width}}  {s}" for u, a, s in rows]
        return ("Meta commands (end SQL statements with ';'; Esc-Enter inserts a newline):\n"
                + "\n".join(lines) + "\n")

    def completions(self) -> list[tuple[str, str]]:
        """(command, summary) for every name and alias, for the completer."""
        return [(word, c.summary) for c in self._commands for word in (c.name, *c.aliases)]
